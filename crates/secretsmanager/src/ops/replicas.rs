//! Replication to other regions of the same server: ReplicateSecretToRegions,
//! RemoveRegionsFromReplication, StopReplicationToReplica, and the resync every change to a
//! primary triggers. A replica is a full secret record in its region (same name and suffix,
//! `PrimaryRegion` set) whose versions are re-encrypted under a key of that region; it refuses
//! writes until it is promoted.
use std::sync::Arc;

use base64::Engine as _;
use rampart_aws_types::AwsError;
use rampart_services::common::records;
use rampart_services::{Ctx, RequestFacts};
use rampart_store::Expect;
use serde_json::{Value, json};

use super::*;
use crate::record::{
    ReplicaStatus, SecretRecord, ValueRecord, secret_key, value_key, value_prefix,
};

/// The same request, addressed to another region (KMS keys are regional).
fn ctx_in(ctx: &Ctx, region: &str) -> Ctx {
    let facts = RequestFacts {
        region: region.to_string(),
        ..ctx.facts.clone()
    };
    Ctx::new(
        ctx.principal.clone(),
        ctx.request_id.clone(),
        facts,
        ctx.node.clone(),
    )
}

pub fn replica_arn(primary_arn: &str, region: &str) -> String {
    let mut parts: Vec<&str> = primary_arn.splitn(7, ':').collect();
    if let Some(r) = parts.get_mut(3) {
        *r = region;
    }
    parts.join(":")
}

pub fn status_json(rec: &SecretRecord) -> Value {
    json!(
        rec.replicas
            .iter()
            .map(|r| {
                let mut e = json!({ "Region": r.region, "Status": r.status });
                if let Some(k) = &r.kms_key_id {
                    set(&mut e, "KmsKeyId", json!(k));
                }
                if let Some(m) = &r.status_message {
                    set(&mut e, "StatusMessage", json!(m));
                }
                e
            })
            .collect::<Vec<_>>()
    )
}

/// Brings the replica in `region` up to date with `primary`; returns its status.
async fn sync_one(
    ctx: &Ctx,
    primary: &SecretRecord,
    target: &ReplicaStatus,
    force: bool,
) -> ReplicaStatus {
    match try_sync(ctx, primary, target, force).await {
        Ok(()) => ReplicaStatus {
            status: "InSync".into(),
            status_message: Some("Replication succeeded".into()),
            ..target.clone()
        },
        Err(e) => ReplicaStatus {
            status: "Failed".into(),
            status_message: Some(e.message),
            ..target.clone()
        },
    }
}

async fn try_sync(
    ctx: &Ctx,
    primary: &SecretRecord,
    target: &ReplicaStatus,
    force: bool,
) -> Result<(), AwsError> {
    let (account, primary_region) = record::account_region(&primary.arn);
    let (account, primary_region) = (account.to_string(), primary_region.to_string());
    let region = target.region.clone();
    let key = secret_key(&account, &region, &primary.name);
    let k = key.clone();
    let existing: Option<(SecretRecord, u64)> =
        ctx.store().read(move |tx| records::get(tx, &k)).await?;
    let arn = replica_arn(&primary.arn, &region);
    if let Some((e, _)) = &existing
        && e.arn != arn
        && !force
    {
        return Err(error::exists("Destination secret already exists."));
    }
    let ours = existing.filter(|(e, _)| e.arn == arn).map(|(e, _)| e);
    let mut replica = primary.clone();
    replica.arn = arn.clone();
    replica.kms_key_id = target.kms_key_id.clone();
    replica.primary_region = Some(primary_region.clone());
    replica.replicas = Vec::new();
    replica.deleted = None;
    replica.purge_at = None;
    let region_ctx = ctx_in(ctx, &region);
    let mut new_values: Vec<(String, ValueRecord)> = Vec::new();
    for vid in primary.versions.keys() {
        if ours
            .as_ref()
            .is_some_and(|o| o.versions.contains_key(vid) && o.kms_key_id == replica.kms_key_id)
        {
            continue;
        }
        let k = value_key(&account, &primary_region, &primary.name, vid);
        let stored: Option<(ValueRecord, u64)> =
            ctx.store().read(move |tx| records::get(tx, &k)).await?;
        let Some((stored, _)) = stored else { continue };
        let plain = decrypt_value(ctx, &primary.arn, vid, &stored).await?;
        let blob = encrypt_value(&region_ctx, &replica, vid, &plain).await?;
        new_values.push((
            vid.clone(),
            ValueRecord {
                ciphertext: base64::engine::general_purpose::STANDARD.encode(blob),
                binary: stored.binary,
                key: replica.kms_key_id.clone(),
            },
        ));
    }
    let keep: Vec<String> = replica.versions.keys().cloned().collect();
    ctx.store()
        .write(move |tx| {
            let prefix = value_prefix(&account, &region, &replica.name);
            for (k, _) in tx.scan_all(&prefix)? {
                let vid = rampart_services::common::keys::unescape(
                    k.strip_prefix(&prefix).unwrap_or_default(),
                );
                if !keep.contains(&vid) {
                    tx.delete(&k, Expect::Any)?;
                }
            }
            for (vid, v) in &new_values {
                records::put(
                    tx,
                    &value_key(&account, &region, &replica.name, vid),
                    v,
                    Expect::Any,
                )?;
            }
            records::put(tx, &key, &replica, Expect::Any)?;
            Ok::<_, AwsError>(())
        })
        .await
}

