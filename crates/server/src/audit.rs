//! The audit hook: one CloudTrail event for every request — success, failure and
//! authentication failure — and for every background action (`AwsServiceEvent`). Events go
//! through a bounded queue to a writer task that commits them in groups: one durable store
//! transaction per batch holds the events (hash-chained, `rampart_cloudtrail::stored`), their
//! LookupEvents index entries and the chain head.
//!
//! A request waits until its event is committed, so an acknowledged request's event survives a
//! crash of the process. A full queue makes requests wait; no event is dropped silently.
//! `--audit-mode`:
//! - `best-effort` (default): events are committed with the store's relaxed durability (in the
//!   WAL and the operating system's hands: a killed process loses none; fsynced within 100 ms,
//!   so a power loss can lose the last 100 ms). If the store refuses a batch, requests proceed
//!   (loudly logged) and the writer keeps retrying the batch until it is stored.
//! - `fail-closed`: a request waits for its event's fsync and fails with HTTP 500 if the event
//!   cannot be made durable (write failure, or not durable within [`FAIL_CLOSED_WAIT`]) — the
//!   Vault convention for regulated users. Its state change, if any, has already happened; the
//!   event is still retried.
//! - `off`: no audit at all. A benchmarking aid to measure the audit's cost; never for use.
use std::sync::Arc;
use std::time::Duration;

use rampart_aws_types::{AwsError, ids};
use rampart_cloudtrail::index;
use rampart_cloudtrail::record::{self, ApiCall, Caller, SessionFacts, TlsDetails};
use rampart_cloudtrail::stored::{self, HEAD_KEY, Head};
use rampart_services::{AuditResource, Principal, ServiceEvent, ServiceEventSink};
use rampart_store::{Expect, Store, StoreError};
use serde_json::Value;
use time::OffsetDateTime;
use tokio::sync::{mpsc, oneshot};

use crate::config::AuditMode;
use crate::protocol::{self, Target};

/// Queue depth before requests start to wait for the writer.
const QUEUE_CAPACITY: usize = 16_384;
/// Most events committed in one transaction.
const MAX_BATCH: usize = 2_048;
/// How long a fail-closed request waits for its event to become durable.
pub const FAIL_CLOSED_WAIT: Duration = Duration::from_secs(10);

/// One queued event and, when someone waits for it, where to say it is durable (or not).
struct Queued {
    event: Value,
    ack: Option<oneshot::Sender<bool>>,
}

#[derive(Clone)]
pub struct AuditSink {
    tx: mpsc::Sender<Queued>,
    mode: AuditMode,
}

impl AuditSink {
    /// Queues one event and waits until it is committed (or, in best-effort mode, until the
    /// writer has tried). `Err` only in fail-closed mode: the request must fail.
    pub async fn record(&self, event: Value) -> Result<(), AwsError> {
        if self.mode == AuditMode::Off {
            return Ok(());
        }
        let (ack, durable) = oneshot::channel();
        let queued = Queued {
            event,
            ack: Some(ack),
        };
        if self.tx.send(queued).await.is_err() {
            tracing::error!("audit writer has stopped; an event could not be queued");
            return self.failed();
        }
        let ok = match self.mode {
            AuditMode::FailClosed => matches!(
                tokio::time::timeout(FAIL_CLOSED_WAIT, durable).await,
                Ok(Ok(true))
            ),
            _ => matches!(durable.await, Ok(true)),
        };
        if ok { Ok(()) } else { self.failed() }
    }

    fn failed(&self) -> Result<(), AwsError> {
        match self.mode {
            AuditMode::FailClosed => Err(AwsError::internal(
                "The request could not be audited durably and was refused (--audit-mode fail-closed).",
            )),
            _ => Ok(()),
        }
    }
}

