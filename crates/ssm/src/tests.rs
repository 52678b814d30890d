//! In-process tests over a real (temporary) store: the standard-parameter quota, the version
//! cap, and what the store holds for SecureString values.

use rampart_services::common::records;
use rampart_services::{Node, Principal};
use rampart_store::Expect;
use serde_json::{Value, json};
use time::OffsetDateTime;

use crate::record;

const ACCOUNT: &str = "111122223333";
const REGION: &str = "us-east-1";

fn node() -> Node {
    rampart_services::testing::node([5u8; 32]).unwrap()
}

async fn call(node: &Node, op: &str, input: Value) -> Result<Value, rampart_aws_types::AwsError> {
    let ctx = rampart_services::testing::ctx(
        node,
        Principal::root(ACCOUNT, "AKIA"),
        REGION,
        OffsetDateTime::now_utc(),
    );
    crate::handler(op).unwrap()(ctx, input).await
}

fn count(node: &Node) -> u64 {
    node.store
        .read_blocking(|tx| {
            records::get::<u64>(tx, &record::standard_count_key(ACCOUNT, REGION))
                .map(|c| c.map_or(0, |(c, _)| c))
        })
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_standard_quota_counts_parameters_not_versions() {
    let n = node();
    call(
        &n,
        "PutParameter",
        json!({"Name": "/a", "Value": "1", "Type": "String"}),
    )
    .await
    .unwrap();
    call(
        &n,
        "PutParameter",
        json!({"Name": "/a", "Value": "2", "Overwrite": true}),
    )
    .await
    .unwrap();
    call(
        &n,
        "PutParameter",
        json!({"Name": "/adv", "Value": "1", "Type": "String", "Tier": "Advanced"}),
    )
    .await
    .unwrap();
    assert_eq!(count(&n), 1);
    // Pretend the account is at the quota.
    n.store
        .write_blocking(|tx| {
            records::put(
                tx,
                &record::standard_count_key(ACCOUNT, REGION),
                &9_999u64,
                Expect::Any,
            )
        })
        .unwrap();
    call(
        &n,
        "PutParameter",
        json!({"Name": "/b", "Value": "1", "Type": "String"}),
    )
    .await
    .unwrap();
    let e = call(
        &n,
        "PutParameter",
        json!({"Name": "/c", "Value": "1", "Type": "String"}),
    )
    .await
    .unwrap_err();
    assert_eq!(e.code, "ParameterLimitExceeded");
    // Advanced parameters are not counted; overwriting a standard one is still allowed.
    call(
        &n,
        "PutParameter",
        json!({"Name": "/c", "Value": "1", "Type": "String", "Tier": "Advanced"}),
    )
    .await
    .unwrap();
    call(
        &n,
        "PutParameter",
        json!({"Name": "/b", "Value": "2", "Overwrite": true}),
    )
    .await
    .unwrap();
    call(&n, "DeleteParameter", json!({"Name": "/b"}))
        .await
        .unwrap();
    assert_eq!(count(&n), 9_999);
    call(
        &n,
        "PutParameter",
        json!({"Name": "/c2", "Value": "1", "Type": "String"}),
    )
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn the_oldest_version_goes_after_100_unless_labelled() {
    let n = node();
    call(
        &n,
        "PutParameter",
        json!({"Name": "/v", "Value": "1", "Type": "String"}),
    )
    .await
    .unwrap();
    for i in 2..=100 {
        call(
            &n,
            "PutParameter",
            json!({"Name": "/v", "Value": format!("{i}"), "Overwrite": true}),
        )
        .await
        .unwrap();
    }
    call(
        &n,
        "LabelParameterVersion",
        json!({"Name": "/v", "ParameterVersion": 1, "Labels": ["keep"]}),
    )
    .await
    .unwrap();
    let e = call(
        &n,
        "PutParameter",
        json!({"Name": "/v", "Value": "101", "Overwrite": true}),
    )
    .await
    .unwrap_err();
    assert_eq!(e.code, "ParameterMaxVersionLimitExceeded");
    call(
        &n,
        "UnlabelParameterVersion",
        json!({"Name": "/v", "ParameterVersion": 1, "Labels": ["keep"]}),
    )
    .await
    .unwrap();
    let r = call(
        &n,
        "PutParameter",
        json!({"Name": "/v", "Value": "101", "Overwrite": true}),
    )
    .await
    .unwrap();
    assert_eq!(r["Version"], json!(101));
    let e = call(&n, "GetParameter", json!({"Name": "/v:1"}))
        .await
        .unwrap_err();
    assert_eq!(e.code, "ParameterVersionNotFound");
    assert_eq!(
        call(&n, "GetParameter", json!({"Name": "/v:2"}))
            .await
            .unwrap()["Parameter"]["Value"],
        json!("2")
    );
    let versions = n
        .store
        .read_blocking(|tx| tx.count(&record::version_prefix(ACCOUNT, REGION, "/v")))
        .unwrap();
    assert_eq!(versions, 100);
}

#[tokio::test(flavor = "multi_thread")]
async fn secure_strings_are_stored_as_ciphertext_only() {
    let n = node();
    let secret = "ssm-plaintext-marker-0451";
    call(
        &n,
        "PutParameter",
        json!({"Name": "/s", "Value": secret, "Type": "SecureString"}),
    )
    .await
    .unwrap();
    call(
        &n,
        "PutParameter",
        json!({"Name": "/s", "Value": format!("{secret}-2"), "Overwrite": true}),
    )
    .await
    .unwrap();
    let got = call(
        &n,
        "GetParameter",
        json!({"Name": "/s:1", "WithDecryption": true}),
    )
    .await
    .unwrap();
    assert_eq!(got["Parameter"]["Value"], json!(secret));
    let all = n
        .store
        .read_blocking(|tx| {
            let mut out = Vec::new();
            for (k, r) in tx.scan_all("")? {
                out.extend_from_slice(k.as_bytes());
                out.extend_from_slice(&r.value);
            }
            Ok::<_, rampart_store::StoreError>(out)
        })
        .unwrap();
    assert!(!String::from_utf8_lossy(&all).contains("ssm-plaintext-marker"));
}

#[tokio::test(flavor = "multi_thread")]
async fn expiration_policies_are_enforced_by_the_tick() {
    let n = node();
    let now = OffsetDateTime::now_utc();
    let at = now + time::Duration::hours(2);
    let ts = at
        .replace_nanosecond(0)
        .unwrap()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    let policies = format!(
        r#"[{{"Type":"Expiration","Version":"1.0","Attributes":{{"Timestamp":"{ts}"}}}},
            {{"Type":"ExpirationNotification","Version":"1.0","Attributes":{{"Before":"1","Unit":"Hours"}}}}]"#
    );
    call(&n, "PutParameter", json!({"Name": "/exp", "Value": "v", "Type": "String", "Tier": "Advanced", "Policies": policies}))
        .await
        .unwrap();
    call(&n, "PutParameter", json!({"Name": "/keep", "Value": "v", "Type": "String", "Tier": "Advanced", "Policies": policies}))
        .await
        .unwrap();
    // Overwriting /keep without an expiration drops its old policy entries.
    call(
        &n,
        "PutParameter",
        json!({"Name": "/keep", "Value": "w", "Overwrite": true, "Policies": "[]"}),
    )
    .await
    .unwrap();
    let entries = |n: &Node| {
        n.store
            .read_blocking(|tx| tx.count(record::DUE_PREFIX))
            .unwrap()
    };
    assert_eq!(entries(&n), 2);
    crate::tick::run(n.clone(), now + time::Duration::minutes(30))
        .await
        .unwrap();
    assert_eq!(entries(&n), 2);
    // The notice is due an hour before expiry; the parameter stays.
    crate::tick::run(n.clone(), now + time::Duration::minutes(61))
        .await
        .unwrap();
    assert_eq!(entries(&n), 1);
    call(&n, "GetParameter", json!({"Name": "/exp"}))
        .await
        .unwrap();
    crate::tick::run(n.clone(), at + time::Duration::seconds(1))
        .await
        .unwrap();
    assert_eq!(entries(&n), 0);
    let e = call(&n, "GetParameter", json!({"Name": "/exp"}))
        .await
        .unwrap_err();
    assert_eq!(e.code, "ParameterNotFound");
    call(&n, "GetParameter", json!({"Name": "/keep"}))
        .await
        .unwrap();
}
