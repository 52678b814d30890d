use rampart_aws_types::AwsError;

use super::*;

#[test]
fn every_error_maps_to_its_aws_code_and_status() {
    let cases = [
        (
            KmsCryptoError::InvalidCiphertext,
            "InvalidCiphertextException",
            400,
        ),
        (KmsCryptoError::IncorrectKey, "IncorrectKeyException", 400),
        (
            KmsCryptoError::InvalidSignature,
            "KMSInvalidSignatureException",
            400,
        ),
        (KmsCryptoError::InvalidMac, "KMSInvalidMacException", 400),
        (
            KmsCryptoError::InvalidKeyUsage("u".into()),
            "InvalidKeyUsageException",
            400,
        ),
        (
            KmsCryptoError::InvalidImportToken,
            "InvalidImportTokenException",
            400,
        ),
        (
            KmsCryptoError::ExpiredImportToken,
            "ExpiredImportTokenException",
            400,
        ),
        (
            KmsCryptoError::IncorrectKeyMaterial,
            "IncorrectKeyMaterialException",
            400,
        ),
        (
            KmsCryptoError::UnsupportedOperation("x".into()),
            "UnsupportedOperationException",
            400,
        ),
        (KmsCryptoError::Internal("rng"), "KMSInternalException", 500),
    ];
    for (err, code, status) in cases {
        assert_eq!(err.aws_code(), code);
        assert_eq!(err.http_status(), status);
        let aws: AwsError = err.clone().into();
        assert_eq!(aws.code, code);
        assert_eq!(aws.status, status);
        assert_eq!(aws.message, err.to_string());
    }
    // Validation goes through the neutral constructor so each protocol picks its spelling.
    let aws: AwsError = KmsCryptoError::Validation("bad".into()).into();
    assert_eq!(aws, AwsError::validation("bad"));
    // The oracle-free errors carry no message at all.
    assert_eq!(KmsCryptoError::InvalidCiphertext.to_string(), "");
    assert_eq!(KmsCryptoError::InvalidSignature.to_string(), "");
}

#[test]
fn errors_never_contain_plaintext_or_key_bytes() {
    let id = key_id(KEY_A);
    let m = material(KeySpec::SYMMETRIC_DEFAULT);
    let mid = MaterialId::derive(&id, m);
    let key = SymmetricKeyRef {
        key_id: &id,
        material_id: &mid,
        material: m,
    };
    let secret = b"TOP-SECRET-PLAINTEXT".repeat(300);
    let mut errors = vec![encrypt(key, &EncryptionContext::new(), &secret).unwrap_err()];
    let blob = encrypt(key, &EncryptionContext::new(), b"TOP-SECRET-PLAINTEXT").unwrap();
    let mut t = blob.clone();
    t[100] ^= 1;
    errors.push(
        CiphertextBlob::parse(&t)
            .unwrap()
            .decrypt(m, &EncryptionContext::new())
            .unwrap_err(),
    );
    errors.push(
        rsa_encrypt(
            material(KeySpec::RSA_2048),
            EncryptionAlgorithm::RSAES_OAEP_SHA_256,
            &secret,
        )
        .unwrap_err(),
    );
    errors.push(
        sign(
            material(KeySpec::ECC_NIST_P256),
            SigningAlgorithm::ECDSA_SHA_256,
            MessageType::RAW,
            &secret,
        )
        .unwrap_err(),
    );
    errors.push(
        generate_mac(
            material(KeySpec::HMAC_256),
            MacAlgorithm::HMAC_SHA_256,
            &secret,
        )
        .unwrap_err(),
    );
    errors.push(
        KeyMaterial::from_bytes(KeySpec::SYMMETRIC_DEFAULT, b"TOP-SECRET-PLAINTEXT").unwrap_err(),
    );
    let raw_hex = hex::encode(&*m.to_bytes());
    for e in errors {
        for text in [e.to_string(), format!("{e:?}")] {
            assert!(!text.contains("TOP-SECRET"), "{text}");
            assert!(!text.contains(&raw_hex[..16]), "{text}");
        }
    }
}
