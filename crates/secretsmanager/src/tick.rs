//! The background job: purges secrets whose recovery window is over, then runs due rotations
//! (`crate::rotation`). It walks the purge index
//! (`sys/secretsmanager/purge/EPOCH/...`) from the oldest entry and stops at the first one in the
//! future. Each purge is one transaction that re-reads the secret (a restored secret is left
//! alone), so running twice changes nothing.
use std::future::Future;
use std::pin::Pin;

use rampart_aws_types::AwsError;
use rampart_services::common::{keys, records};
use rampart_services::{AuditResource, Node, ServiceEvent};
use rampart_store::Expect;
use time::OffsetDateTime;

use crate::record::{self, PURGE_PREFIX, SecretRecord};

const BATCH: usize = 128;

pub type TickFuture = Pin<Box<dyn Future<Output = Result<(), AwsError>> + Send>>;

pub fn tick(node: Node, now: OffsetDateTime) -> TickFuture {
    Box::pin(run(node, now))
}

/// `EPOCH/ACCOUNT/REGION/NAME` after the prefix.
fn parse_entry(key: &str) -> Option<(i64, String, String, String)> {
    let rest = key.strip_prefix(PURGE_PREFIX)?;
    let mut parts = rest.splitn(4, '/');
    let at = parts.next()?.parse().ok()?;
    let account = parts.next()?.to_string();
    let region = parts.next()?.to_string();
    let name = keys::unescape(parts.next()?);
    Some((at, account, region, name))
}

pub async fn run(node: Node, now: OffsetDateTime) -> Result<(), AwsError> {
    purge(&node, now).await?;
    crate::rotation::run_due(&node, now).await
}

async fn purge(node: &Node, now: OffsetDateTime) -> Result<(), AwsError> {
    let now_s = now.unix_timestamp();
    let due = records::due_keys(&node.store, PURGE_PREFIX, BATCH).await?;
    for index_key in due {
        let Some((at, account, region, name)) = parse_entry(&index_key) else {
            let k = index_key.clone();
            node.store
                .write(move |tx| tx.delete(&k, Expect::Any).map_err(AwsError::from))
                .await?;
            continue;
        };
        if at > now_s {
            break;
        }
        let k = index_key.clone();
        let purged: Option<String> = node
            .store
            .write(move |tx| {
                tx.delete(&k, Expect::Any)?;
                let key = record::secret_key(&account, &region, &name);
                match records::get::<SecretRecord>(tx, &key)? {
                    Some((rec, _))
                        if rec.deleted.is_some() && rec.purge_at.is_some_and(|p| p <= now_s) =>
                    {
                        record::delete_secret(tx, &rec)?;
                        Ok::<_, AwsError>(Some(rec.arn))
                    }
                    _ => Ok(None),
                }
            })
            .await?;
        if let Some(arn) = purged {
            let (account, region) = record::account_region(&arn);
            node.service_events
                .emit(ServiceEvent {
                    account: account.to_string(),
                    region: region.to_string(),
                    event_source: "secretsmanager.amazonaws.com".into(),
                    event_name: "DeleteSecret".into(),
                    time: now,
                    details: None,
                    resources: vec![AuditResource {
                        arn: arn.clone(),
                        resource_type: "AWS::SecretsManager::Secret".into(),
                    }],
                })
                .await;
        }
    }
    Ok(())
}
