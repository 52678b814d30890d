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
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use rampart_aws_types::{AwsError, ids};
use rampart_cloudtrail::index::{self, EventMeta};
use rampart_cloudtrail::journal::{self, Journal};
use rampart_cloudtrail::record::{self, ApiCall, ApiCallRecord, Caller, SessionFacts, TlsDetails};
use rampart_cloudtrail::stored::{self, HEAD_KEY, Head};
use rampart_services::{AuditResource, Principal, ServiceEvent, ServiceEventSink};
use rampart_store::{Expect, Store, StoreError};
use serde_json::Value;
use time::OffsetDateTime;
use tokio::sync::{mpsc, oneshot};

use crate::config::AuditMode;
use crate::protocol::Target;

/// The journal's directory inside the data directory.
pub const JOURNAL_DIR: &str = "audit-journal";
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

/// Events on their way to the store: record lines back to back, and each event's sequence
/// number, line and index metadata.
#[derive(Default)]
struct Batch {
    lines: Vec<u8>,
    entries: Vec<(u64, Range<usize>, EventMeta)>,
    /// The chain head after the batch's last event.
    head: Head,
}

/// The writer's state, behind one lock: numbering and chaining are done by the request's own
/// thread (no hand-off to another thread, whose wake-ups cost more than the work).
struct WriterState {
    head: Head,
    /// Events not yet in the store (their `head` is set when taken).
    pending: Batch,
    /// Best effort: record lines not yet written to the journal, and how many bytes were ever
    /// queued there (the offset a request waits for).
    unwritten: Vec<u8>,
    queued: u64,
    /// Best effort: a request is writing the queued lines.
    leading: bool,
    /// The line buffer of the last stored batch, emptied, for the next one: a fresh buffer of
    /// megabytes every 100 ms came from the operating system each time (page faults and
    /// zeroing were ~1.5% of the server's CPU).
    spare_lines: Vec<u8>,
    /// Random bits for event ids, drawn from the RNG in blocks (one call per event cost more
    /// than the rest of numbering it).
    random: RandomPool,
}

/// Event-id randomness drawn from aws-lc-rs's RNG a block at a time.
struct RandomPool {
    bytes: Vec<u8>,
    used: usize,
}

impl RandomPool {
    const BLOCK: usize = 10 * 512;

    fn new() -> RandomPool {
        RandomPool {
            bytes: Vec::new(),
            used: 0,
        }
    }

    fn next(&mut self) -> [u8; 10] {
        if self.used + 10 > self.bytes.len() {
            let mut block = vec![0u8; Self::BLOCK];
            if aws_lc_rs::rand::fill(&mut block).is_err() {
                // Never zeros silently: fall back to the per-call source.
                return ids::random_bytes::<10>().unwrap_or([0; 10]);
            }
            self.bytes = block;
            self.used = 0;
        }
        let mut out = [0u8; 10];
        if let Some(src) = self.bytes.get(self.used..self.used + 10) {
            out.copy_from_slice(src);
        }
        self.used += 10;
        out
    }
}

struct Shared {
    state: std::sync::Mutex<WriterState>,
    journal: std::sync::Mutex<Journal>,
    /// Journal bytes written since start, over all segments (what the syncer syncs).
    file_written: AtomicU64,
    /// The last journal write failed (logged once per run of failures).
    failing: AtomicBool,
    mode: AuditMode,
    default_account: Arc<str>,
    /// Wakes the indexer before its interval (a large batch waits).
    index_now: tokio::sync::Notify,
    /// Best effort: how many queued bytes have been handed to the journal.
    flushed: tokio::sync::watch::Sender<u64>,
    /// Fail-closed: set by a writer that waits for an fsync; the syncer's signal.
    sync_wanted: std::sync::Mutex<bool>,
    sync_signal: std::sync::Condvar,
    /// How many journal bytes are known durable.
    synced: tokio::sync::watch::Sender<u64>,
    stopping: AtomicBool,
}

/// Where an appended event stands.
enum Appended {
    /// Fail-closed: written to the journal, ending at this file offset (`None`: refused).
    Written(Option<u64>),
    /// Best effort: queued, ending at this queue offset; `lead` when this request must write
    /// the queue.
    Queued { end: u64, lead: bool },
}

