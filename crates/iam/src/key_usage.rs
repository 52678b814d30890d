//! When each access key was last used (`GetAccessKeyLastUsed`, the credential report), kept
//! current without a store write on the request path:
//!
//! 1. the server's authentication step calls [`note`] for every request signed with a long-term
//!    key: one insert into an in-memory map under a mutex (no I/O);
//! 2. the IAM background tick ([`flush`], run every second by the server's job table) drains the
//!    map and writes all the uses it holds in ONE store transaction, as
//!    [`KeyUse`] records at `sys/accesskey-lastused/ID` (a later use never loses to an earlier);
//! 3. readers take the stored record, or this node's pending use when it is newer.
//!
//! So the cost on the hot path is a map insert, the store sees at most one small write batch per
//! second per node, and a use is visible on the node that saw it at once and on every node
//! within about a second. A crash loses at most the last second's uses, which is the same
//! precision AWS gives (it reports uses with a delay too).
use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};

use rampart_aws_types::AwsError;
use rampart_services::Node;
use rampart_services::common::records;
use rampart_services::credentials::{AccessKeyRecord, KeyOwner};
use rampart_store::{Expect, ReadTxn};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KeyUse {
    /// Epoch seconds.
    pub when: i64,
    /// Order of uses finer than a second: epoch milliseconds, then this node's note sequence.
    #[serde(default)]
    pub order: (i64, u64),
    /// The signing name of the service called (`iam`, `kms`, ...).
    pub service: String,
    pub region: String,
}

/// A user's last access per service namespace (`kms`, `iam`, ...).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceAccess {
    pub services: std::collections::BTreeMap<String, KeyUse>,
}

/// Pending uses by (access key id, service): each service keeps its own last use, so a report
/// of services accessed loses none that were used within one flush interval.
static SEQUENCE: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

static PENDING: LazyLock<Mutex<HashMap<(String, String), KeyUse>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

pub fn store_key(access_key_id: &str) -> String {
    format!("sys/accesskey-lastused/{access_key_id}")
}

/// Records that `access_key_id` authenticated a request at `when` (cheap: no I/O).
pub fn note(access_key_id: &str, service: &str, region: &str, when: OffsetDateTime) {
    if let Ok(mut map) = PENDING.lock() {
        map.insert(
            (access_key_id.to_string(), service.to_string()),
            KeyUse {
                when: when.unix_timestamp(),
                order: (
                    i64::try_from(when.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX),
                    SEQUENCE.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
                ),
                service: service.to_string(),
                region: region.to_string(),
            },
        );
    }
}

/// This node's use of a key that is not flushed yet.
pub fn pending(access_key_id: &str) -> Option<KeyUse> {
    PENDING
        .lock()
        .ok()?
        .iter()
        .filter(|((id, _), _)| id == access_key_id)
        .map(|(_, u)| u.clone())
        .max_by_key(|u| u.order)
}

pub fn load(tx: &mut dyn ReadTxn, access_key_id: &str) -> Result<Option<KeyUse>, AwsError> {
    Ok(records::get::<KeyUse>(tx, &store_key(access_key_id))?.map(|(u, _)| u))
}

/// The background tick: writes the pending uses in one transaction.
pub fn flush(
    node: Node,
    _now: OffsetDateTime,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), AwsError>> + Send>> {
    Box::pin(async move {
        let mut batch: Vec<(String, KeyUse)> = match PENDING.lock() {
            Ok(mut map) if !map.is_empty() => map.drain().map(|((id, _), u)| (id, u)).collect(),
            _ => return Ok(()),
        };
        // Oldest first, so the key's own record ends with its newest use.
        batch.sort_by_key(|(_, u)| u.order);
        node.store
            .write(move |tx| {
                for (id, used) in &batch {
                    let key = store_key(id);
                    // Only keys that still exist; a later use never loses to an earlier one.
                    if tx
                        .get(&rampart_services::credentials::access_key_store_key(id))?
                        .is_none()
                    {
                        continue;
                    }
                    let newer = records::get::<KeyUse>(tx.as_read(), &key)?
                        .is_none_or(|(old, _)| old.order <= used.order);
                    if newer {
                        records::put(tx, &key, used, Expect::Any)?;
                    }
                    // The user's per-service last access (service last accessed reports).
                    if let Some((rec, _)) = records::get::<AccessKeyRecord>(
                        tx.as_read(),
                        &rampart_services::credentials::access_key_store_key(id),
                    )? {
                        if let KeyOwner::User { user_id, .. } = &rec.owner {
                            let k = crate::model::last_access_key(&rec.account_id, user_id);
                            let mut services = records::get::<ServiceAccess>(tx.as_read(), &k)?
                                .map(|(s, _)| s)
                                .unwrap_or_default();
                            let slot = services.services.entry(used.service.clone());
                            match slot {
                                std::collections::btree_map::Entry::Occupied(mut o) => {
                                    if o.get().order <= used.order {
                                        o.insert(used.clone());
                                    }
                                }
                                std::collections::btree_map::Entry::Vacant(v) => {
                                    v.insert(used.clone());
                                }
                            }
                            records::put(tx, &k, &services, Expect::Any)?;
                        }
                    }
                }
                Ok::<_, AwsError>(())
            })
            .await
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_latest_use_wins_within_one_second_and_each_service_is_kept() {
        let t = OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap();
        let id = "AKIATESTORDERING0001";
        note(id, "sts", "us-east-1", t);
        note(id, "iam", "us-east-1", t);
        assert_eq!(pending(id).unwrap().service, "iam");
        note(id, "sts", "eu-west-1", t);
        let last = pending(id).unwrap();
        assert_eq!(
            (last.service.as_str(), last.region.as_str()),
            ("sts", "eu-west-1")
        );
        let services: Vec<String> = PENDING
            .lock()
            .unwrap()
            .keys()
            .filter(|(k, _)| k == id)
            .map(|(_, s)| s.clone())
            .collect();
        assert_eq!(services.len(), 2);
        assert!(pending("AKIANEVERUSED0000000").is_none());
    }
}
