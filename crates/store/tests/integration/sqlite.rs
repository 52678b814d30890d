//! What only the SQLite backend promises: files, locks, schema, group commit, WAL readers.

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use rampart_store::{Expect, SqliteOptions, Store, StoreError};

fn open(path: &Path) -> Result<Store, StoreError> {
    Store::open_sqlite(path, SqliteOptions::default())
}

fn db_in(dir: &tempfile::TempDir) -> PathBuf {
    dir.path().join("store.db")
}

fn put(store: &Store, key: &str, value: &str) -> u64 {
    let (key, value) = (key.to_owned(), value.to_owned());
    store
        .write_blocking(move |txn| txn.put(&key, value.as_bytes(), Expect::Any))
        .unwrap()
}

/// Starts a write job that holds the writer (inside its transaction) until released.
/// Returns (release, done): send on `release` to let it finish; `done` yields its result.
fn hold_writer(
    store: &Store,
) -> (
    mpsc::Sender<()>,
    thread::JoinHandle<Result<u64, StoreError>>,
) {
    let (release_tx, release_rx) = mpsc::channel::<()>();
    let (started_tx, started_rx) = mpsc::channel::<()>();
    let store = store.clone();
    let handle = thread::spawn(move || {
        store.write_blocking(move |txn| {
            let version = txn.put("held", b"uncommitted", Expect::Any)?;
            let _ = started_tx.send(());
            let _ = release_rx.recv();
            Ok(version)
        })
    });
    started_rx.recv().unwrap();
    (release_tx, handle)
}

fn wait_for_pending(store: &Store, pending: u64) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while store.stats().pending_writes != pending {
        assert!(
            Instant::now() < deadline,
            "stats stuck at {:?}",
            store.stats()
        );
        thread::sleep(Duration::from_millis(2));
    }
}

fn spawn_writes(store: &Store, count: usize) -> Vec<thread::JoinHandle<Result<u64, StoreError>>> {
    (0..count)
        .map(|i| {
            let store = store.clone();
            thread::spawn(move || {
                let key = format!("queued/{i:03}");
                store.write_blocking(move |txn| txn.put(&key, b"q", Expect::Absent))
            })
        })
        .collect()
}

#[test]
fn reopen_keeps_data_and_versions() {
    let dir = tempfile::tempdir().unwrap();
    let path = db_in(&dir);
    let store = open(&path).unwrap();
    put(&store, "a", "1");
    put(&store, "a", "2");
    put(&store, "gone", "x");
    store
        .write_blocking(|txn| txn.delete("gone", Expect::Any))
        .unwrap();
    put(&store, "empty", "");
    store.close().unwrap();

    let store = open(&path).unwrap();
    let a = store.read_blocking(|txn| txn.get("a")).unwrap().unwrap();
    assert_eq!((a.value.as_slice(), a.version), (b"2".as_slice(), 2));
    assert_eq!(store.read_blocking(|txn| txn.get("gone")).unwrap(), None);
    // The tombstone kept its version across the restart.
    assert_eq!(put(&store, "gone", "back"), 2);
    assert_eq!(
        store
            .read_blocking(|txn| txn.get("empty"))
            .unwrap()
            .unwrap()
            .value,
        b""
    );
    assert_eq!(store.read_blocking(|txn| txn.count("")).unwrap(), 3);
}

#[test]
fn second_owner_is_refused_until_the_first_is_gone() {
    let dir = tempfile::tempdir().unwrap();
    let path = db_in(&dir);
    let first = open(&path).unwrap();
    match open(&path) {
        Err(StoreError::Locked {
            path: locked,
            lock_path,
        }) => {
            assert_eq!(locked, path);
            assert_eq!(lock_path, dir.path().join("store.db.lock"));
        }
        other => panic!("expected Locked, got {other:?}"),
    }
    put(&first, "k", "v");
    // Closing releases the lock.
    first.close().unwrap();
    let second = open(&path).unwrap();
    assert_eq!(
        second
            .read_blocking(|txn| txn.get("k"))
            .unwrap()
            .unwrap()
            .value,
        b"v"
    );
    // So does dropping the last handle without close.
    drop(second);
    let third = open(&path).unwrap();
    assert_eq!(third.read_blocking(|txn| txn.count("")).unwrap(), 1);
}

