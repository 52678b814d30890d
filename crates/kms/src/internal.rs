//! The API other service crates call to protect their data with KMS (Secrets Manager, SSM
//! Parameter Store, ...), the way those AWS services call KMS on their callers' behalf.
//!
//! Every call authorizes the *calling principal* (the `Ctx` of the request the other service is
//! serving) for the KMS action, with `kms:ViaService` = `<service>.<region>.amazonaws.com` and
//! `kms:CallerAccount` among the condition keys, exactly as a KMS request that a service sends
//! for a user is evaluated. `key_id` takes a key id, key ARN, alias name or alias ARN; `None`
//! means the account's AWS managed key for the service (`alias/aws/<service>`), created on first
//! use.
//!
//! Payloads up to 4,096 bytes are encrypted with `kms:Encrypt` into a plain KMS ciphertext blob.
//! Larger ones (Secrets Manager values go up to 64 KiB) are envelope-encrypted as AWS services
//! do it: `kms:GenerateDataKey` makes a fresh AES-256 data key under the KMS key, and the payload
//! is sealed with it (AES-256-GCM, the encryption context bound as associated data). Either form
//! is opened by [`decrypt_for_service`] with `kms:Decrypt`.
use std::collections::BTreeMap;
use std::sync::Arc;

use rampart_aws_types::AwsError;
use rampart_crypto::MasterKey;
use rampart_crypto::kms::{
    self as core, DataKeyLength, DataKeySpec, EncryptionAlgorithm, EncryptionContext, KeyUsage,
    SymmetricKeyRef,
};
use rampart_services::Ctx;
use zeroize::Zeroizing;

use crate::managed;
use crate::ops::crypto::{authorize_use, decrypt_with, encrypt_with, load_for_decrypt};
use crate::ops::{Loaded, load};
use crate::resolve::Aliases;

/// First byte of an envelope (KMS ciphertext blobs start with their format version, 0x01).
const ENVELOPE_V1: u8 = 0xE1;
/// Largest payload sent to `Encrypt` directly.
pub const DIRECT_LIMIT: usize = 4096;

/// What a service learns about the key that protects its data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyInfo {
    pub key_id: String,
    pub arn: String,
    /// `CUSTOMER` or `AWS`.
    pub key_manager: String,
}

/// `kms:ViaService` for `service` (`secretsmanager`, or `secretsmanager.amazonaws.com`).
pub fn via_service(service: &str, region: &str) -> String {
    let short = service.split('.').next().unwrap_or(service);
    format!("{short}.{region}.amazonaws.com")
}

async fn resolve(ctx: &Ctx, service: &str, key_id: Option<&str>) -> Result<Arc<Loaded>, AwsError> {
    match key_id {
        Some(k) => load(ctx, k, Aliases::Accepted).await,
        None => load(ctx, &managed::alias_for_service(service), Aliases::Accepted).await,
    }
}

/// Resolves and describes the key a service is asked to use (`kms:DescribeKey`, via the
/// service), e.g. to validate and store a secret's `KmsKeyId`.
pub async fn describe_key_for_service(
    ctx: &Ctx,
    service: &str,
    key_id: Option<&str>,
) -> Result<KeyInfo, AwsError> {
    let l = resolve(ctx, service, key_id).await?;
    let via = via_service(service, ctx.region());
    let mut conds = crate::authz::Conditions::for_loaded(ctx, &l);
    conds.push("kms:ViaService", &via);
    crate::authz::authorize_key(
        ctx,
        "DescribeKey",
        &l.key,
        &conds,
        &l.grants,
        &BTreeMap::new(),
    )?;
    Ok(KeyInfo {
        key_id: l.key.key_id.clone(),
        arn: l.key.arn.clone(),
        key_manager: l.key.key_manager.clone(),
    })
}

