//! Reader connections: WAL readers see a snapshot and never block the writer.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

use super::schema::configure_reader;
use super::sql::{ReadView, sql_error};
use crate::backend::{ReadJob, run_guarded};
use crate::error::StoreError;

/// A pool that keeps up to `max_idle` connections and opens more on demand, so a read never
/// waits for another read (and a read nested in a read cannot deadlock).
pub(super) struct ReaderPool {
    path: PathBuf,
    busy_timeout: Duration,
    max_idle: usize,
    idle: Mutex<Vec<Connection>>,
    closed: AtomicBool,
}

impl ReaderPool {
    pub(super) fn new(path: PathBuf, busy_timeout: Duration, max_idle: usize) -> ReaderPool {
        ReaderPool {
            path,
            busy_timeout,
            max_idle,
            idle: Mutex::new(Vec::new()),
            closed: AtomicBool::new(false),
        }
    }

    /// Runs `job` in a read transaction on a pooled connection.
    pub(super) fn read(&self, job: &mut dyn ReadJob) -> Result<(), StoreError> {
        let conn = self.checkout()?;
        let result = run_in_snapshot(&conn, job);
        // A connection left inside a transaction is in an unknown state: close it instead.
        if conn.is_autocommit() {
            self.checkin(conn);
        }
        result
    }

    /// Refuses further reads and closes the idle connections.
    pub(super) fn close(&self) {
        self.closed.store(true, Ordering::SeqCst);
        self.idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }

    fn checkout(&self) -> Result<Connection, StoreError> {
        if self.closed.load(Ordering::SeqCst) {
            return Err(StoreError::Closed);
        }
        if let Some(conn) = self
            .idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop()
        {
            return Ok(conn);
        }
        let conn = Connection::open_with_flags(
            &self.path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(sql_error)?;
        configure_reader(&conn, self.busy_timeout)?;
        Ok(conn)
    }

    fn checkin(&self, conn: Connection) {
        if self.closed.load(Ordering::SeqCst) {
            return;
        }
        let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
        if idle.len() < self.max_idle {
            idle.push(conn);
        }
    }
}

/// BEGIN (the snapshot starts at the first read and holds to the end), the job, then COMMIT.
fn run_in_snapshot(conn: &Connection, job: &mut dyn ReadJob) -> Result<(), StoreError> {
    conn.prepare_cached("BEGIN DEFERRED")
        .and_then(|mut stmt| stmt.execute([]))
        .map_err(sql_error)?;
    let ran = run_guarded(|| job.run(&mut ReadView { conn }));
    let ended = conn
        .prepare_cached("COMMIT")
        .and_then(|mut stmt| stmt.execute([]))
        .map_err(sql_error);
    if ended.is_err() {
        let _ = conn.execute_batch("ROLLBACK");
    }
    // What was read stays valid even if ending the read transaction failed.
    ran
}
