//! awsJson decoding (types, constraints, AWS's messages) and encoding.
use serde_json::{Value, json};

use crate::lookup;

fn decode(
    service: &str,
    operation: &str,
    body: &str,
) -> Result<Value, rampart_aws_types::AwsError> {
    let (svc, op) = lookup(service, operation);
    rampart_wire::decode_json(svc, op, body.as_bytes())
}

fn err_message(service: &str, operation: &str, body: &str) -> (String, String) {
    let e = decode(service, operation, body).unwrap_err();
    (e.code.to_string(), e.message)
}

#[test]
fn empty_body_is_an_empty_input() {
    assert_eq!(decode("kms", "ListKeys", "").unwrap(), json!({}));
    assert_eq!(decode("kms", "ListKeys", "  \n").unwrap(), json!({}));
    assert_eq!(decode("kms", "ListKeys", "null").unwrap(), json!({}));
}

#[test]
fn valid_input_becomes_canonical_and_unknown_members_are_dropped() {
    let v = decode(
        "kms",
        "Encrypt",
        r#"{"KeyId":"alias/app","Plaintext":"aGVsbG8=","EncryptionContext":{"a":"b"},"Bogus":1,"GrantTokens":null,"DryRun":"true"}"#,
    )
    .unwrap();
    assert_eq!(
        v,
        json!({"KeyId":"alias/app","Plaintext":"aGVsbG8=","EncryptionContext":{"a":"b"},"DryRun":true})
    );
}

#[test]
fn missing_required_members_are_reported_in_model_order() {
    let (code, msg) = err_message("kms", "Encrypt", "{}");
    assert_eq!(code, "ValidationError");
    assert_eq!(
        msg,
        "2 validation errors detected: Value null at 'keyId' failed to satisfy constraint: Member must not be null; Value null at 'plaintext' failed to satisfy constraint: Member must not be null"
    );
}

