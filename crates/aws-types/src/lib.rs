//! Shared vocabulary of Rampart: AWS errors, ARNs, account ids, regions and the
//! generators for AWS-shaped identifiers (access keys, unique ids, request ids).
//!
//! Everything here is pure: randomness comes from aws-lc-rs's RNG, time is passed in.
#![cfg_attr(
    test,
    allow(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )
)]

pub mod arn;
pub mod error;
pub mod ids;

pub use arn::Arn;
pub use error::AwsError;

/// The partition every Rampart ARN lives in.
pub const PARTITION: &str = "aws";

/// Region used for global services (IAM, Organizations) in store keys.
pub const GLOBAL_REGION: &str = "global";

/// Is `s` a valid 12-digit AWS account id?
pub fn is_account_id(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

/// Is `s` shaped like an AWS region name (`us-east-1`, `eu-central-2`, `us-gov-west-1`)?
pub fn is_region(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.len() >= 3
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        })
        && parts
            .last()
            .is_some_and(|p| p.bytes().all(|b| b.is_ascii_digit()))
}
