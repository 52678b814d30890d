//! CreateSecret, UpdateSecret, DescribeSecret, DeleteSecret, RestoreSecret, TagResource,
//! UntagResource.
use std::collections::BTreeMap;
use std::sync::Arc;

use base64::Engine as _;
use rampart_aws_types::AwsError;
use rampart_services::Ctx;
use rampart_services::common::{records, tags};
use rampart_store::Expect;
use serde_json::{Map, Value, json};

use super::*;
use crate::record::{SecretRecord, Tag, ValueRecord, purge_key, secret_arn, secret_key, value_key};
use crate::versions::{self, CURRENT, PENDING, PREVIOUS};

/// Writes go to the primary; a replica only follows it.
pub fn refuse_replica(rec: &SecretRecord) -> Result<(), AwsError> {
    if rec.is_replica() {
        return Err(error::invalid_request(
            "Operation not permitted on a replica secret. Call must be made in primary secret's region.",
        ));
    }
    Ok(())
}

/// Secret names: 1–512 characters of letters, digits and `/_+=.@-`.
pub fn check_name(name: &str) -> Result<(), AwsError> {
    let ok = !name.is_empty()
        && name.len() <= 512
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "/_+=.@-".contains(c));
    if ok {
        Ok(())
    } else {
        Err(error::invalid_parameter(
            "Invalid name. Must be a valid name containing alphanumeric characters, or any of the following: -/_+=.@!",
        ))
    }
}

fn tag_error(v: tags::TagViolation) -> AwsError {
    match v {
        tags::TagViolation::TooMany { .. } => error::limit(v.message()),
        _ => error::invalid_parameter(v.message()),
    }
}

/// Applies new tags in AWS's way: existing keys keep their place, new keys are appended.
fn merge_tags(existing: &[Tag], new: &[(String, String)]) -> Result<Vec<Tag>, AwsError> {
    let map: BTreeMap<String, String> = existing
        .iter()
        .map(|t| (t.key.clone(), t.value.clone()))
        .collect();
    tags::merge(&map, new, tags::MAX_TAGS).map_err(tag_error)?;
    let mut out = existing.to_vec();
    for (k, v) in new {
        match out.iter_mut().find(|t| &t.key == k) {
            Some(t) => t.value.clone_from(v),
            None => out.push(Tag {
                key: k.clone(),
                value: v.clone(),
            }),
        }
    }
    Ok(out)
}

fn request_tag_conditions(new: &[(String, String)]) -> Vec<(String, String)> {
    let mut c = Vec::new();
    for (k, v) in new {
        c.push((format!("aws:RequestTag/{k}"), v.clone()));
        c.push(("aws:TagKeys".to_string(), k.clone()));
    }
    c
}

