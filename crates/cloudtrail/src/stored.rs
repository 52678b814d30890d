//! How the audit trail is stored: each event is a record line — `{"seq":N,"hash":…,"prevHash":…,
//! "event":{…}}`, the event's SHA-256 link to the previous record making a hash chain — and
//! consecutive lines are kept together in chunks of up to [`CHUNK_BYTES`] under
//! `sys/audit/<last seq>`. Chunking is what keeps the audit cheap: one store row per few dozen
//! events instead of one per event, while a lookup of one event still reads one small row.
//! A head record holds the last sequence number and hash; retention moves the tail forward and
//! records where the surviving chain starts.
//!
//! A chunk is stored LZ4-compressed (see [`encode_chunk`]): record lines repeat most of their
//! text (identity, source, names), so a chunk shrinks ~5×, and the store (which writes every
//! byte twice: its log, then the database) writes that much less. Chunks written before
//! compression are plain lines and are read as they are.
//!
//! The audit journal (`crate::journal`) holds the same lines, so recovery copies them verbatim.
use std::borrow::Cow;

use aws_lc_rs::digest;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use rampart_store::{ReadTxn, StoreError};

pub const EVENTS_PREFIX: &str = "sys/audit/";
pub const HEAD_KEY: &str = "sys/audit-head";
/// Written by retention: the first surviving sequence number and the hash it chains from.
pub const TAIL_KEY: &str = "sys/audit-tail";
/// A chunk is closed once it holds this many bytes (a single larger event gets a chunk alone).
pub const CHUNK_BYTES: usize = 48 * 1024;

/// The key of the chunk whose last event is `seq`. Chunks sort by sequence number, so the chunk
/// holding `seq` is the first at or after `chunk_key(seq)`.
pub fn chunk_key(seq: u64) -> String {
    format!("{EVENTS_PREFIX}{seq:020}")
}

/// The last sequence number in a chunk key.
pub fn seq_of_key(key: &str) -> Option<u64> {
    key.strip_prefix(EVENTS_PREFIX)?.parse().ok()
}

/// One stored audit record.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StoredEvent {
    pub seq: u64,
    /// Hex SHA-256 of the previous record's `hash` and this event's bytes.
    pub hash: String,
    pub prev_hash: String,
    pub event: Value,
}

/// The chain's end, advanced by the writer in the same transaction as the events.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Head {
    pub seq: u64,
    pub hash: String,
}

/// Where the chain starts after retention removed older records.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Tail {
    pub first_seq: u64,
    pub prev_hash: String,
}

/// The link hash: SHA-256 over the previous hash (hex text) and the event's JSON bytes.
pub fn link_hash(prev_hash: &str, event_bytes: &[u8]) -> String {
    let mut ctx = digest::Context::new(&digest::SHA256);
    ctx.update(prev_hash.as_bytes());
    ctx.update(event_bytes);
    hex::encode(ctx.finish())
}

/// Appends the record line (with its `\n`) of the next event to `out`, advancing `head`.
/// `event_bytes` is the event's JSON exactly as hashed and stored.
pub fn append_line(head: &mut Head, event_bytes: &[u8], out: &mut Vec<u8>) -> u64 {
    let hash = link_hash(&head.hash, event_bytes);
    head.seq += 1;
    let prev_hash = std::mem::replace(&mut head.hash, hash);
    out.extend_from_slice(b"{\"seq\":");
    out.extend_from_slice(head.seq.to_string().as_bytes());
    out.extend_from_slice(b",\"hash\":\"");
    out.extend_from_slice(head.hash.as_bytes());
    out.extend_from_slice(b"\",\"prevHash\":\"");
    out.extend_from_slice(prev_hash.as_bytes());
    out.extend_from_slice(b"\",\"event\":");
    out.extend_from_slice(event_bytes);
    out.extend_from_slice(b"}\n");
    head.seq
}

/// The sequence number a record line starts with, without parsing the rest.
pub fn line_seq(line: &[u8]) -> Option<u64> {
    let rest = line.strip_prefix(b"{\"seq\":")?;
    let end = rest.iter().position(|b| !b.is_ascii_digit())?;
    std::str::from_utf8(rest.get(..end)?).ok()?.parse().ok()
}

/// Record lines (each ending with `\n`, in sequence order) grouped into chunk rows, each
/// holding at most [`CHUNK_BYTES`] of lines (a larger line alone), compressed.
pub fn chunk_rows(lines: &[(u64, &[u8])]) -> Vec<(String, Vec<u8>)> {
    let mut rows = Vec::new();
    let mut chunk: Vec<u8> = Vec::with_capacity(CHUNK_BYTES);
    let mut last = 0;
    for (seq, line) in lines {
        if !chunk.is_empty() && chunk.len() + line.len() > CHUNK_BYTES {
            rows.push((chunk_key(last), encode_chunk(&chunk)));
            chunk.clear();
        }
        chunk.extend_from_slice(line);
        last = *seq;
    }
    if !chunk.is_empty() {
        rows.push((chunk_key(last), encode_chunk(&chunk)));
    }
    rows
}

