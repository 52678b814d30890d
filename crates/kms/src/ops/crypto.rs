//! Cryptographic operations: Encrypt, Decrypt, ReEncrypt, GenerateDataKey(+WithoutPlaintext),
//! GenerateDataKeyPair(+WithoutPlaintext), GenerateRandom, Sign, Verify, GetPublicKey,
//! GenerateMac, VerifyMac, DeriveSharedSecret. The cryptography is `rampart_crypto::kms`; this
//! module resolves keys, authorizes, enforces key state and usage, and shapes the answers.
//! Plaintext and private keys appear only in the response (model-sensitive members, redacted in
//! audit records), never in logs or errors.
use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use rampart_aws_types::AwsError;
use rampart_crypto::kms::{
    self as core, CiphertextBlob, DataKeyLength, DataKeyPairSpec, DataKeySpec, EncryptionAlgorithm,
    EncryptionContext, KeyAgreementAlgorithm, KeyId, KeyMaterial, KeySpec, KeyUsage, MacAlgorithm,
    MaterialId, MessageType, SigningAlgorithm, SymmetricKeyRef,
};
use rampart_services::Ctx;
use rampart_services::common::input::{self, blob};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use zeroize::Zeroizing;

use super::{Context, Loaded, load, require_enabled};
use crate::authz::{Conditions, authorize_account, authorize_key};
use crate::cache;
use crate::error;
use crate::grants::check_tokens;
use crate::record::{KeyRecord, MaterialEntry};
use crate::resolve::Aliases;

fn b64(bytes: &[u8]) -> Value {
    Value::String(STANDARD.encode(bytes))
}

pub fn spec_of(key: &KeyRecord) -> Result<KeySpec, AwsError> {
    key.key_spec.parse().map_err(|_| error::internal())
}

fn require_usage(key: &KeyRecord, usage: KeyUsage, operation: &str) -> Result<(), AwsError> {
    if key.key_usage == usage.as_str() {
        return Ok(());
    }
    Err(error::invalid_key_usage(format!(
        "{} key usage is {} which is not valid for {operation}.",
        key.arn, key.key_usage
    )))
}

/// The key's current material, unsealed.
pub fn current_material(
    ctx: &Ctx,
    l: &Loaded,
) -> Result<(Arc<KeyMaterial>, MaterialEntry), AwsError> {
    let entry = l
        .key
        .current_material()
        .cloned()
        .ok_or_else(|| error::invalid_state(format!("{} is pending import.", l.key.arn)))?;
    let m = cache::material(&ctx.node.master_key, &l.key, l.version, &entry)?;
    Ok((m, entry))
}

/// Authorizes a cryptographic `operation` on a loaded key, with the request's encryption
/// context and extra condition keys, then checks state and usage.
pub(crate) fn authorize_use(
    ctx: &Ctx,
    operation: &str,
    l: &Loaded,
    context: &Context,
    extra: &[(&str, &str)],
    usage: KeyUsage,
) -> Result<(), AwsError> {
    let mut conds = Conditions::for_loaded(ctx, l);
    conds.encryption_context(context);
    for (k, v) in extra {
        conds.push(k, v);
    }
    authorize_key(ctx, operation, &l.key, &conds, &l.grants, context)?;
    require_enabled(&l.key)?;
    require_usage(&l.key, usage, operation)
}

fn dry_run(flag: Option<bool>) -> Result<(), AwsError> {
    if flag == Some(true) {
        Err(error::dry_run())
    } else {
        Ok(())
    }
}

/// Encrypts under a loaded, authorized key: a symmetric blob or RSA-OAEP ciphertext.
pub fn encrypt_with(
    ctx: &Ctx,
    l: &Loaded,
    algorithm: EncryptionAlgorithm,
    context: &Context,
    plaintext: &[u8],
) -> Result<(Vec<u8>, Option<String>), AwsError> {
    let spec = spec_of(&l.key)?;
    let (material, entry) = current_material(ctx, l)?;
    if spec == KeySpec::SYMMETRIC_DEFAULT {
        if algorithm != EncryptionAlgorithm::SYMMETRIC_DEFAULT {
            return Err(algorithm_not_valid(&l.key, algorithm));
        }
        let key_id = KeyId::parse(&l.key.key_id)?;
        let material_id = MaterialId::from_hex(&entry.id)?;
        let blob = core::encrypt(
            SymmetricKeyRef {
                key_id: &key_id,
                material_id: &material_id,
                material: &material,
            },
            &EncryptionContext::from(context.clone()),
            plaintext,
        )?;
        return Ok((blob, Some(entry.id)));
    }
    if algorithm == EncryptionAlgorithm::SYMMETRIC_DEFAULT {
        return Err(algorithm_not_valid(&l.key, algorithm));
    }
    Ok((core::rsa_encrypt(&material, algorithm, plaintext)?, None))
}

