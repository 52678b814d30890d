//! Symmetric encryption under a `SYMMETRIC_DEFAULT` key, producing self-describing ciphertext
//! blobs.
//!
//! Blob format, version 1 (all fields fixed-size, so parsing is a bounds check):
//! ```text
//! offset  len  field
//!      0    1  format version = 0x01
//!      1   36  key id (ASCII, UUID or mrk- form)        -- lets Decrypt find the key without KeyId
//!     37   32  key-material id                          -- which material (rotation) sealed it
//!     69   16  key-derivation salt (random)
//!     85   12  AES-GCM IV (random)
//!     97    n  AES-256-GCM ciphertext
//!   97+n   16  GCM tag
//! ```
//! The AES key is not the material itself but derived from it and the blob's salt (AWS KMS
//! likewise derives keys from its backing key and a nonce): `K = HMAC-SHA256(material, 00000001 ||
//! "rampart:kms:blob-key:v1" || 00 || salt || 00000100)`, NIST SP 800-108 counter mode.
//! Deriving and expanding a key costs about as much as encrypting 4 KiB, so a loaded
//! `KeyMaterial` keeps one derived "session" key (random salt) and uses it for at most
//! `SESSION_KEY_MAX_USES` (2^28) encryptions before drawing a new salt. With random 96-bit IVs
//! that keeps each AES key far below NIST SP 800-38D's 2^32-invocation bound, however many
//! ciphertexts a material produces over its life. Decryption derives the key from the blob's salt
//! (reusing the session key when the salt is its own).
//!
//! The additional authenticated data is the whole 97-byte header followed by the canonical
//! encryption context, so any change to any byte, or a different context, fails to open, and all
//! failures are the same `InvalidCiphertextException`.
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use aws_lc_rs::hmac;
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use zeroize::Zeroizing;

use super::context::EncryptionContext;
use super::error::KmsCryptoError;
use super::ids::{KEY_ID_LEN, KeyId, MaterialId, is_key_id};
use super::material::{KeyMaterial, Parsed};

pub const BLOB_VERSION_1: u8 = 0x01;
const SALT_LEN: usize = 16;
const TAG_LEN: usize = 16;
const KEY_ID_AT: usize = 1;
const MATERIAL_ID_AT: usize = KEY_ID_AT + KEY_ID_LEN;
const SALT_AT: usize = MATERIAL_ID_AT + 32;
const IV_AT: usize = SALT_AT + SALT_LEN;
/// Size of the header (everything before the ciphertext).
pub const BLOB_HEADER_LEN: usize = IV_AT + NONCE_LEN;
/// Bytes a blob adds to the plaintext.
pub const BLOB_OVERHEAD: usize = BLOB_HEADER_LEN + TAG_LEN;
/// `Encrypt`'s plaintext limit for symmetric keys.
pub const MAX_PLAINTEXT_LEN: usize = 4096;

/// Which key and material to encrypt under: the key's id, the id of its current material, and
/// the material.
#[derive(Debug, Clone, Copy)]
pub struct SymmetricKeyRef<'a> {
    pub key_id: &'a KeyId,
    pub material_id: &'a MaterialId,
    pub material: &'a KeyMaterial,
}

/// A parsed (not yet authenticated) ciphertext blob.
#[derive(Debug, Clone, Copy)]
pub struct CiphertextBlob<'a> {
    bytes: &'a [u8],
    key_id: &'a str,
    material_id: MaterialId,
}

/// The key id a blob names, for `Decrypt` without `KeyId`. The blob is not authenticated yet:
/// use it only to look the key up, then `decrypt`.
pub fn peek_key_id(blob: &[u8]) -> Result<&str, KmsCryptoError> {
    Ok(CiphertextBlob::parse(blob)?.key_id())
}

impl<'a> CiphertextBlob<'a> {
    pub fn parse(bytes: &'a [u8]) -> Result<CiphertextBlob<'a>, KmsCryptoError> {
        let bad = || KmsCryptoError::InvalidCiphertext;
        if bytes.len() < BLOB_OVERHEAD || bytes.first() != Some(&BLOB_VERSION_1) {
            return Err(bad());
        }
        let key_id_bytes = bytes.get(KEY_ID_AT..MATERIAL_ID_AT).ok_or_else(bad)?;
        if !is_key_id(key_id_bytes) {
            return Err(bad());
        }
        let key_id = std::str::from_utf8(key_id_bytes).map_err(|_| bad())?;
        let material_id: [u8; 32] = bytes
            .get(MATERIAL_ID_AT..SALT_AT)
            .and_then(|s| s.try_into().ok())
            .ok_or_else(bad)?;
        Ok(CiphertextBlob {
            bytes,
            key_id,
            material_id: MaterialId(material_id),
        })
    }

    pub fn key_id(&self) -> &'a str {
        self.key_id
    }

