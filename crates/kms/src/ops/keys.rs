//! Keys: CreateKey, DescribeKey, ListKeys, UpdateKeyDescription, EnableKey, DisableKey,
//! ScheduleKeyDeletion, CancelKeyDeletion, and tags (TagResource, UntagResource,
//! ListResourceTags).
use std::collections::BTreeMap;
use std::sync::Arc;

use rampart_aws_types::AwsError;
use rampart_crypto::MasterKey;
use rampart_crypto::kms::{KeyId, KeyMaterial, KeySpec, KeyUsage};
use rampart_services::common::{input, pagination, records, tags};
use rampart_services::{Ctx, ResourcePolicy, ResourcePolicyKind};
use rampart_store::Expect;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{
    Loaded, Paging, Tag, key_metadata, load, now_secs, page_output, require_not_pending_deletion,
    tag_pairs, update_key,
};
use crate::authz::{Conditions, authorize_account, authorize_key};
use crate::cache;
use crate::error;
use crate::policy;
use crate::record::{ImportInfo, KeyRecord, KeyState, key_prefix, put_key};
use crate::resolve::{Aliases, key_arn};

const DAY: i64 = 86_400;

/// What a new key is made of.
pub struct NewKey<'a> {
    pub account: &'a str,
    pub region: &'a str,
    pub key_id: &'a str,
    pub now: i64,
    pub description: String,
    pub spec: KeySpec,
    pub usage: KeyUsage,
    pub origin: &'static str,
    pub key_manager: &'static str,
    pub policy: String,
    pub tags: BTreeMap<String, String>,
}

/// A new key record, with `material` sealed as its first key material (`None` for `EXTERNAL`
/// keys, which wait in `PendingImport`).
pub fn new_key_record(
    master: &MasterKey,
    new: NewKey<'_>,
    material: Option<&KeyMaterial>,
) -> Result<KeyRecord, AwsError> {
    let arn = key_arn(new.region, new.account, new.key_id);
    let id = KeyId::parse(new.key_id)?;
    let materials = match material {
        Some(m) => vec![cache::seal(master, &arn, &id, m, new.now, None)?],
        None => Vec::new(),
    };
    let external = new.origin == "EXTERNAL";
    Ok(KeyRecord {
        key_id: new.key_id.to_string(),
        account: new.account.to_string(),
        region: new.region.to_string(),
        arn,
        creation_date: new.now,
        description: new.description,
        key_spec: new.spec.as_str().to_string(),
        key_usage: new.usage.as_str().to_string(),
        origin: new.origin.to_string(),
        key_manager: new.key_manager.to_string(),
        state: if external {
            KeyState::PendingImport
        } else {
            KeyState::Enabled
        },
        deletion_date: None,
        pending_window_days: None,
        policy: new.policy,
        tags: new.tags,
        materials,
        rotation: None,
        on_demand_rotations: 0,
        import: external.then(ImportInfo::default),
        aliases: Vec::new(),
    })
}

