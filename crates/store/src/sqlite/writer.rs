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
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::thread::{self, JoinHandle};
use std::time::Instant;

use rusqlite::Connection;

use super::sql::{WriteView, sql_error};
use crate::backend::{
    Durability, JobOutcome, RELAXED_SYNC_WITHIN, StoreStats, WriteJob, run_guarded,
};
use crate::error::StoreError;

/// Counters shared by the writer and the backend handle.
#[derive(Default)]
pub(super) struct Counters {
    write_jobs: AtomicU64,
    commits: AtomicU64,
    pending: AtomicU64,
    /// Moves on every COMMIT (tried, before anyone is answered): what `Store::read_cached`
    /// checks its entries against.
    generation: AtomicU64,
}

impl Counters {
    pub(super) fn submitted(&self) {
        self.pending.fetch_add(1, Ordering::Relaxed);
    }

    pub(super) fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
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
    // Counted before the caller is woken, so a caller that reads the stats after its write
    // returned sees its own job counted.
    counters.pending.fetch_sub(1, Ordering::Relaxed);
    counters.write_jobs.fetch_add(1, Ordering::Relaxed);
    let _ = run_guarded(|| job.finish(result));
}

/// Starts the writer thread. It runs until every sender of `jobs` is gone, then checkpoints the
/// WAL into the database and closes the connection.
pub(super) fn spawn(
    conn: Connection,
    jobs: Receiver<Box<dyn WriteJob>>,
    max_batch: usize,
    durable: bool,
    counters: Arc<Counters>,
) -> io::Result<JoinHandle<Result<(), StoreError>>> {
    thread::Builder::new()
        .name("rampart-store-writer".to_owned())
        .spawn(move || {
            let max_batch = max_batch.max(1);
            let mut batch = VecDeque::with_capacity(max_batch);
            let mut sync = SyncState {
                durable,
                relaxed_mode: false,
                unsynced_since: None,
            };
            loop {
                // With relaxed commits not yet on stable storage, wait at most until their
                // deadline; an idle writer then syncs them.
                let first = match sync.unsynced_since {
                    Some(since) => {
                        let wait = RELAXED_SYNC_WITHIN.saturating_sub(since.elapsed());
                        match jobs.recv_timeout(wait) {
                            Ok(job) => job,
                            Err(RecvTimeoutError::Timeout) => {
                                sync.flush(&conn);
                                continue;
                            }
                            Err(RecvTimeoutError::Disconnected) => break,
                        }
                    }
                    None => match jobs.recv() {
                        Ok(job) => job,
                        Err(_) => break,
                    },
                };
                batch.push_back(first);
                while batch.len() < max_batch {
                    match jobs.try_recv() {
                        Ok(job) => batch.push_back(job),
                        Err(_) => break,
                    }
                }
                sync.before_batch(&conn, &batch);
                commit_batch(&conn, &mut batch, &counters);
                sync.after_batch(&conn);
            }
            shut_down(conn)
        })
}

/// Durability bookkeeping of the writer: which `synchronous` mode the connection is in, and since
/// when relaxed commits wait for their fsync.
struct SyncState {
    /// False for in-memory/test stores (synchronous=OFF): nothing to manage.
    durable: bool,
    relaxed_mode: bool,
    unsynced_since: Option<Instant>,
}

impl SyncState {
    /// A batch of only relaxed jobs commits without fsync (synchronous=NORMAL: the WAL is
    /// written, not synced); any synced job makes the whole batch synced.
    fn before_batch(&mut self, conn: &Connection, batch: &VecDeque<Box<dyn WriteJob>>) {
        if !self.durable {
            return;
        }
        let relaxed = batch
            .iter()
            .all(|job| job.durability() == Durability::Relaxed);
        if relaxed != self.relaxed_mode {
            let mode = if relaxed { "NORMAL" } else { "FULL" };
            if exec(conn, &format!("PRAGMA synchronous = {mode}")).is_ok() {
                self.relaxed_mode = relaxed;
            }
        }
    }

