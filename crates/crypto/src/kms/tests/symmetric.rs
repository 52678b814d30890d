use super::*;
use crate::kms::material::Parsed;
use crate::kms::symmetric::{BLOB_HEADER_LEN, BLOB_OVERHEAD};

fn ctx(pairs: &[(&str, &str)]) -> EncryptionContext {
    pairs.iter().map(|(k, v)| (*k, *v)).collect()
}

struct Key {
    id: KeyId,
    material: KeyMaterial,
    material_id: MaterialId,
}

impl Key {
    fn new(id: &str) -> Key {
        let id = key_id(id);
        let material = KeyMaterial::generate(KeySpec::SYMMETRIC_DEFAULT).unwrap();
        let material_id = MaterialId::derive(&id, &material);
        Key {
            id,
            material,
            material_id,
        }
    }

    fn r(&self) -> SymmetricKeyRef<'_> {
        SymmetricKeyRef {
            key_id: &self.id,
            material_id: &self.material_id,
            material: &self.material,
        }
    }
}

#[test]
fn round_trip_with_and_without_context() {
    let k = Key::new(KEY_A);
    for c in [ctx(&[]), ctx(&[("tenant", "a"), ("purpose", "test")])] {
        let blob = encrypt(k.r(), &c, b"attack at dawn").unwrap();
        assert_eq!(blob.len(), BLOB_OVERHEAD + 14);
        assert!(!blob.windows(14).any(|w| w == b"attack at dawn"));
        let parsed = CiphertextBlob::parse(&blob).unwrap();
        assert_eq!(parsed.key_id(), KEY_A);
        assert_eq!(parsed.material_id(), k.material_id);
        assert_eq!(
            parsed.decrypt(&k.material, &c).unwrap().as_slice(),
            b"attack at dawn"
        );
    }
}

#[test]
fn context_order_is_irrelevant_but_content_must_match_exactly() {
    let k = Key::new(KEY_A);
    let blob = encrypt(k.r(), &ctx(&[("a", "1"), ("b", "2")]), b"x").unwrap();
    let p = CiphertextBlob::parse(&blob).unwrap();
    assert!(
        p.decrypt(&k.material, &ctx(&[("b", "2"), ("a", "1")]))
            .is_ok()
    );
    for wrong in [
        ctx(&[]),
        ctx(&[("a", "1")]),
        ctx(&[("a", "1"), ("b", "3")]),
        ctx(&[("a", "1"), ("B", "2")]),
        ctx(&[("a", "1"), ("b", "2"), ("c", "3")]),
    ] {
        assert_eq!(
            p.decrypt(&k.material, &wrong).unwrap_err(),
            KmsCryptoError::InvalidCiphertext
        );
    }
}

#[test]
fn every_flipped_bit_is_invalid_ciphertext() {
    let k = Key::new(KEY_A);
    let c = ctx(&[("k", "v")]);
    let blob = encrypt(k.r(), &c, b"sixteen byte msg").unwrap();
    for i in 0..blob.len() {
        for bit in [0x01u8, 0x80] {
            let mut t = blob.clone();
            t[i] ^= bit;
            let err = CiphertextBlob::parse(&t)
                .and_then(|p| p.decrypt(&k.material, &c))
                .unwrap_err();
            assert_eq!(
                err,
                KmsCryptoError::InvalidCiphertext,
                "byte {i} bit {bit:#x}"
            );
            assert_eq!(err.aws_code(), "InvalidCiphertextException");
        }
    }
    // Truncations and extensions too.
    for n in 0..blob.len() {
        assert!(
            CiphertextBlob::parse(&blob[..n])
                .and_then(|p| p.decrypt(&k.material, &c))
                .is_err()
        );
    }
    let mut longer = blob.clone();
    longer.push(0);
    assert!(
        CiphertextBlob::parse(&longer)
            .unwrap()
            .decrypt(&k.material, &c)
            .is_err()
    );
}

