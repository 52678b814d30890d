//! The operations, grouped by what they act on, and what they share: resolving a `SecretId`,
//! authorizing on the secret (with its resource policy), encrypting values through KMS.
pub mod batch;
pub mod list;
pub mod password;
pub mod policy;
pub mod replicas;
pub mod rotate;
pub mod secrets;
pub mod values;

use std::collections::BTreeMap;

use rampart_aws_types::AwsError;
use rampart_services::{Ctx, ResourcePolicy, ResourcePolicyKind};
use serde_json::{Value, json};
use time::OffsetDateTime;
use zeroize::Zeroizing;

use crate::error;
use crate::record::{self, SecretRecord, SecretRef};

/// Largest secret value (SecretString or SecretBinary), in bytes.
pub const MAX_VALUE_BYTES: usize = 65536;

/// Epoch seconds with millisecond precision, as AWS reports dates.
pub fn epoch(t: OffsetDateTime) -> f64 {
    (t.unix_timestamp_nanos() / 1_000_000) as f64 / 1000.0
}

pub fn str_field<'a>(input: &'a Value, name: &str) -> Option<&'a str> {
    input.get(name).and_then(Value::as_str)
}

/// A secret found (or not) for a `SecretId`, before authorization.
pub struct Found {
    pub reference: SecretRef,
    pub secret: Option<(SecretRecord, u64)>,
}

pub async fn find(ctx: &Ctx, secret_id: &str) -> Result<Found, AwsError> {
    let reference = record::parse_secret_id(secret_id, ctx.account(), ctx.region());
    let r = reference.clone();
    let secret = ctx.store().read(move |tx| record::find(tx, &r)).await?;
    Ok(Found { reference, secret })
}

/// Condition keys describing a secret.
pub fn secret_conditions(rec: &SecretRecord) -> Vec<(String, String)> {
    let mut c = vec![("secretsmanager:SecretId".to_string(), rec.arn.clone())];
    for t in &rec.tags {
        c.push((format!("aws:ResourceTag/{}", t.key), t.value.clone()));
        c.push((
            format!("secretsmanager:ResourceTag/{}", t.key),
            t.value.clone(),
        ));
    }
    if let Some(k) = &rec.kms_key_id {
        c.push(("secretsmanager:KmsKeyId".to_string(), k.clone()));
    }
    c
}

/// Authorizes `action` on what `found` points at (the secret's resource policy takes part);
/// then returns the secret or AWS's not-found error.
pub fn authorize_found(
    ctx: &Ctx,
    action: &str,
    found: Found,
    extra: &[(String, String)],
) -> Result<(SecretRecord, u64), AwsError> {
    match found.secret {
        Some((rec, version)) => {
            let mut conds = secret_conditions(&rec);
            conds.extend(extra.iter().cloned());
            let borrowed: Vec<(&str, &str)> = conds
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            let (account, _) = record::account_region(&rec.arn);
            ctx.authorize_on(
                action,
                &rec.arn,
                account,
                &borrowed,
                rec.policy.as_deref().map(|document| ResourcePolicy {
                    document,
                    kind: ResourcePolicyKind::Standard,
                }),
            )?;
            Ok((rec, version))
        }
        None => {
            let borrowed: Vec<(&str, &str)> = extra
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            ctx.authorize_on(
                action,
                &found.reference.missing_arn,
                &found.reference.account,
                &borrowed,
                None,
            )?;
            Err(error::not_found())
        }
    }
}

/// Finds and authorizes in one step.
pub async fn resolve(
    ctx: &Ctx,
    action: &str,
    secret_id: &str,
    extra: &[(String, String)],
) -> Result<(SecretRecord, u64), AwsError> {
    let found = find(ctx, secret_id).await?;
    authorize_found(ctx, action, found, extra)
}

pub fn refuse_deleted(rec: &SecretRecord) -> Result<(), AwsError> {
    if rec.deleted.is_some() {
        return Err(error::marked_for_deletion());
    }
    Ok(())
}

