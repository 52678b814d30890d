//! Crash-test load generator: writes to a store from several threads and prints `ack T SEQ` on
//! stdout the moment each durable write returns. The crash test kills it with SIGKILL and checks
//! that every acknowledged write survived.
//!
//! Usage: `store-crash-writer <database> <threads> [relaxed]` (`relaxed`: every write uses
//! `write_relaxed`, acknowledged without waiting for fsync). Each thread `t` writes, in one transaction,
//! `crash/t/SEQ` (value from `crash_value`) and `crash/t/last` = SEQ with `Expect::Version`, so
//! after a crash `last` says how far the thread got and every key up to it must exist. A restart
//! continues where `last` says. Thread 0 uses the async API, the others the blocking one. Stops
//! by itself after `MAX_WRITES_PER_THREAD` writes per thread.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use rampart_store::{Expect, SqliteOptions, Store, StoreError};

const MAX_WRITES_PER_THREAD: u64 = 100_000;

/// The value written at `crash/t/seq` (the crash test computes the same).
fn crash_value(thread: u64, seq: u64) -> String {
    format!("value-{thread}-{seq}-{}", "x".repeat((seq % 200) as usize))
}

fn write_one(
    thread: u64,
    seq: u64,
) -> impl FnMut(&mut dyn rampart_store::Txn) -> Result<(), StoreError> + Send + 'static {
    move |txn| {
        txn.put(
            &format!("crash/{thread}/{seq:08}"),
            crash_value(thread, seq).as_bytes(),
            Expect::Absent,
        )?;
        let expect = if seq == 1 {
            Expect::Absent
        } else {
            Expect::Present
        };
        let last = txn.get(&format!("crash/{thread}/last"))?;
        let previous: u64 = match &last {
            Some(record) => String::from_utf8_lossy(&record.value).parse().unwrap_or(0),
            None => 0,
        };
        if previous + 1 != seq {
            return Err(StoreError::Corrupt(format!(
                "thread {thread}: last is {previous}, writing {seq}"
            )));
        }
        let expect = match (&last, expect) {
            (Some(record), _) => Expect::Version(record.version),
            (None, expect) => expect,
        };
        txn.put(
            &format!("crash/{thread}/last"),
            seq.to_string().as_bytes(),
            expect,
        )?;
        Ok(())
    }
}

/// One whole line per ack, flushed at once, so the line is out before the next write starts.
fn ack(thread: u64, seq: u64) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "ack {thread} {seq}")?;
    out.flush()
}

fn first_seq(store: &Store, thread: u64) -> Result<u64, StoreError> {
    store.read_blocking(|txn| {
        Ok(match txn.get(&format!("crash/{thread}/last"))? {
            Some(record) => {
                String::from_utf8_lossy(&record.value)
                    .parse::<u64>()
                    .unwrap_or(0)
                    + 1
            }
            None => 1,
        })
    })
}

fn run_thread(store: Store, thread: u64, relaxed: bool) -> Result<(), String> {
    let start = first_seq(&store, thread).map_err(|e| e.to_string())?;
    if relaxed {
        // Every thread acknowledges after a relaxed commit (no fsync wait).
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .map_err(|e| e.to_string())?;
        return runtime.block_on(async {
            for seq in start..start + MAX_WRITES_PER_THREAD {
                store
                    .write_relaxed(write_one(thread, seq))
                    .await
                    .map_err(|e| e.to_string())?;
                ack(thread, seq).map_err(|e| e.to_string())?;
            }
            Ok(())
        });
    }
    if thread == 0 {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .map_err(|e| e.to_string())?;
        runtime.block_on(async {
            for seq in start..start + MAX_WRITES_PER_THREAD {
                store
                    .write(write_one(thread, seq))
                    .await
                    .map_err(|e| e.to_string())?;
                ack(thread, seq).map_err(|e| e.to_string())?;
            }
            Ok(())
        })
    } else {
        for seq in start..start + MAX_WRITES_PER_THREAD {
            store
                .write_blocking(write_one(thread, seq))
                .map_err(|e| e.to_string())?;
            ack(thread, seq).map_err(|e| e.to_string())?;
        }
        Ok(())
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let (Some(path), Some(threads)) =
        (args.get(1), args.get(2).and_then(|t| t.parse::<u64>().ok()))
    else {
        eprintln!("usage: store-crash-writer <database> <threads> [relaxed]");
        return ExitCode::from(2);
    };
    let store = match Store::open_sqlite(&PathBuf::from(path), SqliteOptions::default()) {
        Ok(store) => store,
        Err(error) => {
            eprintln!("store-crash-writer: {error}");
            return ExitCode::from(1);
        }
    };
    let relaxed = args.get(3).is_some_and(|a| a == "relaxed");
    let handles: Vec<_> = (0..threads)
        .map(|thread| {
            let store = store.clone();
            std::thread::spawn(move || run_thread(store, thread, relaxed))
        })
        .collect();
    let mut failed = false;
    for handle in handles {
        match handle.join() {
            Ok(Ok(())) => {}
            Ok(Err(error)) => {
                eprintln!("store-crash-writer: {error}");
                failed = true;
            }
            Err(_) => failed = true,
        }
    }
    if let Err(error) = store.close() {
        eprintln!("store-crash-writer: close: {error}");
        failed = true;
    }
    if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}
