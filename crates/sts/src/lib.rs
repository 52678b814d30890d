//! AWS Security Token Service (awsQuery). The server's dispatcher calls [`handler`].
#![cfg_attr(
    test,
    allow(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )
)]
mod assume_role;
pub mod authorization_message;
pub mod credentials;
mod mfa;
mod oidc_keys;
mod saml;
pub mod session;
mod tokens;
mod web_identity;

use std::sync::Arc;

use rampart_aws_types::AwsError;
use rampart_services::{Ctx, Handler, HandlerFuture};
use serde_json::{Value, json};

pub fn handler(operation: &str) -> Option<Handler> {
    Some(match operation {
        "GetCallerIdentity" => get_caller_identity,
        "AssumeRole" => assume_role::assume_role,
        "AssumeRoleWithWebIdentity" => web_identity::assume_role_with_web_identity,
        "AssumeRoleWithSAML" => saml::assume_role_with_saml,
        "GetSessionToken" => tokens::get_session_token,
        "GetFederationToken" => tokens::get_federation_token,
        "GetAccessKeyInfo" => get_access_key_info,
        "DecodeAuthorizationMessage" => authorization_message::decode_authorization_message,
        _ => return None,
    })
}

/// `sts:GetCallerIdentity`. AWS answers it for every authenticated caller, even when a policy
/// explicitly denies it, so no decision is asked for (the `sts:GetCallerIdentity` permission is
/// not enforced by AWS either).
fn get_caller_identity(ctx: Arc<Ctx>, _input: Value) -> HandlerFuture {
    Box::pin(async move {
        ctx.mark_unauthenticated();
        let p = &ctx.principal;
        Ok::<Value, AwsError>(json!({ "UserId": p.user_id, "Account": p.account, "Arn": p.arn }))
    })
}

/// `sts:GetAccessKeyInfo`: the account an access key belongs to, decoded from the key id.
fn get_access_key_info(ctx: Arc<Ctx>, input: Value) -> HandlerFuture {
    Box::pin(async move {
        ctx.authorize("sts:GetAccessKeyInfo", "*", &[])?;
        let id = input
            .get("AccessKeyId")
            .and_then(Value::as_str)
            .unwrap_or("");
        let account = rampart_aws_types::ids::account_of_access_key_id(id).ok_or_else(|| {
            AwsError::new(
                "InvalidParameterValue",
                400,
                format!("The access key ID {id} is not valid."),
            )
        })?;
        Ok(json!({ "Account": account }))
    })
}
