//! The service framework every AWS service crate (`rampart-sts`, `rampart-iam`, `rampart-kms`,
//! ...) builds on: the request context, principals, the authorization seam, the handler type,
//! and the shared machinery (typed input, store keys and records, pagination, tags).
//!
//! A service is an operations table of async handlers over canonical `serde_json::Value`
//! input/output (the wire crate decodes and encodes); handlers never see HTTP. Every handler asks
//! `ctx.authorize(...)` (or declares itself unauthenticated) before it acts.
#![cfg_attr(
    test,
    allow(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )
)]

pub mod authz;
pub mod common;
pub mod context;
pub mod credentials;
pub mod principal;
pub mod registry;
pub mod service_events;
pub mod testing;

pub use authz::{
    Authorizer, AuthzRequest, Decision, RequestFacts, ResourcePolicy, ResourcePolicyKind,
    RootOnlyAuthorizer,
};
pub use context::{AuthState, Ctx, Node};
pub use principal::{Principal, PrincipalKind};
pub use registry::{Handler, HandlerFuture};
pub use service_events::{AuditResource, DiscardServiceEvents, ServiceEvent, ServiceEventSink};
