//! One test binary for the crate: the conformance suite against SQLite, SQLite specifics, and
//! the kill -9 crash test.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod conformance_sqlite;
mod crash;
mod read_cache;
mod sqlite;
