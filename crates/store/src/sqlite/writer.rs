//! The writer thread and its group commit.
//!
//! Jobs queue on a channel. The writer takes every job queued so far (up to `max_batch`), runs
//! them one after another in ONE transaction, each inside its own savepoint, commits once (one
//! fsync for the whole batch) and only then answers each caller. While it waits for that fsync the
//! next batch queues up, so the busier the store, the more writes each fsync carries.

use std::collections::VecDeque;
use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::Receiver;
use std::thread::{self, JoinHandle};

use rusqlite::Connection;

use super::sql::{WriteView, sql_error};
use crate::backend::{JobOutcome, StoreStats, WriteJob, run_guarded};
use crate::error::StoreError;

/// Counters shared by the writer and the backend handle.
#[derive(Default)]
pub(super) struct Counters {
    write_jobs: AtomicU64,
    commits: AtomicU64,
    pending: AtomicU64,
}

impl Counters {
    pub(super) fn submitted(&self) {
        self.pending.fetch_add(1, Ordering::Relaxed);
    }

    pub(super) fn snapshot(&self) -> StoreStats {
        StoreStats {
            write_jobs: self.write_jobs.load(Ordering::Relaxed),
            commits: self.commits.load(Ordering::Relaxed),
            pending_writes: self.pending.load(Ordering::Relaxed),
        }
    }
}

/// Answers a job and counts it. Never lets a panic out (e.g. from a caller's `Drop`).
pub(super) fn answer(job: Box<dyn WriteJob>, result: Result<(), StoreError>, counters: &Counters) {
    let _ = run_guarded(|| job.finish(result));
    counters.pending.fetch_sub(1, Ordering::Relaxed);
    counters.write_jobs.fetch_add(1, Ordering::Relaxed);
}

/// Starts the writer thread. It runs until every sender of `jobs` is gone, then checkpoints the
/// WAL into the database and closes the connection.
pub(super) fn spawn(
    conn: Connection,
    jobs: Receiver<Box<dyn WriteJob>>,
    max_batch: usize,
    counters: Arc<Counters>,
) -> io::Result<JoinHandle<Result<(), StoreError>>> {
    thread::Builder::new()
        .name("rampart-store-writer".to_owned())
        .spawn(move || {
            let max_batch = max_batch.max(1);
            let mut batch = VecDeque::with_capacity(max_batch);
            while let Ok(first) = jobs.recv() {
                batch.push_back(first);
                while batch.len() < max_batch {
                    match jobs.try_recv() {
                        Ok(job) => batch.push_back(job),
                        Err(_) => break,
                    }
                }
                commit_batch(&conn, &mut batch, &counters);
            }
            shut_down(conn)
        })
}

/// A job that ran in the current transaction, with its own failure if it failed alone.
struct Ran {
    job: Box<dyn WriteJob>,
    own_failure: Option<StoreError>,
}

fn commit_batch(conn: &Connection, batch: &mut VecDeque<Box<dyn WriteJob>>, counters: &Counters) {
    // Normally one pass. If SQLite aborts the transaction mid-batch, the jobs that ran in it fail
    // and the rest of the batch goes on in a fresh transaction.
    while !batch.is_empty() {
        if let Err(error) = exec(conn, "BEGIN IMMEDIATE") {
            for job in batch.drain(..) {
                answer(job, Err(error.clone()), counters);
            }
            return;
        }
        let mut ran = Vec::with_capacity(batch.len());
        let mut aborted = None;
        while let Some(mut job) = batch.pop_front() {
            match run_job(conn, &mut *job) {
                Ok(own_failure) => ran.push(Ran { job, own_failure }),
                Err(error) => {
                    ran.push(Ran {
                        job,
                        own_failure: None,
                    });
                    aborted = Some(error);
                    break;
                }
            }
        }
        let committed = match aborted {
            Some(error) => Err(error),
            None => exec(conn, "COMMIT"),
        };
        match &committed {
            Ok(()) => {
                counters.commits.fetch_add(1, Ordering::Relaxed);
            }
            Err(_) => {
                if !conn.is_autocommit() {
                    let _ = conn.execute_batch("ROLLBACK");
                }
            }
        }
        for Ran { job, own_failure } in ran {
            let result = match own_failure {
                Some(failure) => Err(failure),
                None => committed.clone(),
            };
            answer(job, result, counters);
        }
    }
}

/// Runs one job inside its own savepoint. `Ok(Some(_))`: the job failed alone (it panicked) and
/// was rolled back to its savepoint. `Err(_)`: the whole transaction is lost.
fn run_job(conn: &Connection, job: &mut dyn WriteJob) -> Result<Option<StoreError>, StoreError> {
    exec(conn, "SAVEPOINT job")?;
    let outcome = run_guarded(|| job.run(&mut WriteView { conn }));
    if conn.is_autocommit() {
        // SQLite rolled back the whole transaction under us (I/O error, disk full, ...).
        return Err(StoreError::Backend(
            "SQLite aborted the write transaction".to_owned(),
        ));
    }
    match outcome {
        Ok(JobOutcome::Keep) => {
            exec(conn, "RELEASE job")?;
            Ok(None)
        }
        Ok(JobOutcome::Discard) => {
            rollback_to_savepoint(conn)?;
            Ok(None)
        }
        Err(panicked) => {
            rollback_to_savepoint(conn)?;
            Ok(Some(panicked))
        }
    }
}

fn rollback_to_savepoint(conn: &Connection) -> Result<(), StoreError> {
    exec(conn, "ROLLBACK TO job")?;
    exec(conn, "RELEASE job")
}

fn exec(conn: &Connection, sql: &str) -> Result<(), StoreError> {
    conn.prepare_cached(sql)
        .and_then(|mut stmt| stmt.execute([]))
        .map(|_| ())
        .map_err(sql_error)
}

/// Copies the WAL into the database and empties it, then closes the connection.
fn shut_down(conn: Connection) -> Result<(), StoreError> {
    // Busy (a reader still holds an old snapshot) is not an error: the WAL stays valid.
    let checkpoint = conn
        .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |row| {
            row.get::<_, i64>(0)
        })
        .map(|_| ())
        .map_err(sql_error);
    let closed = conn.close().map_err(|(_, error)| sql_error(error));
    checkpoint.and(closed)
}
