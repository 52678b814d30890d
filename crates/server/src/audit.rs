//! The audit hook: one CloudTrail event for every request — success, failure and
//! authentication failure — and for every background action (`AwsServiceEvent`).
//!
//! The path of an event:
//! 1. The request's thread builds the event, serializes it and takes what the index needs
//!    (`index::EventMeta`), then queues it (a bounded queue: when full, requests wait).
//! 2. The journal writer thread gives each queued event its sequence number, id and chain hash
//!    and appends the whole batch to the audit journal (`rampart_cloudtrail::journal`) with one
//!    `write`, then answers the waiting requests. A killed process loses no acknowledged event.
//! 3. The indexer task moves events from memory into the store in large batches (chunks of
//!    record lines, LookupEvents posting lists and the chain head in one durable transaction,
//!    every [`INDEX_INTERVAL`] or [`INDEX_EVENTS`] events), after which their journal segments
//!    are deleted. Readers that must see every acknowledged event (LookupEvents, Lake queries,
//!    StartLogging/StopLogging) ask for a flush first ([`AuditSink::flush`]).
//! 4. At start-up, events the journal holds beyond the store's head are indexed before the
//!    server answers (a crash between 2 and 3 loses nothing).
//!
//! Per event this costs one serialization, one SHA-256 and a share of one `write` on the request
//! path, instead of a store transaction per request group (which halved throughput).
//!
//! `--audit-mode`:
//! - `best-effort` (default): a request is answered once its event is in the journal (in the
//!   operating system's hands; the journal is fsynced within [`SYNC_INTERVAL`], so a power loss
//!   can lose the last 100 ms). If the journal cannot be written, requests proceed (loudly
//!   logged) and the writer keeps retrying the batch; later events wait behind it.
//! - `fail-closed`: a request waits for its event's fsync and fails with HTTP 500 if the event
//!   cannot be made durable (write failure, or not durable within [`FAIL_CLOSED_WAIT`]) — the
//!   Vault convention for regulated users. Its state change, if any, has already happened; the
//!   event is still retried.
//! - `off`: no audit at all. A benchmarking aid to measure the audit's cost; never for use.
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use rampart_aws_types::{AwsError, ids};
use rampart_cloudtrail::index::{self, EventMeta};
use rampart_cloudtrail::journal::{self, Journal};
use rampart_cloudtrail::record::{self, ApiCall, Caller, SessionFacts, TlsDetails};
use rampart_cloudtrail::stored::{self, HEAD_KEY, Head};
use rampart_services::{AuditResource, Principal, ServiceEvent, ServiceEventSink};
use rampart_store::{Expect, Store, StoreError};
use serde_json::Value;
use time::OffsetDateTime;
use tokio::sync::{mpsc, oneshot};

use crate::config::AuditMode;
use crate::protocol::{self, Target};

/// The journal's directory inside the data directory.
pub const JOURNAL_DIR: &str = "audit-journal";
/// Queue depth before requests start to wait for the journal writer.
const QUEUE_CAPACITY: usize = 16_384;
/// Most events appended to the journal in one write.
const MAX_BATCH: usize = 4_096;
/// Journal batches the indexer may fall behind by before the writer (and so requests) wait.
const INDEX_QUEUE: usize = 1_024;
/// How long events may wait in memory before the indexer stores them.
pub const INDEX_INTERVAL: Duration = Duration::from_millis(100);
/// The indexer stores a batch sooner once this many events wait.
pub const INDEX_EVENTS: usize = 16_384;
/// Best effort: the journal is fsynced at least this often while events arrive.
pub const SYNC_INTERVAL: Duration = Duration::from_millis(100);
/// How long a fail-closed request waits for its event to become durable.
pub const FAIL_CLOSED_WAIT: Duration = Duration::from_secs(10);
/// Events indexed per store transaction during recovery.
const RECOVERY_BATCH: usize = 8_192;

/// One queued event: its JSON without `eventID` (the writer adds it), its index metadata and,
/// when someone waits for it, where to say it is in the journal (or not).
struct Queued {
    bytes: Vec<u8>,
    meta: EventMeta,
    ack: Option<oneshot::Sender<bool>>,
}

