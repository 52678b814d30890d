//! GetParameter, GetParameters, GetParameterHistory.
use std::sync::Arc;

use rampart_aws_types::AwsError;
use rampart_services::Ctx;
use rampart_services::common::records;
use serde_json::{Value, json};

use super::*;
use crate::names::Selector;
use crate::reference;

/// The version a selector names (`None` when the parameter has no such version or label).
pub async fn select(
    ctx: &Ctx,
    p: &Param,
    selector: &Selector,
) -> Result<Option<Version>, AwsError> {
    let wanted = match selector {
        Selector::Latest => return Ok(Some(p.latest.clone())),
        Selector::Version(v) => *v,
        Selector::Label(l) => match p.labels.get(l) {
            Some(v) => *v,
            None => return Ok(None),
        },
    };
    if wanted == p.latest.version {
        return Ok(Some(p.latest.clone()));
    }
    if !p.versions.contains(&wanted) {
        return Ok(None);
    }
    let key = record::version_key(ctx.account(), ctx.region(), &p.name, wanted);
    let v: Option<(Version, u64)> = ctx.store().read(move |tx| records::get(tx, &key)).await?;
    Ok(v.map(|(v, _)| v))
}

pub async fn get_parameter(ctx: Arc<Ctx>, input: Value) -> Result<Value, AwsError> {
    let given = str_field(&input, "Name").unwrap_or_default().to_string();
    let with_decryption = bool_field(&input, "WithDecryption");
    if reference::is_reference(&given) {
        let p = reference::get(&ctx, &given, with_decryption).await?;
        return Ok(json!({ "Parameter": p }));
    }
    let (name, selector, selector_text) = names::split_selector(&given);
    let found = load_shared(&ctx, &name).await?;
    authorize_param(
        &ctx,
        "ssm:GetParameter",
        &name,
        found.as_ref().as_ref().map(|(p, _)| p),
        &[],
    )?;
    let Some((p, _)) = found.as_ref() else {
        return Err(error::not_found(&name));
    };
    let Some(v) = select(&ctx, p, &selector).await? else {
        let what = selector_text.unwrap_or_default();
        return Err(error::version_not_found(
            &name,
            what.trim_start_matches(':'),
        ));
    };
    ctx.record_resource(&p.arn, "AWS::SSM::Parameter");
    let out = parameter_json(&ctx, p, &v, with_decryption, selector_text.as_deref()).await?;
    Ok(json!({ "Parameter": out }))
}

pub async fn get_parameters(ctx: Arc<Ctx>, input: Value) -> Result<Value, AwsError> {
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
    let with_decryption = bool_field(&input, "WithDecryption");
    let mut found = Vec::new();
    for g in &given {
        if reference::is_reference(g) {
            found.push((g.clone(), None));
            continue;
        }
        let (name, selector, text) = names::split_selector(g);
        let p = load(&ctx, &name).await?;
        authorize_param(
            &ctx,
            "ssm:GetParameters",
            &name,
            p.as_ref().map(|(p, _)| p),
            &[],
        )?;
        found.push((g.clone(), p.map(|(p, _)| (p, selector, text))));
    }
    if given.is_empty() {
        ctx.authorize("ssm:GetParameters", "*", &[])?;
    }
    let mut params = Vec::new();
    let mut invalid = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (g, entry) in found {
        if !seen.insert(g.clone()) {
            continue;
        }
        if reference::is_reference(&g) {
            match reference::get(&ctx, &g, with_decryption).await {
                Ok(p) => params.push(p),
                Err(e) if e.code == "ParameterNotFound" => invalid.push(g),
                Err(e) => return Err(e),
            }
            continue;
        }
        match entry {
            Some((p, selector, text)) => match select(&ctx, &p, &selector).await? {
                Some(v) => {
                    ctx.record_resource(&p.arn, "AWS::SSM::Parameter");
                    params.push(
                        parameter_json(&ctx, &p, &v, with_decryption, text.as_deref()).await?,
                    );
                }
                None => invalid.push(g),
            },
            None => invalid.push(g),
        }
    }
    Ok(json!({ "Parameters": params, "InvalidParameters": invalid }))
}

pub async fn get_parameter_history(ctx: Arc<Ctx>, input: Value) -> Result<Value, AwsError> {
    let name = names::name_from_input(str_field(&input, "Name").unwrap_or_default());
    let found = load(&ctx, &name).await?;
    authorize_param(
        &ctx,
        "ssm:GetParameterHistory",
        &name,
        found.as_ref().map(|(p, _)| p),
        &[],
    )?;
    let Some((p, _)) = found else {
        return Err(error::not_found(&name));
    };
    let with_decryption = bool_field(&input, "WithDecryption");
    let max = input
        .get("MaxResults")
        .and_then(Value::as_u64)
        .map_or(50, |m| m.clamp(1, 50) as usize);
    let start = match str_field(&input, "NextToken") {
        Some(t) => token::decode(t).ok_or_else(error::invalid_next_token)?,
        None => 0,
    };
    let prefix = record::version_prefix(ctx.account(), ctx.region(), &p.name);
    let versions: Vec<Version> = ctx
        .store()
        .read(move |tx| {
            tx.scan_all(&prefix)?
                .into_iter()
                .map(|(k, r)| records::decode::<Version>(&k, &r.value))
                .collect::<Result<Vec<_>, AwsError>>()
        })
        .await?;
    let mut out = Vec::new();
    for v in versions.iter().skip(start).take(max) {
        let value = output_value(&ctx, &p.arn, v, with_decryption).await?;
        let mut e = json!({
            "Name": p.name,
            "Type": v.kind,
            "LastModifiedDate": v.modified,
            "LastModifiedUser": v.modified_by,
            "Value": value,
            "Version": v.version,
            "Labels": p.labels_of(v.version),
            "Tier": v.tier,
            "Policies": policies_json(v),
            "DataType": v.data_type,
        });
        if let Some(k) = &v.key_id {
            set(&mut e, "KeyId", json!(k));
        }
        if let Some(d) = &v.description {
            set(&mut e, "Description", json!(d));
        }
        if let Some(a) = &v.allowed_pattern {
            set(&mut e, "AllowedPattern", json!(a));
        }
        out.push(e);
    }
    let mut result = json!({ "Parameters": out });
    if start + max < versions.len() {
        set(&mut result, "NextToken", json!(token::encode(start + max)));
    }
    Ok(result)
}
