//! rampart-policy: the AWS IAM policy language, parsed, validated, compiled and decided exactly
//! as AWS does. A pure library: no I/O, no clock, no async.
//!
//! ```
//! use rampart_policy::*;
//! let doc = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow",
//!     "Action":"s3:Get*","Resource":"arn:aws:s3:::bucket/${aws:username}/*"}}"#;
//! let policy = Policy::parse(doc, PolicyKind::Managed).unwrap();
//! let set = PolicySet { identity: vec![std::sync::Arc::new(policy.compile("p"))], ..Default::default() };
//! let alice = Principal::user("arn:aws:iam::111122223333:user/alice", "111122223333", "alice", "AIDAEXAMPLE");
//! let ctx = RequestContext::new(alice, "s3:GetObject", "arn:aws:s3:::bucket/alice/notes.txt");
//! assert!(evaluate(&set, &ctx).is_allowed());
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

mod arn;
mod catalogue;
mod compile;
mod condition;
mod context;
mod document;
mod error;
mod evaluate;
mod hash;
mod kind;
mod lint;
mod parse;
mod pattern;
mod value;

pub use catalogue::{Catalogue, KeyType};
pub use compile::{CompiledPolicy, PrincipalMatch};
pub use condition::{Operator, SetQualifier};
pub use context::{ContextEntry, ContextValue, Principal, PrincipalKind, RequestContext};
pub use document::{
    Condition, Effect, PatternElement, Policy, PrincipalElement, PrincipalEntry, Statement, Version,
};
pub use error::PolicyError;
pub use evaluate::{
    Decision, MatchedStatement, OrgPolicies, Outcome, PolicySet, PolicyType, ResourceMode, decide,
    evaluate,
};
pub use kind::PolicyKind;
pub use lint::{Finding, Severity};
pub use parse::iam_policy_size;

#[cfg(test)]
mod api_tests {
    use super::*;

    fn send_sync<T: Send + Sync>() {}

    /// Compiled policies and sets are shared between request threads by the server's cache.
    #[test]
    fn shareable_across_threads() {
        send_sync::<CompiledPolicy>();
        send_sync::<PolicySet>();
        send_sync::<RequestContext>();
        send_sync::<Decision>();
        send_sync::<Catalogue>();
    }
}