/// Events the writer appended to the journal, on their way to the store.
struct Batch {
    /// The record lines, back to back.
    lines: Vec<u8>,
    /// Each event's sequence number, line and index metadata.
    entries: Vec<(u64, Range<usize>, EventMeta)>,
    /// The chain head after this batch.
    head: Head,
}

#[derive(Clone)]
pub struct AuditSink {
    tx: Option<mpsc::Sender<Queued>>,
    flush: Option<mpsc::UnboundedSender<oneshot::Sender<()>>>,
    mode: AuditMode,
    default_account: Arc<str>,
}

impl AuditSink {
    /// Queues one event and waits until it is in the journal (fail-closed: fsynced). `Err` only
    /// in fail-closed mode: the request must fail.
    pub async fn record(&self, event: Value) -> Result<(), AwsError> {
        let Some(tx) = &self.tx else {
            return Ok(());
        };
        let meta = EventMeta::of(&event, &self.default_account);
        let bytes = serde_json::to_vec(&event).unwrap_or_default();
        let (ack, durable) = oneshot::channel();
        let queued = Queued {
            bytes,
            meta,
            ack: Some(ack),
        };
        if tx.send(queued).await.is_err() {
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

    /// Waits until every event acknowledged so far is in the store (readable by LookupEvents).
    pub async fn flush(&self) {
        let Some(flush) = &self.flush else {
            return;
        };
        let (done, wait) = oneshot::channel();
        if flush.send(done).is_ok() {
            let _ = wait.await;
        }
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
            let _ = self.record(record::service_event(&event, "")).await;
        })
    }

    fn flush(&self) -> rampart_services::service_events::EmitFuture<'_> {
        Box::pin(AuditSink::flush(self))
    }
}

/// Recovers what the journal in `journal_dir` holds beyond the store's head, then starts the
/// writer and the indexer. Events without an account (authentication failures with an unknown
/// key) are indexed under `default_account`. The returned handle finishes once every sink
/// clone is dropped and every event is in the store.
pub async fn start(
    store: Store,
    journal_dir: PathBuf,
    default_account: String,
    mode: AuditMode,
) -> Result<(AuditSink, tokio::task::JoinHandle<()>), String> {
    let default_account: Arc<str> = default_account.into();
    if mode == AuditMode::Off {
        let sink = AuditSink {
            tx: None,
            flush: None,
            mode,
            default_account,
        };
        return Ok((sink, tokio::spawn(async {})));
    }
    let head = recover(&store, &journal_dir, &default_account).await?;
    let journal = Journal::create(&journal_dir, head.seq + 1)
        .map_err(|e| format!("audit journal {}: {e}", journal_dir.display()))?;
    let (tx, rx) = mpsc::channel(QUEUE_CAPACITY);
    let (flush_tx, flush_rx) = mpsc::unbounded_channel();
    let (batch_tx, batch_rx) = mpsc::channel(INDEX_QUEUE);
    let sync = Syncer::start(&journal);
    std::thread::Builder::new()
        .name("audit-journal".into())
        .spawn(move || write_journal(rx, journal, head, mode, batch_tx, sync))
        .map_err(|e| format!("audit writer thread: {e}"))?;
    let handle = tokio::spawn(index_events(store, journal_dir, batch_rx, flush_rx));
    let sink = AuditSink {
        tx: Some(tx),
        flush: Some(flush_tx),
        mode,
        default_account,
    };
    Ok((sink, handle))
}

