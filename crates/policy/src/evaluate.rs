//! The AWS decision: which policies apply to a request and how their verdicts combine.
//!
//! Follows <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic_policy-eval-denyallow.html>
//! and the cross-account page. In order:
//! 1. an explicit deny in any applicable policy denies;
//! 2. SCPs must allow at every level of the OU path (not for the management account or
//!    service-linked roles); RCPs likewise for the resource's account;
//!    a VPC endpoint policy, when the request came through one, must allow too;
//! 3. the root user is allowed within its account (KMS-style keys excepted);
//! 4. same account: the identity side (identity policies, intersected with a permissions
//!    boundary and session policies) OR the resource policy allows. A resource policy naming the
//!    caller itself (user ARN, role session ARN) allows even past a boundary or session policy;
//!    one naming the role ARN does not; one naming the account delegates to identity policies;
//! 5. cross account: the identity side AND the resource policy must allow;
//! 6. key policies (`ResourceMode::KeyPolicy`): the key policy must allow the caller or delegate
//!    to its account before identity policies count.

use std::fmt;
use std::sync::Arc;

use crate::compile::{
    CompiledPolicy, CompiledStatement, PolicyVerdict, PrincipalMatch, StatementSink,
};
use crate::context::{PrincipalKind, RequestContext};
use crate::document::Effect;

/// The kind of policy that decided, in the terms AWS uses in its denial messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PolicyType {
    ServiceControlPolicy,
    ResourceControlPolicy,
    VpcEndpoint,
    ResourceBased,
    IdentityBased,
    PermissionsBoundary,
    SessionPolicy,
}

impl PolicyType {
    /// The phrase AWS uses: "an identity-based policy", "a service control policy", ...
    pub fn phrase(self) -> &'static str {
        match self {
            PolicyType::ServiceControlPolicy => "service control policy",
            PolicyType::ResourceControlPolicy => "resource control policy",
            PolicyType::VpcEndpoint => "VPC endpoint policy",
            PolicyType::ResourceBased => "resource-based policy",
            PolicyType::IdentityBased => "identity-based policy",
            PolicyType::PermissionsBoundary => "permissions boundary",
            PolicyType::SessionPolicy => "session policy",
        }
    }
}

/// The final answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Outcome {
    Allow,
    ExplicitDeny,
    ImplicitDeny,
}

/// A statement that applied to the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MatchedStatement {
    pub policy_type: PolicyType,
    /// The name the policy was compiled with.
    pub policy: Arc<str>,
    /// Position of the statement in its document (0-based).
    pub index: usize,
    pub sid: Option<Arc<str>>,
    pub effect: Effect,
}

/// The decision with its explanation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub outcome: Outcome,
    /// For denials, the policy type that denied: the one holding the explicit deny, or the one
    /// that was missing an allow.
    pub denied_by: Option<PolicyType>,
    /// Every statement that applied, in evaluation order.
    pub matched: Vec<MatchedStatement>,
}

impl Decision {
    pub fn is_allowed(&self) -> bool {
        self.outcome == Outcome::Allow
    }

    /// The end of AWS's AccessDenied message for `action`:
    /// "with an explicit deny in an identity-based policy" or
    /// "because no identity-based policy allows the s3:GetObject action". `None` when allowed.
    pub fn denial_reason(&self, action: &str) -> Option<String> {
        let ty = self.denied_by?;
        Some(match self.outcome {
            Outcome::Allow => return None,
            Outcome::ExplicitDeny => {
                let article = if ty.phrase().starts_with(['a', 'e', 'i', 'o', 'u']) {
                    "an"
                } else {
                    "a"
                };
                format!("with an explicit deny in {article} {}", ty.phrase())
            }
            Outcome::ImplicitDeny => {
                format!("because no {} allows the {action} action", ty.phrase())
            }
        })
    }

    /// AWS's full AccessDenied message for the request, e.g. "User:
    /// arn:aws:iam::111122223333:user/alice is not authorized to perform: s3:GetObject on
    /// resource: arn:aws:s3:::bucket/key because no identity-based policy allows the
    /// s3:GetObject action". `None` when allowed.
    pub fn access_denied_message(&self, ctx: &RequestContext) -> Option<String> {
        let reason = self.denial_reason(ctx.action())?;
        let who = match ctx.principal().kind {
            PrincipalKind::Anonymous => "anonymous",
            _ => &ctx.principal().arn,
        };
        Some(format!(
            "User: {who} is not authorized to perform: {} on resource: {} {reason}",
            ctx.action(),
            ctx.resource()
        ))
    }

