//! In-process tests of the domain logic over a real (temporary) store: the internal API other
//! services call, the background tick, and handlers called directly.
use std::collections::BTreeMap;
use std::sync::Arc;

use rampart_crypto::MasterKey;
use rampart_services::credentials::CredentialCache;
use rampart_services::{
    Ctx, DiscardServiceEvents, Node, Principal, RequestFacts, RootOnlyAuthorizer,
};
use rampart_store::Store;
use serde_json::{Value, json};
use time::OffsetDateTime;

use crate::internal;

const ACCOUNT: &str = "111122223333";

struct NoCache;
impl CredentialCache for NoCache {
    fn invalidate(&self, _: &str) {}
}

fn node() -> Node {
    Node {
        store: Store::open_in_memory().unwrap(),
        master_key: Arc::new(MasterKey::from_bytes(&[9u8; 32]).unwrap()),
        authorizer: Arc::new(RootOnlyAuthorizer),
        credential_cache: Arc::new(NoCache),
        service_events: Arc::new(DiscardServiceEvents),
    }
}

fn ctx_at(node: &Node, principal: Principal, now: OffsetDateTime) -> Arc<Ctx> {
    let facts = RequestFacts {
        source_ip: "127.0.0.1".into(),
        secure_transport: false,
        now,
        region: "us-east-1".into(),
        user_agent: "test".into(),
    };
    Arc::new(Ctx::new(principal, "req".into(), facts, node.clone()))
}

fn root_ctx(node: &Node) -> Arc<Ctx> {
    ctx_at(
        node,
        Principal::root(ACCOUNT, "AKIA"),
        OffsetDateTime::now_utc(),
    )
}

async fn call(node: &Node, op: &str, input: Value) -> Result<Value, rampart_aws_types::AwsError> {
    let h = crate::handler(op).unwrap();
    h(root_ctx(node), input).await
}

