//! The strongest check that real clients read us: botocore's own parsers (boto3, AWS CLI) parse
//! every encoded output and error, and must give back exactly the canonical value.
use std::io::Write;
use std::process::{Command, Stdio};

use rampart_aws_types::AwsError;
use serde_json::{Value, json};

use crate::lookup;

fn success_case(name: &str, service: &str, operation: &str, output: Value) -> Value {
    let (svc, op) = lookup(service, operation);
    let request_id = format!("req-{name}");
    let encoded = rampart_wire::encode_response(svc, op, &output, &request_id).unwrap();
    assert_eq!(encoded.status, 200);
    json!({
        "name": name,
        "service": service,
        "operation": operation,
        "status": encoded.status,
        "headers": encoded.headers.iter().map(|(k, v)| json!([k, v])).chain([json!(["content-type", encoded.content_type])]).collect::<Vec<_>>(),
        "body": String::from_utf8(encoded.body).unwrap(),
        "expected": output,
        "error": null,
        "request_id": request_id,
    })
}

fn error_case(name: &str, service: &str, operation: &str, err: AwsError, code: &str) -> Value {
    let (svc, _) = lookup(service, operation);
    let request_id = format!("req-{name}");
    let encoded = rampart_wire::encode_error(svc, &err, &request_id);
    assert_eq!(encoded.status, err.status);
    json!({
        "name": name,
        "service": service,
        "operation": operation,
        "status": encoded.status,
        "headers": encoded.headers.iter().map(|(k, v)| json!([k, v])).collect::<Vec<_>>(),
        "body": String::from_utf8(encoded.body).unwrap(),
        "expected": null,
        "error": {"Code": code, "Message": err.message},
        "request_id": request_id,
    })
}

fn run_botocore(cases: Vec<Value>) {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/wire/botocore_check.py");
    let mut child = Command::new("python3")
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 with botocore is required for this test (pip install botocore)");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(serde_json::to_vec(&cases).unwrap().as_slice())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "botocore disagreed:\n{stdout}\n{stderr}"
    );
    assert!(
        stdout.contains(&format!("{} cases, 0 failed", cases.len())),
        "{stdout}"
    );
}

#[test]
fn botocore_parses_every_output_as_the_canonical_value() {
    let cases = vec![
        success_case(
            "iam-list-users",
            "iam",
            "ListUsers",
            json!({
                "Users": [
                    {"Path": "/", "UserName": "alice", "UserId": "AIDAEXAMPLE1", "Arn": "arn:aws:iam::123456789012:user/alice", "CreateDate": 1767323045, "PasswordLastUsed": 1767323999},
                    {"Path": "/ops/", "UserName": "bob&<co>\"'", "UserId": "AIDAEXAMPLE2", "Arn": "arn:aws:iam::123456789012:user/ops/bob", "CreateDate": 1767323045.5,
                     "Tags": [{"Key": "team", "Value": "a&b"}], "PermissionsBoundary": {"PermissionsBoundaryType": "Policy", "PermissionsBoundaryArn": "arn:aws:iam::aws:policy/PowerUserAccess"}}
                ],
                "IsTruncated": true,
                "Marker": "bWFya2VyLTI="
            }),
        ),
        success_case(
            "iam-list-users-empty",
            "iam",
            "ListUsers",
            json!({"Users": [], "IsTruncated": false}),
        ),
        success_case(
            "sts-get-caller-identity",
            "sts",
            "GetCallerIdentity",
            json!({"UserId": "AIDAEXAMPLE1", "Account": "123456789012", "Arn": "arn:aws:iam::123456789012:user/alice"}),
        ),
        success_case(
            "sts-assume-role",
            "sts",
            "AssumeRole",
            json!({
                "Credentials": {"AccessKeyId": "ASIAEXAMPLE", "SecretAccessKey": "secret/+=", "SessionToken": "token", "Expiration": 1767326645},
                "AssumedRoleUser": {"AssumedRoleId": "AROAEXAMPLE:s", "Arn": "arn:aws:sts::123456789012:assumed-role/r/s"},
                "PackedPolicySize": 6,
                "SourceIdentity": "me"
            }),
        ),
        success_case(
            "iam-create-access-key",
            "iam",
            "CreateAccessKey",
            json!({"AccessKey": {"UserName": "alice", "AccessKeyId": "AKIAEXAMPLE", "Status": "Active", "SecretAccessKey": "wJalrXUtnFEMI/K7MDENG", "CreateDate": 1767323045}}),
        ),
        success_case(
            "iam-get-account-summary",
            "iam",
            "GetAccountSummary",
            json!({"SummaryMap": {"Users": 3, "UsersQuota": 5000, "Groups": 0}}),
        ),
        success_case("iam-delete-user", "iam", "DeleteUser", json!({})),
        success_case(
            "kms-encrypt",
            "kms",
            "Encrypt",
            json!({"CiphertextBlob": "AQIDBAUGBwgJ/w==", "KeyId": "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab", "EncryptionAlgorithm": "SYMMETRIC_DEFAULT"}),
        ),
        success_case(
            "kms-list-grants",
            "kms",
            "ListGrants",
            json!({
                "Grants": [{
                    "KeyId": "arn:aws:kms:us-east-1:123456789012:key/k",
                    "GrantId": "g1",
                    "Name": "n",
                    "CreationDate": 1767323045.25,
                    "GranteePrincipal": "arn:aws:iam::123456789012:role/r",
                    "Operations": ["Encrypt", "Decrypt"],
                    "Constraints": {"EncryptionContextSubset": {"dept": "it", "x": "y"}}
                }],
                "NextMarker": "n2",
                "Truncated": true
            }),
        ),
        success_case(
            "kms-describe-key",
            "kms",
            "DescribeKey",
            json!({"KeyMetadata": {
                "AWSAccountId": "123456789012",
                "KeyId": "1234abcd-12ab-34cd-56ef-1234567890ab",
                "Arn": "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
                "CreationDate": 1767323045.123,
                "Enabled": true,
                "Description": "",
                "KeyUsage": "ENCRYPT_DECRYPT",
                "KeyState": "Enabled",
                "Origin": "AWS_KMS",
                "KeyManager": "CUSTOMER",
                "KeySpec": "SYMMETRIC_DEFAULT",
                "EncryptionAlgorithms": ["SYMMETRIC_DEFAULT"],
                "MultiRegion": false
            }}),
        ),
        success_case(
            "secretsmanager-get-secret-value",
            "secretsmanager",
            "GetSecretValue",
            json!({"ARN": "arn:aws:secretsmanager:us-east-1:123456789012:secret:s-AbCdEf", "Name": "s", "VersionId": "v1", "SecretBinary": "AAEC", "VersionStages": ["AWSCURRENT"], "CreatedDate": 1767323045}),
        ),
    ];
    run_botocore(cases);
}

