//! Policy sets and requests built from the input: deciding never panics, and `decide` (no
//! trace) always agrees with `evaluate`.
//!
//! Input layout: up to five parts separated by 0xFF bytes — identity policy, resource policy,
//! permissions boundary, SCP, then request lines (`action`, `resource`, then `key=value`; a
//! value with `|` is multivalued).
#![no_main]

use std::sync::Arc;

use libfuzzer_sys::fuzz_target;
use rampart_policy::{
    ContextValue, OrgPolicies, Policy, PolicyKind, PolicySet, Principal, RequestContext,
    ResourceMode, decide, evaluate,
};

fn compiled(
    part: Option<&[u8]>,
    kind: PolicyKind,
    name: &str,
) -> Option<Arc<rampart_policy::CompiledPolicy>> {
    let text = std::str::from_utf8(part?).ok()?;
    Policy::parse(text, kind)
        .ok()
        .map(|p| Arc::new(p.compile(name)))
}

fuzz_target!(|data: &[u8]| {
    let parts: Vec<&[u8]> = data.split(|b| *b == 0xFF).collect();
    let mut set = PolicySet::default();
    if let Some(p) = compiled(parts.first().copied(), PolicyKind::AwsManaged, "identity") {
        set.identity.push(p);
    }
    set.resource = compiled(parts.get(1).copied(), PolicyKind::Resource, "resource");
    set.permissions_boundary = compiled(parts.get(2).copied(), PolicyKind::AwsManaged, "boundary");
    if let Some(scp) = compiled(parts.get(3).copied(), PolicyKind::ServiceControl, "scp") {
        set.scp = Some(OrgPolicies {
            management_account: "999999999999".into(),
            levels: vec![vec![scp]],
        });
    }
    let request = parts
        .get(4)
        .and_then(|p| std::str::from_utf8(p).ok())
        .unwrap_or("");
    let mut lines = request.lines();
    let action = lines.next().unwrap_or("s3:GetObject");
    let resource = lines.next().unwrap_or("arn:aws:s3:::bucket/key");
    for (i, mode) in [ResourceMode::Standard, ResourceMode::KeyPolicy]
        .into_iter()
        .enumerate()
    {
        set.resource_mode = mode;
        let principal = if i == 0 {
            Principal::user(
                "arn:aws:iam::111122223333:user/alice",
                "111122223333",
                "alice",
                "AIDA",
            )
            .with_tag("team", "blue")
        } else {
            Principal::role_session(
                "arn:aws:sts::111122223333:assumed-role/dev/s",
                "111122223333",
                "arn:aws:iam::111122223333:role/dev",
                "AROA:s",
            )
        };
        let mut ctx = RequestContext::new(principal, action, resource).with_time(1_767_225_600);
        if i == 1 {
            ctx = ctx.with_resource_account("444455556666");
        }
        for line in lines.clone() {
            if let Some((k, v)) = line.split_once('=') {
                if v.contains('|') {
                    ctx.set_multi(k, v.split('|').map(ContextValue::string).collect());
                } else {
                    ctx.set(k, ContextValue::string(v));
                }
            }
        }
        let d = evaluate(&set, &ctx);
        assert_eq!(decide(&set, &ctx), (d.outcome, d.denied_by));
        let _ = d.access_denied_message(&ctx);
    }
});
