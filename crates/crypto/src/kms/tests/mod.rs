//! Unit tests of the KMS core, one file per area. Slow-to-generate keys (RSA) are made once.
mod asymmetric;
mod debug_redaction;
mod errors;
mod hmac;
mod import;
mod properties;
mod symmetric;

use std::sync::OnceLock;

use super::*;

pub(crate) const KEY_A: &str = "1234abcd-12ab-34cd-56ef-1234567890ab";
pub(crate) const KEY_B: &str = "mrk-1234abcd12ab34cd56ef1234567890ab";

pub(crate) fn key_id(s: &str) -> KeyId {
    KeyId::parse(s).unwrap()
}

/// One generated key per spec, shared by all tests (RSA-4096 generation is slow in debug builds).
pub(crate) fn material(spec: KeySpec) -> &'static KeyMaterial {
    static CACHE: OnceLock<Vec<(KeySpec, KeyMaterial)>> = OnceLock::new();
    let all = CACHE.get_or_init(|| {
        KeySpec::ALL
            .iter()
            .map(|s| (*s, KeyMaterial::generate(*s).unwrap()))
            .collect()
    });
    &all.iter().find(|(s, _)| *s == spec).unwrap().1
}

/// Handlers share loaded keys across request threads.
#[test]
fn key_types_are_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<KeyMaterial>();
    assert_send_sync::<KeyId>();
    assert_send_sync::<MaterialId>();
    assert_send_sync::<EncryptionContext>();
    assert_send_sync::<KmsCryptoError>();
}