pub fn tag_error(v: tags::TagViolation) -> AwsError {
    match v {
        tags::TagViolation::TooMany { .. } => error::kms("LimitExceededException", v.message()),
        other => error::kms("TagException", other.message()),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct CreateKeyInput {
    policy: Option<String>,
    description: Option<String>,
    key_usage: Option<String>,
    customer_master_key_spec: Option<String>,
    key_spec: Option<String>,
    origin: Option<String>,
    custom_key_store_id: Option<String>,
    bypass_policy_lockout_safety_check: Option<bool>,
    #[serde(default)]
    tags: Vec<Tag>,
    multi_region: Option<bool>,
    xks_key_id: Option<String>,
}

pub async fn create_key(ctx: Arc<Ctx>, input: Value) -> Result<Value, AwsError> {
    let i: CreateKeyInput = input::parse(input)?;
    if i.key_spec.is_some() && i.customer_master_key_spec.is_some() {
        return Err(AwsError::validation(
            "You cannot specify KeySpec and CustomerMasterKeySpec in the same request. CustomerMasterKeySpec is deprecated.",
        ));
    }
    let spec_text = i
        .key_spec
        .or(i.customer_master_key_spec)
        .unwrap_or_else(|| "SYMMETRIC_DEFAULT".into());
    let spec: KeySpec = spec_text.parse().map_err(|_| {
        error::unsupported(format!(
            "KeySpec {spec_text} is not supported in this region."
        ))
    })?;
    let usage = match i.key_usage.as_deref() {
        None => None,
        Some(u) => Some(u.parse::<KeyUsage>()?),
    };
    let usage = spec.resolve_usage(usage)?;
    let origin: &'static str = match i.origin.as_deref().unwrap_or("AWS_KMS") {
        "AWS_KMS" => "AWS_KMS",
        "EXTERNAL" => "EXTERNAL",
        other => {
            return Err(error::unsupported(format!(
                "Origin {other} requires a custom key store, which this server does not offer."
            )));
        }
    };
    if i.custom_key_store_id.is_some() || i.xks_key_id.is_some() {
        return Err(error::kms(
            "CustomKeyStoreNotFoundException",
            "Custom key stores are not offered by this server.",
        ));
    }
    if i.multi_region == Some(true) {
        return Err(error::unsupported(
            "Multi-Region keys are not supported by this server.",
        ));
    }
    let request_tags = tag_pairs(&i.tags);

    let mut conds = Conditions::for_account(&ctx);
    conds.push("kms:KeySpec", spec.as_str());
    conds.push("kms:KeyUsage", usage.as_str());
    conds.push("kms:KeyOrigin", origin);
    conds.push("kms:MultiRegion", "false");
    conds.request_tags(&request_tags);
    authorize_account(&ctx, "CreateKey", &conds)?;

    let tags = tags::merge(&BTreeMap::new(), &request_tags, tags::MAX_TAGS).map_err(tag_error)?;
    let account = ctx.account().to_string();
    let region = ctx.region().to_string();
    let key_id = rampart_aws_types::ids::request_id()?;
    let arn = key_arn(&region, &account, &key_id);
    let policy_doc = match i.policy {
        Some(p) => {
            policy::validate(&p)?;
            if i.bypass_policy_lockout_safety_check != Some(true) {
                lockout_check(&ctx, &arn, &account, &p)?;
            }
            p
        }
        None => policy::default_key_policy(&account),
    };
    let material = if origin == "AWS_KMS" {
        // RSA-4096 generation takes a while: keep it off the async workers.
        let m = tokio::task::spawn_blocking(move || KeyMaterial::generate(spec))
            .await
            .map_err(|_| error::internal())??;
        Some(m)
    } else {
        None
    };
    let key = new_key_record(
        &ctx.node.master_key,
        NewKey {
            account: &account,
            region: &region,
            key_id: &key_id,
            now: now_secs(&ctx),
            description: i.description.unwrap_or_default(),
            spec,
            usage,
            origin,
            key_manager: "CUSTOMER",
            policy: policy_doc,
            tags,
        },
        material.as_ref(),
    )?;
    let stored = key.clone();
    ctx.store()
        .write(move |tx| put_key(tx, None, &stored, Expect::Absent))
        .await?;
    ctx.record_resource(&key.arn, "AWS::KMS::Key");
    Ok(json!({ "KeyMetadata": key_metadata(&key) }))
}

/// AWS's lockout safety check: the principal making the request must still be allowed to
/// `PutKeyPolicy` under the new policy.
pub fn lockout_check(ctx: &Ctx, arn: &str, account: &str, document: &str) -> Result<(), AwsError> {
    let conds = Conditions::for_account(ctx);
    ctx.authorize_on(
        "kms:PutKeyPolicy",
        arn,
        account,
        &conds.pairs(),
        Some(ResourcePolicy {
            document,
            kind: ResourcePolicyKind::KeyPolicy,
        }),
    )
    .map_err(|_| {
        error::malformed_policy(
            "The new key policy will not allow you to update the key policy in the future.",
        )
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct KeyIdInput {
    key_id: String,
}

pub async fn describe_key(ctx: Arc<Ctx>, input: Value) -> Result<Value, AwsError> {
    let i: KeyIdInput = input::parse(input)?;
    let l = load(&ctx, &i.key_id, Aliases::Accepted).await?;
    authorize_key(
        &ctx,
        "DescribeKey",
        &l.key,
        &Conditions::for_loaded(&ctx, &l),
        &l.grants,
        &BTreeMap::new(),
    )?;
    Ok(json!({ "KeyMetadata": key_metadata(&l.key) }))
}

pub async fn list_keys(ctx: Arc<Ctx>, input: Value) -> Result<Value, AwsError> {
    let p: Paging = input::parse(input)?;
    authorize_account(&ctx, "ListKeys", &Conditions::for_account(&ctx))?;
    let prefix = key_prefix(ctx.account(), ctx.region());
    let limit = p.limit.unwrap_or(100);
    let (items, next) = ctx
        .store()
        .read(move |tx| {
            pagination::page(
                tx,
                &prefix,
                p.marker.as_deref(),
                limit,
                error::invalid_marker,
                |_, _| true,
            )
        })
        .await?;
    let mut keys = Vec::new();
    for (k, r) in items {
        let key: KeyRecord = records::decode(&k, &r.value)?;
        keys.push(json!({ "KeyId": key.key_id, "KeyArn": key.arn }));
    }
    Ok(page_output("Keys", keys, next))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct UpdateDescriptionInput {
    key_id: String,
    description: String,
}

pub async fn update_key_description(ctx: Arc<Ctx>, input: Value) -> Result<Value, AwsError> {
    let i: UpdateDescriptionInput = input::parse(input)?;
    let l = load_for_management(&ctx, &i.key_id, "UpdateKeyDescription").await?;
    require_not_pending_deletion(&l.key)?;
    refuse_aws_managed(&l.key)?;
    let description = i.description;
    update_key(&ctx, &l, move |k| {
        k.description = description.clone();
        Ok(())
    })
    .await?;
    Ok(json!({}))
}

/// Loads a key named by key id or key ARN only, and authorizes `operation` on it.
pub async fn load_for_management(
    ctx: &Ctx,
    key_id: &str,
    operation: &str,
) -> Result<Arc<Loaded>, AwsError> {
    let l = load(ctx, key_id, Aliases::Refused).await?;
    authorize_key(
        ctx,
        operation,
        &l.key,
        &Conditions::for_loaded(ctx, &l),
        &l.grants,
        &BTreeMap::new(),
    )?;
    Ok(l)
}

/// Customers cannot manage AWS managed keys.
pub fn refuse_aws_managed(key: &KeyRecord) -> Result<(), AwsError> {
    if key.key_manager == "AWS" {
        return Err(error::unsupported(format!(
            "{} is an AWS managed key. You cannot perform this operation on an AWS managed key.",
            key.arn
        )));
    }
    Ok(())
}

pub async fn enable_key(ctx: Arc<Ctx>, input: Value) -> Result<Value, AwsError> {
    let i: KeyIdInput = input::parse(input)?;
    let l = load_for_management(&ctx, &i.key_id, "EnableKey").await?;
    refuse_aws_managed(&l.key)?;
    update_key(&ctx, &l, |k| match k.state {
        KeyState::Enabled | KeyState::Disabled => {
            k.state = KeyState::Enabled;
            Ok(())
        }
        KeyState::PendingDeletion => Err(error::invalid_state(format!(
            "{} is pending deletion.",
            k.arn
        ))),
        KeyState::PendingImport => Err(error::invalid_state(format!(
            "{} is pending import.",
            k.arn
        ))),
    })
    .await?;
    Ok(json!({}))
}

pub async fn disable_key(ctx: Arc<Ctx>, input: Value) -> Result<Value, AwsError> {
    let i: KeyIdInput = input::parse(input)?;
    let l = load_for_management(&ctx, &i.key_id, "DisableKey").await?;
    refuse_aws_managed(&l.key)?;
    update_key(&ctx, &l, |k| match k.state {
        KeyState::Enabled | KeyState::Disabled => {
            k.state = KeyState::Disabled;
            Ok(())
        }
        KeyState::PendingDeletion => Err(error::invalid_state(format!(
            "{} is pending deletion.",
            k.arn
        ))),
        KeyState::PendingImport => Err(error::invalid_state(format!(
            "{} is pending import.",
            k.arn
        ))),
    })
    .await?;
    Ok(json!({}))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ScheduleInput {
    key_id: String,
    pending_window_in_days: Option<i64>,
}

pub async fn schedule_key_deletion(ctx: Arc<Ctx>, input: Value) -> Result<Value, AwsError> {
    let i: ScheduleInput = input::parse(input)?;
    let days = i.pending_window_in_days.unwrap_or(30);
    let l = load_for_management(&ctx, &i.key_id, "ScheduleKeyDeletion").await?;
    if days < 7 {
        return Err(AwsError::validation(format!(
            "1 validation error detected: Value '{days}' at 'pendingWindowInDays' failed to satisfy constraint: Member must have value greater than or equal to 7"
        )));
    }
    if days > 30 {
        return Err(AwsError::validation(format!(
            "1 validation error detected: Value '{days}' at 'pendingWindowInDays' failed to satisfy constraint: Member must have value less than or equal to 30"
        )));
    }
    refuse_aws_managed(&l.key)?;
    let deletion = now_secs(&ctx).saturating_add(days.saturating_mul(DAY));
    let key = update_key(&ctx, &l, move |k| {
        if k.state == KeyState::PendingDeletion {
            return Err(error::invalid_state(format!(
                "{} is pending deletion.",
                k.arn
            )));
        }
        k.state = KeyState::PendingDeletion;
        k.deletion_date = Some(deletion);
        k.pending_window_days = Some(days);
        Ok(())
    })
    .await?;
    Ok(json!({
        "KeyId": key.arn,
        "DeletionDate": deletion,
        "KeyState": "PendingDeletion",
        "PendingWindowInDays": days,
    }))
}

pub async fn cancel_key_deletion(ctx: Arc<Ctx>, input: Value) -> Result<Value, AwsError> {
    let i: KeyIdInput = input::parse(input)?;
    let l = load_for_management(&ctx, &i.key_id, "CancelKeyDeletion").await?;
    let key = update_key(&ctx, &l, |k| {
        if k.state != KeyState::PendingDeletion {
            return Err(error::invalid_state(format!(
                "{} is not pending deletion.",
                k.arn
            )));
        }
        // AWS returns a cancelled key disabled; an imported key without material stays pending import.
        k.state = if k.origin == "EXTERNAL" && k.materials.is_empty() {
            KeyState::PendingImport
        } else {
            KeyState::Disabled
        };
        k.deletion_date = None;
        k.pending_window_days = None;
        Ok(())
    })
    .await?;
    Ok(json!({ "KeyId": key.arn }))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct TagResourceInput {
    key_id: String,
    tags: Vec<Tag>,
}

pub async fn tag_resource(ctx: Arc<Ctx>, input: Value) -> Result<Value, AwsError> {
    let i: TagResourceInput = input::parse(input)?;
    let l = load(&ctx, &i.key_id, Aliases::Refused).await?;
    let new_tags = tag_pairs(&i.tags);
    let mut conds = Conditions::for_loaded(&ctx, &l);
    conds.request_tags(&new_tags);
    authorize_key(&ctx, "TagResource", &l.key, &conds, &[], &BTreeMap::new())?;
    require_not_pending_deletion(&l.key)?;
    refuse_aws_managed(&l.key)?;
    update_key(&ctx, &l, move |k| {
        k.tags = tags::merge(&k.tags, &new_tags, tags::MAX_TAGS).map_err(tag_error)?;
        Ok(())
    })
    .await?;
    Ok(json!({}))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct UntagResourceInput {
    key_id: String,
    tag_keys: Vec<String>,
}

pub async fn untag_resource(ctx: Arc<Ctx>, input: Value) -> Result<Value, AwsError> {
    let i: UntagResourceInput = input::parse(input)?;
    let l = load(&ctx, &i.key_id, Aliases::Refused).await?;
    let mut conds = Conditions::for_loaded(&ctx, &l);
    for k in &i.tag_keys {
        conds.push("aws:TagKeys", k);
    }
    authorize_key(&ctx, "UntagResource", &l.key, &conds, &[], &BTreeMap::new())?;
    require_not_pending_deletion(&l.key)?;
    refuse_aws_managed(&l.key)?;
    let keys = i.tag_keys;
    update_key(&ctx, &l, move |k| {
        for t in &keys {
            k.tags.remove(t);
        }
        Ok(())
    })
    .await?;
    Ok(json!({}))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ListTagsInput {
    key_id: String,
    limit: Option<usize>,
    marker: Option<String>,
}

pub async fn list_resource_tags(ctx: Arc<Ctx>, input: Value) -> Result<Value, AwsError> {
    let i: ListTagsInput = input::parse(input)?;
    let l = load_for_management(&ctx, &i.key_id, "ListResourceTags").await?;
    let all: Vec<(&String, &String)> = l.key.tags.iter().collect();
    let (page, next) = slice_page(&all, i.marker.as_deref(), i.limit.unwrap_or(50))?;
    let tags = page
        .iter()
        .map(|(k, v)| json!({ "TagKey": k, "TagValue": v }))
        .collect();
    Ok(page_output("Tags", tags, next))
}

/// Pages through a list held in one record: the marker is the index to continue at.
pub fn slice_page<'a, T>(
    all: &'a [T],
    marker: Option<&str>,
    limit: usize,
) -> Result<(&'a [T], Option<String>), AwsError> {
    let start = match marker {
        None => 0,
        Some(m) => m
            .strip_prefix("i")
            .and_then(|n| n.parse::<usize>().ok())
            .filter(|n| *n <= all.len())
            .ok_or_else(error::invalid_marker)?,
    };
    let limit = limit.max(1);
    let end = start.saturating_add(limit).min(all.len());
    let next = (end < all.len()).then(|| format!("i{end}"));
    Ok((all.get(start..end).unwrap_or(&[]), next))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct MultiRegionInput {
    key_id: String,
}

/// ReplicateKey and UpdatePrimaryRegion: this server makes no multi-Region keys, so every key is
/// one for which AWS answers `UnsupportedOperationException`.
pub async fn replicate_key(ctx: Arc<Ctx>, input: Value) -> Result<Value, AwsError> {
    not_multi_region(ctx, input, "ReplicateKey").await
}

pub async fn update_primary_region(ctx: Arc<Ctx>, input: Value) -> Result<Value, AwsError> {
    not_multi_region(ctx, input, "UpdatePrimaryRegion").await
}

async fn not_multi_region(ctx: Arc<Ctx>, input: Value, operation: &str) -> Result<Value, AwsError> {
    let i: MultiRegionInput = input::parse(input)?;
    let l = load_for_management(&ctx, &i.key_id, operation).await?;
    Err(error::unsupported(format!(
        "{} is not a multi-Region key.",
        l.key.arn
    )))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DescribeStoresInput {
    custom_key_store_id: Option<String>,
    custom_key_store_name: Option<String>,
}

/// DescribeCustomKeyStores: this server offers no custom key stores, so there are none to list.
pub async fn describe_custom_key_stores(ctx: Arc<Ctx>, input: Value) -> Result<Value, AwsError> {
    let i: DescribeStoresInput = input::parse(input)?;
    authorize_account(
        &ctx,
        "DescribeCustomKeyStores",
        &Conditions::for_account(&ctx),
    )?;
    if let Some(name) = i.custom_key_store_id.or(i.custom_key_store_name) {
        return Err(error::kms(
            "CustomKeyStoreNotFoundException",
            format!(
                "Custom key store {} does not exist.",
                error::truncate(&name)
            ),
        ));
    }
    Ok(json!({ "CustomKeyStores": [], "Truncated": false }))
}