#[test]
fn foreign_sqlite_file_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = db_in(&dir);
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute_batch("CREATE TABLE cookies (name TEXT); INSERT INTO cookies VALUES ('x');")
        .unwrap();
    drop(conn);
    match open(&path) {
        Err(StoreError::Corrupt(message)) => {
            assert!(message.contains("not a Rampart store"), "{message}")
        }
        other => panic!("expected Corrupt, got {other:?}"),
    }
    // Untouched.
    let conn = rusqlite::Connection::open(&path).unwrap();
    let n: i64 = conn
        .query_row("SELECT count(*) FROM cookies", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 1);

    let garbage = dir.path().join("garbage.db");
    std::fs::write(&garbage, vec![0x42; 8192]).unwrap();
    assert!(
        matches!(open(&garbage), Err(StoreError::Corrupt(_))),
        "{:?}",
        open(&garbage)
    );
}

#[test]
fn schema_version_is_recorded_and_newer_schemas_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = db_in(&dir);
    open(&path).unwrap().close().unwrap();
    let conn = rusqlite::Connection::open(&path).unwrap();
    let version: String = conn
        .query_row(
            "SELECT value FROM meta WHERE name = 'schema_version'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(version, "2");
    conn.execute(
        "UPDATE meta SET value = '99' WHERE name = 'schema_version'",
        [],
    )
    .unwrap();
    drop(conn);
    assert_eq!(
        open(&path).err(),
        Some(StoreError::UnsupportedSchema {
            found: 99,
            supported: 2
        })
    );
}

#[test]
fn a_schema_1_store_is_migrated_with_its_records() {
    let dir = tempfile::tempdir().unwrap();
    let path = db_in(&dir);
    {
        // A store as schema 1 wrote it.
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch(
            "PRAGMA application_id = 1380798548;
             CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
             CREATE TABLE kv (key BLOB PRIMARY KEY, version INTEGER NOT NULL, value BLOB) WITHOUT ROWID;
             INSERT INTO meta VALUES ('schema_version', '1');
             INSERT INTO kv VALUES (CAST('a/1' AS BLOB), 3, x'01');
             INSERT INTO kv VALUES (CAST('a/2' AS BLOB), 1, NULL);",
        )
        .unwrap();
    }
    let store = open(&path).unwrap();
    let (one, two) = store
        .read_blocking(|tx| Ok::<_, StoreError>((tx.get("a/1")?, tx.get("a/2")?)))
        .unwrap();
    let one = one.unwrap();
    assert_eq!((one.value, one.version), (vec![1], 3));
    assert!(two.is_none(), "a tombstone stays a tombstone");
    store.close().unwrap();
    let conn = rusqlite::Connection::open(&path).unwrap();
    let sql: String = conn
        .query_row("SELECT sql FROM sqlite_schema WHERE name = 'kv'", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert!(!sql.contains("WITHOUT ROWID"), "{sql}");
}

#[cfg(unix)]
#[test]
fn files_are_private_to_the_owner() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = db_in(&dir);
    let store = open(&path).unwrap();
    put(&store, "k", "v");
    for name in ["store.db", "store.db-wal", "store.db.lock"] {
        let mode = std::fs::metadata(dir.path().join(name))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "{name} has mode {mode:o}");
    }
}