pub async fn create_secret(ctx: Arc<Ctx>, input: Value) -> Result<Value, AwsError> {
    let name = str_field(&input, "Name").unwrap_or_default().to_string();
    let suffix = rampart_aws_types::ids::prefixed_id("", 6).map(|s| {
        s.chars()
            .map(|c| c.to_ascii_lowercase())
            .collect::<String>()
    })?;
    // AWS's suffixes mix cases and digits; ours come from the same alphabet family.
    let suffix = mix_case(&suffix)?;
    let arn = secret_arn(ctx.region(), ctx.account(), &name, &suffix);
    let new_tags = parse_tags(&input);
    let mut conds = request_tag_conditions(&new_tags);
    conds.push(("secretsmanager:Name".to_string(), name.clone()));
    if let Some(k) = str_field(&input, "KmsKeyId") {
        conds.push(("secretsmanager:KmsKeyId".to_string(), k.to_string()));
    }
    if let Some(d) = str_field(&input, "Description") {
        conds.push(("secretsmanager:Description".to_string(), d.to_string()));
    }
    let borrowed: Vec<(&str, &str)> = conds
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    ctx.authorize("secretsmanager:CreateSecret", &arn, &borrowed)?;

    check_name(&name)?;
    let value = value_from_input(&input)?;
    let tags = merge_tags(&[], &new_tags)?;
    let key = secret_key(ctx.account(), ctx.region(), &name);
    let k = key.clone();
    let existing: Option<(SecretRecord, u64)> =
        ctx.store().read(move |tx| records::get(tx, &k)).await?;
    if let Some((rec, _)) = existing {
        return Err(already_exists(&rec));
    }
    let kms_key_id = str_field(&input, "KmsKeyId").map(str::to_string);
    if let Some(k) = &kms_key_id {
        rampart_kms::internal::describe_key_for_service(ctx.as_ref(), record::SERVICE, Some(k))
            .await?;
    }
    let now = epoch(ctx.now());
    let mut rec = SecretRecord {
        arn: arn.clone(),
        name: name.clone(),
        description: str_field(&input, "Description").map(str::to_string),
        kms_key_id,
        created: now,
        last_changed: now,
        last_accessed: None,
        deleted: None,
        purge_at: None,
        tags,
        versions: Default::default(),
        policy: None,
        rotation: Default::default(),
        owning_service: None,
        primary_region: None,
        replicas: Vec::new(),
    };
    let mut value_record = None;
    let mut version_id = None;
    if let Some((bytes, binary)) = &value {
        let vid = version_id_from_token(&input)?;
        let blob = encrypt_value(ctx.as_ref(), &rec, &vid, bytes).await?;
        versions::add(&mut rec.versions, &vid, now, &[CURRENT.to_string()])?;
        value_record = Some(ValueRecord {
            ciphertext: base64::engine::general_purpose::STANDARD.encode(blob),
            binary: *binary,
            key: rec.kms_key_id.clone(),
        });
        version_id = Some(vid);
    }
    let account = ctx.account().to_string();
    let region = ctx.region().to_string();
    let r = rec.clone();
    let vid = version_id.clone();
    ctx.store()
        .write(move |tx| {
            if let Some((existing, _)) = records::get::<SecretRecord>(tx, &key)? {
                return Err(already_exists(&existing));
            }
            records::put(tx, &key, &r, Expect::Absent)?;
            if let (Some(v), Some(id)) = (&value_record, &vid) {
                records::put(
                    tx,
                    &value_key(&account, &region, &r.name, id),
                    v,
                    Expect::Any,
                )?;
            }
            Ok::<_, AwsError>(())
        })
        .await?;
    ctx.record_resource(&arn, "AWS::SecretsManager::Secret");
    let mut out = json!({ "ARN": arn, "Name": name });
    if let Some(v) = version_id {
        set(&mut out, "VersionId", json!(v));
    }
    if input.get("AddReplicaRegions").is_some() {
        let status = super::replicas::add_replicas(&ctx, &rec, &input).await?;
        set(&mut out, "ReplicationStatus", status);
    }
    Ok(out)
}

fn already_exists(rec: &SecretRecord) -> AwsError {
    if rec.deleted.is_some() {
        error::invalid_request(
            "You can't create this secret because a secret with this name is already scheduled for deletion.",
        )
    } else {
        error::exists(format!(
            "The operation failed because the secret {} already exists.",
            rec.name
        ))
    }
}

/// Turns an upper-case base32 id into AWS's mixed-case suffix form (random case per letter).
fn mix_case(s: &str) -> Result<String, AwsError> {
    let bits = rampart_aws_types::ids::random_bytes::<8>()?;
    Ok(s.chars()
        .zip(bits.iter())
        .map(|(c, b)| {
            if b & 1 == 1 {
                c.to_ascii_uppercase()
            } else {
                c.to_ascii_lowercase()
            }
        })
        .collect())
}

/// The DescribeSecret / ListSecrets entry of a secret.
pub fn describe_json(rec: &SecretRecord, include_versions: bool, list_entry: bool) -> Value {
    let mut m = Map::new();
    m.insert("ARN".into(), json!(rec.arn));
    m.insert("Name".into(), json!(rec.name));
    if let Some(d) = &rec.description {
        m.insert("Description".into(), json!(d));
    }
    if let Some(k) = &rec.kms_key_id {
        m.insert("KmsKeyId".into(), json!(k));
    }
    m.insert("RotationEnabled".into(), json!(rec.rotation.enabled));
    if let Some(l) = &rec.rotation.lambda_arn {
        m.insert("RotationLambdaARN".into(), json!(l));
    }
    if let Some(r) = &rec.rotation.rules {
        // AWS also reports a days-based schedule as AutomaticallyAfterDays.
        let mut rules = r.clone();
        if let Ok(crate::schedule::Schedule::Days(d)) = crate::schedule::parse_rules(r)
            && let Some(obj) = rules.as_object_mut()
        {
            obj.insert("AutomaticallyAfterDays".into(), json!(d));
        }
        m.insert("RotationRules".into(), rules);
    }
    if let Some(t) = rec.rotation.last_rotated {
        m.insert("LastRotatedDate".into(), json!(t));
    }
    if let Some(t) = rec.rotation.next_rotation.filter(|_| rec.rotation.enabled) {
        m.insert("NextRotationDate".into(), json!(t));
    }
    m.insert("LastChangedDate".into(), json!(rec.last_changed));
    if let Some(t) = rec.last_accessed {
        m.insert("LastAccessedDate".into(), json!(t));
    }
    if let Some(t) = rec.deleted {
        m.insert("DeletedDate".into(), json!(t));
    }
    if let Some(t) = tags_json(rec) {
        m.insert("Tags".into(), t);
    }
    if include_versions {
        let map: Map<String, Value> = rec
            .versions
            .iter()
            .filter(|(_, v)| !v.stages.is_empty())
            .map(|(id, v)| (id.clone(), json!(v.stages)))
            .collect();
        let field = if list_entry {
            "SecretVersionsToStages"
        } else {
            "VersionIdsToStages"
        };
        m.insert(field.into(), Value::Object(map));
    }
    if let Some(s) = &rec.owning_service {
        m.insert("OwningService".into(), json!(s));
    }
    m.insert("CreatedDate".into(), json!(rec.created));
    if let Some(r) = &rec.primary_region {
        m.insert("PrimaryRegion".into(), json!(r));
    }
    if !rec.replicas.is_empty() {
        m.insert(
            "ReplicationStatus".into(),
            super::replicas::status_json(rec),
        );
    }
    Value::Object(m)
}

