//! Per-request codec cost: `cargo bench -p rampart-wire`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use divan::black_box;
use serde_json::json;

fn main() {
    // Load the models before timing anything.
    for name in rampart_wire::service_names() {
        rampart_wire::service(name).unwrap();
    }
    divan::main();
}

fn iam(
    op: &str,
) -> (
    &'static rampart_wire::ServiceModel,
    &'static rampart_wire::Operation,
) {
    let svc = rampart_wire::service("iam").unwrap();
    (svc, svc.operation(op).unwrap())
}

fn kms(
    op: &str,
) -> (
    &'static rampart_wire::ServiceModel,
    &'static rampart_wire::Operation,
) {
    let svc = rampart_wire::service("kms").unwrap();
    (svc, svc.operation(op).unwrap())
}

#[divan::bench]
fn decode_query_create_user(bencher: divan::Bencher) {
    let (svc, op) = iam("CreateUser");
    let body = b"Action=CreateUser&Version=2010-05-08&UserName=alice&Path=%2Fops%2F&Tags.member.1.Key=team&Tags.member.1.Value=blue&Tags.member.2.Key=env&Tags.member.2.Value=prod";
    bencher.bench(|| {
        let params = rampart_wire::parse_form(black_box(body));
        rampart_wire::decode_query(svc, op, &params).unwrap()
    });
}

#[divan::bench]
fn decode_json_encrypt(bencher: divan::Bencher) {
    let (svc, op) = kms("Encrypt");
    let body = br#"{"KeyId":"alias/app","Plaintext":"aGVsbG8gd29ybGQ=","EncryptionContext":{"app":"web","env":"prod"}}"#;
    bencher.bench(|| rampart_wire::decode_json(svc, op, black_box(body)).unwrap());
}

#[divan::bench]
fn encode_query_list_users(bencher: divan::Bencher) {
    let (svc, op) = iam("ListUsers");
    let out = json!({"Users":[
        {"Path":"/","UserName":"alice","UserId":"AIDAEXAMPLE1","Arn":"arn:aws:iam::123456789012:user/alice","CreateDate":1767323045},
        {"Path":"/","UserName":"bob","UserId":"AIDAEXAMPLE2","Arn":"arn:aws:iam::123456789012:user/bob","CreateDate":1767323045}
    ],"IsTruncated":false});
    bencher.bench(|| {
        rampart_wire::encode_query(
            svc,
            op,
            black_box(&out),
            "0f1c2a7e-1111-2222-3333-444455556666",
        )
    });
}

#[divan::bench]
fn encode_json_describe_key(bencher: divan::Bencher) {
    let (svc, op) = kms("DescribeKey");
    let out = json!({"KeyMetadata":{"AWSAccountId":"123456789012","KeyId":"1234abcd-12ab-34cd-56ef-1234567890ab","Arn":"arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab","CreationDate":1767323045.123,"Enabled":true,"KeyUsage":"ENCRYPT_DECRYPT","KeyState":"Enabled","Origin":"AWS_KMS","KeyManager":"CUSTOMER","KeySpec":"SYMMETRIC_DEFAULT","EncryptionAlgorithms":["SYMMETRIC_DEFAULT"]}});
    bencher.bench(|| rampart_wire::encode_json(svc, op, black_box(&out)));
}

#[divan::bench]
fn encode_error_query(bencher: divan::Bencher) {
    let svc = rampart_wire::service("iam").unwrap();
    let err = rampart_wire::modeled_error(
        svc,
        "NoSuchEntityException",
        "The user with name bob cannot be found.",
    );
    bencher.bench(|| {
        rampart_wire::encode_error(svc, black_box(&err), "0f1c2a7e-1111-2222-3333-444455556666")
    });
}

#[divan::bench]
fn redact_assume_role_output(bencher: divan::Bencher) {
    let svc = rampart_wire::service("sts").unwrap();
    let op = svc.operation("AssumeRole").unwrap();
    let out = json!({"Credentials":{"AccessKeyId":"ASIA","SecretAccessKey":"s","SessionToken":"t","Expiration":1},"AssumedRoleUser":{"Arn":"a","AssumedRoleId":"i"}});
    bencher.bench(|| rampart_wire::redact_output(svc, op, black_box(&out)));
}