#[test]
fn close_checkpoints_the_wal_into_the_database() {
    let dir = tempfile::tempdir().unwrap();
    let path = db_in(&dir);
    let store = open(&path).unwrap();
    for i in 0..50 {
        put(&store, &format!("k/{i}"), "v");
    }
    assert!(
        std::fs::metadata(dir.path().join("store.db-wal"))
            .unwrap()
            .len()
            > 0
    );
    store.close().unwrap();
    let wal = std::fs::metadata(dir.path().join("store.db-wal"))
        .map(|m| m.len())
        .unwrap_or(0);
    assert_eq!(wal, 0, "WAL left with {wal} bytes");
    // The main file alone holds everything.
    let conn =
        rusqlite::Connection::open_with_flags(&path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .unwrap();
    let n: i64 = conn
        .query_row("SELECT count(*) FROM kv", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 50);
}

/// Jobs queued while the writer is busy are committed together, in one transaction.
#[test]
fn queued_writes_share_one_commit() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&db_in(&dir)).unwrap();
    let before = store.stats();
    let (release, held) = hold_writer(&store);
    let writers = spawn_writes(&store, 20);
    wait_for_pending(&store, 21);
    release.send(()).unwrap();
    assert_eq!(held.join().unwrap(), Ok(1));
    for writer in writers {
        assert_eq!(writer.join().unwrap(), Ok(1));
    }
    let after = store.stats();
    assert_eq!(after.write_jobs - before.write_jobs, 21);
    // One commit for the job holding the writer, one for the 20 queued behind it.
    assert_eq!(after.commits - before.commits, 2, "{after:?}");
    assert_eq!(after.pending_writes, 0);
    assert_eq!(store.read_blocking(|txn| txn.count("queued/")).unwrap(), 20);
}

#[test]
fn max_batch_bounds_a_commit() {
    let dir = tempfile::tempdir().unwrap();
    let options = SqliteOptions {
        max_batch: 4,
        ..SqliteOptions::default()
    };
    let store = Store::open_sqlite(&db_in(&dir), options).unwrap();
    let before = store.stats();
    let (release, held) = hold_writer(&store);
    let writers = spawn_writes(&store, 20);
    wait_for_pending(&store, 21);
    release.send(()).unwrap();
    held.join().unwrap().unwrap();
    for writer in writers {
        writer.join().unwrap().unwrap();
    }
    assert_eq!(store.stats().commits - before.commits, 1 + 5);
}

/// A writer in the middle of a long transaction blocks no reader, and readers do not see its
/// uncommitted writes.
#[test]
fn readers_are_not_blocked_by_the_writer() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&db_in(&dir)).unwrap();
    put(&store, "held", "committed");
    let (release, held) = hold_writer(&store);
    let started = Instant::now();
    for _ in 0..20 {
        let seen = store.read_blocking(|txn| txn.get("held")).unwrap().unwrap();
        assert_eq!(seen.value, b"committed");
    }
    assert!(started.elapsed() < Duration::from_secs(5));
    release.send(()).unwrap();
    assert_eq!(held.join().unwrap(), Ok(2));
    assert_eq!(
        store
            .read_blocking(|txn| txn.get("held"))
            .unwrap()
            .unwrap()
            .value,
        b"uncommitted"
    );
}

/// `close` answers every write queued before it, durably.
#[test]
fn close_drains_queued_writes() {
    let dir = tempfile::tempdir().unwrap();
    let path = db_in(&dir);
    let store = open(&path).unwrap();
    let (release, held) = hold_writer(&store);
    let writers = spawn_writes(&store, 10);
    wait_for_pending(&store, 11);
    let closer = {
        let store = store.clone();
        thread::spawn(move || store.close())
    };
    // Give close time to start waiting on the writer.
    thread::sleep(Duration::from_millis(50));
    release.send(()).unwrap();
    closer.join().unwrap().unwrap();
    held.join().unwrap().unwrap();
    for writer in writers {
        assert_eq!(writer.join().unwrap(), Ok(1));
    }
    assert_eq!(
        store.write_blocking(|txn| txn.put("after", b"", Expect::Any)),
        Err(StoreError::Closed)
    );
    let reopened = open(&path).unwrap();
    assert_eq!(
        reopened.read_blocking(|txn| txn.count("queued/")).unwrap(),
        10
    );
}

