//! GetSecretValue, PutSecretValue, ListSecretVersionIds, UpdateSecretVersionStage, and the
//! value read shared with BatchGetSecretValue and Parameter Store's references.
use std::sync::Arc;

use base64::Engine as _;
use rampart_aws_types::AwsError;
use rampart_services::Ctx;
use rampart_services::common::records;
use serde_json::{Value, json};
use zeroize::Zeroizing;

use super::*;
use crate::record::{SecretRecord, ValueRecord, value_key};
use crate::versions::{self, CURRENT};

/// One decrypted version, as GetSecretValue answers it.
pub struct SecretValue {
    pub arn: String,
    pub name: String,
    pub version_id: String,
    pub stages: Vec<String>,
    pub created: f64,
    pub binary: bool,
    pub value: Zeroizing<Vec<u8>>,
}

impl SecretValue {
    /// The GetSecretValue output object.
    pub fn to_json(&self) -> Value {
        let mut out = json!({
            "ARN": self.arn,
            "Name": self.name,
            "VersionId": self.version_id,
            "VersionStages": self.stages,
            "CreatedDate": self.created,
        });
        if self.binary {
            set(
                &mut out,
                "SecretBinary",
                json!(base64::engine::general_purpose::STANDARD.encode(&*self.value)),
            );
        } else {
            set(
                &mut out,
                "SecretString",
                json!(String::from_utf8_lossy(&self.value)),
            );
        }
        out
    }
}

/// Picks the version by id and/or stage (AWSCURRENT when neither is given).
pub fn select_version(
    rec: &SecretRecord,
    version_id: Option<&str>,
    stage: Option<&str>,
) -> Result<String, AwsError> {
    match (version_id, stage) {
        (Some(id), stage) => {
            let meta = rec
                .versions
                .get(id)
                .ok_or_else(|| error::version_not_found("VersionId", id))?;
            if let Some(s) = stage
                && !meta.stages.iter().any(|x| x == s)
            {
                return Err(error::sm(
                    "ResourceNotFoundException",
                    "You provided a VersionStage that is not associated to the provided VersionId.",
                ));
            }
            Ok(id.to_string())
        }
        (None, stage) => {
            let s = stage.unwrap_or(CURRENT);
            versions::holder(&rec.versions, s)
                .map(str::to_string)
                .ok_or_else(|| error::version_not_found("staging label", s))
        }
    }
}

