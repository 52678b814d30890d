//! Rotation: EnableKeyRotation, DisableKeyRotation, GetKeyRotationStatus, RotateKeyOnDemand,
//! ListKeyRotations. Rotating adds a key material; new ciphertexts use the newest, old ones
//! name theirs and still decrypt. Automatic rotation is done by the background tick.
use std::sync::Arc;

use rampart_aws_types::AwsError;
use rampart_crypto::MasterKey;
use rampart_crypto::kms::{KeyId, KeyMaterial, KeySpec};
use rampart_services::Ctx;
use rampart_services::common::input;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::keys::{load_for_management, refuse_aws_managed, slice_page};
use super::{now_secs, page_output, require_enabled, require_not_pending_deletion, update_key};
use crate::cache;
use crate::error;
use crate::record::{KeyRecord, KeyState, RotationConfig};

const DAY: i64 = 86_400;
pub const DEFAULT_PERIOD_DAYS: i64 = 365;
pub const MAX_ON_DEMAND_ROTATIONS: u32 = 10;

/// Only symmetric encryption keys with KMS-generated material rotate.
fn require_rotatable(key: &KeyRecord) -> Result<(), AwsError> {
    if key.key_spec != "SYMMETRIC_DEFAULT" {
        return Err(error::unsupported(format!(
            "{} key spec {} does not support key rotation. Only symmetric encryption KMS keys do.",
            key.arn, key.key_spec
        )));
    }
    if key.origin != "AWS_KMS" {
        return Err(error::unsupported(format!(
            "{} has imported key material; automatic rotation is not supported for it.",
            key.arn
        )));
    }
    Ok(())
}

fn state_for_rotation_change(key: &KeyRecord) -> Result<(), AwsError> {
    match key.state {
        KeyState::Disabled => Err(error::disabled(&key.arn)),
        _ => require_enabled(key),
    }
}