#[test]
fn in_memory_stores_are_independent() {
    let a = Store::open_in_memory().unwrap();
    let b = Store::open_in_memory().unwrap();
    put(&a, "k", "a");
    assert_eq!(b.read_blocking(|txn| txn.get("k")).unwrap(), None);
    assert_eq!(a.backend_name(), "sqlite");
}

/// A write started inside a write closure fails instead of deadlocking the writer; reads work.
#[test]
fn nested_write_fails_instead_of_deadlocking() {
    let store = Store::open_in_memory().unwrap();
    put(&store, "k", "committed");
    let inner = store.clone();
    let (nested, read) = store
        .write_blocking(move |txn| {
            txn.put("k", b"pending", Expect::Any)?;
            let nested = inner.write_blocking(|txn| txn.put("other", b"", Expect::Any));
            // A separate read transaction sees the last commit, not this one's pending write.
            let read = inner.read_blocking(|txn| txn.get("k"))?.unwrap().value;
            Ok::<_, StoreError>((nested, read))
        })
        .unwrap();
    assert_eq!(nested, Err(StoreError::NestedWrite));
    assert_eq!(read, b"committed");
    assert_eq!(
        store
            .read_blocking(|txn| txn.get("k"))
            .unwrap()
            .unwrap()
            .value,
        b"pending"
    );
    assert_eq!(store.read_blocking(|txn| txn.get("other")).unwrap(), None);
}

/// Handlers hold a `Store` across `.await`s in multi-threaded servers: the handle and the
/// futures of `write` and `read` must be `Send` (this test fails to compile otherwise).
#[test]
fn handles_and_futures_are_send() {
    fn assert_send_sync<T: Send + Sync + Clone + 'static>(_: &T) {}
    fn assert_send<T: Send>(_: &T) {}
    let store = Store::open_in_memory().unwrap();
    assert_send_sync(&store);
    let write = store.write(|txn| txn.put("k", b"v", Expect::Any));
    assert_send(&write);
    let read = store.read(|txn| txn.get("k"));
    assert_send(&read);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    assert_eq!(runtime.block_on(write), Ok(1));
    assert_eq!(runtime.block_on(read).unwrap().unwrap().version, 1);
}

/// Sustained writes (with reads in between) do not grow the WAL without bound: checkpoints run
/// and the log restarts, since pooled readers hold no snapshot between reads.
#[test]
fn wal_stays_bounded_under_sustained_writes() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&db_in(&dir)).unwrap();
    let value = vec![7u8; 4000];
    for commit in 0..100 {
        let value = value.clone();
        store
            .write_blocking(move |txn| {
                for i in 0..30 {
                    txn.put(&format!("bulk/{commit:03}/{i:02}"), &value, Expect::Any)?;
                }
                Ok::<_, StoreError>(())
            })
            .unwrap();
        assert_eq!(
            store
                .read_blocking(|txn| txn.count(&format!("bulk/{commit:03}/")))
                .unwrap(),
            30
        );
    }
    // 12 MB went through the WAL; without checkpoints it would be at least that long.
    let wal = std::fs::metadata(dir.path().join("store.db-wal"))
        .unwrap()
        .len();
    assert!(wal < 8 * 1024 * 1024, "WAL grew to {wal} bytes");
    assert_eq!(store.read_blocking(|txn| txn.count("bulk/")).unwrap(), 3000);
}

