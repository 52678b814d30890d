//! Handlers called in-process over an in-memory store: every operation survives hostile input
//! without a panic or a server error, failed requests leave the store untouched, and TOTP checks
//! use the request time.
use std::sync::Arc;

use base64::Engine as _;
use rampart_aws_types::AwsError;
use rampart_services::{Ctx, Node, Principal};
use serde_json::{Value, json};
use time::OffsetDateTime;

const ACCOUNT: &str = "111122223333";

fn node() -> Node {
    rampart_services::testing::node([7u8; 32]).unwrap()
}

fn ctx_at(node: &Node, now: OffsetDateTime) -> Arc<Ctx> {
    rampart_services::testing::ctx(node, Principal::root(ACCOUNT, "AKIAROOT"), "us-east-1", now)
}

async fn call_at(
    node: &Node,
    now: OffsetDateTime,
    op: &str,
    input: Value,
) -> Result<Value, AwsError> {
    let h = crate::handler(op).unwrap();
    h(ctx_at(node, now), input).await
}

async fn call(node: &Node, op: &str, input: Value) -> Result<Value, AwsError> {
    call_at(node, OffsetDateTime::now_utc(), op, input).await
}

/// Everything in the store, for before/after comparisons.
fn snapshot(node: &Node) -> Vec<(String, Vec<u8>)> {
    node.store
        .read_blocking(|tx| Ok::<_, AwsError>(tx.scan_all("")?))
        .unwrap()
        .into_iter()
        .map(|(k, r)| (k, r.value))
        .collect()
}

/// Members most operations take, each with values a hostile or careless client might send.
fn hostile_values() -> Vec<Value> {
    vec![
        Value::Null,
        json!(""),
        json!("x"),
        json!("../../etc/passwd"),
        json!("arn:aws:iam::111122223333:policy/../../x"),
        json!("arn:aws:iam::aws:policy/AdministratorAccess"),
        json!("ünïcødé"),
        json!("a".repeat(5000)),
        json!(-1),
        json!(u64::MAX),
        json!(true),
        json!([]),
        json!([{"Key": "k"}]),
        json!({"nested": {"deep": [1, 2, 3]}}),
    ]
}

const MEMBERS: &[&str] = &[
    "UserName",
    "GroupName",
    "RoleName",
    "PolicyName",
    "PolicyArn",
    "PolicyDocument",
    "AssumeRolePolicyDocument",
    "InstanceProfileName",
    "Path",
    "PathPrefix",
    "NewUserName",
    "NewPath",
    "NewGroupName",
    "Marker",
    "MaxItems",
    "Tags",
    "TagKeys",
    "VersionId",
    "AccessKeyId",
    "Status",
    "Password",
    "SerialNumber",
    "AuthenticationCode1",
    "AuthenticationCode2",
    "VirtualMFADeviceName",
    "PermissionsBoundary",
    "Url",
    "ClientIDList",
    "ThumbprintList",
    "OpenIDConnectProviderArn",
    "SAMLProviderArn",
    "SAMLMetadataDocument",
    "Name",
    "AccountAlias",
    "Filter",
    "Scope",
    "MaxSessionDuration",
    "OldPassword",
    "NewPassword",
    "EntityFilter",
    "ClientID",
    "Description",
];

#[tokio::test(flavor = "multi_thread")]
async fn every_operation_survives_hostile_input() {
    let n = node();
    // Some state, so that lookups find things too.
    call(&n, "CreateUser", json!({"UserName": "x"}))
        .await
        .unwrap();
    call(&n, "CreateGroup", json!({"GroupName": "x"}))
        .await
        .unwrap();
    let values = hostile_values();
    let mut calls = 0usize;
    for op in crate::OPERATIONS {
        for (i, value) in values.iter().enumerate() {
            // All members at once with one value, and each member alone with a value that
            // rotates, so that both "everything wrong" and "one thing wrong" are covered.
            let all: serde_json::Map<String, Value> = MEMBERS
                .iter()
                .map(|m| ((*m).to_string(), value.clone()))
                .collect();
            let inputs = [
                Value::Object(all),
                json!({}),
                json!({ MEMBERS[i % MEMBERS.len()]: value, "UserName": "x", "GroupName": "x" }),
            ];
            for input in inputs {
                calls += 1;
                if let Err(e) = call(&n, op, input.clone()).await {
                    assert!(
                        e.status < 500,
                        "{op} answered {} ({}) to {input}",
                        e.code,
                        e.message
                    );
                }
            }
        }
    }
    assert!(calls > 1000);
}

