//! In-process tests over a real (temporary) store: handlers called directly with a chosen
//! `now`, the purge tick, and what the store holds.
use std::sync::Arc;

use rampart_services::{Ctx, Node, Principal};
use serde_json::{Value, json};
use time::OffsetDateTime;

const ACCOUNT: &str = "111122223333";

fn node() -> Node {
    rampart_services::testing::node([7u8; 32]).unwrap()
}

fn ctx_at(node: &Node, principal: Principal, now: OffsetDateTime) -> Arc<Ctx> {
    rampart_services::testing::ctx(node, principal, "us-east-1", now)
}

async fn call_at(
    node: &Node,
    now: OffsetDateTime,
    op: &str,
    input: Value,
) -> Result<Value, rampart_aws_types::AwsError> {
    let h = crate::handler(op).unwrap();
    h(ctx_at(node, Principal::root(ACCOUNT, "AKIA"), now), input).await
}

async fn call(node: &Node, op: &str, input: Value) -> Result<Value, rampart_aws_types::AwsError> {
    call_at(node, OffsetDateTime::now_utc(), op, input).await
}

fn all_bytes(node: &Node) -> Vec<u8> {
    node.store
        .read_blocking(|tx| {
            let mut out = Vec::new();
            for (k, r) in tx.scan_all("")? {
                out.extend_from_slice(k.as_bytes());
                out.extend_from_slice(&r.value);
            }
            Ok::<_, rampart_store::StoreError>(out)
        })
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_store_holds_only_ciphertext() {
    let n = node();
    let small = "tiny-plaintext-marker-123";
    let large = format!("large-plaintext-marker-{}", "q".repeat(20_000));
    call(
        &n,
        "CreateSecret",
        json!({"Name": "a", "SecretString": small}),
    )
    .await
    .unwrap();
    call(
        &n,
        "PutSecretValue",
        json!({"SecretId": "a", "SecretString": large}),
    )
    .await
    .unwrap();
    let got = call(&n, "GetSecretValue", json!({"SecretId": "a"}))
        .await
        .unwrap();
    assert_eq!(got["SecretString"], json!(large));
    let prev = call(
        &n,
        "GetSecretValue",
        json!({"SecretId": "a", "VersionStage": "AWSPREVIOUS"}),
    )
    .await
    .unwrap();
    assert_eq!(prev["SecretString"], json!(small));
    let bytes = all_bytes(&n);
    let hay = String::from_utf8_lossy(&bytes);
    assert!(!hay.contains("tiny-plaintext-marker"));
    assert!(!hay.contains("large-plaintext-marker"));
    assert!(!hay.contains(&"q".repeat(64)));
}

#[tokio::test(flavor = "multi_thread")]
async fn the_tick_purges_at_the_end_of_the_window_and_not_before() {
    let n = node();
    let t0 = OffsetDateTime::now_utc();
    call_at(
        &n,
        t0,
        "CreateSecret",
        json!({"Name": "p/x", "SecretString": "v"}),
    )
    .await
    .unwrap();
    call_at(
        &n,
        t0,
        "CreateSecret",
        json!({"Name": "p/y", "SecretString": "w"}),
    )
    .await
    .unwrap();
    let d = call_at(
        &n,
        t0,
        "DeleteSecret",
        json!({"SecretId": "p/x", "RecoveryWindowInDays": 7}),
    )
    .await
    .unwrap();
    assert_eq!(
        d["DeletionDate"].as_f64().unwrap() as i64,
        (t0 + time::Duration::days(7)).unix_timestamp()
    );
    call_at(
        &n,
        t0,
        "DeleteSecret",
        json!({"SecretId": "p/y", "RecoveryWindowInDays": 7}),
    )
    .await
    .unwrap();
    call_at(&n, t0, "RestoreSecret", json!({"SecretId": "p/y"}))
        .await
        .unwrap();
    // A day early: nothing happens.
    crate::tick::run(n.clone(), t0 + time::Duration::days(6))
        .await
        .unwrap();
    call(&n, "DescribeSecret", json!({"SecretId": "p/x"}))
        .await
        .unwrap();
    // At the deletion date: purged, values too; the restored one stays.
    crate::tick::run(
        n.clone(),
        t0 + time::Duration::days(7) + time::Duration::seconds(1),
    )
    .await
    .unwrap();
    let e = call(&n, "DescribeSecret", json!({"SecretId": "p/x"}))
        .await
        .unwrap_err();
    assert_eq!(e.code, "ResourceNotFoundException");
    assert_eq!(
        call(&n, "GetSecretValue", json!({"SecretId": "p/y"}))
            .await
            .unwrap()["SecretString"],
        json!("w")
    );
    let leftovers = n
        .store
        .read_blocking(|tx| {
            Ok::<_, rampart_store::StoreError>((
                tx.count(&crate::record::value_prefix(ACCOUNT, "us-east-1", "p/x"))?,
                tx.count(crate::record::PURGE_PREFIX)?,
            ))
        })
        .unwrap();
    assert_eq!(leftovers, (0, 0));
    // Running again changes nothing.
    crate::tick::run(n.clone(), t0 + time::Duration::days(8))
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn others_are_denied_before_anything_is_read() {
    let n = node();
    call(
        &n,
        "CreateSecret",
        json!({"Name": "mine", "SecretString": "v"}),
    )
    .await
    .unwrap();
    let stranger = Principal::root("999988887777", "AKIA2");
    let h = crate::handler("GetSecretValue").unwrap();
    let arn = call(&n, "DescribeSecret", json!({"SecretId": "mine"}))
        .await
        .unwrap()["ARN"]
        .as_str()
        .unwrap()
        .to_string();
    let e = h(
        ctx_at(&n, stranger, OffsetDateTime::now_utc()),
        json!({"SecretId": arn}),
    )
    .await
    .unwrap_err();
    assert_eq!(e.code, "AccessDenied");
}

#[tokio::test(flavor = "multi_thread")]
async fn more_than_100_versions_drop_the_oldest_deprecated_values() {
    let n = node();
    call(
        &n,
        "CreateSecret",
        json!({"Name": "many", "SecretString": "v0"}),
    )
    .await
    .unwrap();
    for i in 1..=105 {
        call(
            &n,
            "PutSecretValue",
            json!({"SecretId": "many", "SecretString": format!("v{i}")}),
        )
        .await
        .unwrap();
    }
    let count = n
        .store
        .read_blocking(|tx| tx.count(&crate::record::value_prefix(ACCOUNT, "us-east-1", "many")))
        .unwrap();
    assert_eq!(count, 100);
    let list = call(
        &n,
        "ListSecretVersionIds",
        json!({"SecretId": "many", "IncludeDeprecated": true}),
    )
    .await
    .unwrap();
    assert_eq!(list["Versions"].as_array().unwrap().len(), 100);
    let cur = call(&n, "GetSecretValue", json!({"SecretId": "many"}))
        .await
        .unwrap();
    assert_eq!(cur["SecretString"], json!("v105"));
}

#[tokio::test(flavor = "multi_thread")]
async fn the_tick_rotates_and_reschedules() {
    let n = node();
    let t0 = OffsetDateTime::now_utc();
    call_at(
        &n,
        t0,
        "CreateSecret",
        json!({"Name": "r", "SecretString": "{\"username\":\"u\",\"password\":\"old\"}"}),
    )
    .await
    .unwrap();
    let r = call_at(
        &n,
        t0,
        "RotateSecret",
        json!({"SecretId": "r",
               "RotationLambdaARN": "arn:aws:lambda:us-east-1:1:function:rampart-random-password",
               "RotationRules": {"ScheduleExpression": "rate(1 days)"}}),
    )
    .await
    .unwrap();
    let token = r["VersionId"].as_str().unwrap().to_string();
    // Nothing has rotated before the tick runs.
    let cur = call(&n, "GetSecretValue", json!({"SecretId": "r"}))
        .await
        .unwrap();
    assert!(cur["SecretString"].as_str().unwrap().contains("old"));
    crate::tick::run(n.clone(), t0).await.unwrap();
    crate::rotation::idle().await;
    let cur = call(&n, "GetSecretValue", json!({"SecretId": "r"}))
        .await
        .unwrap();
    assert_eq!(cur["VersionId"], json!(token));
    assert!(!cur["SecretString"].as_str().unwrap().contains("old"));
    let d = call(&n, "DescribeSecret", json!({"SecretId": "r"}))
        .await
        .unwrap();
    let next = d["NextRotationDate"].as_f64().unwrap() as i64;
    let midnight = (t0.unix_timestamp() / 86_400 + 1) * 86_400;
    assert_eq!(next, midnight);
    // The next window rotates again, with a fresh version.
    crate::tick::run(
        n.clone(),
        t0 + time::Duration::days(1) + time::Duration::seconds(1),
    )
    .await
    .unwrap();
    crate::rotation::idle().await;
    let again = call(&n, "GetSecretValue", json!({"SecretId": "r"}))
        .await
        .unwrap();
    assert_ne!(again["VersionId"], json!(token));
    assert_eq!(
        call(
            &n,
            "GetSecretValue",
            json!({"SecretId": "r", "VersionStage": "AWSPREVIOUS"})
        )
        .await
        .unwrap()["VersionId"],
        json!(token)
    );
}