#[test]
fn length_range_enum_and_nested_paths_use_aws_wording() {
    let long = "k".repeat(2049);
    let (_, msg) = err_message(
        "kms",
        "Encrypt",
        &format!(r#"{{"KeyId":"{long}","Plaintext":"AA=="}}"#),
    );
    assert_eq!(
        msg,
        format!(
            "1 validation error detected: Value '{long}' at 'keyId' failed to satisfy constraint: Member must have length less than or equal to 2048"
        )
    );

    let (_, msg) = err_message("kms", "ListKeys", r#"{"Limit":0}"#);
    assert_eq!(
        msg,
        "1 validation error detected: Value '0' at 'limit' failed to satisfy constraint: Member must have value greater than or equal to 1"
    );
    let (_, msg) = err_message("kms", "ListKeys", r#"{"Limit":1001}"#);
    assert_eq!(
        msg,
        "1 validation error detected: Value '1001' at 'limit' failed to satisfy constraint: Member must have value less than or equal to 1000"
    );

    let (_, msg) = err_message(
        "kms",
        "Encrypt",
        r#"{"KeyId":"k","Plaintext":"AA==","EncryptionAlgorithm":"ROT13"}"#,
    );
    assert!(
        msg.starts_with("1 validation error detected: Value 'ROT13' at 'encryptionAlgorithm' failed to satisfy constraint: Member must satisfy enum value set: [SYMMETRIC_DEFAULT, RSAES_OAEP_SHA_1, RSAES_OAEP_SHA_256"),
        "{msg}"
    );

    let (_, msg) = err_message(
        "kms",
        "CreateKey",
        r#"{"Tags":[{"TagKey":"ok","TagValue":"v"},{"TagKey":"","TagValue":"v"},{"TagValue":"v"}]}"#,
    );
    assert_eq!(
        msg,
        "2 validation errors detected: Value '' at 'tags.2.member.tagKey' failed to satisfy constraint: Member must have length greater than or equal to 1; Value null at 'tags.3.member.tagKey' failed to satisfy constraint: Member must not be null"
    );
}

#[test]
fn collections_of_scalars_are_reported_once_for_the_collection() {
    let (_, msg) = err_message(
        "kms",
        "Encrypt",
        r#"{"KeyId":"k","Plaintext":"AA==","GrantTokens":["a",""]}"#,
    );
    assert_eq!(
        msg,
        "1 validation error detected: Value '[a, ]' at 'grantTokens' failed to satisfy constraint: Member must satisfy constraint: [Member must have length less than or equal to 8192, Member must have length greater than or equal to 1]"
    );
    let (_, msg) = err_message(
        "ssm",
        "StartAutomationExecution",
        r#"{"DocumentName":"doc","Parameters":{"":["x"]}}"#,
    );
    assert_eq!(
        msg,
        "1 validation error detected: Value '{=[x]}' at 'parameters' failed to satisfy constraint: Map keys must satisfy constraint: [Member must have length less than or equal to 50, Member must have length greater than or equal to 1]"
    );
}

#[test]
fn sensitive_values_are_never_echoed() {
    // 4097 bytes of plaintext: one over KMS's limit.
    let b64 = base64_of_len(4097);
    let (_, msg) = err_message(
        "kms",
        "Encrypt",
        &format!(r#"{{"KeyId":"k","Plaintext":"{b64}"}}"#),
    );
    assert_eq!(
        msg,
        "1 validation error detected: Value at 'plaintext' failed to satisfy constraint: Member must have length less than or equal to 4096"
    );
    let (code, msg) = err_message(
        "kms",
        "Encrypt",
        r#"{"KeyId":"k","Plaintext":"c2VjcmV0!!!"}"#,
    );
    assert_eq!(code, "SerializationException");
    assert!(!msg.contains("c2VjcmV0"), "{msg}");
    let (_, msg) = err_message(
        "secretsmanager",
        "CreateSecret",
        &format!(r#"{{"Name":"n","SecretString":"{}"}}"#, "s".repeat(70000)),
    );
    assert!(msg.contains("Value at 'secretString'"), "{msg}");
    assert!(!msg.contains("sss"), "{msg}");
}

fn base64_of_len(n: usize) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(vec![7u8; n])
}

#[test]
fn wrong_json_types_are_serialization_exceptions_with_coral_messages() {
    let cases = [
        (
            r#"{"KeyId":5,"Plaintext":"AA=="}"#,
            "class com.amazon.coral.value.json.numbers.TruncatingBigNumber can not be converted to an String",
        ),
        (
            r#"{"KeyId":true,"Plaintext":"AA=="}"#,
            "class java.lang.Boolean can not be converted to an String",
        ),
        (
            r#"{"KeyId":{},"Plaintext":"AA=="}"#,
            "Start of structure or map found where not expected.",
        ),
        (
            r#"{"KeyId":[],"Plaintext":"AA=="}"#,
            "Start of list found where not expected",
        ),
        (
            r#"{"KeyId":"k","Plaintext":"AA==","GrantTokens":"t"}"#,
            "Expected list or null",
        ),
        (
            r#"{"KeyId":"k","Plaintext":"AA==","EncryptionContext":"x"}"#,
            "Expected map or null",
        ),
        (
            r#"{"KeyId":"k","Plaintext":"AA==","EncryptionContext":[]}"#,
            "Start of list found where not expected",
        ),
        (
            r#"{"KeyId":"k","Plaintext":"AA==","DryRun":"maybe"}"#,
            "'MAYBE' can not be converted to an Boolean",
        ),
        (
            r#"{"KeyId":"k","Plaintext":"AA==","DryRun":1}"#,
            "class com.amazon.coral.value.json.numbers.TruncatingBigNumber can not be converted to an Boolean",
        ),
        (
            r#"{"KeyId":"k","Plaintext":12}"#,
            "class com.amazon.coral.value.json.numbers.TruncatingBigNumber can not be converted to a Blob",
        ),
        (
            r#"{"KeyId":"k","Plaintext":"AAA"}"#,
            "Value can not be converted to a Blob: Base64 encoded length is expected a multiple of 4 bytes but found: 3",
        ),
        (
            r#"{"KeyId":"k","Plaintext":"AB=="}"#,
            "Value can not be converted to a Blob: Invalid last non-pad Base64 character dectected",
        ),
    ];
    for (body, want) in cases {
        let (code, msg) = err_message("kms", "Encrypt", body);
        assert_eq!(code, "SerializationException", "{body}");
        assert_eq!(msg, want, "{body}");
    }
    let (_, msg) = err_message("kms", "ListKeys", r#"{"Limit":"10"}"#);
    assert_eq!(
        msg,
        "class java.lang.String can not be converted to an Integer"
    );
    let (_, msg) = err_message("kms", "CreateKey", r#"{"Tags":{"TagKey":"a"}}"#);
    assert_eq!(msg, "Start of structure or map found where not expected.");
    let (_, msg) = err_message("kms", "CreateKey", r#"{"Tags":["x"]}"#);
    assert_eq!(msg, "Expected null");
    // Non-sensitive blobs name the bad value.
    let (_, msg) = err_message("kms", "Decrypt", r#"{"CiphertextBlob":"a*bc"}"#);
    assert_eq!(
        msg,
        "'a*bc' can not be converted to a Blob: Invalid Base64 character: '*'"
    );
}

#[test]
fn malformed_and_non_object_bodies() {
    for body in ["{", "{\"KeyId\":", "[]", "\"x\"", "12", "{\"a\":1}}", "nul"] {
        let e = decode("kms", "ListKeys", body).unwrap_err();
        assert_eq!(e.code, "SerializationException", "{body}");
        assert_eq!(e.status, 400);
    }
}

#[test]
fn numbers_are_truncated_and_timestamps_accept_epoch_or_iso() {
    assert_eq!(
        decode("kms", "ListKeys", r#"{"Limit":10.9}"#).unwrap(),
        json!({"Limit":10})
    );
    assert_eq!(
        decode(
            "cloudtrail",
            "LookupEvents",
            r#"{"StartTime":1767323045.5,"EndTime":"2026-01-02T03:04:05Z"}"#
        )
        .unwrap(),
        json!({"StartTime":1767323045.5,"EndTime":1767323045})
    );
    let (code, msg) = err_message("cloudtrail", "LookupEvents", r#"{"StartTime":"yesterday"}"#);
    assert_eq!(code, "SerializationException");
    assert_eq!(
        msg,
        "class java.lang.String can not be converted to milliseconds since epoch"
    );
}

#[test]
fn operation_without_input_accepts_only_objects() {
    // STS GetCallerIdentity has an input shape; KMS has none without input, so use a JSON op
    // whose input is empty-structured: any object is fine.
    assert_eq!(
        decode("kms", "ListKeys", r#"{"Anything":[1,2]}"#).unwrap(),
        json!({})
    );
}

#[test]
fn more_than_ten_errors_stop_at_ten() {
    let tags: Vec<Value> = (0..15)
        .map(|_| json!({"TagKey":"","TagValue":"v"}))
        .collect();
    let body = json!({"Tags": tags}).to_string();
    let (_, msg) = err_message("kms", "CreateKey", &body);
    assert!(msg.starts_with("10 validation errors detected: "), "{msg}");
    assert_eq!(msg.matches("failed to satisfy constraint").count(), 10);
}

#[test]
fn encode_json_writes_modelled_members_only() {
    let (svc, op) = lookup("kms", "DescribeKey");
    let body = rampart_wire::encode_json(
        svc,
        op,
        &json!({"KeyMetadata":{"KeyId":"k","CreationDate":1767323045,"Enabled":true,"Internal":"x"},"Extra":1}),
    );
    assert_eq!(
        String::from_utf8(body).unwrap(),
        r#"{"KeyMetadata":{"KeyId":"k","CreationDate":1767323045,"Enabled":true}}"#
    );
    let (svc, op) = lookup("kms", "Encrypt");
    let body =
        rampart_wire::encode_json(svc, op, &json!({"CiphertextBlob":"AAEC","KeyId":"k\"\n"}));
    assert_eq!(
        String::from_utf8(body).unwrap(),
        r#"{"CiphertextBlob":"AAEC","KeyId":"k\"\n"}"#
    );
    // Timestamps given as ISO strings by a handler still go out as epoch seconds.
    let (svc, op) = lookup("kms", "DescribeKey");
    let body = rampart_wire::encode_json(
        svc,
        op,
        &json!({"KeyMetadata":{"KeyId":"k","CreationDate":"2026-01-02T03:04:05.5Z"}}),
    );
    assert_eq!(
        String::from_utf8(body).unwrap(),
        r#"{"KeyMetadata":{"KeyId":"k","CreationDate":1767323045.5}}"#
    );
}

#[test]
fn decode_request_dispatches_by_protocol() {
    let (svc, op) = lookup("kms", "ListKeys");
    let req = rampart_wire::HttpRequest {
        method: "POST",
        path: "/",
        query: &[],
        headers: &[],
        body: br#"{"Limit":5}"#,
    };
    assert_eq!(
        rampart_wire::decode_request(svc, op, &req).unwrap(),
        json!({"Limit":5})
    );
    let (svc, op) = lookup("iam", "ListUsers");
    let query = crate::params(&[("Action", "ListUsers"), ("MaxItems", "7")]);
    let req = rampart_wire::HttpRequest {
        method: "POST",
        path: "/",
        query: &query,
        headers: &[],
        body: b"Version=2010-05-08&PathPrefix=%2Fops%2F",
    };
    assert_eq!(
        rampart_wire::decode_request(svc, op, &req).unwrap(),
        json!({"PathPrefix":"/ops/","MaxItems":7})
    );
}
