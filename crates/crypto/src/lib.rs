//! Key material and its protection: the node's master key, sealing of secrets at rest
//! (AES-256-GCM), and (in `kms`) the KMS algorithms, all on aws-lc-rs.
#![cfg_attr(
    test,
    allow(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )
)]

pub mod kms;
pub mod master_key;
pub mod seal;

pub use master_key::MasterKey;
