//! The AWS services Rampart implements, one module each. A service is an operations table of
//! async handlers over canonical `serde_json::Value` input/output (the wire crate decodes and
//! encodes); handlers never see HTTP. Every handler asks `ctx.authorize(...)` before it acts.
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
pub mod principal;
pub mod registry;
pub mod sts;

pub use authz::{Authorizer, RootOnlyAuthorizer};
pub use context::{AuthState, Ctx};
pub use principal::{Principal, PrincipalKind};
pub use registry::{Handler, HandlerFuture, find_handler};
