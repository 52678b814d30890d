//! The operations and what they share: loading and authorizing a parameter, KMS calls for
//! SecureString values, the output shapes.
pub mod delete;
pub mod get;
pub mod labels;
pub mod list;
pub mod put;
pub mod tags;

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use rampart_aws_types::AwsError;
use rampart_services::Ctx;
use rampart_services::common::records;
use serde_json::{Value, json};
use time::OffsetDateTime;

use crate::error::{self, ssm};
use crate::names;
use crate::record::{self, Param, Version};

pub const SECURE: &str = "SecureString";

pub fn epoch(t: OffsetDateTime) -> f64 {
    (t.unix_timestamp_nanos() / 1_000_000) as f64 / 1000.0
}

pub fn str_field<'a>(input: &'a Value, name: &str) -> Option<&'a str> {
    input.get(name).and_then(Value::as_str)
}

pub fn bool_field(input: &Value, name: &str) -> bool {
    input.get(name).and_then(Value::as_bool).unwrap_or(false)
}

pub fn set(out: &mut Value, key: &str, value: Value) {
    if let Some(m) = out.as_object_mut() {
        m.insert(key.to_string(), value);
    }
}

pub fn param_arn(ctx: &Ctx, name: &str) -> String {
    names::arn(ctx.region(), ctx.account(), name)
}

/// Reads a parameter of the caller's account and region.
pub async fn load(ctx: &Ctx, name: &str) -> Result<Option<(Param, u64)>, AwsError> {
    let key = record::param_key(ctx.account(), ctx.region(), name);
    ctx.store().read(move |tx| records::get(tx, &key)).await
}

/// `load` for the read path: the store may serve it from memory until its next commit (the
/// result is a pure function of the record; callers authorize and check it every time).
pub async fn load_shared(
    ctx: &Ctx,
    name: &str,
) -> Result<std::sync::Arc<Option<(Param, u64)>>, AwsError> {
    let key = record::param_key(ctx.account(), ctx.region(), name);
    ctx.store()
        .read_cached(&format!("ssm:{key}"), move |tx| records::get(tx, &key))
        .await
}

pub fn tag_conditions(p: Option<&Param>) -> Vec<(String, String)> {
    p.map(|p| {
        p.tags
            .iter()
            .map(|t| (format!("aws:ResourceTag/{}", t.key), t.value.clone()))
            .collect()
    })
    .unwrap_or_default()
}

/// Authorizes `action` on a parameter (found or not).
pub fn authorize_param(
    ctx: &Ctx,
    action: &str,
    name: &str,
    found: Option<&Param>,
    extra: &[(String, String)],
) -> Result<(), AwsError> {
    let mut conds = tag_conditions(found);
    conds.extend(extra.iter().cloned());
    let borrowed: Vec<(&str, &str)> = conds
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    ctx.authorize(action, &param_arn(ctx, name), &borrowed)
}

fn context(arn: &str) -> BTreeMap<String, String> {
    BTreeMap::from([("PARAMETER_ARN".to_string(), arn.to_string())])
}

/// KMS's errors pass through as SSM reports them: an unknown key is `InvalidKeyId`.
fn kms_error(e: AwsError) -> AwsError {
    if e.code == "NotFoundException" || e.code == "InvalidArnException" {
        ssm("InvalidKeyId", e.message)
    } else {
        e
    }
}

/// `None` = the account's AWS managed key `alias/aws/ssm`.
pub fn kms_key(key_id: Option<&str>) -> Option<&str> {
    key_id.filter(|k| *k != DEFAULT_KEY)
}

pub const DEFAULT_KEY: &str = "alias/aws/ssm";

pub async fn encrypt(
    ctx: &Ctx,
    arn: &str,
    key_id: Option<&str>,
    plain: &str,
) -> Result<String, AwsError> {
    let blob = rampart_kms::internal::encrypt_for_service(
        ctx,
        record::SERVICE,
        kms_key(key_id),
        plain.as_bytes(),
        &context(arn),
    )
    .await
    .map_err(kms_error)?;
    Ok(STANDARD.encode(blob))
}

pub async fn decrypt(ctx: &Ctx, arn: &str, ciphertext_b64: &str) -> Result<String, AwsError> {
    let blob = STANDARD
        .decode(ciphertext_b64)
        .map_err(|_| error::internal())?;
    let plain = rampart_kms::internal::decrypt_for_service(
        ctx,
        record::SERVICE,
        None,
        &blob,
        &context(arn),
    )
    .await
    .map_err(kms_error)?;
    String::from_utf8(plain.to_vec()).map_err(|_| error::internal())
}

/// The value to answer: decrypted when asked for, else the ciphertext as AWS answers it.
pub async fn output_value(
    ctx: &Ctx,
    arn: &str,
    v: &Version,
    with_decryption: bool,
) -> Result<String, AwsError> {
    if v.kind == SECURE && with_decryption {
        decrypt(ctx, arn, &v.value).await
    } else {
        Ok(v.value.clone())
    }
}

/// The `Parameter` shape.
pub async fn parameter_json(
    ctx: &Ctx,
    p: &Param,
    v: &Version,
    with_decryption: bool,
    selector: Option<&str>,
) -> Result<Value, AwsError> {
    let value = output_value(ctx, &p.arn, v, with_decryption).await?;
    let mut out = json!({
        "Name": p.name,
        "Type": v.kind,
        "Value": value,
        "Version": v.version,
        "LastModifiedDate": v.modified,
        "ARN": p.arn,
        "DataType": v.data_type,
    });
    if let Some(s) = selector {
        set(&mut out, "Selector", json!(s));
    }
    Ok(out)
}

pub fn policies_json(v: &Version) -> Value {
    json!(
        v.policies
            .iter()
            .map(|text| {
                let kind = serde_json::from_str::<Value>(text)
                    .ok()
                    .and_then(|p| p.get("Type").and_then(Value::as_str).map(str::to_string))
                    .unwrap_or_default();
                json!({ "PolicyText": text, "PolicyType": kind, "PolicyStatus": "Pending" })
            })
            .collect::<Vec<_>>()
    )
}

/// The `ParameterMetadata` shape (DescribeParameters).
pub fn metadata_json(p: &Param) -> Value {
    let v = &p.latest;
    let mut out = json!({
        "Name": p.name,
        "ARN": p.arn,
        "Type": v.kind,
        "LastModifiedDate": v.modified,
        "LastModifiedUser": v.modified_by,
        "Version": v.version,
        "Tier": v.tier,
        "Policies": policies_json(v),
        "DataType": v.data_type,
    });
    if let Some(k) = &v.key_id {
        set(&mut out, "KeyId", json!(k));
    }
    if let Some(d) = &v.description {
        set(&mut out, "Description", json!(d));
    }
    if let Some(a) = &v.allowed_pattern {
        set(&mut out, "AllowedPattern", json!(a));
    }
    out
}

/// Offset tokens for listings computed in memory.
pub mod token {
    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    pub fn encode(offset: usize) -> String {
        URL_SAFE_NO_PAD.encode(format!("ssm1:{offset}"))
    }

    pub fn decode(token: &str) -> Option<usize> {
        let bytes = URL_SAFE_NO_PAD.decode(token.as_bytes()).ok()?;
        String::from_utf8(bytes)
            .ok()?
            .strip_prefix("ssm1:")?
            .parse()
            .ok()
    }
}
