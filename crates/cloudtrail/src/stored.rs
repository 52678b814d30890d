//! How the audit trail is stored: one record per event under `sys/audit/<seq>`, each carrying
//! the SHA-256 of the previous record's hash and its own event bytes (a hash chain), and a head
//! record with the last sequence number and hash. Retention moves the tail forward and records
//! where the surviving chain starts.
use aws_lc_rs::digest;
use serde::{Deserialize, Serialize};
use serde_json::Value;

pub const EVENTS_PREFIX: &str = "sys/audit/";
pub const HEAD_KEY: &str = "sys/audit-head";
/// Written by retention: the first surviving sequence number and the hash it chains from.
pub const TAIL_KEY: &str = "sys/audit-tail";

pub fn event_key(seq: u64) -> String {
    format!("{EVENTS_PREFIX}{seq:020}")
}

/// The sequence number in an event key.
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

/// Assigns sequence numbers and hashes to `events`, advancing `head`; returns each stored
/// record with its key.
pub fn chain(head: &mut Head, events: &[Value]) -> Vec<(u64, String, Vec<u8>)> {
    events
        .iter()
        .map(|event| {
            let bytes = serde_json::to_vec(event).unwrap_or_default();
            let hash = link_hash(&head.hash, &bytes);
            head.seq += 1;
            let prev_hash = std::mem::replace(&mut head.hash, hash);
            // The `StoredEvent` JSON, written around the bytes already serialized for the hash
            // (the hot path of the audit writer: no second serialization, no clone).
            let mut record = Vec::with_capacity(bytes.len() + 200);
            record.extend_from_slice(
                format!(
                    "{{\"seq\":{},\"hash\":\"{}\",\"prevHash\":\"{prev_hash}\",\"event\":",
                    head.seq, head.hash
                )
                .as_bytes(),
            );
            record.extend_from_slice(&bytes);
            record.push(b'}');
            (head.seq, event_key(head.seq), record)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chain_links_each_record_to_the_previous() {
        let mut head = Head::default();
        let recs = chain(
            &mut head,
            &[serde_json::json!({"a": 1}), serde_json::json!({"b": 2})],
        );
        let a: StoredEvent = serde_json::from_slice(&recs[0].2).unwrap();
        let b: StoredEvent = serde_json::from_slice(&recs[1].2).unwrap();
        assert_eq!((a.seq, b.seq), (1, 2));
        assert_eq!(b.prev_hash, a.hash);
        assert_eq!(head.hash, b.hash);
        assert!(recs[0].1 < recs[1].1);
        assert_eq!(seq_of_key(&recs[1].1), Some(2));
        let bytes = serde_json::to_vec(&a.event).unwrap();
        assert_eq!(link_hash("", &bytes), a.hash);
        assert_eq!(a.event, serde_json::json!({"a": 1}));
    }
}
