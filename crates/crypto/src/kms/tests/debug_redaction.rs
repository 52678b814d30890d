use super::*;

/// No Debug output of a key type may contain its secret bytes (in any common rendering).
#[test]
fn debug_of_key_types_never_shows_material() {
    for spec in KeySpec::ALL {
        let m = material(*spec);
        let raw = m.to_bytes();
        let dbg = format!("{m:?} {:#?}", m);
        assert!(dbg.contains(spec.as_str()), "{dbg}");
        let hex_raw = hex::encode(&*raw);
        // Any 8-byte window of the secret, as hex or as a decimal list, must be absent.
        for w in raw.windows(8).step_by(8) {
            assert!(!dbg.contains(&hex::encode(w)), "{spec}: hex leak");
            assert!(!dbg.contains(&format!("{w:?}").trim_matches(['[', ']']).to_string()));
        }
        assert!(!dbg.contains(&hex_raw));
        assert!(dbg.len() < 200, "{spec}: Debug unexpectedly long: {dbg}");
    }
}

#[test]
fn debug_of_data_keys_redacts_plaintext() {
    let id = key_id(KEY_A);
    let m = material(KeySpec::SYMMETRIC_DEFAULT);
    let mid = MaterialId::derive(&id, m);
    let key = SymmetricKeyRef {
        key_id: &id,
        material_id: &mid,
        material: m,
    };
    let dk = generate_data_key(
        key,
        &EncryptionContext::new(),
        DataKeyLength::from_request(Some(DataKeySpec::AES_256), None).unwrap(),
    )
    .unwrap();
    let dbg = format!("{dk:?}");
    assert!(!dbg.contains(&hex::encode(&dk.plaintext[..8])));
    assert!(
        !dbg.contains(
            &format!("{:?}", &dk.plaintext[..4])
                .trim_matches(['[', ']'])
                .to_string()
        )
    );
    assert!(dbg.contains("redacted"));
    let pair = generate_data_key_pair(
        key,
        &EncryptionContext::new(),
        DataKeyPairSpec::ECC_NIST_P256,
    )
    .unwrap();
    let dbg = format!("{pair:?}");
    assert!(!dbg.contains(&hex::encode(&pair.private_key_plaintext[..])));
    assert!(dbg.contains("redacted"));
}
