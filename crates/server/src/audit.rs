//! The audit hook: one CloudTrail-shaped event for every request — success, failure and
//! authentication failure. Events go through a bounded queue to a writer task that commits them
//! in groups (one durable store transaction per batch). A full queue makes requests wait; no
//! event is dropped silently. Stored events are hash-chained (each record carries the SHA-256 of
//! the previous one), the base CloudTrail's digests build on.
use std::time::Duration;

use aws_lc_rs::digest;
use rampart_aws_types::{AwsError, ids};
use rampart_services::Principal;
use rampart_store::{Expect, Store, StoreError};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use time::OffsetDateTime;

use crate::protocol::{self, Target};
use tokio::sync::mpsc;

/// Queue depth before requests start to wait for the writer.
const QUEUE_CAPACITY: usize = 16_384;
/// Most events committed in one transaction.
const MAX_BATCH: usize = 2_048;

pub const HEAD_KEY: &str = "sys/audit-head";
pub fn event_key(seq: u64) -> String {
    format!("sys/audit/{seq:020}")
}

/// One stored audit record.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StoredEvent {
    pub seq: u64,
    /// Hex SHA-256 of the previous record's `hash` and this event's bytes.
    pub hash: String,
    pub prev_hash: String,
    pub event: Value,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct Head {
    seq: u64,
    hash: String,
}

#[derive(Clone)]
pub struct AuditSink {
    tx: mpsc::Sender<Value>,
}

impl AuditSink {
    /// Queues one event; waits while the queue is full.
    pub async fn record(&self, event: Value) {
        if self.tx.send(event).await.is_err() {
            tracing::error!("audit writer has stopped; an event could not be queued");
        }
    }
}

/// Starts the writer. The returned handle finishes once every sink clone is dropped and the
/// queue is drained to the store.
pub fn start(store: Store) -> (AuditSink, tokio::task::JoinHandle<()>) {
    let (tx, rx) = mpsc::channel(QUEUE_CAPACITY);
    let handle = tokio::spawn(writer(store, rx));
    (AuditSink { tx }, handle)
}

async fn writer(store: Store, mut rx: mpsc::Receiver<Value>) {
    let mut head = load_head(&store).await;
    let mut batch: Vec<Value> = Vec::with_capacity(MAX_BATCH);
    while rx.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let records = chain(&mut head, &batch);
        let head_json = serde_json::to_vec(&head).unwrap_or_default();
        let mut delay = Duration::from_millis(10);
        loop {
            let attempt = records.clone();
            let head_json = head_json.clone();
            let result = store
                .write(move |tx| {
                    for (key, value) in &attempt {
                        tx.put(key, value, Expect::Absent)?;
                    }
                    tx.put(HEAD_KEY, &head_json, Expect::Any)?;
                    Ok::<_, StoreError>(())
                })
                .await;
            match result {
                Ok(()) => break,
                Err(e) => {
                    // Keep the events and retry: requests back up behind a full queue rather
                    // than lose their records.
                    tracing::error!(error = %e, events = records.len(), "audit batch could not be written; retrying");
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(Duration::from_secs(5));
                }
            }
        }
        batch.clear();
    }
}

async fn load_head(store: &Store) -> Head {
    let result = store
        .read(|tx| Ok::<_, StoreError>(tx.get(HEAD_KEY)?))
        .await;
    match result {
        Ok(Some(record)) => serde_json::from_slice(&record.value).unwrap_or_default(),
        Ok(None) => Head::default(),
        Err(e) => {
            tracing::error!(error = %e, "cannot read the audit head; starting a new chain");
            Head::default()
        }
    }
}

/// Assigns sequence numbers and hashes, advancing `head`.
fn chain(head: &mut Head, events: &[Value]) -> Vec<(String, Vec<u8>)> {
    events
        .iter()
        .map(|event| {
            let bytes = serde_json::to_vec(event).unwrap_or_default();
            let mut ctx = digest::Context::new(&digest::SHA256);
            ctx.update(head.hash.as_bytes());
            ctx.update(&bytes);
            let hash = hex::encode(ctx.finish());
            head.seq += 1;
            let record = StoredEvent {
                seq: head.seq,
                hash: hash.clone(),
                prev_hash: std::mem::replace(&mut head.hash, hash),
                event: event.clone(),
            };
            (
                event_key(head.seq),
                serde_json::to_vec(&record).unwrap_or_default(),
            )
        })
        .collect()
}

