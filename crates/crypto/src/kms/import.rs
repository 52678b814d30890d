//! Bring your own key: `GetParametersForImport` and `ImportKeyMaterial`.
//!
//! `GetParametersForImport` makes a fresh RSA wrapping key pair and returns its public key with an
//! import token. The token is self-contained and opaque:
//! ```text
//! 0x01 || expires_at (i64 BE, Unix seconds) || algorithm (u8) || wrapping spec (u8)
//!      || MasterKey::seal(context, wrapping private key PKCS#8)
//! ```
//! with `context = "rampart:kms:import-token:v1:<key id>:<expires_at>:<algorithm>:<spec>"`. The
//! AEAD binds every header field and the key id: a token altered in any byte, or presented for
//! another key, does not open (`InvalidImportTokenException`); a token past `expires_at`
//! (checked against the caller's `now`) is `ExpiredImportTokenException`. The wrapping private
//! key lives only inside the token, so the public key and token of one response go together.
//!
//! Unwrapping (`ImportKeyMaterial`):
//! - `RSAES_OAEP_SHA_1` / `RSAES_OAEP_SHA_256`: the material is RSA-OAEP-encrypted directly;
//! - `RSA_AES_KEY_WRAP_SHA_1` / `RSA_AES_KEY_WRAP_SHA_256` (PKCS#11 `CKM_RSA_AES_KEY_WRAP`): an
//!   ephemeral AES key RSA-OAEP-encrypted (first modulus-length bytes), then the material wrapped
//!   with AES key wrap with padding (RFC 5649) under that key.
//!
//! The material must fit the key spec (`KeyMaterial::from_bytes`).
use aws_lc_rs::key_wrap::{AES_128, AES_256, AesKek, KeyWrapPadded};
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use aws_lc_rs::rsa::{
    OAEP_SHA1_MGF1SHA1, OAEP_SHA256_MGF1SHA256, OaepAlgorithm, OaepPublicEncryptingKey,
    PublicEncryptingKey,
};
use zeroize::Zeroizing;

use super::error::KmsCryptoError;
use super::ids::{KeyId, MaterialId};
use super::material::{KeyMaterial, Parsed};
use super::rsa_encryption::{decrypt_with, encrypt_with};
use super::spec::{KeySpec, WrappingAlgorithm, WrappingKeySpec};
use crate::MasterKey;

/// How long import parameters stay valid (AWS: 24 hours).
pub const IMPORT_PARAMETERS_VALIDITY_SECS: i64 = 24 * 60 * 60;
const TOKEN_VERSION_1: u8 = 0x01;
const TOKEN_HEADER_LEN: usize = 1 + 8 + 1 + 1;

/// `GetParametersForImport`'s answer.
#[derive(Debug, Clone)]
pub struct ImportParameters {
    /// The wrapping public key, DER SubjectPublicKeyInfo.
    pub public_key_der: Vec<u8>,
    /// Opaque; contains the sealed wrapping private key (no secret is readable from it).
    pub import_token: Vec<u8>,
    /// `ParametersValidTo`, Unix seconds.
    pub parameters_valid_to: i64,
}

/// `GetParametersForImport` for `key_id` (a key with `Origin` `EXTERNAL`), at time `now` (Unix
/// seconds).
pub fn get_parameters_for_import(
    master: &MasterKey,
    key_id: &KeyId,
    algorithm: WrappingAlgorithm,
    wrapping_spec: WrappingKeySpec,
    now: i64,
) -> Result<ImportParameters, KmsCryptoError> {
    oaep_for(algorithm)?;
    let wrapping = KeyMaterial::generate(wrapping_spec.into())?;
    let expires_at = now.saturating_add(IMPORT_PARAMETERS_VALIDITY_SECS);
    let context = token_context(key_id, expires_at, algorithm, wrapping_spec);
    let sealed = master
        .seal(&context, &wrapping.to_bytes())
        .map_err(|_| KmsCryptoError::Internal("sealing the import token failed"))?;
    let mut import_token = Vec::with_capacity(TOKEN_HEADER_LEN + sealed.len());
    import_token.push(TOKEN_VERSION_1);
    import_token.extend_from_slice(&expires_at.to_be_bytes());
    import_token.push(algorithm_code(algorithm));
    import_token.push(spec_code(wrapping_spec));
    import_token.extend_from_slice(&sealed);
    Ok(ImportParameters {
        public_key_der: wrapping.public_key_der()?,
        import_token,
        parameters_valid_to: expires_at,
    })
}

