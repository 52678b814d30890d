//! `sts:AssumeRole`: a session of a role, decided by the role's trust policy (and, across
//! accounts or when the trust policy names only the account, the caller's identity policies).
use std::sync::Arc;

use rampart_aws_types::AwsError;
use rampart_iam::model::{RoleRecord, role_key};
use rampart_services::common::records;
use rampart_services::principal::{PrincipalKind, Session};
use rampart_services::{Ctx, HandlerFuture, ResourcePolicy, ResourcePolicyKind};
use serde_json::{Value, json};

use crate::credentials::mint;

/// Role chaining (assuming a role with role-session credentials) caps sessions at one hour.
const CHAINED_MAX_DURATION: i64 = 3_600;
const DEFAULT_DURATION: i64 = 3_600;
const MIN_DURATION: i64 = 900;
/// Session policies and tags are packed into a 2,048-character budget, as AWS.
const PACKED_BUDGET: usize = 2_048;
const MAX_SESSION_TAGS: usize = 50;

pub(crate) struct RoleArn {
    pub account: String,
    pub name: String,
}

pub(crate) fn parse_role_arn(arn: &str) -> Option<RoleArn> {
    let rest = arn.strip_prefix("arn:aws:iam::")?;
    let (account, resource) = rest.split_once(':')?;
    let path_and_name = resource.strip_prefix("role/")?;
    let name = path_and_name.rsplit('/').next()?;
    (rampart_aws_types::is_account_id(account) && !name.is_empty()).then(|| RoleArn {
        account: account.to_string(),
        name: name.to_string(),
    })
}

fn str_member<'a>(input: &'a Value, name: &str) -> Option<&'a str> {
    input.get(name).and_then(Value::as_str)
}

fn denied(ctx: &Ctx, role_arn: &str) -> AwsError {
    AwsError::access_denied(format!(
        "User: {} is not authorized to perform: sts:AssumeRole on resource: {role_arn}",
        ctx.principal.arn
    ))
}

pub fn assume_role(ctx: Arc<Ctx>, input: Value) -> HandlerFuture {
    Box::pin(async move {
        let role_arn = str_member(&input, "RoleArn").unwrap_or("").to_string();
        let session_name = str_member(&input, "RoleSessionName")
            .unwrap_or("")
            .to_string();
        if ctx.principal.is_root() {
            // AWS refuses this before looking at any policy.
            ctx.mark_unauthenticated();
            return Err(AwsError::access_denied(
                "Roles may not be assumed by root accounts.",
            ));
        }
        let Some(target) = parse_role_arn(&role_arn) else {
            return Err(AwsError::validation(format!("{role_arn} is invalid")));
        };
        let key = role_key(&target.account, &target.name);
        let role: Option<(RoleRecord, u64)> = ctx
            .store()
            .read(move |tx| records::get::<RoleRecord>(tx, &key))
            .await?;

        // Conditions the trust policy may test.
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
        let transitive: Vec<String> = input
            .get("TransitiveTagKeys")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        let external_id = str_member(&input, "ExternalId").map(str::to_string);
        let source_identity = str_member(&input, "SourceIdentity")
            .map(str::to_string)
            .or_else(|| {
                ctx.principal
                    .session
                    .as_ref()
                    .and_then(|s| s.source_identity.clone())
            });
        let request_tag_keys: Vec<String> = tags
            .iter()
            .map(|(k, _)| format!("aws:RequestTag/{k}"))
            .collect();
        let mut conditions: Vec<(&str, &str)> =
            vec![("sts:RoleSessionName", session_name.as_str())];
        if let Some(e) = &external_id {
            conditions.push(("sts:ExternalId", e));
        }
        if let Some(s) = &source_identity {
            conditions.push(("sts:SourceIdentity", s));
        }
        for ((_, v), k) in tags.iter().zip(&request_tag_keys) {
            conditions.push((k.as_str(), v.as_str()));
            conditions.push((
                "aws:TagKeys",
                k.strip_prefix("aws:RequestTag/").unwrap_or(k),
            ));
        }
        for k in &transitive {
            conditions.push(("sts:TransitiveTagKeys", k));
        }

        // A role that does not exist is denied like one the caller may not assume: the answer
        // must not reveal which roles exist.
        let Some((role, _)) = role else {
            ctx.authorize_on(
                "sts:AssumeRole",
                &role_arn,
                &target.account,
                &conditions,
                None,
            )?;
            return Err(denied(&ctx, &role_arn));
        };
        let trust = ResourcePolicy {
            document: &role.assume_role_policy_document,
            kind: ResourcePolicyKind::TrustPolicy,
        };
        ctx.authorize_on(
            "sts:AssumeRole",
            &role.arn,
            &target.account,
            &conditions,
            Some(trust),
        )?;
        if !tags.is_empty() || !transitive.is_empty() {
            ctx.authorize_on(
                "sts:TagSession",
                &role.arn,
                &target.account,
                &conditions,
                Some(trust),
            )?;
        }
        if str_member(&input, "SourceIdentity").is_some() {
            ctx.authorize_on(
                "sts:SetSourceIdentity",
                &role.arn,
                &target.account,
                &conditions,
                Some(trust),
            )?;
        }
        let serial = str_member(&input, "SerialNumber");
        let code = str_member(&input, "TokenCode");
        let mfa_time = if serial.is_some() || code.is_some() {
            Some(crate::mfa::verify(&ctx, serial, code).await?)
        } else {
            None
        };

        issue_role_session(
            &ctx,
            &role,
            &target.account,
            &session_name,
            &input,
            tags,
            transitive,
            mfa_time,
            source_identity,
        )
    })
}

