//! rampart-loadgen: a load generator that signs every request with SigV4 (rampart-sigv4's
//! signer), drives N keep-alive HTTP/1.1 connections and reports throughput, latency
//! percentiles and errors by status. Works against Rampart, moto_server or any AWS-compatible
//! endpoint speaking awsQuery or awsJson over plain HTTP.
#![cfg_attr(
    test,
    allow(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )
)]

pub mod credentials;
pub mod report;
pub mod request;
pub mod runner;
pub mod sign_cost;

pub use credentials::{Credentials, CredentialsError, from_ini};
pub use report::{Latency, Report};
pub use request::{
    Endpoint, Operation, RequestError, RequestSigner, RequestTemplate, default_query_version,
};
pub use runner::{LoadConfig, Stop, run};
pub use sign_cost::measure_sign_cost;
