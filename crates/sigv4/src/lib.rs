//! AWS Signature Version 4 for a server that receives requests from boto3, the AWS CLI and
//! the SDKs: parse the authentication parameters, verify the signature, and (for clients,
//! tests and the load generator) sign.
//!
//! Pure: no I/O, no clock (the caller passes `now`), no HTTP framework types.
//!
//! ```text
//! let auth = rampart_sigv4::parse(&req)?;                 // which key to look up
//! let key  = cache.get_or(|| SigningKey::derive(secret, &auth.credential.date,
//!                                 &auth.credential.region, &auth.credential.service));
//! rampart_sigv4::check_scope(&auth.credential, |r| r == my_region, "sts")?;
//! rampart_sigv4::verify(&req, &auth, &key, now)?;
//! ```
#![cfg_attr(
    test,
    allow(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )
)]

mod amz_date;
mod auth;
mod canonical;
mod encoding;
mod error;
mod request;
mod sign;
mod signing_key;
mod verify;

pub use amz_date::{format_amz_date, format_scope_date, parse_amz_date};
pub use auth::{
    ALGORITHM, Credential, MAX_EXPIRES_SECS, Mode, ParsedAuth, TERMINATOR, UNSIGNED_PAYLOAD,
    check_scope, parse,
};
pub use canonical::{CanonicalOptions, canonical_request, string_to_sign};
pub use encoding::{canonical_uri, normalize_path};
pub use error::{Protocol, SigError};
pub use request::{PayloadHash, Request, hex_sha256};
pub use sign::{
    SignableRequest, SigningParams, body_sha256, presign, presign_with_key, sign_headers,
    sign_headers_with_body_sha256, sign_headers_with_key,
};
pub use signing_key::SigningKey;
pub use verify::{MAX_SKEW, candidates, check_clock, verify};
