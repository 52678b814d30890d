//! Policy documents are checked by the policy engine (`rampart_policy`), which knows IAM's
//! grammar, its `MalformedPolicyDocument` messages and the size quotas of each kind of document.
use rampart_aws_types::AwsError;
use rampart_policy::{Policy, PolicyKind};

use crate::errors;

/// Refuses a document IAM would refuse for a policy of `kind`.
pub fn validate(document: &str, kind: PolicyKind) -> Result<(), AwsError> {
    Policy::parse(document, kind)
        .map(|_| ())
        .map_err(|e| errors::from_policy_error(&e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_documents_get_iam_errors() {
        let ok = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}"#;
        assert!(validate(ok, PolicyKind::Managed).is_ok());
        let e = validate("{not json", PolicyKind::Managed).unwrap_err();
        assert_eq!(e.code, "MalformedPolicyDocument");
        // A trust policy needs a Principal.
        let e = validate(ok, PolicyKind::RoleTrust).unwrap_err();
        assert_eq!(e.code, "MalformedPolicyDocument");
        // Size quotas count characters without whitespace.
        let actions: Vec<String> = (0..700).map(|i| format!("\"s3:GetObject{i}\"")).collect();
        let big = format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":[{}],"Resource":"*"}}]}}"#,
            actions.join(",")
        );
        assert!(big.len() > 10_240);
        assert_eq!(
            validate(&big, PolicyKind::Managed).unwrap_err().code,
            "LimitExceeded"
        );
        assert_eq!(
            validate(&big, PolicyKind::InlineUser).unwrap_err().code,
            "LimitExceeded"
        );
    }
}