#[test]
fn wrong_key_or_material_fails_and_key_id_check_is_incorrect_key() {
    let a = Key::new(KEY_A);
    let b = Key::new(KEY_B);
    let blob = encrypt(a.r(), &ctx(&[]), b"secret").unwrap();
    let p = CiphertextBlob::parse(&blob).unwrap();
    assert_eq!(
        p.decrypt(&b.material, &ctx(&[])).unwrap_err(),
        KmsCryptoError::InvalidCiphertext
    );
    assert_eq!(
        p.check_key_id(&b.id).unwrap_err(),
        KmsCryptoError::IncorrectKey
    );
    assert_eq!(
        p.check_key_id(&b.id).unwrap_err().aws_code(),
        "IncorrectKeyException"
    );
    assert!(p.check_key_id(&a.id).is_ok());
    // A blob claiming key B but made under A's material does not open with B's material.
    let mut forged = blob.clone();
    forged[1..37].copy_from_slice(KEY_B.as_bytes());
    let fp = CiphertextBlob::parse(&forged).unwrap();
    assert_eq!(fp.key_id(), KEY_B);
    assert!(fp.decrypt(&b.material, &ctx(&[])).is_err());
    assert!(
        fp.decrypt(&a.material, &ctx(&[])).is_err(),
        "header is authenticated"
    );
    // Non-symmetric material is a key-usage error, not a crash.
    let err = p
        .decrypt(material(KeySpec::HMAC_256), &ctx(&[]))
        .unwrap_err();
    assert_eq!(err.aws_code(), "InvalidKeyUsageException");
}

#[test]
fn rotation_old_ciphertexts_still_decrypt_new_ones_use_newest() {
    let id = key_id(KEY_A);
    let old = KeyMaterial::generate(KeySpec::SYMMETRIC_DEFAULT).unwrap();
    let new = KeyMaterial::generate(KeySpec::SYMMETRIC_DEFAULT).unwrap();
    let old_id = MaterialId::derive(&id, &old);
    let new_id = MaterialId::derive(&id, &new);
    assert_ne!(old_id, new_id);
    let materials = [(old_id, &old), (new_id, &new)];
    let old_blob = encrypt(
        SymmetricKeyRef {
            key_id: &id,
            material_id: &old_id,
            material: &old,
        },
        &ctx(&[]),
        b"before rotation",
    )
    .unwrap();
    let new_blob = encrypt(
        SymmetricKeyRef {
            key_id: &id,
            material_id: &new_id,
            material: &new,
        },
        &ctx(&[]),
        b"after rotation",
    )
    .unwrap();
    for (blob, expect) in [
        (&old_blob, &b"before rotation"[..]),
        (&new_blob, b"after rotation"),
    ] {
        let p = CiphertextBlob::parse(blob).unwrap();
        let m = materials
            .iter()
            .find(|(mid, _)| *mid == p.material_id())
            .unwrap()
            .1;
        assert_eq!(p.decrypt(m, &ctx(&[])).unwrap().as_slice(), expect);
    }
    assert_eq!(
        CiphertextBlob::parse(&new_blob).unwrap().material_id(),
        new_id
    );
}

#[test]
fn material_ids_are_deterministic_and_key_bound() {
    let m = KeyMaterial::generate(KeySpec::SYMMETRIC_DEFAULT).unwrap();
    let reloaded = KeyMaterial::from_bytes(KeySpec::SYMMETRIC_DEFAULT, &m.to_bytes()).unwrap();
    assert_eq!(
        MaterialId::derive(&key_id(KEY_A), &m),
        MaterialId::derive(&key_id(KEY_A), &reloaded)
    );
    assert_ne!(
        MaterialId::derive(&key_id(KEY_A), &m),
        MaterialId::derive(&key_id(KEY_B), &m)
    );
}

#[test]
fn size_limits() {
    let k = Key::new(KEY_A);
    assert!(encrypt(k.r(), &ctx(&[]), &[7u8; 4096]).is_ok());
    let err = encrypt(k.r(), &ctx(&[]), &[7u8; 4097]).unwrap_err();
    assert_eq!(err.aws_code(), "ValidationException");
    assert!(err.to_string().contains("4096"));
    assert_eq!(
        encrypt(k.r(), &ctx(&[]), &[]).unwrap_err().aws_code(),
        "ValidationException"
    );
    // The largest blob stays within AWS's 6,144-byte CiphertextBlob limit.
    const { assert!(BLOB_OVERHEAD + 4096 <= 6144) };
    assert_eq!(BLOB_HEADER_LEN, 97);
}

