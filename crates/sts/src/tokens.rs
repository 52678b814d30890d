//! GetSessionToken and GetFederationToken: sessions of the caller's own identity.
use std::sync::Arc;

use rampart_aws_types::AwsError;
use rampart_services::principal::{PrincipalKind, Session};
use rampart_services::{Ctx, HandlerFuture};
use serde_json::{Value, json};

use crate::credentials::mint;

/// Durations (seconds) AWS allows: 15 minutes to 36 hours for IAM users, at most one hour for the
/// root user.
const MIN_DURATION: i64 = 900;
const MAX_USER_DURATION: i64 = 129_600;
const MAX_ROOT_DURATION: i64 = 3_600;
const DEFAULT_DURATION: i64 = 43_200;
/// Packed session policies larger than this are refused, as AWS does.
const MAX_SESSION_POLICY_CHARS: usize = 2_048;

fn duration(input: &Value, ctx: &Ctx) -> Result<i64, AwsError> {
    let max = if ctx.principal.is_root() {
        MAX_ROOT_DURATION
    } else {
        MAX_USER_DURATION
    };
    let requested = input.get("DurationSeconds").and_then(Value::as_i64);
    let d = requested.unwrap_or(DEFAULT_DURATION.min(max));
    if d < MIN_DURATION || d > max {
        return Err(AwsError::validation(format!(
            "1 validation error detected: Value '{d}' at 'durationSeconds' failed to satisfy constraint: Member must have value {} {}",
            if d < MIN_DURATION {
                "greater than or equal to"
            } else {
                "less than or equal to"
            },
            if d < MIN_DURATION { MIN_DURATION } else { max }
        )));
    }
    Ok(d)
}

fn require_long_term(ctx: &Ctx, operation: &str) -> Result<(), AwsError> {
    if !ctx.principal.is_long_term() {
        return Err(AwsError::access_denied(format!(
            "Cannot call {operation} with session credentials"
        )));
    }
    Ok(())
}

/// `sts:GetSessionToken`. AWS requires no permission for it (it is how a user proves MFA), so it
/// is served unauthenticated for any caller with long-term credentials.
pub fn get_session_token(ctx: Arc<Ctx>, input: Value) -> HandlerFuture {
    Box::pin(async move {
        ctx.mark_unauthenticated();
        require_long_term(&ctx, "GetSessionToken")?;
        let seconds = duration(&input, &ctx)?;
        let serial = input.get("SerialNumber").and_then(Value::as_str);
        let code = input.get("TokenCode").and_then(Value::as_str);
        let mfa_time = if serial.is_some() || code.is_some() {
            Some(crate::mfa::verify(&ctx, serial, code).await?)
        } else {
            None
        };
        let now = ctx.now().unix_timestamp();
        let p = &ctx.principal;
        let session = Session {
            issued_at: now,
            expires_at: now + seconds,
            issuer_arn: p.arn.clone(),
            issuer_id: p.user_id.clone(),
            mfa_authenticated: mfa_time.is_some(),
            mfa_auth_time: mfa_time,
            ..Default::default()
        };
        let minted = mint(
            &ctx.node.master_key,
            &p.account,
            p.kind.clone(),
            p.arn.clone(),
            p.user_id.clone(),
            session,
        )?;
        Ok(json!({ "Credentials": minted.credentials_output()? }))
    })
}

/// `sts:GetFederationToken`: a federated-user session whose permissions are the intersection of
/// the caller's policies and the session policies passed here.
pub fn get_federation_token(ctx: Arc<Ctx>, input: Value) -> HandlerFuture {
    Box::pin(async move {
        let name = input
            .get("Name")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        let account = ctx.account().to_string();
        let arn = format!("arn:aws:sts::{account}:federated-user/{name}");
        ctx.authorize("sts:GetFederationToken", &arn, &[])?;
        require_long_term(&ctx, "GetFederationToken")?;
        let seconds = duration(&input, &ctx)?;
        let policy = input
            .get("Policy")
            .and_then(Value::as_str)
            .map(str::to_string);
        let packed = policy
            .as_ref()
            .map_or(0, |p| p.chars().filter(|c| !c.is_whitespace()).count());
        if packed > MAX_SESSION_POLICY_CHARS {
            return Err(AwsError::new(
                "PackedPolicyTooLarge",
                400,
                "Packed policy consumes more than 100 percent of the allotted size.",
            ));
        }
        let policy_arns: Vec<String> = input
            .get("PolicyArns")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|p| p.get("arn").and_then(Value::as_str).map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        let tags: Vec<(String, String)> = input
            .get("Tags")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|t| {
                        Some((
                            t.get("Key")?.as_str()?.to_string(),
                            t.get("Value")?.as_str()?.to_string(),
                        ))
                    })
                    .collect()
            })
            .unwrap_or_default();
        let now = ctx.now().unix_timestamp();
        let p = &ctx.principal;
        let session = Session {
            issued_at: now,
            expires_at: now + seconds,
            issuer_arn: p.arn.clone(),
            issuer_id: p.user_id.clone(),
            policy,
            policy_arns,
            tags,
            federated: true,
            ..Default::default()
        };
        let user_id = format!("{account}:{name}");
        let minted = mint(
            &ctx.node.master_key,
            &account,
            PrincipalKind::FederatedUser { name: name.clone() },
            arn.clone(),
            user_id.clone(),
            session,
        )?;
        Ok(json!({
            "Credentials": minted.credentials_output()?,
            "FederatedUser": { "FederatedUserId": user_id, "Arn": arn },
            "PackedPolicySize": (packed * 100 / MAX_SESSION_POLICY_CHARS),
        }))
    })
}
