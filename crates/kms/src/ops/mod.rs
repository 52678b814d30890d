//! The operations, grouped by what they act on, and what they share: loading the target key
//! (with its grants), the key-state rules, updating a key record, and `KeyMetadata`.
pub mod aliases;
pub mod crypto;
pub mod grants;
pub mod import;
pub mod keys;
pub mod policies;
pub mod rotation;

use std::collections::BTreeMap;
use std::sync::Arc;

use rampart_aws_types::AwsError;
use rampart_services::Ctx;
use rampart_services::common::records;
use rampart_store::Expect;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::error;
use crate::managed;
use crate::record::{GrantRecord, KeyRecord, KeyState, get_key, key_grant_prefix, put_key};
use crate::resolve::{self, Aliases, KeyRef};

/// The key a request names, as read in one snapshot with its grants.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub key: KeyRecord,
    pub version: u64,
    pub grants: Vec<GrantRecord>,
    /// The alias the request named the key by (`kms:RequestAlias`), if it did.
    pub request_alias: Option<String>,
}

/// Resolves `given` and reads the key and its grants. An `alias/aws/<service>` of the caller's
/// account that does not exist yet is created on first use, as AWS does.
pub async fn load(ctx: &Ctx, given: &str, aliases: Aliases) -> Result<Arc<Loaded>, AwsError> {
    let key_ref = resolve::parse(given, ctx.account(), ctx.region(), aliases)?;
    match &key_ref {
        KeyRef::Key {
            account,
            region,
            key_id,
        } if region != ctx.region() => {
            return Err(error::key_not_found(&resolve::key_arn(
                region, account, key_id,
            )));
        }
        KeyRef::Alias {
            account,
            region,
            name,
        } if region != ctx.region() => {
            return Err(error::alias_not_found(&resolve::alias_arn(
                region, account, name,
            )));
        }
        _ => {}
    }
    match read(ctx, key_ref.clone()).await {
        Err(e) if e.code == "NotFoundException" => {
            if let KeyRef::Alias { account, name, .. } = &key_ref {
                if account == ctx.account() && managed::service_of_alias(name).is_some() {
                    managed::ensure(ctx, name).await?;
                    return read(ctx, key_ref).await;
                }
            }
            Err(e)
        }
        other => other,
    }
}

/// The key and its grants as stored: a pure function of the store's records, so the store may
/// serve it from memory until the next commit (every request still checks state and
/// authorization on it).
async fn read(ctx: &Ctx, key_ref: KeyRef) -> Result<Arc<Loaded>, AwsError> {
    let cache_key = match &key_ref {
        KeyRef::Key {
            account,
            region,
            key_id,
        } => format!("kms:key:{account}:{region}:{key_id}"),
        KeyRef::Alias {
            account,
            region,
            name,
        } => format!("kms:alias:{account}:{region}:{name}"),
    };
    ctx.store()
        .read_cached(&cache_key, move |tx| {
            let (key, version) = resolve::load(tx, &key_ref)?;
            let request_alias = match &key_ref {
                KeyRef::Alias { name, .. } => Some(name.clone()),
                KeyRef::Key { .. } => None,
            };
            let mut grants = Vec::new();
            for (k, r) in tx.scan_all(&key_grant_prefix(&key.account, &key.region, &key.key_id))? {
                grants.push(records::decode::<GrantRecord>(&k, &r.value)?);
            }
            Ok::<_, AwsError>(Loaded {
                key,
                version,
                grants,
                request_alias,
            })
        })
        .await
}

/// Applies `change` to the key record as it is now, in one transaction. If the key's policy or
/// tags changed since the request was authorized, it fails with a conflict instead (the caller
/// retries and is authorized afresh). `change` re-checks the key state it needs.
pub async fn update_key<F>(ctx: &Ctx, loaded: &Loaded, change: F) -> Result<KeyRecord, AwsError>
where
    F: Fn(&mut KeyRecord) -> Result<(), AwsError> + Send + 'static,
{
    let (account, region, key_id) = (
        loaded.key.account.clone(),
        loaded.key.region.clone(),
        loaded.key.key_id.clone(),
    );
    // What the decision was made on: the policy and the tags (aws:ResourceTag).
    let (policy, tags) = (loaded.key.policy.clone(), loaded.key.tags.clone());
    let updated = ctx
        .store()
        .write(move |tx| {
            let (old, found) = get_key(tx, &account, &region, &key_id)?.ok_or_else(|| {
                error::key_not_found(&resolve::key_arn(&region, &account, &key_id))
            })?;
            // A change since the read is fine unless it changed what authorized this one.
            if old.policy != policy || old.tags != tags {
                return Err(conflict());
            }
            let mut new = old.clone();
            change(&mut new)?;
            put_key(tx, Some(&old), &new, Expect::Version(found))?;
            Ok(new)
        })
        .await?;
    Ok(updated)
}

pub fn conflict() -> AwsError {
    error::kms(
        "ConflictException",
        "The request was rejected because the key was changed by another request at the same time. Retry the request.",
    )
}

