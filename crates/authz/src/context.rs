//! The engine's request context for one authorization question: the principal, the action and
//! resource, and every global condition key AWS supplies, plus the operation's own keys.
use std::net::IpAddr;

use rampart_policy::{ContextValue, RequestContext};
use rampart_services::AuthzRequest;

use crate::principal_policies::CachedPrincipal;

pub fn request_context(request: &AuthzRequest<'_>, cached: &CachedPrincipal) -> RequestContext {
    let facts = request.facts;
    let now = facts.now.unix_timestamp();
    let mut ctx = RequestContext::new(cached.principal.clone(), request.action, request.resource)
        .with_resource_account(request.resource_account)
        .with_time(now);
    if let Ok(ip) = facts.source_ip.parse::<IpAddr>() {
        ctx = ctx.with_source_ip(ip);
    }
    ctx.set(
        "aws:SecureTransport",
        ContextValue::bool(facts.secure_transport),
    );
    ctx.set("aws:RequestedRegion", ContextValue::string(&facts.region));
    // A service acting for the caller with the caller's credentials (Secrets Manager or SSM
    // calling KMS) names itself in kms:ViaService; that is what aws:ViaAWSService reports.
    let via_service = request
        .conditions
        .iter()
        .any(|(k, _)| k.eq_ignore_ascii_case("kms:ViaService"));
    ctx.set("aws:ViaAWSService", ContextValue::bool(via_service));
    if let Some(session) = &request.principal.session {
        // Present (true or false) for temporary credentials; absent for long-term keys, as AWS.
        ctx.set(
            "aws:MultiFactorAuthPresent",
            ContextValue::bool(session.mfa_authenticated),
        );
        if let Some(at) = session.mfa_auth_time {
            ctx.set(
                "aws:MultiFactorAuthAge",
                ContextValue::number(now.saturating_sub(at).max(0)),
            );
        }
        ctx.set("aws:TokenIssueTime", ContextValue::date(session.issued_at));
        if let Some(source) = &session.source_identity {
            ctx.set("aws:SourceIdentity", ContextValue::string(source));
        }
    }
    // The operation's keys; a key given more than once is multivalued.
    let mut i = 0;
    let conditions = request.conditions;
    while let Some((key, value)) = conditions.get(i) {
        let same: Vec<ContextValue> = conditions
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| ContextValue::string(v))
            .collect();
        let first = conditions
            .iter()
            .position(|(k, _)| k.eq_ignore_ascii_case(key))
            == Some(i);
        if first {
            if same.len() > 1 || is_multivalued(key) {
                ctx.set_multi(key, same);
            } else {
                ctx.set(key, ContextValue::string(value));
            }
        }
        i += 1;
    }
    ctx
}

/// Keys AWS defines as multivalued even with one value.
fn is_multivalued(key: &str) -> bool {
    [
        "aws:TagKeys",
        "aws:CalledVia",
        "kms:EncryptionContextKeys",
        "kms:GrantOperations",
    ]
    .iter()
    .any(|k| k.eq_ignore_ascii_case(key))
}

/// A 64-bit digest for cache keys.
pub fn hash64(bytes: &[u8]) -> u64 {
    let d = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, bytes);
    let mut out = [0u8; 8];
    out.copy_from_slice(d.as_ref().get(..8).unwrap_or(&[0u8; 8]));
    u64::from_le_bytes(out)
}
