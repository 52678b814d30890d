//! The backend conformance suite: what every backend must do, written once.
//!
//! Each case is a function taking a fresh, empty `&Store`. A backend's test binary runs them all,
//! one `#[test]` each, with
//!
//! ```ignore
//! rampart_store::conformance_tests!(|| Store::open_in_memory().unwrap());
//! ```
//!
//! where the factory returns anything that is `AsRef<Store>` (a fixture may own the database's
//! temporary directory or container next to the store). `CASES` lists the same cases for
//! runners that prefer one loop.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread;

use crate::{Expect, MAX_KEY_BYTES, MAX_VALUE_BYTES, Record, Store, StoreError, Txn};

/// One conformance case: it gets a fresh, empty store and panics if the backend misbehaves.
pub type Case = fn(&Store);

/// Every case, by name, in the order `conformance_tests!` declares them.
pub const CASES: &[(&str, Case)] = &[
    ("put_get_and_versions", put_get_and_versions),
    ("get_missing_is_none", get_missing_is_none),
    ("empty_value_is_a_value", empty_value_is_a_value),
    ("expect_absent", expect_absent),
    ("expect_present", expect_present),
    ("expect_version", expect_version),
    ("delete_semantics", delete_semantics),
    (
        "versions_never_reused_after_delete",
        versions_never_reused_after_delete,
    ),
    (
        "own_writes_visible_inside_transaction",
        own_writes_visible_inside_transaction,
    ),
    ("err_rolls_back_everything", err_rolls_back_everything),
    (
        "conflict_inside_transaction_rolls_back_earlier_writes",
        conflict_inside_transaction_rolls_back_earlier_writes,
    ),
    (
        "panic_in_write_rolls_back_and_store_survives",
        panic_in_write_rolls_back_and_store_survives,
    ),
    ("panic_in_read_is_an_error", panic_in_read_is_an_error),
    ("concurrent_jobs_fail_alone", concurrent_jobs_fail_alone),
    ("scan_orders_by_bytes", scan_orders_by_bytes),
    ("scan_prefix_is_raw", scan_prefix_is_raw),
    ("scan_pagination", scan_pagination),
    (
        "scan_start_after_outside_prefix",
        scan_start_after_outside_prefix,
    ),
    (
        "scan_all_pages_through_everything",
        scan_all_pages_through_everything,
    ),
    ("count_and_delete_prefix", count_and_delete_prefix),
    ("invalid_arguments", invalid_arguments),
    ("large_values", large_values),
    (
        "concurrent_compare_and_set_counter",
        concurrent_compare_and_set_counter,
    ),
    (
        "concurrent_read_modify_write_counter",
        concurrent_read_modify_write_counter,
    ),
    ("async_api", async_api),
    (
        "reads_see_consistent_snapshots",
        reads_see_consistent_snapshots,
    ),
    ("read_snapshot_is_stable", read_snapshot_is_stable),
    ("close_closes_every_clone", close_closes_every_clone),
    (
        "random_operations_match_a_model",
        random_operations_match_a_model,
    ),
];

/// Declares one `#[test]` per conformance case in the calling module. `$factory` is called once
/// per case and returns a fresh store fixture (`AsRef<Store>`). Also declares
/// `CONFORMANCE_CASE_NAMES`, so a runner can check it covers `conformance::CASES`.
#[macro_export]
macro_rules! conformance_tests {
    ($factory:expr) => {
        $crate::conformance_tests!(@cases $factory;
            put_get_and_versions,
            get_missing_is_none,
            empty_value_is_a_value,
            expect_absent,
            expect_present,
            expect_version,
            delete_semantics,
            versions_never_reused_after_delete,
            own_writes_visible_inside_transaction,
            err_rolls_back_everything,
            conflict_inside_transaction_rolls_back_earlier_writes,
            panic_in_write_rolls_back_and_store_survives,
            panic_in_read_is_an_error,
            concurrent_jobs_fail_alone,
            scan_orders_by_bytes,
            scan_prefix_is_raw,
            scan_pagination,
            scan_start_after_outside_prefix,
            scan_all_pages_through_everything,
            count_and_delete_prefix,
            invalid_arguments,
            large_values,
            concurrent_compare_and_set_counter,
            concurrent_read_modify_write_counter,
            async_api,
            reads_see_consistent_snapshots,
            read_snapshot_is_stable,
            close_closes_every_clone,
            random_operations_match_a_model,
        );
    };
    (@cases $factory:expr; $($case:ident),* $(,)?) => {
        #[allow(dead_code)]
        const CONFORMANCE_CASE_NAMES: &[&str] = &[$(stringify!($case)),*];
        $(
            #[test]
            fn $case() {
                let fixture = ($factory)();
                $crate::conformance::$case(::core::convert::AsRef::<$crate::Store>::as_ref(&fixture));
            }
        )*
    };
}

// ---- helpers ---------------------------------------------------------------------------------

fn put(store: &Store, key: &str, value: &[u8]) -> u64 {
    let (key, value) = (key.to_owned(), value.to_vec());
    store
        .write_blocking(move |txn| txn.put(&key, &value, Expect::Any))
        .unwrap()
}

fn try_put(store: &Store, key: &str, value: &[u8], expect: Expect) -> Result<u64, StoreError> {
    let (key, value) = (key.to_owned(), value.to_vec());
    store.write_blocking(move |txn| txn.put(&key, &value, expect))
}

fn try_delete(store: &Store, key: &str, expect: Expect) -> Result<bool, StoreError> {
    let key = key.to_owned();
    store.write_blocking(move |txn| txn.delete(&key, expect))
}