pub async fn describe_secret(ctx: Arc<Ctx>, input: Value) -> Result<Value, AwsError> {
    let id = str_field(&input, "SecretId").unwrap_or_default();
    let (rec, _) = resolve(&ctx, "secretsmanager:DescribeSecret", id, &[]).await?;
    Ok(describe_json(&rec, true, false))
}

/// Re-reads the secret inside a write transaction and applies `f` to it; fails if it is gone.
pub async fn modify<T, F>(ctx: &Ctx, rec: &SecretRecord, mut f: F) -> Result<T, AwsError>
where
    F: FnMut(&mut SecretRecord, &mut dyn rampart_store::Txn) -> Result<T, AwsError>
        + Send
        + 'static,
    T: Send + 'static,
{
    let (account, region) = record::account_region(&rec.arn);
    let key = secret_key(account, region, &rec.name);
    let arn = rec.arn.clone();
    ctx.store()
        .write(move |tx| {
            let Some((mut current, version)) = records::get::<SecretRecord>(tx, &key)? else {
                return Err(error::not_found());
            };
            if current.arn != arn {
                return Err(error::not_found());
            }
            let out = f(&mut current, tx)?;
            records::put(tx, &key, &current, Expect::Version(version))?;
            Ok(out)
        })
        .await
}

/// Adds a version with `stages` (idempotent on the token): shared by PutSecretValue,
/// UpdateSecret and rotation. Returns the version's stages after the call.
pub async fn add_version(
    ctx: &Ctx,
    rec: &SecretRecord,
    version_id: &str,
    value: &[u8],
    binary: bool,
    stages: Vec<String>,
) -> Result<Vec<String>, AwsError> {
    let (account, region) = record::account_region(&rec.arn);
    let (account, region) = (account.to_string(), region.to_string());
    if let Some(meta) = rec.versions.get(version_id) {
        let k = value_key(&account, &region, &rec.name, version_id);
        let stored: Option<(ValueRecord, u64)> =
            ctx.store().read(move |tx| records::get(tx, &k)).await?;
        let Some((stored, _)) = stored else {
            return Err(error::internal());
        };
        let old = decrypt_value(ctx, &rec.arn, version_id, &stored).await?;
        let same = stored.binary == binary
            && aws_lc_rs::constant_time::verify_slices_are_equal(&old, value).is_ok();
        if same {
            return Ok(meta.stages.clone());
        }
        return Err(error::exists(
            "You can't modify an existing version, you can only create a new version.",
        ));
    }
    let blob = encrypt_value(ctx, rec, version_id, value).await?;
    let v = ValueRecord {
        ciphertext: base64::engine::general_purpose::STANDARD.encode(blob),
        binary,
        key: rec.kms_key_id.clone(),
    };
    let now = epoch(ctx.now());
    let vid = version_id.to_string();
    modify(ctx, rec, move |current, tx| {
        if current.deleted.is_some() {
            return Err(error::marked_for_deletion());
        }
        if current.versions.contains_key(&vid) {
            return Err(error::exists(
                "You can't modify an existing version, you can only create a new version.",
            ));
        }
        versions::add(&mut current.versions, &vid, now, &stages)?;
        for old in versions::prune(&mut current.versions) {
            tx.delete(
                &value_key(&account, &region, &current.name, &old),
                Expect::Any,
            )?;
        }
        records::put(
            tx,
            &value_key(&account, &region, &current.name, &vid),
            &v,
            Expect::Any,
        )?;
        current.last_changed = now;
        Ok(current
            .versions
            .get(&vid)
            .map(|m| m.stages.clone())
            .unwrap_or_default())
    })
    .await
}