/// Background jobs' events take the same path as requests' events.
impl ServiceEventSink for AuditSink {
    fn emit(&self, event: ServiceEvent) -> rampart_services::service_events::EmitFuture<'_> {
        Box::pin(async move {
            let id = ids::request_id().unwrap_or_default();
            let _ = self.record(record::service_event(&event, &id)).await;
        })
    }
}

/// Starts the writer. Events without an account (authentication failures with an unknown key)
/// are indexed under `default_account`. The returned handle finishes once every sink clone is
/// dropped and the queue is drained to the store.
pub fn start(
    store: Store,
    default_account: String,
    mode: AuditMode,
) -> (AuditSink, tokio::task::JoinHandle<()>) {
    let (tx, rx) = mpsc::channel(QUEUE_CAPACITY);
    let handle = tokio::spawn(writer(store, Arc::new(default_account), rx, mode));
    (AuditSink { tx, mode }, handle)
}

async fn writer(
    store: Store,
    default_account: Arc<String>,
    mut rx: mpsc::Receiver<Queued>,
    mode: AuditMode,
) {
    let mut head = load_head(&store).await;
    let mut batch: Vec<Queued> = Vec::with_capacity(MAX_BATCH);
    while rx.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let mut events: Vec<Value> = batch.iter_mut().map(|q| q.event.take()).collect();
        let mut acks: Vec<oneshot::Sender<bool>> = batch.drain(..).filter_map(|q| q.ack).collect();
        // The event id carries the sequence number (LookupEvents by EventId reads it directly).
        for (i, event) in events.iter_mut().enumerate() {
            let seq = head.seq + 1 + i as u64;
            let random = ids::random_bytes::<10>().unwrap_or([0; 10]);
            if let Some(map) = event.as_object_mut() {
                map.insert("eventID".into(), index::event_id(seq, random).into());
            }
        }
        let records = stored::chain(&mut head, &events);
        let pairs: Vec<(u64, &Value)> = records.iter().map(|r| r.0).zip(events.iter()).collect();
        let rows = index::batch_rows(&pairs, &default_account);
        // Event records must be new (a second writer on the same chain is a bug, not a
        // reason to overwrite); index rows are this batch's own.
        let writes: Arc<Vec<(String, Vec<u8>, Expect)>> = Arc::new(
            records
                .into_iter()
                .map(|(_, key, bytes)| (key, bytes, Expect::Absent))
                .chain(rows.into_iter().map(|(k, v)| (k, v, Expect::Any)))
                .collect(),
        );
        let head_json = serde_json::to_vec(&head).unwrap_or_default();
        let mut delay = Duration::from_millis(10);
        loop {
            let attempt = writes.clone();
            let head_json = head_json.clone();
            let job = move |tx: &mut dyn rampart_store::Txn| {
                for (key, value, expect) in attempt.iter() {
                    tx.put(key, value, *expect)?;
                }
                tx.put(HEAD_KEY, &head_json, Expect::Any)?;
                Ok::<_, StoreError>(())
            };
            // Best effort acknowledges an event once committed and in the operating system's
            // hands (a killed process loses none; stable storage follows within 100 ms, without
            // a request waiting on an fsync); fail-closed waits for the fsync itself.
            let result = if mode == AuditMode::FailClosed {
                store.write(job).await
            } else {
                store.write_relaxed(job).await
            };
            match result {
                Ok(()) => {
                    for ack in acks.drain(..) {
                        let _ = ack.send(true);
                    }
                    break;
                }
                Err(e) => {
                    // Tell the waiting requests (fail-closed ones fail), keep the events and
                    // retry: later requests back up behind a full queue rather than lose records.
                    tracing::error!(error = %e, events = events.len(), "audit batch could not be written; retrying");
                    for ack in acks.drain(..) {
                        let _ = ack.send(false);
                    }
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(Duration::from_secs(5));
                }
            }
        }
    }
}

