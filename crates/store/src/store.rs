//! `Store`: the handle callers hold, generic over their closures, dynamic over the backend.

use std::path::Path;
use std::sync::Arc;
use std::sync::mpsc;

use tokio::sync::oneshot;

use crate::backend::{Backend, Durability, JobOutcome, ReadJob, StoreStats, WriteJob};
use crate::error::StoreError;
use crate::read_cache::{Counting, ReadCache};
use crate::sqlite::{SqliteBackend, SqliteOptions};
use crate::txn::{ReadTxn, Txn};

/// A handle to the durable state. Cheap to clone; every clone shares the same backend.
#[derive(Clone)]
pub struct Store {
    backend: Arc<dyn Backend>,
    cache: Arc<ReadCache>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("backend", &self.backend.name())
            .finish()
    }
}

impl AsRef<Store> for Store {
    fn as_ref(&self) -> &Store {
        self
    }
}

impl Store {
    /// Wraps any backend.
    pub fn from_backend(backend: Arc<dyn Backend>) -> Store {
        Store {
            backend,
            cache: Arc::new(ReadCache::default()),
        }
    }

    /// Opens (creating if needed) the embedded SQLite store at `path`. Fails with
    /// `StoreError::Locked` if another process or handle has it open.
    pub fn open_sqlite(path: &Path, options: SqliteOptions) -> Result<Store, StoreError> {
        let backend = SqliteBackend::open(path, options)?;
        Ok(Store::from_backend(Arc::new(backend)))
    }

    /// A throwaway store for tests: SQLite in a temporary directory removed when the last clone
    /// is dropped, without fsync. Same semantics as `open_sqlite`, just not durable.
    pub fn open_in_memory() -> Result<Store, StoreError> {
        let backend = SqliteBackend::open_temporary()?;
        Ok(Store::from_backend(Arc::new(backend)))
    }

    /// Runs `f` as one serializable write transaction and returns once its writes are durable.
    ///
    /// `Err` from `f` rolls back everything `f` did and is returned as is; a panic in `f` rolls
    /// back too and returns `StoreError::Panicked`. `f` may run more than once (backends retry
    /// serialization failures), so it must not have effects outside the transaction. Dropping
    /// the future does not cancel the write.
    ///
    /// Inside `f`, read through `txn` (it sees `f`'s own writes): starting another write from
    /// `f` fails with `StoreError::NestedWrite`, and a separate `read` sees only committed data.
    /// Keep `f` short: on SQLite every other writer waits for it.
    pub async fn write<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnMut(&mut dyn Txn) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
    {
        let (sender, receiver) = oneshot::channel();
        self.submit(f, Reply::Async(sender));
        match receiver.await {
            Ok(result) => result,
            // The job was dropped unanswered: the writer is gone.
            Err(_) => Err(E::from(StoreError::Closed)),
        }
    }

    /// `write` for synchronous callers; blocks the calling thread. Do not call it from async code.
    pub fn write_blocking<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnMut(&mut dyn Txn) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
    {
        let (sender, receiver) = mpsc::sync_channel(1);
        self.submit(f, Reply::Blocking(sender));
        match receiver.recv() {
            Ok(result) => result,
            Err(_) => Err(E::from(StoreError::Closed)),
        }
    }

    /// Runs `f` against a consistent snapshot, concurrently with writes, on the calling thread.
    /// `f` may run more than once.
    ///
    /// For reads of a few keys or a bounded page (the request path): with the embedded backend
    /// they take microseconds from the page cache, far less than handing the job to a blocking
    /// thread and back (measured: that hand-off halved GetSecretValue's throughput). Reads that
    /// can scan without bound use [`Store::read_offloaded`].
    pub async fn read<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnMut(&mut dyn ReadTxn) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
    {
        self.read_blocking(f)
    }

