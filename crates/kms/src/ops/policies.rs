//! Key policies: GetKeyPolicy, PutKeyPolicy (with AWS's lockout safety check), ListKeyPolicies.
use std::sync::Arc;

use rampart_aws_types::AwsError;
use rampart_services::Ctx;
use rampart_services::common::input;
use serde::Deserialize;
use serde_json::{Value, json};

use super::keys::{load_for_management, lockout_check, refuse_aws_managed};
use super::update_key;
use crate::error;
use crate::policy::{self, DEFAULT_POLICY_NAME};

fn check_policy_name(name: Option<&str>) -> Result<(), AwsError> {
    match name {
        None | Some(DEFAULT_POLICY_NAME) => Ok(()),
        Some(other) => Err(error::kms(
            "NotFoundException",
            format!(
                "Policy {} not found. The only valid policy name is \"default\".",
                error::truncate(other)
            ),
        )),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct GetInput {
    key_id: String,
    policy_name: Option<String>,
}

pub async fn get_key_policy(ctx: Arc<Ctx>, input: Value) -> Result<Value, AwsError> {
    let i: GetInput = input::parse(input)?;
    let l = load_for_management(&ctx, &i.key_id, "GetKeyPolicy").await?;
    check_policy_name(i.policy_name.as_deref())?;
    Ok(json!({ "Policy": l.key.policy, "PolicyName": DEFAULT_POLICY_NAME }))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct PutInput {
    key_id: String,
    policy_name: Option<String>,
    policy: String,
    bypass_policy_lockout_safety_check: Option<bool>,
}

pub async fn put_key_policy(ctx: Arc<Ctx>, input: Value) -> Result<Value, AwsError> {
    let i: PutInput = input::parse(input)?;
    let l = load_for_management(&ctx, &i.key_id, "PutKeyPolicy").await?;
    check_policy_name(i.policy_name.as_deref())?;
    refuse_aws_managed(&l.key)?;
    policy::validate(&i.policy)?;
    if i.bypass_policy_lockout_safety_check != Some(true) {
        lockout_check(&ctx, &l.key.arn, &l.key.account, &i.policy)?;
    }
    let document = i.policy;
    update_key(&ctx, &l, move |k| {
        k.policy = document.clone();
        Ok(())
    })
    .await?;
    Ok(json!({}))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ListInput {
    key_id: String,
}

pub async fn list_key_policies(ctx: Arc<Ctx>, input: Value) -> Result<Value, AwsError> {
    let i: ListInput = input::parse(input)?;
    load_for_management(&ctx, &i.key_id, "ListKeyPolicies").await?;
    Ok(json!({ "PolicyNames": [DEFAULT_POLICY_NAME], "Truncated": false }))
}
