//! `GenerateMac`/`VerifyMac` with HMAC keys. The key spec fixes the algorithm (HMAC_256 only
//! does HMAC_SHA_256); verification is constant-time (aws-lc-rs `hmac::verify`).
use aws_lc_rs::hmac;

use super::error::KmsCryptoError;
use super::material::{KeyMaterial, Parsed};
use super::spec::{KeyUsage, MacAlgorithm};

/// `GenerateMac`/`VerifyMac` message limit.
pub const MAX_MAC_MESSAGE_LEN: usize = 4096;

pub fn generate_mac(
    material: &KeyMaterial,
    algorithm: MacAlgorithm,
    message: &[u8],
) -> Result<Vec<u8>, KmsCryptoError> {
    let key = hmac_key(material, algorithm, message)?;
    Ok(hmac::sign(key, message).as_ref().to_vec())
}

/// `Ok(())` when `mac` is the MAC of `message`; otherwise `KMSInvalidMacException`.
pub fn verify_mac(
    material: &KeyMaterial,
    algorithm: MacAlgorithm,
    message: &[u8],
    mac: &[u8],
) -> Result<(), KmsCryptoError> {
    let key = hmac_key(material, algorithm, message)?;
    hmac::verify(key, message, mac).map_err(|_| KmsCryptoError::InvalidMac)
}

fn hmac_key<'a>(
    material: &'a KeyMaterial,
    algorithm: MacAlgorithm,
    message: &[u8],
) -> Result<&'a hmac::Key, KmsCryptoError> {
    let Parsed::Hmac { key } = &material.parsed else {
        return Err(KmsCryptoError::InvalidKeyUsage(format!(
            "KeySpec {} cannot be used to generate or verify a MAC.",
            material.spec()
        )));
    };
    if !material
        .spec()
        .algorithms(KeyUsage::GENERATE_VERIFY_MAC)
        .mac
        .contains(&algorithm)
    {
        return Err(KmsCryptoError::InvalidKeyUsage(format!(
            "The MAC algorithm {algorithm} is not valid for a KMS key with KeySpec {}.",
            material.spec()
        )));
    }
    if message.len() > MAX_MAC_MESSAGE_LEN {
        return Err(KmsCryptoError::validation(
            "1 validation error detected: Value at 'message' failed to satisfy constraint: Member must have length less than or equal to 4096",
        ));
    }
    Ok(key)
}