/// Adds fresh key material to `key` and makes it current.
pub fn add_material(
    master: &MasterKey,
    key: &mut KeyRecord,
    now: i64,
    rotation_type: &str,
) -> Result<(), AwsError> {
    let material = KeyMaterial::generate(KeySpec::SYMMETRIC_DEFAULT)?;
    let id = KeyId::parse(&key.key_id)?;
    let entry = cache::seal(master, &key.arn, &id, &material, now, Some(rotation_type))?;
    key.materials.push(entry);
    Ok(())
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct EnableInput {
    key_id: String,
    rotation_period_in_days: Option<i64>,
}

pub async fn enable_key_rotation(ctx: Arc<Ctx>, input: Value) -> Result<Value, AwsError> {
    let i: EnableInput = input::parse(input)?;
    let l = load_for_management(&ctx, &i.key_id, "EnableKeyRotation").await?;
    let period = i.rotation_period_in_days.unwrap_or(DEFAULT_PERIOD_DAYS);
    if !(90..=2560).contains(&period) {
        return Err(AwsError::validation(format!(
            "1 validation error detected: Value '{period}' at 'rotationPeriodInDays' failed to satisfy constraint: Member must have value between 90 and 2560"
        )));
    }
    state_for_rotation_change(&l.key)?;
    require_rotatable(&l.key)?;
    refuse_aws_managed(&l.key)?;
    let now = now_secs(&ctx);
    update_key(&ctx, &l, move |k| {
        // The period counts from the last rotation (or creation), as AWS counts it.
        let last = k.current_material().map_or(k.creation_date, |m| m.created);
        let next = last.saturating_add(period.saturating_mul(DAY)).max(now);
        k.rotation = Some(RotationConfig {
            period_days: period,
            next_rotation: next,
        });
        Ok(())
    })
    .await?;
    Ok(json!({}))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct KeyIdInput {
    key_id: String,
}

pub async fn disable_key_rotation(ctx: Arc<Ctx>, input: Value) -> Result<Value, AwsError> {
    let i: KeyIdInput = input::parse(input)?;
    let l = load_for_management(&ctx, &i.key_id, "DisableKeyRotation").await?;
    state_for_rotation_change(&l.key)?;
    require_rotatable(&l.key)?;
    refuse_aws_managed(&l.key)?;
    update_key(&ctx, &l, |k| {
        k.rotation = None;
        Ok(())
    })
    .await?;
    Ok(json!({}))
}

pub async fn get_key_rotation_status(ctx: Arc<Ctx>, input: Value) -> Result<Value, AwsError> {
    let i: KeyIdInput = input::parse(input)?;
    let l = load_for_management(&ctx, &i.key_id, "GetKeyRotationStatus").await?;
    if l.key.state == KeyState::PendingImport && l.key.key_spec == "SYMMETRIC_DEFAULT" {
        return Err(error::invalid_state(format!(
            "{} is pending import.",
            l.key.arn
        )));
    }
    if l.key.key_spec != "SYMMETRIC_DEFAULT" {
        require_rotatable(&l.key)?;
    }
    let mut out = Map::new();
    out.insert("KeyRotationEnabled".into(), json!(l.key.rotation.is_some()));
    out.insert("KeyId".into(), json!(l.key.arn));
    if let Some(r) = &l.key.rotation {
        out.insert("RotationPeriodInDays".into(), json!(r.period_days));
        out.insert("NextRotationDate".into(), json!(r.next_rotation));
    }
    Ok(Value::Object(out))
}

pub async fn rotate_key_on_demand(ctx: Arc<Ctx>, input: Value) -> Result<Value, AwsError> {
    let i: KeyIdInput = input::parse(input)?;
    let l = load_for_management(&ctx, &i.key_id, "RotateKeyOnDemand").await?;
    state_for_rotation_change(&l.key)?;
    require_rotatable(&l.key)?;
    refuse_aws_managed(&l.key)?;
    if l.key.on_demand_rotations >= MAX_ON_DEMAND_ROTATIONS {
        return Err(error::kms(
            "LimitExceededException",
            format!(
                "{} has reached the maximum of {MAX_ON_DEMAND_ROTATIONS} on-demand rotations.",
                l.key.arn
            ),
        ));
    }
    let now = now_secs(&ctx);
    let master = ctx.node.master_key.clone();
    let key = update_key(&ctx, &l, move |k| {
        add_material(&master, k, now, "ON_DEMAND")?;
        k.on_demand_rotations = k.on_demand_rotations.saturating_add(1);
        Ok(())
    })
    .await?;
    Ok(json!({ "KeyId": key.key_id }))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ListRotationsInput {
    key_id: String,
    include_key_material: Option<String>,
    limit: Option<usize>,
    marker: Option<String>,
}

pub async fn list_key_rotations(ctx: Arc<Ctx>, input: Value) -> Result<Value, AwsError> {
    let i: ListRotationsInput = input::parse(input)?;
    let l = load_for_management(&ctx, &i.key_id, "ListKeyRotations").await?;
    require_not_pending_deletion(&l.key)?;
    require_rotatable(&l.key)?;
    let all_material = i.include_key_material.as_deref() == Some("ALL_KEY_MATERIAL");
    let current = l.key.current_material().map(|m| m.id.clone());
    let entries: Vec<Value> = l
        .key
        .materials
        .iter()
        .filter(|m| all_material || m.rotation_type.is_some())
        .map(|m| {
            let mut e = Map::new();
            e.insert("KeyId".into(), json!(l.key.key_id));
            e.insert("KeyMaterialId".into(), json!(m.id));
            e.insert(
                "KeyMaterialState".into(),
                json!(if current.as_deref() == Some(m.id.as_str()) {
                    "CURRENT"
                } else {
                    "NON_CURRENT"
                }),
            );
            if let Some(t) = &m.rotation_type {
                e.insert("RotationDate".into(), json!(m.created));
                e.insert("RotationType".into(), json!(t));
            }
            Value::Object(e)
        })
        .collect();
    let (page, next) = slice_page(&entries, i.marker.as_deref(), i.limit.unwrap_or(100))?;
    Ok(page_output("Rotations", page.to_vec(), next))
}