async fn load_head(store: &Store) -> Head {
    let result = store.read(|tx| tx.get(HEAD_KEY)).await;
    match result {
        Ok(Some(record)) => serde_json::from_slice(&record.value).unwrap_or_default(),
        Ok(None) => Head::default(),
        Err(e) => {
            tracing::error!(error = %e, "cannot read the audit head; starting a new chain");
            Head::default()
        }
    }
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
    /// The account owning the claimed access key, when the key exists (a failed signature with
    /// a real key is recorded in its owner's account).
    pub key_account: Option<String>,
    pub input: Option<Value>,
    pub output: Option<Value>,
    /// Resources the handler reported (`Ctx::record_resource`).
    pub resources: Vec<AuditResource>,
    /// Session facts for temporary credentials.
    pub session: SessionFacts,
    /// Set when the request came over TLS.
    pub tls: Option<TlsDetails>,
}

/// Operations CloudTrail marks `readOnly`: those that only read state.
pub fn is_read_only(operation: &str) -> bool {
    const READ_PREFIXES: [&str; 8] = [
        "Get", "List", "Describe", "Lookup", "Search", "Simulate", "Validate", "Decrypt",
    ];
    READ_PREFIXES.iter().any(|p| operation.starts_with(p))
        || operation == "Verify"
        || operation == "VerifyMac"
}