    /// The statements of one policy type that applied.
    pub fn matched_in(&self, ty: PolicyType) -> impl Iterator<Item = &MatchedStatement> {
        self.matched.iter().filter(move |m| m.policy_type == ty)
    }
}

impl fmt::Display for Decision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.outcome)?;
        if let Some(t) = self.denied_by {
            write!(f, " by {}", t.phrase())?;
        }
        Ok(())
    }
}

/// How the resource policy relates to IAM policies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ResourceMode {
    /// S3, SQS, Secrets Manager, ...: within an account identity OR resource policy.
    #[default]
    Standard,
    /// KMS keys: IAM policies count only if the key policy delegates to the account.
    KeyPolicy,
    /// Role trust policies (`sts:AssumeRole*`): like key policies, the trust policy must allow
    /// the caller, or name its account so that the caller's identity policies decide.
    RoleTrust,
}

/// AWS Organizations policies along the OU path: each level (root, each OU, the account)
/// must allow.
#[derive(Debug, Clone, Default)]
pub struct OrgPolicies {
    /// The organization's management account: exempt from SCPs (its principals) and RCPs (its
    /// resources).
    pub management_account: String,
    /// One entry per level of the path, each holding the policies attached there.
    pub levels: Vec<Vec<Arc<CompiledPolicy>>>,
}

/// Every policy that applies to one request. Cache it per principal and resource; it is
/// cheap to clone (policies are shared).
#[derive(Debug, Clone, Default)]
pub struct PolicySet {
    /// Identity-based policies: managed and inline, the user's groups' included.
    pub identity: Vec<Arc<CompiledPolicy>>,
    /// The permissions boundary, if the user or role has one.
    pub permissions_boundary: Option<Arc<CompiledPolicy>>,
    /// Session policies, if the session was created with any (`None`: not a session, or no
    /// session policy passed). Any one of them allowing is enough.
    pub session: Option<Vec<Arc<CompiledPolicy>>>,
    /// Service control policies for the principal's account.
    pub scp: Option<OrgPolicies>,
    /// Resource control policies for the resource's account.
    pub rcp: Option<OrgPolicies>,
    /// The policy of the VPC endpoint the request came through, if any (parse it as
    /// `PolicyKind::Resource`). It must allow the request; a deny in it wins.
    pub vpc_endpoint: Option<Arc<CompiledPolicy>>,
    /// The resource-based policy of the resource, if any.
    pub resource: Option<Arc<CompiledPolicy>>,
    pub resource_mode: ResourceMode,
}

struct NoTrace;

impl StatementSink for NoTrace {
    const FULL: bool = false;
    #[inline]
    fn statement(&mut self, _: &CompiledPolicy, _: &CompiledStatement) {}
}

struct Trace {
    current: PolicyType,
    matched: Vec<MatchedStatement>,
}

impl StatementSink for Trace {
    const FULL: bool = true;
    fn statement(&mut self, policy: &CompiledPolicy, st: &CompiledStatement) {
        self.matched.push(MatchedStatement {
            policy_type: self.current,
            policy: policy.name_arc().clone(),
            index: st.index,
            sid: st.sid.clone(),
            effect: st.effect,
        });
    }
}

trait Sink: StatementSink {
    fn enter(&mut self, ty: PolicyType);
}

impl Sink for NoTrace {
    #[inline]
    fn enter(&mut self, _: PolicyType) {}
}

impl Sink for Trace {
    fn enter(&mut self, ty: PolicyType) {
        self.current = ty;
    }
}

/// Decides the request and explains the decision.
pub fn evaluate(set: &PolicySet, ctx: &RequestContext) -> Decision {
    let mut t = Trace {
        current: PolicyType::IdentityBased,
        matched: Vec::new(),
    };
    let (outcome, denied_by) = run(set, ctx, &mut t);
    Decision {
        outcome,
        denied_by,
        matched: t.matched,
    }
}

