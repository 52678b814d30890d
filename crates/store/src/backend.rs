//! The seam between `Store` and a storage engine.
//!
//! `Store` turns each caller's typed closure into a job object; a backend only runs jobs. A write
//! job may be run more than once (a PostgreSQL backend re-runs it after a serialization failure),
//! and it is answered through `finish` only once the backend knows whether its work committed.
//!
//! How a PostgreSQL backend maps onto this seam (the design keeps it possible):
//! - `submit_write`: take a pooled connection on a blocking thread, `BEGIN ISOLATION LEVEL
//!   SERIALIZABLE`, `job.run(&mut txn)` where each `Txn` call runs one statement (blocking on
//!   tokio-postgres through a runtime handle), `COMMIT` on `Keep` / `ROLLBACK` on `Discard`; on
//!   SQLSTATE 40001/40P01 run the job again (it is `FnMut` for this); then `finish`. PostgreSQL
//!   group-commits concurrent transactions by itself, and serializability comes from SSI rather
//!   than a single writer, so `Expect` checks must read the row in the same transaction (they do).
//! - `read_blocking`: `BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY` for a snapshot.
//! - Schema: `kv(key bytea PRIMARY KEY, version bigint NOT NULL, value bytea)` (or `text COLLATE
//!   "C"`), tombstones as NULL values, and `meta(schema_version)`, exactly as the SQLite backend.
//! - Rules shared by every backend (limits, `Expect`, versions, prefix ranges) live in this crate,
//!   so both backends apply them the same way; `conformance` checks the result.

use std::panic::{AssertUnwindSafe, catch_unwind};

use crate::error::StoreError;
use crate::txn::{ReadTxn, Txn};

/// What a write job's closure decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobOutcome {
    /// The closure returned `Ok`: keep its writes.
    Keep,
    /// The closure returned `Err`: roll back everything it wrote.
    Discard,
}

/// One caller's write transaction, type-erased.
pub trait WriteJob: Send {
    /// Runs the caller's closure against `txn`. May be called again after a backend retry;
    /// each run replaces the previous one's result.
    fn run(&mut self, txn: &mut dyn Txn) -> JobOutcome;

    /// Answers the caller, exactly once: `Ok(())` if the last run's writes are durable (or it
    /// chose `Discard`), or why the job could not be committed.
    fn finish(self: Box<Self>, committed: Result<(), StoreError>);

    /// How durable the commit must be before `finish` (see [`Durability`]).
    fn durability(&self) -> Durability {
        Durability::Synced
    }
}

/// What a write's acknowledgement promises.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Durability {
    /// Acknowledged once on stable storage (fsync): survives power loss.
    #[default]
    Synced,
    /// Acknowledged once committed and handed to the operating system: survives the process
    /// being killed, and reaches stable storage within [`RELAXED_SYNC_WITHIN`] (or with the next
    /// synced commit, whichever comes first). For high-volume records such as audit events.
    Relaxed,
}

/// The longest a relaxed commit waits for its fsync.
pub const RELAXED_SYNC_WITHIN: std::time::Duration = std::time::Duration::from_millis(100);

/// One caller's read transaction, type-erased.
pub trait ReadJob {
    /// Runs the caller's closure against a consistent snapshot.
    fn run(&mut self, txn: &mut dyn ReadTxn);
}

/// Counters a backend keeps, for metrics and tests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StoreStats {
    /// Write jobs answered so far.
    pub write_jobs: u64,
    /// Durable commits so far (with group commit, one commit answers many jobs).
    pub commits: u64,
    /// Write jobs submitted and not yet answered.
    pub pending_writes: u64,
}

/// A storage engine. Implementations must run each write job serializably with respect to every
/// other, and must survive a panicking job (see `run_guarded`).
pub trait Backend: Send + Sync + 'static {
    /// Short name for logs ("sqlite", "postgres").
    fn name(&self) -> &'static str;

    /// Queues a write job. Never blocks on the job itself; the job answers through `finish`
    /// (immediately with `StoreError::Closed` after `close`).
    fn submit_write(&self, job: Box<dyn WriteJob>);

    /// Runs a read job on the calling thread against a consistent snapshot.
    fn read_blocking(&self, job: &mut dyn ReadJob) -> Result<(), StoreError>;

    /// Drains queued writes, makes everything durable and releases the storage. Later calls
    /// fail with `StoreError::Closed`; calling it again is a no-op.
    fn close(&self) -> Result<(), StoreError>;

    /// Current counters.
    fn stats(&self) -> StoreStats;

    /// A number that moves whenever committed data may have changed — `Some` only if this
    /// process is the store's only writer and moves it after every commit, before answering
    /// the writer. `None` (the default; a PostgreSQL backend shared by several nodes) means
    /// others may write at any time, so nothing read may be cached (`Store::read_cached`).
    fn data_generation(&self) -> Option<u64> {
        None
    }
}

/// Runs `work`, turning a panic into `StoreError::Panicked`.
///
/// The closure may be left half-way; backends roll back what it did, which is why asserting
/// unwind safety is sound here.
pub fn run_guarded<R>(work: impl FnOnce() -> R) -> Result<R, StoreError> {
    catch_unwind(AssertUnwindSafe(work)).map_err(|payload| StoreError::from_panic(&*payload))
}
