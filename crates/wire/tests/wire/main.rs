//! rampart-wire's integration tests: one binary, one module per concern.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod botocore;
mod errors;
mod hostile;
mod json_codec;
mod query_codec;
mod redaction;
mod registry;
mod roundtrip;

use rampart_wire::{Operation, ServiceModel};

pub fn lookup(service: &str, operation: &str) -> (&'static ServiceModel, &'static Operation) {
    let svc = rampart_wire::service(service).unwrap();
    let op = svc.operation(operation).unwrap();
    (svc, op)
}

pub fn params(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}
