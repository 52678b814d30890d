//! `DeriveSharedSecret` with NIST-curve keys whose usage is `KEY_AGREEMENT`: ECDH (the raw shared
//! x-coordinate, as KMS returns it) between the KMS private key and a peer's public key given as
//! DER SubjectPublicKeyInfo.
use aws_lc_rs::agreement::{self, ECDH_P256, ECDH_P384, ECDH_P521, UnparsedPublicKey};
use zeroize::Zeroizing;

use super::error::KmsCryptoError;
use super::material::KeyMaterial;
use super::spec::{KeyAgreementAlgorithm, KeySpec, KeyUsage};

pub fn derive_shared_secret(
    material: &KeyMaterial,
    algorithm: KeyAgreementAlgorithm,
    peer_public_key_der: &[u8],
) -> Result<Zeroizing<Vec<u8>>, KmsCryptoError> {
    let spec = material.spec();
    if !spec
        .algorithms(KeyUsage::KEY_AGREEMENT)
        .key_agreement
        .contains(&algorithm)
    {
        return Err(KmsCryptoError::InvalidKeyUsage(format!(
            "KeySpec {spec} cannot be used with the {algorithm} key agreement algorithm."
        )));
    }
    let curve = match spec {
        KeySpec::ECC_NIST_P256 => &ECDH_P256,
        KeySpec::ECC_NIST_P384 => &ECDH_P384,
        KeySpec::ECC_NIST_P521 => &ECDH_P521,
        _ => return Err(KmsCryptoError::Internal("key agreement curve")),
    };
    // KMS takes only SubjectPublicKeyInfo (a DER SEQUENCE), not bare SEC1 points.
    if peer_public_key_der.first() != Some(&0x30) {
        return Err(invalid_peer_key(spec));
    }
    let private = agreement::PrivateKey::from_private_key_der(curve, material.raw_bytes())
        .map_err(|_| KmsCryptoError::Internal("key agreement private key"))?;
    agreement::agree(
        &private,
        UnparsedPublicKey::new(curve, peer_public_key_der),
        invalid_peer_key(spec),
        |secret| Ok(Zeroizing::new(secret.to_vec())),
    )
}

fn invalid_peer_key(spec: KeySpec) -> KmsCryptoError {
    KmsCryptoError::validation(format!(
        "The public key must be a DER-encoded SubjectPublicKeyInfo on the curve of KeySpec {spec}."
    ))
}
