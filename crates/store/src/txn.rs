//! What a transaction closure can do.

use crate::error::StoreError;
use crate::record::{Expect, Record};

/// Page size `scan_all` uses under the hood.
const SCAN_ALL_PAGE: usize = 1000;

/// Reads inside a transaction. Every read of one transaction sees the same consistent snapshot
/// (plus, in a write transaction, its own writes).
pub trait ReadTxn {
    /// The live record at `key`, if any.
    fn get(&mut self, key: &str) -> Result<Option<Record>, StoreError>;

    /// Up to `limit` live records whose key starts with `prefix`, in byte order of keys, starting
    /// after `start_after` (exclusive) when given. For pagination pass the last key of the
    /// previous page as `start_after`.
    ///
    /// `prefix` is a raw string prefix: `a/b` matches `a/b`, `a/b/c` and `a/bc`. To list the
    /// children of a namespace, end the prefix with `/` yourself (`a/b/`).
    fn scan(
        &mut self,
        prefix: &str,
        start_after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<(String, Record)>, StoreError>;

    /// How many live records have a key starting with `prefix` (raw prefix, as in `scan`).
    fn count(&mut self, prefix: &str) -> Result<u64, StoreError>;

    /// Every live record under `prefix`, in key order (pages through `scan`). For bounded
    /// namespaces only; use `scan` with a limit for anything a client can grow.
    fn scan_all(&mut self, prefix: &str) -> Result<Vec<(String, Record)>, StoreError> {
        let mut all: Vec<(String, Record)> = Vec::new();
        loop {
            let after = all.last().map(|(key, _)| key.clone());
            let page = self.scan(prefix, after.as_deref(), SCAN_ALL_PAGE)?;
            let full = page.len() == SCAN_ALL_PAGE;
            all.extend(page);
            if !full {
                return Ok(all);
            }
        }
    }
}

/// Reads and writes inside a write transaction. Writes are visible to later reads of the same
/// transaction; they become visible to others, all at once, only when the transaction commits.
pub trait Txn: ReadTxn {
    /// Stores `value` at `key` if `expect` holds; returns the new version. Keys are 1 to
    /// `MAX_KEY_BYTES` bytes without NUL; values at most `MAX_VALUE_BYTES`
    /// (`StoreError::InvalidArgument` otherwise).
    /// A failed check returns `StoreError::Conflict` and writes nothing.
    fn put(&mut self, key: &str, value: &[u8], expect: Expect) -> Result<u64, StoreError>;

    /// Deletes the live record at `key` if `expect` holds; returns whether there was one.
    /// `Expect::Absent` on a missing key is `Ok(false)`; on a live key it is a conflict.
    fn delete(&mut self, key: &str, expect: Expect) -> Result<bool, StoreError>;

    /// Deletes every live record whose key starts with `prefix` (raw prefix, as in `scan`);
    /// returns how many. An empty prefix is refused: wiping the whole store is never a typo away.
    fn delete_prefix(&mut self, prefix: &str) -> Result<u64, StoreError>;

    /// This transaction as a read-only one, to call helpers written against `&mut dyn ReadTxn`.
    fn as_read(&mut self) -> &mut dyn ReadTxn;
}