/// Decides the request without a trace (no allocation; stops at the first deciding
/// statement). Same outcome and `denied_by` as [`evaluate`].
pub fn decide(set: &PolicySet, ctx: &RequestContext) -> (Outcome, Option<PolicyType>) {
    run(set, ctx, &mut NoTrace)
}

/// Allow/deny of a group of policies where any one allowing is enough.
#[derive(Clone, Copy, Default)]
struct GroupVerdict {
    deny: bool,
    allow: Option<PrincipalMatch>,
}

fn group<'a, S: Sink>(
    ty: PolicyType,
    policies: impl IntoIterator<Item = &'a Arc<CompiledPolicy>>,
    ctx: &RequestContext,
    sink: &mut S,
) -> GroupVerdict {
    sink.enter(ty);
    let mut g = GroupVerdict::default();
    for p in policies {
        let PolicyVerdict { deny, allow } = p.verdict(ctx, sink);
        g.deny |= deny;
        if let Some(a) = allow {
            g.allow = Some(g.allow.map_or(a, |b| b.max(a)));
        }
        if deny && !S::FULL {
            return g;
        }
    }
    g
}

/// An organization policy chain: denied if any level denies, allowed only if every level has
/// an allow.
fn org_chain<S: Sink>(
    ty: PolicyType,
    org: &OrgPolicies,
    ctx: &RequestContext,
    sink: &mut S,
) -> (bool, bool) {
    let mut deny = false;
    let mut all_allow = true;
    for level in &org.levels {
        let g = group(ty, level.iter(), ctx, sink);
        deny |= g.deny;
        all_allow &= g.allow.is_some();
        if deny && !S::FULL {
            return (true, false);
        }
    }
    (deny, all_allow)
}