    pub fn material_id(&self) -> MaterialId {
        self.material_id
    }

    /// `IncorrectKeyException` unless the blob was made under `key_id` (the key the request named).
    pub fn check_key_id(&self, key_id: &KeyId) -> Result<(), KmsCryptoError> {
        if self.key_id == key_id.as_str() {
            Ok(())
        } else {
            Err(KmsCryptoError::IncorrectKey)
        }
    }

    /// Authenticates and decrypts with `material` (the one whose id the blob names) and the
    /// request's encryption context.
    pub fn decrypt(
        &self,
        material: &KeyMaterial,
        context: &EncryptionContext,
    ) -> Result<Zeroizing<Vec<u8>>, KmsCryptoError> {
        let bad = || KmsCryptoError::InvalidCiphertext;
        let state = symmetric_state(material)?;
        let header = self.bytes.get(..BLOB_HEADER_LEN).ok_or_else(bad)?;
        let salt = self.bytes.get(SALT_AT..IV_AT).ok_or_else(bad)?;
        let iv = self.bytes.get(IV_AT..BLOB_HEADER_LEN).ok_or_else(bad)?;
        let sealed = self.bytes.get(BLOB_HEADER_LEN..).ok_or_else(bad)?;
        let session = state.current();
        let derived;
        let key = if session.salt.as_slice() == salt {
            &session.key
        } else {
            derived = derive_key(&state.kdf, salt)?;
            &derived
        };
        let nonce = Nonce::try_assume_unique_for_key(iv).map_err(|_| bad())?;
        let aad = aad(header, context);
        let mut buf = Zeroizing::new(sealed.to_vec());
        let len = key
            .open_in_place(nonce, Aad::from(aad.as_slice()), &mut buf)
            .map_err(|_| bad())?
            .len();
        buf.truncate(len);
        Ok(buf)
    }
}

/// `Encrypt` with a symmetric key: 1 to 4,096 bytes of plaintext.
pub fn encrypt(
    key: SymmetricKeyRef<'_>,
    context: &EncryptionContext,
    plaintext: &[u8],
) -> Result<Vec<u8>, KmsCryptoError> {
    if plaintext.len() > MAX_PLAINTEXT_LEN {
        return Err(KmsCryptoError::validation(
            "1 validation error detected: Value at 'plaintext' failed to satisfy constraint: Member must have length less than or equal to 4096",
        ));
    }
    if plaintext.is_empty() {
        return Err(KmsCryptoError::validation(
            "1 validation error detected: Value at 'plaintext' failed to satisfy constraint: Member must have length greater than or equal to 1",
        ));
    }
    seal(key, context, plaintext)
}

/// Encrypts without `Encrypt`'s size limits (data keys and data key pairs are produced inside
/// KMS and may be any size the blob format carries).
pub(crate) fn seal(
    key: SymmetricKeyRef<'_>,
    context: &EncryptionContext,
    plaintext: &[u8],
) -> Result<Vec<u8>, KmsCryptoError> {
    let session = symmetric_state(key.material)?.session_for_encryption()?;
    let mut iv = [0u8; NONCE_LEN];
    SystemRandom::new()
        .fill(&mut iv)
        .map_err(KmsCryptoError::internal("random number generator failure"))?;

    let mut out = Vec::with_capacity(BLOB_OVERHEAD + plaintext.len());
    out.push(BLOB_VERSION_1);
    out.extend_from_slice(key.key_id.as_str().as_bytes());
    out.extend_from_slice(key.material_id.as_bytes());
    out.extend_from_slice(&session.salt);
    out.extend_from_slice(&iv);
    if out.len() != BLOB_HEADER_LEN {
        // A KeyId is always 36 bytes; this guards the format against a future KeyId change.
        return Err(KmsCryptoError::Internal(
            "ciphertext header has the wrong size",
        ));
    }
    let aad = aad(&out, context);
    let nonce = Nonce::assume_unique_for_key(iv);
    out.extend_from_slice(plaintext);
    let body = out
        .get_mut(BLOB_HEADER_LEN..)
        .ok_or(KmsCryptoError::Internal("ciphertext buffer"))?;
    let tag = session
        .key
        .seal_in_place_separate_tag(nonce, Aad::from(aad.as_slice()), body)
        .map_err(KmsCryptoError::internal("encryption failed"))?;
    out.extend_from_slice(tag.as_ref());
    Ok(out)
}