fn ec(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn internal_api_round_trips_small_and_large_payloads_under_the_managed_key() {
    let n = node();
    let ctx = root_ctx(&n);
    let context = ec(&[(
        "SecretARN",
        "arn:aws:secretsmanager:us-east-1:111122223333:secret:x",
    )]);
    for size in [1usize, 4096, 4097, 65536] {
        let plaintext: Vec<u8> = (0..size).map(|i| (i % 251) as u8).collect();
        let ct = internal::encrypt_for_service(&ctx, "secretsmanager", None, &plaintext, &context)
            .await
            .unwrap();
        assert!(
            !ct.windows(plaintext.len().min(64))
                .any(|w| w == &plaintext[..plaintext.len().min(64)])
                || size < 8
        );
        let back = internal::decrypt_for_service(&ctx, "secretsmanager", None, &ct, &context)
            .await
            .unwrap();
        assert_eq!(back.as_slice(), plaintext.as_slice(), "size {size}");
        // Another context, or any flipped bit, fails as InvalidCiphertextException.
        let other = ec(&[("SecretARN", "other")]);
        let e = internal::decrypt_for_service(&ctx, "secretsmanager", None, &ct, &other)
            .await
            .unwrap_err();
        assert_eq!(e.code, "InvalidCiphertextException");
        for at in [0usize, 1, 3, ct.len() / 2, ct.len() - 1] {
            let mut bad = ct.clone();
            bad[at] ^= 0x01;
            let e = internal::decrypt_for_service(&ctx, "secretsmanager", None, &bad, &context)
                .await
                .unwrap_err();
            assert!(
                ["InvalidCiphertextException", "IncorrectKeyException"].contains(&e.code.as_ref()),
                "size {size} flip at {at}: {}",
                e.code
            );
        }
    }
    // The managed key exists now, once, with KeyManager AWS, behind alias/aws/secretsmanager.
    let info = internal::describe_key_for_service(&ctx, "secretsmanager.amazonaws.com", None)
        .await
        .unwrap();
    assert_eq!(info.key_manager, "AWS");
    let d = call(
        &n,
        "DescribeKey",
        json!({"KeyId": "alias/aws/secretsmanager"}),
    )
    .await
    .unwrap();
    assert_eq!(d["KeyMetadata"]["KeyId"], info.key_id.as_str());
    let keys = call(&n, "ListKeys", json!({})).await.unwrap();
    assert_eq!(keys["Keys"].as_array().unwrap().len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn internal_api_with_a_customer_key_and_the_wrong_key() {
    let n = node();
    let ctx = root_ctx(&n);
    let a = call(&n, "CreateKey", json!({})).await.unwrap()["KeyMetadata"]["KeyId"]
        .as_str()
        .unwrap()
        .to_string();
    let b = call(&n, "CreateKey", json!({})).await.unwrap()["KeyMetadata"]["Arn"]
        .as_str()
        .unwrap()
        .to_string();
    let context = ec(&[]);
    let ct = internal::encrypt_for_service(&ctx, "ssm", Some(&a), b"v", &context)
        .await
        .unwrap();
    let e = internal::decrypt_for_service(&ctx, "ssm", Some(&b), &ct, &context)
        .await
        .unwrap_err();
    assert_eq!(e.code, "IncorrectKeyException");
    assert_eq!(
        internal::decrypt_for_service(&ctx, "ssm", Some(&a), &ct, &context)
            .await
            .unwrap()
            .as_slice(),
        b"v"
    );
    call(&n, "DisableKey", json!({"KeyId": a})).await.unwrap();
    let e = internal::decrypt_for_service(&ctx, "ssm", None, &ct, &context)
        .await
        .unwrap_err();
    assert_eq!(e.code, "DisabledException");
    // A principal of another account is denied (the seam's answer today).
    let stranger = ctx_at(
        &n,
        Principal::root("444455556666", "AKIB"),
        OffsetDateTime::now_utc(),
    );
    let e = internal::encrypt_for_service(&stranger, "ssm", Some(&b), b"v", &context)
        .await
        .unwrap_err();
    assert_eq!(e.code, "AccessDenied");
    assert_eq!(
        internal::via_service("secretsmanager.amazonaws.com", "eu-west-1"),
        "secretsmanager.eu-west-1.amazonaws.com"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn tick_deletes_keys_rotates_and_expires_when_due_and_not_before() {
    let n = node();
    let now = OffsetDateTime::now_utc();
    let id = call(&n, "CreateKey", json!({})).await.unwrap()["KeyMetadata"]["KeyId"]
        .as_str()
        .unwrap()
        .to_string();
    call(
        &n,
        "CreateAlias",
        json!({"AliasName": "alias/doomed", "TargetKeyId": id}),
    )
    .await
    .unwrap();
    let r = call(
        &n,
        "ScheduleKeyDeletion",
        json!({"KeyId": id, "PendingWindowInDays": 7}),
    )
    .await
    .unwrap();
    let when = r["DeletionDate"].as_i64().unwrap();
    crate::tick::run(n.clone(), when - 1, now).await.unwrap();
    assert!(call(&n, "DescribeKey", json!({"KeyId": id})).await.is_ok());
    crate::tick::run(n.clone(), when, now).await.unwrap();
    assert_eq!(
        call(&n, "DescribeKey", json!({"KeyId": id}))
            .await
            .unwrap_err()
            .code,
        "NotFoundException"
    );
    assert_eq!(
        call(&n, "ListAliases", json!({})).await.unwrap()["Aliases"]
            .as_array()
            .unwrap()
            .len(),
        0
    );

    let rot = call(&n, "CreateKey", json!({})).await.unwrap()["KeyMetadata"]["KeyId"]
        .as_str()
        .unwrap()
        .to_string();
    let ct = call(
        &n,
        "Encrypt",
        json!({"KeyId": rot, "Plaintext": "aGVsbG8="}),
    )
    .await
    .unwrap()["CiphertextBlob"]
        .clone();
    call(
        &n,
        "EnableKeyRotation",
        json!({"KeyId": rot, "RotationPeriodInDays": 90}),
    )
    .await
    .unwrap();
    let status = call(&n, "GetKeyRotationStatus", json!({"KeyId": rot}))
        .await
        .unwrap();
    let next = status["NextRotationDate"].as_i64().unwrap();
    crate::tick::run(n.clone(), next - 1, now).await.unwrap();
    assert_eq!(
        call(&n, "ListKeyRotations", json!({"KeyId": rot}))
            .await
            .unwrap()["Rotations"]
            .as_array()
            .unwrap()
            .len(),
        0
    );
    crate::tick::run(n.clone(), next, now).await.unwrap();
    crate::tick::run(n.clone(), next, now).await.unwrap(); // idempotent
    let rotations = call(&n, "ListKeyRotations", json!({"KeyId": rot}))
        .await
        .unwrap();
    assert_eq!(rotations["Rotations"].as_array().unwrap().len(), 1);
    assert_eq!(rotations["Rotations"][0]["RotationType"], "AUTOMATIC");
    let next2 = call(&n, "GetKeyRotationStatus", json!({"KeyId": rot}))
        .await
        .unwrap()["NextRotationDate"]
        .as_i64()
        .unwrap();
    assert_eq!(next2, next + 90 * 86_400);
    // Old ciphertexts still decrypt; new ones use the new material.
    let d = call(&n, "Decrypt", json!({"CiphertextBlob": ct}))
        .await
        .unwrap();
    assert_eq!(d["Plaintext"], "aGVsbG8=");
    let e = call(
        &n,
        "Encrypt",
        json!({"KeyId": rot, "Plaintext": "aGVsbG8="}),
    )
    .await
    .unwrap();
    let d2 = call(
        &n,
        "Decrypt",
        json!({"CiphertextBlob": e["CiphertextBlob"]}),
    )
    .await
    .unwrap();
    assert_ne!(d["KeyMaterialId"], d2["KeyMaterialId"]);
    assert_eq!(
        d2["KeyMaterialId"],
        rotations["Rotations"][0]["KeyMaterialId"]
    );
}
