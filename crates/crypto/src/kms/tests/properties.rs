use std::collections::BTreeMap;

use proptest::prelude::*;

use super::*;

fn contexts() -> impl Strategy<Value = BTreeMap<String, String>> {
    prop::collection::btree_map("[a-zA-Z0-9=:é]{0,6}", "[a-zA-Z0-9=:ü]{0,6}", 0..4)
}

fn key() -> (KeyId, MaterialId, &'static KeyMaterial) {
    let id = key_id(KEY_A);
    let m = material(KeySpec::SYMMETRIC_DEFAULT);
    (id.clone(), MaterialId::derive(&id, m), m)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// Any plaintext round-trips under any context, and only under that exact context.
    #[test]
    fn round_trip_only_under_the_same_context(
        plaintext in prop::collection::vec(any::<u8>(), 1..300),
        a in contexts(),
        b in contexts(),
    ) {
        let (id, mid, m) = key();
        let key = SymmetricKeyRef { key_id: &id, material_id: &mid, material: m };
        let ca = EncryptionContext::from(a.clone());
        let cb = EncryptionContext::from(b.clone());
        let blob = encrypt(key, &ca, &plaintext).unwrap();
        let parsed = CiphertextBlob::parse(&blob).unwrap();
        let opened = parsed.decrypt(m, &ca).unwrap();
        prop_assert_eq!(opened.as_slice(), plaintext.as_slice());
        let other = parsed.decrypt(m, &cb);
        if a == b {
            prop_assert!(other.is_ok());
        } else {
            prop_assert_eq!(other.unwrap_err(), KmsCryptoError::InvalidCiphertext);
        }
    }

    /// Arbitrary bytes never decrypt and never panic.
    #[test]
    fn arbitrary_blobs_are_rejected(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        let (_, _, m) = key();
        let result = CiphertextBlob::parse(&bytes).and_then(|p| p.decrypt(m, &EncryptionContext::new()));
        prop_assert_eq!(result.unwrap_err(), KmsCryptoError::InvalidCiphertext);
    }
}