    /// `read` on tokio's blocking pool, for long reads (large scans, reports, queries) that would
    /// otherwise hold up a runtime worker. Outside a tokio runtime it runs inline.
    pub async fn read_offloaded<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnMut(&mut dyn ReadTxn) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
    {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return self.read_blocking(f);
        };
        let store = self.clone();
        match runtime.spawn_blocking(move || store.read_blocking(f)).await {
            Ok(result) => result,
            Err(join_error) => Err(E::from(if join_error.is_panic() {
                StoreError::from_panic(&*join_error.into_panic())
            } else {
                StoreError::Closed
            })),
        }
    }

    /// `read`, remembered: while no write has committed since, another call with the same
    /// `cache_key` gets the same result without reading (see `read_cache`). Only for reads
    /// whose result depends on nothing but the records they read (no clock, no caller): the
    /// caller names the inputs in `cache_key` and checks time and permissions on the result.
    /// Errors are not remembered. Backends that others may write to (`data_generation` is
    /// `None`) always read.
    pub async fn read_cached<T, E, F>(&self, cache_key: &str, f: F) -> Result<Arc<T>, E>
    where
        F: FnMut(&mut dyn ReadTxn) -> Result<T, E> + Send + 'static,
        T: Send + Sync + 'static,
        E: From<StoreError> + Send + 'static,
    {
        self.read_cached_blocking(cache_key, f)
    }

    /// `read_cached` on the calling thread.
    pub fn read_cached_blocking<T, E, F>(&self, cache_key: &str, mut f: F) -> Result<Arc<T>, E>
    where
        F: FnMut(&mut dyn ReadTxn) -> Result<T, E>,
        T: Send + Sync + 'static,
        E: From<StoreError>,
    {
        let Some(generation) = self.backend.data_generation() else {
            return self.read_blocking(f).map(Arc::new);
        };
        if let Some(hit) = self.cache.get::<T>(cache_key, generation) {
            return Ok(hit);
        }
        let mut bytes = 0;
        let value = Arc::new(self.read_blocking(|txn| {
            let mut counting = Counting {
                inner: txn,
                bytes: 0,
            };
            let result = f(&mut counting);
            bytes = counting.bytes;
            result
        })?);
        if let Some(current) = self.backend.data_generation() {
            self.cache
                .insert(cache_key, generation, current, value.clone(), bytes);
        }
        Ok(value)
    }

    /// `read` on the calling thread.
    pub fn read_blocking<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnMut(&mut dyn ReadTxn) -> Result<T, E>,
        E: From<StoreError>,
    {
        let mut job = TypedRead { f, result: None };
        let ran = self.backend.read_blocking(&mut job);
        match (job.result, ran) {
            (Some(result), Ok(())) => result,
            // The closure's own error explains more than what went wrong after it.
            (Some(Err(own)), Err(_)) => Err(own),
            (_, Err(error)) => Err(E::from(error)),
            (None, Ok(())) => Err(E::from(StoreError::Backend(
                "the backend finished a read without running it".to_owned(),
            ))),
        }
    }

    /// Clean shutdown: answers every queued write, checkpoints and closes the backend. Every
    /// clone sees the store closed afterwards.
    pub fn close(&self) -> Result<(), StoreError> {
        self.backend.close()
    }

    /// The backend's counters.
    pub fn stats(&self) -> StoreStats {
        self.backend.stats()
    }

    /// The backend's short name ("sqlite").
    pub fn backend_name(&self) -> &'static str {
        self.backend.name()
    }

    fn submit<T, E, F>(&self, f: F, reply: Reply<Result<T, E>>)
    where
        F: FnMut(&mut dyn Txn) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
    {
        self.submit_with(f, reply, Durability::Synced);
    }

    fn submit_with<T, E, F>(&self, f: F, reply: Reply<Result<T, E>>, durability: Durability)
    where
        F: FnMut(&mut dyn Txn) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
    {
        self.backend.submit_write(Box::new(TypedWrite {
            f,
            result: None,
            reply,
            durability,
        }));
    }

    /// `write` with [`Durability::Relaxed`]: answered once committed and handed to the operating
    /// system (safe against the process being killed), on stable storage within
    /// [`crate::backend::RELAXED_SYNC_WITHIN`]. Batches of relaxed writes share no fsync wait.
    pub async fn write_relaxed<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnMut(&mut dyn Txn) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
    {
        let (sender, receiver) = oneshot::channel();
        self.submit_with(f, Reply::Async(sender), Durability::Relaxed);
        match receiver.await {
            Ok(result) => result,
            Err(_) => Err(E::from(StoreError::Closed)),
        }
    }
}

/// Where a write's answer goes.
enum Reply<R> {
    Async(oneshot::Sender<R>),
    Blocking(mpsc::SyncSender<R>),
}

impl<R> Reply<R> {
    fn send(self, value: R) {
        // A caller that went away (dropped future) no longer wants the answer.
        match self {
            Reply::Async(sender) => {
                let _ = sender.send(value);
            }
            Reply::Blocking(sender) => {
                let _ = sender.send(value);
            }
        }
    }
}

struct TypedWrite<F, T, E> {
    f: F,
    result: Option<Result<T, E>>,
    reply: Reply<Result<T, E>>,
    durability: Durability,
}

impl<F, T, E> WriteJob for TypedWrite<F, T, E>
where
    F: FnMut(&mut dyn Txn) -> Result<T, E> + Send + 'static,
    T: Send + 'static,
    E: From<StoreError> + Send + 'static,
{
    fn run(&mut self, txn: &mut dyn Txn) -> JobOutcome {
        // A panic below leaves `result` empty, so `finish` reports the backend's error.
        self.result = None;
        let result = (self.f)(txn);
        let outcome = if result.is_ok() {
            JobOutcome::Keep
        } else {
            JobOutcome::Discard
        };
        self.result = Some(result);
        outcome
    }

    fn durability(&self) -> Durability {
        self.durability
    }

    fn finish(self: Box<Self>, committed: Result<(), StoreError>) {
        let TypedWrite { result, reply, .. } = *self;
        let answer = match (result, committed) {
            (Some(Err(own)), _) => Err(own),
            (Some(Ok(value)), Ok(())) => Ok(value),
            (_, Err(error)) => Err(E::from(error)),
            (None, Ok(())) => Err(E::from(StoreError::Backend(
                "the backend committed a write without running it".to_owned(),
            ))),
        };
        reply.send(answer);
    }
}

struct TypedRead<F, T, E> {
    f: F,
    result: Option<Result<T, E>>,
}

impl<F, T, E> ReadJob for TypedRead<F, T, E>
where
    F: FnMut(&mut dyn ReadTxn) -> Result<T, E>,
{
    fn run(&mut self, txn: &mut dyn ReadTxn) {
        self.result = None;
        self.result = Some((self.f)(txn));
    }
}