fn run<S: Sink>(
    set: &PolicySet,
    ctx: &RequestContext,
    sink: &mut S,
) -> (Outcome, Option<PolicyType>) {
    let p = &ctx.principal;
    let service_caller = matches!(p.kind, PrincipalKind::Service | PrincipalKind::WebIdentity);
    let iam_identity = matches!(
        p.kind,
        PrincipalKind::User | PrincipalKind::AssumedRole | PrincipalKind::FederatedUser
    );
    let exempt = service_caller || p.service_linked_role;
    let resource_account: &str = ctx.resource_account.as_deref().unwrap_or(&p.account);

    // Evaluate every applicable policy once; explicit denies first in AWS's order.
    let mut explicit: Option<PolicyType> = None;
    let note_deny = |ty: PolicyType, explicit: &mut Option<PolicyType>| {
        if explicit.is_none() {
            *explicit = Some(ty);
        }
    };

    let scp = set
        .scp
        .as_ref()
        .filter(|o| !exempt && !p.account.is_empty() && o.management_account != p.account);
    let mut scp_allows = true;
    if let Some(org) = scp {
        let (deny, allow) = org_chain(PolicyType::ServiceControlPolicy, org, ctx, sink);
        if deny {
            note_deny(PolicyType::ServiceControlPolicy, &mut explicit);
            if !S::FULL {
                return (Outcome::ExplicitDeny, explicit);
            }
        }
        scp_allows = allow;
    }

    let rcp = set.rcp.as_ref().filter(|o| {
        !exempt && !resource_account.is_empty() && o.management_account != resource_account
    });
    let mut rcp_allows = true;
    if let Some(org) = rcp {
        let (deny, allow) = org_chain(PolicyType::ResourceControlPolicy, org, ctx, sink);
        if deny {
            note_deny(PolicyType::ResourceControlPolicy, &mut explicit);
            if !S::FULL {
                return (Outcome::ExplicitDeny, explicit);
            }
        }
        rcp_allows = allow;
    }

    let mut vpce_allows = true;
    if let Some(v) = set.vpc_endpoint.as_ref().filter(|_| !service_caller) {
        let g = group(PolicyType::VpcEndpoint, std::iter::once(v), ctx, sink);
        if g.deny {
            note_deny(PolicyType::VpcEndpoint, &mut explicit);
            if !S::FULL {
                return (Outcome::ExplicitDeny, explicit);
            }
        }
        vpce_allows = g.allow.is_some();
    }

    let resource = match &set.resource {
        Some(r) => {
            let g = group(PolicyType::ResourceBased, std::iter::once(r), ctx, sink);
            if g.deny {
                note_deny(PolicyType::ResourceBased, &mut explicit);
                if !S::FULL {
                    return (Outcome::ExplicitDeny, explicit);
                }
            }
            g.allow
        }
        None => None,
    };

    // Identity-side policies exist only for IAM users and role / federated sessions.
    let (mut identity_allow, mut boundary_ok, mut session_ok) = (false, true, true);
    if iam_identity {
        let g = group(PolicyType::IdentityBased, set.identity.iter(), ctx, sink);
        if g.deny {
            note_deny(PolicyType::IdentityBased, &mut explicit);
            if !S::FULL {
                return (Outcome::ExplicitDeny, explicit);
            }
        }
        identity_allow = g.allow.is_some();
        if let Some(b) = &set.permissions_boundary {
            let g = group(
                PolicyType::PermissionsBoundary,
                std::iter::once(b),
                ctx,
                sink,
            );
            if g.deny {
                note_deny(PolicyType::PermissionsBoundary, &mut explicit);
                if !S::FULL {
                    return (Outcome::ExplicitDeny, explicit);
                }
            }
            boundary_ok = g.allow.is_some();
        }
        if let Some(sp) = &set.session {
            let g = group(PolicyType::SessionPolicy, sp.iter(), ctx, sink);
            if g.deny {
                note_deny(PolicyType::SessionPolicy, &mut explicit);
                if !S::FULL {
                    return (Outcome::ExplicitDeny, explicit);
                }
            }
            session_ok = g.allow.is_some();
        }
    }

    if explicit.is_some() {
        return (Outcome::ExplicitDeny, explicit);
    }
    if !scp_allows {
        return (
            Outcome::ImplicitDeny,
            Some(PolicyType::ServiceControlPolicy),
        );
    }
    if !rcp_allows {
        return (
            Outcome::ImplicitDeny,
            Some(PolicyType::ResourceControlPolicy),
        );
    }
    if !vpce_allows {
        return (Outcome::ImplicitDeny, Some(PolicyType::VpcEndpoint));
    }

    let allow = (Outcome::Allow, None);
    let deny = |ty| (Outcome::ImplicitDeny, Some(ty));
    let cross = ctx.is_cross_account();
    let key_policy = matches!(
        set.resource_mode,
        ResourceMode::KeyPolicy | ResourceMode::RoleTrust
    );

    match p.kind {
        PrincipalKind::Root => {
            // The root user holds every permission of its own account; a key policy must still
            // name the account, and another account's resource must grant it.
            if key_policy || cross {
                return if resource.is_some() {
                    allow
                } else {
                    deny(PolicyType::ResourceBased)
                };
            }
            return allow;
        }
        PrincipalKind::Service | PrincipalKind::WebIdentity | PrincipalKind::Anonymous => {
            // No identity policies: only a resource policy naming the caller can allow.
            return if resource == Some(PrincipalMatch::Exact) {
                allow
            } else {
                deny(PolicyType::ResourceBased)
            };
        }
        _ => {}
    }

    let identity_side = identity_allow && boundary_ok && session_ok;
    let identity_reason = || {
        if !identity_allow {
            PolicyType::IdentityBased
        } else if !boundary_ok {
            PolicyType::PermissionsBoundary
        } else {
            PolicyType::SessionPolicy
        }
    };

    if cross {
        if !identity_side {
            return deny(identity_reason());
        }
        return if resource.is_some() {
            allow
        } else {
            deny(PolicyType::ResourceBased)
        };
    }

    if key_policy {
        return match resource {
            None => deny(PolicyType::ResourceBased),
            Some(PrincipalMatch::Exact) => allow,
            Some(PrincipalMatch::Issuer) if boundary_ok && session_ok => allow,
            Some(_) if identity_side => allow,
            Some(_) => deny(identity_reason()),
        };
    }

    match resource {
        Some(PrincipalMatch::Exact) => allow,
        Some(PrincipalMatch::Issuer) if boundary_ok && session_ok => allow,
        _ if identity_side => allow,
        _ => deny(identity_reason()),
    }
}
