//! rampart-wire: the protocol layer, driven by AWS's published service models (botocore's
//! `service-2.json`, embedded). Pure functions over bytes, parameters and `serde_json::Value`;
//! it knows nothing of services' logic or of HTTP frameworks.
//!
//! Per request the server does: find the service ([`service_by_signing_name`],
//! [`service_by_target_prefix`]) and operation ([`ServiceModel::operation`]) -> decode the input
//! ([`decode_json`], [`decode_query`], or [`decode_request`]) into the canonical value -> the
//! handler answers with a canonical output -> [`encode_json`] / [`encode_query`] /
//! [`encode_response`], or [`encode_error`].
//!
//! Canonical values are objects keyed by the model's member names; timestamps are epoch seconds,
//! blobs base64 strings, lists arrays, maps objects.
#![cfg_attr(
    test,
    allow(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )
)]

pub mod errors;
pub mod json;
pub mod model;
pub mod pattern;
pub mod protocol;
pub mod query;
pub mod redact;
pub mod registry;
mod timestamp;
mod validate;

pub use errors::{
    encode_error, encode_error_for, modeled_error, not_implemented, unknown_operation,
    unknown_operation_for, wire_code,
};
pub use json::{decode_json, encode_json};
pub use model::{Operation, ServiceModel, Shape, ShapeId, ShapeKind};
pub use protocol::{EncodedResponse, HttpRequest, Protocol, decode_request, encode_response};
pub use query::{decode_query, encode_query, parse_form};
pub use redact::{REDACTED, audit_input, audit_output, redact_input, redact_output};
pub use registry::{
    protocol_of, service, service_by_endpoint_prefix, service_by_signing_name,
    service_by_target_prefix, service_names, split_target,
};

/// Same type as [`EncodedResponse`]; named for error call sites.
pub type EncodedError = EncodedResponse;
