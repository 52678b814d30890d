//! BatchGetSecretValue: by a list of ids (up to 20) or by filters, with per-secret errors.
use std::sync::Arc;

use rampart_aws_types::AwsError;
use rampart_services::Ctx;
use serde_json::{Value, json};

use super::*;
use crate::filters;

pub async fn batch_get_secret_value(ctx: Arc<Ctx>, input: Value) -> Result<Value, AwsError> {
    ctx.authorize("secretsmanager:BatchGetSecretValue", "*", &[])?;
    let ids: Option<Vec<String>> = input
        .get("SecretIdList")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        });
    let has_filters = input.get("Filters").is_some();
    if ids.is_some() == has_filters {
        return Err(error::invalid_parameter(
            "Either 'SecretIdList' or 'Filters' must be provided, but not both.",
        ));
    }
    if ids.is_some() && input.get("MaxResults").is_some() {
        return Err(error::invalid_parameter(
            "'Filters' not specified. 'Filters' must also be specified when 'MaxResults' is provided in a request.",
        ));
    }
    let mut next = None;
    let targets: Vec<String> = match ids {
        Some(ids) => ids,
        None => {
            let filters = filters::parse(&input);
            let max = input
                .get("MaxResults")
                .and_then(Value::as_u64)
                .map_or(20, |m| m.clamp(1, 20) as usize);
            let start = match str_field(&input, "NextToken") {
                Some(t) => token::decode(t).ok_or_else(error::invalid_token)?,
                None => 0,
            };
            let mut list: Vec<_> = super::list::all_secrets(&ctx)
                .await?
                .into_iter()
                .filter(|r| r.deleted.is_none() && filters::matches(r, &filters))
                .collect();
            super::list::sort(&mut list, "created-date", false);
            if start + max < list.len() {
                next = Some(token::encode(start + max));
            }
            list.into_iter()
                .skip(start)
                .take(max)
                .map(|r| r.arn)
                .collect()
        }
    };
    let mut values = Vec::new();
    let mut errors = Vec::new();
    for id in targets {
        match super::values::read_secret_value(&ctx, &id, None, None).await {
            Ok(v) => values.push(v.to_json()),
            Err(e) => errors.push(json!({
                "SecretId": id,
                "ErrorCode": e.code,
                "Message": e.message,
            })),
        }
    }
    let mut out = json!({ "SecretValues": values, "Errors": errors });
    if let Some(n) = next {
        set(&mut out, "NextToken", json!(n));
    }
    Ok(out)
}