/// Indexes the journal's events beyond the store's head; returns the head to continue from.
/// Every journal segment is then durably in the store and deleted.
pub(crate) async fn recover(
    store: &Store,
    dir: &Path,
    default_account: &str,
) -> Result<Head, String> {
    let mut head = load_head(store).await?;
    let mut recovered = 0usize;
    loop {
        let found = journal::recover(dir, &head, RECOVERY_BATCH)
            .map_err(|e| format!("audit journal {}: {e}", dir.display()))?;
        if found.truncated_bytes > 0 {
            tracing::warn!(
                bytes = found.truncated_bytes,
                "audit journal: cut off a torn write (an event whose request was never answered)"
            );
        }
        if let Some(broken) = &found.broken_at {
            // Never silently: the damaged journal is kept aside for inspection.
            let aside = dir.with_extension(format!(
                "damaged-{}",
                OffsetDateTime::now_utc().unix_timestamp()
            ));
            tracing::error!(at = %broken, kept = %aside.display(), "audit journal is damaged; events after this point are not in the trail");
            if found.events.is_empty() {
                std::fs::rename(dir, &aside).map_err(|e| format!("audit journal: {e}"))?;
                break;
            }
        }
        if found.events.is_empty() {
            break;
        }
        let mut lines = Vec::new();
        let mut entries = Vec::new();
        for (record, line) in &found.events {
            let at = lines.len();
            lines.extend_from_slice(line);
            entries.push((
                record.seq,
                at..lines.len(),
                EventMeta::of(&record.event, default_account),
            ));
        }
        let last = &found.events[found.events.len() - 1].0;
        let batch = Batch {
            lines,
            entries,
            head: Head {
                seq: last.seq,
                hash: last.hash.clone(),
            },
        };
        recovered += batch.entries.len();
        head = batch.head.clone();
        store_batches(store, &[batch])
            .await
            .map_err(|e| format!("audit recovery: {e}"))?;
        if found.broken_at.is_some() {
            continue;
        }
    }
    if recovered > 0 {
        tracing::warn!(
            events = recovered,
            "audit: recovered events from the journal into the trail"
        );
    }
    // Everything in the journal is now in the store.
    if dir.exists() {
        for (_, path) in journal::segments(dir).map_err(|e| format!("audit journal: {e}"))? {
            std::fs::remove_file(&path).map_err(|e| format!("audit journal: {e}"))?;
        }
    }
    Ok(head)
}

async fn load_head(store: &Store) -> Result<Head, String> {
    match store.read(|tx| tx.get(HEAD_KEY)).await {
        Ok(Some(record)) => serde_json::from_slice(&record.value)
            .map_err(|e| format!("audit head is unreadable: {e}")),
        Ok(None) => Ok(Head::default()),
        Err(e) => Err(format!("cannot read the audit head: {e}")),
    }
}

/// Fsyncs the journal in the background (best effort) so the writer never waits on the disk.
struct Syncer {
    file: Arc<std::sync::Mutex<Option<std::fs::File>>>,
    dirty: Arc<AtomicBool>,
    stop: Arc<AtomicBool>,
}

impl Syncer {
    fn start(journal: &Journal) -> Syncer {
        let syncer = Syncer {
            file: Arc::new(std::sync::Mutex::new(journal.sync_handle().ok())),
            dirty: Arc::new(AtomicBool::new(false)),
            stop: Arc::new(AtomicBool::new(false)),
        };
        let (file, dirty, stop) = (
            syncer.file.clone(),
            syncer.dirty.clone(),
            syncer.stop.clone(),
        );
        let spawned = std::thread::Builder::new()
            .name("audit-sync".into())
            .spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    std::thread::sleep(SYNC_INTERVAL);
                    if dirty.swap(false, Ordering::AcqRel) {
                        let handle = file.lock().ok().and_then(|f| f.as_ref()?.try_clone().ok());
                        if let Some(Err(e)) = handle.map(|f| f.sync_data()) {
                            tracing::error!(error = %e, "audit journal fsync failed");
                            dirty.store(true, Ordering::Release);
                        }
                    }
                }
            });
        if let Err(e) = spawned {
            tracing::error!(error = %e, "audit sync thread could not start; the journal is synced by the store's indexing only");
        }
        syncer
    }

    fn replace(&self, journal: &Journal) {
        if let Ok(mut f) = self.file.lock() {
            *f = journal.sync_handle().ok();
        }
    }
}

