//! 90-day retention: a background tick removes whole write batches whose newest event is past
//! the retention period — their events, index rows and manifest — a bounded number per tick, and
//! records where the surviving hash chain starts (`rampart audit export` verifies from there).
use rampart_aws_types::AwsError;
use rampart_store::{Expect, Store, StoreError};
use time::OffsetDateTime;

use crate::index::{BATCH_PREFIX, BatchManifest};
use crate::lookup::RETENTION_DAYS;
use crate::stored::{self, EVENTS_PREFIX, TAIL_KEY, Tail, seq_of_key};

/// Most batches removed by one tick (one transaction).
const BATCHES_PER_TICK: usize = 16;

/// Removes batches older than `days`; returns how many events were removed.
pub async fn expire(store: &Store, now: OffsetDateTime, days: i64) -> Result<u64, AwsError> {
    let cutoff = now.unix_timestamp() - days * 86_400;
    let removed = store
        .write(move |tx| {
            let batches = tx.scan(BATCH_PREFIX, None, BATCHES_PER_TICK)?;
            let mut removed = 0u64;
            let mut tail: Option<Tail> = None;
            for (key, record) in batches {
                let Some(m) = BatchManifest::decode(&record.value) else {
                    break;
                };
                if m.newest >= cutoff {
                    break;
                }
                if let Some(last) = stored::get_event(tx.as_read(), m.last_seq)? {
                    tail = Some(Tail {
                        first_seq: m.last_seq + 1,
                        prev_hash: last.hash,
                    });
                }
                for k in &m.keys {
                    tx.delete(k, Expect::Any)?;
                }
                // The batch's chunks: chunks never span batches, so they are exactly the chunks
                // up to the one ending at the batch's last event.
                loop {
                    let chunks = tx.scan(EVENTS_PREFIX, None, 64)?;
                    let mut more = !chunks.is_empty();
                    for (k, _) in &chunks {
                        if seq_of_key(k).is_none_or(|last| last > m.last_seq) {
                            more = false;
                            break;
                        }
                        tx.delete(k, Expect::Any)?;
                    }
                    if !more {
                        break;
                    }
                }
                removed += m.last_seq + 1 - m.first_seq;
                tx.delete(&key, Expect::Any)?;
            }
            if let Some(t) = tail {
                let bytes = serde_json::to_vec(&t).unwrap_or_default();
                tx.put(TAIL_KEY, &bytes, Expect::Any)?;
            }
            Ok::<_, StoreError>(removed)
        })
        .await?;
    Ok(removed)
}

/// The default retention.
pub async fn expire_default(store: &Store, now: OffsetDateTime) -> Result<u64, AwsError> {
    expire(store, now, RETENTION_DAYS).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stored::{Head, chunk_key, indexed_rows};
    use serde_json::json;

    #[tokio::test]
    async fn old_batches_go_with_their_index_rows_and_the_tail_is_recorded() {
        let store = Store::open_in_memory().unwrap();
        let mut head = Head::default();
        let ev = |t: &str| json!({"eventName": "X", "awsRegion": "us-east-1", "recipientAccountId": "111111111111", "eventTime": t});
        for batch in [
            vec![ev("2024-01-01T00:00:00Z"), ev("2024-01-01T00:00:01Z")],
            vec![ev("2024-06-01T00:00:00Z")],
        ] {
            let rows = indexed_rows(&mut head, &batch, "0");
            store
                .write(move |tx| {
                    for (k, v) in &rows {
                        tx.put(k, v, Expect::Absent)?;
                    }
                    Ok::<_, StoreError>(())
                })
                .await
                .unwrap();
        }
        let now = time::macros::datetime!(2024-06-02 00:00:00 UTC);
        assert_eq!(expire(&store, now, 90).await.unwrap(), 2);
        assert_eq!(expire(&store, now, 90).await.unwrap(), 0);
        let (keys, tail) = store
            .read(|tx| {
                let keys: Vec<String> = tx
                    .scan("", None, 1000)?
                    .into_iter()
                    .map(|(k, _)| k)
                    .collect();
                Ok::<_, StoreError>((keys, tx.get(TAIL_KEY)?))
            })
            .await
            .unwrap();
        assert!(!keys.contains(&chunk_key(2)));
        assert!(keys.contains(&chunk_key(3)));
        // Only the surviving batch's rows remain: its time row, EventName row and manifest.
        assert_eq!(
            keys.iter()
                .filter(|k| k.contains("/cloudtrail/ev/"))
                .count(),
            2
        );
        let tail: Tail = serde_json::from_slice(&tail.unwrap().value).unwrap();
        assert_eq!(tail.first_seq, 3);
    }
}
