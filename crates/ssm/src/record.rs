//! What the store holds: one record per parameter (`ACCOUNT/REGION/ssm/param/NAME`, the latest
//! version and the labels), one per version (`ACCOUNT/REGION/ssm/pver/NAME/VERSION`) for the
//! history, and the count of standard parameters (`ACCOUNT/REGION/ssm/meta/standard-count`)
//! for the 10,000 quota. SecureString values are stored as KMS ciphertext only.
use std::collections::BTreeMap;

use rampart_services::common::keys;
use serde::{Deserialize, Serialize};

pub const SERVICE: &str = "ssm";
/// Parameter-policy index: `sys/ssm/due/EPOCH/ACTION/ACCOUNT/REGION/NAME`, value = the version.
pub const DUE_PREFIX: &str = "sys/ssm/due/";

pub fn due_key(at: i64, action: &str, account: &str, region: &str, name: &str) -> String {
    format!(
        "{DUE_PREFIX}{:012}/{action}/{account}/{region}/{}",
        at.max(0),
        keys::escape(name)
    )
}
pub const STANDARD_QUOTA: u64 = 10_000;
pub const MAX_VERSIONS: usize = 100;
pub const MAX_LABELS_PER_VERSION: usize = 10;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tag {
    #[serde(rename = "Key")]
    pub key: String,
    #[serde(rename = "Value")]
    pub value: String,
}

/// One version of a parameter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Version {
    pub version: u64,
    /// `String`, `StringList` or `SecureString`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The value for String/StringList; base64 of the KMS ciphertext for SecureString.
    pub value: String,
    #[serde(default)]
    pub key_id: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub allowed_pattern: Option<String>,
    pub tier: String,
    pub data_type: String,
    /// The parameter policies (JSON text of each) in force for this version.
    #[serde(default)]
    pub policies: Vec<String>,
    pub modified: f64,
    pub modified_by: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Param {
    pub name: String,
    pub arn: String,
    /// The latest version (labels kept up to date here too).
    pub latest: Version,
    /// Every version number still kept, oldest first.
    pub versions: Vec<u64>,
    /// Label -> version.
    #[serde(default)]
    pub labels: BTreeMap<String, u64>,
    #[serde(default)]
    pub tags: Vec<Tag>,
    /// Entries of the policy index (`sys/ssm/due/...`) for the latest version.
    #[serde(default)]
    pub due: Vec<String>,
}

impl Param {
    pub fn labels_of(&self, version: u64) -> Vec<String> {
        self.labels
            .iter()
            .filter(|(_, v)| **v == version)
            .map(|(l, _)| l.clone())
            .collect()
    }
}

pub fn param_prefix(account: &str, region: &str) -> String {
    keys::prefix(account, region, SERVICE, "param")
}

pub fn param_key(account: &str, region: &str, name: &str) -> String {
    keys::key(account, region, SERVICE, "param", name)
}

pub fn version_prefix(account: &str, region: &str, name: &str) -> String {
    format!(
        "{}{}/",
        keys::prefix(account, region, SERVICE, "pver"),
        keys::escape(name)
    )
}

pub fn version_key(account: &str, region: &str, name: &str, version: u64) -> String {
    format!("{}{version:020}", version_prefix(account, region, name))
}

pub fn standard_count_key(account: &str, region: &str) -> String {
    keys::key(account, region, SERVICE, "meta", "standard-count")
}

/// The name from a param key (for listings).
pub fn name_of_key(account: &str, region: &str, key: &str) -> Option<String> {
    key.strip_prefix(&param_prefix(account, region))
        .map(keys::unescape)
}