fn get(store: &Store, key: &str) -> Option<Record> {
    store.read_blocking(|txn| txn.get(key)).unwrap()
}

fn keys(store: &Store, prefix: &str, start_after: Option<&str>, limit: usize) -> Vec<String> {
    store
        .read_blocking(|txn| txn.scan(prefix, start_after, limit))
        .unwrap()
        .into_iter()
        .map(|(key, _)| key)
        .collect()
}

fn assert_conflict(result: Result<impl std::fmt::Debug, StoreError>, found: Option<u64>) {
    match result {
        Err(StoreError::Conflict { found: actual, .. }) => assert_eq!(actual, found),
        other => panic!("expected a conflict (found {found:?}), got {other:?}"),
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
}

/// Writes many keys in one transaction.
fn put_many(store: &Store, entries: Vec<(String, Vec<u8>)>) {
    store
        .write_blocking(move |txn| {
            for (key, value) in &entries {
                txn.put(key, value, Expect::Any)?;
            }
            Ok::<_, StoreError>(())
        })
        .unwrap();
}

// ---- cases -----------------------------------------------------------------------------------

/// Versions start at 1 and grow by one per put; get returns the last value.
pub fn put_get_and_versions(store: &Store) {
    assert_eq!(put(store, "a/k", b"one"), 1);
    assert_eq!(
        get(store, "a/k"),
        Some(Record {
            value: b"one".to_vec(),
            version: 1
        })
    );
    assert_eq!(put(store, "a/k", b"two"), 2);
    assert_eq!(put(store, "a/k", b"three"), 3);
    assert_eq!(
        get(store, "a/k"),
        Some(Record {
            value: b"three".to_vec(),
            version: 3
        })
    );
    // Another key has its own counter.
    assert_eq!(put(store, "a/other", b"x"), 1);
}

pub fn get_missing_is_none(store: &Store) {
    assert_eq!(get(store, "nothing/here"), None);
    put(store, "nothing/her", b"x");
    assert_eq!(get(store, "nothing/here"), None);
}

/// An empty value is a live record, not a deletion.
pub fn empty_value_is_a_value(store: &Store) {
    assert_eq!(put(store, "e", b""), 1);
    assert_eq!(
        get(store, "e"),
        Some(Record {
            value: Vec::new(),
            version: 1
        })
    );
    assert_eq!(keys(store, "", None, 10), vec!["e".to_owned()]);
    assert_eq!(store.read_blocking(|txn| txn.count("e")).unwrap(), 1);
    assert_conflict(try_put(store, "e", b"x", Expect::Absent), Some(1));
}

pub fn expect_absent(store: &Store) {
    assert_eq!(try_put(store, "k", b"1", Expect::Absent).unwrap(), 1);
    assert_conflict(try_put(store, "k", b"2", Expect::Absent), Some(1));
    assert_eq!(get(store, "k").unwrap().value, b"1");
    try_delete(store, "k", Expect::Any).unwrap();
    // Absent again after a delete.
    assert!(try_put(store, "k", b"3", Expect::Absent).is_ok());
}

pub fn expect_present(store: &Store) {
    assert_conflict(try_put(store, "k", b"1", Expect::Present), None);
    assert_eq!(get(store, "k"), None);
    put(store, "k", b"1");
    assert_eq!(try_put(store, "k", b"2", Expect::Present).unwrap(), 2);
    assert_conflict(try_delete(store, "missing", Expect::Present), None);
    assert!(try_delete(store, "k", Expect::Present).unwrap());
}

pub fn expect_version(store: &Store) {
    assert_conflict(try_put(store, "k", b"x", Expect::Version(1)), None);
    put(store, "k", b"1");
    put(store, "k", b"2");
    assert_conflict(try_put(store, "k", b"3", Expect::Version(1)), Some(2));
    assert_conflict(try_put(store, "k", b"3", Expect::Version(3)), Some(2));
    assert_eq!(
        get(store, "k").unwrap(),
        Record {
            value: b"2".to_vec(),
            version: 2
        }
    );
    assert_eq!(try_put(store, "k", b"3", Expect::Version(2)).unwrap(), 3);
    assert_conflict(try_delete(store, "k", Expect::Version(2)), Some(3));
    assert!(get(store, "k").is_some());
    assert!(try_delete(store, "k", Expect::Version(3)).unwrap());
}

pub fn delete_semantics(store: &Store) {
    assert!(!try_delete(store, "k", Expect::Any).unwrap());
    assert!(!try_delete(store, "k", Expect::Absent).unwrap());
    put(store, "k", b"v");
    assert_conflict(try_delete(store, "k", Expect::Absent), Some(1));
    assert_eq!(get(store, "k").unwrap().value, b"v");
    assert!(try_delete(store, "k", Expect::Any).unwrap());
    assert_eq!(get(store, "k"), None);
    assert!(!try_delete(store, "k", Expect::Any).unwrap());
    assert!(keys(store, "", None, 10).is_empty());
    assert_eq!(store.read_blocking(|txn| txn.count("")).unwrap(), 0);
}

/// A key deleted and created again continues its versions (never reuses one: no ABA).
pub fn versions_never_reused_after_delete(store: &Store) {
    put(store, "k", b"1");
    put(store, "k", b"2");
    assert_eq!(put(store, "k", b"3"), 3);
    try_delete(store, "k", Expect::Any).unwrap();
    assert_eq!(put(store, "k", b"new"), 4);
    assert_conflict(try_put(store, "k", b"x", Expect::Version(3)), Some(4));
    // The same through delete_prefix.
    store.write_blocking(|txn| txn.delete_prefix("k")).unwrap();
    assert_eq!(put(store, "k", b"again"), 5);
}

/// Inside a write transaction, reads see its own earlier writes.
pub fn own_writes_visible_inside_transaction(store: &Store) {
    put(store, "p/old", b"old");
    store
        .write_blocking(|txn| {
            assert_eq!(txn.put("p/new", b"n", Expect::Absent)?, 1);
            assert_eq!(txn.get("p/new")?.unwrap().value, b"n");
            assert!(txn.delete("p/old", Expect::Version(1))?);
            assert_eq!(txn.get("p/old")?, None);
            let listed: Vec<String> = txn
                .scan("p/", None, 10)?
                .into_iter()
                .map(|(k, _)| k)
                .collect();
            assert_eq!(listed, vec!["p/new".to_owned()]);
            assert_eq!(txn.as_read().count("p/")?, 1);
            assert_eq!(txn.put("p/new", b"n2", Expect::Version(1))?, 2);
            Ok::<_, StoreError>(())
        })
        .unwrap();
    assert_eq!(get(store, "p/new").unwrap().version, 2);
}

#[derive(Debug, PartialEq)]
enum AppError {
    Store(StoreError),
    Refused,
}

impl From<StoreError> for AppError {
    fn from(error: StoreError) -> AppError {
        AppError::Store(error)
    }
}

/// A closure returning `Err` leaves nothing behind, and the caller gets its own error back.
pub fn err_rolls_back_everything(store: &Store) {
    put(store, "r/existing", b"before");
    let result: Result<(), AppError> = store.write_blocking(|txn| {
        txn.put("r/new", b"x", Expect::Absent)?;
        txn.put("r/existing", b"after", Expect::Any)?;
        txn.delete_prefix("r/")?;
        txn.put("r/third", b"y", Expect::Any)?;
        Err(AppError::Refused)
    });
    assert_eq!(result, Err(AppError::Refused));
    assert_eq!(
        get(store, "r/existing"),
        Some(Record {
            value: b"before".to_vec(),
            version: 1
        })
    );
    assert_eq!(keys(store, "r/", None, 10), vec!["r/existing".to_owned()]);
    // The next write still works, and versions continue as if nothing happened.
    assert_eq!(put(store, "r/existing", b"later"), 2);
}

pub fn conflict_inside_transaction_rolls_back_earlier_writes(store: &Store) {
    put(store, "c/taken", b"t");
    let result = store.write_blocking(|txn| {
        txn.put("c/first", b"1", Expect::Any)?;
        txn.put("c/taken", b"2", Expect::Absent)?;
        Ok::<_, StoreError>(())
    });
    assert_conflict(result, Some(1));
    assert_eq!(get(store, "c/first"), None);
    assert_eq!(get(store, "c/taken").unwrap().value, b"t");
}

/// A panicking job fails alone with `Panicked`; its writes vanish; the store keeps working.
pub fn panic_in_write_rolls_back_and_store_survives(store: &Store) {
    let result: Result<(), StoreError> = store.write_blocking(|txn| {
        txn.put("x/half", b"written", Expect::Any)?;
        panic!("boom in a write job");
    });
    match result {
        Err(StoreError::Panicked(message)) => assert!(message.contains("boom"), "{message}"),
        other => panic!("expected Panicked, got {other:?}"),
    }
    assert_eq!(get(store, "x/half"), None);
    assert_eq!(put(store, "x/after", b"ok"), 1);
    // Async writes too.
    let store2 = store.clone();
    let result: Result<(), StoreError> =
        runtime().block_on(async move { store2.write(|_txn| panic!("boom again")).await });
    assert!(matches!(result, Err(StoreError::Panicked(_))), "{result:?}");
    assert_eq!(put(store, "x/after", b"ok2"), 2);
}

pub fn panic_in_read_is_an_error(store: &Store) {
    put(store, "k", b"v");
    let result: Result<(), StoreError> = store.read_blocking(|txn| {
        txn.get("k")?;
        panic!("boom in a read");
    });
    assert!(matches!(result, Err(StoreError::Panicked(_))), "{result:?}");
    assert_eq!(get(store, "k").unwrap().value, b"v");
    let store2 = store.clone();
    let result: Result<(), StoreError> =
        runtime().block_on(async move { store2.read(|_txn| panic!("async boom")).await });
    assert!(matches!(result, Err(StoreError::Panicked(_))), "{result:?}");
}

/// Many threads write at once (so backends batch them); jobs that fail (Err, conflict or panic)
/// leave nothing, and every job that succeeded is there.
pub fn concurrent_jobs_fail_alone(store: &Store) {
    const THREADS: usize = 8;
    const PER_THREAD: usize = 40;
    let handles: Vec<_> = (0..THREADS)
        .map(|t| {
            let store = store.clone();
            thread::spawn(move || {
                for i in 0..PER_THREAD {
                    let key = format!("j/{t:02}/{i:03}");
                    let result: Result<(), AppError> = store.write_blocking(move |txn| {
                        txn.put(&key, key.as_bytes(), Expect::Absent)?;
                        txn.put(&format!("{key}/twin"), b"", Expect::Absent)?;
                        match i % 4 {
                            0 => Err(AppError::Refused),
                            1 => {
                                // Conflicts with the put above.
                                txn.put(&key, b"again", Expect::Absent)?;
                                Ok(())
                            }
                            2 if i % 8 == 2 => panic!("job panics"),
                            _ => Ok(()),
                        }
                    });
                    let wanted_ok = i % 4 == 3 || (i % 4 == 2 && i % 8 != 2);
                    assert_eq!(result.is_ok(), wanted_ok, "job {t}/{i}: {result:?}");
                }
            })
        })
        .collect();
    for handle in handles {
        handle.join().unwrap();
    }
    let all = store.read_blocking(|txn| txn.scan_all("j/")).unwrap();
    let mut expected = Vec::new();
    for t in 0..THREADS {
        for i in 0..PER_THREAD {
            if i % 4 == 3 || (i % 4 == 2 && i % 8 != 2) {
                let key = format!("j/{t:02}/{i:03}");
                expected.push(format!("{key}/twin"));
                expected.push(key);
            }
        }
    }
    expected.sort();
    let found: Vec<String> = all.iter().map(|(key, _)| key.clone()).collect();
    assert_eq!(found, expected);
    for (key, record) in &all {
        if !key.ends_with("/twin") {
            assert_eq!(record.value, key.as_bytes());
            assert_eq!(record.version, 1);
        }
    }
}

/// Scans return keys in byte order of their UTF-8, including multi-byte characters.
pub fn scan_orders_by_bytes(store: &Store) {
    let keys_in = [
        "u/z",
        "u/é",
        "u/a",
        "u/Z",
        "u/日本",
        "u/😀",
        "u/\u{7f}",
        "u/ä",
        "u/a/b",
        "u/a b",
        "u/0",
        "u/\u{10FFFF}",
        "u/\u{FFFD}",
    ];
    put_many(
        store,
        keys_in
            .iter()
            .map(|k| (k.to_string(), k.as_bytes().to_vec()))
            .collect(),
    );
    let mut expected: Vec<String> = keys_in.iter().map(|k| k.to_string()).collect();
    expected.sort_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
    assert_eq!(keys(store, "u/", None, 100), expected);
    assert_eq!(keys(store, "", None, 100), expected);
    // A prefix ending in the highest code point still bounds correctly.
    put(store, "u/\u{10FFFF}x", b"");
    put(store, "v", b"");
    assert_eq!(
        keys(store, "u/\u{10FFFF}", None, 100),
        vec!["u/\u{10FFFF}".to_owned(), "u/\u{10FFFF}x".to_owned()]
    );
    assert_eq!(keys(store, "u/日", None, 100), vec!["u/日本".to_owned()]);
    let records = store
        .read_blocking(|txn| txn.scan("u/", None, 100))
        .unwrap();
    for (key, record) in records.iter().filter(|(key, _)| key != "u/\u{10FFFF}x") {
        assert_eq!(record.value, key.as_bytes());
    }
}

/// The prefix is a raw string prefix: `a/b` also matches `a/bc`; callers add the `/`.
pub fn scan_prefix_is_raw(store: &Store) {
    for key in [
        "a/a", "a/b", "a/b/c", "a/b/d/e", "a/bc", "a/b0", "a/c", "b", "a/b.",
    ] {
        put(store, key, key.as_bytes());
    }
    assert_eq!(keys(store, "a/b/", None, 100), vec!["a/b/c", "a/b/d/e"]);
    assert_eq!(
        keys(store, "a/b", None, 100),
        vec!["a/b", "a/b.", "a/b/c", "a/b/d/e", "a/b0", "a/bc"]
    );
    assert_eq!(store.read_blocking(|txn| txn.count("a/b/")).unwrap(), 2);
    assert_eq!(store.read_blocking(|txn| txn.count("a/b")).unwrap(), 6);
    assert_eq!(store.read_blocking(|txn| txn.count("")).unwrap(), 9);
    assert!(keys(store, "a/b/c/", None, 100).is_empty());
    assert!(keys(store, "zzz", None, 100).is_empty());
}

/// Paging with `start_after` = last key of the previous page visits every key once, in order.
pub fn scan_pagination(store: &Store) {
    let all: Vec<String> = (0..250).map(|i| format!("pg/{:04}", i * 7 % 250)).collect();
    put_many(
        store,
        all.iter()
            .map(|k| (k.clone(), k.as_bytes().to_vec()))
            .collect(),
    );
    put(store, "pg", b"outside");
    put(store, "pg0", b"outside");
    let mut sorted = all.clone();
    sorted.sort();
    for limit in [1, 7, 100, 250, 1000] {
        let mut seen = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let page = keys(store, "pg/", after.as_deref(), limit);
            assert!(page.len() <= limit);
            if page.is_empty() {
                break;
            }
            after = page.last().cloned();
            seen.extend(page);
        }
        assert_eq!(seen, sorted, "limit {limit}");
    }
    assert!(keys(store, "pg/", None, 0).is_empty());
    // start_after need not exist.
    assert_eq!(
        keys(store, "pg/", Some("pg/0100x"), 2),
        vec!["pg/0101", "pg/0102"]
    );
    assert_eq!(
        keys(store, "pg/", Some("pg/0249"), 10),
        Vec::<String>::new()
    );
}