/// Marks a compressed chunk: a chunk of plain lines starts with `{`.
pub const COMPRESSED: &[u8] = b"\0lz4";
/// Largest chunk a stored value may claim to expand to (one event alone can exceed
/// [`CHUNK_BYTES`], never this).
const MAX_PLAIN_CHUNK: usize = 256 << 20;

/// A chunk's stored form: [`COMPRESSED`], the length of the lines (u32, little-endian), then
/// the lines as one LZ4 block.
pub fn encode_chunk(lines: &[u8]) -> Vec<u8> {
    let compressed = lz4_flex::block::compress(lines);
    let mut out = Vec::with_capacity(COMPRESSED.len() + 4 + compressed.len());
    out.extend_from_slice(COMPRESSED);
    out.extend_from_slice(&u32::try_from(lines.len()).unwrap_or(u32::MAX).to_le_bytes());
    out.extend_from_slice(&compressed);
    out
}

/// Why a stored chunk could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnreadableChunk;

/// The record lines a stored chunk holds (plain chunks as they are).
pub fn decode_chunk(stored: &[u8]) -> Result<Cow<'_, [u8]>, UnreadableChunk> {
    let Some(rest) = stored.strip_prefix(COMPRESSED) else {
        return Ok(Cow::Borrowed(stored));
    };
    let (len, block) = rest.split_first_chunk::<4>().ok_or(UnreadableChunk)?;
    let len = u32::from_le_bytes(*len) as usize;
    // LZ4 expands at most ~255-fold: a larger claim is damage, not a reason to allocate.
    if len > MAX_PLAIN_CHUNK || len > block.len().saturating_mul(255).saturating_add(16) {
        return Err(UnreadableChunk);
    }
    let mut lines = vec![0; len];
    match lz4_flex::block::decompress_into(block, &mut lines) {
        Ok(n) if n == len => Ok(Cow::Owned(lines)),
        _ => Err(UnreadableChunk),
    }
}

/// [`decode_chunk`] for readers that skip what they cannot read (logged: the chain check of
/// `rampart audit export` then reports the events as missing).
fn chunk_lines<'a>(key: &str, stored: &'a [u8]) -> Cow<'a, [u8]> {
    decode_chunk(stored).unwrap_or_else(|UnreadableChunk| {
        tracing::error!(chunk = %key, "unreadable audit chunk");
        Cow::Borrowed(&[])
    })
}

/// Chains `events` after `head` and returns their chunk rows — how tests and tools store
/// events the way the audit indexer does (without index rows; see `index::batch_rows`).
pub fn chain(head: &mut Head, events: &[Value]) -> Vec<(String, Vec<u8>)> {
    let mut lines: Vec<(u64, Vec<u8>)> = Vec::with_capacity(events.len());
    for event in events {
        let bytes = serde_json::to_vec(event).unwrap_or_default();
        let mut line = Vec::with_capacity(bytes.len() + 200);
        let seq = append_line(head, &bytes, &mut line);
        lines.push((seq, line));
    }
    let refs: Vec<(u64, &[u8])> = lines.iter().map(|(s, l)| (*s, l.as_slice())).collect();
    chunk_rows(&refs)
}

/// Every row a batch of `events` adds after `head` — chunks, LookupEvents postings and the
/// batch manifest — as the audit indexer writes them (without the head record). For tests and
/// tools that fill a store directly.
pub fn indexed_rows(
    head: &mut Head,
    events: &[Value],
    fallback_account: &str,
) -> Vec<(String, Vec<u8>)> {
    let first = head.seq + 1;
    let mut rows = chain(head, events);
    let pairs: Vec<(u64, &Value)> = (first..).zip(events.iter()).collect();
    rows.extend(crate::index::batch_rows(&pairs, fallback_account));
    rows
}

/// The lines of a chunk.
fn lines(chunk: &[u8]) -> impl Iterator<Item = &[u8]> {
    chunk.split(|b| *b == b'\n').filter(|l| !l.is_empty())
}

/// The event `seq`, if stored.
pub fn get_event(
    tx: &mut (impl ReadTxn + ?Sized),
    seq: u64,
) -> Result<Option<StoredEvent>, StoreError> {
    EventReader::default().get(tx, seq)
}

/// Reads events one by one, keeping the last chunk it read: a page of LookupEvents results
/// mostly comes from one or two chunks.
#[derive(Default)]
pub struct EventReader {
    /// (first seq, last seq, bytes) of the chunk read last.
    chunk: Option<(u64, u64, Vec<u8>)>,
}

