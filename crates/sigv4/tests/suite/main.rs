//! rampart-sigv4's integration tests, in one binary (one link).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod botocore;
mod malformed;
mod props;
mod roundtrip;
mod vectors;
mod wire;