pub fn scan_start_after_outside_prefix(store: &Store) {
    for key in ["m/1", "m/2", "n/1"] {
        put(store, key, b"");
    }
    // Before the prefix range: the whole range.
    assert_eq!(keys(store, "m/", Some("a"), 10), vec!["m/1", "m/2"]);
    assert_eq!(keys(store, "m/", Some("m"), 10), vec!["m/1", "m/2"]);
    // After it: nothing, never keys from outside the prefix.
    assert!(keys(store, "m/", Some("m/3"), 10).is_empty());
    assert!(keys(store, "m/", Some("z"), 10).is_empty());
    assert_eq!(keys(store, "", Some("m/2"), 10), vec!["n/1"]);
}

pub fn scan_all_pages_through_everything(store: &Store) {
    let entries: Vec<(String, Vec<u8>)> = (0..2500)
        .map(|i| (format!("s/{i:05}"), i.to_string().into_bytes()))
        .collect();
    put_many(store, entries.clone());
    let all = store.read_blocking(|txn| txn.scan_all("s/")).unwrap();
    assert_eq!(all.len(), 2500);
    for ((key, record), (wanted_key, wanted_value)) in all.iter().zip(&entries) {
        assert_eq!(key, wanted_key);
        assert_eq!(&record.value, wanted_value);
    }
}