impl EventReader {
    pub fn get(
        &mut self,
        tx: &mut (impl ReadTxn + ?Sized),
        seq: u64,
    ) -> Result<Option<StoredEvent>, StoreError> {
        if let Some((first, last, bytes)) = &self.chunk {
            if (*first..=*last).contains(&seq) {
                return Ok(find_in_lines(bytes, seq));
            }
        }
        let after = chunk_key(seq.saturating_sub(1));
        let Some((key, record)) = tx.scan(EVENTS_PREFIX, Some(&after), 1)?.into_iter().next()
        else {
            return Ok(None);
        };
        let bytes = chunk_lines(&key, &record.value).into_owned();
        let first = lines(&bytes).next().and_then(line_seq);
        let found = find_in_lines(&bytes, seq);
        if let (Some(first), Some(last)) = (first, seq_of_key(&key)) {
            self.chunk = Some((first, last, bytes));
        }
        Ok(found)
    }
}

/// The event `seq` within one stored chunk.
pub fn find_in_chunk(chunk: &[u8], seq: u64) -> Option<StoredEvent> {
    find_in_lines(&decode_chunk(chunk).ok()?, seq)
}

/// The event `seq` within a chunk's record lines.
fn find_in_lines(lines_bytes: &[u8], seq: u64) -> Option<StoredEvent> {
    lines(lines_bytes)
        .find(|l| line_seq(l) == Some(seq))
        .and_then(|l| serde_json::from_slice(l).ok())
}

/// Stored events with sequence numbers above `after_seq`, in order, from at most `max_chunks`
/// chunks. Returns the events and the key to continue after (`None` at the end).
pub fn scan_events(
    tx: &mut (impl ReadTxn + ?Sized),
    after_seq: u64,
    max_chunks: usize,
) -> Result<Vec<StoredEvent>, StoreError> {
    let after = chunk_key(after_seq);
    let mut out = Vec::new();
    for (key, record) in tx.scan(EVENTS_PREFIX, Some(&after), max_chunks)? {
        let chunk = chunk_lines(&key, &record.value);
        for line in lines(&chunk) {
            if line_seq(line).is_some_and(|s| s > after_seq) {
                match serde_json::from_slice::<StoredEvent>(line) {
                    Ok(e) => out.push(e),
                    Err(e) => tracing::error!(chunk = %key, error = %e, "unreadable audit record"),
                }
            }
        }
    }
    Ok(out)
}

/// A chunk's key and its record lines.
pub type RawChunk = (String, Vec<Vec<u8>>);

/// Every record line of the chunks above `after_key` (exclusive), at most `max_chunks` of them:
/// `(chunk key, raw lines)`, for tools that verify the chain over the exact stored bytes.
pub fn scan_chunks(
    tx: &mut (impl ReadTxn + ?Sized),
    after_key: Option<&str>,
    max_chunks: usize,
) -> Result<Vec<RawChunk>, StoreError> {
    Ok(tx
        .scan(EVENTS_PREFIX, after_key, max_chunks)?
        .into_iter()
        .map(|(k, r)| {
            let chunk = chunk_lines(&k, &r.value);
            let raw = lines(&chunk).map(<[u8]>::to_vec).collect();
            (k, raw)
        })
        .collect())
}

/// Why a record line does not continue a chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkError {
    /// Not a record line.
    Unreadable(String),
    /// A readable record with another sequence number than the next one.
    Gap { found: u64 },
    /// The right number, but its hashes do not link it to the chain.
    Broken,
}

/// Checks that `line` is the record following `prev`: the next sequence number, `prev`'s hash
/// as its `prevHash`, and its own hash over the event's exact bytes. What the journal's recovery
/// and `rampart audit export` both verify.
pub fn verify_next(line: &[u8], prev: &Head) -> Result<StoredEvent, LinkError> {
    let record: StoredEvent =
        serde_json::from_slice(line).map_err(|e| LinkError::Unreadable(e.to_string()))?;
    if record.seq != prev.seq + 1 {
        return Err(LinkError::Gap { found: record.seq });
    }
    let bytes = event_bytes(line).ok_or_else(|| LinkError::Unreadable("no event".into()))?;
    if record.prev_hash != prev.hash || record.hash != link_hash(&prev.hash, bytes) {
        return Err(LinkError::Broken);
    }
    Ok(record)
}

