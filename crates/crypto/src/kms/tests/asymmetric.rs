use aws_lc_rs::digest;

use super::*;
use crate::kms::signing::MAX_MESSAGE_LEN;

const RSA_SPECS: [KeySpec; 3] = [KeySpec::RSA_2048, KeySpec::RSA_3072, KeySpec::RSA_4096];
const OAEP: [EncryptionAlgorithm; 2] = [
    EncryptionAlgorithm::RSAES_OAEP_SHA_1,
    EncryptionAlgorithm::RSAES_OAEP_SHA_256,
];

fn signing_specs() -> impl Iterator<Item = KeySpec> {
    KeySpec::ALL
        .iter()
        .copied()
        .filter(|s| s.valid_usages().contains(&KeyUsage::SIGN_VERIFY))
}

fn hash_for(alg: SigningAlgorithm) -> &'static digest::Algorithm {
    match alg.digest_len() {
        Some(48) => &digest::SHA384,
        Some(64) => &digest::SHA512,
        _ => &digest::SHA256,
    }
}

#[test]
fn rsa_oaep_limits_are_kms_limits() {
    let expect = [
        (KeySpec::RSA_2048, 214, 190),
        (KeySpec::RSA_3072, 342, 318),
        (KeySpec::RSA_4096, 470, 446),
    ];
    for (spec, sha1, sha256) in expect {
        assert_eq!(max_rsa_plaintext_len(spec, OAEP[0]), Some(sha1));
        assert_eq!(max_rsa_plaintext_len(spec, OAEP[1]), Some(sha256));
    }
}

#[test]
fn rsa_oaep_round_trips_at_the_limit_and_rejects_beyond() {
    for spec in RSA_SPECS {
        let m = material(spec);
        for alg in OAEP {
            let max = max_rsa_plaintext_len(spec, alg).unwrap();
            let pt = vec![0x5a; max];
            let ct = rsa_encrypt(m, alg, &pt).unwrap();
            assert_eq!(ct.len(), spec.rsa_modulus_len().unwrap());
            assert_eq!(rsa_decrypt(m, alg, &ct).unwrap().as_slice(), pt.as_slice());
            let err = rsa_encrypt(m, alg, &vec![0x5a; max + 1]).unwrap_err();
            assert_eq!(err.aws_code(), "ValidationException", "{spec} {alg}");
            // Decrypting with the other OAEP hash fails as invalid ciphertext.
            let other = if alg == OAEP[0] { OAEP[1] } else { OAEP[0] };
            assert_eq!(
                rsa_decrypt(m, other, &ct).unwrap_err(),
                KmsCryptoError::InvalidCiphertext
            );
            // Tampering anywhere fails.
            for i in [0, ct.len() / 2, ct.len() - 1] {
                let mut t = ct.clone();
                t[i] ^= 1;
                assert_eq!(
                    rsa_decrypt(m, alg, &t).unwrap_err(),
                    KmsCryptoError::InvalidCiphertext
                );
            }
            assert!(rsa_decrypt(m, alg, &ct[1..]).is_err());
            assert!(rsa_decrypt(m, alg, &[]).is_err());
        }
    }
    // The wrong RSA key cannot decrypt.
    let ct = rsa_encrypt(material(KeySpec::RSA_2048), OAEP[1], b"hi").unwrap();
    let other = KeyMaterial::generate(KeySpec::RSA_2048).unwrap();
    assert_eq!(
        rsa_decrypt(&other, OAEP[1], &ct).unwrap_err(),
        KmsCryptoError::InvalidCiphertext
    );
    // Non-RSA keys and SYMMETRIC_DEFAULT on RSA are key-usage errors.
    assert_eq!(
        rsa_encrypt(material(KeySpec::ECC_NIST_P256), OAEP[1], b"x")
            .unwrap_err()
            .aws_code(),
        "InvalidKeyUsageException"
    );
    assert_eq!(
        rsa_encrypt(
            material(KeySpec::RSA_2048),
            EncryptionAlgorithm::SYMMETRIC_DEFAULT,
            b"x"
        )
        .unwrap_err()
        .aws_code(),
        "InvalidKeyUsageException"
    );
}