/// Encrypts `plaintext` for `service` under `key_id` (or the service's AWS managed key), bound
/// to `context`. Returns an opaque ciphertext for [`decrypt_for_service`].
pub async fn encrypt_for_service(
    ctx: &Ctx,
    service: &str,
    key_id: Option<&str>,
    plaintext: &[u8],
    context: &BTreeMap<String, String>,
) -> Result<Vec<u8>, AwsError> {
    let l = resolve(ctx, service, key_id).await?;
    let via = via_service(service, ctx.region());
    let alg = EncryptionAlgorithm::SYMMETRIC_DEFAULT;
    if plaintext.len() <= DIRECT_LIMIT && !plaintext.is_empty() {
        authorize_use(
            ctx,
            "Encrypt",
            &l,
            context,
            &[
                ("kms:EncryptionAlgorithm", alg.as_str()),
                ("kms:ViaService", &via),
            ],
            KeyUsage::ENCRYPT_DECRYPT,
        )?;
        let (blob, _) = encrypt_with(ctx, &l, alg, context, plaintext)?;
        return Ok(blob);
    }
    authorize_use(
        ctx,
        "GenerateDataKey",
        &l,
        context,
        &[
            ("kms:EncryptionAlgorithm", alg.as_str()),
            ("kms:ViaService", &via),
        ],
        KeyUsage::ENCRYPT_DECRYPT,
    )?;
    if l.key.key_spec != "SYMMETRIC_DEFAULT" {
        return Err(crate::error::invalid_key_usage(format!(
            "{} is not a symmetric encryption KMS key.",
            l.key.arn
        )));
    }
    let (material, entry) = crate::ops::crypto::current_material(ctx, &l)?;
    let key_id = core::KeyId::parse(&l.key.key_id)?;
    let material_id = core::MaterialId::from_hex(&entry.id)?;
    let data_key = core::generate_data_key(
        SymmetricKeyRef {
            key_id: &key_id,
            material_id: &material_id,
            material: &material,
        },
        &EncryptionContext::from(context.clone()),
        DataKeyLength::from_request(Some(DataKeySpec::AES_256), None)?,
    )?;
    let sealed = MasterKey::from_bytes(&data_key.plaintext)
        .and_then(|k| k.seal(&envelope_aad(context), plaintext))
        .map_err(|_| crate::error::internal())?;
    let blob_len =
        u16::try_from(data_key.ciphertext_blob.len()).map_err(|_| crate::error::internal())?;
    let mut out = Vec::with_capacity(3 + data_key.ciphertext_blob.len() + sealed.len());
    out.push(ENVELOPE_V1);
    out.extend_from_slice(&blob_len.to_be_bytes());
    out.extend_from_slice(&data_key.ciphertext_blob);
    out.extend_from_slice(&sealed);
    Ok(out)
}

/// Decrypts what [`encrypt_for_service`] made, with the same `context`. `key_id`, when given,
/// must be the key the ciphertext was made under (`IncorrectKeyException` otherwise).
pub async fn decrypt_for_service(
    ctx: &Ctx,
    service: &str,
    key_id: Option<&str>,
    ciphertext: &[u8],
    context: &BTreeMap<String, String>,
) -> Result<Zeroizing<Vec<u8>>, AwsError> {
    let (kms_blob, envelope) = split_envelope(ciphertext)?;
    let alg = EncryptionAlgorithm::SYMMETRIC_DEFAULT;
    let l = load_for_decrypt(ctx, key_id, alg, kms_blob).await?;
    let via = via_service(service, ctx.region());
    authorize_use(
        ctx,
        "Decrypt",
        &l,
        context,
        &[
            ("kms:EncryptionAlgorithm", alg.as_str()),
            ("kms:ViaService", &via),
        ],
        KeyUsage::ENCRYPT_DECRYPT,
    )?;
    let (plaintext, _) = decrypt_with(ctx, &l, alg, context, kms_blob)?;
    match envelope {
        None => Ok(plaintext),
        Some(sealed) => MasterKey::from_bytes(&plaintext)
            .and_then(|k| k.open(&envelope_aad(context), sealed))
            .map_err(|_| core::KmsCryptoError::InvalidCiphertext.into()),
    }
}

/// Splits what [`encrypt_for_service`] made into the KMS ciphertext blob and, for an envelope,
/// the payload sealed under the data key (`0xE1 || blob length (u16 BE) || blob || sealed`).
pub fn split_envelope(ciphertext: &[u8]) -> Result<(&[u8], Option<&[u8]>), AwsError> {
    let Some((&ENVELOPE_V1, rest)) = ciphertext.split_first() else {
        return Ok((ciphertext, None));
    };
    let bad = || AwsError::from(core::KmsCryptoError::InvalidCiphertext);
    let (len, rest) = rest.split_at_checked(2).ok_or_else(bad)?;
    let [hi, lo] = len else {
        return Err(bad());
    };
    let (blob, sealed) = rest
        .split_at_checked(usize::from(u16::from_be_bytes([*hi, *lo])))
        .ok_or_else(bad)?;
    Ok((blob, Some(sealed)))
}

/// The envelope's associated data: the encryption context, canonically (sorted) serialized.
fn envelope_aad(context: &BTreeMap<String, String>) -> String {
    format!(
        "rampart:kms:envelope:v1:{}",
        serde_json::to_string(context).unwrap_or_default()
    )
}
