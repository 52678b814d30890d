//! Rampart's durable state: a key-value store with serializable transactions, versions and
//! ordered prefix scans, behind a backend seam.
//!
//! Keys are strings namespaced like `account/region/service/kind/id`; values are bytes (callers
//! store JSON). Scans return keys in byte order; a scan prefix is a raw string prefix, so list a
//! namespace's children with a trailing `/`.
//!
//! ```
//! use rampart_store::{Expect, Store, StoreError};
//!
//! let store = Store::open_in_memory()?;
//! let version = store.write_blocking(|txn| {
//!     txn.put("123456789012/global/iam/user/alice", b"{}", Expect::Absent)
//! })?;
//! assert_eq!(version, 1);
//! let users = store.read_blocking(|txn| txn.scan("123456789012/global/iam/user/", None, 100))?;
//! assert_eq!(users.len(), 1);
//! # Ok::<(), StoreError>(())
//! ```
//!
//! Backends: embedded SQLite (`Store::open_sqlite`), with group commit so that many concurrent
//! durable writes share one fsync. A PostgreSQL backend plugs in through [`backend::Backend`];
//! [`conformance`] (feature `conformance`) is the suite every backend must pass.
#![cfg_attr(
    test,
    allow(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )
)]

mod aws_error;
pub mod backend;
#[cfg(feature = "conformance")]
pub mod conformance;
mod error;
mod read_cache;
mod record;
pub mod rules;
mod sqlite;
mod store;
mod txn;

pub use crate::backend::{Durability, RELAXED_SYNC_WITHIN, StoreStats};
pub use crate::error::StoreError;
pub use crate::record::{Expect, Record};
pub use crate::rules::{MAX_KEY_BYTES, MAX_VALUE_BYTES};
pub use crate::sqlite::{SqliteBackend, SqliteOptions};
pub use crate::store::Store;
pub use crate::txn::{ReadTxn, Txn};