#[test]
fn every_spec_and_signing_algorithm_round_trips_raw_and_digest() {
    let message = b"the quick brown fox";
    let mut count = 0;
    for spec in signing_specs() {
        let m = material(spec);
        let public = m.public_key_der().unwrap();
        for alg in spec.algorithms(KeyUsage::SIGN_VERIFY).signing {
            let sig = sign(m, *alg, MessageType::RAW, message).unwrap();
            verify(m, *alg, MessageType::RAW, message, &sig).unwrap();
            verify_with_public_key(spec, &public, *alg, MessageType::RAW, message, &sig).unwrap();
            // Wrong message, flipped signature bit, truncated signature.
            assert_eq!(
                verify(m, *alg, MessageType::RAW, b"the quick brown fox!", &sig).unwrap_err(),
                KmsCryptoError::InvalidSignature
            );
            let mut bad = sig.clone();
            let mid = bad.len() / 2;
            bad[mid] ^= 0x10;
            assert_eq!(
                verify(m, *alg, MessageType::RAW, message, &bad).unwrap_err(),
                KmsCryptoError::InvalidSignature,
                "{spec} {alg}"
            );
            assert!(verify(m, *alg, MessageType::RAW, message, &sig[..sig.len() - 1]).is_err());
            assert!(verify(m, *alg, MessageType::RAW, message, &[]).is_err());
            // Another key of the same spec does not verify it.
            if !matches!(spec, KeySpec::RSA_4096 | KeySpec::RSA_3072) {
                let other = KeyMaterial::generate(spec).unwrap();
                assert_eq!(
                    verify(&other, *alg, MessageType::RAW, message, &sig).unwrap_err(),
                    KmsCryptoError::InvalidSignature
                );
            }

            if *alg == SigningAlgorithm::ML_DSA_SHAKE_256 {
                assert_eq!(
                    sign(m, *alg, MessageType::DIGEST, &[0u8; 64])
                        .unwrap_err()
                        .aws_code(),
                    "ValidationException"
                );
                assert_eq!(
                    sign(m, *alg, MessageType::EXTERNAL_MU, &[0u8; 64])
                        .unwrap_err()
                        .aws_code(),
                    "UnsupportedOperationException"
                );
                assert_eq!(
                    verify(m, *alg, MessageType::EXTERNAL_MU, &[0u8; 63], &sig)
                        .unwrap_err()
                        .aws_code(),
                    "ValidationException"
                );
            } else {
                // DIGEST: signing the hash equals signing the message with RAW.
                let d = digest::digest(hash_for(*alg), message);
                let dsig = sign(m, *alg, MessageType::DIGEST, d.as_ref()).unwrap();
                verify(m, *alg, MessageType::RAW, message, &dsig).unwrap();
                verify(m, *alg, MessageType::DIGEST, d.as_ref(), &sig).unwrap();
                // A RAW signature of the digest bytes is a different thing (hashed twice).
                assert!(verify(m, *alg, MessageType::RAW, d.as_ref(), &sig).is_err());
                // Digest of the wrong length.
                let wrong = vec![0u8; alg.digest_len().unwrap() + 1];
                assert_eq!(
                    sign(m, *alg, MessageType::DIGEST, &wrong)
                        .unwrap_err()
                        .aws_code(),
                    "ValidationException"
                );
                assert_eq!(
                    verify(m, *alg, MessageType::DIGEST, &wrong[1..2], &sig)
                        .unwrap_err()
                        .aws_code(),
                    "ValidationException"
                );
                assert_eq!(
                    sign(m, *alg, MessageType::EXTERNAL_MU, &[0u8; 64])
                        .unwrap_err()
                        .aws_code(),
                    "ValidationException"
                );
            }
            count += 1;
        }
    }
    // 3 RSA × 6 + 4 ECC × 1 + 3 ML-DSA × 1
    assert_eq!(count, 25);
}