pub fn count_and_delete_prefix(store: &Store) {
    put_many(
        store,
        ["acct1/a", "acct1/b", "acct1/c/d", "acct10/a", "acct2/a"]
            .iter()
            .map(|k| (k.to_string(), Vec::new()))
            .collect(),
    );
    assert_eq!(store.read_blocking(|txn| txn.count("acct1/")).unwrap(), 3);
    assert_eq!(store.read_blocking(|txn| txn.count("acct1")).unwrap(), 4);
    assert_eq!(
        store
            .write_blocking(|txn| txn.delete_prefix("acct1/"))
            .unwrap(),
        3
    );
    assert_eq!(keys(store, "", None, 10), vec!["acct10/a", "acct2/a"]);
    assert_eq!(
        store
            .write_blocking(|txn| txn.delete_prefix("acct1/"))
            .unwrap(),
        0
    );
    let refused = store.write_blocking(|txn| txn.delete_prefix(""));
    assert!(
        matches!(refused, Err(StoreError::InvalidArgument(_))),
        "{refused:?}"
    );
    assert_eq!(keys(store, "", None, 10).len(), 2);
}

pub fn invalid_arguments(store: &Store) {
    let invalid = |result: Result<u64, StoreError>| {
        assert!(
            matches!(result, Err(StoreError::InvalidArgument(_))),
            "{result:?}"
        );
    };
    invalid(try_put(store, "", b"x", Expect::Any));
    invalid(try_put(store, "a\0b", b"x", Expect::Any));
    invalid(try_put(
        store,
        &"k".repeat(MAX_KEY_BYTES + 1),
        b"x",
        Expect::Any,
    ));
    invalid(try_put(
        store,
        "big",
        &vec![0; MAX_VALUE_BYTES + 1],
        Expect::Any,
    ));
    assert!(matches!(
        try_delete(store, "", Expect::Any),
        Err(StoreError::InvalidArgument(_))
    ));
    assert!(matches!(
        store.read_blocking(|txn| txn.get("")),
        Err(StoreError::InvalidArgument(_))
    ));
    // The longest key is fine.
    let longest = "k".repeat(MAX_KEY_BYTES);
    assert_eq!(try_put(store, &longest, b"x", Expect::Any).unwrap(), 1);
    assert_eq!(keys(store, "", None, 10), vec![longest]);
}

