//! The background tick (`crates/server/src/jobs.rs` runs it every second): deletes keys whose
//! waiting period is over, rotates keys whose rotation date has come, and deletes imported key
//! material past its `ValidTo`. It walks the time index (`sys/kms/due/...`) from the oldest
//! entry and stops at the first one in the future, so it is cheap when nothing is due. Each
//! action is one transaction that re-reads the key, so running it twice changes nothing; each is
//! recorded as an `AwsServiceEvent`.
use std::future::Future;
use std::pin::Pin;

use rampart_aws_types::AwsError;
use rampart_services::common::records;
use rampart_services::{AuditResource, Node, ServiceEvent};
use rampart_store::Expect;
use serde_json::json;
use time::OffsetDateTime;

use crate::cache;
use crate::ops::rotation::add_material;
use crate::record::{
    AliasRecord, DUE_PREFIX, KeyState, alias_prefix, delete_key, get_key, key_grant_prefix,
    key_store_key, put_key,
};

/// Most index entries handled per tick; the rest wait for the next second.
const BATCH: usize = 128;

pub type TickFuture = Pin<Box<dyn Future<Output = Result<(), AwsError>> + Send>>;

pub fn tick(node: Node, now: OffsetDateTime) -> TickFuture {
    Box::pin(run(node, now.unix_timestamp(), now))
}

/// One due entry: `sys/kms/due/EPOCH/ACTION/ACCOUNT/REGION/KEY_ID`.
pub fn parse_due(key: &str) -> Option<(i64, String, String, String, String)> {
    let rest = key.strip_prefix(DUE_PREFIX)?;
    let parts: Vec<&str> = rest.split('/').collect();
    match parts.as_slice() {
        [at, action, account, region, key_id] => Some((
            at.parse().ok()?,
            action.to_string(),
            account.to_string(),
            region.to_string(),
            key_id.to_string(),
        )),
        _ => None,
    }
}

pub async fn run(node: Node, now: i64, when: OffsetDateTime) -> Result<(), AwsError> {
    let due = records::due_keys(&node.store, DUE_PREFIX, BATCH).await?;
    for index_key in due {
        let Some((at, action, account, region, key_id)) = parse_due(&index_key) else {
            let k = index_key.clone();
            node.store
                .write(move |tx| tx.delete(&k, Expect::Any).map(|_| ()))
                .await?;
            continue;
        };
        if at > now {
            break;
        }
        let master = node.master_key.clone();
        let (acct, reg, id, idx) = (
            account.clone(),
            region.clone(),
            key_id.clone(),
            index_key.clone(),
        );
        let done: Option<(String, String)> = node
            .store
            .write(move |tx| {
                tx.delete(&idx, Expect::Any)?;
                let Some((old, version)) = get_key(tx, &acct, &reg, &id)? else {
                    return Ok(None);
                };
                let mut new = old.clone();
                let event = match action.as_str() {
                    "delete"
                        if old.state == KeyState::PendingDeletion
                            && old.deletion_date.is_some_and(|d| d <= now) =>
                    {
                        delete_key(tx, &old)?;
                        tx.delete_prefix(&key_grant_prefix(&acct, &reg, &id))?;
                        for (k, r) in tx.scan_all(&alias_prefix(&acct, &reg))? {
                            if records::decode::<AliasRecord>(&k, &r.value)?.target_key_id == id {
                                tx.delete(&k, Expect::Any)?;
                            }
                        }
                        return Ok(Some(("DeleteKey".to_string(), old.arn.clone())));
                    }
                    "rotate" => match new.rotation.clone() {
                        Some(mut r) if r.next_rotation <= now => {
                            // A disabled key is not rotated; its next date moves on.
                            let rotated = new.state == KeyState::Enabled;
                            if rotated {
                                add_material(&master, &mut new, now, "AUTOMATIC")?;
                            }
                            r.next_rotation =
                                now.saturating_add(r.period_days.saturating_mul(86_400));
                            new.rotation = Some(r);
                            rotated.then(|| "RotateKey".to_string())
                        }
                        _ => None,
                    },
                    "expire" => match new.import.as_mut() {
                        Some(import) if import.valid_to.is_some_and(|v| v <= now) => {
                            new.materials.clear();
                            import.valid_to = None;
                            if new.state != KeyState::PendingDeletion {
                                new.state = KeyState::PendingImport;
                            }
                            Some("DeleteExpiredKeyMaterial".to_string())
                        }
                        _ => None,
                    },
                    _ => None,
                };
                put_key(tx, Some(&old), &new, Expect::Version(version))?;
                Ok::<_, AwsError>(event.map(|e| (e, new.arn.clone())))
            })
            .await?;
        if let Some((event_name, arn)) = done {
            cache::forget(&key_store_key(&account, &region, &key_id));
            tracing::info!(key = %arn, event = %event_name, "kms background action");
            node.service_events
                .emit(ServiceEvent {
                    account: account.clone(),
                    region: region.clone(),
                    event_source: "kms.amazonaws.com".to_string(),
                    event_name,
                    time: when,
                    details: Some(json!({ "keyId": key_id })),
                    resources: vec![AuditResource {
                        arn,
                        resource_type: "AWS::KMS::Key".to_string(),
                    }],
                })
                .await;
        }
    }
    Ok(())
}
