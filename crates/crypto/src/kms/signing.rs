//! `Sign`/`Verify`: RSASSA-PSS and RSASSA-PKCS1-v1_5 (SHA-256/384/512), ECDSA with the hash AWS
//! pairs with each curve (DER signatures, as KMS returns them), and ML-DSA (pure, empty context).
//!
//! `MessageType`:
//! - `RAW`: the message (at most 4,096 bytes) is hashed by the algorithm;
//! - `DIGEST`: the message is the hash and must be exactly the algorithm's hash length. ML-DSA
//!   has no such step: AWS takes `RAW` or `EXTERNAL_MU` for ML-DSA, so `DIGEST` is refused;
//! - `EXTERNAL_MU` (ML-DSA only, 64 bytes): AWS supports it, but aws-lc-rs offers no safe API to
//!   sign or verify a precomputed μ, so it is refused with `UnsupportedOperationException`.
use aws_lc_rs::digest::{self, Digest};
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{self, ParsedPublicKey, RsaEncoding, VerificationAlgorithm};

use super::error::KmsCryptoError;
use super::material::{KeyMaterial, Parsed};
use super::spec::{KeyFamily, KeySpec, KeyUsage, MessageType, SigningAlgorithm};

/// `Sign`/`Verify`'s limit for a `RAW` message.
pub const MAX_MESSAGE_LEN: usize = 4096;
/// Length of an ML-DSA `EXTERNAL_MU` message.
pub const EXTERNAL_MU_LEN: usize = 64;

/// What to sign: the message as it came, and how KMS should treat it.
enum Input<'a> {
    Raw(&'a [u8]),
    Digest(Digest),
}

/// `Sign` with an asymmetric `SIGN_VERIFY` key.
pub fn sign(
    material: &KeyMaterial,
    algorithm: SigningAlgorithm,
    message_type: MessageType,
    message: &[u8],
) -> Result<Vec<u8>, KmsCryptoError> {
    check_algorithm(material.spec(), algorithm)?;
    let input = input(algorithm, message_type, message)?;
    let failed = KmsCryptoError::internal("signing failed");
    match (&material.parsed, input) {
        (Parsed::Rsa { signing, .. }, input) => {
            let encoding = rsa_encoding(algorithm)?;
            let mut sig = vec![0u8; signing.public_modulus_len()];
            match input {
                Input::Raw(m) => signing.sign(encoding, &SystemRandom::new(), m, &mut sig),
                Input::Digest(d) => signing.sign_digest(encoding, &d, &mut sig),
            }
            .map_err(failed)?;
            Ok(sig)
        }
        (Parsed::Ecc { key }, Input::Raw(m)) => Ok(key
            .sign(&SystemRandom::new(), m)
            .map_err(failed)?
            .as_ref()
            .to_vec()),
        (Parsed::Ecc { key }, Input::Digest(d)) => {
            Ok(key.sign_digest(&d).map_err(failed)?.as_ref().to_vec())
        }
        (Parsed::MlDsa { key }, Input::Raw(m)) => {
            let mut sig = vec![0u8; key.algorithm().signature_len()];
            let len = key.sign(m, &mut sig).map_err(failed)?;
            sig.truncate(len);
            Ok(sig)
        }
        _ => Err(wrong_algorithm(material.spec(), algorithm)),
    }
}

/// `Verify` with the key's public half. `Ok(())` for a valid signature;
/// `KMSInvalidSignatureException` for any invalid one (AWS never answers `SignatureValid: false`).
pub fn verify(
    material: &KeyMaterial,
    algorithm: SigningAlgorithm,
    message_type: MessageType,
    message: &[u8],
    signature: &[u8],
) -> Result<(), KmsCryptoError> {
    let public = material.public_key_der()?;
    verify_with_public_key(
        material.spec(),
        &public,
        algorithm,
        message_type,
        message,
        signature,
    )
}

/// Verification from a DER SubjectPublicKeyInfo alone (what `GetPublicKey` hands out).
pub fn verify_with_public_key(
    spec: KeySpec,
    public_key_der: &[u8],
    algorithm: SigningAlgorithm,
    message_type: MessageType,
    message: &[u8],
    signature: &[u8],
) -> Result<(), KmsCryptoError> {
    check_algorithm(spec, algorithm)?;
    let input = input(algorithm, message_type, message)?;
    let key = ParsedPublicKey::new(verification_algorithm(spec, algorithm)?, public_key_der)
        .map_err(|_| KmsCryptoError::validation("The public key is not valid for its key spec."))?;
    match input {
        Input::Raw(m) => key.verify_sig(m, signature),
        Input::Digest(d) => key.verify_digest_sig(&d, signature),
    }
    .map_err(|_| KmsCryptoError::InvalidSignature)
}

/// The algorithm must be one `DescribeKey` lists for this spec.
fn check_algorithm(spec: KeySpec, algorithm: SigningAlgorithm) -> Result<(), KmsCryptoError> {
    if spec
        .algorithms(KeyUsage::SIGN_VERIFY)
        .signing
        .contains(&algorithm)
    {
        Ok(())
    } else {
        Err(wrong_algorithm(spec, algorithm))
    }
}