pub fn large_values(store: &Store) {
    let value: Vec<u8> = (0..1024 * 1024)
        .map(|i: u32| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect();
    assert_eq!(try_put(store, "big/1", &value, Expect::Absent).unwrap(), 1);
    assert_eq!(get(store, "big/1").unwrap().value, value);
    let mut changed = value.clone();
    changed[512 * 1024] ^= 0xFF;
    put(store, "big/1", &changed);
    put(store, "big/2", &value);
    let scanned = store
        .read_blocking(|txn| txn.scan("big/", None, 10))
        .unwrap();
    assert_eq!(scanned.len(), 2);
    assert_eq!(
        scanned[0].1,
        Record {
            value: changed,
            version: 2
        }
    );
    assert_eq!(scanned[1].1.value, value);
}

/// Optimistic increments from many threads (read the version, write with `Expect::Version`,
/// retry on conflict) lose no update.
pub fn concurrent_compare_and_set_counter(store: &Store) {
    const THREADS: u64 = 8;
    const INCREMENTS: u64 = 25;
    put(store, "counter", b"0");
    let conflicts = Arc::new(AtomicU64::new(0));
    let handles: Vec<_> = (0..THREADS)
        .map(|_| {
            let (store, conflicts) = (store.clone(), conflicts.clone());
            thread::spawn(move || {
                for _ in 0..INCREMENTS {
                    loop {
                        let current = store
                            .read_blocking(|txn| txn.get("counter"))
                            .unwrap()
                            .unwrap();
                        let n: u64 = String::from_utf8(current.value).unwrap().parse().unwrap();
                        let next = (n + 1).to_string();
                        let result = store.write_blocking(move |txn| {
                            txn.put("counter", next.as_bytes(), Expect::Version(current.version))
                        });
                        match result {
                            Ok(_) => break,
                            Err(error) if error.is_conflict() => {
                                conflicts.fetch_add(1, Ordering::Relaxed);
                            }
                            Err(error) => panic!("{error}"),
                        }
                    }
                }
            })
        })
        .collect();
    for handle in handles {
        handle.join().unwrap();
    }
    let total = THREADS * INCREMENTS;
    let record = get(store, "counter").unwrap();
    assert_eq!(record.value, total.to_string().as_bytes());
    assert_eq!(record.version, total + 1);
}

/// Read-modify-write inside one transaction is serializable: no lost update, no retry needed.
pub fn concurrent_read_modify_write_counter(store: &Store) {
    const THREADS: u64 = 8;
    const INCREMENTS: u64 = 50;
    let handles: Vec<_> = (0..THREADS)
        .map(|_| {
            let store = store.clone();
            thread::spawn(move || {
                for _ in 0..INCREMENTS {
                    store
                        .write_blocking(|txn| {
                            let n: u64 = match txn.get("rmw")? {
                                Some(record) => {
                                    String::from_utf8(record.value).unwrap().parse().unwrap()
                                }
                                None => 0,
                            };
                            txn.put("rmw", (n + 1).to_string().as_bytes(), Expect::Any)
                        })
                        .unwrap();
                }
            })
        })
        .collect();
    for handle in handles {
        handle.join().unwrap();
    }
    assert_eq!(
        get(store, "rmw").unwrap().value,
        (THREADS * INCREMENTS).to_string().as_bytes()
    );
}

/// `write` and `read` from async tasks, concurrently.
pub fn async_api(store: &Store) {
    let store = store.clone();
    let runtime = runtime();
    runtime.block_on(async move {
        let mut tasks = Vec::new();
        for t in 0..16u32 {
            let store = store.clone();
            tasks.push(tokio::spawn(async move {
                for i in 0..10u32 {
                    let key = format!("async/{t:02}/{i:02}");
                    let version = store
                        .write(move |txn| txn.put(&key, &t.to_be_bytes(), Expect::Absent))
                        .await
                        .unwrap();
                    assert_eq!(version, 1);
                }
                let key = format!("async/{t:02}/");
                store.read(move |txn| txn.count(&key)).await.unwrap()
            }));
        }
        for task in tasks {
            assert_eq!(task.await.unwrap(), 10);
        }
        let total = store.read(|txn| txn.count("async/")).await.unwrap();
        assert_eq!(total, 160);
        let record = store
            .read(|txn| txn.get("async/07/03"))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(record.value, 7u32.to_be_bytes());
    });
}

/// While writers move amounts between accounts and add keys in pairs, every read transaction
/// sees the total unchanged and the pairs complete.
pub fn reads_see_consistent_snapshots(store: &Store) {
    const ACCOUNTS: usize = 5;
    const TOTAL: i64 = 1000;
    put_many(
        store,
        (0..ACCOUNTS)
            .map(|a| {
                (
                    format!("bank/{a}"),
                    (if a == 0 { TOTAL } else { 0 }).to_string().into_bytes(),
                )
            })
            .collect(),
    );
    let stop = Arc::new(AtomicBool::new(false));
    let writers: Vec<_> = (0..2)
        .map(|w| {
            let store = store.clone();
            thread::spawn(move || {
                for round in 0..150usize {
                    store
                        .write_blocking(move |txn| {
                            let from = format!("bank/{}", (round + w) % ACCOUNTS);
                            let to = format!("bank/{}", (round * 3 + w + 1) % ACCOUNTS);
                            let read = |txn: &mut dyn Txn, key: &str| -> Result<i64, StoreError> {
                                Ok(String::from_utf8(txn.get(key)?.unwrap().value)
                                    .unwrap()
                                    .parse()
                                    .unwrap())
                            };
                            let (a, b) = (read(txn, &from)?, read(txn, &to)?);
                            let amount = (a / 2).max(0);
                            if from != to {
                                txn.put(&from, (a - amount).to_string().as_bytes(), Expect::Any)?;
                                txn.put(&to, (b + amount).to_string().as_bytes(), Expect::Any)?;
                            }
                            txn.put(&format!("pairs/{w}/{round:04}/a"), b"", Expect::Absent)?;
                            txn.put(&format!("pairs/{w}/{round:04}/b"), b"", Expect::Absent)?;
                            Ok::<_, StoreError>(())
                        })
                        .unwrap();
                }
            })
        })
        .collect();
    let readers: Vec<_> = (0..2)
        .map(|_| {
            let (store, stop) = (store.clone(), stop.clone());
            thread::spawn(move || {
                let mut checks = 0u64;
                while !stop.load(Ordering::Relaxed) || checks < 20 {
                    store
                        .read_blocking(|txn| {
                            let accounts = txn.scan("bank/", None, 100)?;
                            let total: i64 = accounts
                                .iter()
                                .map(|(_, r)| {
                                    String::from_utf8(r.value.clone())
                                        .unwrap()
                                        .parse::<i64>()
                                        .unwrap()
                                })
                                .sum();
                            assert_eq!(total, TOTAL);
                            let pairs = txn.count("pairs/")?;
                            assert_eq!(pairs % 2, 0, "half a pair visible");
                            let listed = txn.scan_all("pairs/")?;
                            assert_eq!(listed.len() as u64, pairs, "count and scan disagree");
                            Ok::<_, StoreError>(())
                        })
                        .unwrap();
                    checks += 1;
                }
                checks
            })
        })
        .collect();
    for writer in writers {
        writer.join().unwrap();
    }
    stop.store(true, Ordering::Relaxed);
    for reader in readers {
        assert!(reader.join().unwrap() >= 20);
    }
    assert_eq!(store.read_blocking(|txn| txn.count("pairs/")).unwrap(), 600);
}

/// A read transaction keeps its snapshot even when a write commits in the middle of it.
pub fn read_snapshot_is_stable(store: &Store) {
    put(store, "snap/a", b"1");
    put(store, "snap/b", b"1");
    let writer = store.clone();
    let seen = store
        .read_blocking(|txn| {
            let first = txn.get("snap/a")?.unwrap();
            // Commit a change to both keys while this read transaction is open.
            writer
                .write_blocking(|txn| {
                    txn.put("snap/a", b"2", Expect::Any)?;
                    txn.put("snap/b", b"2", Expect::Any)?;
                    txn.put("snap/c", b"2", Expect::Any)
                })
                .unwrap();
            let again = txn.get("snap/a")?.unwrap();
            let other = txn.get("snap/b")?.unwrap();
            let listed = txn.scan("snap/", None, 10)?.len();
            Ok::<_, StoreError>((first.value, again.value, other.value, listed))
        })
        .unwrap();
    assert_eq!(seen, (b"1".to_vec(), b"1".to_vec(), b"1".to_vec(), 2));
    // A new read sees the write.
    assert_eq!(get(store, "snap/b").unwrap().value, b"2");
    assert_eq!(keys(store, "snap/", None, 10).len(), 3);
}

/// Closing one clone closes all; queued writes are answered first; closing twice is fine.
pub fn close_closes_every_clone(store: &Store) {
    put(store, "k", b"v");
    let other = store.clone();
    // Writes from other threads before close are all answered.
    let handles: Vec<_> = (0..4)
        .map(|t| {
            let store = store.clone();
            thread::spawn(move || {
                let key = format!("late/{t}");
                store.write_blocking(move |txn| txn.put(&key, b"x", Expect::Any))
            })
        })
        .collect();
    let results: BTreeMap<usize, Result<u64, StoreError>> = handles
        .into_iter()
        .enumerate()
        .map(|(t, h)| (t, h.join().unwrap()))
        .collect();
    other.close().unwrap();
    for result in results.values() {
        assert_eq!(result, &Ok(1));
    }
    assert_eq!(
        try_put(store, "k", b"w", Expect::Any),
        Err(StoreError::Closed)
    );
    assert_eq!(
        store.read_blocking(|txn| txn.get("k")),
        Err(StoreError::Closed)
    );
    let result =
        runtime().block_on(async { other.write(|txn| txn.delete("k", Expect::Any)).await });
    assert_eq!(result, Err(StoreError::Closed));
    assert!(store.close().is_ok());
}

// ---- model-based check -----------------------------------------------------------------------

/// Where the model test's choices come from: a seeded generator, or a fuzzer's bytes.
trait Choices {
    /// A number in `0..n` (`n > 0`).
    fn below(&mut self, n: usize) -> usize;
    /// Whether the source has run dry (a byte source); the run then stops.
    fn exhausted(&self) -> bool {
        false
    }

    /// Keys from a few segments, so that prefixes, '/' boundaries and multi-byte characters
    /// collide often.
    fn key(&mut self) -> String {
        const PARTS: &[&str] = &["a", "a/", "b", "/", "é", "😀", "a/b"];
        let n = 1 + self.below(2) + self.below(2);
        (0..n).map(|_| PARTS[self.below(PARTS.len())]).collect()
    }

    fn prefix(&mut self) -> String {
        let key = self.key();
        let cut = self.below(key.len() + 1);
        let cut = (0..=cut)
            .rev()
            .find(|&i| key.is_char_boundary(i))
            .unwrap_or(0);
        key[..cut].to_owned()
    }
}

/// xorshift64*: deterministic, dependency-free randomness for the model test.
struct Rng(u64);

impl Choices for Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) % n as u64) as usize
    }
}

