//! LabelParameterVersion and UnlabelParameterVersion: a label names one version of a parameter
//! at a time (labelling another version moves it); a version carries at most 10 labels;
//! labels that break the naming rules come back in `InvalidLabels`.
use std::sync::Arc;

use rampart_aws_types::AwsError;
use rampart_services::Ctx;
use rampart_services::common::records;
use rampart_store::Expect;
use serde_json::{Value, json};

use super::*;
use crate::record::MAX_LABELS_PER_VERSION;

fn labels_input(input: &Value) -> Vec<String> {
    input
        .get("Labels")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

async fn resolve(ctx: &Ctx, action: &str, input: &Value) -> Result<(Param, u64), AwsError> {
    let name = names::name_from_input(str_field(input, "Name").unwrap_or_default());
    let found = load(ctx, &name).await?;
    authorize_param(ctx, action, &name, found.as_ref().map(|(p, _)| p), &[])?;
    found.ok_or_else(|| error::not_found(&name))
}

/// Re-reads the parameter and applies `f` (fails with TooManyUpdates if it changed meanwhile).
async fn update<T: Send + 'static>(
    ctx: &Ctx,
    p: &Param,
    seen: u64,
    f: impl FnMut(&mut Param) -> Result<T, AwsError> + Send + 'static,
) -> Result<T, AwsError> {
    let key = record::param_key(ctx.account(), ctx.region(), &p.name);
    let mut f = f;
    ctx.store()
        .write(move |tx| {
            let Some((mut current, version)) = records::get::<Param>(tx, &key)? else {
                return Err(error::not_found(&key));
            };
            if version != seen {
                return Err(ssm(
                    "TooManyUpdates",
                    "There are concurrent updates for the resource that you're attempting to update. Try again later.",
                ));
            }
            let out = f(&mut current)?;
            records::put(tx, &key, &current, Expect::Version(version))?;
            Ok(out)
        })
        .await
}

pub async fn label_parameter_version(ctx: Arc<Ctx>, input: Value) -> Result<Value, AwsError> {
    let (p, seen) = resolve(&ctx, "ssm:LabelParameterVersion", &input).await?;
    let version = input
        .get("ParameterVersion")
        .and_then(Value::as_u64)
        .unwrap_or(p.latest.version);
    if !p.versions.contains(&version) {
        return Err(error::version_not_found(&p.name, &version.to_string()));
    }
    let labels = labels_input(&input);
    let (valid, invalid): (Vec<String>, Vec<String>) =
        labels.into_iter().partition(|l| names::valid_label(l));
    let mut after: std::collections::BTreeSet<String> = p.labels_of(version).into_iter().collect();
    after.extend(valid.iter().cloned());
    if after.len() > MAX_LABELS_PER_VERSION {
        return Err(ssm(
            "ParameterVersionLabelLimitExceeded",
            format!(
                "A parameter version can have maximum {MAX_LABELS_PER_VERSION} labels. Move one or more labels to another version and try again."
            ),
        ));
    }
    update(&ctx, &p, seen, move |current| {
        for l in &valid {
            current.labels.insert(l.clone(), version);
        }
        Ok(())
    })
    .await?;
    Ok(json!({ "InvalidLabels": invalid, "ParameterVersion": version }))
}

pub async fn unlabel_parameter_version(ctx: Arc<Ctx>, input: Value) -> Result<Value, AwsError> {
    let (p, seen) = resolve(&ctx, "ssm:UnlabelParameterVersion", &input).await?;
    let version = input
        .get("ParameterVersion")
        .and_then(Value::as_u64)
        .unwrap_or_default();
    if !p.versions.contains(&version) {
        return Err(error::version_not_found(&p.name, &version.to_string()));
    }
    let labels = labels_input(&input);
    let (removed, invalid): (Vec<String>, Vec<String>) = labels
        .into_iter()
        .partition(|l| p.labels.get(l) == Some(&version));
    let r = removed.clone();
    update(&ctx, &p, seen, move |current| {
        for l in &r {
            current.labels.remove(l);
        }
        Ok(())
    })
    .await?;
    Ok(json!({ "RemovedLabels": removed, "InvalidLabels": invalid }))
}