impl Drop for Syncer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// The journal writer thread: numbers, chains and appends batches of events, then answers the
/// requests and hands the batch to the indexer.
fn write_journal(
    mut rx: mpsc::Receiver<Queued>,
    mut journal: Journal,
    mut head: Head,
    mode: AuditMode,
    indexer: mpsc::Sender<Batch>,
    sync: Syncer,
) {
    let mut queued: Vec<Queued> = Vec::with_capacity(MAX_BATCH);
    while let Some(first) = rx.blocking_recv() {
        queued.push(first);
        while queued.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(q) => queued.push(q),
                Err(_) => break,
            }
        }
        let mut lines = Vec::with_capacity(queued.iter().map(|q| q.bytes.len() + 240).sum());
        let mut entries = Vec::with_capacity(queued.len());
        let mut acks = Vec::with_capacity(queued.len());
        for q in queued.drain(..) {
            let random = ids::random_bytes::<10>().unwrap_or([0; 10]);
            let event = with_event_id(&q.bytes, &index::event_id(head.seq + 1, random));
            let at = lines.len();
            let seq = stored::append_line(&mut head, &event, &mut lines);
            entries.push((seq, at..lines.len(), q.meta));
            acks.extend(q.ack);
        }
        let mut delay = Duration::from_millis(10);
        loop {
            let written = journal.append(&lines).and_then(|()| {
                if mode == AuditMode::FailClosed {
                    journal.sync()
                } else {
                    Ok(())
                }
            });
            match written {
                Ok(()) => break,
                Err(e) => {
                    // Tell the waiting requests (fail-closed ones fail) and keep retrying: later
                    // requests back up behind a full queue rather than lose records. A partly
                    // written batch was cut off again by `append`.
                    tracing::error!(error = %e, events = entries.len(), "audit journal write failed; retrying");
                    for ack in acks.drain(..) {
                        let _ = ack.send(false);
                    }
                    std::thread::sleep(delay);
                    delay = (delay * 2).min(Duration::from_secs(5));
                }
            }
        }
        sync.dirty.store(true, Ordering::Release);
        let batch = Batch {
            lines,
            entries,
            head: head.clone(),
        };
        // Into the indexer's queue before anyone is answered: a flush after an answer sees it.
        if indexer.blocking_send(batch).is_err() {
            tracing::error!("audit indexer has stopped; events stay in the journal until restart");
        }
        for ack in acks {
            let _ = ack.send(true);
        }
        match journal.rotate_if_full(head.seq + 1) {
            Ok(true) => sync.replace(&journal),
            Ok(false) => {}
            Err(e) => tracing::error!(error = %e, "audit journal: cannot start a new segment"),
        }
    }
    if let Err(e) = journal.sync() {
        tracing::error!(error = %e, "audit journal: final fsync failed");
    }
}

/// The event JSON with `"eventID"` as its first member (`bytes` is an object without one).
fn with_event_id(bytes: &[u8], id: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len() + id.len() + 14);
    out.extend_from_slice(b"{\"eventID\":\"");
    out.extend_from_slice(id.as_bytes());
    out.push(b'"');
    match bytes.get(1..) {
        Some(rest) if rest != b"}" && bytes.first() == Some(&b'{') => {
            out.push(b',');
            out.extend_from_slice(rest);
        }
        _ => out.push(b'}'),
    }
    out
}

/// The indexer task: stores the journal's batches in large groups and answers flushes.
async fn index_events(
    store: Store,
    journal_dir: PathBuf,
    mut batches: mpsc::Receiver<Batch>,
    mut flushes: mpsc::UnboundedReceiver<oneshot::Sender<()>>,
) {
    let mut pending: Vec<Batch> = Vec::new();
    let mut pending_events = 0usize;
    let mut oldest: Option<Instant> = None;
    let mut waiters: Vec<oneshot::Sender<()>> = Vec::new();
    let mut open = (true, true);
    while open.0 {
        let deadline = oldest.map_or_else(
            || tokio::time::Instant::now() + Duration::from_secs(3600),
            |t| tokio::time::Instant::from_std(t + INDEX_INTERVAL),
        );
        tokio::select! {
            b = batches.recv() => match b {
                Some(b) => {
                    pending_events += b.entries.len();
                    oldest.get_or_insert_with(Instant::now);
                    pending.push(b);
                }
                None => open.0 = false,
            },
            f = flushes.recv(), if open.1 => match f {
                Some(w) => waiters.push(w),
                None => open.1 = false,
            },
            () = tokio::time::sleep_until(deadline), if oldest.is_some() => {}
        }
        while let Ok(b) = batches.try_recv() {
            pending_events += b.entries.len();
            oldest.get_or_insert_with(Instant::now);
            pending.push(b);
        }
        let due = !open.0
            || !waiters.is_empty()
            || pending_events >= INDEX_EVENTS
            || oldest.is_some_and(|t| t.elapsed() >= INDEX_INTERVAL);
        if due && !pending.is_empty() {
            let mut delay = Duration::from_millis(10);
            while let Err(e) = store_batches(&store, &pending).await {
                tracing::error!(error = %e, events = pending_events, "audit events could not be stored; retrying (they are safe in the journal)");
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(5));
            }
            if let Some(last) = pending.last() {
                if let Err(e) = journal::delete_through(&journal_dir, last.head.seq) {
                    tracing::warn!(error = %e, "audit journal: old segments not deleted");
                }
            }
            pending.clear();
            pending_events = 0;
            oldest = None;
        }
        if pending.is_empty() {
            for w in waiters.drain(..) {
                let _ = w.send(());
            }
        }
    }
}

