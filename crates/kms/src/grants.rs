//! Grants as KMS evaluates them: which of a key's grants let this caller do this operation with
//! this encryption context, and the grant tokens that name them.
use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rampart_aws_types::AwsError;
use rampart_services::{Principal, PrincipalKind};

use crate::error;
use crate::record::GrantRecord;

/// The operations a grant may allow (AWS's `GrantOperation` enum).
pub const GRANT_OPERATIONS: &[&str] = &[
    "Decrypt",
    "Encrypt",
    "GenerateDataKey",
    "GenerateDataKeyWithoutPlaintext",
    "ReEncryptFrom",
    "ReEncryptTo",
    "Sign",
    "Verify",
    "GetPublicKey",
    "CreateGrant",
    "RetireGrant",
    "DescribeKey",
    "GenerateDataKeyPair",
    "GenerateDataKeyPairWithoutPlaintext",
    "GenerateMac",
    "VerifyMac",
    "DeriveSharedSecret",
];

/// Operations that take an encryption context: the only ones a grant with constraints may allow.
pub const CONTEXT_OPERATIONS: &[&str] = &[
    "Decrypt",
    "Encrypt",
    "GenerateDataKey",
    "GenerateDataKeyWithoutPlaintext",
    "ReEncryptFrom",
    "ReEncryptTo",
    "GenerateDataKeyPair",
    "GenerateDataKeyPairWithoutPlaintext",
    "CreateGrant",
    "RetireGrant",
];

/// Is `principal` the grant's grantee? The grantee is an ARN: the principal's own ARN, or the
/// role whose session the principal is.
pub fn is_grantee(grantee: &str, principal: &Principal) -> bool {
    if grantee == principal.arn {
        return true;
    }
    match &principal.kind {
        PrincipalKind::AssumedRole { role_name, .. } => {
            grantee.starts_with(&format!(
                "arn:{}:iam::{}:role/",
                rampart_aws_types::PARTITION,
                principal.account
            )) && grantee.rsplit('/').next() == Some(role_name.as_str())
        }
        _ => false,
    }
}

/// Do the grant's constraints admit this encryption context?
pub fn constraints_hold(grant: &GrantRecord, context: &BTreeMap<String, String>) -> bool {
    if let Some(equals) = &grant.constraint_equals {
        if equals != context {
            return false;
        }
    }
    if let Some(subset) = &grant.constraint_subset {
        if !subset.iter().all(|(k, v)| context.get(k) == Some(v)) {
            return false;
        }
    }
    true
}

/// The grants among `grants` that allow `principal` to do `operation` with `context`.
pub fn matching<'a>(
    grants: &'a [GrantRecord],
    principal: &Principal,
    operation: &str,
    context: &BTreeMap<String, String>,
) -> Vec<&'a GrantRecord> {
    grants
        .iter()
        .filter(|g| g.operations.iter().any(|o| o == operation))
        .filter(|g| is_grantee(&g.grantee_principal, principal))
        .filter(|g| constraints_hold(g, context))
        .collect()
}

/// A grant token: names the grant it came from (so `RetireGrant` can find it) plus randomness.
/// Grants take effect at once here, so a token adds no permission of its own.
pub fn make_token(
    account: &str,
    region: &str,
    key_id: &str,
    grant_id: &str,
) -> Result<String, AwsError> {
    let nonce = hex::encode(rampart_aws_types::ids::random_bytes::<16>()?);
    Ok(URL_SAFE_NO_PAD.encode(format!("v1:{account}:{region}:{key_id}:{grant_id}:{nonce}")))
}

/// What a token names: (account, region, key id, grant id).
pub fn parse_token(token: &str) -> Result<(String, String, String, String), AwsError> {
    let bad = || {
        error::kms(
            "InvalidGrantTokenException",
            "The grant token is not valid.",
        )
    };
    let bytes = URL_SAFE_NO_PAD
        .decode(token.as_bytes())
        .map_err(|_| bad())?;
    let text = String::from_utf8(bytes).map_err(|_| bad())?;
    let parts: Vec<&str> = text.split(':').collect();
    match parts.as_slice() {
        ["v1", account, region, key_id, grant_id, _nonce] => Ok((
            account.to_string(),
            region.to_string(),
            key_id.to_string(),
            grant_id.to_string(),
        )),
        _ => Err(bad()),
    }
}

/// `GrantTokens` of a request must all be tokens this server issued.
pub fn check_tokens(tokens: &[String]) -> Result<(), AwsError> {
    for t in tokens {
        parse_token(t)?;
    }
    Ok(())
}

/// A grant id: 64 hex digits, as AWS's.
pub fn new_grant_id() -> Result<String, AwsError> {
    Ok(hex::encode(rampart_aws_types::ids::random_bytes::<32>()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grant(
        ops: &[&str],
        subset: Option<&[(&str, &str)]>,
        equals: Option<&[(&str, &str)]>,
    ) -> GrantRecord {
        let map = |p: &[(&str, &str)]| {
            p.iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        GrantRecord {
            key_id: "k".into(),
            grant_id: "g".into(),
            name: None,
            creation_date: 0,
            grantee_principal: "arn:aws:iam::111122223333:role/app".into(),
            retiring_principal: None,
            issuing_account: "arn:aws:iam::111122223333:root".into(),
            operations: ops.iter().map(|s| s.to_string()).collect(),
            constraint_subset: subset.map(map),
            constraint_equals: equals.map(map),
            token: String::new(),
        }
    }

    fn session() -> Principal {
        Principal {
            kind: PrincipalKind::AssumedRole {
                role_name: "app".into(),
                session_name: "s".into(),
            },
            arn: "arn:aws:sts::111122223333:assumed-role/app/s".into(),
            user_id: "AROA:s".into(),
            ..Principal::root("111122223333", "ASIA")
        }
    }

    fn ctx(p: &[(&str, &str)]) -> BTreeMap<String, String> {
        p.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn grants_match_grantee_operation_and_constraints() {
        let grants = vec![
            grant(&["Decrypt"], Some(&[("tenant", "a")]), None),
            grant(&["Encrypt"], None, Some(&[("tenant", "a")])),
        ];
        let p = session();
        assert_eq!(
            matching(&grants, &p, "Decrypt", &ctx(&[("tenant", "a"), ("x", "y")])).len(),
            1
        );
        assert_eq!(
            matching(&grants, &p, "Decrypt", &ctx(&[("tenant", "b")])).len(),
            0
        );
        assert_eq!(
            matching(&grants, &p, "Encrypt", &ctx(&[("tenant", "a")])).len(),
            1
        );
        assert_eq!(
            matching(&grants, &p, "Encrypt", &ctx(&[("tenant", "a"), ("x", "y")])).len(),
            0
        );
        assert_eq!(matching(&grants, &p, "Sign", &ctx(&[])).len(), 0);
        let root = Principal::root("111122223333", "AKIA");
        assert_eq!(
            matching(&grants, &root, "Decrypt", &ctx(&[("tenant", "a")])).len(),
            0
        );
    }

    #[test]
    fn tokens_round_trip_and_garbage_is_refused() {
        let t = make_token("111122223333", "us-east-1", "kid", "gid").unwrap();
        assert_eq!(parse_token(&t).unwrap().3, "gid");
        assert_eq!(
            parse_token("garbage!").unwrap_err().code,
            "InvalidGrantTokenException"
        );
        assert!(check_tokens(&[t]).is_ok());
    }
}
