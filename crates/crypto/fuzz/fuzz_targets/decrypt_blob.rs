//! Arbitrary bytes as a KMS ciphertext blob (and, with the same bytes, as an RSA ciphertext, a
//! signature, a MAC and an import token): every path must return an error, never panic.
//! The first run also decrypts a valid blob so the fuzzer has a real one to mutate from
//! (seed it with `corpus/decrypt_blob/valid` written below).
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use rampart_crypto::MasterKey;
use rampart_crypto::kms::*;

struct Keys {
    id: KeyId,
    sym: KeyMaterial,
    sym_id: MaterialId,
    rsa: KeyMaterial,
    ec: KeyMaterial,
    hmac: KeyMaterial,
    master: MasterKey,
    context: EncryptionContext,
}

fn keys() -> &'static Keys {
    static KEYS: OnceLock<Keys> = OnceLock::new();
    KEYS.get_or_init(|| {
        let id = KeyId::parse("1234abcd-12ab-34cd-56ef-1234567890ab").unwrap();
        // Fixed material so a blob found by the fuzzer stays meaningful across runs.
        let sym = KeyMaterial::from_bytes(KeySpec::SYMMETRIC_DEFAULT, &[0x42; 32]).unwrap();
        let sym_id = MaterialId::derive(&id, &sym);
        let context: EncryptionContext = [("purpose", "fuzz")].into_iter().collect();
        let k = Keys {
            rsa: KeyMaterial::generate(KeySpec::RSA_2048).unwrap(),
            ec: KeyMaterial::generate(KeySpec::ECC_NIST_P256).unwrap(),
            hmac: KeyMaterial::from_bytes(KeySpec::HMAC_256, &[7; 32]).unwrap(),
            master: MasterKey::from_bytes(&[9; 32]).unwrap(),
            id,
            sym,
            sym_id,
            context,
        };
        let seed = encrypt(
            SymmetricKeyRef {
                key_id: &k.id,
                material_id: &k.sym_id,
                material: &k.sym,
            },
            &k.context,
            b"a valid plaintext",
        )
        .unwrap();
        let dir = std::path::Path::new("corpus/decrypt_blob");
        if dir.is_dir() {
            let _ = std::fs::write(dir.join("valid"), seed);
        }
        k
    })
}

fuzz_target!(|data: &[u8]| {
    let k = keys();
    let _ = peek_key_id(data);
    if let Ok(blob) = CiphertextBlob::parse(data) {
        let _ = blob.check_key_id(&k.id);
        if blob.material_id() == k.sym_id {
            let _ = blob.decrypt(&k.sym, &k.context);
        }
        let _ = blob.decrypt(&k.sym, &EncryptionContext::new());
    }
    let _ = rsa_decrypt(&k.rsa, EncryptionAlgorithm::RSAES_OAEP_SHA_256, data);
    let _ = verify(
        &k.ec,
        SigningAlgorithm::ECDSA_SHA_256,
        MessageType::RAW,
        b"m",
        data,
    );
    let _ = verify(
        &k.ec,
        SigningAlgorithm::ECDSA_SHA_256,
        MessageType::DIGEST,
        data,
        data,
    );
    let _ = verify_mac(&k.hmac, MacAlgorithm::HMAC_SHA_256, b"m", data);
    let _ = import_key_material(&k.master, &k.id, KeySpec::SYMMETRIC_DEFAULT, data, data, 0);
    let _ = KeyMaterial::from_bytes(KeySpec::ECC_NIST_P256, data);
    let _ = derive_shared_secret(&k.ec, KeyAgreementAlgorithm::ECDH, data);
});