/// AWS's words: "Algorithm SYMMETRIC_DEFAULT is incompatible with key spec RSA_4096."
fn algorithm_not_valid(key: &KeyRecord, algorithm: EncryptionAlgorithm) -> AwsError {
    error::invalid_key_usage(format!(
        "Algorithm {algorithm} is incompatible with key spec {}.",
        key.key_spec
    ))
}

/// Decrypts with a loaded, authorized key. Returns the plaintext and the material id used.
pub fn decrypt_with(
    ctx: &Ctx,
    l: &Loaded,
    algorithm: EncryptionAlgorithm,
    context: &Context,
    ciphertext: &[u8],
) -> Result<(Zeroizing<Vec<u8>>, Option<String>), AwsError> {
    let spec = spec_of(&l.key)?;
    if spec == KeySpec::SYMMETRIC_DEFAULT {
        if algorithm != EncryptionAlgorithm::SYMMETRIC_DEFAULT {
            return Err(algorithm_not_valid(&l.key, algorithm));
        }
        let blob = CiphertextBlob::parse(ciphertext)?;
        blob.check_key_id(&KeyId::parse(&l.key.key_id)?)?;
        let id = blob.material_id().to_hex();
        let entry = l
            .key
            .material(&id)
            .cloned()
            .ok_or(core::KmsCryptoError::InvalidCiphertext)?;
        let material = cache::material(&ctx.node.master_key, &l.key, l.version, &entry)?;
        let plaintext = blob.decrypt(&material, &EncryptionContext::from(context.clone()))?;
        return Ok((plaintext, Some(id)));
    }
    if algorithm == EncryptionAlgorithm::SYMMETRIC_DEFAULT {
        return Err(algorithm_not_valid(&l.key, algorithm));
    }
    let (material, _) = current_material(ctx, l)?;
    Ok((core::rsa_decrypt(&material, algorithm, ciphertext)?, None))
}

/// The key a ciphertext is to be decrypted with: the one named (checked against the blob by the
/// decryption), or for symmetric blobs the one the blob names, in the caller's account.
pub async fn load_for_decrypt(
    ctx: &Ctx,
    key_id: Option<&str>,
    algorithm: EncryptionAlgorithm,
    ciphertext: &[u8],
) -> Result<Arc<Loaded>, AwsError> {
    match key_id {
        Some(k) => {
            let l = load(ctx, k, Aliases::Accepted).await?;
            if algorithm == EncryptionAlgorithm::SYMMETRIC_DEFAULT
                && l.key.key_spec == "SYMMETRIC_DEFAULT"
            {
                let blob = CiphertextBlob::parse(ciphertext)?;
                blob.check_key_id(&KeyId::parse(&l.key.key_id)?)?;
            }
            Ok(l)
        }
        None if algorithm == EncryptionAlgorithm::SYMMETRIC_DEFAULT => {
            let named = core::peek_key_id(ciphertext)?.to_string();
            match load(ctx, &named, Aliases::Refused).await {
                Ok(l) => Ok(l),
                // A blob naming no key of this account is not a ciphertext we can decrypt.
                Err(e) if e.code == "NotFoundException" => {
                    Err(core::KmsCryptoError::InvalidCiphertext.into())
                }
                Err(e) => Err(e),
            }
        }
        None => Err(AwsError::validation(
            "KeyId is required when decrypting with an asymmetric encryption algorithm.",
        )),
    }
}