/// Cryptographic operations need an `Enabled` key: AWS's exceptions for the other states.
pub fn require_enabled(key: &KeyRecord) -> Result<(), AwsError> {
    match key.state {
        KeyState::Enabled => Ok(()),
        KeyState::Disabled => Err(error::disabled(&key.arn)),
        KeyState::PendingDeletion => Err(error::invalid_state(format!(
            "{} is pending deletion.",
            key.arn
        ))),
        KeyState::PendingImport => Err(error::invalid_state(format!(
            "{} is pending import.",
            key.arn
        ))),
    }
}

/// Management operations that AWS refuses on a key pending deletion.
pub fn require_not_pending_deletion(key: &KeyRecord) -> Result<(), AwsError> {
    if key.state == KeyState::PendingDeletion {
        return Err(error::invalid_state(format!(
            "{} is pending deletion.",
            key.arn
        )));
    }
    Ok(())
}

/// `KeyMetadata` with the members AWS fills for this key.
pub fn key_metadata(key: &KeyRecord) -> Value {
    let mut m = Map::new();
    m.insert("AWSAccountId".into(), json!(key.account));
    m.insert("KeyId".into(), json!(key.key_id));
    m.insert("Arn".into(), json!(key.arn));
    m.insert("CreationDate".into(), json!(key.creation_date));
    m.insert("Enabled".into(), json!(key.state == KeyState::Enabled));
    m.insert("Description".into(), json!(key.description));
    m.insert("KeyUsage".into(), json!(key.key_usage));
    m.insert("KeyState".into(), json!(key.state.as_str()));
    if let Some(d) = key.deletion_date {
        m.insert("DeletionDate".into(), json!(d));
    }
    if let Some(import) = &key.import {
        if let Some(v) = import.valid_to {
            m.insert("ValidTo".into(), json!(v));
        }
    }
    m.insert("Origin".into(), json!(key.origin));
    if let Some(model) = key.import.as_ref().and_then(|i| i.expiration_model.clone()) {
        m.insert("ExpirationModel".into(), json!(model));
    }
    m.insert("KeyManager".into(), json!(key.key_manager));
    m.insert("CustomerMasterKeySpec".into(), json!(key.key_spec));
    m.insert("KeySpec".into(), json!(key.key_spec));
    if let (Ok(spec), Ok(usage)) = (
        key.key_spec.parse::<rampart_crypto::kms::KeySpec>(),
        key.key_usage.parse::<rampart_crypto::kms::KeyUsage>(),
    ) {
        let lists = spec.algorithms(usage);
        let names = |v: Vec<&str>| json!(v);
        if !lists.encryption.is_empty() {
            m.insert(
                "EncryptionAlgorithms".into(),
                names(lists.encryption.iter().map(|a| a.as_str()).collect()),
            );
        }
        if !lists.signing.is_empty() {
            m.insert(
                "SigningAlgorithms".into(),
                names(lists.signing.iter().map(|a| a.as_str()).collect()),
            );
        }
        if !lists.key_agreement.is_empty() {
            m.insert(
                "KeyAgreementAlgorithms".into(),
                names(lists.key_agreement.iter().map(|a| a.as_str()).collect()),
            );
        }
        if !lists.mac.is_empty() {
            m.insert(
                "MacAlgorithms".into(),
                names(lists.mac.iter().map(|a| a.as_str()).collect()),
            );
        }
    }
    m.insert("MultiRegion".into(), json!(false));
    if let Some(w) = key.pending_window_days {
        m.insert("PendingDeletionWindowInDays".into(), json!(w));
    }
    if key.key_spec == "SYMMETRIC_DEFAULT" {
        if let Some(cur) = key.current_material() {
            m.insert("CurrentKeyMaterialId".into(), json!(cur.id));
        }
    }
    Value::Object(m)
}

/// A paginated listing's `Limit`/`Marker` (AWS's default page is 100 for most KMS lists).
#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct Paging {
    pub limit: Option<usize>,
    pub marker: Option<String>,
}

/// Encodes one page of a listing: `Truncated`, and `NextMarker` only when truncated.
pub fn page_output(member: &str, items: Vec<Value>, next: Option<String>) -> Value {
    let mut out = Map::new();
    out.insert(member.into(), Value::Array(items));
    out.insert("Truncated".into(), json!(next.is_some()));
    if let Some(n) = next {
        out.insert("NextMarker".into(), json!(n));
    }
    Value::Object(out)
}

/// Epoch seconds of the request time.
pub fn now_secs(ctx: &Ctx) -> i64 {
    ctx.now().unix_timestamp()
}

/// Tags as the request gave them (`[{TagKey, TagValue}]`).
#[derive(Debug, Deserialize, Clone)]
#[serde(rename_all = "PascalCase")]
pub struct Tag {
    pub tag_key: String,
    pub tag_value: String,
}

pub fn tag_pairs(tags: &[Tag]) -> Vec<(String, String)> {
    tags.iter()
        .map(|t| (t.tag_key.clone(), t.tag_value.clone()))
        .collect()
}

/// The encryption context of a request (absent = empty).
pub type Context = BTreeMap<String, String>;
