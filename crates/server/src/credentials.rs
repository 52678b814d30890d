//! Access keys → principals, with an in-memory cache so SigV4 verification stays off the store's
//! hot path. Secrets are unsealed once, held in zeroizing memory, and derived SigV4 signing keys
//! are cached per credential scope (date/region/service).
use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};

use base64::Engine as _;
use rampart_aws_types::AwsError;
use rampart_crypto::MasterKey;
use rampart_services::Principal;
use rampart_sigv4::SigningKey;
use rampart_store::Store;
use zeroize::Zeroizing;

use rampart_services::credentials::{
    AccessKeyRecord, CredentialCache, KeyOwner, access_key_store_key, seal_context,
};

/// A known access key, ready to verify signatures.
pub struct KeyEntry {
    pub principal: Principal,
    secret: Zeroizing<String>,
    /// Derived signing keys by scope `date/region/service`; a handful per key at most.
    signing_keys: Mutex<Vec<(String, SigningKey)>>,
}

impl KeyEntry {
    pub fn signing_key(&self, date: &str, region: &str, service: &str) -> SigningKey {
        let scope = format!("{date}/{region}/{service}");
        if let Ok(cache) = self.signing_keys.lock() {
            if let Some((_, key)) = cache.iter().find(|(s, _)| *s == scope) {
                return key.clone();
            }
        }
        let key = SigningKey::derive(&self.secret, date, region, service);
        if let Ok(mut cache) = self.signing_keys.lock() {
            // Scopes change daily; keep the few most recent.
            if cache.len() >= 8 {
                cache.remove(0);
            }
            cache.push((scope, key.clone()));
        }
        key
    }
}

pub struct Credentials {
    store: Store,
    master_key: Arc<MasterKey>,
    cache: RwLock<HashMap<String, Arc<KeyEntry>>>,
}

impl Credentials {
    pub fn new(store: Store, master_key: Arc<MasterKey>) -> Credentials {
        Credentials {
            store,
            master_key,
            cache: RwLock::new(HashMap::new()),
        }
    }

    /// The key entry for an access key id, or `None` if no such active key exists.
    pub async fn lookup(&self, access_key_id: &str) -> Result<Option<Arc<KeyEntry>>, AwsError> {
        if let Some(entry) = self
            .cache
            .read()
            .ok()
            .and_then(|c| c.get(access_key_id).cloned())
        {
            return Ok(Some(entry));
        }
        // Only well-formed ids reach the store.
        if access_key_id.len() < 16
            || access_key_id.len() > 128
            || !access_key_id.bytes().all(|b| b.is_ascii_alphanumeric())
        {
            return Ok(None);
        }
        let key = access_key_store_key(access_key_id);
        let record = self
            .store
            .read(move |tx| Ok::<_, rampart_store::StoreError>(tx.get(&key)?))
            .await
            .map_err(|e| AwsError::internal(format!("credential lookup failed: {e}")))?;
        let Some(record) = record else {
            return Ok(None);
        };
        let rec: AccessKeyRecord = serde_json::from_slice(&record.value)
            .map_err(|_| AwsError::internal("corrupt access key record"))?;
        if rec.status != "Active" {
            return Ok(None);
        }
        let sealed = base64::engine::general_purpose::STANDARD
            .decode(&rec.sealed_secret)
            .map_err(|_| AwsError::internal("corrupt access key record"))?;
        let secret = self
            .master_key
            .open(&seal_context(access_key_id), &sealed)
            .map_err(|_| {
                AwsError::internal(
                    "cannot unseal an access key; is this the data directory's master key?",
                )
            })?;
        let secret = Zeroizing::new(
            String::from_utf8(secret.to_vec())
                .map_err(|_| AwsError::internal("corrupt access key record"))?,
        );
        let principal = match rec.owner {
            KeyOwner::Root => Principal::root(&rec.account_id, access_key_id),
            KeyOwner::User {
                name,
                user_id,
                path,
            } => Principal::user(&rec.account_id, &name, &path, &user_id, access_key_id),
        };
        let entry = Arc::new(KeyEntry {
            principal,
            secret,
            signing_keys: Mutex::new(Vec::new()),
        });
        if let Ok(mut cache) = self.cache.write() {
            cache.insert(access_key_id.to_string(), entry.clone());
        }
        Ok(Some(entry))
    }

    /// Forgets every cached key (after a reset, or when keys change).
    pub fn clear(&self) {
        if let Ok(mut cache) = self.cache.write() {
            cache.clear();
        }
    }
}

impl CredentialCache for Credentials {
    fn invalidate(&self, access_key_id: &str) {
        if let Ok(mut cache) = self.cache.write() {
            cache.remove(access_key_id);
        }
    }
}
