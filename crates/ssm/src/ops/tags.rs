//! AddTagsToResource, RemoveTagsFromResource, ListTagsForResource for parameters.
use std::sync::Arc;

use rampart_aws_types::AwsError;
use rampart_services::Ctx;
use rampart_services::common::{records, tags};
use rampart_store::Expect;
use serde_json::{Value, json};

use super::*;
use crate::record::Tag;

async fn resolve(
    ctx: &Ctx,
    action: &str,
    input: &Value,
    extra: &[(String, String)],
) -> Result<Param, AwsError> {
    let kind = str_field(input, "ResourceType").unwrap_or_default();
    if kind != "Parameter" {
        return Err(AwsError::not_implemented(&format!(
            "tags on the {kind} resource type"
        )));
    }
    let id = str_field(input, "ResourceId").unwrap_or_default();
    let name = names::name_from_input(id);
    let found = load(ctx, &name).await?;
    authorize_param(ctx, action, &name, found.as_ref().map(|(p, _)| p), extra)?;
    found.map(|(p, _)| p).ok_or_else(|| {
        ssm(
            "InvalidResourceId",
            format!("The resource ID \"{id}\" is not valid. Verify the ID and try again."),
        )
    })
}

fn tag_error(v: tags::TagViolation) -> AwsError {
    match v {
        tags::TagViolation::TooMany { .. } => ssm(
            "TooManyTagsError",
            "You exceeded the maximum number of tags allowed for this resource.",
        ),
        other => error::validation(other.message()),
    }
}

async fn modify_tags(
    ctx: &Ctx,
    p: &Param,
    f: impl Fn(&mut Vec<Tag>) -> Result<(), AwsError> + Send + 'static,
) -> Result<(), AwsError> {
    let key = record::param_key(ctx.account(), ctx.region(), &p.name);
    let name = p.name.clone();
    ctx.store()
        .write(move |tx| {
            let Some((mut current, version)) = records::get::<Param>(tx, &key)? else {
                return Err(error::not_found(&name));
            };
            f(&mut current.tags)?;
            records::put(tx, &key, &current, Expect::Version(version))?;
            Ok(())
        })
        .await
}

pub async fn add_tags_to_resource(ctx: Arc<Ctx>, input: Value) -> Result<Value, AwsError> {
    let new: Vec<(String, String)> = input
        .get("Tags")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .map(|t| {
                    (
                        str_field(t, "Key").unwrap_or_default().to_string(),
                        str_field(t, "Value").unwrap_or_default().to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let mut conds = Vec::new();
    for (k, v) in &new {
        conds.push((format!("aws:RequestTag/{k}"), v.clone()));
        conds.push(("aws:TagKeys".to_string(), k.clone()));
    }
    let p = resolve(&ctx, "ssm:AddTagsToResource", &input, &conds).await?;
    modify_tags(&ctx, &p, move |list| {
        let existing = list
            .iter()
            .map(|t| (t.key.clone(), t.value.clone()))
            .collect();
        let merged = tags::merge(&existing, &new, tags::MAX_TAGS).map_err(tag_error)?;
        *list = merged
            .into_iter()
            .map(|(key, value)| Tag { key, value })
            .collect();
        Ok(())
    })
    .await?;
    Ok(json!({}))
}

pub async fn remove_tags_from_resource(ctx: Arc<Ctx>, input: Value) -> Result<Value, AwsError> {
    let keys: Vec<String> = input
        .get("TagKeys")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    let conds: Vec<(String, String)> = keys
        .iter()
        .map(|k| ("aws:TagKeys".to_string(), k.clone()))
        .collect();
    let p = resolve(&ctx, "ssm:RemoveTagsFromResource", &input, &conds).await?;
    modify_tags(&ctx, &p, move |list| {
        list.retain(|t| !keys.contains(&t.key));
        Ok(())
    })
    .await?;
    Ok(json!({}))
}

pub async fn list_tags_for_resource(ctx: Arc<Ctx>, input: Value) -> Result<Value, AwsError> {
    let p = resolve(&ctx, "ssm:ListTagsForResource", &input, &[]).await?;
    Ok(json!({ "TagList": p.tags }))
}