/// What the audit record needs to know about a request, filled in as the pipeline goes.
pub struct Trace {
    pub now: OffsetDateTime,
    pub request_id: String,
    pub source_ip: String,
    pub user_agent: String,
    pub region: String,
    pub target: Option<Target>,
    /// Set once the caller is authenticated.
    pub principal: Option<Principal>,
    /// Access key named by a request that failed authentication.
    pub claimed_access_key: Option<String>,
    pub input: Option<Value>,
    pub output: Option<Value>,
}

/// Operations CloudTrail marks `readOnly`: those that only read state.
fn is_read_only(operation: &str) -> bool {
    const READ_PREFIXES: [&str; 8] = [
        "Get", "List", "Describe", "Lookup", "Search", "Simulate", "Validate", "Decrypt",
    ];
    READ_PREFIXES.iter().any(|p| operation.starts_with(p))
        || operation == "Verify"
        || operation == "VerifyMac"
}

/// The CloudTrail record for this request. Inputs and outputs are redacted from the model.
pub fn event(trace: &Trace, error: Option<&AwsError>) -> Value {
    let event_time = trace
        .now
        .replace_nanosecond(0)
        .unwrap_or(trace.now)
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    let (source, name) = match &trace.target {
        Some(t) => (
            format!("{}.amazonaws.com", t.event_source_prefix()),
            t.operation.clone(),
        ),
        None => ("unknown".to_string(), "Unknown".to_string()),
    };
    let identity = match &trace.principal {
        Some(p) => json!({
            "type": p.identity_type(),
            "principalId": p.user_id,
            "arn": p.arn,
            "accountId": p.account,
            "accessKeyId": p.access_key_id,
        }),
        None => json!({ "type": "Unknown", "accessKeyId": trace.claimed_access_key }),
    };
    let recipient = trace.principal.as_ref().map(|p| p.account.clone());
    let redact = |value: &Option<Value>, output: bool| -> Value {
        match (value, &trace.target) {
            (Some(v), Some(t)) => protocol::redact(t, v, output),
            _ => Value::Null,
        }
    };
    let mut event = json!({
        "eventVersion": "1.09",
        "userIdentity": identity,
        "eventTime": event_time,
        "eventSource": source,
        "eventName": name,
        "awsRegion": trace.region,
        "sourceIPAddress": trace.source_ip,
        "userAgent": trace.user_agent,
        "requestParameters": redact(&trace.input, false),
        "responseElements": redact(&trace.output, true),
        "requestID": trace.request_id,
        "eventID": ids::request_id().unwrap_or_default(),
        "readOnly": is_read_only(&name),
        "eventType": "AwsApiCall",
        "managementEvent": true,
        "eventCategory": "Management",
        "recipientAccountId": recipient,
    });
    if let (Some(e), Some(map)) = (error, event.as_object_mut()) {
        map.insert("errorCode".into(), Value::String(e.code.to_string()));
        map.insert("errorMessage".into(), Value::String(e.message.clone()));
    }
    event
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_only_classification() {
        assert!(is_read_only("GetCallerIdentity"));
        assert!(is_read_only("ListUsers"));
        assert!(!is_read_only("CreateUser"));
        assert!(!is_read_only("PutSecretValue"));
    }

    #[test]
    fn chain_links_each_record_to_the_previous() {
        let mut head = Head::default();
        let recs = chain(
            &mut head,
            &[serde_json::json!({"a": 1}), serde_json::json!({"b": 2})],
        );
        let a: StoredEvent = serde_json::from_slice(&recs[0].1).unwrap();
        let b: StoredEvent = serde_json::from_slice(&recs[1].1).unwrap();
        assert_eq!(a.seq, 1);
        assert_eq!(b.seq, 2);
        assert_eq!(b.prev_hash, a.hash);
        assert_eq!(head.hash, b.hash);
        assert!(recs[0].0 < recs[1].0);
    }
}