/// `ImportKeyMaterial`: checks the token (bound to `key_id`, not expired at `now`), unwraps
/// `encrypted_key_material` and validates it against `key_spec`. The caller then seals
/// `to_bytes()` and stores it (and, for `EXISTING_KEY_MATERIAL`, calls `check_reimport` first).
pub fn import_key_material(
    master: &MasterKey,
    key_id: &KeyId,
    key_spec: KeySpec,
    import_token: &[u8],
    encrypted_key_material: &[u8],
    now: i64,
) -> Result<KeyMaterial, KmsCryptoError> {
    let (algorithm, wrapping) = open_token(master, key_id, import_token, now)?;
    let material = unwrap_material(&wrapping, algorithm, encrypted_key_material)?;
    KeyMaterial::from_bytes(key_spec, &material)
}

/// Re-importing into a key that already had material: it must be the same material
/// (`IncorrectKeyMaterialException` otherwise).
pub fn check_reimport(
    key_id: &KeyId,
    existing: &MaterialId,
    imported: &KeyMaterial,
) -> Result<(), KmsCryptoError> {
    if MaterialId::derive(key_id, imported) == *existing {
        Ok(())
    } else {
        Err(KmsCryptoError::IncorrectKeyMaterial)
    }
}

/// What a client does before `ImportKeyMaterial` (AWS's docs use OpenSSL for it): wraps
/// `material` under the wrapping public key. For tests and tools; KMS itself never wraps.
pub fn wrap_key_material(
    wrapping_public_key_der: &[u8],
    algorithm: WrappingAlgorithm,
    material: &[u8],
) -> Result<Vec<u8>, KmsCryptoError> {
    let (oaep, aes_wrap) = oaep_for(algorithm)?;
    let public = PublicEncryptingKey::from_der(wrapping_public_key_der)
        .ok()
        .and_then(|k| OaepPublicEncryptingKey::new(k).ok())
        .ok_or_else(|| KmsCryptoError::validation("The wrapping public key is not valid."))?;
    if !aes_wrap {
        if material.len() > public.max_plaintext_size(oaep) {
            return Err(KmsCryptoError::validation(format!(
                "The key material is too long for {algorithm}; use an RSA_AES_KEY_WRAP algorithm."
            )));
        }
        return encrypt_with(&public, oaep, material);
    }
    let mut ephemeral = Zeroizing::new([0u8; 32]);
    SystemRandom::new()
        .fill(ephemeral.as_mut())
        .map_err(KmsCryptoError::internal("random number generator failure"))?;
    let mut out = encrypt_with(&public, oaep, ephemeral.as_ref())?;
    let kek =
        AesKek::new(&AES_256, ephemeral.as_ref()).map_err(KmsCryptoError::internal("key wrap"))?;
    // RFC 5649 output: the input padded to a multiple of 8, plus 8 bytes.
    let mut wrapped = vec![0u8; material.len().div_ceil(8) * 8 + 8];
    let len = kek
        .wrap_with_padding(material, &mut wrapped)
        .map_err(KmsCryptoError::internal("key wrap"))?
        .len();
    wrapped.truncate(len);
    out.extend_from_slice(&wrapped);
    Ok(out)
}

fn open_token(
    master: &MasterKey,
    key_id: &KeyId,
    token: &[u8],
    now: i64,
) -> Result<(WrappingAlgorithm, KeyMaterial), KmsCryptoError> {
    let invalid = || KmsCryptoError::InvalidImportToken;
    let (header, sealed) = token
        .split_at_checked(TOKEN_HEADER_LEN)
        .ok_or_else(invalid)?;
    let [version, e0, e1, e2, e3, e4, e5, e6, e7, alg, spec] = header else {
        return Err(invalid());
    };
    if *version != TOKEN_VERSION_1 {
        return Err(invalid());
    }
    let expires_at = i64::from_be_bytes([*e0, *e1, *e2, *e3, *e4, *e5, *e6, *e7]);
    let algorithm = algorithm_from_code(*alg).ok_or_else(invalid)?;
    let wrapping_spec = spec_from_code(*spec).ok_or_else(invalid)?;
    let context = token_context(key_id, expires_at, algorithm, wrapping_spec);
    let pkcs8 = master.open(&context, sealed).map_err(|_| invalid())?;
    // Authenticated above, so the expiry is ours; compare only now.
    if now >= expires_at {
        return Err(KmsCryptoError::ExpiredImportToken);
    }
    let wrapping = KeyMaterial::from_bytes(wrapping_spec.into(), &pkcs8).map_err(|_| invalid())?;
    Ok((algorithm, wrapping))
}