/// KMS's encryption context for one version, as AWS Secrets Manager uses it.
pub fn encryption_context(arn: &str, version_id: &str) -> BTreeMap<String, String> {
    BTreeMap::from([
        ("SecretARN".to_string(), arn.to_string()),
        ("SecretVersionId".to_string(), version_id.to_string()),
    ])
}

pub async fn encrypt_value(
    ctx: &Ctx,
    rec: &SecretRecord,
    version_id: &str,
    plaintext: &[u8],
) -> Result<Vec<u8>, AwsError> {
    rampart_kms::internal::encrypt_for_service(
        ctx,
        record::SERVICE,
        rec.kms_key_id.as_deref(),
        plaintext,
        &encryption_context(&rec.arn, version_id),
    )
    .await
}

pub async fn decrypt_value(
    ctx: &Ctx,
    arn: &str,
    version_id: &str,
    stored: &record::ValueRecord,
) -> Result<Zeroizing<Vec<u8>>, AwsError> {
    use base64::Engine as _;
    let blob = base64::engine::general_purpose::STANDARD
        .decode(&stored.ciphertext)
        .map_err(|_| error::internal())?;
    let key = stored.key.as_deref().filter(|k| k.starts_with("arn:"));
    rampart_kms::internal::decrypt_for_service(
        ctx,
        record::SERVICE,
        key,
        &blob,
        &encryption_context(arn, version_id),
    )
    .await
}

/// A secret value from the request: bytes and whether it came as `SecretBinary`.
/// The value bytes and whether they came as `SecretBinary`.
pub type InputValue = (Zeroizing<Vec<u8>>, bool);

pub fn value_from_input(input: &Value) -> Result<Option<InputValue>, AwsError> {
    use base64::Engine as _;
    let s = str_field(input, "SecretString");
    let b = str_field(input, "SecretBinary");
    let value = match (s, b) {
        (Some(_), Some(_)) => {
            return Err(error::invalid_parameter(
                "You can't specify both a binary secret value and a string secret value in the same secret.",
            ));
        }
        (Some(s), None) => Some((Zeroizing::new(s.as_bytes().to_vec()), false)),
        (None, Some(b)) => {
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(b)
                .map_err(|_| error::invalid_parameter("SecretBinary is not valid base64."))?;
            Some((Zeroizing::new(bytes), true))
        }
        (None, None) => None,
    };
    if let Some((v, _)) = &value
        && v.len() > MAX_VALUE_BYTES
    {
        return Err(error::invalid_parameter(
            "The secret value exceeds the maximum size of 65536 bytes.",
        ));
    }
    Ok(value)
}

/// A token from the request, or a fresh version id.
pub fn version_id_from_token(input: &Value) -> Result<String, AwsError> {
    match str_field(input, "ClientRequestToken") {
        Some(t) => Ok(t.to_string()),
        None => crate::versions::new_version_id(),
    }
}

pub fn tags_json(rec: &SecretRecord) -> Option<Value> {
    if rec.tags.is_empty() {
        None
    } else {
        Some(json!(rec.tags))
    }
}

pub fn parse_tags(input: &Value) -> Vec<(String, String)> {
    input
        .get("Tags")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .map(|t| {
                    (
                        str_field(t, "Key").unwrap_or_default().to_string(),
                        str_field(t, "Value").unwrap_or_default().to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Offset-based pagination tokens for listings that sort in memory.
pub mod token {
    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    pub fn encode(offset: usize) -> String {
        URL_SAFE_NO_PAD.encode(format!("sm1:{offset}"))
    }

    pub fn decode(token: &str) -> Option<usize> {
        let bytes = URL_SAFE_NO_PAD.decode(token.as_bytes()).ok()?;
        String::from_utf8(bytes)
            .ok()?
            .strip_prefix("sm1:")?
            .parse()
            .ok()
    }
}

/// Sets a member of an output object (outputs are always objects).
pub fn set(out: &mut Value, key: &str, value: Value) {
    if let Some(m) = out.as_object_mut() {
        m.insert(key.to_string(), value);
    }
}