/// Mints a session of `role` (in `account`) for the caller, after the trust decision: checks the
/// duration against the role's maximum (one hour when chaining), packs session policies and
/// tags within AWS's budget, carries transitive tags over.
#[allow(clippy::too_many_arguments)]
pub(crate) fn issue_role_session(
    ctx: &Ctx,
    role: &RoleRecord,
    account: &str,
    session_name: &str,
    input: &Value,
    tags: Vec<(String, String)>,
    transitive: Vec<String>,
    mfa_time: Option<i64>,
    source_identity: Option<String>,
) -> Result<Value, AwsError> {
    // Duration: within the role's maximum, one hour when chaining.
    let caller_session = ctx.principal.session.clone();
    let chained = matches!(ctx.principal.kind, PrincipalKind::AssumedRole { .. });
    let requested = input
        .get("DurationSeconds")
        .and_then(Value::as_i64)
        .unwrap_or(DEFAULT_DURATION);
    let max = if chained {
        CHAINED_MAX_DURATION
    } else {
        role.max_session_duration
    };
    if requested > max {
        return Err(AwsError::validation(if chained {
            "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.".to_string()
        } else {
            "The requested DurationSeconds exceeds the MaxSessionDuration set for this role."
                .to_string()
        }));
    }
    if requested < MIN_DURATION {
        return Err(AwsError::validation(format!(
            "1 validation error detected: Value '{requested}' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to {MIN_DURATION}"
        )));
    }

    // Session policies and tags, within AWS's packed budget.
    let policy = str_member(input, "Policy").map(str::to_string);
    let policy_arns: Vec<String> = input
        .get("PolicyArns")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|p| p.get("arn").and_then(Value::as_str).map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    if tags.len() > MAX_SESSION_TAGS {
        return Err(AwsError::validation(format!(
            "Session tags exceed the limit of {MAX_SESSION_TAGS}."
        )));
    }
    // Transitive tags of a chained session carry over (and cannot be overridden).
    let mut session_tags = tags.clone();
    let mut transitive_keys = transitive.clone();
    if let Some(prev) = &caller_session {
        for key in &prev.transitive_tag_keys {
            if let Some((k, v)) = prev.tags.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)) {
                session_tags.retain(|(tk, _)| !tk.eq_ignore_ascii_case(k));
                session_tags.push((k.clone(), v.clone()));
                if !transitive_keys.iter().any(|t| t.eq_ignore_ascii_case(k)) {
                    transitive_keys.push(k.clone());
                }
            }
        }
    }
    let packed = policy
        .as_ref()
        .map_or(0, |p| p.chars().filter(|c| !c.is_whitespace()).count())
        + policy_arns.iter().map(String::len).sum::<usize>()
        + session_tags
            .iter()
            .map(|(k, v)| k.len() + v.len())
            .sum::<usize>();
    if packed > PACKED_BUDGET {
        return Err(AwsError::new(
            "PackedPolicyTooLarge",
            400,
            "Packed policy consumes more than 100 percent of the allotted size.",
        ));
    }

    let now = ctx.now().unix_timestamp();
    let session = Session {
        issued_at: now,
        expires_at: now + requested,
        issuer_arn: role.arn.clone(),
        issuer_id: role.role_id.clone(),
        mfa_authenticated: mfa_time.is_some()
            || caller_session.as_ref().is_some_and(|s| s.mfa_authenticated),
        mfa_auth_time: mfa_time.or_else(|| caller_session.as_ref().and_then(|s| s.mfa_auth_time)),
        source_identity: source_identity.clone(),
        policy,
        policy_arns,
        tags: session_tags,
        transitive_tag_keys: transitive_keys,
        chained,
        federated: false,
    };
    let arn = format!(
        "arn:aws:sts::{}:assumed-role/{}/{session_name}",
        account, role.name
    );
    let user_id = format!("{}:{session_name}", role.role_id);
    let kind = PrincipalKind::AssumedRole {
        role_name: role.name.clone(),
        session_name: session_name.to_string(),
    };
    let minted = mint(
        &ctx.node.master_key,
        account,
        kind,
        arn.clone(),
        user_id.clone(),
        session,
    )?;
    let mut out = json!({
        "Credentials": minted.credentials_output()?,
        "AssumedRoleUser": { "AssumedRoleId": user_id, "Arn": arn },
        "PackedPolicySize": packed * 100 / PACKED_BUDGET,
    });
    if let (Some(s), Some(map)) = (source_identity, out.as_object_mut()) {
        map.insert("SourceIdentity".into(), Value::String(s));
    }
    Ok(out)
}