fn unwrap_material(
    wrapping: &KeyMaterial,
    algorithm: WrappingAlgorithm,
    encrypted: &[u8],
) -> Result<Zeroizing<Vec<u8>>, KmsCryptoError> {
    let Parsed::Rsa { decrypting, .. } = &wrapping.parsed else {
        return Err(KmsCryptoError::Internal("wrapping key is not RSA"));
    };
    let (oaep, aes_wrap) = oaep_for(algorithm)?;
    if !aes_wrap {
        return decrypt_with(decrypting, oaep, encrypted);
    }
    let (rsa_part, wrapped) = encrypted
        .split_at_checked(decrypting.key_size_bytes())
        .ok_or(KmsCryptoError::InvalidCiphertext)?;
    let ephemeral = decrypt_with(decrypting, oaep, rsa_part)?;
    let kek = match ephemeral.len() {
        32 => AesKek::new(&AES_256, &ephemeral),
        16 => AesKek::new(&AES_128, &ephemeral),
        _ => return Err(KmsCryptoError::InvalidCiphertext),
    }
    .map_err(|_| KmsCryptoError::InvalidCiphertext)?;
    let mut out = Zeroizing::new(vec![0u8; wrapped.len()]);
    let len = kek
        .unwrap_with_padding(wrapped, &mut out)
        .map_err(|_| KmsCryptoError::InvalidCiphertext)?
        .len();
    out.truncate(len);
    Ok(out)
}

/// The OAEP hash of an algorithm and whether it adds the AES key wrap step.
fn oaep_for(
    algorithm: WrappingAlgorithm,
) -> Result<(&'static OaepAlgorithm, bool), KmsCryptoError> {
    match algorithm {
        WrappingAlgorithm::RSAES_OAEP_SHA_1 => Ok((&OAEP_SHA1_MGF1SHA1, false)),
        WrappingAlgorithm::RSAES_OAEP_SHA_256 => Ok((&OAEP_SHA256_MGF1SHA256, false)),
        WrappingAlgorithm::RSA_AES_KEY_WRAP_SHA_1 => Ok((&OAEP_SHA1_MGF1SHA1, true)),
        WrappingAlgorithm::RSA_AES_KEY_WRAP_SHA_256 => Ok((&OAEP_SHA256_MGF1SHA256, true)),
        WrappingAlgorithm::RSAES_PKCS1_V1_5 => Err(KmsCryptoError::validation(
            "The RSAES_PKCS1_V1_5 wrapping algorithm is no longer supported. Use RSAES_OAEP_SHA_256 or RSA_AES_KEY_WRAP_SHA_256.",
        )),
    }
}

fn token_context(
    key_id: &KeyId,
    expires_at: i64,
    algorithm: WrappingAlgorithm,
    spec: WrappingKeySpec,
) -> String {
    format!("rampart:kms:import-token:v1:{key_id}:{expires_at}:{algorithm}:{spec}")
}

fn algorithm_code(a: WrappingAlgorithm) -> u8 {
    WrappingAlgorithm::ALL
        .iter()
        .position(|x| *x == a)
        .and_then(|i| u8::try_from(i).ok())
        .unwrap_or(u8::MAX)
}

fn algorithm_from_code(c: u8) -> Option<WrappingAlgorithm> {
    WrappingAlgorithm::ALL.get(usize::from(c)).copied()
}

fn spec_code(s: WrappingKeySpec) -> u8 {
    WrappingKeySpec::ALL
        .iter()
        .position(|x| *x == s)
        .and_then(|i| u8::try_from(i).ok())
        .unwrap_or(u8::MAX)
}

fn spec_from_code(c: u8) -> Option<WrappingKeySpec> {
    WrappingKeySpec::ALL.get(usize::from(c)).copied()
}
