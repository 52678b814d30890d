use super::*;
use crate::MasterKey;
use crate::kms::import::IMPORT_PARAMETERS_VALIDITY_SECS;

const NOW: i64 = 1_800_000_000;

fn master() -> MasterKey {
    MasterKey::from_bytes(&[9u8; 32]).unwrap()
}

const ALGS: [WrappingAlgorithm; 4] = [
    WrappingAlgorithm::RSAES_OAEP_SHA_1,
    WrappingAlgorithm::RSAES_OAEP_SHA_256,
    WrappingAlgorithm::RSA_AES_KEY_WRAP_SHA_1,
    WrappingAlgorithm::RSA_AES_KEY_WRAP_SHA_256,
];

#[test]
fn symmetric_and_hmac_material_imports_with_every_algorithm_and_wrapping_spec() {
    let mk = master();
    let id = key_id(KEY_A);
    // Every algorithm with RSA_2048, and the larger wrapping specs with one algorithm each
    // (RSA-4096 generation takes seconds in a debug build).
    let combos = ALGS.iter().map(|a| (WrappingKeySpec::RSA_2048, *a)).chain([
        (
            WrappingKeySpec::RSA_3072,
            WrappingAlgorithm::RSA_AES_KEY_WRAP_SHA_1,
        ),
        (
            WrappingKeySpec::RSA_4096,
            WrappingAlgorithm::RSAES_OAEP_SHA_256,
        ),
    ]);
    for (wspec, alg) in combos {
        for spec in [KeySpec::SYMMETRIC_DEFAULT, KeySpec::HMAC_512] {
            let params = get_parameters_for_import(&mk, &id, alg, wspec, NOW).unwrap();
            assert_eq!(
                params.parameters_valid_to,
                NOW + IMPORT_PARAMETERS_VALIDITY_SECS
            );
            let original = KeyMaterial::generate(spec).unwrap();
            let wrapped =
                wrap_key_material(&params.public_key_der, alg, &original.to_bytes()).unwrap();
            let imported =
                import_key_material(&mk, &id, spec, &params.import_token, &wrapped, NOW + 60)
                    .unwrap();
            assert_eq!(
                imported.to_bytes(),
                original.to_bytes(),
                "{wspec} {alg} {spec}"
            );
            check_reimport(&id, &MaterialId::derive(&id, &original), &imported).unwrap();
        }
    }
}

#[test]
fn asymmetric_material_imports_with_aes_key_wrap_and_must_fit_the_spec() {
    let mk = master();
    let id = key_id(KEY_A);
    let alg = WrappingAlgorithm::RSA_AES_KEY_WRAP_SHA_256;
    for spec in [
        KeySpec::RSA_2048,
        KeySpec::RSA_4096,
        KeySpec::ECC_NIST_P256,
        KeySpec::ECC_NIST_P521,
        KeySpec::ECC_SECG_P256K1,
        KeySpec::ML_DSA_65,
    ] {
        let params =
            get_parameters_for_import(&mk, &id, alg, WrappingKeySpec::RSA_2048, NOW).unwrap();
        let original = material(spec);
        let wrapped = wrap_key_material(&params.public_key_der, alg, &original.to_bytes()).unwrap();
        let imported =
            import_key_material(&mk, &id, spec, &params.import_token, &wrapped, NOW).unwrap();
        assert_eq!(
            imported.public_key_der().unwrap(),
            original.public_key_der().unwrap()
        );
        // The same bytes declared as another spec are refused.
        let other = if spec == KeySpec::ECC_NIST_P256 {
            KeySpec::ECC_NIST_P384
        } else {
            KeySpec::ECC_NIST_P256
        };
        assert_eq!(
            import_key_material(&mk, &id, other, &params.import_token, &wrapped, NOW)
                .unwrap_err()
                .aws_code(),
            "ValidationException"
        );
    }
    // RSA-OAEP alone cannot carry an RSA private key.
    let params = get_parameters_for_import(
        &mk,
        &id,
        WrappingAlgorithm::RSAES_OAEP_SHA_256,
        WrappingKeySpec::RSA_2048,
        NOW,
    )
    .unwrap();
    assert!(
        wrap_key_material(
            &params.public_key_der,
            WrappingAlgorithm::RSAES_OAEP_SHA_256,
            &material(KeySpec::RSA_2048).to_bytes()
        )
        .is_err()
    );
    // A 16-byte key is not SYMMETRIC_DEFAULT material.
    let wrapped = wrap_key_material(
        &params.public_key_der,
        WrappingAlgorithm::RSAES_OAEP_SHA_256,
        &[1u8; 16],
    )
    .unwrap();
    assert_eq!(
        import_key_material(
            &mk,
            &id,
            KeySpec::SYMMETRIC_DEFAULT,
            &params.import_token,
            &wrapped,
            NOW
        )
        .unwrap_err()
        .aws_code(),
        "ValidationException"
    );
}

