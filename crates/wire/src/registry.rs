//! The embedded service models and the lookups the server routes by.
//!
//! Models are gzip bytes inside the binary. Nothing is decompressed at startup: the first lookup
//! reads only each model's `metadata` block (a few KB), and a model is fully parsed the first time
//! its service is used.
use std::sync::OnceLock;

use crate::model::{ServiceModel, parse_metadata, parse_model};
use crate::protocol::Protocol;

struct Embedded {
    name: &'static str,
    gz: &'static [u8],
    /// Global services (IAM) are not regional; STS is regional even though it has a global
    /// endpoint, as AWS documents.
    global: bool,
}

macro_rules! model {
    ($name:literal, global = $global:literal) => {
        Embedded {
            name: $name,
            gz: include_bytes!(concat!("../models/", $name, ".json.gz")),
            global: $global,
        }
    };
}

/// Adding a service: put `models/<name>.json.gz` next to the others and add one line here.
static EMBEDDED: &[Embedded] = &[
    model!("sts", global = false),
    model!("iam", global = true),
    model!("kms", global = false),
    model!("secretsmanager", global = false),
    model!("ssm", global = false),
    model!("cloudtrail", global = false),
];

/// What routing needs to know about a service before its model is loaded.
#[derive(Debug, Clone)]
struct RoutingEntry {
    endpoint_prefix: String,
    signing_name: String,
    target_prefix: Option<String>,
    protocol: Protocol,
}

fn routing() -> &'static [Option<RoutingEntry>] {
    static ROUTING: OnceLock<Vec<Option<RoutingEntry>>> = OnceLock::new();
    ROUTING.get_or_init(|| {
        EMBEDDED
            .iter()
            .enumerate()
            .map(|(index, e)| match parse_metadata(e.gz) {
                Ok(m) => Some(RoutingEntry {
                    protocol: m.protocol(),
                    signing_name: m
                        .signing_name
                        .clone()
                        .unwrap_or_else(|| m.endpoint_prefix.clone()),
                    endpoint_prefix: m.endpoint_prefix,
                    target_prefix: m.target_prefix,
                }),
                // A model whose metadata is not near the top: load it whole instead.
                Err(_) => model_at(index).map(|svc| RoutingEntry {
                    protocol: svc.protocol,
                    signing_name: svc.signing_name.clone(),
                    endpoint_prefix: svc.endpoint_prefix.clone(),
                    target_prefix: svc.target_prefix.clone(),
                }),
            })
            .collect()
    })
}

fn loaded() -> &'static [OnceLock<Option<ServiceModel>>] {
    static LOADED: OnceLock<Vec<OnceLock<Option<ServiceModel>>>> = OnceLock::new();
    LOADED.get_or_init(|| EMBEDDED.iter().map(|_| OnceLock::new()).collect())
}

fn model_at(index: usize) -> Option<&'static ServiceModel> {
    let embedded = EMBEDDED.get(index)?;
    loaded()
        .get(index)?
        .get_or_init(|| parse_model(embedded.name, embedded.gz, embedded.global).ok())
        .as_ref()
}

/// A service by Rampart's name for it (`iam`, `kms`, `secretsmanager`, ...).
pub fn service(name: &str) -> Option<&'static ServiceModel> {
    let index = EMBEDDED.iter().position(|e| e.name == name)?;
    model_at(index)
}

/// awsJson routing: the part of `X-Amz-Target` before the dot (`TrentService` -> kms).
pub fn service_by_target_prefix(prefix: &str) -> Option<&'static ServiceModel> {
    let index = routing().iter().position(|r| {
        r.as_ref()
            .is_some_and(|r| r.target_prefix.as_deref() == Some(prefix))
    })?;
    model_at(index)
}

/// SigV4 routing: the service of the credential scope (`iam`, `sts`, `kms`).
pub fn service_by_signing_name(name: &str) -> Option<&'static ServiceModel> {
    let index = routing()
        .iter()
        .position(|r| r.as_ref().is_some_and(|r| r.signing_name == name))?;
    model_at(index)
}

/// Host routing: the first label of `<endpointPrefix>.<region>.amazonaws.com`.
pub fn service_by_endpoint_prefix(prefix: &str) -> Option<&'static ServiceModel> {
    let index = routing()
        .iter()
        .position(|r| r.as_ref().is_some_and(|r| r.endpoint_prefix == prefix))?;
    model_at(index)
}

/// The protocol of a service without loading its model (for routing decisions).
pub fn protocol_of(name: &str) -> Option<Protocol> {
    let index = EMBEDDED.iter().position(|e| e.name == name)?;
    routing().get(index)?.as_ref().map(|r| r.protocol)
}

/// Names of the embedded services, in registry order.
pub fn service_names() -> impl Iterator<Item = &'static str> {
    EMBEDDED.iter().map(|e| e.name)
}

/// Splits an awsJson `X-Amz-Target` (`TrentService.Encrypt`) into prefix and operation. The
/// prefix itself may contain dots (CloudTrail's `com.amazonaws.cloudtrail.v20131101...`), so the
/// split is at the last dot.
pub fn split_target(target: &str) -> Option<(&str, &str)> {
    let (prefix, op) = target.rsplit_once('.')?;
    (!prefix.is_empty() && !op.is_empty()).then_some((prefix, op))
}