fn parse_algorithm(a: Option<&str>) -> Result<EncryptionAlgorithm, AwsError> {
    Ok(a.map(str::parse)
        .transpose()?
        .unwrap_or(EncryptionAlgorithm::SYMMETRIC_DEFAULT))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct EncryptInput {
    key_id: String,
    #[serde(with = "blob")]
    plaintext: Vec<u8>,
    #[serde(default)]
    encryption_context: Context,
    #[serde(default)]
    grant_tokens: Vec<String>,
    encryption_algorithm: Option<String>,
    dry_run: Option<bool>,
}

pub async fn encrypt(ctx: Arc<Ctx>, input: Value) -> Result<Value, AwsError> {
    let i: EncryptInput = input::parse(input)?;
    let plaintext = Zeroizing::new(i.plaintext);
    check_tokens(&i.grant_tokens)?;
    let algorithm = parse_algorithm(i.encryption_algorithm.as_deref())?;
    let l = load(&ctx, &i.key_id, Aliases::Accepted).await?;
    authorize_use(
        &ctx,
        "Encrypt",
        &l,
        &i.encryption_context,
        &[("kms:EncryptionAlgorithm", algorithm.as_str())],
        KeyUsage::ENCRYPT_DECRYPT,
    )?;
    dry_run(i.dry_run)?;
    let (blob, _) = encrypt_with(&ctx, &l, algorithm, &i.encryption_context, &plaintext)?;
    Ok(json!({
        "CiphertextBlob": b64(&blob),
        "KeyId": l.key.arn,
        "EncryptionAlgorithm": algorithm.as_str(),
    }))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DecryptInput {
    #[serde(with = "blob")]
    ciphertext_blob: Vec<u8>,
    #[serde(default)]
    encryption_context: Context,
    #[serde(default)]
    grant_tokens: Vec<String>,
    key_id: Option<String>,
    encryption_algorithm: Option<String>,
    recipient: Option<Value>,
    dry_run: Option<bool>,
}

pub async fn decrypt(ctx: Arc<Ctx>, input: Value) -> Result<Value, AwsError> {
    let i: DecryptInput = input::parse(input)?;
    check_tokens(&i.grant_tokens)?;
    refuse_recipient(i.recipient.as_ref())?;
    let algorithm = parse_algorithm(i.encryption_algorithm.as_deref())?;
    let l = load_for_decrypt(&ctx, i.key_id.as_deref(), algorithm, &i.ciphertext_blob).await?;
    authorize_use(
        &ctx,
        "Decrypt",
        &l,
        &i.encryption_context,
        &[("kms:EncryptionAlgorithm", algorithm.as_str())],
        KeyUsage::ENCRYPT_DECRYPT,
    )?;
    dry_run(i.dry_run)?;
    let (plaintext, material_id) = decrypt_with(
        &ctx,
        &l,
        algorithm,
        &i.encryption_context,
        &i.ciphertext_blob,
    )?;
    let mut out = Map::new();
    out.insert("KeyId".into(), json!(l.key.arn));
    out.insert("Plaintext".into(), b64(&plaintext));
    out.insert("EncryptionAlgorithm".into(), json!(algorithm.as_str()));
    if let Some(id) = material_id {
        out.insert("KeyMaterialId".into(), json!(id));
    }
    Ok(Value::Object(out))
}

/// Nitro Enclaves attestation (`Recipient`) needs an enclave; this server has none.
fn refuse_recipient(recipient: Option<&Value>) -> Result<(), AwsError> {
    if recipient.is_some() {
        return Err(error::unsupported(
            "The Recipient parameter (Nitro Enclaves attestation) is not supported by this server.",
        ));
    }
    Ok(())
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ReEncryptInput {
    #[serde(with = "blob")]
    ciphertext_blob: Vec<u8>,
    #[serde(default)]
    source_encryption_context: Context,
    source_key_id: Option<String>,
    destination_key_id: String,
    #[serde(default)]
    destination_encryption_context: Context,
    source_encryption_algorithm: Option<String>,
    destination_encryption_algorithm: Option<String>,
    #[serde(default)]
    grant_tokens: Vec<String>,
    dry_run: Option<bool>,
}

pub async fn re_encrypt(ctx: Arc<Ctx>, input: Value) -> Result<Value, AwsError> {
    let i: ReEncryptInput = input::parse(input)?;
    check_tokens(&i.grant_tokens)?;
    let src_alg = parse_algorithm(i.source_encryption_algorithm.as_deref())?;
    let dst_alg = parse_algorithm(i.destination_encryption_algorithm.as_deref())?;
    let source = load_for_decrypt(
        &ctx,
        i.source_key_id.as_deref(),
        src_alg,
        &i.ciphertext_blob,
    )
    .await?;
    let destination = load(&ctx, &i.destination_key_id, Aliases::Accepted).await?;
    let same = if source.key.arn == destination.key.arn {
        "true"
    } else {
        "false"
    };
    authorize_use(
        &ctx,
        "ReEncryptFrom",
        &source,
        &i.source_encryption_context,
        &[
            ("kms:EncryptionAlgorithm", src_alg.as_str()),
            ("kms:ReEncryptOnSameKey", same),
        ],
        KeyUsage::ENCRYPT_DECRYPT,
    )?;
    authorize_use(
        &ctx,
        "ReEncryptTo",
        &destination,
        &i.destination_encryption_context,
        &[
            ("kms:EncryptionAlgorithm", dst_alg.as_str()),
            ("kms:ReEncryptOnSameKey", same),
        ],
        KeyUsage::ENCRYPT_DECRYPT,
    )?;
    dry_run(i.dry_run)?;
    let (plaintext, src_material) = decrypt_with(
        &ctx,
        &source,
        src_alg,
        &i.source_encryption_context,
        &i.ciphertext_blob,
    )?;
    let (blob, dst_material) = encrypt_with(
        &ctx,
        &destination,
        dst_alg,
        &i.destination_encryption_context,
        &plaintext,
    )?;
    let mut out = Map::new();
    out.insert("CiphertextBlob".into(), b64(&blob));
    out.insert("SourceKeyId".into(), json!(source.key.arn));
    out.insert("KeyId".into(), json!(destination.key.arn));
    out.insert("SourceEncryptionAlgorithm".into(), json!(src_alg.as_str()));
    out.insert(
        "DestinationEncryptionAlgorithm".into(),
        json!(dst_alg.as_str()),
    );
    if let Some(id) = src_material {
        out.insert("SourceKeyMaterialId".into(), json!(id));
    }
    if let Some(id) = dst_material {
        out.insert("DestinationKeyMaterialId".into(), json!(id));
    }
    Ok(Value::Object(out))
}

/// A symmetric key's current material as the core's key reference parts.
fn symmetric_parts(
    ctx: &Ctx,
    l: &Loaded,
    operation: &str,
) -> Result<(KeyId, MaterialId, Arc<KeyMaterial>, String), AwsError> {
    if l.key.key_spec != "SYMMETRIC_DEFAULT" {
        return Err(error::invalid_key_usage(format!(
            "{} key spec {} is not valid for {operation}. Use a symmetric encryption KMS key.",
            l.key.arn, l.key.key_spec
        )));
    }
    let (material, entry) = current_material(ctx, l)?;
    Ok((
        KeyId::parse(&l.key.key_id)?,
        MaterialId::from_hex(&entry.id)?,
        material,
        entry.id,
    ))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct GenerateDataKeyInput {
    key_id: String,
    #[serde(default)]
    encryption_context: Context,
    number_of_bytes: Option<i64>,
    key_spec: Option<String>,
    #[serde(default)]
    grant_tokens: Vec<String>,
    recipient: Option<Value>,
    dry_run: Option<bool>,
}

pub async fn generate_data_key(ctx: Arc<Ctx>, input: Value) -> Result<Value, AwsError> {
    data_key(ctx, input, "GenerateDataKey", true).await
}

pub async fn generate_data_key_without_plaintext(
    ctx: Arc<Ctx>,
    input: Value,
) -> Result<Value, AwsError> {
    data_key(ctx, input, "GenerateDataKeyWithoutPlaintext", false).await
}

async fn data_key(
    ctx: Arc<Ctx>,
    input: Value,
    operation: &str,
    with_plaintext: bool,
) -> Result<Value, AwsError> {
    let i: GenerateDataKeyInput = input::parse(input)?;
    check_tokens(&i.grant_tokens)?;
    refuse_recipient(i.recipient.as_ref())?;
    let spec = i
        .key_spec
        .as_deref()
        .map(str::parse::<DataKeySpec>)
        .transpose()?;
    let length = DataKeyLength::from_request(spec, i.number_of_bytes)?;
    let l = load(&ctx, &i.key_id, Aliases::Accepted).await?;
    authorize_use(
        &ctx,
        operation,
        &l,
        &i.encryption_context,
        &[("kms:EncryptionAlgorithm", "SYMMETRIC_DEFAULT")],
        KeyUsage::ENCRYPT_DECRYPT,
    )?;
    dry_run(i.dry_run)?;
    let (key_id, material_id, material, material_hex) = symmetric_parts(&ctx, &l, operation)?;
    let dk = core::generate_data_key(
        SymmetricKeyRef {
            key_id: &key_id,
            material_id: &material_id,
            material: &material,
        },
        &EncryptionContext::from(i.encryption_context),
        length,
    )?;
    let mut out = Map::new();
    out.insert("CiphertextBlob".into(), b64(&dk.ciphertext_blob));
    if with_plaintext {
        out.insert("Plaintext".into(), b64(&dk.plaintext));
    }
    out.insert("KeyId".into(), json!(l.key.arn));
    out.insert("KeyMaterialId".into(), json!(material_hex));
    Ok(Value::Object(out))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct GenerateDataKeyPairInput {
    key_id: String,
    #[serde(default)]
    encryption_context: Context,
    key_pair_spec: String,
    #[serde(default)]
    grant_tokens: Vec<String>,
    recipient: Option<Value>,
    dry_run: Option<bool>,
}

pub async fn generate_data_key_pair(ctx: Arc<Ctx>, input: Value) -> Result<Value, AwsError> {
    data_key_pair(ctx, input, "GenerateDataKeyPair", true).await
}

pub async fn generate_data_key_pair_without_plaintext(
    ctx: Arc<Ctx>,
    input: Value,
) -> Result<Value, AwsError> {
    data_key_pair(ctx, input, "GenerateDataKeyPairWithoutPlaintext", false).await
}

async fn data_key_pair(
    ctx: Arc<Ctx>,
    input: Value,
    operation: &str,
    with_plaintext: bool,
) -> Result<Value, AwsError> {
    let i: GenerateDataKeyPairInput = input::parse(input)?;
    check_tokens(&i.grant_tokens)?;
    refuse_recipient(i.recipient.as_ref())?;
    let pair_spec: DataKeyPairSpec = i.key_pair_spec.parse().map_err(|_| {
        error::unsupported(format!(
            "KeyPairSpec {} is not supported in this region.",
            i.key_pair_spec
        ))
    })?;
    let l = load(&ctx, &i.key_id, Aliases::Accepted).await?;
    authorize_use(
        &ctx,
        operation,
        &l,
        &i.encryption_context,
        &[
            ("kms:EncryptionAlgorithm", "SYMMETRIC_DEFAULT"),
            ("kms:DataKeyPairSpec", pair_spec.as_str()),
        ],
        KeyUsage::ENCRYPT_DECRYPT,
    )?;
    dry_run(i.dry_run)?;
    let (key_id, material_id, material, material_hex) = symmetric_parts(&ctx, &l, operation)?;
    let context = EncryptionContext::from(i.encryption_context);
    // RSA key generation takes a while: keep it off the async workers.
    let pair = tokio::task::spawn_blocking(move || {
        core::generate_data_key_pair(
            SymmetricKeyRef {
                key_id: &key_id,
                material_id: &material_id,
                material: &material,
            },
            &context,
            pair_spec,
        )
    })
    .await
    .map_err(|_| error::internal())??;
    let mut out = Map::new();
    out.insert(
        "PrivateKeyCiphertextBlob".into(),
        b64(&pair.private_key_ciphertext_blob),
    );
    if with_plaintext {
        out.insert(
            "PrivateKeyPlaintext".into(),
            b64(&pair.private_key_plaintext),
        );
    }
    out.insert("PublicKey".into(), b64(&pair.public_key_der));
    out.insert("KeyId".into(), json!(l.key.arn));
    out.insert("KeyPairSpec".into(), json!(pair_spec.as_str()));
    out.insert("KeyMaterialId".into(), json!(material_hex));
    Ok(Value::Object(out))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct GenerateRandomInput {
    number_of_bytes: Option<i64>,
    custom_key_store_id: Option<String>,
    recipient: Option<Value>,
}

pub async fn generate_random(ctx: Arc<Ctx>, input: Value) -> Result<Value, AwsError> {
    let i: GenerateRandomInput = input::parse(input)?;
    authorize_account(&ctx, "GenerateRandom", &Conditions::for_account(&ctx))?;
    refuse_recipient(i.recipient.as_ref())?;
    if i.custom_key_store_id.is_some() {
        return Err(error::kms(
            "CustomKeyStoreNotFoundException",
            "Custom key stores are not offered by this server.",
        ));
    }
    let n = i
        .number_of_bytes
        .ok_or_else(|| AwsError::validation("NumberOfBytes is required."))?;
    let bytes = core::generate_random(n)?;
    Ok(json!({ "Plaintext": b64(&bytes) }))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct SignInput {
    key_id: String,
    #[serde(with = "blob")]
    message: Vec<u8>,
    message_type: Option<String>,
    signing_algorithm: String,
    #[serde(default, with = "opt_blob")]
    signature: Option<Vec<u8>>,
    #[serde(default)]
    grant_tokens: Vec<String>,
    dry_run: Option<bool>,
}

/// Optional blobs (base64 in the canonical form).
mod opt_blob {
    use base64::Engine as _;
    use base64::engine::general_purpose::STANDARD;
    use serde::{Deserialize, Deserializer};

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<u8>>, D::Error> {
        match Option::<String>::deserialize(d)? {
            None => Ok(None),
            Some(text) => STANDARD
                .decode(text.as_bytes())
                .map(Some)
                .map_err(serde::de::Error::custom),
        }
    }
}

fn sign_setup(i: &SignInput) -> Result<(SigningAlgorithm, MessageType), AwsError> {
    check_tokens(&i.grant_tokens)?;
    let algorithm: SigningAlgorithm = i.signing_algorithm.parse()?;
    let message_type: MessageType = i.message_type.as_deref().unwrap_or("RAW").parse()?;
    Ok((algorithm, message_type))
}

pub async fn sign(ctx: Arc<Ctx>, input: Value) -> Result<Value, AwsError> {
    let i: SignInput = input::parse(input)?;
    let (algorithm, message_type) = sign_setup(&i)?;
    let l = load(&ctx, &i.key_id, Aliases::Accepted).await?;
    authorize_use(
        &ctx,
        "Sign",
        &l,
        &Context::new(),
        &[
            ("kms:SigningAlgorithm", algorithm.as_str()),
            ("kms:MessageType", message_type.as_str()),
        ],
        KeyUsage::SIGN_VERIFY,
    )?;
    dry_run(i.dry_run)?;
    let (material, _) = current_material(&ctx, &l)?;
    let signature = core::sign(&material, algorithm, message_type, &i.message)?;
    Ok(json!({
        "KeyId": l.key.arn,
        "Signature": b64(&signature),
        "SigningAlgorithm": algorithm.as_str(),
    }))
}

pub async fn verify(ctx: Arc<Ctx>, input: Value) -> Result<Value, AwsError> {
    let i: SignInput = input::parse(input)?;
    let (algorithm, message_type) = sign_setup(&i)?;
    let signature = i
        .signature
        .clone()
        .ok_or_else(|| AwsError::validation("Signature is required."))?;
    let l = load(&ctx, &i.key_id, Aliases::Accepted).await?;
    authorize_use(
        &ctx,
        "Verify",
        &l,
        &Context::new(),
        &[
            ("kms:SigningAlgorithm", algorithm.as_str()),
            ("kms:MessageType", message_type.as_str()),
        ],
        KeyUsage::SIGN_VERIFY,
    )?;
    dry_run(i.dry_run)?;
    let (material, _) = current_material(&ctx, &l)?;
    core::verify(&material, algorithm, message_type, &i.message, &signature)?;
    Ok(json!({
        "KeyId": l.key.arn,
        "SignatureValid": true,
        "SigningAlgorithm": algorithm.as_str(),
    }))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct GetPublicKeyInput {
    key_id: String,
    #[serde(default)]
    grant_tokens: Vec<String>,
}

pub async fn get_public_key(ctx: Arc<Ctx>, input: Value) -> Result<Value, AwsError> {
    let i: GetPublicKeyInput = input::parse(input)?;
    check_tokens(&i.grant_tokens)?;
    let l = load(&ctx, &i.key_id, Aliases::Accepted).await?;
    let conds = Conditions::for_loaded(&ctx, &l);
    authorize_key(
        &ctx,
        "GetPublicKey",
        &l.key,
        &conds,
        &l.grants,
        &Context::new(),
    )?;
    require_enabled(&l.key)?;
    let spec = spec_of(&l.key)?;
    if !spec.is_asymmetric() {
        return Err(error::unsupported(format!(
            "{} key spec {} is not supported for this operation.",
            l.key.arn, l.key.key_spec
        )));
    }
    let (material, _) = current_material(&ctx, &l)?;
    let der = material.public_key_der()?;
    let metadata = super::key_metadata(&l.key);
    let mut out = Map::new();
    out.insert("KeyId".into(), json!(l.key.arn));
    out.insert("PublicKey".into(), b64(&der));
    out.insert("CustomerMasterKeySpec".into(), json!(l.key.key_spec));
    out.insert("KeySpec".into(), json!(l.key.key_spec));
    out.insert("KeyUsage".into(), json!(l.key.key_usage));
    for member in [
        "EncryptionAlgorithms",
        "SigningAlgorithms",
        "KeyAgreementAlgorithms",
    ] {
        if let Some(v) = metadata.get(member) {
            out.insert(member.into(), v.clone());
        }
    }
    Ok(Value::Object(out))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct MacInput {
    key_id: String,
    #[serde(with = "blob")]
    message: Vec<u8>,
    mac_algorithm: String,
    #[serde(default, with = "opt_blob")]
    mac: Option<Vec<u8>>,
    #[serde(default)]
    grant_tokens: Vec<String>,
    dry_run: Option<bool>,
}

pub async fn generate_mac(ctx: Arc<Ctx>, input: Value) -> Result<Value, AwsError> {
    let i: MacInput = input::parse(input)?;
    check_tokens(&i.grant_tokens)?;
    let algorithm: MacAlgorithm = i.mac_algorithm.parse()?;
    let l = load(&ctx, &i.key_id, Aliases::Accepted).await?;
    authorize_use(
        &ctx,
        "GenerateMac",
        &l,
        &Context::new(),
        &[("kms:MacAlgorithm", algorithm.as_str())],
        KeyUsage::GENERATE_VERIFY_MAC,
    )?;
    dry_run(i.dry_run)?;
    let (material, _) = current_material(&ctx, &l)?;
    let mac = core::generate_mac(&material, algorithm, &i.message)?;
    Ok(json!({ "Mac": b64(&mac), "MacAlgorithm": algorithm.as_str(), "KeyId": l.key.arn }))
}

pub async fn verify_mac(ctx: Arc<Ctx>, input: Value) -> Result<Value, AwsError> {
    let i: MacInput = input::parse(input)?;
    check_tokens(&i.grant_tokens)?;
    let algorithm: MacAlgorithm = i.mac_algorithm.parse()?;
    let mac = i
        .mac
        .clone()
        .ok_or_else(|| AwsError::validation("Mac is required."))?;
    let l = load(&ctx, &i.key_id, Aliases::Accepted).await?;
    authorize_use(
        &ctx,
        "VerifyMac",
        &l,
        &Context::new(),
        &[("kms:MacAlgorithm", algorithm.as_str())],
        KeyUsage::GENERATE_VERIFY_MAC,
    )?;
    dry_run(i.dry_run)?;
    let (material, _) = current_material(&ctx, &l)?;
    core::verify_mac(&material, algorithm, &i.message, &mac)?;
    Ok(json!({ "KeyId": l.key.arn, "MacValid": true, "MacAlgorithm": algorithm.as_str() }))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DeriveInput {
    key_id: String,
    key_agreement_algorithm: String,
    #[serde(with = "blob")]
    public_key: Vec<u8>,
    #[serde(default)]
    grant_tokens: Vec<String>,
    recipient: Option<Value>,
    dry_run: Option<bool>,
}

pub async fn derive_shared_secret(ctx: Arc<Ctx>, input: Value) -> Result<Value, AwsError> {
    let i: DeriveInput = input::parse(input)?;
    check_tokens(&i.grant_tokens)?;
    refuse_recipient(i.recipient.as_ref())?;
    let algorithm: KeyAgreementAlgorithm = i.key_agreement_algorithm.parse()?;
    let l = load(&ctx, &i.key_id, Aliases::Accepted).await?;
    authorize_use(
        &ctx,
        "DeriveSharedSecret",
        &l,
        &Context::new(),
        &[("kms:KeyAgreementAlgorithm", algorithm.as_str())],
        KeyUsage::KEY_AGREEMENT,
    )?;
    dry_run(i.dry_run)?;
    let (material, _) = current_material(&ctx, &l)?;
    let secret = core::derive_shared_secret(&material, algorithm, &i.public_key)?;
    Ok(json!({
        "KeyId": l.key.arn,
        "SharedSecret": b64(&secret),
        "KeyAgreementAlgorithm": algorithm.as_str(),
        "KeyOrigin": l.key.origin,
    }))
}