impl Shared {
    fn new(journal: Journal, head: Head, mode: AuditMode, default_account: Arc<str>) -> Shared {
        Shared {
            state: std::sync::Mutex::new(WriterState {
                head,
                pending: Batch::default(),
                unwritten: Vec::with_capacity(256 * 1024),
                queued: 0,
                leading: false,
                spare_lines: Vec::new(),
                random: RandomPool::new(),
            }),
            journal: std::sync::Mutex::new(journal),
            file_written: AtomicU64::new(0),
            failing: AtomicBool::new(false),
            mode,
            default_account,
            index_now: tokio::sync::Notify::new(),
            flushed: tokio::sync::watch::Sender::new(0),
            sync_wanted: std::sync::Mutex::new(false),
            sync_signal: std::sync::Condvar::new(),
            synced: tokio::sync::watch::Sender::new(0),
            stopping: AtomicBool::new(false),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, WriterState> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn lock_journal(&self) -> std::sync::MutexGuard<'_, Journal> {
        self.journal
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Numbers and chains one event and puts it on its way to the store; fail-closed writes it
    /// to the journal at once, best effort queues it for the next group write.
    fn append(&self, bytes: &[u8], meta: EventMeta) -> Appended {
        let mut guard = self.lock();
        let st = &mut *guard;
        let random = st.random.next();
        let event = with_event_id(bytes, &index::event_id(st.head.seq + 1, random));
        let at = st.pending.lines.len();
        let seq = stored::append_line(&mut st.head, &event, &mut st.pending.lines);
        let line = st.pending.lines.get(at..).unwrap_or_default();
        let appended = if self.mode == AuditMode::FailClosed {
            Appended::Written(self.write_journal(line))
        } else {
            st.unwritten.extend_from_slice(line);
            st.queued += line.len() as u64;
            let lead = !std::mem::replace(&mut st.leading, true);
            Appended::Queued {
                end: st.queued,
                lead,
            }
        };
        let end = st.pending.lines.len();
        st.pending.entries.push((seq, at..end, meta));
        let full = st.pending.entries.len() >= INDEX_EVENTS;
        drop(guard);
        if full {
            self.index_now.notify_one();
        }
        appended
    }

    /// Best effort: writes the queued lines in groups until the queue is empty. The leader
    /// first lets the other requests ready on its thread queue their events, so one `write`
    /// carries many (a `write` per event cost more than building the event).
    async fn write_queued(&self) {
        tokio::task::yield_now().await;
        let mut buf = Vec::new();
        loop {
            let end = {
                let mut st = self.lock();
                if st.unwritten.is_empty() {
                    // Hand the written buffer back, capacity and all, for the next group.
                    std::mem::swap(&mut st.unwritten, &mut buf);
                    st.leading = false;
                    return;
                }
                std::mem::swap(&mut st.unwritten, &mut buf);
                st.queued
            };
            // A failure is logged; the events still reach the store from memory.
            let _ = self.write_journal(&buf);
            buf.clear();
            self.flushed.send_replace(end);
        }
    }

    /// Writes whole record lines to the journal; the file offset they end at, or `None`.
    fn write_journal(&self, lines: &[u8]) -> Option<u64> {
        let mut journal = self.lock_journal();
        match journal.append(lines) {
            Ok(()) => {
                let end = self
                    .file_written
                    .fetch_add(lines.len() as u64, Ordering::AcqRel)
                    + lines.len() as u64;
                if self.failing.swap(false, Ordering::AcqRel) {
                    tracing::warn!("audit journal writes work again");
                }
                let next_seq = last_seq(lines).map_or(0, |s| s + 1);
                if let Err(e) = journal.rotate_if_full(next_seq) {
                    tracing::error!(error = %e, "audit journal: cannot start a new segment");
                }
                Some(end)
            }
            Err(e) => {
                if !self.failing.swap(true, Ordering::AcqRel) {
                    tracing::error!(error = %e, "audit journal write failed: events are still stored, but a crash before they are would lose them");
                }
                None
            }
        }
    }

    /// The events waiting for the store, if any.
    fn take_pending(&self) -> Option<Batch> {
        let mut st = self.lock();
        if st.pending.entries.is_empty() {
            return None;
        }
        let head = st.head.clone();
        let capacity = st.pending.lines.capacity();
        let mut lines = std::mem::take(&mut st.spare_lines);
        lines.reserve(capacity);
        let mut batch = std::mem::replace(
            &mut st.pending,
            Batch {
                lines,
                ..Batch::default()
            },
        );
        batch.head = head;
        Some(batch)
    }

    /// Keeps a stored batch's line buffer for the next batch.
    fn recycle(&self, mut lines: Vec<u8>) {
        lines.clear();
        let mut st = self.lock();
        if lines.capacity() > st.spare_lines.capacity() {
            st.spare_lines = lines;
        }
    }

    /// Waits until the journal is durable through `end` (fail-closed).
    async fn wait_synced(&self, end: u64) -> bool {
        if let Ok(mut wanted) = self.sync_wanted.lock() {
            *wanted = true;
        }
        self.sync_signal.notify_one();
        let mut synced = self.synced.subscribe();
        matches!(
            tokio::time::timeout(FAIL_CLOSED_WAIT, synced.wait_for(|s| *s >= end)).await,
            Ok(Ok(_))
        )
    }
}

#[derive(Clone)]
pub struct AuditSink {
    shared: Option<Arc<Shared>>,
    flush: Option<mpsc::UnboundedSender<oneshot::Sender<()>>>,
}

impl AuditSink {
    /// Whether events are recorded at all (`--audit-mode off` records none).
    pub fn enabled(&self) -> bool {
        self.shared.is_some()
    }

    /// Appends one event to the journal (fail-closed: and waits for its fsync). `Err` only in
    /// fail-closed mode: the request must fail.
    pub async fn record(&self, event: Value) -> Result<(), AwsError> {
        let Some(shared) = &self.shared else {
            return Ok(());
        };
        let meta = EventMeta::of(&event, &shared.default_account);
        let bytes = serde_json::to_vec(&event).unwrap_or_default();
        self.record_encoded(&bytes, meta).await
    }

    /// [`AuditSink::record`] for an event already serialized (without `eventID`), with its
    /// index metadata: what the request path gives (see [`event`]).
    pub async fn record_encoded(&self, bytes: &[u8], meta: EventMeta) -> Result<(), AwsError> {
        let Some(shared) = &self.shared else {
            return Ok(());
        };
        let written = match shared.append(bytes, meta) {
            Appended::Queued { end, lead } => {
                if lead {
                    shared.write_queued().await;
                }
                // Answered once the event is in the journal (a killed process keeps it).
                let mut flushed = shared.flushed.subscribe();
                let _ = flushed.wait_for(|f| *f >= end).await;
                return Ok(());
            }
            Appended::Written(written) => written,
        };
        match written {
            Some(end) if shared.wait_synced(end).await => Ok(()),
            _ => Err(AwsError::internal(
                "The request could not be audited durably and was refused (--audit-mode fail-closed).",
            )),
        }
    }

    /// Waits until every event recorded so far is in the store (readable by LookupEvents).
    pub async fn flush(&self) {
        let Some(flush) = &self.flush else {
            return;
        };
        let (done, wait) = oneshot::channel();
        if flush.send(done).is_ok() {
            let _ = wait.await;
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
/// syncer and the indexer. Events without an account (authentication failures with an unknown
/// key) are indexed under `default_account`. The returned handle finishes once every sink
/// clone is dropped and every event is in the store.
pub async fn start(
    store: Store,
    journal_dir: PathBuf,
    default_account: String,
    mode: AuditMode,
) -> Result<(AuditSink, tokio::task::JoinHandle<()>), String> {
    if mode == AuditMode::Off {
        let sink = AuditSink {
            shared: None,
            flush: None,
        };
        return Ok((sink, tokio::spawn(async {})));
    }
    let head = recover(&store, &journal_dir, &default_account).await?;
    let journal = Journal::create(&journal_dir, head.seq + 1)
        .map_err(|e| format!("audit journal {}: {e}", journal_dir.display()))?;
    let shared = Arc::new(Shared::new(journal, head, mode, default_account.into()));
    let syncer = shared.clone();
    let sync_thread = std::thread::Builder::new()
        .name("audit-sync".into())
        .spawn(move || sync_journal(&syncer))
        .map_err(|e| format!("audit sync thread: {e}"))?;
    let (flush_tx, flush_rx) = mpsc::unbounded_channel();
    let handle = tokio::spawn(index_events(
        shared.clone(),
        store,
        journal_dir,
        flush_rx,
        sync_thread,
    ));
    let sink = AuditSink {
        shared: Some(shared),
        flush: Some(flush_tx),
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
        if found.torn_bytes > 0 {
            tracing::warn!(
                bytes = found.torn_bytes,
                "audit journal: skipped a torn record (an event whose request was never answered)"
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
        let Some((last, _)) = found.events.last() else {
            break;
        };
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

/// The syncer thread: fsyncs the journal every [`SYNC_INTERVAL`] while events arrive, and at
/// once when a fail-closed request waits.
fn sync_journal(shared: &Shared) {
    let mut synced = 0u64;
    loop {
        if let Ok(wanted) = shared.sync_wanted.lock() {
            if let Ok((mut wanted, _)) =
                shared
                    .sync_signal
                    .wait_timeout_while(wanted, SYNC_INTERVAL, |w| !*w)
            {
                *wanted = false;
            }
        }
        let stopping = shared.stopping.load(Ordering::Acquire);
        let (handle, written) = {
            let journal = shared.lock_journal();
            (
                journal.sync_handle(),
                shared.file_written.load(Ordering::Acquire),
            )
        };
        if written > synced {
            match handle.and_then(|f| f.sync_data()) {
                Ok(()) => {
                    synced = written;
                    shared.synced.send_replace(written);
                }
                Err(e) => tracing::error!(error = %e, "audit journal fsync failed"),
            }
        }
        if stopping {
            return;
        }
    }
}

/// The sequence number of the last record line in `lines`.
fn last_seq(lines: &[u8]) -> Option<u64> {
    let body = lines.strip_suffix(b"\n").unwrap_or(lines);
    let start = body.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
    stored::line_seq(body.get(start..)?)
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

/// The indexer task: every [`INDEX_INTERVAL`] (sooner for a large batch or a flush) moves the
/// pending events into the store, then deletes the journal segments they make redundant.
async fn index_events(
    shared: Arc<Shared>,
    store: Store,
    journal_dir: PathBuf,
    mut flushes: mpsc::UnboundedReceiver<oneshot::Sender<()>>,
    sync_thread: std::thread::JoinHandle<()>,
) {
    let mut waiters: Vec<oneshot::Sender<()>> = Vec::new();
    let mut closing = false;
    while !closing {
        tokio::select! {
            () = tokio::time::sleep(INDEX_INTERVAL) => {}
            () = shared.index_now.notified() => {}
            f = flushes.recv() => match f {
                Some(w) => waiters.push(w),
                // Every sink is gone: store what is left and stop.
                None => closing = true,
            },
        }
        while let Ok(w) = flushes.try_recv() {
            waiters.push(w);
        }
        if let Some(batch) = shared.take_pending() {
            let batches = [batch];
            let mut delay = Duration::from_millis(10);
            while let Err(e) = store_batches(&store, &batches).await {
                tracing::error!(error = %e, events = batches[0].entries.len(), "audit events could not be stored; retrying (they are safe in the journal)");
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(5));
            }
            if let Err(e) = journal::delete_through(&journal_dir, batches[0].head.seq) {
                tracing::warn!(error = %e, "audit journal: old segments not deleted");
            }
            let [batch] = batches;
            shared.recycle(batch.lines);
        }
        for w in waiters.drain(..) {
            let _ = w.send(());
        }
    }
    shared.stopping.store(true, Ordering::Release);
    if let Ok(mut wanted) = shared.sync_wanted.lock() {
        *wanted = true;
    }
    shared.sync_signal.notify_one();
    let _ = tokio::task::spawn_blocking(move || sync_thread.join()).await;
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
    /// The request's input, already redacted for the record (`protocol::redact`).
    pub input: Option<Value>,
    /// The answer, already redacted for the record.
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

/// The CloudTrail record for this request, serialized (without `eventID`: the writer adds it),
/// and its index metadata. Inputs and outputs were redacted from the model as the pipeline went;
/// the error code is the one the wire sent (`AccessDeniedException` for JSON services). Events
/// without an account are indexed under `fallback_account`.
pub fn event(
    trace: &mut Trace,
    error: Option<&AwsError>,
    fallback_account: &str,
) -> (Vec<u8>, EventMeta) {
    let (source, name) = match &trace.target {
        Some(t) => (
            format!("{}.amazonaws.com", t.event_source_prefix()),
            t.operation.clone(),
        ),
        None => ("unknown".to_string(), "Unknown".to_string()),
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
    let record = ApiCallRecord::new(ApiCall {
        time: trace.now,
        event_source: &source,
        event_name: &name,
        region: &trace.region,
        source_ip: &trace.source_ip,
        user_agent: &trace.user_agent,
        caller,
        request_parameters: trace.input.take().unwrap_or(Value::Null),
        response_elements: trace.output.take().unwrap_or(Value::Null),
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
    });
    let meta = EventMeta::of_api_call(&record, fallback_account);
    (serde_json::to_vec(&record).unwrap_or_default(), meta)
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

    /// The writer and indexer over `store`, with the journal in `dir`.
    async fn start_on(
        store: &Store,
        dir: PathBuf,
        mode: AuditMode,
    ) -> (AuditSink, tokio::task::JoinHandle<()>) {
        start(store.clone(), dir, "999999999999".into(), mode)
            .await
            .unwrap()
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
        let (sink, indexer) = start_on(&store, dir.path().join("j"), AuditMode::BestEffort).await;
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
        let (sink, indexer) = start_on(&store, journal_dir.clone(), AuditMode::BestEffort).await;
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
        let shared = Arc::new(Shared::new(journal, Head::default(), mode, "0".into()));
        let syncer = shared.clone();
        std::thread::spawn(move || sync_journal(&syncer));
        AuditSink {
            shared: Some(shared),
            flush: None,
        }
    }

    #[tokio::test]
    async fn fail_closed_refuses_when_the_event_cannot_be_made_durable() {
        let dir = tempfile::tempdir().unwrap();
        let strict = failing_writer(dir.path(), AuditMode::FailClosed);
        let err = strict.record(event("X")).await.unwrap_err();
        assert_eq!(err.status, 500);
        // Best effort: the request goes on; the event still reaches the store from memory.
        let dir = tempfile::tempdir().unwrap();
        let lenient = failing_writer(dir.path(), AuditMode::BestEffort);
        lenient.record(event("Y")).await.unwrap();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_requests_are_written_in_groups_and_each_is_in_the_journal_when_answered() {
        let dir = tempfile::tempdir().unwrap();
        let journal_dir = dir.path().join("j");
        let store = Store::open_in_memory().unwrap();
        let (sink, indexer) = start_on(&store, journal_dir.clone(), AuditMode::BestEffort).await;
        let tasks: Vec<_> = (0..300)
            .map(|i| {
                let (sink, journal_dir) = (sink.clone(), journal_dir.clone());
                tokio::spawn(async move {
                    sink.record(event(&format!("C{i}"))).await.unwrap();
                    // Answered: the event is in the journal file already.
                    let found = journal::recover(&journal_dir, &Head::default(), 10_000)
                        .unwrap()
                        .events
                        .iter()
                        .any(|(e, _)| e.event["eventName"] == format!("C{i}"));
                    assert!(found, "C{i} was answered before it was in the journal");
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
        drop(sink);
        indexer.await.unwrap();
        let found = journal::recover(&journal_dir, &Head::default(), 10_000).unwrap();
        assert_eq!(found.events.len(), 300);
        assert!(found.broken_at.is_none());
        assert_eq!(stored_event(&store, 300).unwrap().seq, 300);
    }

    #[tokio::test]
    async fn fail_closed_answers_once_the_journal_is_synced() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_in_memory().unwrap();
        let (sink, indexer) = start_on(&store, dir.path().join("j"), AuditMode::FailClosed).await;
        for i in 0..3 {
            sink.record(event(&format!("S{i}"))).await.unwrap();
        }
        let shared = sink.shared.clone().unwrap();
        let written = shared.file_written.load(Ordering::Acquire);
        assert!(*shared.synced.borrow() >= written && written > 0);
        drop(shared);
        drop(sink);
        indexer.await.unwrap();
        assert_eq!(stored_event(&store, 3).unwrap().event["eventName"], "S2");
    }

    #[tokio::test]
    async fn background_jobs_record_aws_service_events() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_in_memory().unwrap();
        let (sink, indexer) = start_on(&store, dir.path().join("j"), AuditMode::BestEffort).await;
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
        let (sink, indexer) = start_on(&store, dir.path().join("j"), AuditMode::Off).await;
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