    fn after_batch(&mut self, conn: &Connection) {
        if !self.durable {
            return;
        }
        if self.relaxed_mode {
            if self.unsynced_since.is_none() {
                self.unsynced_since = Some(Instant::now());
            }
            if self
                .unsynced_since
                .is_some_and(|s| s.elapsed() >= RELAXED_SYNC_WITHIN)
            {
                self.flush(conn);
            }
        } else {
            // A FULL commit fsyncs the whole WAL, earlier relaxed frames included.
            self.unsynced_since = None;
        }
    }

    /// Puts every relaxed commit on stable storage: a FULL commit of a tiny meta write fsyncs
    /// the WAL, earlier frames included.
    fn flush(&mut self, conn: &Connection) {
        let synced = exec(conn, "PRAGMA synchronous = FULL")
            .and_then(|()| exec(conn, "BEGIN IMMEDIATE"))
            .and_then(|()| exec(conn, "INSERT OR REPLACE INTO meta(name, value) VALUES ('last_sync', strftime('%s','now'))"))
            .and_then(|()| exec(conn, "COMMIT"));
        match synced {
            Ok(()) => {
                self.relaxed_mode = false;
                self.unsynced_since = None;
            }
            Err(_) => {
                if !conn.is_autocommit() {
                    let _ = conn.execute_batch("ROLLBACK");
                }
                // Tried again at the next batch or timeout.
            }
        }
    }
}

/// How a job ended inside the current transaction.
enum Ran {
    /// Its writes are in the transaction.
    Kept,
    /// It chose to roll back (its closure returned `Err`); its answer is its own.
    Discarded,
    /// It panicked and was rolled back to its savepoint.
    Panicked(StoreError),
}