/// However many reads arrive at once, at most `max_readers` connections are open; the others
/// wait their turn and succeed.
#[test]
fn reader_connections_are_capped() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    let dir = tempfile::tempdir().unwrap();
    let options = SqliteOptions {
        max_readers: 2,
        idle_readers: 1,
        ..SqliteOptions::default()
    };
    let store = Store::open_sqlite(&db_in(&dir), options).unwrap();
    put(&store, "k", "v");
    let (active, peak) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let readers: Vec<_> = (0..8)
        .map(|_| {
            let (store, active, peak) = (store.clone(), active.clone(), peak.clone());
            thread::spawn(move || {
                store.read_blocking(|txn| {
                    let now = active.fetch_add(1, Ordering::SeqCst) + 1;
                    peak.fetch_max(now, Ordering::SeqCst);
                    thread::sleep(Duration::from_millis(30));
                    active.fetch_sub(1, Ordering::SeqCst);
                    txn.get("k")
                })
            })
        })
        .collect();
    for reader in readers {
        assert_eq!(reader.join().unwrap().unwrap().unwrap().value, b"v");
    }
    assert_eq!(peak.load(Ordering::SeqCst), 2);
}

/// A read nested in a read when no connection is free fails with `Busy` after the timeout
/// instead of waiting forever.
#[test]
fn nested_read_with_no_free_connection_times_out() {
    let dir = tempfile::tempdir().unwrap();
    let options = SqliteOptions {
        max_readers: 1,
        busy_timeout: Duration::from_millis(200),
        ..SqliteOptions::default()
    };
    let store = Store::open_sqlite(&db_in(&dir), options).unwrap();
    let inner = store.clone();
    let nested = store
        .read_blocking(move |_txn| Ok::<_, StoreError>(inner.read_blocking(|txn| txn.count(""))))
        .unwrap();
    assert!(matches!(nested, Err(StoreError::Busy(_))), "{nested:?}");
    // The pool recovers.
    assert_eq!(store.read_blocking(|txn| txn.count("")), Ok(0));
}

/// Closing from inside a write closure neither deadlocks nor loses that write.
#[test]
fn close_from_inside_a_write_does_not_deadlock() {
    let dir = tempfile::tempdir().unwrap();
    let path = db_in(&dir);
    let store = open(&path).unwrap();
    let inner = store.clone();
    let closed = store
        .write_blocking(move |txn| {
            txn.put("k", b"kept", Expect::Any)?;
            Ok::<_, StoreError>(inner.close())
        })
        .unwrap();
    assert!(matches!(closed, Err(StoreError::Backend(_))), "{closed:?}");
    assert_eq!(
        store.write_blocking(|txn| txn.put("k2", b"", Expect::Any)),
        Err(StoreError::Closed)
    );
    drop(store);
    // The writer thread closes on its own once the closure returns (it could not be joined from
    // inside itself), so the file lock is released shortly after, not at once.
    let deadline = Instant::now() + Duration::from_secs(10);
    let reopened = loop {
        match open(&path) {
            Err(StoreError::Locked { .. }) if Instant::now() < deadline => {
                thread::sleep(Duration::from_millis(10));
            }
            other => break other.unwrap(),
        }
    };
    assert_eq!(
        reopened
            .read_blocking(|txn| txn.get("k"))
            .unwrap()
            .unwrap()
            .value,
        b"kept"
    );
}

/// A relaxed write is visible at once, and an idle writer syncs it within the promised window
/// (the sync is a FULL commit that stamps `meta.last_sync`).
#[test]
fn relaxed_writes_are_visible_and_synced_soon() {
    let dir = tempfile::tempdir().unwrap();
    let path = db_in(&dir);
    let store = open(&path).unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let version = runtime
        .block_on(store.write_relaxed(|txn| txn.put("r/1", b"v", Expect::Absent)))
        .unwrap();
    assert_eq!(version, 1);
    let seen = store.read_blocking(|txn| txn.get("r/1")).unwrap().unwrap();
    assert_eq!(seen.value, b"v");
    let raw = rusqlite::Connection::open(&path).unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let synced: Option<String> = raw
            .query_row(
                "SELECT value FROM meta WHERE name = 'last_sync'",
                [],
                |row| row.get(0),
            )
            .ok();
        if synced.is_some() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the relaxed commit was never synced"
        );
        thread::sleep(Duration::from_millis(20));
    }
    // A synced write after relaxed ones still works and is answered normally.
    put(&store, "r/2", "w");
    store.close().unwrap();
}