#[tokio::test(flavor = "multi_thread")]
async fn failed_requests_change_nothing() {
    let n = node();
    call(&n, "CreateUser", json!({"UserName": "alice"}))
        .await
        .unwrap();
    call(&n, "CreateAccessKey", json!({"UserName": "alice"}))
        .await
        .unwrap();
    let doc = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}"#;
    call(
        &n,
        "CreatePolicy",
        json!({"PolicyName": "p", "PolicyDocument": doc}),
    )
    .await
    .unwrap();
    let before = snapshot(&n);
    let failing = [
        ("CreateUser", json!({"UserName": "ALICE"})),
        (
            "CreateUser",
            json!({"UserName": "bob", "Tags": [{"Key": "aws:no", "Value": "x"}]}),
        ),
        (
            "CreateUser",
            json!({"UserName": "bob", "PermissionsBoundary": "arn:aws:iam::aws:policy/Nope"}),
        ),
        (
            "CreateRole",
            json!({"RoleName": "r", "AssumeRolePolicyDocument": "{"}),
        ),
        (
            "CreatePolicy",
            json!({"PolicyName": "q", "PolicyDocument": "{\"Statement\":[{\"Effect\":\"Maybe\",\"Action\":\"s3:*\",\"Resource\":\"*\"}]}"}),
        ),
        (
            "CreatePolicy",
            json!({"PolicyName": "P", "PolicyDocument": doc}),
        ),
        (
            "PutUserPolicy",
            json!({"UserName": "alice", "PolicyName": "i", "PolicyDocument": "nope"}),
        ),
        (
            "AttachUserPolicy",
            json!({"UserName": "alice", "PolicyArn": "arn:aws:iam::111122223333:policy/missing"}),
        ),
        (
            "AttachUserPolicy",
            json!({"UserName": "alice", "PolicyArn": "not an arn"}),
        ),
        ("DeleteUser", json!({"UserName": "alice"})),
        (
            "CreateLoginProfile",
            json!({"UserName": "alice", "Password": "weak"}),
        ),
        (
            "AddUserToGroup",
            json!({"UserName": "alice", "GroupName": "missing"}),
        ),
        (
            "CreateOpenIDConnectProvider",
            json!({"Url": "http://plain.example.com"}),
        ),
        (
            "CreateSAMLProvider",
            json!({"Name": "s", "SAMLMetadataDocument": "<x/>"}),
        ),
        (
            "EnableMFADevice",
            json!({"UserName": "alice", "SerialNumber": "arn:aws:iam::111122223333:mfa/none", "AuthenticationCode1": "123456", "AuthenticationCode2": "654321"}),
        ),
    ];
    for (op, input) in failing {
        let e = call(&n, op, input.clone()).await.unwrap_err();
        assert!(e.status < 500, "{op}: {e}");
        assert_eq!(snapshot(&n), before, "{op} {input} changed the store");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn mfa_codes_are_checked_against_the_request_time() {
    let n = node();
    let t = OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap();
    call_at(&n, t, "CreateUser", json!({"UserName": "u"}))
        .await
        .unwrap();
    let dev = call_at(
        &n,
        t,
        "CreateVirtualMFADevice",
        json!({"VirtualMFADeviceName": "d"}),
    )
    .await
    .unwrap();
    let serial = dev["VirtualMFADevice"]["SerialNumber"]
        .as_str()
        .unwrap()
        .to_string();
    let seed_b32 = base64::engine::general_purpose::STANDARD
        .decode(
            dev["VirtualMFADevice"]["Base32StringSeed"]
                .as_str()
                .unwrap(),
        )
        .unwrap();
    let seed = crate::totp::base32_decode(std::str::from_utf8(&seed_b32).unwrap()).unwrap();
    let step = crate::totp::step_of(t);
    let input = json!({
        "UserName": "u", "SerialNumber": serial,
        "AuthenticationCode1": crate::totp::code(&seed, step - 1),
        "AuthenticationCode2": crate::totp::code(&seed, step),
    });
    // An hour later the same codes are stale.
    let later = t + time::Duration::hours(1);
    let e = call_at(&n, later, "EnableMFADevice", input.clone())
        .await
        .unwrap_err();
    assert_eq!(e.code, "InvalidAuthenticationCode");
    call_at(&n, t, "EnableMFADevice", input).await.unwrap();
    let listed = call(&n, "ListMFADevices", json!({"UserName": "u"}))
        .await
        .unwrap();
    assert_eq!(listed["MFADevices"][0]["SerialNumber"], serial.as_str());
    // The seed is sealed at rest.
    let b32 = std::str::from_utf8(&seed_b32).unwrap().to_string();
    assert!(
        !snapshot(&n)
            .iter()
            .any(|(_, v)| String::from_utf8_lossy(v).contains(&b32))
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn renaming_a_user_carries_everything_along() {
    let n = node();
    call(&n, "CreateUser", json!({"UserName": "old"}))
        .await
        .unwrap();
    call(&n, "CreateGroup", json!({"GroupName": "g"}))
        .await
        .unwrap();
    call(
        &n,
        "AddUserToGroup",
        json!({"GroupName": "g", "UserName": "old"}),
    )
    .await
    .unwrap();
    call(
        &n,
        "AttachUserPolicy",
        json!({"UserName": "old", "PolicyArn": "arn:aws:iam::aws:policy/ReadOnlyAccess"}),
    )
    .await
    .unwrap();
    let key = call(&n, "CreateAccessKey", json!({"UserName": "old"}))
        .await
        .unwrap();
    let key_id = key["AccessKey"]["AccessKeyId"]
        .as_str()
        .unwrap()
        .to_string();
    call(
        &n,
        "UpdateUser",
        json!({"UserName": "old", "NewUserName": "New", "NewPath": "/p/"}),
    )
    .await
    .unwrap();
    let group = call(&n, "GetGroup", json!({"GroupName": "g"}))
        .await
        .unwrap();
    assert_eq!(group["Users"][0]["UserName"], "New");
    let ents = call(
        &n,
        "ListEntitiesForPolicy",
        json!({"PolicyArn": "arn:aws:iam::aws:policy/ReadOnlyAccess"}),
    )
    .await
    .unwrap();
    assert_eq!(ents["PolicyUsers"][0]["UserName"], "New");
    let rec =
        n.store
            .read_blocking(move |tx| {
                rampart_services::common::records::get::<
                    rampart_services::credentials::AccessKeyRecord,
                >(
                    tx,
                    &rampart_services::credentials::access_key_store_key(&key_id),
                )
            })
            .unwrap()
            .unwrap()
            .0;
    assert_eq!(
        rec.owner,
        rampart_services::credentials::KeyOwner::User {
            name: "New".into(),
            user_id: rec_user_id(&rec.owner),
            path: "/p/".into()
        }
    );
    let p = n
        .store
        .read_blocking(|tx| {
            crate::load_principal_policies(tx, ACCOUNT, crate::PrincipalRef::User("new"))
        })
        .unwrap();
    assert_eq!(p.identity.len(), 1);
}

fn rec_user_id(owner: &rampart_services::credentials::KeyOwner) -> String {
    match owner {
        rampart_services::credentials::KeyOwner::User { user_id, .. } => user_id.clone(),
        rampart_services::credentials::KeyOwner::Root => String::new(),
    }
}