#[test]
fn tokens_are_bound_to_key_master_key_and_time() {
    let mk = master();
    let id = key_id(KEY_A);
    let alg = WrappingAlgorithm::RSAES_OAEP_SHA_256;
    let params = get_parameters_for_import(&mk, &id, alg, WrappingKeySpec::RSA_2048, NOW).unwrap();
    let wrapped = wrap_key_material(&params.public_key_der, alg, &[7u8; 32]).unwrap();
    let spec = KeySpec::SYMMETRIC_DEFAULT;
    let import = |mk: &MasterKey, id: &KeyId, token: &[u8], now: i64| {
        import_key_material(mk, id, spec, token, &wrapped, now)
    };
    assert!(import(&mk, &id, &params.import_token, NOW).is_ok());
    // Another key id.
    assert_eq!(
        import(&mk, &key_id(KEY_B), &params.import_token, NOW).unwrap_err(),
        KmsCryptoError::InvalidImportToken
    );
    // Another node's master key.
    let other_mk = MasterKey::from_bytes(&[8u8; 32]).unwrap();
    assert_eq!(
        import(&other_mk, &id, &params.import_token, NOW).unwrap_err(),
        KmsCryptoError::InvalidImportToken
    );
    // Expiry: valid up to (not including) ParametersValidTo.
    let last = params.parameters_valid_to - 1;
    assert!(import(&mk, &id, &params.import_token, last).is_ok());
    assert_eq!(
        import(&mk, &id, &params.import_token, params.parameters_valid_to).unwrap_err(),
        KmsCryptoError::ExpiredImportToken
    );
    assert_eq!(
        KmsCryptoError::ExpiredImportToken.aws_code(),
        "ExpiredImportTokenException"
    );
    // Every byte of the token is authenticated (header fields including the expiry).
    for i in 0..params.import_token.len() {
        let mut t = params.import_token.clone();
        t[i] ^= 0x01;
        let err = import(&mk, &id, &t, NOW).unwrap_err();
        assert_eq!(err, KmsCryptoError::InvalidImportToken, "byte {i}");
    }
    assert_eq!(
        import(&mk, &id, &[], NOW).unwrap_err(),
        KmsCryptoError::InvalidImportToken
    );
    assert_eq!(
        import(&mk, &id, &params.import_token[..20], NOW).unwrap_err(),
        KmsCryptoError::InvalidImportToken
    );
    // Material wrapped for another parameter set's public key does not unwrap.
    let params2 = get_parameters_for_import(&mk, &id, alg, WrappingKeySpec::RSA_2048, NOW).unwrap();
    assert_eq!(
        import(&mk, &id, &params2.import_token, NOW).unwrap_err(),
        KmsCryptoError::InvalidCiphertext
    );
    // The token does not reveal the wrapping private key's PKCS#8 header in clear.
    assert!(
        !params
            .import_token
            .windows(4)
            .any(|w| w == [0x02, 0x01, 0x00, 0x30])
    );
}

#[test]
fn tampered_wrapped_material_is_invalid_ciphertext() {
    let mk = master();
    let id = key_id(KEY_A);
    for alg in ALGS {
        let params =
            get_parameters_for_import(&mk, &id, alg, WrappingKeySpec::RSA_2048, NOW).unwrap();
        let wrapped = wrap_key_material(&params.public_key_der, alg, &[3u8; 32]).unwrap();
        for i in [0, wrapped.len() / 2, wrapped.len() - 1] {
            let mut t = wrapped.clone();
            t[i] ^= 0x40;
            assert_eq!(
                import_key_material(
                    &mk,
                    &id,
                    KeySpec::SYMMETRIC_DEFAULT,
                    &params.import_token,
                    &t,
                    NOW
                )
                .unwrap_err(),
                KmsCryptoError::InvalidCiphertext,
                "{alg} byte {i}"
            );
        }
        assert!(
            import_key_material(
                &mk,
                &id,
                KeySpec::SYMMETRIC_DEFAULT,
                &params.import_token,
                &wrapped[..wrapped.len() - 8],
                NOW
            )
            .is_err()
        );
    }
}

#[test]
fn reimport_of_different_material_is_incorrect_key_material() {
    let id = key_id(KEY_A);
    let first = KeyMaterial::generate(KeySpec::SYMMETRIC_DEFAULT).unwrap();
    let second = KeyMaterial::generate(KeySpec::SYMMETRIC_DEFAULT).unwrap();
    let err = check_reimport(&id, &MaterialId::derive(&id, &first), &second).unwrap_err();
    assert_eq!(err.aws_code(), "IncorrectKeyMaterialException");
}

#[test]
fn pkcs1_v1_5_wrapping_is_refused() {
    let err = get_parameters_for_import(
        &master(),
        &key_id(KEY_A),
        WrappingAlgorithm::RSAES_PKCS1_V1_5,
        WrappingKeySpec::RSA_2048,
        NOW,
    )
    .unwrap_err();
    assert_eq!(err.aws_code(), "ValidationException");
}
