//! Identifiers that ciphertext blobs carry: the KMS key id and the key-material id.
use std::fmt;

use aws_lc_rs::hmac;

use super::error::KmsCryptoError;
use super::material::KeyMaterial;

/// Length of a KMS key id: a UUID (`1234abcd-12ab-34cd-56ef-1234567890ab`) or a multi-Region key
/// id (`mrk-` + 32 hex digits). Both are 36 characters, so a blob's header has a fixed size.
pub const KEY_ID_LEN: usize = 36;

/// A KMS key id (not an ARN, not an alias).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyId(String);

impl KeyId {
    pub fn parse(s: &str) -> Result<KeyId, KmsCryptoError> {
        if is_key_id(s.as_bytes()) {
            Ok(KeyId(s.to_string()))
        } else {
            Err(KmsCryptoError::validation(format!(
                "Invalid key id '{}': expected a 36-character key id",
                s.chars().take(64).collect::<String>()
            )))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// UUID form (lower-case hex, dashes at 8, 13, 18, 23) or `mrk-` + 32 lower-case hex digits.
pub(crate) fn is_key_id(b: &[u8]) -> bool {
    let hex = |c: &u8| c.is_ascii_digit() || (b'a'..=b'f').contains(c);
    if b.len() != KEY_ID_LEN {
        return false;
    }
    if let Some(rest) = b.strip_prefix(b"mrk-") {
        return rest.iter().all(hex);
    }
    b.iter().enumerate().all(|(i, c)| match i {
        8 | 13 | 18 | 23 => *c == b'-',
        _ => hex(c),
    })
}

/// Identifies one key material of a KMS key (rotation adds materials; each ciphertext names the
/// one that sealed it). Shown as 64 lower-case hex digits, like AWS's `KeyMaterialId`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MaterialId(pub(crate) [u8; 32]);

impl MaterialId {
    /// Derives the id from the key id and the material: HMAC-SHA256 keyed with the material, so it
    /// reveals nothing about it, yet importing the same material into the same key again yields the
    /// same id (what `ImportKeyMaterial` with `EXISTING_KEY_MATERIAL` needs to compare).
    pub fn derive(key_id: &KeyId, material: &KeyMaterial) -> MaterialId {
        let key = hmac::Key::new(hmac::HMAC_SHA256, material.raw_bytes());
        let mut ctx = hmac::Context::with_key(&key);
        ctx.update(b"rampart:kms:key-material-id:v1\0");
        ctx.update(key_id.as_str().as_bytes());
        let tag = ctx.sign();
        let mut id = [0u8; 32];
        id.copy_from_slice(tag.as_ref());
        MaterialId(id)
    }

    pub fn from_bytes(bytes: [u8; 32]) -> MaterialId {
        MaterialId(bytes)
    }

    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    pub fn from_hex(s: &str) -> Result<MaterialId, KmsCryptoError> {
        let mut id = [0u8; 32];
        hex::decode_to_slice(s, &mut id).map_err(|_| {
            KmsCryptoError::validation("KeyMaterialId must be 64 hexadecimal characters")
        })?;
        Ok(MaterialId(id))
    }
}

impl fmt::Debug for MaterialId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MaterialId({})", self.to_hex())
    }
}

impl fmt::Display for MaterialId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_ids_are_validated() {
        assert!(KeyId::parse("1234abcd-12ab-34cd-56ef-1234567890ab").is_ok());
        assert!(KeyId::parse("mrk-1234abcd12ab34cd56ef1234567890ab").is_ok());
        assert!(KeyId::parse("1234ABCD-12ab-34cd-56ef-1234567890ab").is_err());
        assert!(KeyId::parse("1234abcd-12ab-34cd-56ef-1234567890a").is_err());
        assert!(KeyId::parse("1234abcd012ab-34cd-56ef-1234567890ab").is_err());
        assert!(KeyId::parse("alias/foo").is_err());
    }

    #[test]
    fn material_id_hex_round_trips() {
        let id = MaterialId::from_bytes([0xab; 32]);
        assert_eq!(MaterialId::from_hex(&id.to_hex()).unwrap(), id);
        assert!(MaterialId::from_hex("zz").is_err());
    }
}