pub async fn update_secret(ctx: Arc<Ctx>, input: Value) -> Result<Value, AwsError> {
    let id = str_field(&input, "SecretId").unwrap_or_default();
    let mut extra = Vec::new();
    if let Some(k) = str_field(&input, "KmsKeyId") {
        extra.push(("secretsmanager:KmsKeyId".to_string(), k.to_string()));
    }
    if let Some(d) = str_field(&input, "Description") {
        extra.push(("secretsmanager:Description".to_string(), d.to_string()));
    }
    let (rec, _) = resolve(&ctx, "secretsmanager:UpdateSecret", id, &extra).await?;
    refuse_deleted(&rec)?;
    refuse_replica(&rec)?;
    let value = value_from_input(&input)?;
    let new_key = str_field(&input, "KmsKeyId").map(str::to_string);
    if let Some(k) = &new_key {
        rampart_kms::internal::describe_key_for_service(ctx.as_ref(), record::SERVICE, Some(k))
            .await?;
    }
    let description = str_field(&input, "Description").map(str::to_string);
    let now = epoch(ctx.now());
    let key_changed = new_key.is_some() && new_key != rec.kms_key_id;
    // Re-encrypt the labelled versions under the new key when no new value comes with it.
    let mut reencrypted: Vec<(String, ValueRecord)> = Vec::new();
    let mut target = rec.clone();
    if let Some(k) = &new_key {
        target.kms_key_id = Some(k.clone());
    }
    if key_changed && value.is_none() {
        let (account, region) = record::account_region(&rec.arn);
        for (vid, meta) in &rec.versions {
            if !meta
                .stages
                .iter()
                .any(|s| s == CURRENT || s == PREVIOUS || s == PENDING)
            {
                continue;
            }
            let k = value_key(account, region, &rec.name, vid);
            let stored: Option<(ValueRecord, u64)> =
                ctx.store().read(move |tx| records::get(tx, &k)).await?;
            let Some((stored, _)) = stored else { continue };
            let plain = decrypt_value(&ctx, &rec.arn, vid, &stored).await?;
            let blob = encrypt_value(&ctx, &target, vid, &plain).await?;
            reencrypted.push((
                vid.clone(),
                ValueRecord {
                    ciphertext: base64::engine::general_purpose::STANDARD.encode(blob),
                    binary: stored.binary,
                    key: target.kms_key_id.clone(),
                },
            ));
        }
    }
    let meta_changed = description.is_some() || new_key.is_some();
    if meta_changed {
        let (account, region) = {
            let (a, r) = record::account_region(&rec.arn);
            (a.to_string(), r.to_string())
        };
        modify(&ctx, &rec, move |current, tx| {
            if current.deleted.is_some() {
                return Err(error::marked_for_deletion());
            }
            if let Some(d) = &description {
                current.description = Some(d.clone());
            }
            if let Some(k) = &new_key {
                current.kms_key_id = Some(k.clone());
            }
            for (vid, v) in &reencrypted {
                records::put(
                    tx,
                    &value_key(&account, &region, &current.name, vid),
                    v,
                    Expect::Any,
                )?;
            }
            current.last_changed = now;
            Ok(())
        })
        .await?;
    }
    let mut out = json!({ "ARN": rec.arn, "Name": rec.name });
    if let Some((bytes, binary)) = value {
        let vid = version_id_from_token(&input)?;
        add_version(
            &ctx,
            &target,
            &vid,
            &bytes,
            binary,
            vec![CURRENT.to_string()],
        )
        .await?;
        set(&mut out, "VersionId", json!(vid));
    }
    super::replicas::sync_after_change(&ctx, &rec.arn).await;
    ctx.record_resource(&rec.arn, "AWS::SecretsManager::Secret");
    Ok(out)
}

