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
    /// For STS sessions: the token the entry was opened from (a different token with the same
    /// key id is opened afresh).
    session_token: Option<String>,
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

/// Why temporary credentials were refused.
#[derive(Debug)]
pub enum SessionFailure {
    /// Unknown or altered token, or a token presented with the wrong key (`InvalidClientTokenId`).
    Invalid,
    /// `ExpiredToken`.
    Expired,
    Internal(AwsError),
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

    /// Resolves the credentials a request was signed with: a long-term key (AKIA, from the
    /// store) or an STS session (ASIA, from its sealed token). `Ok(None)`: unknown key.
    pub async fn authenticate(
        &self,
        access_key_id: &str,
        security_token: Option<&str>,
        now: i64,
    ) -> Result<Option<Arc<KeyEntry>>, SessionFailure> {
        if access_key_id.starts_with("ASIA") {
            let token = security_token.ok_or(SessionFailure::Invalid)?;
            return self.session(access_key_id, token, now).map(Some);
        }
        if security_token.is_some() {
            // A session token only goes with the temporary key it was issued with.
            return Err(SessionFailure::Invalid);
        }
        self.lookup(access_key_id)
            .await
            .map_err(SessionFailure::Internal)
    }

    fn session(
        &self,
        access_key_id: &str,
        token: &str,
        now: i64,
    ) -> Result<Arc<KeyEntry>, SessionFailure> {
        if let Some(entry) = self
            .cache
            .read()
            .ok()
            .and_then(|c| c.get(access_key_id).cloned())
        {
            if entry.session_token.as_deref() == Some(token) {
                let expires = entry.principal.session.as_ref().map_or(0, |s| s.expires_at);
                return if now < expires {
                    Ok(entry)
                } else {
                    Err(SessionFailure::Expired)
                };
            }
        }
        let claims = rampart_sts::session::open(&self.master_key, access_key_id, token, now)
            .map_err(|e| match e {
                rampart_sts::session::TokenError::Expired => SessionFailure::Expired,
                rampart_sts::session::TokenError::Invalid => SessionFailure::Invalid,
            })?;
        let entry = Arc::new(KeyEntry {
            principal: claims.principal(),
            session_token: Some(token.to_string()),
            secret: Zeroizing::new(claims.secret_access_key.clone()),
            signing_keys: Mutex::new(Vec::new()),
        });
        if let Ok(mut cache) = self.cache.write() {
            // Sessions are many and short-lived: keep the cache bounded.
            if cache.len() > 100_000 {
                cache.retain(|id, _| !id.starts_with("ASIA"));
            }
            cache.insert(access_key_id.to_string(), entry.clone());
        }
        Ok(entry)
    }

    /// The key entry for a long-term access key id, or `None` if no such active key exists.
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
            .read(move |tx| tx.get(&key))
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
            session_token: None,
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
