//! The authorization seam. The pipeline hands every handler an `Authorizer`; the IAM crate plugs
//! the policy engine in here. Until then only the root user is allowed, and only in its account.
use time::OffsetDateTime;

use crate::Principal;

/// Facts about the request itself that global condition keys are made of.
#[derive(Debug, Clone)]
pub struct RequestFacts {
    pub source_ip: String,
    /// Whether the request came over TLS (`aws:SecureTransport`).
    pub secure_transport: bool,
    pub now: OffsetDateTime,
    /// The region the request addressed (`aws:RequestedRegion`).
    pub region: String,
    pub user_agent: String,
}

/// How a resource-based policy takes part in the decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResourcePolicyKind {
    /// Secrets Manager, S3-style: identity policy OR resource policy allows (same account).
    Standard,
    /// KMS key policies: the key policy must allow the principal, or delegate to the account
    /// (`arn:aws:iam::ACCOUNT:root`), before identity policies count.
    KeyPolicy,
    /// IAM role trust policies (sts:AssumeRole*): the trust policy decides who may assume.
    TrustPolicy,
}

/// A resource-based policy attached to the resource being accessed.
#[derive(Debug, Clone, Copy)]
pub struct ResourcePolicy<'a> {
    pub document: &'a str,
    pub kind: ResourcePolicyKind,
}

/// One authorization question: may `principal` perform `action` on `resource`?
#[derive(Debug, Clone)]
pub struct AuthzRequest<'a> {
    pub principal: &'a Principal,
    /// `service:Operation`, e.g. `kms:Encrypt`.
    pub action: &'a str,
    /// Resource ARN, or `*` for actions without a resource.
    pub resource: &'a str,
    /// The account that owns the resource.
    pub resource_account: &'a str,
    /// Service-specific condition keys the operation supplies (`kms:EncryptionAlgorithm`,
    /// `aws:RequestTag/k`, `aws:ResourceTag/k`, ...). A key may repeat for multi-valued keys.
    pub conditions: &'a [(&'a str, &'a str)],
    pub resource_policy: Option<ResourcePolicy<'a>>,
    pub facts: &'a RequestFacts,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Allow,
    /// Denied; the message is AWS's denial text for this request.
    Deny {
        message: String,
    },
}

pub trait Authorizer: Send + Sync {
    fn authorize(&self, request: &AuthzRequest<'_>) -> Decision;
}

/// Root may do everything in its own account; nobody else may do anything yet.
pub struct RootOnlyAuthorizer;

impl Authorizer for RootOnlyAuthorizer {
    fn authorize(&self, request: &AuthzRequest<'_>) -> Decision {
        let p = request.principal;
        let own_account = request.resource_account == p.account;
        if matches!(p.kind, crate::PrincipalKind::Root) && own_account {
            return Decision::Allow;
        }
        Decision::Deny {
            message: format!(
                "User: {} is not authorized to perform: {} on resource: {} because no identity-based policy allows the {} action",
                p.arn, request.action, request.resource, request.action
            ),
        }
    }
}
