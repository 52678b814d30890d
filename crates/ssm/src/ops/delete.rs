//! DeleteParameter, DeleteParameters, and the deletion the expiry tick shares.
use std::sync::Arc;

use rampart_aws_types::AwsError;
use rampart_services::Ctx;
use rampart_services::common::records;
use rampart_store::{Expect, Txn};
use serde_json::{Value, json};

use super::*;
use crate::ops::put::STANDARD;

/// Removes a parameter, its versions and its share of the standard quota; `false` when absent.
pub fn delete_in_txn(
    tx: &mut dyn Txn,
    account: &str,
    region: &str,
    name: &str,
) -> Result<bool, AwsError> {
    let key = record::param_key(account, region, name);
    let Some((p, _)) = records::get::<Param>(tx, &key)? else {
        return Ok(false);
    };
    tx.delete(&key, Expect::Any)?;
    tx.delete_prefix(&record::version_prefix(account, region, name))?;
    for d in &p.due {
        tx.delete(d, Expect::Any)?;
    }
    if p.latest.tier == STANDARD {
        let ck = record::standard_count_key(account, region);
        let count: u64 = records::get::<u64>(tx, &ck)?.map(|(c, _)| c).unwrap_or(0);
        records::put(tx, &ck, &count.saturating_sub(1), Expect::Any)?;
    }
    Ok(true)
}

async fn delete_one(ctx: &Ctx, name: &str) -> Result<bool, AwsError> {
    let (account, region, n) = (
        ctx.account().to_string(),
        ctx.region().to_string(),
        name.to_string(),
    );
    ctx.store()
        .write(move |tx| delete_in_txn(tx, &account, &region, &n))
        .await
}

pub async fn delete_parameter(ctx: Arc<Ctx>, input: Value) -> Result<Value, AwsError> {
    let name = names::name_from_input(str_field(&input, "Name").unwrap_or_default());
    let found = load(&ctx, &name).await?;
    authorize_param(
        &ctx,
        "ssm:DeleteParameter",
        &name,
        found.as_ref().map(|(p, _)| p),
        &[],
    )?;
    if found.is_none() || !delete_one(&ctx, &name).await? {
        return Err(error::not_found(&name));
    }
    ctx.record_resource(&param_arn(&ctx, &name), "AWS::SSM::Parameter");
    Ok(json!({}))
}

pub async fn delete_parameters(ctx: Arc<Ctx>, input: Value) -> Result<Value, AwsError> {
    let given: Vec<String> = input
        .get("Names")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    let mut targets = Vec::new();
    for g in &given {
        let name = names::name_from_input(g);
        let found = load(&ctx, &name).await?;
        authorize_param(
            &ctx,
            "ssm:DeleteParameters",
            &name,
            found.as_ref().map(|(p, _)| p),
            &[],
        )?;
        targets.push((g.clone(), name));
    }
    if given.is_empty() {
        ctx.authorize("ssm:DeleteParameters", "*", &[])?;
    }
    let mut deleted = Vec::new();
    let mut invalid = Vec::new();
    for (g, name) in targets {
        if delete_one(&ctx, &name).await? {
            ctx.record_resource(&param_arn(&ctx, &name), "AWS::SSM::Parameter");
            deleted.push(g);
        } else {
            invalid.push(g);
        }
    }
    Ok(json!({ "DeletedParameters": deleted, "InvalidParameters": invalid }))
}