pub async fn delete_secret(ctx: Arc<Ctx>, input: Value) -> Result<Value, AwsError> {
    let id = str_field(&input, "SecretId").unwrap_or_default();
    let (rec, _) = resolve(&ctx, "secretsmanager:DeleteSecret", id, &[]).await?;
    refuse_replica(&rec)?;
    if !rec.replicas.is_empty() {
        return Err(error::invalid_request(format!(
            "You can't delete secret {} that still has replica regions [{}].",
            rec.name,
            rec.replicas
                .iter()
                .map(|r| r.region.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    let force = input
        .get("ForceDeleteWithoutRecovery")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let window = input.get("RecoveryWindowInDays").and_then(Value::as_i64);
    if force && window.is_some() {
        return Err(error::invalid_parameter(
            "You can't use ForceDeleteWithoutRecovery in conjunction with RecoveryWindowInDays.",
        ));
    }
    let days = window.unwrap_or(30);
    if !force && !(7..=30).contains(&days) {
        return Err(error::invalid_parameter(
            "The RecoveryWindowInDays value must be between 7 and 30 days (inclusive).",
        ));
    }
    if !force && rec.deleted.is_some() {
        return Err(error::marked_for_deletion());
    }
    let now = ctx.now();
    let out_date;
    if force {
        out_date = epoch(now);
        let r = rec.clone();
        ctx.store()
            .write(move |tx| {
                let (account, region) = record::account_region(&r.arn);
                let key = secret_key(account, region, &r.name);
                match records::get::<SecretRecord>(tx, &key)? {
                    Some((current, _)) if current.arn == r.arn => {
                        record::delete_secret(tx, &current)
                    }
                    _ => Err(error::not_found()),
                }
            })
            .await?;
    } else {
        let purge_at = (now + time::Duration::days(days)).unix_timestamp();
        out_date = purge_at as f64;
        let deleted = epoch(now);
        modify(&ctx, &rec, move |current, tx| {
            if current.deleted.is_some() {
                return Err(error::marked_for_deletion());
            }
            current.deleted = Some(deleted);
            current.purge_at = Some(purge_at);
            let (account, region) = record::account_region(&current.arn);
            tx.put(
                &purge_key(purge_at, account, region, &current.name),
                b"{}",
                Expect::Any,
            )?;
            Ok(())
        })
        .await?;
    }
    ctx.record_resource(&rec.arn, "AWS::SecretsManager::Secret");
    Ok(json!({ "ARN": rec.arn, "Name": rec.name, "DeletionDate": out_date }))
}

pub async fn restore_secret(ctx: Arc<Ctx>, input: Value) -> Result<Value, AwsError> {
    let id = str_field(&input, "SecretId").unwrap_or_default();
    let (rec, _) = resolve(&ctx, "secretsmanager:RestoreSecret", id, &[]).await?;
    modify(&ctx, &rec, |current, tx| {
        if let Some(at) = current.purge_at {
            let (account, region) = record::account_region(&current.arn);
            tx.delete(&purge_key(at, account, region, &current.name), Expect::Any)?;
        }
        current.deleted = None;
        current.purge_at = None;
        Ok(())
    })
    .await?;
    ctx.record_resource(&rec.arn, "AWS::SecretsManager::Secret");
    Ok(json!({ "ARN": rec.arn, "Name": rec.name }))
}

pub async fn tag_resource(ctx: Arc<Ctx>, input: Value) -> Result<Value, AwsError> {
    let id = str_field(&input, "SecretId").unwrap_or_default();
    let new_tags = parse_tags(&input);
    let (rec, _) = resolve(
        &ctx,
        "secretsmanager:TagResource",
        id,
        &request_tag_conditions(&new_tags),
    )
    .await?;
    refuse_deleted(&rec)?;
    refuse_replica(&rec)?;
    merge_tags(&rec.tags, &new_tags)?;
    modify(&ctx, &rec, move |current, _| {
        current.tags = merge_tags(&current.tags, &new_tags)?;
        Ok(())
    })
    .await?;
    super::replicas::sync_after_change(&ctx, &rec.arn).await;
    Ok(json!({}))
}

pub async fn untag_resource(ctx: Arc<Ctx>, input: Value) -> Result<Value, AwsError> {
    let id = str_field(&input, "SecretId").unwrap_or_default();
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
    let (rec, _) = resolve(&ctx, "secretsmanager:UntagResource", id, &conds).await?;
    refuse_deleted(&rec)?;
    refuse_replica(&rec)?;
    modify(&ctx, &rec, move |current, _| {
        current.tags.retain(|t| !keys.contains(&t.key));
        Ok(())
    })
    .await?;
    super::replicas::sync_after_change(&ctx, &rec.arn).await;
    Ok(json!({}))
}
