//! Bring your own key: GetParametersForImport, ImportKeyMaterial (with ValidTo expiry, enforced
//! by the background tick), DeleteImportedKeyMaterial. Keys created with `Origin` `EXTERNAL`
//! wait in `PendingImport` until material is imported.
use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use rampart_aws_types::AwsError;
use rampart_crypto::kms::{self as core, KeyId, KeySpec, WrappingAlgorithm, WrappingKeySpec};
use rampart_services::Ctx;
use rampart_services::common::input::{self, blob};
use serde::Deserialize;
use serde_json::{Value, json};

use super::keys::load_for_management;
use super::{now_secs, require_not_pending_deletion, update_key};
use crate::cache;
use crate::error;
use crate::record::{ImportInfo, KeyRecord, KeyState};

const MAX_VALID_TO_SECS: i64 = 365 * 86_400;

fn require_external(key: &KeyRecord) -> Result<(), AwsError> {
    if key.origin != "EXTERNAL" {
        return Err(error::unsupported(format!(
            "{} origin is {}, which is not valid for this operation. Import key material only into keys with origin EXTERNAL.",
            key.arn, key.origin
        )));
    }
    Ok(())
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ParametersInput {
    key_id: String,
    wrapping_algorithm: String,
    wrapping_key_spec: String,
}

pub async fn get_parameters_for_import(ctx: Arc<Ctx>, input: Value) -> Result<Value, AwsError> {
    let i: ParametersInput = input::parse(input)?;
    let l = load_for_management(&ctx, &i.key_id, "GetParametersForImport").await?;
    require_external(&l.key)?;
    require_not_pending_deletion(&l.key)?;
    let algorithm: WrappingAlgorithm = i.wrapping_algorithm.parse()?;
    let spec: WrappingKeySpec = i.wrapping_key_spec.parse()?;
    let key_id = KeyId::parse(&l.key.key_id)?;
    let master = ctx.node.master_key.clone();
    let now = now_secs(&ctx);
    // Makes an RSA wrapping key pair: keep it off the async workers.
    let params = tokio::task::spawn_blocking(move || {
        core::get_parameters_for_import(&master, &key_id, algorithm, spec, now)
    })
    .await
    .map_err(|_| error::internal())??;
    Ok(json!({
        "KeyId": l.key.arn,
        "ImportToken": STANDARD.encode(&params.import_token),
        "PublicKey": STANDARD.encode(&params.public_key_der),
        "ParametersValidTo": params.parameters_valid_to,
    }))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ImportInput {
    key_id: String,
    #[serde(with = "blob")]
    import_token: Vec<u8>,
    #[serde(with = "blob")]
    encrypted_key_material: Vec<u8>,
    valid_to: Option<f64>,
    expiration_model: Option<String>,
    import_type: Option<String>,
}

pub async fn import_key_material(ctx: Arc<Ctx>, input: Value) -> Result<Value, AwsError> {
    let i: ImportInput = input::parse(input)?;
    let l = load_for_management(&ctx, &i.key_id, "ImportKeyMaterial").await?;
    require_external(&l.key)?;
    require_not_pending_deletion(&l.key)?;
    let now = now_secs(&ctx);
    let model = i
        .expiration_model
        .clone()
        .unwrap_or_else(|| "KEY_MATERIAL_EXPIRES".into());
    let valid_to = i.valid_to.map(|v| v.floor() as i64);
    match (model.as_str(), valid_to) {
        ("KEY_MATERIAL_EXPIRES", None) => {
            return Err(AwsError::validation(
                "A validTo date must be set if the ExpirationModel is KEY_MATERIAL_EXPIRES",
            ));
        }
        ("KEY_MATERIAL_EXPIRES", Some(v))
            if v <= now || v > now.saturating_add(MAX_VALID_TO_SECS) =>
        {
            return Err(AwsError::validation(
                "ValidTo must be in the future and at most 365 days from now.",
            ));
        }
        ("KEY_MATERIAL_DOES_NOT_EXPIRE", Some(_)) => {
            return Err(AwsError::validation(
                "A validTo date must not be set if the ExpirationModel is KEY_MATERIAL_DOES_NOT_EXPIRE",
            ));
        }
        _ => {}
    }
    if i.import_type.as_deref() == Some("NEW_KEY_MATERIAL")
        && l.key
            .import
            .as_ref()
            .is_some_and(|x| x.first_material_id.is_some())
    {
        return Err(error::unsupported(
            "Importing new key material (rotation of imported keys) is not supported by this server.",
        ));
    }
    let spec: KeySpec = l.key.key_spec.parse().map_err(|_| error::internal())?;
    let key_id = KeyId::parse(&l.key.key_id)?;
    let material = core::import_key_material(
        &ctx.node.master_key,
        &key_id,
        spec,
        &i.import_token,
        &i.encrypted_key_material,
        now,
    )?;
    if let Some(first) = l
        .key
        .import
        .as_ref()
        .and_then(|x| x.first_material_id.as_deref())
    {
        core::check_reimport(&key_id, &core::MaterialId::from_hex(first)?, &material)?;
    }
    let entry = cache::seal(
        &ctx.node.master_key,
        &l.key.arn,
        &key_id,
        &material,
        now,
        None,
    )?;
    let material_id = entry.id.clone();
    let key = update_key(&ctx, &l, move |k| {
        if k.state == KeyState::PendingDeletion {
            return Err(error::invalid_state(format!(
                "{} is pending deletion.",
                k.arn
            )));
        }
        k.materials = vec![entry.clone()];
        let info = k.import.get_or_insert_with(ImportInfo::default);
        info.expiration_model = Some(model.clone());
        info.valid_to = valid_to.filter(|_| model == "KEY_MATERIAL_EXPIRES");
        info.first_material_id
            .get_or_insert_with(|| entry.id.clone());
        if k.state == KeyState::PendingImport {
            k.state = KeyState::Enabled;
        }
        Ok(())
    })
    .await?;
    Ok(json!({ "KeyId": key.arn, "KeyMaterialId": material_id }))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DeleteInput {
    key_id: String,
}

pub async fn delete_imported_key_material(ctx: Arc<Ctx>, input: Value) -> Result<Value, AwsError> {
    let i: DeleteInput = input::parse(input)?;
    let l = load_for_management(&ctx, &i.key_id, "DeleteImportedKeyMaterial").await?;
    require_external(&l.key)?;
    require_not_pending_deletion(&l.key)?;
    let deleted = l.key.current_material().map(|m| m.id.clone());
    let key = update_key(&ctx, &l, |k| {
        k.materials.clear();
        if let Some(info) = k.import.as_mut() {
            info.valid_to = None;
        }
        if k.state != KeyState::PendingDeletion {
            k.state = KeyState::PendingImport;
        }
        Ok(())
    })
    .await?;
    cache::forget(&key.store_key());
    let mut out = json!({ "KeyId": key.arn });
    if let (Some(id), Some(obj)) = (deleted, out.as_object_mut()) {
        obj.insert("KeyMaterialId".into(), json!(id));
    }
    Ok(out)
}
