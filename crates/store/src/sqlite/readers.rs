//! Reader connections: WAL readers see a snapshot and never block the writer.

use std::path::PathBuf;
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

use super::schema::configure_reader;
use super::sql::{ReadView, sql_error};
use crate::backend::{ReadJob, run_guarded};
use crate::error::StoreError;

/// A pool of at most `max_open` reader connections, of which up to `max_idle` stay open between
/// reads. The cap bounds file descriptors and memory however many reads arrive at once; a read
/// that finds every connection busy waits for one, at most `busy_timeout` (then `Busy`).
pub(super) struct ReaderPool {
    path: PathBuf,
    busy_timeout: Duration,
    max_idle: usize,
    max_open: usize,
    state: Mutex<PoolState>,
    returned: Condvar,
}

struct PoolState {
    idle: Vec<Connection>,
    /// Connections open, idle or in use.
    open: usize,
    closed: bool,
}

impl ReaderPool {
    pub(super) fn new(
        path: PathBuf,
        busy_timeout: Duration,
        max_idle: usize,
        max_open: usize,
    ) -> ReaderPool {
        ReaderPool {
            path,
            busy_timeout,
            max_idle,
            max_open: max_open.max(1),
            state: Mutex::new(PoolState {
                idle: Vec::new(),
                open: 0,
                closed: false,
            }),
            returned: Condvar::new(),
        }
    }

    /// Runs `job` in a read transaction on a pooled connection.
    pub(super) fn read(&self, job: &mut dyn ReadJob) -> Result<(), StoreError> {
        let conn = self.checkout()?;
        let result = run_in_snapshot(&conn, job);
        // A connection left inside a transaction is in an unknown state: close it instead.
        let reusable = conn.is_autocommit();
        self.checkin(conn, reusable);
        result
    }

    /// Refuses further reads and closes the idle connections.
    pub(super) fn close(&self) {
        let mut state = self.lock();
        state.closed = true;
        state.open = state.open.saturating_sub(state.idle.len());
        state.idle.clear();
        drop(state);
        self.returned.notify_all();
    }

    fn lock(&self) -> MutexGuard<'_, PoolState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn checkout(&self) -> Result<Connection, StoreError> {
        let mut state = self.lock();
        let mut waited = Duration::ZERO;
        loop {
            if state.closed {
                return Err(StoreError::Closed);
            }
            if let Some(conn) = state.idle.pop() {
                return Ok(conn);
            }
            if state.open < self.max_open {
                state.open += 1;
                drop(state);
                let opened = self.open_connection();
                if opened.is_err() {
                    let mut state = self.lock();
                    state.open = state.open.saturating_sub(1);
                    drop(state);
                    self.returned.notify_one();
                }
                return opened;
            }
            if waited >= self.busy_timeout {
                return Err(StoreError::Busy(format!(
                    "all {} reader connections stayed busy for {:?}",
                    self.max_open, self.busy_timeout
                )));
            }
            // Waiting is bounded by the configured timeout, measured in slices so that a
            // spurious wake-up does not restart the budget.
            let slice = Duration::from_millis(50).min(self.busy_timeout - waited);
            let (guard, _) = self
                .returned
                .wait_timeout(state, slice)
                .unwrap_or_else(PoisonError::into_inner);
            state = guard;
            waited += slice;
        }
    }

    fn open_connection(&self) -> Result<Connection, StoreError> {
        let conn = Connection::open_with_flags(
            &self.path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(sql_error)?;
        configure_reader(&conn, self.busy_timeout)?;
        Ok(conn)
    }

    fn checkin(&self, conn: Connection, reusable: bool) {
        let mut state = self.lock();
        if reusable && !state.closed && state.idle.len() < self.max_idle {
            state.idle.push(conn);
        } else {
            state.open = state.open.saturating_sub(1);
            drop(state);
            drop(conn);
        }
        self.returned.notify_one();
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
