//! Any input: parsing never panics, and whatever parses also validates, compiles and decides
//! without panicking. Sizes are bounded by the parser (512 KiB, nesting depth 16).
#![no_main]

use libfuzzer_sys::fuzz_target;
use rampart_policy::{
    Policy, PolicyKind, PolicySet, Principal, RequestContext, ResourceMode, evaluate,
};
use std::sync::Arc;

const KINDS: [PolicyKind; 4] = [
    PolicyKind::AwsManaged,
    PolicyKind::Resource,
    PolicyKind::RoleTrust,
    PolicyKind::ServiceControl,
];

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for kind in KINDS {
        let Ok(policy) = Policy::parse(text, kind) else {
            continue;
        };
        let _ = policy.validate();
        let compiled = Arc::new(policy.compile("fuzz"));
        let mut set = PolicySet::default();
        match kind {
            PolicyKind::Resource | PolicyKind::RoleTrust => {
                set.resource = Some(compiled);
                set.resource_mode = ResourceMode::KeyPolicy;
            }
            _ => set.identity.push(compiled),
        }
        let alice = Principal::user(
            "arn:aws:iam::111122223333:user/alice",
            "111122223333",
            "alice",
            "AIDA",
        )
        .with_tag("team", "blue");
        let ctx = RequestContext::new(alice, "s3:GetObject", "arn:aws:s3:::bucket/home/alice/x")
            .with_time(1_767_225_600)
            .with("s3:prefix", "home/alice/")
            .with("aws:SourceIp", "10.1.2.3");
        let _ = evaluate(&set, &ctx);
    }
});