/// One durable transaction: the batches' chunks, index rows and the new head.
async fn store_batches(store: &Store, batches: &[Batch]) -> Result<(), StoreError> {
    let Some(head) = batches.last().map(|b| b.head.clone()) else {
        return Ok(());
    };
    let lines: Vec<(u64, &[u8])> = batches
        .iter()
        .flat_map(|b| {
            b.entries
                .iter()
                .map(|(seq, range, _)| (*seq, b.lines.get(range.clone()).unwrap_or_default()))
        })
        .collect();
    let metas: Vec<(u64, &EventMeta)> = batches
        .iter()
        .flat_map(|b| b.entries.iter().map(|(seq, _, meta)| (*seq, meta)))
        .collect();
    let mut rows = stored::chunk_rows(&lines);
    rows.extend(index::meta_rows(&metas));
    let rows = Arc::new(rows);
    let head_json = serde_json::to_vec(&head).unwrap_or_default();
    store
        .write(move |tx| {
            // Rewriting the same rows after a failed attempt is harmless: they are this
            // batch's own.
            for (key, value) in rows.iter() {
                tx.put(key, value, Expect::Any)?;
            }
            tx.put(HEAD_KEY, &head_json, Expect::Any)?;
            Ok::<_, StoreError>(())
        })
        .await
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
    use rampart_cloudtrail::stored::StoredEvent;

    #[test]
    fn read_only_classification() {
        assert!(is_read_only("GetCallerIdentity"));
        assert!(is_read_only("ListUsers"));
        assert!(!is_read_only("CreateUser"));
        assert!(!is_read_only("PutSecretValue"));
    }

    fn all_keys(store: &Store) -> Vec<String> {
        store
            .read_blocking(|tx| {
                Ok::<_, StoreError>(
                    tx.scan("", None, 10_000)?
                        .into_iter()
                        .map(|(k, _)| k)
                        .collect(),
                )
            })
            .unwrap()
    }

    fn stored_event(store: &Store, seq: u64) -> Option<StoredEvent> {
        store
            .read_blocking(move |tx| stored::get_event(tx, seq))
            .unwrap()
    }

    fn event(name: &str) -> Value {
        serde_json::json!({"eventVersion": "1.09", "eventName": name, "awsRegion": "us-east-1",
            "eventTime": "2024-01-01T00:00:00Z", "recipientAccountId": "123456789012",
            "requestParameters": {"encryptionContext": {"eventID": "", "x": "\"eventID\":\"\""}}})
    }

    #[tokio::test]
    async fn events_reach_the_store_with_their_index_after_a_flush() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_in_memory().unwrap();
        let (sink, indexer) = start(
            store.clone(),
            dir.path().join("j"),
            "999999999999".into(),
            AuditMode::BestEffort,
        )
        .await
        .unwrap();
        sink.record(event("X")).await.unwrap();
        sink.flush().await;
        let keys = all_keys(&store);
        assert!(keys.contains(&stored::chunk_key(1)));
        assert!(
            keys.iter()
                .any(|k| k.starts_with("123456789012/us-east-1/cloudtrail/ev/EventName/X/"))
        );
        assert!(
            keys.iter()
                .any(|k| k.starts_with("123456789012/us-east-1/cloudtrail/ev/_all/"))
        );
        assert!(keys.iter().any(|k| k.starts_with(index::BATCH_PREFIX)));
        // The writer gave the event an id that carries its sequence number, as its first member,
        // whatever the request's own members hold.
        let e = stored_event(&store, 1).unwrap();
        let id = e.event["eventID"].as_str().unwrap();
        assert_eq!(index::seq_of_event_id(id), Some(1));
        assert_eq!(
            e.event["requestParameters"]["encryptionContext"]["eventID"],
            ""
        );
        assert_eq!(
            e.event.as_object().unwrap().keys().next().unwrap(),
            "eventID"
        );
        drop(sink);
        indexer.await.unwrap();
    }

    #[tokio::test]
    async fn a_killed_writer_loses_nothing_the_journal_holds() {
        let dir = tempfile::tempdir().unwrap();
        let journal_dir = dir.path().join("j");
        let store = Store::open_in_memory().unwrap();
        // Events as a writer appended them before the process died: in the journal only.
        {
            let mut head = Head::default();
            let mut lines = Vec::new();
            for i in 0..3 {
                let bytes = with_event_id(
                    &serde_json::to_vec(&event(&format!("E{i}"))).unwrap(),
                    &index::event_id(i + 1, [7; 10]),
                );
                stored::append_line(&mut head, &bytes, &mut lines);
            }
            lines.extend_from_slice(b"{\"seq\":4,\"hash\""); // torn: its request never got an answer
            let mut j = Journal::create(&journal_dir, 1).unwrap();
            j.append(&lines).unwrap();
        }
        let (sink, indexer) = start(
            store.clone(),
            journal_dir.clone(),
            "999999999999".into(),
            AuditMode::BestEffort,
        )
        .await
        .unwrap();
        for seq in 1..=3 {
            let e = stored_event(&store, seq).unwrap();
            assert_eq!(e.event["eventName"], format!("E{}", seq - 1));
        }
        // The chain continues after the recovered events.
        sink.record(event("After")).await.unwrap();
        drop(sink);
        indexer.await.unwrap();
        let after = stored_event(&store, 4).unwrap();
        assert_eq!(after.event["eventName"], "After");
        assert_eq!(after.prev_hash, stored_event(&store, 3).unwrap().hash);
        // The journal holds only the newest (empty or current) segment.
        assert_eq!(journal::segments(&journal_dir).unwrap().len(), 1);
    }

    /// A writer whose journal refuses every write (a full disk: `/dev/full`).
    fn failing_writer(dir: &Path, mode: AuditMode) -> AuditSink {
        std::os::unix::fs::symlink("/dev/full", dir.join("journal-00000000000000000001.log"))
            .unwrap();
        let journal = Journal::create(dir, 1).unwrap();
        let (tx, rx) = mpsc::channel(8);
        let (batches, _) = mpsc::channel(8);
        let sync = Syncer::start(&journal);
        std::thread::spawn(move || {
            write_journal(rx, journal, Head::default(), mode, batches, sync)
        });
        AuditSink {
            tx: Some(tx),
            flush: None,
            mode,
            default_account: "0".into(),
        }
    }

    #[tokio::test]
    async fn fail_closed_refuses_when_the_event_cannot_be_made_durable() {
        let dir = tempfile::tempdir().unwrap();
        let strict = failing_writer(dir.path(), AuditMode::FailClosed);
        let err = strict.record(event("X")).await.unwrap_err();
        assert_eq!(err.status, 500);
        // Best effort: the request goes on; the writer keeps the events and retries.
        let dir = tempfile::tempdir().unwrap();
        let lenient = failing_writer(dir.path(), AuditMode::BestEffort);
        lenient.record(event("Y")).await.unwrap();
    }

    #[tokio::test]
    async fn background_jobs_record_aws_service_events() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_in_memory().unwrap();
        let (sink, indexer) = start(
            store.clone(),
            dir.path().join("j"),
            "999999999999".into(),
            AuditMode::BestEffort,
        )
        .await
        .unwrap();
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
        indexer.await.unwrap();
        let e = stored_event(&store, 1).unwrap();
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
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_in_memory().unwrap();
        let (sink, indexer) = start(
            store.clone(),
            dir.path().join("j"),
            "999999999999".into(),
            AuditMode::Off,
        )
        .await
        .unwrap();
        sink.record(event("X")).await.unwrap();
        drop(sink);
        indexer.await.unwrap();
        assert!(all_keys(&store).is_empty());
        assert!(!dir.path().join("j").exists());
    }

    #[test]
    fn the_event_id_goes_first() {
        assert_eq!(
            with_event_id(br#"{"a":1}"#, "ID"),
            br#"{"eventID":"ID","a":1}"#.to_vec()
        );
        assert_eq!(with_event_id(b"{}", "ID"), br#"{"eventID":"ID"}"#.to_vec());
    }
}