#[test]
fn raw_message_limit_is_4096() {
    for spec in [
        KeySpec::ECC_NIST_P256,
        KeySpec::RSA_2048,
        KeySpec::ML_DSA_44,
    ] {
        let m = material(spec);
        let alg = spec.algorithms(KeyUsage::SIGN_VERIFY).signing[0];
        let sig = sign(m, alg, MessageType::RAW, &[1u8; MAX_MESSAGE_LEN]).unwrap();
        verify(m, alg, MessageType::RAW, &[1u8; MAX_MESSAGE_LEN], &sig).unwrap();
        assert_eq!(
            sign(m, alg, MessageType::RAW, &[1u8; MAX_MESSAGE_LEN + 1])
                .unwrap_err()
                .aws_code(),
            "ValidationException"
        );
        // An empty message signs (AWS's model requires >= 1 byte; the wire layer enforces that).
        assert!(sign(m, alg, MessageType::RAW, b"").is_ok());
    }
}

#[test]
fn algorithms_must_match_the_key_spec() {
    use SigningAlgorithm::*;
    let cases = [
        (KeySpec::ECC_NIST_P256, ECDSA_SHA_384),
        (KeySpec::ECC_NIST_P384, ECDSA_SHA_256),
        (KeySpec::ECC_NIST_P521, ECDSA_SHA_256),
        (KeySpec::ECC_SECG_P256K1, ECDSA_SHA_512),
        (KeySpec::RSA_2048, ECDSA_SHA_256),
        (KeySpec::RSA_2048, ML_DSA_SHAKE_256),
        (KeySpec::ML_DSA_44, RSASSA_PSS_SHA_256),
        (KeySpec::ECC_NIST_P256, RSASSA_PKCS1_V1_5_SHA_256),
        (KeySpec::SYMMETRIC_DEFAULT, RSASSA_PSS_SHA_256),
        (KeySpec::HMAC_256, ECDSA_SHA_256),
    ];
    for (spec, alg) in cases {
        let err = sign(material(spec), alg, MessageType::RAW, b"m").unwrap_err();
        assert_eq!(err.aws_code(), "InvalidKeyUsageException", "{spec} {alg}");
    }
}

#[test]
fn ecdsa_signatures_are_der_and_pss_is_randomized() {
    let m = material(KeySpec::ECC_NIST_P256);
    let sig = sign(m, SigningAlgorithm::ECDSA_SHA_256, MessageType::RAW, b"m").unwrap();
    assert_eq!(sig[0], 0x30, "DER SEQUENCE");
    assert_eq!(usize::from(sig[1]) + 2, sig.len());
    let r = material(KeySpec::RSA_2048);
    let a = sign(
        r,
        SigningAlgorithm::RSASSA_PSS_SHA_256,
        MessageType::RAW,
        b"m",
    )
    .unwrap();
    let b = sign(
        r,
        SigningAlgorithm::RSASSA_PSS_SHA_256,
        MessageType::RAW,
        b"m",
    )
    .unwrap();
    assert_ne!(a, b, "PSS uses a random salt");
    let c = sign(
        r,
        SigningAlgorithm::RSASSA_PKCS1_V1_5_SHA_256,
        MessageType::RAW,
        b"m",
    )
    .unwrap();
    let d = sign(
        r,
        SigningAlgorithm::RSASSA_PKCS1_V1_5_SHA_256,
        MessageType::RAW,
        b"m",
    )
    .unwrap();
    assert_eq!(c, d, "PKCS#1 v1.5 is deterministic");
}

#[test]
fn public_keys_are_spki_der_and_symmetric_keys_have_none() {
    for spec in KeySpec::ALL {
        let m = material(*spec);
        match spec.family() {
            KeyFamily::Symmetric | KeyFamily::Hmac => assert_eq!(
                m.public_key_der().unwrap_err().aws_code(),
                "UnsupportedOperationException"
            ),
            _ => {
                let der = public_key_der(m).unwrap();
                assert_eq!(der, m.public_key_der().unwrap());
                assert_eq!(der[0], 0x30, "{spec}");
                // Reloading the private key gives the same public key.
                let again = KeyMaterial::from_bytes(*spec, &m.to_bytes()).unwrap();
                assert_eq!(again.public_key_der().unwrap(), der);
            }
        }
    }
}