/// Decrypt-then-encrypt for `ReEncrypt` between two symmetric keys; the plaintext only ever
/// lives in a zeroizing buffer.
pub fn re_encrypt(
    source: &CiphertextBlob<'_>,
    source_material: &KeyMaterial,
    source_context: &EncryptionContext,
    destination: SymmetricKeyRef<'_>,
    destination_context: &EncryptionContext,
) -> Result<Vec<u8>, KmsCryptoError> {
    let plaintext = source.decrypt(source_material, source_context)?;
    seal(destination, destination_context, &plaintext)
}

/// Encryptions one session key may perform before a new salt is drawn.
pub const SESSION_KEY_MAX_USES: u64 = 1 << 28;

/// Per-material state: the KDF key and the current session key.
pub(crate) struct SymmetricState {
    kdf: hmac::Key,
    session: RwLock<Arc<SessionKey>>,
}

struct SessionKey {
    salt: [u8; SALT_LEN],
    key: LessSafeKey,
    uses: AtomicU64,
}

impl SymmetricState {
    pub(crate) fn new(material: &[u8]) -> Result<SymmetricState, KmsCryptoError> {
        let kdf = hmac::Key::new(hmac::HMAC_SHA256, material);
        let session = RwLock::new(Arc::new(SessionKey::new(&kdf)?));
        Ok(SymmetricState { kdf, session })
    }

    fn current(&self) -> Arc<SessionKey> {
        // A poisoned lock still holds a valid Arc (it is only ever replaced whole).
        let guard = self.session.read().unwrap_or_else(|e| e.into_inner());
        Arc::clone(&guard)
    }

    /// The session key, counted as used once; replaced when it has done its share.
    fn session_for_encryption(&self) -> Result<Arc<SessionKey>, KmsCryptoError> {
        let session = self.current();
        if session.uses.fetch_add(1, Ordering::Relaxed) < SESSION_KEY_MAX_USES {
            return Ok(session);
        }
        let mut guard = self.session.write().unwrap_or_else(|e| e.into_inner());
        if Arc::ptr_eq(&guard, &session) {
            *guard = Arc::new(SessionKey::new(&self.kdf)?);
        }
        let fresh = Arc::clone(&guard);
        drop(guard);
        // Count this use against the fresh key too (another thread may have made it).
        if fresh.uses.fetch_add(1, Ordering::Relaxed) < SESSION_KEY_MAX_USES {
            Ok(fresh)
        } else {
            Err(KmsCryptoError::Internal("session key exhausted"))
        }
    }

    #[cfg(test)]
    pub(crate) fn exhaust_session_for_test(&self) {
        self.current()
            .uses
            .store(SESSION_KEY_MAX_USES, Ordering::Relaxed);
    }
}

impl SessionKey {
    fn new(kdf: &hmac::Key) -> Result<SessionKey, KmsCryptoError> {
        let mut salt = [0u8; SALT_LEN];
        SystemRandom::new()
            .fill(&mut salt)
            .map_err(KmsCryptoError::internal("random number generator failure"))?;
        Ok(SessionKey {
            key: derive_key(kdf, &salt)?,
            salt,
            uses: AtomicU64::new(0),
        })
    }
}

fn symmetric_state(material: &KeyMaterial) -> Result<&SymmetricState, KmsCryptoError> {
    match &material.parsed {
        Parsed::Symmetric(state) => Ok(state),
        _ => Err(KmsCryptoError::InvalidKeyUsage(format!(
            "KeySpec {} cannot be used with the SYMMETRIC_DEFAULT encryption algorithm.",
            material.spec()
        ))),
    }
}

fn derive_key(kdf: &hmac::Key, salt: &[u8]) -> Result<LessSafeKey, KmsCryptoError> {
    let mut ctx = hmac::Context::with_key(kdf);
    ctx.update(&1u32.to_be_bytes());
    ctx.update(b"rampart:kms:blob-key:v1\0");
    ctx.update(salt);
    ctx.update(&256u32.to_be_bytes());
    let tag = ctx.sign();
    let mut derived = Zeroizing::new([0u8; 32]);
    derived
        .iter_mut()
        .zip(tag.as_ref())
        .for_each(|(d, t)| *d = *t);
    let unbound = UnboundKey::new(&AES_256_GCM, derived.as_slice())
        .map_err(KmsCryptoError::internal("key derivation failed"))?;
    Ok(LessSafeKey::new(unbound))
}

fn aad(header: &[u8], context: &EncryptionContext) -> Vec<u8> {
    let mut aad = Vec::with_capacity(header.len() + 64);
    aad.extend_from_slice(header);
    context.canonical_bytes(&mut aad);
    aad
}