fn commit_batch(conn: &Connection, batch: &mut VecDeque<Box<dyn WriteJob>>, counters: &Counters) {
    // Normally one pass: one transaction, one commit. If SQLite aborts the transaction under a
    // job (disk full, I/O error), that job fails, and the jobs that had run fine before it are
    // run again in a fresh transaction with the rest of the batch (jobs may be re-run). Only
    // once per batch, so a persistent failure ends the batch instead of looping.
    let mut rerun_allowed = true;
    while !batch.is_empty() {
        if let Err(error) = exec(conn, "BEGIN IMMEDIATE") {
            for job in batch.drain(..) {
                answer(job, Err(error.clone()), counters);
            }
            return;
        }
        let mut ran: Vec<(Box<dyn WriteJob>, Ran)> = Vec::with_capacity(batch.len());
        let mut aborted = None;
        while let Some(mut job) = batch.pop_front() {
            match run_job(conn, &mut *job) {
                Ok(outcome) => ran.push((job, outcome)),
                Err(error) => {
                    aborted = Some((job, error));
                    break;
                }
            }
        }
        let committed = match aborted {
            Some((culprit, error)) => {
                if !conn.is_autocommit() {
                    let _ = conn.execute_batch("ROLLBACK");
                }
                answer(culprit, Err(error.clone()), counters);
                let rerun = rerun_allowed;
                rerun_allowed = false;
                for (job, outcome) in ran.into_iter().rev() {
                    match outcome {
                        Ran::Kept if rerun => batch.push_front(job),
                        Ran::Kept => answer(job, Err(error.clone()), counters),
                        Ran::Discarded => answer(job, Ok(()), counters),
                        Ran::Panicked(panic) => answer(job, Err(panic), counters),
                    }
                }
                continue;
            }
            None => {
                let committed = exec(conn, "COMMIT");
                // Readers may see the new data from here on; cached reads must not serve the old.
                counters.generation.fetch_add(1, Ordering::SeqCst);
                committed
            }
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
        for (job, outcome) in ran {
            let result = match outcome {
                Ran::Kept => committed.clone(),
                Ran::Discarded => Ok(()),
                Ran::Panicked(panic) => Err(panic),
            };
            answer(job, result, counters);
        }
    }
}

/// Runs one job inside its own savepoint. `Err(_)`: the whole transaction is lost.
fn run_job(conn: &Connection, job: &mut dyn WriteJob) -> Result<Ran, StoreError> {
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
            Ok(Ran::Kept)
        }
        Ok(JobOutcome::Discard) => {
            rollback_to_savepoint(conn)?;
            Ok(Ran::Discarded)
        }
        Err(panicked) => {
            rollback_to_savepoint(conn)?;
            Ok(Ran::Panicked(panicked))
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

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;
    use crate::record::Expect;
    use crate::sqlite::schema;

    type Answers = Arc<Mutex<Vec<(String, Result<(), StoreError>)>>>;

    /// Puts `size` bytes at `key`; records how it was answered.
    struct PutJob {
        key: String,
        size: usize,
        own: Option<Result<u64, StoreError>>,
        answers: Answers,
    }

    impl WriteJob for PutJob {
        fn run(&mut self, txn: &mut dyn crate::txn::Txn) -> JobOutcome {
            let result = txn.put(&self.key, &vec![1; self.size], Expect::Any);
            let outcome = if result.is_ok() {
                JobOutcome::Keep
            } else {
                JobOutcome::Discard
            };
            self.own = Some(result);
            outcome
        }
        fn finish(self: Box<Self>, committed: Result<(), StoreError>) {
            let answer = match self.own {
                Some(Err(own)) => Err(own),
                _ => committed,
            };
            self.answers
                .lock()
                .unwrap()
                .push((self.key.clone(), answer));
        }
    }

    fn job(key: &str, size: usize, answers: &Answers) -> Box<dyn WriteJob> {
        Box::new(PutJob {
            key: key.to_owned(),
            size,
            own: None,
            answers: answers.clone(),
        })
    }

    /// A job that hits "database full" in the middle of a batch: however SQLite handles it (the
    /// statement alone or the whole transaction rolled back), every job is answered, the failed
    /// one with an error, and the database holds exactly the jobs answered `Ok`.
    #[test]
    fn a_full_database_mid_batch_leaves_answers_and_data_consistent() {
        let dir = tempfile::tempdir().unwrap();
        let conn = Connection::open(dir.path().join("full.db")).unwrap();
        schema::configure_writer(&conn, false, std::time::Duration::from_secs(1)).unwrap();
        schema::prepare(&conn).unwrap();
        let pages: i64 = conn
            .query_row("PRAGMA page_count", [], |r| r.get(0))
            .unwrap();
        conn.execute_batch(&format!("PRAGMA max_page_count = {};", pages + 30))
            .unwrap();

        let answers: Answers = Arc::default();
        let counters = Counters::default();
        let mut batch: VecDeque<Box<dyn WriteJob>> = VecDeque::new();
        batch.push_back(job("before", 100, &answers));
        batch.push_back(job("huge", 1024 * 1024, &answers));
        batch.push_back(job("after", 100, &answers));
        commit_batch(&conn, &mut batch, &counters);
        assert!(batch.is_empty());

        let answers = answers.lock().unwrap().clone();
        assert_eq!(answers.len(), 3, "{answers:?}");
        for (key, answer) in &answers {
            let stored: i64 = conn
                .query_row(
                    "SELECT count(*) FROM kv WHERE key = ?1",
                    [key.as_bytes()],
                    |r| r.get(0),
                )
                .unwrap();
            assert_eq!(stored == 1, answer.is_ok(), "{key}: {answer:?}");
        }
        let answer_of = |key: &str| answers.iter().find(|(k, _)| k == key).unwrap().1.clone();
        assert!(
            matches!(answer_of("huge"), Err(StoreError::Backend(_))),
            "{answers:?}"
        );
        // Neither the job before the failure (re-run) nor the one after is collateral damage.
        assert_eq!(answer_of("before"), Ok(()));
        assert_eq!(answer_of("after"), Ok(()));
        assert!(conn.is_autocommit());
    }
}