#[test]
fn ivs_differ_per_call_and_the_session_salt_is_shared_until_exhausted() {
    let k = Key::new(KEY_A);
    let a = encrypt(k.r(), &ctx(&[]), b"same").unwrap();
    let b = encrypt(k.r(), &ctx(&[]), b"same").unwrap();
    assert_eq!(a[..85], b[..85], "same key, material and session salt");
    assert_ne!(a[85..97], b[85..97], "fresh IV");
    assert_ne!(a[97..], b[97..]);
    // When the session key has done its share, a new salt (so a new AES key) is drawn.
    let Parsed::Symmetric(state) = &k.material.parsed else {
        panic!("symmetric material")
    };
    state.exhaust_session_for_test();
    let c = encrypt(k.r(), &ctx(&[]), b"same").unwrap();
    assert_ne!(a[69..85], c[69..85], "new session salt");
    let d = encrypt(k.r(), &ctx(&[]), b"same").unwrap();
    assert_eq!(c[69..85], d[69..85]);
    // Blobs of the old and new session both decrypt.
    for blob in [&a, &c] {
        let p = CiphertextBlob::parse(blob).unwrap();
        assert_eq!(
            p.decrypt(&k.material, &ctx(&[])).unwrap().as_slice(),
            b"same"
        );
    }
}

#[test]
fn another_instance_of_the_material_decrypts_by_deriving_from_the_salt() {
    let k = Key::new(KEY_A);
    let blob = encrypt(k.r(), &ctx(&[("a", "b")]), b"across processes").unwrap();
    let reloaded =
        KeyMaterial::from_bytes(KeySpec::SYMMETRIC_DEFAULT, &k.material.to_bytes()).unwrap();
    let p = CiphertextBlob::parse(&blob).unwrap();
    assert_eq!(
        p.decrypt(&reloaded, &ctx(&[("a", "b")]))
            .unwrap()
            .as_slice(),
        b"across processes"
    );
    // Its own session uses a different salt.
    let own = encrypt(
        SymmetricKeyRef {
            key_id: &k.id,
            material_id: &k.material_id,
            material: &reloaded,
        },
        &ctx(&[]),
        b"x",
    )
    .unwrap();
    assert_ne!(own[69..85], blob[69..85]);
}

#[test]
fn peek_key_id_reads_header_and_rejects_garbage() {
    let k = Key::new(KEY_B);
    let blob = encrypt(k.r(), &ctx(&[]), b"x").unwrap();
    assert_eq!(peek_key_id(&blob).unwrap(), KEY_B);
    assert!(peek_key_id(&[]).is_err());
    assert!(peek_key_id(&[1u8; 200]).is_err());
    let mut v2 = blob.clone();
    v2[0] = 2;
    assert_eq!(
        peek_key_id(&v2).unwrap_err(),
        KmsCryptoError::InvalidCiphertext
    );
}

#[test]
fn data_keys_by_spec_and_number_of_bytes() {
    let k = Key::new(KEY_A);
    let c = ctx(&[("app", "x")]);
    for (spec, n, len) in [
        (Some(DataKeySpec::AES_256), None, 32),
        (Some(DataKeySpec::AES_128), None, 16),
        (None, Some(1), 1),
        (None, Some(1024), 1024),
    ] {
        let dk =
            generate_data_key(k.r(), &c, DataKeyLength::from_request(spec, n).unwrap()).unwrap();
        assert_eq!(dk.plaintext.len(), len);
        let p = CiphertextBlob::parse(&dk.ciphertext_blob).unwrap();
        assert_eq!(p.decrypt(&k.material, &c).unwrap(), dk.plaintext);
        assert!(p.decrypt(&k.material, &ctx(&[])).is_err());
    }
    for (spec, n) in [
        (None, None),
        (Some(DataKeySpec::AES_256), Some(32)),
        (None, Some(0)),
        (None, Some(1025)),
        (None, Some(-1)),
    ] {
        assert_eq!(
            DataKeyLength::from_request(spec, n).unwrap_err().aws_code(),
            "ValidationException"
        );
    }
    let a = generate_data_key(
        k.r(),
        &c,
        DataKeyLength::from_request(Some(DataKeySpec::AES_256), None).unwrap(),
    )
    .unwrap();
    let b = generate_data_key(
        k.r(),
        &c,
        DataKeyLength::from_request(Some(DataKeySpec::AES_256), None).unwrap(),
    )
    .unwrap();
    assert_ne!(a.plaintext, b.plaintext);
}

