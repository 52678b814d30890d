//! Durable write and read throughput of the SQLite backend.
//!
//! `cargo bench -p rampart-store --bench throughput`. Read the item rates (items/s): they are
//! whole-store throughput.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::LazyLock;
use std::sync::atomic::{AtomicU64, Ordering};

use divan::Bencher;
use rampart_store::{Expect, SqliteOptions, Store, StoreError};

fn main() {
    divan::main();
}

/// A durable store (fsync per commit) on the same disk as the target directory.
static STORE: LazyLock<(tempfile::TempDir, Store)> = LazyLock::new(|| {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_sqlite(&dir.path().join("bench.db"), SqliteOptions::default()).unwrap();
    (dir, store)
});

static NEXT_KEY: AtomicU64 = AtomicU64::new(0);

/// A secret-sized JSON value.
const VALUE: &[u8] = br#"{"arn":"arn:aws:secretsmanager:us-east-1:123456789012:secret:bench-AbCdEf","version_id":"0b7f6a4c-2b7e-4c34-9a36-5d1f4f6c1a2b","stages":["AWSCURRENT"],"created":1764400000,"sealed":"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0+P0BBQkNERUZHSElKS0xNTk9QUVJTVFVWV1hZWltcXV5fYGFiY2RlZmdoaWprbG1ub3BxcnN0dXZ3eHl6e3x9fn8="}"#;

fn fresh_key() -> String {
    format!(
        "123456789012/us-east-1/secretsmanager/secret/bench-{:012}",
        NEXT_KEY.fetch_add(1, Ordering::Relaxed)
    )
}

/// Puts each thread does per sample in `concurrent_durable_puts`.
const PUTS_PER_WRITER: usize = 25;

/// `writers` threads each doing durable puts (one put per transaction, each acknowledged after
/// its commit's fsync). Divan's item rate is the store's total durable writes per second.
#[divan::bench(args = [1, 16, 64], sample_count = 12)]
fn concurrent_durable_puts(bencher: Bencher, writers: usize) {
    let store = &STORE.1;
    bencher
        .counter(divan::counter::ItemsCount::new(writers * PUTS_PER_WRITER))
        .bench(|| {
            std::thread::scope(|scope| {
                for _ in 0..writers {
                    scope.spawn(|| {
                        for _ in 0..PUTS_PER_WRITER {
                            let key = fresh_key();
                            store
                                .write_blocking(move |txn| txn.put(&key, VALUE, Expect::Absent))
                                .unwrap();
                        }
                    });
                }
            })
        });
}

/// The same without fsync (`Store::open_in_memory`): the CPU cost of the write path and group
/// commit machinery alone, i.e. the ceiling on this machine.
#[divan::bench(args = [1, 64], sample_count = 12)]
fn concurrent_puts_without_fsync(bencher: Bencher, writers: usize) {
    static SCRATCH: LazyLock<Store> = LazyLock::new(|| Store::open_in_memory().unwrap());
    let store = &*SCRATCH;
    bencher
        .counter(divan::counter::ItemsCount::new(writers * PUTS_PER_WRITER))
        .bench(|| {
            std::thread::scope(|scope| {
                for _ in 0..writers {
                    scope.spawn(|| {
                        for _ in 0..PUTS_PER_WRITER {
                            let key = fresh_key();
                            store
                                .write_blocking(move |txn| txn.put(&key, VALUE, Expect::Absent))
                                .unwrap();
                        }
                    });
                }
            })
        });
}

/// The same through the async API, 64 tasks in flight per operation.
#[divan::bench(sample_count = 20)]
fn durable_put_async_64_in_flight(bencher: Bencher) {
    let store = &STORE.1;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    bencher
        .counter(divan::counter::ItemsCount::new(64usize))
        .bench(|| {
            runtime.block_on(async {
                let tasks: Vec<_> = (0..64)
                    .map(|_| {
                        let store = store.clone();
                        let key = fresh_key();
                        runtime.spawn(async move {
                            store
                                .write(move |txn| txn.put(&key, VALUE, Expect::Absent))
                                .await
                        })
                    })
                    .collect();
                for task in tasks {
                    task.await.unwrap().unwrap();
                }
            })
        });
}

/// 100 audit-event-sized puts in one transaction (how an audit sink batches).
#[divan::bench(sample_count = 20)]
fn durable_batch_of_100(bencher: Bencher) {
    let store = &STORE.1;
    bencher
        .counter(divan::counter::ItemsCount::new(100usize))
        .bench(|| {
            let keys: Vec<String> = (0..100).map(|_| fresh_key()).collect();
            store
                .write_blocking(move |txn| {
                    for key in &keys {
                        txn.put(key, VALUE, Expect::Absent)?;
                    }
                    Ok::<_, StoreError>(())
                })
                .unwrap()
        });
}

/// A single-key read in its own read transaction, from 1 and 2 threads (time per read per
/// thread: with 2 threads the store serves 2 / that time).
#[divan::bench(threads = [1, 2])]
fn get_one_key(bencher: Bencher) {
    let store = &STORE.1;
    let key = "123456789012/us-east-1/secretsmanager/secret/read-me";
    store
        .write_blocking(move |txn| txn.put(key, VALUE, Expect::Any))
        .unwrap();
    bencher.bench(|| store.read_blocking(|txn| txn.get(key)).unwrap().unwrap());
}

/// The same read through `read_cached` while nothing commits (the hit path: a hash lookup and
/// an `Arc` clone), from 1 and 2 threads.
#[divan::bench(threads = [1, 2])]
fn get_one_key_cached(bencher: Bencher) {
    let store = &STORE.1;
    let key = "123456789012/us-east-1/secretsmanager/secret/read-me-cached";
    store
        .write_blocking(move |txn| txn.put(key, VALUE, Expect::Any))
        .unwrap();
    bencher.bench(|| {
        store
            .read_cached_blocking("bench:read-me", |txn| {
                Ok::<_, StoreError>(txn.get(key)?.map(|r| r.value))
            })
            .unwrap()
    });
}
