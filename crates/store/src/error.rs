//! The one error type every backend speaks.

use std::fmt;
use std::path::PathBuf;

use crate::record::Expect;

/// Why a store operation failed.
///
/// Cloneable on purpose: one failed group commit answers every caller of the batch.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// An optimistic check (`Expect`) did not hold. `found` is the live version, `None` if absent.
    #[error("conflict on key {key:?}: expected {expected}, found {}", FoundVersion(*found))]
    Conflict {
        key: String,
        expected: Expect,
        found: Option<u64>,
    },
    /// A key, prefix or value the store does not accept (empty key, over the size limits).
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// The transaction closure panicked; everything it did was rolled back.
    #[error("the transaction closure panicked: {0}")]
    Panicked(String),
    /// The store was closed (or its writer is gone); nothing was done.
    #[error("the store is closed")]
    Closed,
    /// Another process (or another handle in this one) already owns this embedded store.
    #[error("the store at {} is already open by another process or handle (lock file {})", path.display(), lock_path.display())]
    Locked { path: PathBuf, lock_path: PathBuf },
    /// The data was written by a newer Rampart whose schema this build does not know.
    #[error("store schema version {found} is newer than this build supports ({supported})")]
    UnsupportedSchema { found: u32, supported: u32 },
    /// The file is not a Rampart store, or its content is damaged.
    #[error("store data is corrupt or foreign: {0}")]
    Corrupt(String),
    /// The backend stayed busy past its timeout. Retrying later may succeed.
    #[error("the store is busy: {0}")]
    Busy(String),
    /// A write was started from inside a write transaction's closure, where it could only
    /// deadlock. Do all the work in the one transaction instead.
    #[error("a write transaction cannot start another write transaction")]
    NestedWrite,
    /// Any other backend failure (I/O error, disk full, ...).
    #[error("storage backend error: {0}")]
    Backend(String),
}

impl StoreError {
    /// True for an optimistic-concurrency conflict, the one error a caller usually retries.
    pub fn is_conflict(&self) -> bool {
        matches!(self, StoreError::Conflict { .. })
    }

    /// Turns a panic payload from `catch_unwind` into an error with its message.
    pub(crate) fn from_panic(payload: &(dyn std::any::Any + Send)) -> StoreError {
        let message = if let Some(text) = payload.downcast_ref::<&str>() {
            (*text).to_owned()
        } else if let Some(text) = payload.downcast_ref::<String>() {
            text.clone()
        } else {
            "non-string panic payload".to_owned()
        };
        StoreError::Panicked(message)
    }
}

struct FoundVersion(Option<u64>);

impl fmt::Display for FoundVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(version) => write!(f, "version {version}"),
            None => f.write_str("no record"),
        }
    }
}
