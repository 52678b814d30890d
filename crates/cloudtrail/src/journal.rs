//! The audit journal: an append-only file of record lines (the format of `crate::stored`) that
//! the audit writer appends each batch of events to with one `write` before the requests are
//! answered. Once the bytes are in the operating system's hands a killed process loses none; the
//! events reach the store (chunks and indexes) shortly after, in large batches, and at start-up
//! [`recover`] copies whatever the store lacks from the journal into it.
//!
//! Files are `journal-<first seq, 20 digits>.log` in one directory; the writer starts a new one
//! past [`SEGMENT_BYTES`], and segments whose events are all durably in the store are deleted.
use std::fs::{File, OpenOptions};
use std::io::{self, BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

use crate::stored::{Head, LinkError, StoredEvent, line_seq};

/// A segment is closed once it holds this many bytes.
pub const SEGMENT_BYTES: u64 = 64 * 1024 * 1024;

fn segment_name(first_seq: u64) -> String {
    format!("journal-{first_seq:020}.log")
}

fn first_seq_of(path: &Path) -> Option<u64> {
    path.file_name()?
        .to_str()?
        .strip_prefix("journal-")?
        .strip_suffix(".log")?
        .parse()
        .ok()
}

/// The journal's segments, oldest first: (first seq, path).
pub fn segments(dir: &Path) -> io::Result<Vec<(u64, PathBuf)>> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if let Some(first) = first_seq_of(&path) {
            out.push((first, path));
        }
    }
    out.sort();
    Ok(out)
}

/// The open segment the writer appends to.
pub struct Journal {
    dir: PathBuf,
    file: File,
    written: u64,
}

impl Journal {
    /// Starts a new segment whose first event will be `next_seq`.
    pub fn create(dir: &Path, next_seq: u64) -> io::Result<Journal> {
        std::fs::create_dir_all(dir)?;
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(dir.join(segment_name(next_seq)))?;
        let written = file.metadata()?.len();
        sync_dir(dir);
        Ok(Journal {
            dir: dir.to_path_buf(),
            file,
            written,
        })
    }

    /// Appends whole record lines. On `Err` whatever part was written is cut off again (and
    /// should that fail too, recovery cuts a torn last line off), so the call can be retried.
    pub fn append(&mut self, lines: &[u8]) -> io::Result<()> {
        if let Err(e) = self.file.write_all(lines) {
            let _ = self.file.set_len(self.written);
            return Err(e);
        }
        self.written += lines.len() as u64;
        Ok(())
    }

    /// Makes what was appended durable.
    pub fn sync(&self) -> io::Result<()> {
        self.file.sync_data()
    }

    /// A handle for syncing from another thread.
    pub fn sync_handle(&self) -> io::Result<File> {
        self.file.try_clone()
    }

    /// Closes a full segment and starts the next one (whose first event is `next_seq`).
    pub fn rotate_if_full(&mut self, next_seq: u64) -> io::Result<bool> {
        if self.written < SEGMENT_BYTES {
            return Ok(false);
        }
        self.file.sync_data()?;
        *self = Journal::create(&self.dir, next_seq)?;
        Ok(true)
    }
}

/// Deletes the segments all of whose events have sequence numbers up to `durable_seq` (the next
/// segment starts at or before `durable_seq + 1`); the newest segment is always kept.
pub fn delete_through(dir: &Path, durable_seq: u64) -> io::Result<usize> {
    let all = segments(dir)?;
    let mut removed = 0;
    for pair in all.windows(2) {
        let [(_, path), (next_first, _)] = pair else {
            continue;
        };
        if *next_first <= durable_seq.saturating_add(1) {
            std::fs::remove_file(path)?;
            removed += 1;
        }
    }
    Ok(removed)
}

/// What recovery found in the journal.
#[derive(Debug, Default)]
pub struct Recovered {
    /// Events after the store's head, in order, each with its exact record line.
    pub events: Vec<(StoredEvent, Vec<u8>)>,
    /// Bytes of a torn last record (a write cut short by a crash; its request was never
    /// answered). Skipped, not removed: recovery never changes the files.
    pub torn_bytes: u64,
    /// Set when a record did not chain to the one before it: recovery stops there.
    pub broken_at: Option<String>,
}