/// Authorizes `secretsmanager:GetSecretValue` and decrypts one version. Parameter Store's
/// `/aws/reference/secretsmanager/...` parameters read secrets through this.
pub async fn read_secret_value(
    ctx: &Ctx,
    secret_id: &str,
    version_id: Option<&str>,
    stage: Option<&str>,
) -> Result<SecretValue, AwsError> {
    let mut extra = Vec::new();
    if let Some(v) = version_id {
        extra.push(("secretsmanager:VersionId".to_string(), v.to_string()));
    }
    if let Some(s) = stage {
        extra.push(("secretsmanager:VersionStage".to_string(), s.to_string()));
    }
    // The secret and the version it selects are read in one snapshot (one store read instead
    // of two on the hottest path); nothing read is used before the decision. The read is a pure
    // function of the records, so the store may serve it from memory until its next commit.
    let reference = record::parse_secret_id(secret_id, ctx.account(), ctx.region());
    let r = reference.clone();
    let cache_key = format!(
        "secretsmanager:{:?}",
        (ctx.account(), ctx.region(), secret_id, version_id, stage)
    );
    let (want_id, want_stage) = (version_id.map(str::to_string), stage.map(str::to_string));
    let read = ctx
        .store()
        .read_cached(&cache_key, move |tx| {
            let secret = record::find(tx, &r)?;
            let mut value: Option<(String, Option<(ValueRecord, u64)>)> = None;
            if let Some((rec, _)) = &secret {
                if let Ok(vid) = select_version(rec, want_id.as_deref(), want_stage.as_deref()) {
                    let (account, region) = record::account_region(&rec.arn);
                    let stored = records::get(tx, &value_key(account, region, &rec.name, &vid))?;
                    value = Some((vid, stored));
                }
            }
            Ok::<_, AwsError>((secret, value))
        })
        .await?;
    let (secret, prefetched) = &*read;
    let found = Found {
        reference,
        secret: secret.clone(),
    };
    let (rec, _) = authorize_found(ctx, "secretsmanager:GetSecretValue", found, &extra)?;
    ctx.record_resource(&rec.arn, "AWS::SecretsManager::Secret");
    refuse_deleted(&rec)?;
    let vid = select_version(&rec, version_id, stage)?;
    let fetched;
    let stored = match prefetched {
        Some((prefetched_vid, stored)) if *prefetched_vid == vid => stored,
        _ => {
            let (account, region) = record::account_region(&rec.arn);
            let k = value_key(account, region, &rec.name, &vid);
            fetched = ctx.store().read(move |tx| records::get(tx, &k)).await?;
            &fetched
        }
    };
    let Some((stored, _)) = stored else {
        return Err(error::version_not_found("VersionId", &vid));
    };
    let value = decrypt_value(ctx, &rec.arn, &vid, stored).await?;
    note_access(ctx, &rec).await;
    let meta = rec.versions.get(&vid);
    Ok(SecretValue {
        arn: rec.arn.clone(),
        name: rec.name.clone(),
        stages: meta.map(|m| m.stages.clone()).unwrap_or_default(),
        created: meta.map(|m| m.created).unwrap_or(rec.created),
        binary: stored.binary,
        version_id: vid,
        value,
    })
}

/// `LastAccessedDate` is a date (AWS truncates it to the day), so it is written at most once a
/// day per secret instead of on every read.
async fn note_access(ctx: &Ctx, rec: &SecretRecord) {
    let today = (ctx.now().unix_timestamp() / 86_400) * 86_400;
    let today = today as f64;
    if rec.last_accessed == Some(today) {
        return;
    }
    let result = super::secrets::modify(ctx, rec, move |current, _| {
        current.last_accessed = Some(today);
        Ok(())
    })
    .await;
    if let Err(e) = result {
        tracing::debug!(code = %e.code, "could not record the secret's last access");
    }
}

pub async fn get_secret_value(ctx: Arc<Ctx>, input: Value) -> Result<Value, AwsError> {
    let id = str_field(&input, "SecretId").unwrap_or_default();
    let v = read_secret_value(
        &ctx,
        id,
        str_field(&input, "VersionId"),
        str_field(&input, "VersionStage"),
    )
    .await?;
    Ok(v.to_json())
}

pub async fn put_secret_value(ctx: Arc<Ctx>, input: Value) -> Result<Value, AwsError> {
    let id = str_field(&input, "SecretId").unwrap_or_default();
    let stages: Vec<String> = match input.get("VersionStages").and_then(Value::as_array) {
        Some(a) => a
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect(),
        None => vec![CURRENT.to_string()],
    };
    let extra: Vec<(String, String)> = stages
        .iter()
        .map(|s| ("secretsmanager:VersionStage".to_string(), s.clone()))
        .collect();
    let (rec, _) = resolve(&ctx, "secretsmanager:PutSecretValue", id, &extra).await?;
    refuse_deleted(&rec)?;
    super::secrets::refuse_replica(&rec)?;
    let Some((bytes, binary)) = value_from_input(&input)? else {
        return Err(error::invalid_request(
            "You must provide either SecretString or SecretBinary.",
        ));
    };
    let vid = version_id_from_token(&input)?;
    let stages = super::secrets::add_version(&ctx, &rec, &vid, &bytes, binary, stages).await?;
    super::replicas::sync_after_change(&ctx, &rec.arn).await;
    ctx.record_resource(&rec.arn, "AWS::SecretsManager::Secret");
    Ok(json!({ "ARN": rec.arn, "Name": rec.name, "VersionId": vid, "VersionStages": stages }))
}

