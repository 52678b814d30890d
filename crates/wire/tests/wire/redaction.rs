//! Sensitive members are hidden at any depth, in inputs and outputs.
use serde_json::json;

use crate::lookup;

const H: &str = rampart_wire::REDACTED;

#[test]
fn kms_plaintexts_are_hidden() {
    let (svc, op) = lookup("kms", "Encrypt");
    let r = rampart_wire::redact_input(
        svc,
        op,
        &json!({"KeyId":"k","Plaintext":"c2VjcmV0","EncryptionContext":{"a":"b"}}),
    );
    assert_eq!(
        r,
        json!({"KeyId":"k","Plaintext":H,"EncryptionContext":{"a":"b"}})
    );
    let (svc, op) = lookup("kms", "GenerateDataKey");
    let r = rampart_wire::redact_output(
        svc,
        op,
        &json!({"CiphertextBlob":"AAAA","Plaintext":"c2VjcmV0","KeyId":"k"}),
    );
    assert_eq!(
        r,
        json!({"CiphertextBlob":"AAAA","Plaintext":H,"KeyId":"k"})
    );
}

#[test]
fn secrets_and_passwords_are_hidden() {
    let (svc, op) = lookup("secretsmanager", "CreateSecret");
    let r = rampart_wire::redact_input(
        svc,
        op,
        &json!({"Name":"n","SecretString":"hunter2","SecretBinary":"AAEC"}),
    );
    assert_eq!(r, json!({"Name":"n","SecretString":H,"SecretBinary":H}));
    let (svc, op) = lookup("secretsmanager", "GetSecretValue");
    let r = rampart_wire::redact_output(svc, op, &json!({"Name":"n","SecretString":"hunter2"}));
    assert_eq!(r, json!({"Name":"n","SecretString":H}));
    let (svc, op) = lookup("iam", "CreateLoginProfile");
    let r = rampart_wire::redact_input(
        svc,
        op,
        &json!({"UserName":"alice","Password":"hunter2","PasswordResetRequired":true}),
    );
    assert_eq!(
        r,
        json!({"UserName":"alice","Password":H,"PasswordResetRequired":true})
    );
}

#[test]
fn nested_credentials_are_hidden() {
    let (svc, op) = lookup("sts", "AssumeRole");
    let r = rampart_wire::redact_output(
        svc,
        op,
        &json!({"Credentials":{"AccessKeyId":"ASIA","SecretAccessKey":"s","SessionToken":"t","Expiration":1},"AssumedRoleUser":{"Arn":"a","AssumedRoleId":"i"}}),
    );
    assert_eq!(r["Credentials"]["SecretAccessKey"], H);
    assert_eq!(r["Credentials"]["AccessKeyId"], "ASIA");
    assert_eq!(r["Credentials"]["Expiration"], 1);
    assert_eq!(r["AssumedRoleUser"]["Arn"], "a");
    // The model does not mark the session token sensitive; Rampart does (a bearer secret).
    assert_eq!(r["Credentials"]["SessionToken"], H);
    let (svc, op) = lookup("iam", "CreateAccessKey");
    let r = rampart_wire::redact_output(
        svc,
        op,
        &json!({"AccessKey":{"UserName":"u","AccessKeyId":"AKIA","Status":"Active","SecretAccessKey":"s"}}),
    );
    assert_eq!(r["AccessKey"]["SecretAccessKey"], H);
    assert_eq!(r["AccessKey"]["AccessKeyId"], "AKIA");
}

#[test]
fn values_without_sensitive_members_are_unchanged() {
    let (svc, op) = lookup("iam", "ListUsers");
    let v = json!({"Users":[{"UserName":"a","Tags":[{"Key":"k","Value":"v"}]}],"IsTruncated":false,"Unknown":{"x":1}});
    assert_eq!(rampart_wire::redact_output(svc, op, &v), v);
}

#[test]
fn audit_views_leave_binary_members_out_and_still_hide_secrets() {
    let (svc, op) = lookup("kms", "Decrypt");
    let r = rampart_wire::audit_input(
        svc,
        op,
        &json!({"CiphertextBlob":"AAAA","EncryptionContext":{"a":"b"},"KeyId":"k"}),
    );
    assert_eq!(r, json!({"EncryptionContext":{"a":"b"},"KeyId":"k"}));
    let (svc, op) = lookup("kms", "GenerateDataKey");
    let r = rampart_wire::audit_output(
        svc,
        op,
        &json!({"CiphertextBlob":"AAAA","Plaintext":"c2VjcmV0","KeyId":"k"}),
    );
    assert_eq!(r, json!({"Plaintext":H,"KeyId":"k"}));
    let (svc, op) = lookup("secretsmanager", "CreateSecret");
    let r = rampart_wire::audit_input(svc, op, &json!({"Name":"n","SecretBinary":"AAEC"}));
    assert_eq!(r, json!({"Name":"n","SecretBinary":H}));
}
