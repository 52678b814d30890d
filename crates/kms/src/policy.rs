//! Key policies: the documents AWS writes by default, the check a new policy must pass, and the
//! view of a key policy that includes the caller's matching grants.
use rampart_aws_types::{AwsError, PARTITION};
use rampart_policy::{Policy, PolicyKind};
use serde_json::Value;

use crate::error;
use crate::record::GrantRecord;

/// KMS's only policy name.
pub const DEFAULT_POLICY_NAME: &str = "default";
/// KMS's limit on a key policy (32 KiB).
pub const MAX_POLICY_BYTES: usize = 32 * 1024;

/// The default key policy exactly as AWS writes it (and returns it from GetKeyPolicy) for a key
/// created without `Policy`: full access for the account, which delegates to IAM policies.
pub fn default_key_policy(account: &str) -> String {
    format!(
        r#"{{
  "Version" : "2012-10-17",
  "Id" : "key-default-1",
  "Statement" : [ {{
    "Sid" : "Enable IAM User Permissions",
    "Effect" : "Allow",
    "Principal" : {{
      "AWS" : "arn:{PARTITION}:iam::{account}:root"
    }},
    "Action" : "kms:*",
    "Resource" : "*"
  }} ]
}}"#
    )
}

/// The policy of an AWS managed key (`alias/aws/<service>`), as AWS writes it: every principal
/// of the account may use the key through the service; the account may read its metadata.
pub fn aws_managed_key_policy(account: &str, region: &str, service: &str, display: &str) -> String {
    let via = format!("{service}.{region}.amazonaws.com");
    let sid = format!(
        "Allow access through {display} for all principals in the account that are authorized to use {display}"
    );
    format!(
        r#"{{
  "Version" : "2012-10-17",
  "Id" : "auto-{service}-2",
  "Statement" : [ {{
    "Sid" : "{sid}",
    "Effect" : "Allow",
    "Principal" : {{
      "AWS" : "*"
    }},
    "Action" : [ "kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:CreateGrant", "kms:DescribeKey" ],
    "Resource" : "*",
    "Condition" : {{
      "StringEquals" : {{
        "kms:CallerAccount" : "{account}",
        "kms:ViaService" : "{via}"
      }}
    }}
  }}, {{
    "Sid" : "Allow direct access to key metadata to the account",
    "Effect" : "Allow",
    "Principal" : {{
      "AWS" : "arn:{PARTITION}:iam::{account}:root"
    }},
    "Action" : [ "kms:Describe*", "kms:Get*", "kms:List*", "kms:RevokeGrant" ],
    "Resource" : "*"
  }} ]
}}"#
    )
}

/// `MalformedPolicyDocumentException` unless `document` is a well-formed key policy.
pub fn validate(document: &str) -> Result<(), AwsError> {
    if document.len() > MAX_POLICY_BYTES {
        return Err(error::kms(
            "LimitExceededException",
            format!("Policy exceeds the maximum size of {MAX_POLICY_BYTES} bytes."),
        ));
    }
    Policy::parse(document, PolicyKind::KeyPolicy)
        .map(|_| ())
        .map_err(|e| error::malformed_policy(format!("The new key policy is malformed: {e}")))
}

/// The key policy as the authorizer should see it for one request: the stored document plus one
/// `Allow` statement per grant that already matched the caller (grantee, operation and
/// constraints were checked by [`crate::grants::matching`]). Grants thus combine with the key
/// policy exactly as AWS combines them: key policy OR grant allows, and an explicit `Deny` in
/// the key policy (or, through the engine, in IAM policies) still wins over both.
pub fn with_grants(policy: &str, grants: &[&GrantRecord], action: &str) -> String {
    if grants.is_empty() {
        return policy.to_string();
    }
    let Ok(mut doc) = serde_json::from_str::<Value>(policy) else {
        return policy.to_string();
    };
    let extra = grants.iter().map(|g| {
        let mut statement = serde_json::Map::new();
        statement.insert("Sid".into(), format!("KmsGrant{}", g.grant_id).into());
        statement.insert("Effect".into(), "Allow".into());
        statement.insert(
            "Principal".into(),
            serde_json::json!({ "AWS": g.grantee_principal }),
        );
        statement.insert("Action".into(), action.into());
        statement.insert("Resource".into(), "*".into());
        if action == "kms:CreateGrant" {
            // A grantee may pass on only what it was granted: the new grant's operations must be
            // among this grant's, and a constrained grant only begets constrained grants.
            let mut condition = serde_json::Map::new();
            condition.insert(
                "ForAllValues:StringEquals".into(),
                serde_json::json!({ "kms:GrantOperations": g.operations }),
            );
            if g.constraint_subset.is_some() || g.constraint_equals.is_some() {
                condition.insert(
                    "Null".into(),
                    serde_json::json!({ "kms:GrantConstraintType": "false" }),
                );
            }
            statement.insert("Condition".into(), Value::Object(condition));
        }
        Value::Object(statement)
    });
    if let Some(obj) = doc.as_object_mut() {
        let statements = match obj.remove("Statement") {
            Some(Value::Array(list)) => list,
            Some(one) => vec![one],
            None => Vec::new(),
        };
        let mut all = statements;
        all.extend(extra);
        obj.insert("Statement".into(), Value::Array(all));
    }
    serde_json::to_string(&doc).unwrap_or_else(|_| policy.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn written_policies_are_valid_key_policies() {
        validate(&default_key_policy("111122223333")).unwrap();
        validate(&aws_managed_key_policy(
            "111122223333",
            "us-east-1",
            "secretsmanager",
            "AWS Secrets Manager",
        ))
        .unwrap();
        assert_eq!(
            validate("{").unwrap_err().code,
            "MalformedPolicyDocumentException"
        );
        assert_eq!(
            validate(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kms:*","Resource":"*"}]}"#)
                .unwrap_err()
                .code,
            "MalformedPolicyDocumentException",
            "a key policy statement needs a Principal"
        );
    }

    #[test]
    fn grants_become_statements() {
        let g = GrantRecord {
            key_id: "k".into(),
            grant_id: "abc".into(),
            name: None,
            creation_date: 0,
            grantee_principal: "arn:aws:iam::111122223333:role/app".into(),
            retiring_principal: None,
            issuing_account: "arn:aws:iam::111122223333:root".into(),
            operations: vec!["Decrypt".into()],
            constraint_subset: None,
            constraint_equals: None,
            token: String::new(),
        };
        let doc = with_grants(&default_key_policy("111122223333"), &[&g], "kms:Decrypt");
        validate(&doc).unwrap();
        let v: Value = serde_json::from_str(&doc).unwrap();
        let st = v["Statement"].as_array().unwrap();
        assert_eq!(st.len(), 2);
        assert_eq!(
            st[1]["Principal"]["AWS"],
            "arn:aws:iam::111122223333:role/app"
        );
        assert_eq!(st[1]["Action"], "kms:Decrypt");
    }
}