/// A fuzzer's input, one byte per choice.
struct ByteChoices<'a> {
    data: &'a [u8],
}

impl Choices for ByteChoices<'_> {
    fn below(&mut self, n: usize) -> usize {
        match self.data.split_first() {
            Some((first, rest)) => {
                self.data = rest;
                usize::from(*first) % n
            }
            None => 0,
        }
    }
    fn exhausted(&self) -> bool {
        self.data.is_empty()
    }
}

#[derive(Clone, Default)]
struct ModelEntry {
    /// Highest version the key ever had (live or deleted).
    max_version: u64,
    live: Option<(u64, Vec<u8>)>,
}

type Model = BTreeMap<String, ModelEntry>;

fn live_version(model: &Model, key: &str) -> Option<u64> {
    model
        .get(key)
        .and_then(|e| e.live.as_ref().map(|(v, _)| *v))
}

/// Applies a successful put to the model, checking the version the backend chose: one more than
/// the key's last version, live or deleted (1 for a key never written).
fn model_put(model: &mut Model, key: &str, value: &[u8], version: u64) {
    let entry = model.entry(key.to_owned()).or_default();
    assert_eq!(version, entry.max_version + 1, "put of {key:?}");
    entry.max_version = version;
    entry.live = Some((version, value.to_vec()));
}

