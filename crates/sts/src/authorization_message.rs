//! Encoded authorization messages and `sts:DecodeAuthorizationMessage`.
//!
//! A service that denies a request may attach an encoded message explaining the decision (AWS
//! does so for EC2 and a few others as `Encoded authorization failure message: ...`). The
//! message is AWS's decoded JSON document (`allowed`, `explicitDeny`, `matchedStatements`,
//! `failures`, `context`) sealed under the node's master key, bound to the account it was
//! issued in, so only that account's principals allowed `sts:DecodeAuthorizationMessage` can read
//! it and nobody can forge or alter one. [`encode`] is what a denying service calls.
use std::sync::Arc;

use rampart_aws_types::AwsError;
use rampart_crypto::MasterKey;
use rampart_services::{Ctx, HandlerFuture};
use serde_json::{Value, json};

const SEAL_CONTEXT: &str = "sts/authorization-message";

fn invalid() -> AwsError {
    AwsError::new(
        "InvalidAuthorizationMessageException",
        400,
        "The message is not a valid encoded authorization message.",
    )
}

/// Encodes `decoded` (AWS's decoded-message JSON document) for `account`: URL-safe base64 of the
/// sealed envelope, without line breaks, as AWS's messages are.
pub fn encode(master_key: &MasterKey, account: &str, decoded: &Value) -> Result<String, AwsError> {
    let envelope = json!({ "account": account, "message": decoded });
    let bytes = serde_json::to_vec(&envelope)
        .map_err(|_| AwsError::internal("cannot encode the authorization message"))?;
    let sealed = master_key
        .seal(SEAL_CONTEXT, &bytes)
        .map_err(|_| AwsError::internal("cannot encode the authorization message"))?;
    Ok(base64::Engine::encode(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD,
        sealed,
    ))
}

/// Opens an encoded message for a caller of `account`; `None` when it is not one of ours, was
/// altered, or belongs to another account.
fn decode(master_key: &MasterKey, account: &str, encoded: &str) -> Option<Value> {
    let sealed = base64::Engine::decode(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD,
        encoded.trim_end_matches('='),
    )
    .ok()?;
    let opened = master_key.open(SEAL_CONTEXT, &sealed).ok()?;
    let envelope: Value = serde_json::from_slice(&opened).ok()?;
    (envelope.get("account").and_then(Value::as_str) == Some(account))
        .then(|| envelope.get("message").cloned())
        .flatten()
}

pub fn decode_authorization_message(ctx: Arc<Ctx>, input: Value) -> HandlerFuture {
    Box::pin(async move {
        ctx.authorize("sts:DecodeAuthorizationMessage", "*", &[])?;
        let encoded = input
            .get("EncodedMessage")
            .and_then(Value::as_str)
            .unwrap_or("");
        let decoded =
            decode(&ctx.node.master_key, &ctx.principal.account, encoded).ok_or_else(invalid)?;
        let text = serde_json::to_string(&decoded)
            .map_err(|_| AwsError::internal("cannot encode the authorization message"))?;
        Ok(json!({ "DecodedMessage": text }))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message() -> Value {
        json!({
            "allowed": false,
            "explicitDeny": false,
            "matchedStatements": { "items": [] },
            "failures": { "items": [] },
            "context": {
                "principal": { "id": "AIDAEXAMPLE", "name": "bob", "arn": "arn:aws:iam::111122223333:user/bob" },
                "action": "iam:CreateUser",
                "resource": "arn:aws:iam::111122223333:user/carol",
                "conditions": { "items": [] }
            }
        })
    }

    #[test]
    fn round_trips_for_the_issuing_account_only() {
        let mk = MasterKey::from_bytes(&[7u8; 32]).unwrap();
        let encoded = encode(&mk, "111122223333", &message()).unwrap();
        assert!(!encoded.contains('\n') && !encoded.contains('+') && !encoded.contains('/'));
        assert_eq!(decode(&mk, "111122223333", &encoded), Some(message()));
        assert_eq!(decode(&mk, "444455556666", &encoded), None);
        let other = MasterKey::from_bytes(&[8u8; 32]).unwrap();
        assert_eq!(decode(&other, "111122223333", &encoded), None);
    }

    #[test]
    fn altered_or_garbage_messages_are_refused() {
        let mk = MasterKey::from_bytes(&[7u8; 32]).unwrap();
        let encoded = encode(&mk, "111122223333", &message()).unwrap();
        let mut chars: Vec<char> = encoded.chars().collect();
        let mid = chars.len() / 2;
        chars[mid] = if chars[mid] == 'A' { 'B' } else { 'A' };
        let altered: String = chars.into_iter().collect();
        assert_eq!(decode(&mk, "111122223333", &altered), None);
        for junk in ["", "x", "!!!!", "AAAA", &"A".repeat(10_000)] {
            assert_eq!(decode(&mk, "111122223333", junk), None);
        }
    }
}
