//! `Encrypt`/`Decrypt` with RSA keys: RSAES_OAEP_SHA_1 and RSAES_OAEP_SHA_256 (MGF1 with the same
//! hash, empty label), with KMS's plaintext limits. Asymmetric ciphertexts carry no metadata, as
//! in AWS: the caller must name the key and algorithm to decrypt.
use aws_lc_rs::rsa::{
    OAEP_SHA1_MGF1SHA1, OAEP_SHA256_MGF1SHA256, OaepAlgorithm, OaepPrivateDecryptingKey,
    OaepPublicEncryptingKey,
};
use zeroize::Zeroizing;

use super::error::KmsCryptoError;
use super::material::{KeyMaterial, Parsed};
use super::spec::{EncryptionAlgorithm, KeySpec};

/// KMS's maximum plaintext for an RSA key spec and OAEP algorithm: modulus bytes − 2·hash − 2
/// (RSA_2048: 214 / 190, RSA_3072: 342 / 318, RSA_4096: 470 / 446).
pub fn max_rsa_plaintext_len(spec: KeySpec, algorithm: EncryptionAlgorithm) -> Option<usize> {
    let modulus = spec.rsa_modulus_len()?;
    let hash = match algorithm {
        EncryptionAlgorithm::RSAES_OAEP_SHA_1 => 20,
        EncryptionAlgorithm::RSAES_OAEP_SHA_256 => 32,
        EncryptionAlgorithm::SYMMETRIC_DEFAULT => return None,
    };
    Some(modulus - 2 * hash - 2)
}

/// `Encrypt` with an RSA `ENCRYPT_DECRYPT` key.
pub fn rsa_encrypt(
    material: &KeyMaterial,
    algorithm: EncryptionAlgorithm,
    plaintext: &[u8],
) -> Result<Vec<u8>, KmsCryptoError> {
    let (_, encrypting, oaep) = rsa_parts(material, algorithm)?;
    let max = max_rsa_plaintext_len(material.spec(), algorithm).unwrap_or(0);
    if plaintext.len() > max {
        return Err(KmsCryptoError::validation(format!(
            "Plaintext is too long for {algorithm} with a {} key: the maximum is {max} bytes.",
            material.spec()
        )));
    }
    if plaintext.is_empty() {
        return Err(KmsCryptoError::validation(
            "1 validation error detected: Value at 'plaintext' failed to satisfy constraint: Member must have length greater than or equal to 1",
        ));
    }
    encrypt_with(encrypting, oaep, plaintext)
}

/// RSA-OAEP encryption under a public key.
pub(crate) fn encrypt_with(
    key: &OaepPublicEncryptingKey,
    oaep: &'static OaepAlgorithm,
    plaintext: &[u8],
) -> Result<Vec<u8>, KmsCryptoError> {
    let mut out = vec![0u8; key.ciphertext_size()];
    let len = key
        .encrypt(oaep, plaintext, &mut out, None)
        .map_err(KmsCryptoError::internal("RSA-OAEP encryption failed"))?
        .len();
    out.truncate(len);
    Ok(out)
}

/// `Decrypt` with an RSA `ENCRYPT_DECRYPT` key. Any failure (wrong key, wrong algorithm,
/// tampering) is `InvalidCiphertextException`.
pub fn rsa_decrypt(
    material: &KeyMaterial,
    algorithm: EncryptionAlgorithm,
    ciphertext: &[u8],
) -> Result<Zeroizing<Vec<u8>>, KmsCryptoError> {
    let (decrypting, _, oaep) = rsa_parts(material, algorithm)?;
    decrypt_with(decrypting, oaep, ciphertext)
}

pub(crate) fn decrypt_with(
    key: &OaepPrivateDecryptingKey,
    oaep: &'static OaepAlgorithm,
    ciphertext: &[u8],
) -> Result<Zeroizing<Vec<u8>>, KmsCryptoError> {
    if ciphertext.len() != key.key_size_bytes() {
        return Err(KmsCryptoError::InvalidCiphertext);
    }
    let mut out = Zeroizing::new(vec![0u8; key.min_output_size()]);
    let len = key
        .decrypt(oaep, ciphertext, &mut out, None)
        .map_err(|_| KmsCryptoError::InvalidCiphertext)?
        .len();
    out.truncate(len);
    Ok(out)
}

pub(crate) fn oaep_algorithm(algorithm: EncryptionAlgorithm) -> Option<&'static OaepAlgorithm> {
    match algorithm {
        EncryptionAlgorithm::RSAES_OAEP_SHA_1 => Some(&OAEP_SHA1_MGF1SHA1),
        EncryptionAlgorithm::RSAES_OAEP_SHA_256 => Some(&OAEP_SHA256_MGF1SHA256),
        EncryptionAlgorithm::SYMMETRIC_DEFAULT => None,
    }
}

fn rsa_parts(
    material: &KeyMaterial,
    algorithm: EncryptionAlgorithm,
) -> Result<
    (
        &OaepPrivateDecryptingKey,
        &OaepPublicEncryptingKey,
        &'static OaepAlgorithm,
    ),
    KmsCryptoError,
> {
    let Parsed::Rsa {
        decrypting,
        encrypting,
        ..
    } = &material.parsed
    else {
        return Err(KmsCryptoError::InvalidKeyUsage(format!(
            "KeySpec {} cannot be used with the {algorithm} encryption algorithm.",
            material.spec()
        )));
    };
    let oaep = oaep_algorithm(algorithm).ok_or_else(|| {
        KmsCryptoError::InvalidKeyUsage(format!(
            "The {algorithm} encryption algorithm is not valid for a KMS key with KeySpec {}.",
            material.spec()
        ))
    })?;
    Ok((decrypting, encrypting, oaep))
}
