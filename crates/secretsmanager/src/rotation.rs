//! The rotation engine the background tick drives: for each secret whose entry in the rotation
//! index (`sys/secretsmanager/rotate/EPOCH/...`) is due, it runs the four steps with the
//! secret's rotator, recording after each step how far it got, so a restart resumes where it
//! stopped. A failed step leaves `AWSCURRENT` where it was and records the failure; the next
//! scheduled window tries again.
use rampart_aws_types::AwsError;
use rampart_services::common::{keys, records};
use rampart_services::{AuditResource, Ctx, Node, Principal, RequestFacts, ServiceEvent};
use rampart_store::Expect;
use serde_json::json;
use time::OffsetDateTime;

use crate::ops::secrets::{add_version, modify};
use crate::ops::values::read_secret_value;
use crate::password::{PasswordSpec, generate};
use crate::record::{self, ROTATE_PREFIX, SecretRecord, rotate_key};
use crate::rotators::{self, Rotator, Step};
use crate::schedule;
use crate::versions::{self, CURRENT, PENDING};

const BATCH: usize = 32;

/// Secrets Manager acting for the account (the identity AWS's own calls to Lambda and KMS
/// carry): the account's root, from the service's address.
pub fn service_ctx(node: &Node, account: &str, region: &str, now: OffsetDateTime) -> Ctx {
    let facts = RequestFacts {
        source_ip: "secretsmanager.amazonaws.com".into(),
        secure_transport: true,
        now,
        region: region.to_string(),
        user_agent: "secretsmanager.amazonaws.com".into(),
    };
    Ctx::new(
        Principal::root(account, ""),
        "rotation".into(),
        facts,
        node.clone(),
    )
}

fn parse_entry(key: &str) -> Option<(i64, String, String, String)> {
    let rest = key.strip_prefix(ROTATE_PREFIX)?;
    let mut parts = rest.splitn(4, '/');
    let at = parts.next()?.parse().ok()?;
    let account = parts.next()?.to_string();
    let region = parts.next()?.to_string();
    let name = keys::unescape(parts.next()?);
    Some((at, account, region, name))
}

pub async fn run_due(node: &Node, now: OffsetDateTime) -> Result<(), AwsError> {
    let due = records::due_keys(&node.store, ROTATE_PREFIX, BATCH).await?;
    for entry in due {
        let Some((at, account, region, name)) = parse_entry(&entry) else {
            let k = entry.clone();
            node.store
                .write(move |tx| tx.delete(&k, Expect::Any).map_err(AwsError::from))
                .await?;
            continue;
        };
        if at > now.unix_timestamp() {
            break;
        }
        // Each rotation runs in its own task: a slow rotator (a webhook may take 30 s per step)
        // must not hold up the other background jobs, which the scheduler runs one after another.
        if !claim(&entry) {
            continue;
        }
        let node = node.clone();
        tokio::spawn(async move {
            if let Err(e) = run_job(&node, now, &account, &region, &name, at, &entry).await {
                tracing::warn!(code = %e.code, message = %e.message, "secret rotation job failed");
            }
            release(&entry);
        });
    }
    Ok(())
}

/// Rotation index entries being worked on by this process.
fn in_flight() -> &'static std::sync::Mutex<std::collections::HashSet<String>> {
    static SET: std::sync::OnceLock<std::sync::Mutex<std::collections::HashSet<String>>> =
        std::sync::OnceLock::new();
    SET.get_or_init(Default::default)
}

fn claim(entry: &str) -> bool {
    in_flight()
        .lock()
        .map(|mut s| s.insert(entry.to_string()))
        .unwrap_or(false)
}

fn release(entry: &str) {
    if let Ok(mut s) = in_flight().lock() {
        s.remove(entry);
    }
}