fn model_delete(model: &mut Model, key: &str) -> bool {
    match model.get_mut(key) {
        Some(entry) if entry.live.is_some() => {
            entry.live = None;
            true
        }
        _ => false,
    }
}

fn model_scan(
    model: &Model,
    prefix: &str,
    after: Option<&str>,
    limit: usize,
) -> Vec<(String, Record)> {
    model
        .iter()
        .filter(|(k, _)| k.starts_with(prefix) && after.is_none_or(|a| k.as_str() > a))
        .filter_map(|(k, e)| {
            e.live.as_ref().map(|(v, value)| {
                (
                    k.clone(),
                    Record {
                        value: value.clone(),
                        version: *v,
                    },
                )
            })
        })
        .take(limit)
        .collect()
}

fn random_expect(rng: &mut dyn Choices, live: Option<u64>) -> Expect {
    match rng.below(5) {
        0 => Expect::Any,
        1 => Expect::Absent,
        2 => Expect::Present,
        3 => Expect::Version(live.unwrap_or(1)),
        _ => Expect::Version(1 + rng.below(4) as u64),
    }
}

/// Random puts, deletes, prefix deletes, scans, counts and multi-operation transactions (some
/// rolled back) give exactly what an in-memory model of the semantics predicts.
pub fn random_operations_match_a_model(store: &Store) {
    for seed in [1u64, 0x9E37_79B9_7F4A_7C15, 42] {
        // Each seed works in its own namespace so the runs do not see each other.
        check_against_model(store, &format!("model{seed}/"), &mut Rng(seed), 400);
    }
}

