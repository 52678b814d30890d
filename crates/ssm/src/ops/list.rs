//! GetParametersByPath and DescribeParameters.
use std::sync::Arc;

use rampart_aws_types::AwsError;
use rampart_services::Ctx;
use rampart_services::common::{keys, pagination, records};
use serde_json::{Value, json};

use super::*;
use crate::filters::{self, Operation};

pub async fn get_parameters_by_path(ctx: Arc<Ctx>, input: Value) -> Result<Value, AwsError> {
    let path = str_field(&input, "Path").unwrap_or_default().to_string();
    let arn = format!(
        "arn:aws:ssm:{}:{}:parameter{}",
        ctx.region(),
        ctx.account(),
        if path.starts_with('/') {
            path.clone()
        } else {
            format!("/{path}")
        }
    );
    ctx.authorize("ssm:GetParametersByPath", &arn, &[])?;
    if !path.starts_with('/') || (path.len() > 1 && path.ends_with('/') && path.ends_with("//")) {
        return Err(error::validation(
            "The parameter path must begin with a forward slash (/).",
        ));
    }
    if names::depth(path.trim_end_matches('/')) > names::MAX_DEPTH {
        return Err(ssm(
            "HierarchyLevelLimitExceededException",
            format!(
                "A hierarchy can have a maximum of {} levels.",
                names::MAX_DEPTH
            ),
        ));
    }
    let recursive = bool_field(&input, "Recursive");
    let with_decryption = bool_field(&input, "WithDecryption");
    let filters = filters::parse(&input, Operation::ByPath)?;
    let max = input
        .get("MaxResults")
        .and_then(Value::as_u64)
        .map_or(10, |m| m.clamp(1, 10) as usize);
    let name_prefix = if path.ends_with('/') {
        path.clone()
    } else {
        format!("{path}/")
    };
    let scan_prefix = format!(
        "{}{}",
        record::param_prefix(ctx.account(), ctx.region()),
        keys::escape(&name_prefix)
    );
    let token = str_field(&input, "NextToken").map(str::to_string);
    let (items, next) = ctx
        .store()
        .read(move |tx| {
            let (items, next) = pagination::page(
                tx,
                &scan_prefix,
                token.as_deref(),
                max,
                error::invalid_next_token,
                |key, rec| {
                    let Ok(p) = records::decode::<Param>(key, &rec.value) else {
                        return false;
                    };
                    let rest = p.name.strip_prefix(&name_prefix).unwrap_or_default();
                    (recursive || !rest.contains('/')) && filters::matches(&p, &filters)
                },
            )?;
            let label_filters = filters.clone();
            let params = items
                .into_iter()
                .map(|(k, r)| {
                    records::decode::<Param>(&k, &r.value)
                        .map(|p| (filters::labelled_version(&p, &label_filters), p))
                })
                .collect::<Result<Vec<_>, AwsError>>()?;
            Ok::<_, AwsError>((params, next))
        })
        .await?;
    let mut out = Vec::new();
    for (labelled, p) in &items {
        let version = match labelled {
            Some(v) => super::get::select(&ctx, p, &names::Selector::Version(*v))
                .await?
                .unwrap_or_else(|| p.latest.clone()),
            None => p.latest.clone(),
        };
        out.push(parameter_json(&ctx, p, &version, with_decryption, None).await?);
    }
    let mut result = json!({ "Parameters": out });
    if let Some(n) = next {
        set(&mut result, "NextToken", json!(n));
    }
    Ok(result)
}

pub async fn describe_parameters(ctx: Arc<Ctx>, input: Value) -> Result<Value, AwsError> {
    ctx.authorize("ssm:DescribeParameters", "*", &[])?;
    if input.get("Filters").is_some() && input.get("ParameterFilters").is_some() {
        return Err(error::validation(
            "You can use either Filters or ParameterFilters in a single request.",
        ));
    }
    let mut filters = filters::parse(&input, Operation::Describe)?;
    filters.extend(filters::parse_legacy(&input));
    let max = input
        .get("MaxResults")
        .and_then(Value::as_u64)
        .map_or(50, |m| m.clamp(1, 50) as usize);
    if bool_field(&input, "Shared") {
        // Nothing is shared with this account through RAM in Rampart.
        return Ok(json!({ "Parameters": [] }));
    }
    let prefix = record::param_prefix(ctx.account(), ctx.region());
    let token = str_field(&input, "NextToken").map(str::to_string);
    let (items, next) = ctx
        .store()
        .read(move |tx| {
            let (items, next) = pagination::page(
                tx,
                &prefix,
                token.as_deref(),
                max,
                error::invalid_next_token,
                |key, rec| {
                    records::decode::<Param>(key, &rec.value)
                        .is_ok_and(|p| filters::matches(&p, &filters))
                },
            )?;
            let params = items
                .into_iter()
                .map(|(k, r)| records::decode::<Param>(&k, &r.value))
                .collect::<Result<Vec<_>, AwsError>>()?;
            Ok::<_, AwsError>((params, next))
        })
        .await?;
    let list: Vec<Value> = items.iter().map(metadata_json).collect();
    let mut result = json!({ "Parameters": list });
    if let Some(n) = next {
        set(&mut result, "NextToken", json!(n));
    }
    Ok(result)
}
