//! The authorization seam. The pipeline hands every handler an `Authorizer`; the IAM issue plugs
//! the policy engine in here. Until then only the root user is allowed, and only in its account.
use crate::Principal;

/// One authorization question: may `principal` perform `action` on `resource`?
#[derive(Debug, Clone)]
pub struct AuthzRequest<'a> {
    pub principal: &'a Principal,
    /// `service:Operation`, e.g. `sts:GetCallerIdentity`.
    pub action: &'a str,
    /// Resource ARN, or `*` for actions without a resource.
    pub resource: &'a str,
    /// The account that owns the resource.
    pub resource_account: &'a str,
    /// Extra condition keys the operation supplies.
    pub conditions: &'a [(&'a str, &'a str)],
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
