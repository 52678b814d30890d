//! Unsealed key material, cached in memory so that each cryptographic request does not open the
//! sealed material and parse the key again. Entries are keyed by the key record's store key, its
//! version and the material id: any change to the record (rotation, import, deletion, ...) gives
//! it a new version, so stale entries are never hit, and they are dropped on the next insert.
//! Material lives in `KeyMaterial`, which keeps its bytes in zeroizing buffers.
use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use rampart_aws_types::AwsError;
use rampart_crypto::MasterKey;
use rampart_crypto::kms::{KeyMaterial, KeySpec};

use crate::error;
use crate::record::{KeyRecord, MaterialEntry, seal_context};

/// More distinct materials than this and the cache starts over (a bound, not a tuning knob).
const MAX_ENTRIES: usize = 4096;

type CacheKey = (String, String);

struct Entry {
    version: u64,
    material: Arc<KeyMaterial>,
}

static CACHE: LazyLock<Mutex<HashMap<CacheKey, Entry>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

/// The material `entry` of `key` (at record `version`), unsealed.
pub fn material(
    master: &MasterKey,
    key: &KeyRecord,
    version: u64,
    entry: &MaterialEntry,
) -> Result<Arc<KeyMaterial>, AwsError> {
    let cache_key = (key.store_key(), entry.id.clone());
    if let Ok(cache) = CACHE.lock() {
        if let Some(hit) = cache.get(&cache_key) {
            if hit.version == version {
                return Ok(hit.material.clone());
            }
        }
    }
    let material = Arc::new(unseal(master, key, entry)?);
    if let Ok(mut cache) = CACHE.lock() {
        if cache.len() >= MAX_ENTRIES {
            cache.clear();
        }
        cache.insert(
            cache_key,
            Entry {
                version,
                material: material.clone(),
            },
        );
    }
    Ok(material)
}

/// Drops every cached material of a key (by its store key): deletion, material deletion.
pub fn forget(store_key: &str) {
    if let Ok(mut cache) = CACHE.lock() {
        cache.retain(|(k, _), _| k != store_key);
    }
}

fn unseal(
    master: &MasterKey,
    key: &KeyRecord,
    entry: &MaterialEntry,
) -> Result<KeyMaterial, AwsError> {
    let spec: KeySpec = key.key_spec.parse().map_err(|_| error::internal())?;
    let sealed = STANDARD
        .decode(entry.sealed.as_bytes())
        .map_err(|_| error::internal())?;
    let bytes = master
        .open(&seal_context(&key.arn, &entry.id), &sealed)
        .map_err(|_| {
            tracing::error!(key = %key.arn, "key material does not open under the master key");
            error::internal()
        })?;
    KeyMaterial::from_bytes(spec, &bytes).map_err(|_| error::internal())
}

/// Seals fresh material for storage; returns the entry to append to the key's materials.
pub fn seal(
    master: &MasterKey,
    key_arn: &str,
    key_id: &rampart_crypto::kms::KeyId,
    material: &KeyMaterial,
    now: i64,
    rotation_type: Option<&str>,
) -> Result<MaterialEntry, AwsError> {
    let id = rampart_crypto::kms::MaterialId::derive(key_id, material).to_hex();
    let sealed = master
        .seal(&seal_context(key_arn, &id), &material.to_bytes())
        .map_err(|_| error::internal())?;
    Ok(MaterialEntry {
        id,
        sealed: STANDARD.encode(sealed),
        created: now,
        rotation_type: rotation_type.map(str::to_string),
    })
}