/// After a change to a primary: resync every replica (failures are recorded in its status).
pub async fn sync_after_change(ctx: &Ctx, primary_arn: &str) {
    let found = find(ctx, primary_arn).await;
    let Ok(Found {
        secret: Some((primary, _)),
        ..
    }) = found
    else {
        return;
    };
    if primary.replicas.is_empty() || primary.is_replica() {
        return;
    }
    let mut statuses = Vec::new();
    for r in &primary.replicas {
        statuses.push(sync_one(ctx, &primary, r, false).await);
    }
    let result = super::secrets::modify(ctx, &primary, move |current, _| {
        current.replicas = statuses.clone();
        Ok(())
    })
    .await;
    if let Err(e) = result {
        tracing::warn!(code = %e.code, "could not record replication status");
    }
}

fn parse_regions(input: &Value) -> Vec<ReplicaStatus> {
    input
        .get("AddReplicaRegions")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .map(|r| ReplicaStatus {
                    region: str_field(r, "Region").unwrap_or_default().to_string(),
                    kms_key_id: str_field(r, "KmsKeyId").map(str::to_string),
                    status: "InProgress".into(),
                    status_message: None,
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Adds replicas of `rec` (already authorized) and returns the new ReplicationStatus.
pub async fn add_replicas(ctx: &Ctx, rec: &SecretRecord, input: &Value) -> Result<Value, AwsError> {
    let (_, own_region) = record::account_region(&rec.arn);
    let wanted = parse_regions(input);
    for r in &wanted {
        if r.region == own_region || !rampart_aws_types::is_region(&r.region) {
            return Err(error::invalid_parameter(format!(
                "Invalid replica region: {}.",
                r.region
            )));
        }
    }
    let force = input
        .get("ForceOverwriteReplicaSecret")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let mut primary = rec.clone();
    primary.primary_region = Some(own_region.to_string());
    let mut statuses = Vec::new();
    for r in &wanted {
        statuses.push(sync_one(ctx, &primary, r, force).await);
    }
    let own = own_region.to_string();
    let updated = super::secrets::modify(ctx, rec, move |current, _| {
        current.primary_region = Some(own.clone());
        for s in &statuses {
            current.replicas.retain(|r| r.region != s.region);
            current.replicas.push(s.clone());
        }
        Ok(current.clone())
    })
    .await?;
    Ok(status_json(&updated))
}

pub async fn replicate_secret_to_regions(ctx: Arc<Ctx>, input: Value) -> Result<Value, AwsError> {
    let id = str_field(&input, "SecretId").unwrap_or_default();
    let (rec, _) = resolve(&ctx, "secretsmanager:ReplicateSecretToRegions", id, &[]).await?;
    refuse_deleted(&rec)?;
    super::secrets::refuse_replica(&rec)?;
    let status = add_replicas(&ctx, &rec, &input).await?;
    Ok(json!({ "ARN": rec.arn, "ReplicationStatus": status }))
}

pub async fn remove_regions_from_replication(
    ctx: Arc<Ctx>,
    input: Value,
) -> Result<Value, AwsError> {
    let id = str_field(&input, "SecretId").unwrap_or_default();
    let (rec, _) = resolve(&ctx, "secretsmanager:RemoveRegionsFromReplication", id, &[]).await?;
    super::secrets::refuse_replica(&rec)?;
    let regions: Vec<String> = input
        .get("RemoveReplicaRegions")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    for r in &regions {
        if !rec.replicas.iter().any(|x| &x.region == r) {
            return Err(error::invalid_parameter(format!(
                "The secret is not replicated to region {r}."
            )));
        }
    }
    let (account, _) = record::account_region(&rec.arn);
    let account = account.to_string();
    let updated = super::secrets::modify(&ctx, &rec, move |current, tx| {
        for region in &regions {
            let key = secret_key(&account, region, &current.name);
            if let Some((replica, _)) = records::get::<SecretRecord>(tx, &key)?
                && replica.arn == replica_arn(&current.arn, region)
            {
                record::delete_secret(tx, &replica)?;
            }
            current.replicas.retain(|r| &r.region != region);
        }
        Ok(current.clone())
    })
    .await?;
    Ok(json!({ "ARN": rec.arn, "ReplicationStatus": status_json(&updated) }))
}

pub async fn stop_replication_to_replica(ctx: Arc<Ctx>, input: Value) -> Result<Value, AwsError> {
    let id = str_field(&input, "SecretId").unwrap_or_default();
    let (rec, _) = resolve(&ctx, "secretsmanager:StopReplicationToReplica", id, &[]).await?;
    if !rec.is_replica() {
        return Err(error::invalid_request(
            "StopReplicationToReplica can only be called on a replica secret.",
        ));
    }
    let primary_region = rec.primary_region.clone().unwrap_or_default();
    let (_, own_region) = record::account_region(&rec.arn);
    let own = own_region.to_string();
    super::secrets::modify(&ctx, &rec, |current, _| {
        current.primary_region = None;
        Ok(())
    })
    .await?;
    // The primary forgets this replica.
    let primary_arn = replica_arn(&rec.arn, &primary_region);
    if let Ok(Found {
        secret: Some((primary, _)),
        ..
    }) = find(&ctx, &primary_arn).await
    {
        let _ = super::secrets::modify(&ctx, &primary, move |current, _| {
            current.replicas.retain(|r| r.region != own);
            Ok(())
        })
        .await;
    }
    Ok(json!({ "ARN": rec.arn }))
}
