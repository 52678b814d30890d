use aws_lc_rs::hmac as lc;

use super::*;

#[test]
fn every_hmac_spec_round_trips_and_matches_a_reference_hmac() {
    for (spec, alg, lc_alg, len) in [
        (
            KeySpec::HMAC_224,
            MacAlgorithm::HMAC_SHA_224,
            lc::HMAC_SHA224,
            28,
        ),
        (
            KeySpec::HMAC_256,
            MacAlgorithm::HMAC_SHA_256,
            lc::HMAC_SHA256,
            32,
        ),
        (
            KeySpec::HMAC_384,
            MacAlgorithm::HMAC_SHA_384,
            lc::HMAC_SHA384,
            48,
        ),
        (
            KeySpec::HMAC_512,
            MacAlgorithm::HMAC_SHA_512,
            lc::HMAC_SHA512,
            64,
        ),
    ] {
        let m = material(spec);
        let mac = generate_mac(m, alg, b"message").unwrap();
        assert_eq!(mac.len(), len);
        assert_eq!(alg.tag_len(), len);
        let reference = lc::sign(&lc::Key::new(lc_alg, &m.to_bytes()), b"message");
        assert_eq!(mac, reference.as_ref());
        verify_mac(m, alg, b"message", &mac).unwrap();
        assert_eq!(
            verify_mac(m, alg, b"messagf", &mac).unwrap_err(),
            KmsCryptoError::InvalidMac
        );
        for i in 0..mac.len() {
            let mut t = mac.clone();
            t[i] ^= 1;
            assert_eq!(
                verify_mac(m, alg, b"message", &t).unwrap_err().aws_code(),
                "KMSInvalidMacException"
            );
        }
        assert!(verify_mac(m, alg, b"message", &mac[..len - 1]).is_err());
        assert!(verify_mac(m, alg, b"message", &[]).is_err());
        // Another key of the spec gives another MAC.
        let other = KeyMaterial::generate(spec).unwrap();
        assert!(verify_mac(&other, alg, b"message", &mac).is_err());
        // 4096-byte limit.
        assert!(generate_mac(m, alg, &[0u8; 4096]).is_ok());
        assert_eq!(
            generate_mac(m, alg, &[0u8; 4097]).unwrap_err().aws_code(),
            "ValidationException"
        );
    }
}

#[test]
fn the_key_spec_fixes_the_mac_algorithm() {
    let m = material(KeySpec::HMAC_256);
    for alg in [
        MacAlgorithm::HMAC_SHA_224,
        MacAlgorithm::HMAC_SHA_384,
        MacAlgorithm::HMAC_SHA_512,
    ] {
        assert_eq!(
            generate_mac(m, alg, b"x").unwrap_err().aws_code(),
            "InvalidKeyUsageException"
        );
    }
    for spec in [
        KeySpec::SYMMETRIC_DEFAULT,
        KeySpec::RSA_2048,
        KeySpec::ECC_NIST_P256,
    ] {
        assert_eq!(
            generate_mac(material(spec), MacAlgorithm::HMAC_SHA_256, b"x")
                .unwrap_err()
                .aws_code(),
            "InvalidKeyUsageException"
        );
    }
}
