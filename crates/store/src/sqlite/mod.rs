//! The embedded SQLite backend: one writer thread with group commit, a pool of WAL readers, and
//! a lock file so that only one process owns the database.

mod lock;
mod readers;
mod schema;
mod sql;
mod writer;

use std::fs::File;
use std::path::Path;
use std::sync::mpsc::{self, Sender};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::thread::{JoinHandle, ThreadId};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

use self::readers::ReaderPool;
use self::sql::sql_error;
use self::writer::Counters;
use crate::backend::{Backend, ReadJob, StoreStats, WriteJob};
use crate::error::StoreError;

/// Tuning of the SQLite backend. `SqliteOptions::default()` suits a server.
#[derive(Debug, Clone)]
pub struct SqliteOptions {
    /// Reader connections kept open between reads.
    pub idle_readers: usize,
    /// Most reader connections open at once; further reads wait for one (up to `busy_timeout`).
    pub max_readers: usize,
    /// How long a connection waits on a lock held elsewhere before failing with `Busy`.
    pub busy_timeout: Duration,
    /// Most write jobs carried by one commit.
    pub max_batch: usize,
}

impl Default for SqliteOptions {
    fn default() -> SqliteOptions {
        SqliteOptions {
            idle_readers: 4,
            max_readers: 32,
            busy_timeout: Duration::from_secs(10),
            max_batch: 512,
        }
    }
}

/// The SQLite backend. Use it through `Store::open_sqlite`.
pub struct SqliteBackend {
    jobs: RwLock<Option<Sender<Box<dyn WriteJob>>>>,
    writer: Mutex<Option<JoinHandle<Result<(), StoreError>>>>,
    writer_id: ThreadId,
    readers: ReaderPool,
    counters: Arc<Counters>,
    lock: Mutex<Option<File>>,
    // Last, so the directory goes only after everything in it is closed.
    _temp_dir: Option<tempfile::TempDir>,
}

impl SqliteBackend {
    /// Opens (creating if needed) a durable store at `path`.
    pub fn open(path: &Path, options: SqliteOptions) -> Result<SqliteBackend, StoreError> {
        SqliteBackend::start(path, &options, true, None)
    }

    /// A non-durable store in a fresh temporary directory, removed when the backend is dropped.
    pub fn open_temporary() -> Result<SqliteBackend, StoreError> {
        let dir = tempfile::Builder::new()
            .prefix("rampart-store-")
            .tempdir()
            .map_err(|error| {
                StoreError::Backend(format!("cannot create a temporary directory: {error}"))
            })?;
        let path = dir.path().join("store.db");
        let options = SqliteOptions {
            idle_readers: 2,
            ..SqliteOptions::default()
        };
        SqliteBackend::start(&path, &options, false, Some(dir))
    }

    fn start(
        path: &Path,
        options: &SqliteOptions,
        durable: bool,
        temp_dir: Option<tempfile::TempDir>,
    ) -> Result<SqliteBackend, StoreError> {
        let lock = lock::acquire(path)?;
        // Create the file ourselves so it is private; SQLite gives the WAL the same mode.
        let is_new = !path.exists();
        lock::private_file_options()
            .truncate(false)
            .open(path)
            .map_err(|error| {
                StoreError::Backend(format!("cannot open {}: {error}", path.display()))
            })?;
        if is_new && durable {
            lock::sync_parent_directory(path)?;
        }
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(sql_error)?;
        schema::configure_writer(&conn, durable, options.busy_timeout)?;
        schema::prepare(&conn)?;

        let counters = Arc::new(Counters::default());
        let (sender, receiver) = mpsc::channel();
        let writer = writer::spawn(conn, receiver, options.max_batch, durable, counters.clone())
            .map_err(|error| {
                StoreError::Backend(format!("cannot start the writer thread: {error}"))
            })?;
        Ok(SqliteBackend {
            jobs: RwLock::new(Some(sender)),
            writer_id: writer.thread().id(),
            writer: Mutex::new(Some(writer)),
            readers: ReaderPool::new(
                path.to_path_buf(),
                options.busy_timeout,
                options.idle_readers,
                options.max_readers,
            ),
            counters,
            lock: Mutex::new(Some(lock)),
            _temp_dir: temp_dir,
        })
    }

    fn shut_down(&self) -> Result<(), StoreError> {
        let sender = self
            .jobs
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if sender.is_none() {
            return Ok(());
        }
        self.readers.close();
        // The writer answers every job queued before this, then checkpoints and exits.
        drop(sender);
        let handle = self
            .writer
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if std::thread::current().id() == self.writer_id {
            // Joining would wait for ourselves. The writer exits once this job returns; the
            // lock goes with the last handle.
            return Err(StoreError::Backend(
                "the store was closed from inside a write transaction; it closes after it"
                    .to_owned(),
            ));
        }
        let result = match handle {
            Some(handle) => match handle.join() {
                Ok(result) => result,
                Err(_) => Err(StoreError::Backend("the writer thread panicked".to_owned())),
            },
            None => Ok(()),
        };
        self.lock
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        result
    }
}

impl Backend for SqliteBackend {
    fn name(&self) -> &'static str {
        "sqlite"
    }

    fn submit_write(&self, job: Box<dyn WriteJob>) {
        self.counters.submitted();
        if std::thread::current().id() == self.writer_id {
            // The writer would wait for itself forever.
            writer::answer(job, Err(StoreError::NestedWrite), &self.counters);
            return;
        }
        let jobs = self.jobs.read().unwrap_or_else(PoisonError::into_inner);
        let Some(sender) = jobs.as_ref() else {
            drop(jobs);
            writer::answer(job, Err(StoreError::Closed), &self.counters);
            return;
        };
        if let Err(mpsc::SendError(job)) = sender.send(job) {
            drop(jobs);
            writer::answer(job, Err(StoreError::Closed), &self.counters);
        }
    }

    fn read_blocking(&self, job: &mut dyn ReadJob) -> Result<(), StoreError> {
        self.readers.read(job)
    }

    fn close(&self) -> Result<(), StoreError> {
        self.shut_down()
    }

    fn stats(&self) -> StoreStats {
        self.counters.snapshot()
    }

    fn data_generation(&self) -> Option<u64> {
        // This process's writer thread is the file's only writer (the lock file sees to it).
        Some(self.counters.generation())
    }
}

impl Drop for SqliteBackend {
    fn drop(&mut self) {
        let _ = self.shut_down();
    }
}