fn wrong_algorithm(spec: KeySpec, algorithm: SigningAlgorithm) -> KmsCryptoError {
    match spec.family() {
        KeyFamily::Rsa | KeyFamily::Ecc | KeyFamily::MlDsa => {
            KmsCryptoError::InvalidKeyUsage(format!(
                "The signing algorithm {algorithm} is not valid for a KMS key with KeySpec {spec}. Valid algorithms: [{}]",
                spec.algorithms(KeyUsage::SIGN_VERIFY)
                    .signing
                    .iter()
                    .map(|a| a.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        }
        KeyFamily::Symmetric | KeyFamily::Hmac => KmsCryptoError::InvalidKeyUsage(format!(
            "KeySpec {spec} cannot be used to sign or verify."
        )),
    }
}

fn input(
    algorithm: SigningAlgorithm,
    message_type: MessageType,
    message: &[u8],
) -> Result<Input<'_>, KmsCryptoError> {
    match message_type {
        MessageType::RAW => {
            if message.len() > MAX_MESSAGE_LEN {
                return Err(KmsCryptoError::validation(
                    "1 validation error detected: Value at 'message' failed to satisfy constraint: Member must have length less than or equal to 4096",
                ));
            }
            Ok(Input::Raw(message))
        }
        MessageType::DIGEST => {
            let Some(hash) = digest_algorithm(algorithm) else {
                return Err(KmsCryptoError::validation(format!(
                    "The DIGEST message type is not valid for the {algorithm} signing algorithm. Use RAW or EXTERNAL_MU."
                )));
            };
            Digest::import_less_safe(message, hash)
                .map(Input::Digest)
                .map_err(|_| {
                    KmsCryptoError::validation(format!(
                        "Digest is invalid length for algorithm {algorithm}: expected {} bytes, got {}.",
                        hash.output_len(),
                        message.len()
                    ))
                })
        }
        MessageType::EXTERNAL_MU
            if algorithm == SigningAlgorithm::ML_DSA_SHAKE_256
                && message.len() != EXTERNAL_MU_LEN =>
        {
            Err(KmsCryptoError::validation(format!(
                "An EXTERNAL_MU message must be {EXTERNAL_MU_LEN} bytes, not {}.",
                message.len()
            )))
        }
        MessageType::EXTERNAL_MU if algorithm == SigningAlgorithm::ML_DSA_SHAKE_256 => {
            Err(KmsCryptoError::UnsupportedOperation(
                "The EXTERNAL_MU message type is not supported by this server; sign the RAW message instead."
                    .to_string(),
            ))
        }
        MessageType::EXTERNAL_MU => Err(KmsCryptoError::validation(format!(
            "The EXTERNAL_MU message type is only valid for the ML_DSA_SHAKE_256 signing algorithm, not {algorithm}."
        ))),
    }
}

fn digest_algorithm(algorithm: SigningAlgorithm) -> Option<&'static digest::Algorithm> {
    match algorithm.digest_len()? {
        32 => Some(&digest::SHA256),
        48 => Some(&digest::SHA384),
        64 => Some(&digest::SHA512),
        _ => None,
    }
}

fn rsa_encoding(algorithm: SigningAlgorithm) -> Result<&'static dyn RsaEncoding, KmsCryptoError> {
    use SigningAlgorithm::*;
    Ok(match algorithm {
        RSASSA_PSS_SHA_256 => &signature::RSA_PSS_SHA256,
        RSASSA_PSS_SHA_384 => &signature::RSA_PSS_SHA384,
        RSASSA_PSS_SHA_512 => &signature::RSA_PSS_SHA512,
        RSASSA_PKCS1_V1_5_SHA_256 => &signature::RSA_PKCS1_SHA256,
        RSASSA_PKCS1_V1_5_SHA_384 => &signature::RSA_PKCS1_SHA384,
        RSASSA_PKCS1_V1_5_SHA_512 => &signature::RSA_PKCS1_SHA512,
        other => {
            return Err(KmsCryptoError::InvalidKeyUsage(format!(
                "{other} is not an RSA signing algorithm."
            )));
        }
    })
}

fn verification_algorithm(
    spec: KeySpec,
    algorithm: SigningAlgorithm,
) -> Result<&'static dyn VerificationAlgorithm, KmsCryptoError> {
    use SigningAlgorithm::*;
    Ok(match (spec, algorithm) {
        (_, RSASSA_PSS_SHA_256) => &signature::RSA_PSS_2048_8192_SHA256,
        (_, RSASSA_PSS_SHA_384) => &signature::RSA_PSS_2048_8192_SHA384,
        (_, RSASSA_PSS_SHA_512) => &signature::RSA_PSS_2048_8192_SHA512,
        (_, RSASSA_PKCS1_V1_5_SHA_256) => &signature::RSA_PKCS1_2048_8192_SHA256,
        (_, RSASSA_PKCS1_V1_5_SHA_384) => &signature::RSA_PKCS1_2048_8192_SHA384,
        (_, RSASSA_PKCS1_V1_5_SHA_512) => &signature::RSA_PKCS1_2048_8192_SHA512,
        (KeySpec::ECC_NIST_P256, ECDSA_SHA_256) => &signature::ECDSA_P256_SHA256_ASN1,
        (KeySpec::ECC_SECG_P256K1, ECDSA_SHA_256) => &signature::ECDSA_P256K1_SHA256_ASN1,
        (KeySpec::ECC_NIST_P384, ECDSA_SHA_384) => &signature::ECDSA_P384_SHA384_ASN1,
        (KeySpec::ECC_NIST_P521, ECDSA_SHA_512) => &signature::ECDSA_P521_SHA512_ASN1,
        (KeySpec::ML_DSA_44, ML_DSA_SHAKE_256) => &signature::ML_DSA_44,
        (KeySpec::ML_DSA_65, ML_DSA_SHAKE_256) => &signature::ML_DSA_65,
        (KeySpec::ML_DSA_87, ML_DSA_SHAKE_256) => &signature::ML_DSA_87,
        _ => return Err(wrong_algorithm(spec, algorithm)),
    })
}