pub async fn list_secret_version_ids(ctx: Arc<Ctx>, input: Value) -> Result<Value, AwsError> {
    let id = str_field(&input, "SecretId").unwrap_or_default();
    let (rec, _) = resolve(&ctx, "secretsmanager:ListSecretVersionIds", id, &[]).await?;
    let include_deprecated = input
        .get("IncludeDeprecated")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let max = input
        .get("MaxResults")
        .and_then(Value::as_u64)
        .map_or(100, |m| m.clamp(1, 100) as usize);
    let start = match str_field(&input, "NextToken") {
        Some(t) => token::decode(t).ok_or_else(error::invalid_token)?,
        None => 0,
    };
    let mut all: Vec<(&String, &versions::VersionMeta)> = rec
        .versions
        .iter()
        .filter(|(_, v)| include_deprecated || !v.stages.is_empty())
        .collect();
    all.sort_by(|a, b| {
        b.1.created
            .total_cmp(&a.1.created)
            .then_with(|| a.0.cmp(b.0))
    });
    // Which key each listed version is encrypted under (AWS names its managed key
    // `DefaultEncryptionKey` here).
    let (account, region) = record::account_region(&rec.arn);
    let keys: Vec<String> = all
        .iter()
        .skip(start)
        .take(max)
        .map(|(id, _)| value_key(account, region, &rec.name, id))
        .collect();
    let key_ids: Vec<Option<String>> = ctx
        .store()
        .read(move |tx| {
            keys.iter()
                .map(|k| {
                    records::get::<ValueRecord>(tx, k).map(|v| {
                        v.and_then(|(v, _)| v.key)
                            .or(Some("DefaultEncryptionKey".into()))
                    })
                })
                .collect::<Result<Vec<_>, AwsError>>()
        })
        .await?;
    let page: Vec<Value> = all
        .iter()
        .skip(start)
        .take(max)
        .zip(key_ids)
        .map(|((id, v), key)| {
            let mut e = json!({
                "VersionId": id,
                "VersionStages": v.stages,
                "CreatedDate": v.created,
                "KmsKeyIds": key.into_iter().collect::<Vec<_>>(),
            });
            if let Some(t) = v.last_accessed {
                set(&mut e, "LastAccessedDate", json!(t));
            }
            e
        })
        .collect();
    let mut out = json!({ "ARN": rec.arn, "Name": rec.name, "Versions": page });
    if start + max < all.len() {
        set(&mut out, "NextToken", json!(token::encode(start + max)));
    }
    Ok(out)
}

pub async fn update_secret_version_stage(ctx: Arc<Ctx>, input: Value) -> Result<Value, AwsError> {
    let id = str_field(&input, "SecretId").unwrap_or_default();
    let stage = str_field(&input, "VersionStage")
        .unwrap_or_default()
        .to_string();
    let extra = vec![("secretsmanager:VersionStage".to_string(), stage.clone())];
    let (rec, _) = resolve(&ctx, "secretsmanager:UpdateSecretVersionStage", id, &extra).await?;
    refuse_deleted(&rec)?;
    super::secrets::refuse_replica(&rec)?;
    let remove = str_field(&input, "RemoveFromVersionId").map(str::to_string);
    let move_to = str_field(&input, "MoveToVersionId").map(str::to_string);
    let now = epoch(ctx.now());
    super::secrets::modify(&ctx, &rec, move |current, _| {
        versions::move_stage(
            &mut current.versions,
            &stage,
            remove.as_deref(),
            move_to.as_deref(),
        )?;
        current.last_changed = now;
        Ok(())
    })
    .await?;
    super::replicas::sync_after_change(&ctx, &rec.arn).await;
    ctx.record_resource(&rec.arn, "AWS::SecretsManager::Secret");
    Ok(json!({ "ARN": rec.arn, "Name": rec.name }))
}