/// The CloudTrail record for this request. Inputs and outputs are redacted from the model; the
/// error code is the one the wire sent (`AccessDeniedException` for JSON services).
pub fn event(trace: &Trace, error: Option<&AwsError>) -> Value {
    let (source, name) = match &trace.target {
        Some(t) => (
            format!("{}.amazonaws.com", t.event_source_prefix()),
            t.operation.clone(),
        ),
        None => ("unknown".to_string(), "Unknown".to_string()),
    };
    let redact = |value: &Option<Value>, output: bool| -> Value {
        match (value, &trace.target) {
            (Some(v), Some(t)) => protocol::redact(t, v, output),
            _ => Value::Null,
        }
    };
    let code = error.map(|e| match &trace.target {
        Some(t) => rampart_wire::wire_code(t.service.protocol, &e.code).to_string(),
        None => e.code.to_string(),
    });
    let caller = match &trace.principal {
        Some(p) => Caller::Principal {
            principal: p,
            session: &trace.session,
        },
        None => Caller::Unknown {
            access_key_id: trace.claimed_access_key.as_deref(),
        },
    };
    let recipient = trace
        .principal
        .as_ref()
        .map(|p| p.account.as_str())
        .or(trace.key_account.as_deref());
    // The writer assigns the real id (it carries the sequence number).
    let event_id = "";
    record::api_call_event(&ApiCall {
        time: trace.now,
        event_source: &source,
        event_name: &name,
        region: &trace.region,
        source_ip: &trace.source_ip,
        user_agent: &trace.user_agent,
        caller,
        request_parameters: redact(&trace.input, false),
        response_elements: redact(&trace.output, true),
        error: match (&code, error) {
            (Some(c), Some(e)) => Some((c.as_str(), e.message.as_str())),
            _ => None,
        },
        request_id: &trace.request_id,
        event_id,
        read_only: is_read_only(&name),
        resources: &trace.resources,
        recipient_account: recipient,
        tls: trace.tls.as_ref(),
    })
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

    fn queued_events(store: &Store) -> Vec<(String, Vec<u8>)> {
        store
            .read_blocking(|tx| {
                Ok::<_, StoreError>(
                    tx.scan("", None, 10_000)?
                        .into_iter()
                        .map(|(k, r)| (k, r.value))
                        .collect(),
                )
            })
            .unwrap()
    }

    #[tokio::test]
    async fn events_are_durable_and_indexed_when_record_returns() {
        let store = Store::open_in_memory().unwrap();
        let (sink, writer) = start(store.clone(), "999999999999".into(), AuditMode::BestEffort);
        let e = serde_json::json!({"eventName": "X", "eventID": "e1", "awsRegion": "us-east-1",
            "eventTime": "2024-01-01T00:00:00Z", "recipientAccountId": "123456789012"});
        sink.record(e).await.unwrap();
        let keys: Vec<String> = queued_events(&store).into_iter().map(|(k, _)| k).collect();
        assert!(keys.contains(&stored::event_key(1)));
        assert!(
            keys.iter()
                .any(|k| k.starts_with("123456789012/us-east-1/cloudtrail/ev/EventName/X/"))
        );
        assert!(
            keys.iter()
                .any(|k| k.starts_with("123456789012/us-east-1/cloudtrail/ev/_all/"))
        );
        assert!(keys.iter().any(|k| k.starts_with(index::BATCH_PREFIX)));
        // The writer gave the event an id that carries its sequence number.
        let stored: rampart_cloudtrail::stored::StoredEvent = serde_json::from_slice(
            &queued_events(&store)
                .into_iter()
                .find(|(k, _)| *k == stored::event_key(1))
                .unwrap()
                .1,
        )
        .unwrap();
        let id = stored.event["eventID"].as_str().unwrap();
        assert_eq!(index::seq_of_event_id(id), Some(1));
        drop(sink);
        writer.await.unwrap();
    }

    #[tokio::test]
    async fn fail_closed_refuses_when_the_event_cannot_be_stored() {
        let store = Store::open_in_memory().unwrap();
        let (strict, w1) = start(store.clone(), "999999999999".into(), AuditMode::FailClosed);
        let (lenient, w2) = start(store.clone(), "999999999999".into(), AuditMode::BestEffort);
        strict
            .record(serde_json::json!({"eventName": "Before"}))
            .await
            .unwrap();
        store.close().unwrap();
        let err = strict
            .record(serde_json::json!({"eventName": "X"}))
            .await
            .unwrap_err();
        assert_eq!(err.status, 500);
        // Best effort: the request goes on; the writer keeps the event and retries.
        lenient
            .record(serde_json::json!({"eventName": "Y"}))
            .await
            .unwrap();
        w1.abort();
        w2.abort();
    }

    #[tokio::test]
    async fn background_jobs_record_aws_service_events() {
        let store = Store::open_in_memory().unwrap();
        let (sink, writer) = start(store.clone(), "999999999999".into(), AuditMode::BestEffort);
        let node_sink: std::sync::Arc<dyn ServiceEventSink> = std::sync::Arc::new(sink.clone());
        node_sink
            .emit(ServiceEvent {
                account: "123456789012".into(),
                region: "eu-west-1".into(),
                event_source: "kms.amazonaws.com".into(),
                event_name: "DeleteKey".into(),
                time: OffsetDateTime::UNIX_EPOCH,
                details: None,
                resources: vec![AuditResource {
                    arn: "arn:aws:kms:eu-west-1:123456789012:key/k".into(),
                    resource_type: "AWS::KMS::Key".into(),
                }],
            })
            .await;
        drop(node_sink);
        drop(sink);
        writer.await.unwrap();
        let (_, bytes) = queued_events(&store)
            .into_iter()
            .find(|(k, _)| *k == stored::event_key(1))
            .unwrap();
        let e: rampart_cloudtrail::stored::StoredEvent = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(e.event["eventType"], "AwsServiceEvent");
        assert_eq!(e.event["userIdentity"]["invokedBy"], "kms.amazonaws.com");
        assert_eq!(e.event["resources"][0]["type"], "AWS::KMS::Key");
        assert_eq!(
            index::seq_of_event_id(e.event["eventID"].as_str().unwrap()),
            Some(1)
        );
    }

    #[tokio::test]
    async fn off_mode_records_nothing() {
        let store = Store::open_in_memory().unwrap();
        let (sink, writer) = start(store.clone(), "999999999999".into(), AuditMode::Off);
        sink.record(serde_json::json!({"eventName": "X"}))
            .await
            .unwrap();
        drop(sink);
        writer.await.unwrap();
        assert!(queued_events(&store).is_empty());
    }
}
