//! `Store::read_cached`: served from memory only while nothing has committed since.
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use rampart_store::{Expect, Store, StoreError};

const KEY: &str = "111122223333/us-east-1/kms/key/k1";

async fn cached_value(store: &Store, reads: &Arc<AtomicUsize>) -> Arc<Option<Vec<u8>>> {
    let reads = reads.clone();
    store
        .read_cached("test:k1", move |txn| {
            reads.fetch_add(1, Ordering::SeqCst);
            Ok::<_, StoreError>(txn.get(KEY)?.map(|r| r.value))
        })
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repeats_are_served_without_reading_until_a_write_commits() {
    let store = Store::open_in_memory().unwrap();
    store
        .write(|txn| txn.put(KEY, b"one", Expect::Any))
        .await
        .unwrap();
    let reads = Arc::new(AtomicUsize::new(0));
    let first = cached_value(&store, &reads).await;
    let second = cached_value(&store, &reads).await;
    assert_eq!(first.as_deref(), Some(&b"one"[..]));
    assert!(
        Arc::ptr_eq(&first, &second),
        "the second call is the cached result"
    );
    assert_eq!(reads.load(Ordering::SeqCst), 1);

    // Read-your-writes: once the write is acknowledged, the next read sees it.
    store
        .write(|txn| txn.put(KEY, b"two", Expect::Any))
        .await
        .unwrap();
    assert_eq!(
        cached_value(&store, &reads).await.as_deref(),
        Some(&b"two"[..])
    );
    assert_eq!(reads.load(Ordering::SeqCst), 2);

    // A commit anywhere else in the store invalidates too (the generation is store-wide).
    store
        .write(|txn| txn.put("other", b"x", Expect::Any))
        .await
        .unwrap();
    assert_eq!(
        cached_value(&store, &reads).await.as_deref(),
        Some(&b"two"[..])
    );
    assert_eq!(reads.load(Ordering::SeqCst), 3);

    // A delete is seen as well.
    store
        .write(|txn| txn.delete(KEY, Expect::Any))
        .await
        .unwrap();
    assert_eq!(cached_value(&store, &reads).await.as_deref(), None);
    // Clones share the cache.
    let clone = store.clone();
    assert_eq!(cached_value(&clone, &reads).await.as_deref(), None);
    assert_eq!(reads.load(Ordering::SeqCst), 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_are_not_remembered_and_keys_of_another_type_miss() {
    let store = Store::open_in_memory().unwrap();
    let calls = Arc::new(AtomicUsize::new(0));
    for _ in 0..2 {
        let calls = calls.clone();
        let failed = store
            .read_cached::<u8, StoreError, _>("test:err", move |_| {
                calls.fetch_add(1, Ordering::SeqCst);
                Err(StoreError::Backend("no".into()))
            })
            .await;
        assert!(failed.is_err());
    }
    assert_eq!(calls.load(Ordering::SeqCst), 2);

    let as_number = store
        .read_cached("test:typed", |_| Ok::<u32, StoreError>(7))
        .await
        .unwrap();
    assert_eq!(*as_number, 7);
    // The same key asked for as another type is a miss, not a wrong answer.
    let as_text = store
        .read_cached("test:typed", |_| Ok::<String, StoreError>("seven".into()))
        .await
        .unwrap();
    assert_eq!(*as_text, "seven");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_racing_the_read_is_never_served_stale() {
    // Many readers and a writer at once: after each acknowledged write, every later cached
    // read sees that value or a newer one.
    let store = Store::open_in_memory().unwrap();
    store
        .write(|txn| txn.put(KEY, b"0", Expect::Any))
        .await
        .unwrap();
    let reads = Arc::new(AtomicUsize::new(0));
    let mut readers = Vec::new();
    let acked = Arc::new(AtomicUsize::new(0));
    for _ in 0..4 {
        let (store, reads, acked) = (store.clone(), reads.clone(), acked.clone());
        readers.push(tokio::spawn(async move {
            for _ in 0..2000 {
                let floor = acked.load(Ordering::SeqCst);
                let seen = cached_value(&store, &reads).await;
                let seen: usize = std::str::from_utf8(seen.as_deref().unwrap())
                    .unwrap()
                    .parse()
                    .unwrap();
                assert!(
                    seen >= floor,
                    "served {seen} after {floor} was acknowledged"
                );
                tokio::task::yield_now().await;
            }
        }));
    }
    for i in 1..=50usize {
        store
            .write(move |txn| txn.put(KEY, i.to_string().as_bytes(), Expect::Any))
            .await
            .unwrap();
        acked.store(i, Ordering::SeqCst);
    }
    for r in readers {
        r.await.unwrap();
    }
    assert!(
        reads.load(Ordering::SeqCst) < 8000,
        "most reads were served from the cache"
    );
}
