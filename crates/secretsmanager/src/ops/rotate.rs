//! RotateSecret and CancelRotateSecret: configure the rotator and schedule, and put the secret
//! in the rotation index (now for an immediate rotation, else at its next window). The
//! background tick does the rotating (`crate::rotation`).
use std::sync::Arc;

use rampart_aws_types::AwsError;
use rampart_services::Ctx;
use rampart_store::Expect;
use serde_json::{Value, json};

use super::*;
use crate::record::rotate_key;
use crate::{rotators, schedule, versions};

pub async fn rotate_secret(ctx: Arc<Ctx>, input: Value) -> Result<Value, AwsError> {
    let id = str_field(&input, "SecretId").unwrap_or_default();
    let mut extra = Vec::new();
    if let Some(l) = str_field(&input, "RotationLambdaARN") {
        extra.push((
            "secretsmanager:RotationLambdaARN".to_string(),
            l.to_string(),
        ));
    }
    let (rec, _) = resolve(&ctx, "secretsmanager:RotateSecret", id, &extra).await?;
    refuse_deleted(&rec)?;
    super::secrets::refuse_replica(&rec)?;
    let lambda = str_field(&input, "RotationLambdaARN")
        .map(str::to_string)
        .or_else(|| rec.rotation.lambda_arn.clone())
        .ok_or_else(|| {
            error::invalid_request(
                "No Lambda rotation function ARN is associated with this secret.",
            )
        })?;
    if rotators::kind_of(&lambda).is_none() {
        return Err(error::invalid_parameter(format!(
            "Rampart has no rotator for {lambda}; use a function named {}, {} or {}.",
            rotators::RANDOM_PASSWORD,
            rotators::POSTGRES,
            rotators::WEBHOOK
        )));
    }
    let rules = input
        .get("RotationRules")
        .cloned()
        .or_else(|| rec.rotation.rules.clone());
    let schedule = match &rules {
        Some(r) => Some(schedule::parse_rules(r)?),
        None => None,
    };
    let immediately = input
        .get("RotateImmediately")
        .and_then(Value::as_bool)
        .unwrap_or(true);
    if rec.rotation.in_progress.is_some() {
        return Err(error::invalid_request(
            "A previous rotation isn't complete. That rotation will be reattempted.",
        ));
    }
    let token = match str_field(&input, "ClientRequestToken") {
        Some(t) => t.to_string(),
        None => versions::new_version_id()?,
    };
    if immediately && rec.versions.contains_key(&token) {
        return Err(error::exists(
            "A version with this ClientRequestToken already exists.",
        ));
    }
    let now = ctx.now();
    let due = if immediately {
        Some(now.unix_timestamp())
    } else {
        schedule
            .as_ref()
            .and_then(|s| schedule::next_after(s, now))
            .map(|t| t.unix_timestamp())
    };
    let next = schedule
        .as_ref()
        .and_then(|s| schedule::next_after(s, now))
        .map(epoch);
    let t = token.clone();
    super::secrets::modify(&ctx, &rec, move |current, tx| {
        let (account, region) = record::account_region(&current.arn);
        let (account, region) = (account.to_string(), region.to_string());
        if let Some(at) = current.rotation.due_at {
            tx.delete(
                &rotate_key(at, &account, &region, &current.name),
                Expect::Any,
            )?;
        }
        current.rotation.enabled = true;
        current.rotation.lambda_arn = Some(lambda.clone());
        current.rotation.rules = rules.clone();
        current.rotation.next_rotation = next;
        current.rotation.due_at = due;
        if immediately {
            if let Some(old) =
                versions::holder(&current.versions, versions::PENDING).map(str::to_string)
            {
                versions::move_stage(&mut current.versions, versions::PENDING, Some(&old), None)?;
            }
            current.rotation.in_progress = Some(t.clone());
            current.rotation.step = 0;
        }
        if let Some(at) = due {
            tx.put(
                &rotate_key(at, &account, &region, &current.name),
                b"{}",
                Expect::Any,
            )?;
        }
        Ok(())
    })
    .await?;
    ctx.record_resource(&rec.arn, "AWS::SecretsManager::Secret");
    let mut out = json!({ "ARN": rec.arn, "Name": rec.name });
    if immediately {
        set(&mut out, "VersionId", json!(token));
    }
    Ok(out)
}

pub async fn cancel_rotate_secret(ctx: Arc<Ctx>, input: Value) -> Result<Value, AwsError> {
    let id = str_field(&input, "SecretId").unwrap_or_default();
    let (rec, _) = resolve(&ctx, "secretsmanager:CancelRotateSecret", id, &[]).await?;
    refuse_deleted(&rec)?;
    super::secrets::refuse_replica(&rec)?;
    let pending = versions::holder(&rec.versions, versions::PENDING).map(str::to_string);
    super::secrets::modify(&ctx, &rec, move |current, tx| {
        let (account, region) = record::account_region(&current.arn);
        if let Some(at) = current.rotation.due_at {
            tx.delete(&rotate_key(at, account, region, &current.name), Expect::Any)?;
        }
        current.rotation.enabled = false;
        current.rotation.in_progress = None;
        current.rotation.step = 0;
        current.rotation.due_at = None;
        current.rotation.next_rotation = None;
        Ok(())
    })
    .await?;
    let mut out = json!({ "ARN": rec.arn, "Name": rec.name });
    if let Some(p) = pending {
        set(&mut out, "VersionId", json!(p));
    }
    Ok(out)
}
