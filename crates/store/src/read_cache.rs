//! Results of hot reads, kept in memory while the store's data has not changed.
//!
//! A request that reads the same few records every time (a KMS key and its grants, a secret, a
//! parameter) would otherwise open a read transaction, seek the b-tree and decode the JSON on
//! every call: 15–30% of the CPU of a KMS Encrypt or a GetSecretValue under load. An entry is
//! tagged with the backend's data generation taken *before* its read began, and is served only
//! while the generation is still that number, i.e. while no commit has happened since. The
//! backend moves the generation after each commit and before answering the writer, so a request
//! that starts after a write was acknowledged never sees an entry older than that write.
//!
//! Entries are bounded by the bytes their reads fetched from the store (not by a count), so a
//! few large secrets cannot hold much memory; when the budget is full, stale entries go first,
//! then everything.
use std::any::Any;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use crate::error::StoreError;
use crate::record::Record;
use crate::txn::ReadTxn;

/// Most bytes (as read from the store) that cached results may stand for.
const BUDGET_BYTES: usize = 16 << 20;
/// Most entries (each small result also costs its key and bookkeeping).
const MAX_ENTRIES: usize = 16_384;

type Value = Arc<dyn Any + Send + Sync>;

struct Entry {
    generation: u64,
    value: Value,
    bytes: usize,
}

#[derive(Default)]
struct Entries {
    map: HashMap<String, Entry>,
    bytes: usize,
}

/// The cache one store's clones share.
#[derive(Default)]
pub(crate) struct ReadCache {
    entries: Mutex<Entries>,
}

impl ReadCache {
    /// The value cached under `key` if it was read at `generation` and is a `T`.
    pub(crate) fn get<T: Send + Sync + 'static>(
        &self,
        key: &str,
        generation: u64,
    ) -> Option<Arc<T>> {
        let entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        let entry = entries.map.get(key)?;
        if entry.generation != generation {
            return None;
        }
        entry.value.clone().downcast::<T>().ok()
    }

    /// Keeps `value`, read at `generation` from `bytes` bytes of records. `current` is the
    /// generation now: entries older than it can never be served again and are dropped first
    /// when the budget is reached.
    pub(crate) fn insert(
        &self,
        key: &str,
        generation: u64,
        current: u64,
        value: Value,
        bytes: usize,
    ) {
        if generation != current || bytes > BUDGET_BYTES / 4 {
            // Stale already, or too large to be worth holding.
            return;
        }
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        if entries.bytes.saturating_add(bytes) > BUDGET_BYTES || entries.map.len() >= MAX_ENTRIES {
            entries.map.retain(|_, e| e.generation == current);
            entries.bytes = entries.map.values().map(|e| e.bytes).sum();
            if entries.bytes.saturating_add(bytes) > BUDGET_BYTES
                || entries.map.len() >= MAX_ENTRIES
            {
                entries.map.clear();
                entries.bytes = 0;
            }
        }
        let old = entries.map.insert(
            key.to_owned(),
            Entry {
                generation,
                value,
                bytes,
            },
        );
        entries.bytes = entries.bytes.saturating_add(bytes);
        if let Some(old) = old {
            entries.bytes = entries.bytes.saturating_sub(old.bytes);
        }
    }
}

/// A read transaction that counts the bytes of keys and values it hands out.
pub(crate) struct Counting<'a> {
    pub(crate) inner: &'a mut dyn ReadTxn,
    pub(crate) bytes: usize,
}

impl ReadTxn for Counting<'_> {
    fn get(&mut self, key: &str) -> Result<Option<Record>, StoreError> {
        let found = self.inner.get(key)?;
        self.bytes += key.len() + found.as_ref().map_or(0, |r| r.value.len());
        Ok(found)
    }

    fn scan(
        &mut self,
        prefix: &str,
        start_after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<(String, Record)>, StoreError> {
        let page = self.inner.scan(prefix, start_after, limit)?;
        self.bytes += prefix.len()
            + page
                .iter()
                .map(|(k, r)| k.len() + r.value.len())
                .sum::<usize>();
        Ok(page)
    }

    fn count(&mut self, prefix: &str) -> Result<u64, StoreError> {
        self.bytes += prefix.len();
        self.inner.count(prefix)
    }
}