#[test]
fn material_must_fit_the_spec() {
    // RSA of the wrong size, EC of the wrong curve, ML-DSA of the wrong set, garbage.
    let rsa2048 = material(KeySpec::RSA_2048).to_bytes();
    assert!(KeyMaterial::from_bytes(KeySpec::RSA_3072, &rsa2048).is_err());
    assert!(KeyMaterial::from_bytes(KeySpec::ECC_NIST_P256, &rsa2048).is_err());
    let p256 = material(KeySpec::ECC_NIST_P256).to_bytes();
    assert!(KeyMaterial::from_bytes(KeySpec::ECC_NIST_P384, &p256).is_err());
    assert!(KeyMaterial::from_bytes(KeySpec::ECC_SECG_P256K1, &p256).is_err());
    assert!(KeyMaterial::from_bytes(KeySpec::RSA_2048, &p256).is_err());
    let ml44 = material(KeySpec::ML_DSA_44).to_bytes();
    assert!(KeyMaterial::from_bytes(KeySpec::ML_DSA_65, &ml44).is_err());
    for spec in KeySpec::ALL {
        assert!(KeyMaterial::from_bytes(*spec, b"").is_err());
        assert!(KeyMaterial::from_bytes(*spec, &[0x30, 0x82, 0xff]).is_err());
        let e = KeyMaterial::from_bytes(*spec, &[0u8; 7]).unwrap_err();
        assert_eq!(e.aws_code(), "ValidationException");
    }
    // HMAC lengths within AWS's bounds.
    for (spec, min, max) in [
        (KeySpec::HMAC_224, 28, 64),
        (KeySpec::HMAC_256, 32, 64),
        (KeySpec::HMAC_384, 48, 128),
        (KeySpec::HMAC_512, 64, 128),
    ] {
        assert!(KeyMaterial::from_bytes(spec, &vec![1; min]).is_ok());
        assert!(KeyMaterial::from_bytes(spec, &vec![1; max]).is_ok());
        assert!(KeyMaterial::from_bytes(spec, &vec![1; min - 1]).is_err());
        assert!(KeyMaterial::from_bytes(spec, &vec![1; max + 1]).is_err());
    }
}

#[test]
fn ecdh_both_sides_derive_the_same_secret() {
    for spec in [
        KeySpec::ECC_NIST_P256,
        KeySpec::ECC_NIST_P384,
        KeySpec::ECC_NIST_P521,
    ] {
        let a = material(spec);
        let b = KeyMaterial::generate(spec).unwrap();
        let ab = derive_shared_secret(a, KeyAgreementAlgorithm::ECDH, &b.public_key_der().unwrap())
            .unwrap();
        let ba = derive_shared_secret(
            &b,
            KeyAgreementAlgorithm::ECDH,
            &a.public_key_der().unwrap(),
        )
        .unwrap();
        assert_eq!(ab, ba, "{spec}");
        let field_len = match spec {
            KeySpec::ECC_NIST_P256 => 32,
            KeySpec::ECC_NIST_P384 => 48,
            _ => 66,
        };
        assert_eq!(ab.len(), field_len);
        // A peer key on another curve, a bare point, garbage: ValidationException.
        let other_curve = if spec == KeySpec::ECC_NIST_P256 {
            KeySpec::ECC_NIST_P384
        } else {
            KeySpec::ECC_NIST_P256
        };
        let wrong = material(other_curve).public_key_der().unwrap();
        for bad in [
            &wrong[..],
            &[0x04u8; 65][..],
            b"",
            &[0x30, 0x03, 0x02, 0x01, 0x01][..],
        ] {
            assert_eq!(
                derive_shared_secret(a, KeyAgreementAlgorithm::ECDH, bad)
                    .unwrap_err()
                    .aws_code(),
                "ValidationException"
            );
        }
    }
    for spec in [
        KeySpec::ECC_SECG_P256K1,
        KeySpec::RSA_2048,
        KeySpec::SYMMETRIC_DEFAULT,
    ] {
        let peer = material(KeySpec::ECC_NIST_P256).public_key_der().unwrap();
        assert_eq!(
            derive_shared_secret(material(spec), KeyAgreementAlgorithm::ECDH, &peer)
                .unwrap_err()
                .aws_code(),
            "InvalidKeyUsageException"
        );
    }
}
