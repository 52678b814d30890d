//! Access keys as the store holds them, shared by the server (which authenticates with them) and
//! the IAM crate (which creates, rotates and deletes them).
use serde::{Deserialize, Serialize};

/// Store key of an access key record. Access key ids are globally unique, so they live outside
/// any account's namespace.
pub fn access_key_store_key(access_key_id: &str) -> String {
    format!("sys/accesskey/{access_key_id}")
}

/// The context a secret access key is sealed under.
pub fn seal_context(access_key_id: &str) -> String {
    format!("access-key/{access_key_id}")
}

/// Whose key an access key is.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum KeyOwner {
    Root,
    #[serde(rename_all = "camelCase")]
    User {
        name: String,
        user_id: String,
        /// The user's path (`/` or `/division/`), part of its ARN. Kept in step by IAM's
        /// UpdateUser.
        #[serde(default = "root_path")]
        path: String,
    },
}

fn root_path() -> String {
    "/".to_string()
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AccessKeyRecord {
    pub access_key_id: String,
    pub account_id: String,
    pub owner: KeyOwner,
    /// The secret access key, sealed under the master key with [`seal_context`], base64.
    pub sealed_secret: String,
    /// `Active` or `Inactive`.
    pub status: String,
    pub create_date: String,
}

/// The server caches unsealed keys for speed; whoever changes or deletes a key tells it here so
/// the change takes effect at once.
pub trait CredentialCache: Send + Sync {
    fn invalidate(&self, access_key_id: &str);
}
