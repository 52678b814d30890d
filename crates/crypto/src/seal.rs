//! Sealing: AES-256-GCM under the master key, bound to a context string (the record's purpose and
//! location) so a sealed value cannot be moved to another record and opened there.
//!
//! Format: `0x01 || nonce (12) || ciphertext || tag (16)`.
use aws_lc_rs::aead::{Aad, NONCE_LEN, Nonce};
use zeroize::Zeroizing;

use crate::MasterKey;

const FORMAT_V1: u8 = 1;
const TAG_LEN: usize = 16;

#[derive(Debug, thiserror::Error)]
pub enum SealError {
    #[error("master key must be 32 bytes")]
    BadMasterKey,
    #[error("insecure master key file: {0}")]
    InsecureKeyFile(String),
    #[error("random number generator failure")]
    Rng,
    #[error("sealed value is malformed or was not sealed for this context")]
    Open,
    #[error("sealing failed")]
    Seal,
    #[error("master key file: {0}")]
    Io(std::io::Error),
}

impl MasterKey {
    pub fn seal(&self, context: &str, plaintext: &[u8]) -> Result<Vec<u8>, SealError> {
        let mut buf = plaintext.to_vec();
        let nonce = self
            .aead
            .seal_in_place_append_tag(Aad::from(context.as_bytes()), &mut buf)
            .map_err(|_| SealError::Seal)?;
        let mut out = Vec::with_capacity(1 + NONCE_LEN + buf.len());
        out.push(FORMAT_V1);
        out.extend_from_slice(nonce.as_ref());
        out.extend_from_slice(&buf);
        Ok(out)
    }

    /// Opens a sealed value; the plaintext is zeroized when dropped.
    pub fn open(&self, context: &str, sealed: &[u8]) -> Result<Zeroizing<Vec<u8>>, SealError> {
        let (&version, rest) = sealed.split_first().ok_or(SealError::Open)?;
        if version != FORMAT_V1 || rest.len() < NONCE_LEN + TAG_LEN {
            return Err(SealError::Open);
        }
        let (nonce, ciphertext) = rest.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| SealError::Open)?;
        let mut buf = Zeroizing::new(ciphertext.to_vec());
        let len = self
            .aead
            .open_in_place(nonce, Aad::from(context.as_bytes()), &mut buf)
            .map_err(|_| SealError::Open)?
            .len();
        buf.truncate(len);
        Ok(buf)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> MasterKey {
        MasterKey::from_bytes(&[7u8; 32]).unwrap()
    }

    #[test]
    fn round_trips_and_hides_plaintext() {
        let k = key();
        let sealed = k.seal("root-secret/123", b"super secret").unwrap();
        assert!(!sealed.windows(12).any(|w| w == b"super secret"));
        assert_eq!(
            k.open("root-secret/123", &sealed).unwrap().as_slice(),
            b"super secret"
        );
    }

    #[test]
    fn wrong_context_or_key_or_tamper_fails() {
        let k = key();
        let sealed = k.seal("a", b"x").unwrap();
        assert!(k.open("b", &sealed).is_err());
        assert!(
            MasterKey::from_bytes(&[8u8; 32])
                .unwrap()
                .open("a", &sealed)
                .is_err()
        );
        for i in 0..sealed.len() {
            let mut t = sealed.clone();
            t[i] ^= 1;
            assert!(k.open("a", &t).is_err(), "flip at {i}");
        }
        assert!(k.open("a", &[]).is_err());
        assert!(k.open("a", &sealed[..10]).is_err());
    }

    #[test]
    fn nonces_differ() {
        let k = key();
        assert_ne!(k.seal("a", b"x").unwrap(), k.seal("a", b"x").unwrap());
    }

    #[test]
    fn key_file_is_private_and_never_overwritten() {
        let dir = std::env::temp_dir().join(format!("rampart-mk-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("master.key");
        let _ = std::fs::remove_file(&path);
        let k = MasterKey::create_file(&path).unwrap();
        let sealed = k.seal("c", b"v").unwrap();
        assert!(MasterKey::create_file(&path).is_err());
        let again = MasterKey::load_file(&path).unwrap();
        assert_eq!(again.open("c", &sealed).unwrap().as_slice(), b"v");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(
                std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
                0o600
            );
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
            assert!(MasterKey::load_file(&path).is_err());
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
