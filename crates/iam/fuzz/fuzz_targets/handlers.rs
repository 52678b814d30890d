//! Every IAM operation, called in-process over an in-memory store with arbitrary input (the
//! first byte picks the operation, the rest is the input JSON, or a string sprayed over the
//! members most operations read). No input may panic or end in a server error; state carries
//! over between runs, so sequences of operations are explored too.
#![no_main]
use std::sync::{Arc, OnceLock};

use libfuzzer_sys::fuzz_target;
use rampart_crypto::MasterKey;
use rampart_services::credentials::CredentialCache;
use rampart_services::{
    Ctx, DiscardServiceEvents, Node, Principal, RequestFacts, RootOnlyAuthorizer,
};
use serde_json::{Value, json};

struct NoCache;
impl CredentialCache for NoCache {
    fn invalidate(&self, _: &str) {}
}

fn world() -> &'static (tokio::runtime::Runtime, Node) {
    static WORLD: OnceLock<(tokio::runtime::Runtime, Node)> = OnceLock::new();
    WORLD.get_or_init(|| {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .build()
            .unwrap();
        let node = Node {
            store: rampart_store::Store::open_in_memory().unwrap(),
            master_key: Arc::new(MasterKey::from_bytes(&[3u8; 32]).unwrap()),
            authorizer: Arc::new(RootOnlyAuthorizer),
            credential_cache: Arc::new(NoCache),
            service_events: Arc::new(DiscardServiceEvents),
        };
        (rt, node)
    })
}

const MEMBERS: &[&str] = &[
    "UserName", "GroupName", "RoleName", "PolicyName", "PolicyArn", "PolicyDocument",
    "AssumeRolePolicyDocument", "InstanceProfileName", "Path", "Marker", "Tags", "TagKeys",
    "VersionId", "AccessKeyId", "SerialNumber", "Url", "SAMLMetadataDocument", "Name",
    "NewUserName", "PermissionsBoundary", "Password", "AuthenticationCode1",
];

fuzz_target!(|data: &[u8]| {
    let Some((first, rest)) = data.split_first() else {
        return;
    };
    let ops = rampart_iam::OPERATIONS;
    let op = ops[usize::from(*first) % ops.len()];
    let input: Value = match serde_json::from_slice::<Value>(rest) {
        Ok(v @ Value::Object(_)) => v,
        _ => {
            let text = String::from_utf8_lossy(rest).to_string();
            Value::Object(MEMBERS.iter().map(|m| ((*m).to_string(), json!(text))).collect())
        }
    };
    let (rt, node) = world();
    let facts = RequestFacts {
        source_ip: "127.0.0.1".into(),
        secure_transport: false,
        now: time::OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap(),
        region: "us-east-1".into(),
        user_agent: "fuzz".into(),
    };
    let ctx = Arc::new(Ctx::new(
        Principal::root("111122223333", "AKIAFUZZ"),
        "fuzz".into(),
        facts,
        node.clone(),
    ));
    let handler = rampart_iam::handler(op).unwrap();
    if let Err(e) = rt.block_on(handler(ctx, input)) {
        assert!(e.status < 500, "{op}: {} {}", e.code, e.message);
    }
});
