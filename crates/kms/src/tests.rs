//! In-process tests of the domain logic over a real (temporary) store: the internal API other
//! services call, the background tick, and handlers called directly.
use std::collections::BTreeMap;
use std::sync::Arc;

use rampart_services::{Ctx, Node, Principal, RootOnlyAuthorizer};
use serde_json::{Value, json};
use time::OffsetDateTime;

use crate::internal;

const ACCOUNT: &str = "111122223333";

fn node() -> Node {
    rampart_services::testing::node([9u8; 32]).unwrap()
}

fn ctx_at(node: &Node, principal: Principal, now: OffsetDateTime) -> Arc<Ctx> {
    rampart_services::testing::ctx(node, principal, "us-east-1", now)
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

/// A stand-in for the policy engine: allows when a key-policy statement names the caller's ARN
/// (or the caller's account root, for the root) and the exact action. Enough to see what this
/// crate hands the authorizer.
struct StatementAuthorizer;

impl rampart_services::Authorizer for StatementAuthorizer {
    fn authorize(&self, r: &rampart_services::AuthzRequest<'_>) -> rampart_services::Decision {
        let root = matches!(r.principal.kind, rampart_services::PrincipalKind::Root);
        let allowed = match r.resource_policy {
            None => root,
            Some(p) => {
                let doc: Value = serde_json::from_str(p.document).unwrap_or(Value::Null);
                doc["Statement"].as_array().is_some_and(|list| {
                    list.iter().any(|s| {
                        s["Effect"] == "Allow"
                            && s["Principal"]["AWS"] == r.principal.arn.as_str()
                            && (s["Action"] == r.action || s["Action"] == "kms:*")
                    })
                })
            }
        };
        if allowed {
            rampart_services::Decision::Allow
        } else {
            rampart_services::Decision::Deny {
                message: format!("{} may not {}", r.principal.arn, r.action),
            }
        }
    }
}

fn user(name: &str) -> Principal {
    Principal {
        kind: rampart_services::PrincipalKind::IamUser { name: name.into() },
        arn: format!("arn:aws:iam::{ACCOUNT}:user/{name}"),
        user_id: "AIDAEXAMPLE".into(),
        ..Principal::root(ACCOUNT, "AKIAUSER")
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn grants_reach_the_authorizer_as_key_policy_statements_with_their_constraints() {
    let mut n = node();
    n.authorizer = Arc::new(StatementAuthorizer);
    let root = root_ctx(&n);
    let h = |op: &str| crate::handler(op).unwrap();
    let kid = h("CreateKey")(root.clone(), json!({})).await.unwrap()["KeyMetadata"]["KeyId"]
        .as_str()
        .unwrap()
        .to_string();
    let blob = h("Encrypt")(
        root.clone(),
        json!({"KeyId": kid, "Plaintext": "aGk=", "EncryptionContext": {"tenant": "a"}}),
    )
    .await
    .unwrap()["CiphertextBlob"]
        .clone();
    let bob = || ctx_at(&n, user("bob"), OffsetDateTime::now_utc());
    let decrypt = json!({"CiphertextBlob": blob, "EncryptionContext": {"tenant": "a"}});
    assert_eq!(
        h("Decrypt")(bob(), decrypt.clone()).await.unwrap_err().code,
        "AccessDenied"
    );
    let g = h("CreateGrant")(
        root.clone(),
        json!({"KeyId": kid, "GranteePrincipal": format!("arn:aws:iam::{ACCOUNT}:user/bob"), "Operations": ["Decrypt"],
               "Constraints": {"EncryptionContextSubset": {"tenant": "a"}}}),
    )
    .await
    .unwrap();
    assert_eq!(
        h("Decrypt")(bob(), decrypt.clone()).await.unwrap()["Plaintext"],
        "aGk="
    );
    // Outside the constraint, or another operation: no grant statement, so denied.
    let other = h("Encrypt")(
        root.clone(),
        json!({"KeyId": kid, "Plaintext": "aGk=", "EncryptionContext": {"tenant": "b"}}),
    )
    .await
    .unwrap()["CiphertextBlob"]
        .clone();
    let e = h("Decrypt")(
        bob(),
        json!({"CiphertextBlob": other, "EncryptionContext": {"tenant": "b"}}),
    )
    .await
    .unwrap_err();
    assert_eq!(e.code, "AccessDenied");
    assert_eq!(
        h("Encrypt")(bob(), json!({"KeyId": kid, "Plaintext": "aGk="}))
            .await
            .unwrap_err()
            .code,
        "AccessDenied"
    );
    // Another user is not the grantee.
    let carol = ctx_at(&n, user("carol"), OffsetDateTime::now_utc());
    assert_eq!(
        h("Decrypt")(carol, decrypt.clone()).await.unwrap_err().code,
        "AccessDenied"
    );
    h("RevokeGrant")(root.clone(), json!({"KeyId": kid, "GrantId": g["GrantId"]}))
        .await
        .unwrap();
    assert_eq!(
        h("Decrypt")(bob(), decrypt).await.unwrap_err().code,
        "AccessDenied"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_change_races_only_when_the_policy_or_tags_changed() {
    let n = node();
    let root = root_ctx(&n);
    let kid = call(&n, "CreateKey", json!({})).await.unwrap()["KeyMetadata"]["KeyId"]
        .as_str()
        .unwrap()
        .to_string();
    let loaded = crate::ops::load(&root, &kid, crate::resolve::Aliases::Refused)
        .await
        .unwrap();
    // A description change in between does not matter...
    call(
        &n,
        "UpdateKeyDescription",
        json!({"KeyId": kid, "Description": "x"}),
    )
    .await
    .unwrap();
    crate::ops::update_key(&root, &loaded, |k| {
        k.state = crate::record::KeyState::Disabled;
        Ok(())
    })
    .await
    .unwrap();
    let md = call(&n, "DescribeKey", json!({"KeyId": kid}))
        .await
        .unwrap();
    assert_eq!(
        md["KeyMetadata"]["Description"], "x",
        "the later change is kept"
    );
    assert_eq!(md["KeyMetadata"]["KeyState"], "Disabled");
    // ... a tag change does: the decision was made on other tags.
    call(
        &n,
        "TagResource",
        json!({"KeyId": kid, "Tags": [{"TagKey": "a", "TagValue": "b"}]}),
    )
    .await
    .unwrap();
    let e = crate::ops::update_key(&root, &loaded, |_| Ok(()))
        .await
        .unwrap_err();
    assert_eq!(e.code, "ConflictException");
}

#[tokio::test(flavor = "multi_thread")]
async fn metadata_states_and_errors_through_the_handlers() {
    let n = node();
    let ext = call(&n, "CreateKey", json!({"Origin": "EXTERNAL"}))
        .await
        .unwrap();
    assert_eq!(ext["KeyMetadata"]["KeyState"], "PendingImport");
    assert!(ext["KeyMetadata"].get("CurrentKeyMaterialId").is_none());
    let kid = ext["KeyMetadata"]["KeyId"].as_str().unwrap().to_string();
    let e = call(
        &n,
        "GenerateDataKey",
        json!({"KeyId": kid, "KeySpec": "AES_256"}),
    )
    .await
    .unwrap_err();
    assert_eq!(e.code, "KMSInvalidStateException");
    assert!(e.message.ends_with("is pending import."));
    assert_eq!(
        call(&n, "EnableKey", json!({"KeyId": kid}))
            .await
            .unwrap_err()
            .code,
        "KMSInvalidStateException"
    );
    // Scheduling and cancelling deletion of a key without material returns it to PendingImport.
    call(&n, "ScheduleKeyDeletion", json!({"KeyId": kid}))
        .await
        .unwrap();
    call(&n, "CancelKeyDeletion", json!({"KeyId": kid}))
        .await
        .unwrap();
    let md = call(&n, "DescribeKey", json!({"KeyId": kid}))
        .await
        .unwrap();
    assert_eq!(md["KeyMetadata"]["KeyState"], "PendingImport");
    assert_eq!(
        call(
            &n,
            "ReplicateKey",
            json!({"KeyId": kid, "ReplicaRegion": "eu-west-1"})
        )
        .await
        .unwrap_err()
        .code,
        "UnsupportedOperationException"
    );
    assert_eq!(
        call(&n, "DescribeCustomKeyStores", json!({}))
            .await
            .unwrap()["CustomKeyStores"],
        json!([])
    );
    let e = call(
        &n,
        "Encrypt",
        json!({"KeyId": kid, "Plaintext": "eA==", "DryRun": true}),
    )
    .await
    .unwrap_err();
    assert_eq!(
        e.code, "KMSInvalidStateException",
        "state is checked before DryRun answers"
    );
    let sym = call(&n, "CreateKey", json!({})).await.unwrap()["KeyMetadata"]["KeyId"]
        .as_str()
        .unwrap()
        .to_string();
    let e = call(
        &n,
        "Encrypt",
        json!({"KeyId": sym, "Plaintext": "eA==", "DryRun": true}),
    )
    .await
    .unwrap_err();
    assert_eq!(
        (e.code.as_ref(), e.status),
        ("DryRunOperationException", 412)
    );
}

/// Allows what the root-only seam allows, and remembers every question it was asked.
/// (action, resource, conditions, resource policy) of one question.
type Question = (String, String, Vec<(String, String)>, Option<String>);

#[derive(Default)]
struct Recording(std::sync::Mutex<Vec<Question>>);

impl rampart_services::Authorizer for Recording {
    fn authorize(&self, r: &rampart_services::AuthzRequest<'_>) -> rampart_services::Decision {
        if let Ok(mut seen) = self.0.lock() {
            seen.push((
                r.action.to_string(),
                r.resource.to_string(),
                r.conditions
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
                r.resource_policy.map(|p| p.document.to_string()),
            ));
        }
        RootOnlyAuthorizer.authorize(r)
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_authorizer_sees_kms_condition_keys_and_via_service() {
    let recording = Arc::new(Recording::default());
    let mut n = node();
    n.authorizer = recording.clone();
    let ctx = root_ctx(&n);
    let context = ec(&[(
        "SecretARN",
        "arn:aws:secretsmanager:us-east-1:111122223333:secret:s",
    )]);
    let ct = internal::encrypt_for_service(&ctx, "secretsmanager", None, b"value", &context)
        .await
        .unwrap();
    internal::decrypt_for_service(&ctx, "secretsmanager", None, &ct, &context)
        .await
        .unwrap();
    internal::encrypt_for_service(&ctx, "ssm", None, &[7u8; 5000], &ec(&[]))
        .await
        .unwrap();
    let seen = recording.0.lock().unwrap().clone();
    let find = |action: &str| seen.iter().find(|(a, ..)| a == action).cloned().unwrap();
    for action in ["kms:Encrypt", "kms:Decrypt"] {
        let (_, resource, conds, policy) = find(action);
        assert!(resource.starts_with("arn:aws:kms:us-east-1:111122223333:key/"));
        let has = |k: &str, v: &str| conds.iter().any(|(a, b)| a == k && b == v);
        assert!(
            has("kms:ViaService", "secretsmanager.us-east-1.amazonaws.com"),
            "{conds:?}"
        );
        assert!(has("kms:CallerAccount", ACCOUNT));
        assert!(has(
            "kms:EncryptionContext:SecretARN",
            "arn:aws:secretsmanager:us-east-1:111122223333:secret:s"
        ));
        assert!(has("kms:EncryptionContextKeys", "SecretARN"));
        assert!(has("kms:EncryptionAlgorithm", "SYMMETRIC_DEFAULT"));
        assert!(
            has("kms:KeySpec", "SYMMETRIC_DEFAULT")
                && has("kms:KeyUsage", "ENCRYPT_DECRYPT")
                && has("kms:KeyManager", "AWS")
        );
        // The key policy handed over is the AWS managed key's.
        assert!(
            policy
                .unwrap()
                .contains("secretsmanager.us-east-1.amazonaws.com")
        );
    }
    // Over 4 KiB the payload is enveloped under a data key: kms:GenerateDataKey via SSM.
    let (_, _, conds, _) = find("kms:GenerateDataKey");
    assert!(
        conds
            .iter()
            .any(|(a, b)| a == "kms:ViaService" && b == "ssm.us-east-1.amazonaws.com")
    );

    // Tags and request tags reach the authorizer too.
    let h = crate::handler("CreateKey").unwrap();
    let kid = h(
        ctx.clone(),
        json!({"Tags": [{"TagKey": "team", "TagValue": "blue"}]}),
    )
    .await
    .unwrap()["KeyMetadata"]["KeyId"]
        .as_str()
        .unwrap()
        .to_string();
    crate::handler("DescribeKey").unwrap()(ctx.clone(), json!({"KeyId": kid}))
        .await
        .unwrap();
    let seen = recording.0.lock().unwrap().clone();
    let (_, resource, conds, policy) = seen
        .iter()
        .find(|(a, ..)| a == "kms:CreateKey")
        .cloned()
        .unwrap();
    assert_eq!(resource, "*");
    assert!(policy.is_none());
    assert!(
        conds.contains(&("aws:RequestTag/team".into(), "blue".into()))
            && conds.contains(&("aws:TagKeys".into(), "team".into()))
    );
    let (_, _, conds, _) = seen
        .iter()
        .find(|(a, ..)| a == "kms:DescribeKey")
        .cloned()
        .unwrap();
    assert!(conds.contains(&("aws:ResourceTag/team".into(), "blue".into())));
}

#[test]
fn due_keys_sort_by_time_and_parse_back() {
    let a = crate::record::due_key(99, "rotate", ACCOUNT, "us-east-1", "k1");
    let b = crate::record::due_key(1_000, "delete", ACCOUNT, "us-east-1", "k2");
    assert!(a < b, "the index is ordered by time");
    let (at, action, account, region, key) = crate::tick::parse_due(&b).unwrap();
    assert_eq!(
        (
            at,
            action.as_str(),
            account.as_str(),
            region.as_str(),
            key.as_str()
        ),
        (1_000, "delete", ACCOUNT, "us-east-1", "k2")
    );
    assert!(crate::tick::parse_due("sys/kms/due/x/delete/a/b/c").is_none());
    assert!(crate::tick::parse_due("other/prefix").is_none());
    // Negative times are clamped rather than breaking the order.
    assert!(crate::record::due_key(-5, "expire", ACCOUNT, "r", "k") < a);
}

#[test]
fn envelopes_split_only_when_whole() {
    use crate::internal::split_envelope;
    let (blob, sealed) = split_envelope(b"\x01plain blob").unwrap();
    assert_eq!((blob, sealed), (&b"\x01plain blob"[..], None));
    let (blob, sealed) = split_envelope(b"\xe1\x00\x03abcdef").unwrap();
    assert_eq!((blob, sealed), (&b"abc"[..], Some(&b"def"[..])));
    for bad in [&b"\xe1"[..], b"\xe1\x00", b"\xe1\x00\x05abc"] {
        assert_eq!(
            split_envelope(bad).unwrap_err().code,
            "InvalidCiphertextException"
        );
    }
}