/// The event's exact JSON bytes inside a record line (what its hash covers).
pub fn event_bytes(line: &[u8]) -> Option<&[u8]> {
    const MARK: &[u8] = b",\"event\":";
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    let at = line.windows(MARK.len()).position(|w| w == MARK)?;
    line.get(at + MARK.len()..line.len().checked_sub(1)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rampart_store::{Expect, Store};

    #[test]
    fn chunks_are_stored_compressed_and_plain_chunks_still_read() {
        let mut head = Head::default();
        let events: Vec<Value> = (0..40)
            .map(|i| serde_json::json!({"eventName": "Decrypt", "i": i, "userAgent": "boto3/1.43"}))
            .collect();
        let rows = chain(&mut head, &events);
        let (key, stored) = &rows[0];
        assert!(stored.starts_with(COMPRESSED));
        let plain = decode_chunk(stored).unwrap().into_owned();
        assert!(
            stored.len() * 2 < plain.len(),
            "{} -> {}",
            plain.len(),
            stored.len()
        );
        assert!(plain.starts_with(b"{\"seq\":1,"));
        // A chunk written before compression (plain lines) reads the same.
        let (from_plain, from_stored) = (
            find_in_chunk(&plain, 7).unwrap(),
            find_in_chunk(stored, 7).unwrap(),
        );
        assert_eq!(
            (from_plain.seq, &from_plain.hash, &from_plain.event),
            (from_stored.seq, &from_stored.hash, &from_stored.event)
        );
        assert_eq!(find_in_chunk(stored, 7).unwrap().event["i"], 6);
        assert_eq!(seq_of_key(key), Some(40));
        // Damage is an error, never a panic or a huge allocation.
        let mut claims_4gb = stored.clone();
        claims_4gb.splice(4..8, u32::MAX.to_le_bytes());
        assert_eq!(decode_chunk(&claims_4gb), Err(UnreadableChunk));
        let cut = &stored[..stored.len() - 3];
        assert_eq!(decode_chunk(cut), Err(UnreadableChunk));
        assert_eq!(decode_chunk(&stored[..6]), Err(UnreadableChunk));
        assert!(find_in_chunk(cut, 7).is_none());
        let mut flipped = stored.clone();
        let last = flipped.len() - 1;
        flipped[last] ^= 0x55;
        let read = decode_chunk(&flipped);
        assert!(read.is_err() || read.unwrap().as_ref() != plain.as_slice());
    }

    #[test]
    fn chain_links_each_record_to_the_previous() {
        let mut head = Head::default();
        let rows = chain(
            &mut head,
            &[serde_json::json!({"a": 1}), serde_json::json!({"b": 2})],
        );
        assert_eq!(rows.len(), 1, "small events share a chunk");
        assert_eq!(rows[0].0, chunk_key(2));
        let a = find_in_chunk(&rows[0].1, 1).unwrap();
        let b = find_in_chunk(&rows[0].1, 2).unwrap();
        assert_eq!((a.seq, b.seq), (1, 2));
        assert_eq!(b.prev_hash, a.hash);
        assert_eq!(head.hash, b.hash);
        let bytes = serde_json::to_vec(&a.event).unwrap();
        assert_eq!(link_hash("", &bytes), a.hash);
        assert_eq!(a.event, serde_json::json!({"a": 1}));
        let plain = decode_chunk(&rows[0].1).unwrap();
        let first_line = plain.split(|b| *b == b'\n').next().unwrap();
        assert_eq!(event_bytes(first_line), Some(&b"{\"a\":1}"[..]));
        assert_eq!(seq_of_key(&rows[0].0), Some(2));
    }

    #[test]
    fn chunks_close_at_their_size_and_events_are_found_in_any() {
        let store = Store::open_in_memory().unwrap();
        let mut head = Head::default();
        let big = "x".repeat(10_000);
        let events: Vec<Value> = (0..30)
            .map(|i| serde_json::json!({"i": i, "pad": big}))
            .collect();
        let rows = chain(&mut head, &events);
        assert!(rows.len() >= 6, "{} chunks", rows.len());
        assert!(
            rows.iter()
                .all(|(_, v)| decode_chunk(v).unwrap().len() <= CHUNK_BYTES)
        );
        store
            .write_blocking(move |tx| {
                for (k, v) in &rows {
                    tx.put(k, v, Expect::Absent)?;
                }
                Ok::<_, StoreError>(())
            })
            .unwrap();
        store
            .read_blocking(|tx| {
                for seq in 1..=30u64 {
                    let e = get_event(tx, seq)?.unwrap();
                    assert_eq!(e.seq, seq);
                    assert_eq!(e.event["i"], seq - 1);
                }
                assert!(get_event(tx, 31)?.is_none());
                let after_7: Vec<u64> = scan_events(tx, 7, 100)?.iter().map(|e| e.seq).collect();
                assert_eq!(after_7, (8..=30).collect::<Vec<_>>());
                Ok::<_, StoreError>(())
            })
            .unwrap();
    }
}
