//! Background actions of Rampart itself (rotation steps, key deletion, scheduled expiry) are
//! recorded as CloudTrail `AwsServiceEvent`s. Jobs hand them to the node's sink; the server
//! turns them into audit records next to the API calls.
use std::future::Future;
use std::pin::Pin;

use serde_json::Value;
use time::OffsetDateTime;

/// A resource an event touched: its ARN and CloudTrail type (`AWS::KMS::Key`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditResource {
    pub arn: String,
    pub resource_type: String,
}

/// One background action, in the account and region it belongs to.
#[derive(Debug, Clone)]
pub struct ServiceEvent {
    pub account: String,
    pub region: String,
    /// The acting service, e.g. `kms.amazonaws.com`.
    pub event_source: String,
    /// e.g. `DeleteKey`, `RotateKey`.
    pub event_name: String,
    pub time: OffsetDateTime,
    /// Free-form details (CloudTrail's `serviceEventDetails`); never secret material.
    pub details: Option<Value>,
    pub resources: Vec<AuditResource>,
}

pub type EmitFuture<'a> = Pin<Box<dyn Future<Output = ()> + Send + 'a>>;

/// Where background jobs send their events. The server's implementation queues them to the
/// audit writer like any request's event (never dropped silently).
pub trait ServiceEventSink: Send + Sync {
    fn emit(&self, event: ServiceEvent) -> EmitFuture<'_>;

    /// Waits until every event recorded so far (by requests or jobs) is readable from the
    /// store: what LookupEvents and other readers of the trail call first.
    fn flush(&self) -> EmitFuture<'_> {
        Box::pin(async {})
    }
}

/// A sink that keeps nothing, for unit tests of jobs that do not look at their events.
pub struct DiscardServiceEvents;

impl ServiceEventSink for DiscardServiceEvents {
    fn emit(&self, _event: ServiceEvent) -> EmitFuture<'_> {
        Box::pin(async {})
    }
}
