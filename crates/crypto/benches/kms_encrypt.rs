//! AES-256-GCM encryption of 4 KiB: through the KMS layer (`kms::encrypt`: blob header, per-
//! ciphertext key derivation, context canonicalization) vs the bare aws-lc-rs call with a
//! pre-expanded key and a random nonce. The target: the layer adds under 20%.
//!
//! Run: `cargo bench -p rampart-crypto --bench kms_encrypt`
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use divan::{Bencher, black_box};
use rampart_crypto::kms::{
    CiphertextBlob, EncryptionContext, KeyId, KeyMaterial, KeySpec, MaterialId, SymmetricKeyRef,
    encrypt,
};

const SIZE: usize = 4096;

fn main() {
    divan::main();
}

#[divan::bench]
fn bare_aws_lc_rs_seal(bencher: Bencher) {
    let key = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, &[0x42; 32]).unwrap());
    let rng = SystemRandom::new();
    let plaintext = vec![0x5a_u8; SIZE];
    bencher.bench_local(|| {
        let mut nonce = [0u8; NONCE_LEN];
        rng.fill(&mut nonce).unwrap();
        let mut buf = Vec::with_capacity(SIZE + 16);
        buf.extend_from_slice(black_box(&plaintext));
        key.seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), Aad::empty(), &mut buf)
            .unwrap();
        buf
    });
}

/// For scale only: the same seal with a counter nonce (no RNG call), which a KMS cannot use
/// across nodes and restarts; it shows how much of the cost is the random nonce.
#[divan::bench]
fn bare_aws_lc_rs_seal_counter_nonce(bencher: Bencher) {
    let key = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, &[0x42; 32]).unwrap());
    let plaintext = vec![0x5a_u8; SIZE];
    let mut counter = 0u64;
    bencher.bench_local(|| {
        counter += 1;
        let mut nonce = [0u8; NONCE_LEN];
        nonce[4..].copy_from_slice(&counter.to_be_bytes());
        let mut buf = Vec::with_capacity(SIZE + 16);
        buf.extend_from_slice(black_box(&plaintext));
        key.seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), Aad::empty(), &mut buf)
            .unwrap();
        buf
    });
}

struct Setup {
    id: KeyId,
    material: KeyMaterial,
    material_id: MaterialId,
}

fn setup() -> Setup {
    let id = KeyId::parse("1234abcd-12ab-34cd-56ef-1234567890ab").unwrap();
    let material = KeyMaterial::generate(KeySpec::SYMMETRIC_DEFAULT).unwrap();
    let material_id = MaterialId::derive(&id, &material);
    Setup {
        id,
        material,
        material_id,
    }
}

#[divan::bench(args = [0, 2])]
fn kms_encrypt(bencher: Bencher, context_pairs: usize) {
    let s = setup();
    let key = SymmetricKeyRef {
        key_id: &s.id,
        material_id: &s.material_id,
        material: &s.material,
    };
    let context: EncryptionContext = (0..context_pairs)
        .map(|i| (format!("key{i}"), format!("value-{i}")))
        .collect();
    let plaintext = vec![0x5a_u8; SIZE];
    bencher.bench_local(|| encrypt(key, &context, black_box(&plaintext)).unwrap());
}

#[divan::bench]
fn kms_decrypt(bencher: Bencher) {
    let s = setup();
    let key = SymmetricKeyRef {
        key_id: &s.id,
        material_id: &s.material_id,
        material: &s.material,
    };
    let context = EncryptionContext::new();
    let blob = encrypt(key, &context, &[0x5a_u8; SIZE]).unwrap();
    bencher.bench_local(|| {
        CiphertextBlob::parse(black_box(&blob))
            .unwrap()
            .decrypt(&s.material, &context)
            .unwrap()
    });
}
