//! PutResourcePolicy, GetResourcePolicy, DeleteResourcePolicy, ValidateResourcePolicy.
use std::sync::Arc;

use rampart_aws_types::AwsError;
use rampart_services::Ctx;
use serde_json::{Value, json};

use super::*;
use crate::resource_policy;

fn malformed(message: &str) -> AwsError {
    error::sm("MalformedPolicyDocumentException", message.to_string())
}

pub async fn put_resource_policy(ctx: Arc<Ctx>, input: Value) -> Result<Value, AwsError> {
    let id = str_field(&input, "SecretId").unwrap_or_default();
    let (rec, _) = resolve(&ctx, "secretsmanager:PutResourcePolicy", id, &[]).await?;
    refuse_deleted(&rec)?;
    super::secrets::refuse_replica(&rec)?;
    let text = str_field(&input, "ResourcePolicy")
        .unwrap_or_default()
        .to_string();
    let policy = resource_policy::parse(&text).map_err(|m| malformed(&m))?;
    let block = input
        .get("BlockPublicPolicy")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    if block && resource_policy::is_public(&policy) {
        return Err(error::sm(
            "PublicPolicyException",
            "The BlockPublicPolicy parameter is set to true, and the resource policy did not prevent broad access to the secret.",
        ));
    }
    super::secrets::modify(&ctx, &rec, move |current, _| {
        current.policy = Some(text.clone());
        Ok(())
    })
    .await?;
    super::replicas::sync_after_change(&ctx, &rec.arn).await;
    Ok(json!({ "ARN": rec.arn, "Name": rec.name }))
}

pub async fn get_resource_policy(ctx: Arc<Ctx>, input: Value) -> Result<Value, AwsError> {
    let id = str_field(&input, "SecretId").unwrap_or_default();
    let (rec, _) = resolve(&ctx, "secretsmanager:GetResourcePolicy", id, &[]).await?;
    let mut out = json!({ "ARN": rec.arn, "Name": rec.name });
    if let Some(p) = &rec.policy {
        set(&mut out, "ResourcePolicy", json!(p));
    }
    Ok(out)
}

pub async fn delete_resource_policy(ctx: Arc<Ctx>, input: Value) -> Result<Value, AwsError> {
    let id = str_field(&input, "SecretId").unwrap_or_default();
    let (rec, _) = resolve(&ctx, "secretsmanager:DeleteResourcePolicy", id, &[]).await?;
    refuse_deleted(&rec)?;
    super::secrets::refuse_replica(&rec)?;
    super::secrets::modify(&ctx, &rec, |current, _| {
        current.policy = None;
        Ok(())
    })
    .await?;
    super::replicas::sync_after_change(&ctx, &rec.arn).await;
    Ok(json!({ "ARN": rec.arn, "Name": rec.name }))
}

pub async fn validate_resource_policy(ctx: Arc<Ctx>, input: Value) -> Result<Value, AwsError> {
    match str_field(&input, "SecretId") {
        Some(id) => {
            resolve(&ctx, "secretsmanager:ValidateResourcePolicy", id, &[]).await?;
        }
        None => ctx.authorize("secretsmanager:ValidateResourcePolicy", "*", &[])?,
    }
    let text = str_field(&input, "ResourcePolicy").unwrap_or_default();
    let policy = match resource_policy::parse(text) {
        Ok(p) => p,
        Err(m) => return Err(malformed(&m)),
    };
    let mut errors = Vec::new();
    let mut passed = true;
    if resource_policy::is_public(&policy) {
        passed = false;
        errors.push(json!({
            "CheckName": "BROAD_ACCESS_CHECK",
            "ErrorMessage": "The resource policy grants broad access to the secret (a wildcard principal without a condition that narrows it to an account, organization or source).",
        }));
    }
    for f in resource_policy::findings(&policy) {
        if resource_policy::blocks_validation(&f) {
            passed = false;
        }
        errors.push(json!({ "CheckName": f.code, "ErrorMessage": f.to_string() }));
    }
    Ok(json!({ "PolicyValidationPassed": passed, "ValidationErrors": errors }))
}
