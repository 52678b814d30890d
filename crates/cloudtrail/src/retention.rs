//! 90-day retention: a background tick removes the oldest events and their index entries, a
//! bounded batch per tick, and records where the surviving hash chain starts.
use rampart_aws_types::AwsError;
use rampart_store::{Expect, Store, StoreError};
use time::OffsetDateTime;

use crate::index;
use crate::lookup::RETENTION_DAYS;
use crate::stored::{EVENTS_PREFIX, StoredEvent, TAIL_KEY, Tail};

/// Most events removed by one tick (one transaction).
const BATCH: usize = 2_000;

/// Removes events older than the retention period; returns how many were removed.
/// `fallback_account` must be the one the writer indexed account-less events under.
pub async fn expire(
    store: &Store,
    now: OffsetDateTime,
    days: i64,
    fallback_account: &str,
) -> Result<u64, AwsError> {
    let cutoff = now.unix_timestamp() - days * 86_400;
    let fallback = fallback_account.to_string();
    let removed = store
        .write(move |tx| {
            let page = tx.scan(EVENTS_PREFIX, None, BATCH)?;
            let mut removed = 0u64;
            let mut tail: Option<Tail> = None;
            for (key, record) in page {
                let Ok(stored) = serde_json::from_slice::<StoredEvent>(&record.value) else {
                    break;
                };
                if index::event_seconds(&stored.event) >= cutoff {
                    break;
                }
                for k in index::index_keys(&stored.event, stored.seq, &fallback) {
                    tx.delete(&k, Expect::Any)?;
                }
                tx.delete(&key, Expect::Any)?;
                removed += 1;
                tail = Some(Tail {
                    first_seq: stored.seq + 1,
                    prev_hash: stored.hash,
                });
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
pub async fn expire_default(
    store: &Store,
    now: OffsetDateTime,
    fallback_account: &str,
) -> Result<u64, AwsError> {
    expire(store, now, RETENTION_DAYS, fallback_account).await
}
