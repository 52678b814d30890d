//! What the store holds for a secret: one metadata record per secret
//! (`ACCOUNT/REGION/secretsmanager/secret/NAME`) and one record per version holding only the
//! KMS ciphertext of its value (`ACCOUNT/REGION/secretsmanager/value/NAME/VERSION_ID`), plus the
//! purge index `sys/secretsmanager/purge/EPOCH/ACCOUNT/REGION/NAME` the background job walks.
use rampart_aws_types::AwsError;
use rampart_services::common::{keys, records};
use rampart_store::{Expect, ReadTxn, Txn};
use serde::{Deserialize, Serialize};

use crate::versions::Versions;

pub const SERVICE: &str = "secretsmanager";
pub const PURGE_PREFIX: &str = "sys/secretsmanager/purge/";
pub const ROTATE_PREFIX: &str = "sys/secretsmanager/rotate/";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tag {
    #[serde(rename = "Key")]
    pub key: String,
    #[serde(rename = "Value")]
    pub value: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RotationState {
    pub enabled: bool,
    #[serde(default)]
    pub lambda_arn: Option<String>,
    /// The `RotationRules` object as the caller gave it.
    #[serde(default)]
    pub rules: Option<serde_json::Value>,
    #[serde(default)]
    pub last_rotated: Option<f64>,
    #[serde(default)]
    pub next_rotation: Option<f64>,
    /// The token (version id) of the rotation under way, and the next of its four steps.
    #[serde(default)]
    pub in_progress: Option<String>,
    #[serde(default)]
    pub step: u8,
    /// When the secret's entry in the rotation index is due (to move or remove it).
    #[serde(default)]
    pub due_at: Option<i64>,
    /// The last failed attempt: step, message, time.
    #[serde(default)]
    pub last_failure: Option<serde_json::Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SecretRecord {
    pub arn: String,
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    /// The key as the caller named it; `None` = the account's `aws/secretsmanager` key.
    #[serde(default)]
    pub kms_key_id: Option<String>,
    pub created: f64,
    pub last_changed: f64,
    #[serde(default)]
    pub last_accessed: Option<f64>,
    /// When DeleteSecret was called, and when the secret will be purged.
    #[serde(default)]
    pub deleted: Option<f64>,
    #[serde(default)]
    pub purge_at: Option<i64>,
    #[serde(default)]
    pub tags: Vec<Tag>,
    #[serde(default)]
    pub versions: Versions,
    #[serde(default)]
    pub policy: Option<String>,
    #[serde(default)]
    pub rotation: RotationState,
    #[serde(default)]
    pub owning_service: Option<String>,
    #[serde(default)]
    pub primary_region: Option<String>,
    /// On a primary secret: its replicas in other regions.
    #[serde(default)]
    pub replicas: Vec<ReplicaStatus>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReplicaStatus {
    pub region: String,
    #[serde(default)]
    pub kms_key_id: Option<String>,
    /// `InSync`, `InProgress` or `Failed`.
    pub status: String,
    #[serde(default)]
    pub status_message: Option<String>,
}

impl SecretRecord {
    /// A replica is a copy kept in sync from its primary in another region.
    pub fn is_replica(&self) -> bool {
        let (_, region) = account_region(&self.arn);
        self.primary_region.as_deref().is_some_and(|p| p != region)
    }
}

/// One version's value: only ciphertext (from Rampart's KMS), never plaintext.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ValueRecord {
    /// base64 of the KMS ciphertext.
    pub ciphertext: String,
    /// Whether the value was given as `SecretBinary` (else `SecretString`).
    pub binary: bool,
    /// The `KmsKeyId` the value was encrypted under (`None`: the AWS managed key). A key ARN is
    /// handed to KMS on decryption, so a key of another account is found there.
    #[serde(default)]
    pub key: Option<String>,
}

pub fn secret_key(account: &str, region: &str, name: &str) -> String {
    keys::key(account, region, SERVICE, "secret", name)
}

pub fn secret_prefix(account: &str, region: &str) -> String {
    keys::prefix(account, region, SERVICE, "secret")
}

pub fn value_prefix(account: &str, region: &str, name: &str) -> String {
    format!(
        "{}{}/",
        keys::prefix(account, region, SERVICE, "value"),
        keys::escape(name)
    )
}

pub fn value_key(account: &str, region: &str, name: &str, version_id: &str) -> String {
    format!(
        "{}{}",
        value_prefix(account, region, name),
        keys::escape(version_id)
    )
}

pub fn purge_key(at: i64, account: &str, region: &str, name: &str) -> String {
    format!(
        "{PURGE_PREFIX}{:012}/{account}/{region}/{}",
        at.max(0),
        keys::escape(name)
    )
}

pub fn rotate_key(at: i64, account: &str, region: &str, name: &str) -> String {
    format!(
        "{ROTATE_PREFIX}{:012}/{account}/{region}/{}",
        at.max(0),
        keys::escape(name)
    )
}

/// Where a `SecretId` points: the owning account and region, and the candidates to try.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretRef {
    pub account: String,
    pub region: String,
    /// The name to try first and, for a full ARN, the ARN the record must have.
    pub candidates: Vec<(String, Option<String>)>,
    /// The ARN to authorize on when no secret is found.
    pub missing_arn: String,
}

pub fn secret_arn(region: &str, account: &str, name: &str, suffix: &str) -> String {
    format!("arn:aws:secretsmanager:{region}:{account}:secret:{name}-{suffix}")
}

/// Parses a `SecretId`: a name, a full ARN (name plus the 6-character suffix) or a partial ARN
/// (without the suffix).
pub fn parse_secret_id(id: &str, account: &str, region: &str) -> SecretRef {
    if let Some(rest) = id.strip_prefix("arn:") {
        let parts: Vec<&str> = rest.splitn(6, ':').collect();
        if let [
            _partition,
            "secretsmanager",
            arn_region,
            arn_account,
            "secret",
            resource,
        ] = parts.as_slice()
        {
            let mut candidates = Vec::new();
            // Full ARN: `NAME-XXXXXX`.
            if resource.len() > 7 && resource.as_bytes().get(resource.len() - 7) == Some(&b'-') {
                if let Some(name) = resource.get(..resource.len() - 7) {
                    candidates.push((name.to_string(), Some(id.to_string())));
                }
            }
            candidates.push((resource.to_string(), None));
            return SecretRef {
                account: arn_account.to_string(),
                region: arn_region.to_string(),
                candidates,
                missing_arn: id.to_string(),
            };
        }
    }
    SecretRef {
        account: account.to_string(),
        region: region.to_string(),
        candidates: vec![(id.to_string(), None)],
        missing_arn: format!("arn:aws:secretsmanager:{region}:{account}:secret:{id}"),
    }
}

/// Finds the secret a reference names (full-ARN match first, then by name).
pub fn find(
    tx: &mut (impl ReadTxn + ?Sized),
    r: &SecretRef,
) -> Result<Option<(SecretRecord, u64)>, AwsError> {
    for (name, arn) in &r.candidates {
        if let Some((rec, version)) =
            records::get::<SecretRecord>(tx, &secret_key(&r.account, &r.region, name))?
        {
            match arn {
                Some(a) if &rec.arn != a => continue,
                _ => return Ok(Some((rec, version))),
            }
        }
    }
    Ok(None)
}

pub fn put_secret(tx: &mut (impl Txn + ?Sized), rec: &SecretRecord) -> Result<(), AwsError> {
    let (account, region) = account_region(&rec.arn);
    records::put(
        tx,
        &secret_key(account, region, &rec.name),
        rec,
        Expect::Any,
    )?;
    Ok(())
}

/// Account and region of a secret ARN (`arn:aws:secretsmanager:REGION:ACCOUNT:secret:...`).
pub fn account_region(arn: &str) -> (&str, &str) {
    let mut parts = arn.split(':');
    let region = parts.nth(3).unwrap_or_default();
    let account = parts.next().unwrap_or_default();
    (account, region)
}

/// Removes a secret, every version value and its purge index entry.
pub fn delete_secret(tx: &mut (impl Txn + ?Sized), rec: &SecretRecord) -> Result<(), AwsError> {
    let (account, region) = account_region(&rec.arn);
    tx.delete(&secret_key(account, region, &rec.name), Expect::Any)?;
    tx.delete_prefix(&value_prefix(account, region, &rec.name))?;
    if let Some(at) = rec.purge_at {
        tx.delete(&purge_key(at, account, region, &rec.name), Expect::Any)?;
    }
    if let Some(at) = rec.rotation.due_at {
        tx.delete(&rotate_key(at, account, region, &rec.name), Expect::Any)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_parse() {
        let r = parse_secret_id("db/pass", "111122223333", "us-east-1");
        assert_eq!(r.candidates, vec![("db/pass".to_string(), None)]);
        let full = "arn:aws:secretsmanager:us-east-1:111122223333:secret:db/pass-AbCdEf";
        let r = parse_secret_id(full, "999999999999", "eu-west-1");
        assert_eq!(r.account, "111122223333");
        assert_eq!(r.region, "us-east-1");
        assert_eq!(
            r.candidates,
            vec![
                ("db/pass".to_string(), Some(full.to_string())),
                ("db/pass-AbCdEf".to_string(), None)
            ]
        );
        let partial = "arn:aws:secretsmanager:us-east-1:111122223333:secret:db";
        let r = parse_secret_id(partial, "1", "x");
        assert_eq!(r.candidates, vec![("db".to_string(), None)]);
        assert_eq!(account_region(full), ("111122223333", "us-east-1"));
    }
}
