//! The background job: parameter policies. It walks the policy index
//! (`sys/ssm/due/EPOCH/ACTION/ACCOUNT/REGION/NAME`, value = the version the policy belongs to)
//! from the oldest entry: `expire` deletes the parameter, `expiration-notice` and
//! `no-change-notice` are reported as AwsServiceEvents (AWS sends them to EventBridge). An entry
//! whose version is no longer the latest is stale and dropped.
use std::future::Future;
use std::pin::Pin;

use rampart_aws_types::AwsError;
use rampart_services::common::{keys, records};
use rampart_services::{AuditResource, Node, ServiceEvent};
use rampart_store::Expect;
use serde_json::json;
use time::OffsetDateTime;

use crate::record::{self, DUE_PREFIX, Param};

const BATCH: usize = 128;

pub type TickFuture = Pin<Box<dyn Future<Output = Result<(), AwsError>> + Send>>;

pub fn tick(node: Node, now: OffsetDateTime) -> TickFuture {
    Box::pin(run(node, now))
}

fn parse_entry(key: &str) -> Option<(i64, String, String, String, String)> {
    let rest = key.strip_prefix(DUE_PREFIX)?;
    let mut parts = rest.splitn(5, '/');
    let at = parts.next()?.parse().ok()?;
    let action = parts.next()?.to_string();
    let account = parts.next()?.to_string();
    let region = parts.next()?.to_string();
    let name = keys::unescape(parts.next()?);
    Some((at, action, account, region, name))
}

pub async fn run(node: Node, now: OffsetDateTime) -> Result<(), AwsError> {
    let due = records::due_keys(&node.store, DUE_PREFIX, BATCH).await?;
    for entry in due {
        let parsed = parse_entry(&entry);
        if let Some((at, ..)) = &parsed
            && *at > now.unix_timestamp()
        {
            break;
        }
        let e = entry.clone();
        let acted: Option<(String, String, String, String, u64)> = node
            .store
            .write(move |tx| {
                let wanted: Option<(u64, u64)> = records::get(tx, &e)?;
                tx.delete(&e, Expect::Any)?;
                let (Some((_, action, account, region, name)), Some((version, _))) =
                    (parse_entry(&e), wanted)
                else {
                    return Ok::<_, AwsError>(None);
                };
                let key = record::param_key(&account, &region, &name);
                let Some((mut p, _)) = records::get::<Param>(tx, &key)? else {
                    return Ok(None);
                };
                if p.latest.version != version {
                    return Ok(None);
                }
                if action == "expire" {
                    crate::ops::delete::delete_in_txn(tx, &account, &region, &name)?;
                } else {
                    p.due.retain(|d| d != &e);
                    records::put(tx, &key, &p, Expect::Any)?;
                }
                Ok(Some((action, account, region, p.arn, version)))
            })
            .await?;
        if let Some((action, account, region, arn, version)) = acted {
            let event_name = match action.as_str() {
                "expire" => "DeleteParameter",
                "expiration-notice" => "ParameterExpirationNotification",
                _ => "ParameterNoChangeNotification",
            };
            node.service_events
                .emit(ServiceEvent {
                    account,
                    region,
                    event_source: "ssm.amazonaws.com".into(),
                    event_name: event_name.into(),
                    time: now,
                    details: Some(json!({ "policyAction": action, "parameterVersion": version })),
                    resources: vec![AuditResource {
                        arn,
                        resource_type: "AWS::SSM::Parameter".into(),
                    }],
                })
                .await;
        }
    }
    Ok(())
}
