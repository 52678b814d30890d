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
use rampart_store::{Expect, ReadTxn};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KeyUse {
    /// Epoch seconds.
    pub when: i64,
    /// The signing name of the service called (`iam`, `kms`, ...).
    pub service: String,
    pub region: String,
}

static PENDING: LazyLock<Mutex<HashMap<String, KeyUse>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

pub fn store_key(access_key_id: &str) -> String {
    format!("sys/accesskey-lastused/{access_key_id}")
}

/// Records that `access_key_id` authenticated a request at `when` (cheap: no I/O).
pub fn note(access_key_id: &str, service: &str, region: &str, when: OffsetDateTime) {
    if let Ok(mut map) = PENDING.lock() {
        map.insert(
            access_key_id.to_string(),
            KeyUse {
                when: when.unix_timestamp(),
                service: service.to_string(),
                region: region.to_string(),
            },
        );
    }
}

/// This node's use of a key that is not flushed yet.
pub fn pending(access_key_id: &str) -> Option<KeyUse> {
    PENDING.lock().ok()?.get(access_key_id).cloned()
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
        let batch: Vec<(String, KeyUse)> = match PENDING.lock() {
            Ok(mut map) if !map.is_empty() => map.drain().collect(),
            _ => return Ok(()),
        };
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
                        .is_none_or(|(old, _)| old.when <= used.when);
                    if newer {
                        records::put(tx, &key, used, Expect::Any)?;
                    }
                }
                Ok::<_, AwsError>(())
            })
            .await
    })
}
