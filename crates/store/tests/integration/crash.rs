//! kill -9 in the middle of a write storm loses no acknowledged write.
//!
//! `store-crash-writer` writes from several threads and prints each acknowledged write; we
//! SIGKILL it after a few thousand acks, reopen, and check every ack. Three rounds on one
//! database, each continuing after the previous crash. (This proves process-crash durability;
//! power loss additionally relies on SQLite's fsync at `synchronous=FULL`.)

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

use rampart_store::{SqliteOptions, Store, StoreError};

const THREADS: u64 = 6;

/// Same as the writer's.
fn crash_value(thread: u64, seq: u64) -> String {
    format!("value-{thread}-{seq}-{}", "x".repeat((seq % 200) as usize))
}

/// Runs the writer until `kill_after` acks, kills it, and returns the highest acked seq per
/// thread plus every ack.
fn run_and_kill(db: &Path, kill_after: usize) -> Vec<(u64, u64)> {
    run_and_kill_mode(db, kill_after, false)
}

fn run_and_kill_mode(db: &Path, kill_after: usize, relaxed: bool) -> Vec<(u64, u64)> {
    let mut child = Command::new(env!("CARGO_BIN_EXE_store-crash-writer"))
        .arg(db)
        .arg(THREADS.to_string())
        .args(if relaxed { &["relaxed"][..] } else { &[][..] })
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut acks = Vec::new();
    let mut killed = false;
    for line in BufReader::new(stdout).lines() {
        let line = line.unwrap();
        let mut parts = line.split(' ');
        // A line cut by the kill has no newline and is not read as a line; anything else is an ack.
        assert_eq!(parts.next(), Some("ack"), "unexpected output {line:?}");
        let thread: u64 = parts.next().unwrap().parse().unwrap();
        let seq: u64 = parts.next().unwrap().parse().unwrap();
        acks.push((thread, seq));
        if acks.len() == 200 && !killed {
            // While the writer owns the store, nobody else may open it.
            match Store::open_sqlite(db, SqliteOptions::default()) {
                Err(StoreError::Locked { .. }) => {}
                other => panic!("second owner not refused: {other:?}"),
            }
        }
        if acks.len() >= kill_after && !killed {
            child.kill().unwrap(); // SIGKILL
            killed = true;
        }
    }
    let status = child.wait().unwrap();
    assert!(
        killed,
        "the writer stopped by itself after {} acks: {status}",
        acks.len()
    );
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(
            status.signal(),
            Some(9),
            "writer did not die by SIGKILL: {status}"
        );
    }
    acks
}

fn verify(db: &Path, acked: &BTreeMap<u64, u64>, all_acks: &[(u64, u64)]) {
    let store = Store::open_sqlite(db, SqliteOptions::default()).unwrap();
    store
        .read_blocking(|txn| {
            for &(thread, seq) in all_acks {
                let record = txn.get(&format!("crash/{thread}/{seq:08}"))?;
                let record =
                    record.unwrap_or_else(|| panic!("acknowledged write {thread}/{seq} lost"));
                assert_eq!(record.value, crash_value(thread, seq).as_bytes());
                assert_eq!(record.version, 1);
            }
            for thread in 0..THREADS {
                let last = match txn.get(&format!("crash/{thread}/last"))? {
                    Some(record) => String::from_utf8(record.value)
                        .unwrap()
                        .parse::<u64>()
                        .unwrap(),
                    None => 0,
                };
                let acked_up_to = acked.get(&thread).copied().unwrap_or(0);
                assert!(
                    last >= acked_up_to,
                    "thread {thread}: last {last} < acked {acked_up_to}"
                );
                // Each write put its key and `last` together: no gaps, nothing half-written.
                let keys = txn.count(&format!("crash/{thread}/0"))?;
                assert_eq!(keys, last, "thread {thread}: {keys} keys but last = {last}");
            }
            Ok::<_, StoreError>(())
        })
        .unwrap();
    store.close().unwrap();
    let conn = rusqlite::Connection::open(db).unwrap();
    let integrity: String = conn
        .query_row("PRAGMA integrity_check", [], |row| row.get(0))
        .unwrap();
    assert_eq!(integrity, "ok");
}

#[test]
fn acknowledged_writes_survive_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("crash.db");
    let mut acked: BTreeMap<u64, u64> = BTreeMap::new();
    let mut all_acks = Vec::new();
    for round in 0..3 {
        let acks = run_and_kill(&db, 2000 + 1000 * round);
        for &(thread, seq) in &acks {
            let highest = acked.entry(thread).or_insert(0);
            *highest = (*highest).max(seq);
        }
        assert!(acks.len() >= 2000);
        all_acks.extend(acks);
        verify(&db, &acked, &all_acks);
    }
    // The rounds really continued one database: thread 0 got past the first round's work.
    assert!(acked.values().all(|&seq| seq > 0));
}

/// Relaxed writes are acknowledged without waiting for fsync; a killed process must still lose
/// none of them (they are committed and in the operating system's hands).
#[test]
fn acknowledged_relaxed_writes_survive_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("crash-relaxed.db");
    let mut acked: BTreeMap<u64, u64> = BTreeMap::new();
    let mut all_acks = Vec::new();
    for round in 0..2 {
        let acks = run_and_kill_mode(&db, 3000 + 1000 * round, true);
        for &(thread, seq) in &acks {
            let highest = acked.entry(thread).or_insert(0);
            *highest = (*highest).max(seq);
        }
        assert!(acks.len() >= 3000);
        all_acks.extend(acks);
        verify(&db, &acked, &all_acks);
    }
}
