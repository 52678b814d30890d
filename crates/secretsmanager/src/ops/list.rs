//! ListSecrets: filters, sorting, `IncludePlannedDeletion`, pagination.
use std::sync::Arc;

use rampart_aws_types::AwsError;
use rampart_services::Ctx;
use serde_json::{Value, json};

use super::*;
use crate::filters;
use crate::record::{SecretRecord, secret_prefix};

/// Every secret of the caller's account and region (in name order).
pub async fn all_secrets(ctx: &Ctx) -> Result<Vec<SecretRecord>, AwsError> {
    let prefix = secret_prefix(ctx.account(), ctx.region());
    ctx.store()
        .read(move |tx| {
            tx.scan_all(&prefix)?
                .into_iter()
                .map(|(k, r)| rampart_services::common::records::decode(&k, &r.value))
                .collect::<Result<Vec<SecretRecord>, AwsError>>()
        })
        .await
}

pub fn sort(list: &mut [SecretRecord], by: &str, descending: bool) {
    list.sort_by(|a, b| {
        let o = match by {
            "name" => a.name.cmp(&b.name),
            "last-accessed-date" => a
                .last_accessed
                .unwrap_or(0.0)
                .total_cmp(&b.last_accessed.unwrap_or(0.0)),
            "last-changed-date" => a.last_changed.total_cmp(&b.last_changed),
            _ => a.created.total_cmp(&b.created),
        }
        .then_with(|| a.name.cmp(&b.name));
        if descending { o.reverse() } else { o }
    });
}

pub async fn list_secrets(ctx: Arc<Ctx>, input: Value) -> Result<Value, AwsError> {
    ctx.authorize("secretsmanager:ListSecrets", "*", &[])?;
    let include_deleted = input
        .get("IncludePlannedDeletion")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let filters = filters::parse(&input);
    let max = input
        .get("MaxResults")
        .and_then(Value::as_u64)
        .map_or(100, |m| m.clamp(1, 100) as usize);
    let start = match str_field(&input, "NextToken") {
        Some(t) => token::decode(t).ok_or_else(error::invalid_token)?,
        None => 0,
    };
    let mut list: Vec<SecretRecord> = all_secrets(&ctx)
        .await?
        .into_iter()
        .filter(|r| include_deleted || r.deleted.is_none())
        .filter(|r| filters::matches(r, &filters))
        .collect();
    let by = str_field(&input, "SortBy").unwrap_or("created-date");
    let descending = str_field(&input, "SortOrder") == Some("desc");
    sort(&mut list, by, descending);
    let page: Vec<Value> = list
        .iter()
        .skip(start)
        .take(max)
        .map(|r| super::secrets::describe_json(r, true, true))
        .collect();
    let mut out = json!({ "SecretList": page });
    if start + max < list.len() {
        set(&mut out, "NextToken", json!(token::encode(start + max)));
    }
    Ok(out)
}