/// Reads every segment and returns the events after `head` that continue its chain. A torn last
/// line (a crash in the middle of a write) is skipped. At most `limit` events are returned per
/// call; call again with the new head for more. Only reads: safe beside a live writer.
pub fn recover(dir: &Path, head: &Head, limit: usize) -> io::Result<Recovered> {
    let mut out = Recovered::default();
    if !dir.exists() {
        return Ok(out);
    }
    let mut chain = head.clone();
    let all = segments(dir)?;
    let count = all.len();
    for (i, (_, path)) in all.iter().enumerate() {
        let is_last = i + 1 == count;
        let file = File::open(path)?;
        let mut reader = BufReader::new(file);
        let mut line = Vec::new();
        loop {
            line.clear();
            let n = reader.read_until(b'\n', &mut line)?;
            if n == 0 {
                break;
            }
            if line.last() != Some(&b'\n') {
                // A torn write: only the end of the newest segment can hold one.
                if is_last {
                    out.torn_bytes = n as u64;
                } else {
                    out.broken_at = Some(format!("{}: incomplete line", path.display()));
                }
                return Ok(out);
            }
            let Some(seq) = line_seq(&line) else {
                out.broken_at = Some(format!("{}: unreadable line", path.display()));
                return Ok(out);
            };
            if seq <= chain.seq {
                continue;
            }
            let record = match crate::stored::verify_next(&line, &chain) {
                Ok(r) => r,
                Err(LinkError::Unreadable(e)) => {
                    out.broken_at = Some(format!("{}: record {seq}: {e}", path.display()));
                    return Ok(out);
                }
                Err(LinkError::Gap { .. } | LinkError::Broken) => {
                    out.broken_at = Some(format!(
                        "{}: record {seq} does not follow {}",
                        path.display(),
                        chain.seq
                    ));
                    return Ok(out);
                }
            };
            chain = Head {
                seq,
                hash: record.hash.clone(),
            };
            out.events.push((record, line.clone()));
            if out.events.len() >= limit {
                return Ok(out);
            }
        }
    }
    Ok(out)
}

/// Makes a new file's directory entry durable (best effort: not every filesystem allows it).
fn sync_dir(dir: &Path) {
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stored::append_line;

    fn lines(head: &mut Head, n: usize) -> Vec<u8> {
        let mut out = Vec::new();
        for i in 0..n {
            append_line(head, format!("{{\"i\":{i}}}").as_bytes(), &mut out);
        }
        out
    }

    #[test]
    fn recovery_returns_the_events_after_the_head_and_skips_a_torn_line() {
        let dir = tempfile::tempdir().unwrap();
        let mut head = Head::default();
        let mut j = Journal::create(dir.path(), 1).unwrap();
        j.append(&lines(&mut head, 5)).unwrap();
        j.append(b"{\"seq\":6,\"hash\":\"ab").unwrap();
        drop(j);
        let stored_head = Head {
            seq: 2,
            hash: recover(dir.path(), &Head::default(), 2)
                .unwrap()
                .events
                .last()
                .unwrap()
                .0
                .hash
                .clone(),
        };
        let r = recover(dir.path(), &stored_head, 100).unwrap();
        assert_eq!(
            r.events.iter().map(|(e, _)| e.seq).collect::<Vec<_>>(),
            vec![3, 4, 5]
        );
        assert!(r.broken_at.is_none());
        assert_eq!(r.torn_bytes, 19);
    }

    #[test]
    fn a_forged_record_stops_recovery() {
        let dir = tempfile::tempdir().unwrap();
        let mut head = Head::default();
        let mut j = Journal::create(dir.path(), 1).unwrap();
        let mut bytes = lines(&mut head, 3);
        let at = bytes.windows(7).rposition(|w| w == b"{\"i\":2}").unwrap();
        bytes[at + 5] = b'9';
        j.append(&bytes).unwrap();
        let r = recover(dir.path(), &Head::default(), 100).unwrap();
        assert_eq!(r.events.len(), 2);
        assert!(r.broken_at.unwrap().contains("record 3"));
    }

    #[test]
    fn segments_rotate_and_old_ones_are_deleted_once_durable() {
        let dir = tempfile::tempdir().unwrap();
        Journal::create(dir.path(), 1).unwrap();
        Journal::create(dir.path(), 100).unwrap();
        Journal::create(dir.path(), 200).unwrap();
        assert_eq!(delete_through(dir.path(), 98).unwrap(), 0);
        assert_eq!(delete_through(dir.path(), 99).unwrap(), 1);
        assert_eq!(delete_through(dir.path(), 10_000).unwrap(), 1);
        let left: Vec<u64> = segments(dir.path())
            .unwrap()
            .into_iter()
            .map(|(s, _)| s)
            .collect();
        assert_eq!(left, vec![200], "the newest segment stays");
    }
}