#[test]
fn botocore_extracts_code_and_message_of_every_error() {
    let iam = rampart_wire::service("iam").unwrap();
    let kms = rampart_wire::service("kms").unwrap();
    let sm = rampart_wire::service("secretsmanager").unwrap();
    let cases = vec![
        error_case(
            "iam-no-such-entity",
            "iam",
            "GetUser",
            rampart_wire::modeled_error(
                iam,
                "NoSuchEntityException",
                "The user with name bob cannot be found.",
            ),
            "NoSuchEntity",
        ),
        error_case(
            "iam-validation",
            "iam",
            "CreateUser",
            AwsError::validation(
                "1 validation error detected: Value 'a<b>&' at 'userName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]+",
            ),
            "ValidationError",
        ),
        error_case(
            "sts-access-denied",
            "sts",
            "AssumeRole",
            AwsError::access_denied("User: x is not authorized"),
            "AccessDenied",
        ),
        error_case(
            "sts-internal",
            "sts",
            "AssumeRole",
            AwsError::internal("boom"),
            "InternalFailure",
        ),
        error_case(
            "kms-not-found",
            "kms",
            "DescribeKey",
            rampart_wire::modeled_error(
                kms,
                "NotFoundException",
                "Key 'arn:aws:kms:us-east-1:123456789012:key/x' does not exist",
            ),
            "NotFoundException",
        ),
        error_case(
            "kms-validation",
            "kms",
            "Encrypt",
            AwsError::validation("1 validation error detected"),
            "ValidationException",
        ),
        error_case(
            "kms-access-denied",
            "kms",
            "Encrypt",
            AwsError::access_denied("denied"),
            "AccessDeniedException",
        ),
        error_case(
            "kms-unknown-op",
            "kms",
            "Encrypt",
            rampart_wire::unknown_operation(kms, "Nope"),
            "UnknownOperationException",
        ),
        error_case(
            "iam-unknown-op",
            "iam",
            "GetUser",
            rampart_wire::unknown_operation(iam, "Nope"),
            "InvalidAction",
        ),
        error_case(
            "secretsmanager-not-found",
            "secretsmanager",
            "GetSecretValue",
            rampart_wire::modeled_error(
                sm,
                "ResourceNotFoundException",
                "Secrets Manager can't find the specified secret.",
            ),
            "ResourceNotFoundException",
        ),
    ];
    run_botocore(cases);
}

#[test]
fn botocore_reads_rpc_v2_cbor_errors() {
    // No embedded model speaks rpc-v2-cbor yet; CloudWatch does in botocore, so its parser checks
    // the error body that the codec seam already writes for such services.
    use base64::Engine;
    let err = AwsError::not_implemented("ListMetrics");
    let encoded = rampart_wire::encode_error_for(
        rampart_wire::Protocol::RpcV2Cbor,
        None,
        "message",
        &err,
        "req-cbor",
    );
    let case = json!({
        "name": "cbor-not-implemented",
        "service": "cloudwatch",
        "operation": "ListMetrics",
        "status": encoded.status,
        "headers": encoded.headers.iter().map(|(k, v)| json!([k, v])).collect::<Vec<_>>(),
        "body": "",
        "body_base64": base64::engine::general_purpose::STANDARD.encode(&encoded.body),
        "expected": null,
        "error": {"Code": "NotImplemented", "Message": err.message},
        "request_id": "req-cbor",
    });
    run_botocore(vec![case]);
}