/// The model check driven by arbitrary bytes, for fuzzing: at most `max_steps` operations under
/// `namespace` (which must be empty), one choice per byte. Panics on any divergence.
pub fn check_operations(store: &Store, namespace: &str, data: &[u8], max_steps: usize) {
    check_against_model(store, namespace, &mut ByteChoices { data }, max_steps);
}

fn check_against_model(store: &Store, ns: &str, rng: &mut dyn Choices, steps: usize) {
    let mut model = Model::new();
    for step in 0..steps {
        if rng.exhausted() {
            break;
        }
        let key = format!("{ns}{}", rng.key());
        let live = live_version(&model, &key);
        match rng.below(10) {
            0..=2 => {
                let value = format!("{step}").into_bytes();
                let expect = random_expect(rng, live);
                match try_put(store, &key, &value, expect) {
                    Ok(version) => {
                        assert!(
                            expect.holds(live),
                            "step {step}: put {key:?} {expect:?} should conflict"
                        );
                        model_put(&mut model, &key, &value, version);
                    }
                    Err(StoreError::Conflict { found, .. }) => {
                        assert!(
                            !expect.holds(live),
                            "step {step}: put {key:?} {expect:?} refused"
                        );
                        assert_eq!(found, live);
                    }
                    Err(error) => panic!("step {step}: {error}"),
                }
            }
            3 => {
                let expect = random_expect(rng, live);
                match try_delete(store, &key, expect) {
                    Ok(deleted) => {
                        assert!(expect.holds(live), "step {step}: delete {key:?} {expect:?}");
                        assert_eq!(deleted, model_delete(&mut model, &key));
                    }
                    Err(StoreError::Conflict { found, .. }) => {
                        assert!(!expect.holds(live));
                        assert_eq!(found, live);
                    }
                    Err(error) => panic!("step {step}: {error}"),
                }
            }
            4 => {
                let prefix = format!("{ns}{}", rng.prefix());
                let wanted: Vec<String> = model_scan(&model, &prefix, None, usize::MAX)
                    .into_iter()
                    .map(|(k, _)| k)
                    .collect();
                let p = prefix.clone();
                let deleted = store
                    .write_blocking(move |txn| txn.delete_prefix(&p))
                    .unwrap();
                assert_eq!(
                    deleted,
                    wanted.len() as u64,
                    "step {step}: delete_prefix {prefix:?}"
                );
                for key in wanted {
                    model_delete(&mut model, &key);
                }
            }
            5 | 6 => {
                let prefix = format!("{ns}{}", rng.prefix());
                // Often a live key, so that the exclusive start is really tested.
                let live_keys: Vec<&String> = model
                    .iter()
                    .filter(|(_, e)| e.live.is_some())
                    .map(|(k, _)| k)
                    .collect();
                let after = match rng.below(4) {
                    0 => None,
                    1 => Some(format!("{ns}{}", rng.key())),
                    2 if !live_keys.is_empty() => {
                        Some(live_keys[rng.below(live_keys.len())].clone())
                    }
                    _ => Some(rng.key()),
                };
                let limit = rng.below(12);
                let (scanned, counted) = store
                    .read_blocking(|txn| {
                        Ok::<_, StoreError>((
                            txn.scan(&prefix, after.as_deref(), limit)?,
                            txn.count(&prefix)?,
                        ))
                    })
                    .unwrap();
                assert_eq!(
                    scanned,
                    model_scan(&model, &prefix, after.as_deref(), limit),
                    "step {step}: scan {prefix:?} after {after:?} limit {limit}"
                );
                assert_eq!(
                    counted,
                    model_scan(&model, &prefix, None, usize::MAX).len() as u64
                );
            }
            7 => {
                let wanted = model
                    .get(&key)
                    .and_then(|e| e.live.clone())
                    .map(|(version, value)| Record { value, version });
                assert_eq!(get(store, &key), wanted, "step {step}: get {key:?}");
            }
            _ => {
                // Several writes in one transaction, committed or rolled back as a whole.
                let ops: Vec<(String, bool)> = (0..1 + rng.below(4))
                    .map(|_| (format!("{ns}{}", rng.key()), rng.below(3) > 0))
                    .collect();
                let commit = rng.below(2) == 0;
                let value = format!("txn{step}").into_bytes();
                let (ops2, value2) = (ops.clone(), value.clone());
                let result = store.write_blocking(move |txn| {
                    let mut outcomes = Vec::new();
                    for (key, is_put) in &ops2 {
                        outcomes.push(if *is_put {
                            txn.put(key, &value2, Expect::Any)?
                        } else {
                            u64::from(txn.delete(key, Expect::Any)?)
                        });
                    }
                    if commit {
                        Ok(outcomes)
                    } else {
                        Err(AppError::Refused)
                    }
                });
                if commit {
                    let outcomes = result.unwrap();
                    for ((key, is_put), outcome) in ops.iter().zip(outcomes) {
                        if *is_put {
                            model_put(&mut model, key, &value, outcome);
                        } else {
                            assert_eq!(
                                outcome == 1,
                                model_delete(&mut model, key),
                                "step {step}: delete {key:?} in txn"
                            );
                        }
                    }
                } else {
                    assert_eq!(result, Err(AppError::Refused));
                }
            }
        }
        if step % 50 == 49 {
            let all = store.read_blocking(|txn| txn.scan_all(ns)).unwrap();
            assert_eq!(
                all,
                model_scan(&model, ns, None, usize::MAX),
                "step {step}: full state"
            );
        }
    }
    let all = store.read_blocking(|txn| txn.scan_all(ns)).unwrap();
    assert_eq!(all, model_scan(&model, ns, None, usize::MAX), "final state");
}