/// Waits until this process has no rotation running (tests; a clean shutdown).
pub async fn idle() {
    while in_flight().lock().map(|s| !s.is_empty()).unwrap_or(false) {
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
}

async fn drop_entry(node: &Node, entry: &str) -> Result<(), AwsError> {
    let k = entry.to_string();
    node.store
        .write(move |tx| tx.delete(&k, Expect::Any).map_err(AwsError::from))
        .await?;
    Ok(())
}

async fn run_job(
    node: &Node,
    now: OffsetDateTime,
    account: &str,
    region: &str,
    name: &str,
    at: i64,
    entry: &str,
) -> Result<(), AwsError> {
    let ctx = service_ctx(node, account, region, now);
    let key = record::secret_key(account, region, name);
    let k = key.clone();
    let found: Option<(SecretRecord, u64)> =
        node.store.read(move |tx| records::get(tx, &k)).await?;
    let Some((rec, _)) = found else {
        return drop_entry(node, entry).await;
    };
    if rec.deleted.is_some()
        || !rec.rotation.enabled
        || rec.rotation.due_at != Some(at)
        || rec.is_replica()
    {
        return drop_entry(node, entry).await;
    }
    let token = match &rec.rotation.in_progress {
        Some(t) => t.clone(),
        None => {
            let t = versions::new_version_id()?;
            let tt = t.clone();
            modify(&ctx, &rec, move |current, _| {
                current.rotation.in_progress = Some(tt.clone());
                current.rotation.step = 0;
                // A pending label left by an earlier failed attempt does not block a new one.
                if let Some(old) = versions::holder(&current.versions, PENDING).map(str::to_string)
                {
                    versions::move_stage(&mut current.versions, PENDING, Some(&old), None)?;
                }
                Ok(())
            })
            .await?;
            t
        }
    };
    let webhook_url = rec
        .tags
        .iter()
        .find(|t| t.key == rotators::WEBHOOK_TAG)
        .map(|t| t.value.clone());
    let lambda = rec.rotation.lambda_arn.clone().unwrap_or_default();
    let rotator = match rotators::rotator_for(&lambda, webhook_url.as_deref()) {
        Ok(r) => r,
        Err(msg) => return finish_job(&ctx, &rec, now, Err((Step::Create, msg))).await,
    };
    let start = usize::from(rec.rotation.step);
    for (i, step) in Step::ALL.iter().enumerate().skip(start) {
        let fresh = reload(&ctx, &rec).await?;
        if let Err(msg) = run_step(&ctx, &fresh, &token, &rotator, *step).await {
            return finish_job(&ctx, &fresh, now, Err((*step, msg))).await;
        }
        let next = u8::try_from(i + 1).unwrap_or(4);
        modify(&ctx, &fresh, move |current, _| {
            current.rotation.step = next;
            Ok(())
        })
        .await?;
    }
    let fresh = reload(&ctx, &rec).await?;
    finish_job(&ctx, &fresh, now, Ok(())).await
}

async fn reload(ctx: &Ctx, rec: &SecretRecord) -> Result<SecretRecord, AwsError> {
    let (account, region) = record::account_region(&rec.arn);
    let key = record::secret_key(account, region, &rec.name);
    let found: Option<(SecretRecord, u64)> =
        ctx.store().read(move |tx| records::get(tx, &key)).await?;
    found.map(|(r, _)| r).ok_or_else(crate::error::not_found)
}

/// Records the outcome, schedules the next window and reports an AwsServiceEvent.
async fn finish_job(
    ctx: &Ctx,
    rec: &SecretRecord,
    now: OffsetDateTime,
    outcome: Result<(), (Step, String)>,
) -> Result<(), AwsError> {
    let next = rec
        .rotation
        .rules
        .as_ref()
        .and_then(|r| schedule::parse_rules(r).ok())
        .and_then(|s| schedule::next_after(&s, now));
    let (account, region) = record::account_region(&rec.arn);
    let (account, region) = (account.to_string(), region.to_string());
    let when = crate::ops::epoch(now);
    let failure = outcome
        .as_ref()
        .err()
        .map(|(step, msg)| json!({ "Step": step.name(), "Message": msg, "Time": when }));
    let ok = outcome.is_ok();
    let f = failure.clone();
    modify(ctx, rec, move |current, tx| {
        if let Some(at) = current.rotation.due_at {
            tx.delete(
                &rotate_key(at, &account, &region, &current.name),
                Expect::Any,
            )?;
        }
        current.rotation.in_progress = None;
        current.rotation.step = 0;
        if ok {
            current.rotation.last_rotated = Some(when);
            current.rotation.last_failure = None;
        } else {
            current.rotation.last_failure = f.clone();
        }
        current.rotation.due_at = next.map(|t| t.unix_timestamp());
        current.rotation.next_rotation = next.map(crate::ops::epoch);
        if let Some(at) = current.rotation.due_at {
            tx.put(
                &rotate_key(at, &account, &region, &current.name),
                b"{}",
                Expect::Any,
            )?;
        }
        Ok(())
    })
    .await?;
    let (account, region) = record::account_region(&rec.arn);
    ctx.node
        .service_events
        .emit(ServiceEvent {
            account: account.to_string(),
            region: region.to_string(),
            event_source: "secretsmanager.amazonaws.com".into(),
            event_name: if ok {
                "RotationSucceeded"
            } else {
                "RotationFailed"
            }
            .into(),
            time: now,
            details: failure,
            resources: vec![AuditResource {
                arn: rec.arn.clone(),
                resource_type: "AWS::SecretsManager::Secret".into(),
            }],
        })
        .await;
    Ok(())
}

fn new_password() -> Result<String, String> {
    generate(&PasswordSpec {
        exclude_characters: "\"'\\/@`".into(),
        ..PasswordSpec::default()
    })
    .map_err(|e| e.message)
}

/// The new value for createSecret: the `password` member of a JSON secret replaced, or a new
/// password as the whole value.
fn next_value(current: Option<&[u8]>, rotator: &Rotator) -> Result<Vec<u8>, String> {
    let password = new_password()?;
    let json: Option<serde_json::Value> = current.and_then(|c| serde_json::from_slice(c).ok());
    match json {
        Some(serde_json::Value::Object(mut m)) if m.contains_key("password") => {
            m.insert("password".into(), json!(password));
            serde_json::to_vec(&m).map_err(|_| "Cannot encode the new secret value.".to_string())
        }
        _ if *rotator == Rotator::Postgres => {
            Err("The secret value is not a JSON object with PostgreSQL credentials.".into())
        }
        _ => Ok(password.into_bytes()),
    }
}

fn msg(e: AwsError) -> String {
    format!("{}: {}", e.code, e.message)
}

async fn run_step(
    ctx: &Ctx,
    rec: &SecretRecord,
    token: &str,
    rotator: &Rotator,
    step: Step,
) -> Result<(), String> {
    match step {
        Step::Create => {
            if rec.versions.contains_key(token) {
                return Ok(());
            }
            let current = match versions::holder(&rec.versions, CURRENT) {
                Some(_) => Some(
                    read_secret_value(ctx, &rec.arn, None, Some(CURRENT))
                        .await
                        .map_err(msg)?,
                ),
                None => None,
            };
            let mut value = None;
            if let Rotator::Webhook(url) = rotator {
                let answer =
                    rotators::webhook(url, &rotators::webhook_body(step, &rec.arn, token, None))
                        .await?;
                value = answer
                    .get("SecretString")
                    .and_then(serde_json::Value::as_str)
                    .map(|s| s.as_bytes().to_vec());
            }
            let value = match value {
                Some(v) => v,
                None => next_value(current.as_ref().map(|c| c.value.as_slice()), rotator)?,
            };
            add_version(ctx, rec, token, &value, false, vec![PENDING.to_string()])
                .await
                .map(|_| ())
                .map_err(msg)
        }
        Step::Set | Step::Test => {
            let pending = read_secret_value(ctx, &rec.arn, Some(token), None)
                .await
                .map_err(msg)?;
            match rotator {
                Rotator::RandomPassword => Ok(()),
                Rotator::Postgres => {
                    let new = rotators::pg_credentials(&pending.value)?;
                    if step == Step::Set {
                        let cur = read_secret_value(ctx, &rec.arn, None, Some(CURRENT))
                            .await
                            .map_err(msg)?;
                        rotators::pg_set(&rotators::pg_credentials(&cur.value)?, &new).await
                    } else {
                        rotators::pg_test(&new).await
                    }
                }
                Rotator::Webhook(url) => {
                    let text = String::from_utf8_lossy(&pending.value).into_owned();
                    rotators::webhook(
                        url,
                        &rotators::webhook_body(step, &rec.arn, token, Some(&text)),
                    )
                    .await
                    .map(|_| ())
                }
            }
        }
        Step::Finish => {
            if let Rotator::Webhook(url) = rotator {
                rotators::webhook(url, &rotators::webhook_body(step, &rec.arn, token, None))
                    .await?;
            }
            let t = token.to_string();
            let changed = crate::ops::epoch(ctx.now());
            modify(ctx, rec, move |current, _| {
                if !current.versions.contains_key(&t) {
                    return Err(crate::error::version_not_found("VersionId", &t));
                }
                let holder = versions::holder(&current.versions, CURRENT).map(str::to_string);
                if holder.as_deref() != Some(t.as_str()) {
                    versions::move_stage(
                        &mut current.versions,
                        CURRENT,
                        holder.as_deref(),
                        Some(&t),
                    )?;
                }
                if versions::holder(&current.versions, PENDING) == Some(t.as_str()) {
                    versions::move_stage(&mut current.versions, PENDING, Some(&t), None)?;
                }
                current.last_changed = changed;
                Ok(())
            })
            .await
            .map_err(msg)?;
            crate::ops::replicas::sync_after_change(ctx, &rec.arn).await;
            Ok(())
        }
    }
}