#[test]
fn data_key_pairs_for_every_spec() {
    let k = Key::new(KEY_A);
    let c = ctx(&[("k", "v")]);
    for spec in DataKeyPairSpec::ALL {
        let pair = generate_data_key_pair(k.r(), &c, *spec).unwrap();
        let p = CiphertextBlob::parse(&pair.private_key_ciphertext_blob).unwrap();
        let private = p.decrypt(&k.material, &c).unwrap();
        assert_eq!(private, pair.private_key_plaintext, "{spec}");
        // The private key loads as the spec and matches the public key.
        let loaded = KeyMaterial::from_bytes((*spec).into(), &private).unwrap();
        assert_eq!(
            loaded.public_key_der().unwrap(),
            pair.public_key_der,
            "{spec}"
        );
        assert!(pair.private_key_ciphertext_blob.len() <= 6144);
    }
}

#[test]
fn re_encrypt_moves_between_keys_and_contexts() {
    let a = Key::new(KEY_A);
    let b = Key::new(KEY_B);
    let blob = encrypt(a.r(), &ctx(&[("x", "1")]), b"moving").unwrap();
    let src = CiphertextBlob::parse(&blob).unwrap();
    let moved = re_encrypt(
        &src,
        &a.material,
        &ctx(&[("x", "1")]),
        b.r(),
        &ctx(&[("y", "2")]),
    )
    .unwrap();
    let p = CiphertextBlob::parse(&moved).unwrap();
    assert_eq!(p.key_id(), KEY_B);
    assert_eq!(
        p.decrypt(&b.material, &ctx(&[("y", "2")]))
            .unwrap()
            .as_slice(),
        b"moving"
    );
    assert!(re_encrypt(&src, &a.material, &ctx(&[]), b.r(), &ctx(&[])).is_err());
}

#[test]
fn generate_random_bounds() {
    assert_eq!(generate_random(1).unwrap().len(), 1);
    assert_eq!(generate_random(1024).unwrap().len(), 1024);
    assert!(generate_random(0).is_err());
    assert!(generate_random(1025).is_err());
    assert_ne!(generate_random(32).unwrap(), generate_random(32).unwrap());
}

#[test]
fn symmetric_material_must_be_32_bytes() {
    for n in [0usize, 16, 31, 33, 64] {
        assert_eq!(
            KeyMaterial::from_bytes(KeySpec::SYMMETRIC_DEFAULT, &vec![1u8; n])
                .unwrap_err()
                .aws_code(),
            "ValidationException"
        );
    }
}

#[test]
fn concurrent_encryptions_share_one_material_safely() {
    let k = std::sync::Arc::new(Key::new(KEY_A));
    let threads: Vec<_> = (0..4u8)
        .map(|t| {
            let k = std::sync::Arc::clone(&k);
            std::thread::spawn(move || {
                let mut blobs = Vec::new();
                for i in 0..200u8 {
                    if t == 0 && i == 100 {
                        // Force a session change mid-flight.
                        let Parsed::Symmetric(state) = &k.material.parsed else {
                            panic!("symmetric material")
                        };
                        state.exhaust_session_for_test();
                    }
                    blobs.push((vec![t, i], encrypt(k.r(), &ctx(&[]), &[t, i]).unwrap()));
                }
                blobs
            })
        })
        .collect();
    let mut ivs = std::collections::HashSet::new();
    let mut salts = std::collections::HashSet::new();
    for t in threads {
        for (pt, blob) in t.join().unwrap() {
            let p = CiphertextBlob::parse(&blob).unwrap();
            assert_eq!(
                p.decrypt(&k.material, &ctx(&[])).unwrap().as_slice(),
                pt.as_slice()
            );
            assert!(ivs.insert(blob[85..97].to_vec()), "IV repeated");
            salts.insert(blob[69..85].to_vec());
        }
    }
    assert_eq!(ivs.len(), 800);
    assert!(salts.len() >= 2, "the session salt changed when exhausted");
}
