//! What KMS keeps in the store: keys (with their sealed key materials), aliases and grants, and
//! the time index the background tick walks.
//!
//! Store keys:
//! - `ACCOUNT/REGION/kms/key/KEY_ID`               a [`KeyRecord`]
//! - `ACCOUNT/REGION/kms/alias/alias%2FNAME`       an [`AliasRecord`]
//! - `ACCOUNT/REGION/kms/grant/KEY_ID:GRANT_ID`    a [`GrantRecord`]
//! - `sys/kms/due/EPOCH/ACTION/ACCOUNT/REGION/KEY_ID`  empty: "look at this key at EPOCH"
use std::collections::BTreeMap;

use rampart_aws_types::AwsError;
use rampart_services::common::{keys, records};
use rampart_store::{Expect, ReadTxn, Txn};
use serde::{Deserialize, Serialize};

pub const SERVICE: &str = "kms";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum KeyState {
    Enabled,
    Disabled,
    PendingDeletion,
    PendingImport,
}

impl KeyState {
    pub fn as_str(self) -> &'static str {
        match self {
            KeyState::Enabled => "Enabled",
            KeyState::Disabled => "Disabled",
            KeyState::PendingDeletion => "PendingDeletion",
            KeyState::PendingImport => "PendingImport",
        }
    }
}

/// One key material of a key. The last one in [`KeyRecord::materials`] is current.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MaterialEntry {
    /// `MaterialId` as 64 hex digits.
    pub id: String,
    /// The serialized material sealed under the master key (see [`seal_context`]), base64.
    pub sealed: String,
    pub created: i64,
    /// `AUTOMATIC` / `ON_DEMAND` for materials a rotation added; `None` for the first.
    #[serde(default)]
    pub rotation_type: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RotationConfig {
    pub period_days: i64,
    pub next_rotation: i64,
}

/// What an `EXTERNAL` key remembers about its imported material.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImportInfo {
    /// `KEY_MATERIAL_EXPIRES` / `KEY_MATERIAL_DOES_NOT_EXPIRE`, once material was imported.
    pub expiration_model: Option<String>,
    pub valid_to: Option<i64>,
    /// The id of the first material ever imported: re-imports must bring the same material.
    pub first_material_id: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KeyRecord {
    pub key_id: String,
    pub account: String,
    pub region: String,
    pub arn: String,
    pub creation_date: i64,
    pub description: String,
    pub key_spec: String,
    pub key_usage: String,
    /// `AWS_KMS` or `EXTERNAL`.
    pub origin: String,
    /// `CUSTOMER` or `AWS`.
    pub key_manager: String,
    pub state: KeyState,
    pub deletion_date: Option<i64>,
    pub pending_window_days: Option<i64>,
    pub policy: String,
    pub tags: BTreeMap<String, String>,
    pub materials: Vec<MaterialEntry>,
    pub rotation: Option<RotationConfig>,
    #[serde(default)]
    pub on_demand_rotations: u32,
    #[serde(default)]
    pub import: Option<ImportInfo>,
    /// The key's aliases, kept in step by the alias operations (`kms:ResourceAliases`).
    #[serde(default)]
    pub aliases: Vec<String>,
}

impl KeyRecord {
    pub fn store_key(&self) -> String {
        key_store_key(&self.account, &self.region, &self.key_id)
    }

    pub fn current_material(&self) -> Option<&MaterialEntry> {
        self.materials.last()
    }

    pub fn material(&self, id_hex: &str) -> Option<&MaterialEntry> {
        self.materials.iter().find(|m| m.id == id_hex)
    }

    /// Times the tick must look at this key: deletion, automatic rotation, material expiry.
    pub fn due(&self) -> Vec<(i64, &'static str)> {
        let mut out = Vec::new();
        if let (KeyState::PendingDeletion, Some(at)) = (self.state, self.deletion_date) {
            out.push((at, "delete"));
        }
        if let Some(r) = &self.rotation {
            if self.state != KeyState::PendingDeletion {
                out.push((r.next_rotation, "rotate"));
            }
        }
        if let Some(at) = self.import.as_ref().and_then(|i| i.valid_to) {
            if !self.materials.is_empty() {
                out.push((at, "expire"));
            }
        }
        out
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AliasRecord {
    pub alias_name: String,
    pub target_key_id: String,
    pub creation_date: i64,
    pub last_updated_date: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GrantRecord {
    pub key_id: String,
    pub grant_id: String,
    pub name: Option<String>,
    pub creation_date: i64,
    pub grantee_principal: String,
    pub retiring_principal: Option<String>,
    pub issuing_account: String,
    pub operations: Vec<String>,
    pub constraint_subset: Option<BTreeMap<String, String>>,
    pub constraint_equals: Option<BTreeMap<String, String>>,
    pub token: String,
}

pub fn key_store_key(account: &str, region: &str, key_id: &str) -> String {
    keys::key(account, region, SERVICE, "key", key_id)
}

pub fn key_prefix(account: &str, region: &str) -> String {
    keys::prefix(account, region, SERVICE, "key")
}

pub fn alias_store_key(account: &str, region: &str, alias_name: &str) -> String {
    keys::key(account, region, SERVICE, "alias", alias_name)
}

pub fn alias_prefix(account: &str, region: &str) -> String {
    keys::prefix(account, region, SERVICE, "alias")
}

pub fn grant_store_key(account: &str, region: &str, key_id: &str, grant_id: &str) -> String {
    keys::key(
        account,
        region,
        SERVICE,
        "grant",
        &format!("{key_id}:{grant_id}"),
    )
}

/// All grants of the account and region (ListRetirableGrants walks these).
pub fn grant_prefix(account: &str, region: &str) -> String {
    keys::prefix(account, region, SERVICE, "grant")
}

/// The grants of one key.
pub fn key_grant_prefix(account: &str, region: &str, key_id: &str) -> String {
    format!("{}{}:", grant_prefix(account, region), keys::escape(key_id))
}

/// The context key material is sealed under: bound to the key and the material, so a sealed
/// material cannot be moved to another key or slot and opened there.
pub fn seal_context(arn: &str, material_id: &str) -> String {
    format!("rampart:kms:key-material:v1:{arn}:{material_id}")
}

pub const DUE_PREFIX: &str = "sys/kms/due/";

pub fn due_key(at: i64, action: &str, account: &str, region: &str, key_id: &str) -> String {
    // Zero-padded so the index sorts by time; times before 1970 are clamped.
    format!(
        "{DUE_PREFIX}{:020}/{action}/{account}/{region}/{key_id}",
        at.max(0)
    )
}

pub fn get_key(
    tx: &mut (impl ReadTxn + ?Sized),
    account: &str,
    region: &str,
    key_id: &str,
) -> Result<Option<(KeyRecord, u64)>, AwsError> {
    records::get(tx, &key_store_key(account, region, key_id))
}

/// Writes a key record and keeps the tick's time index in step with it. `old` is the record as
/// it was (None for a new key). `expect` guards against lost updates.
pub fn put_key(
    tx: &mut (impl Txn + ?Sized),
    old: Option<&KeyRecord>,
    new: &KeyRecord,
    expect: Expect,
) -> Result<u64, AwsError> {
    reindex(tx, old, Some(new))?;
    records::put(tx, &new.store_key(), new, expect)
}

/// Deletes a key record (and its index entries).
pub fn delete_key(tx: &mut (impl Txn + ?Sized), old: &KeyRecord) -> Result<(), AwsError> {
    reindex(tx, Some(old), None)?;
    tx.delete(&old.store_key(), Expect::Any)?;
    Ok(())
}

fn reindex(
    tx: &mut (impl Txn + ?Sized),
    old: Option<&KeyRecord>,
    new: Option<&KeyRecord>,
) -> Result<(), AwsError> {
    let entries = |r: &KeyRecord| -> Vec<String> {
        r.due()
            .into_iter()
            .map(|(at, action)| due_key(at, action, &r.account, &r.region, &r.key_id))
            .collect()
    };
    // Delete then (re)write: the result is right even if the index had drifted.
    for k in old.map(entries).unwrap_or_default() {
        tx.delete(&k, Expect::Any)?;
    }
    for k in new.map(entries).unwrap_or_default() {
        tx.put(&k, b"", Expect::Any)?;
    }
    Ok(())
}
