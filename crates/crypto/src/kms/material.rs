//! Key material: generation per key spec, serialization for sealing at rest, and loading back.
//!
//! Serialized form (what the caller seals with `MasterKey::seal` and stores):
//! - `SYMMETRIC_DEFAULT`: the raw 32-byte AES-256 key;
//! - `HMAC_*`: the raw HMAC key;
//! - RSA, ECC, ML-DSA: the private key as PKCS#8 DER.
//!
//! The same forms are what `ImportKeyMaterial` accepts, so `from_bytes` is also the validation
//! that imported material fits the key spec.
use std::fmt;

use aws_lc_rs::encoding::{AsDer, Pkcs8V1Der, PublicKeyX509Der};
use aws_lc_rs::hmac;
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use aws_lc_rs::rsa::{
    KeySize, OaepPrivateDecryptingKey, OaepPublicEncryptingKey, PrivateDecryptingKey,
};
use aws_lc_rs::signature::{
    self, EcdsaKeyPair, EcdsaSigningAlgorithm, KeyPair, PqdsaKeyPair, PqdsaSigningAlgorithm,
    RsaKeyPair,
};
use zeroize::Zeroizing;

use super::error::KmsCryptoError;
use super::spec::{KeyFamily, KeySpec};
use super::symmetric::SymmetricState;

/// Length of a `SYMMETRIC_DEFAULT` key (AES-256).
pub const SYMMETRIC_KEY_LEN: usize = 32;

/// Loaded key material, ready to use. Holds the serialized form in a zeroizing buffer (for
/// re-sealing and material ids) and the parsed key for the operations its spec allows.
/// `Debug` shows the spec only.
pub struct KeyMaterial {
    spec: KeySpec,
    raw: Zeroizing<Vec<u8>>,
    pub(crate) parsed: Parsed,
}

pub(crate) enum Parsed {
    /// The AES key's derivation state (see `symmetric`).
    Symmetric(SymmetricState),
    Hmac {
        key: hmac::Key,
    },
    Rsa {
        signing: RsaKeyPair,
        decrypting: OaepPrivateDecryptingKey,
        encrypting: OaepPublicEncryptingKey,
    },
    Ecc {
        key: EcdsaKeyPair,
    },
    MlDsa {
        key: PqdsaKeyPair,
    },
}

impl fmt::Debug for KeyMaterial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyMaterial")
            .field("spec", &self.spec)
            .finish_non_exhaustive()
    }
}

impl KeyMaterial {
    /// Generates fresh material for `spec` with aws-lc-rs's RNG / key generation.
    pub fn generate(spec: KeySpec) -> Result<KeyMaterial, KmsCryptoError> {
        let rng_err = KmsCryptoError::internal("random number generator failure");
        let keygen_err = KmsCryptoError::internal("key generation failed");
        let raw: Zeroizing<Vec<u8>> = match spec.family() {
            KeyFamily::Symmetric | KeyFamily::Hmac => {
                let mut bytes = Zeroizing::new(vec![0u8; generated_secret_len(spec)]);
                SystemRandom::new().fill(&mut bytes).map_err(rng_err)?;
                bytes
            }
            KeyFamily::Rsa => {
                let size = match spec {
                    KeySpec::RSA_2048 => KeySize::Rsa2048,
                    KeySpec::RSA_3072 => KeySize::Rsa3072,
                    _ => KeySize::Rsa4096,
                };
                let pair = RsaKeyPair::generate(size).map_err(keygen_err)?;
                let der: Pkcs8V1Der<'static> = pair
                    .as_der()
                    .map_err(KmsCryptoError::internal("PKCS#8 encoding failed"))?;
                Zeroizing::new(der.as_ref().to_vec())
            }
            KeyFamily::Ecc => {
                let pair = EcdsaKeyPair::generate(ecdsa_signing_alg(spec)).map_err(keygen_err)?;
                let doc = pair
                    .to_pkcs8v1()
                    .map_err(KmsCryptoError::internal("PKCS#8 encoding failed"))?;
                Zeroizing::new(doc.as_ref().to_vec())
            }
            KeyFamily::MlDsa => {
                let pair = PqdsaKeyPair::generate(ml_dsa_signing_alg(spec)).map_err(keygen_err)?;
                let doc = pair
                    .to_pkcs8v1()
                    .map_err(KmsCryptoError::internal("PKCS#8 encoding failed"))?;
                Zeroizing::new(doc.as_ref().to_vec())
            }
        };
        KeyMaterial::from_bytes(spec, &raw)
    }

    /// Loads material from its serialized form, checking that it fits `spec` (right AES key
    /// length, HMAC key length within AWS's bounds, RSA modulus size, curve, ML-DSA parameter set).
    /// Errors are `ValidationException`s that never echo the bytes.
    pub fn from_bytes(spec: KeySpec, bytes: &[u8]) -> Result<KeyMaterial, KmsCryptoError> {
        let unfit = || {
            KmsCryptoError::validation(format!(
                "The key material is not valid for a KMS key with KeySpec {spec}."
            ))
        };
        let parsed = match spec.family() {
            KeyFamily::Symmetric => {
                if bytes.len() != SYMMETRIC_KEY_LEN {
                    return Err(unfit());
                }
                Parsed::Symmetric(SymmetricState::new(bytes)?)
            }
            KeyFamily::Hmac => {
                let (min, max, alg) = hmac_bounds(spec);
                if bytes.len() < min || bytes.len() > max {
                    return Err(unfit());
                }
                Parsed::Hmac {
                    key: hmac::Key::new(alg, bytes),
                }
            }
            KeyFamily::Rsa => {
                let signing = RsaKeyPair::from_pkcs8(bytes).map_err(|_| unfit())?;
                if Some(signing.public_modulus_len()) != spec.rsa_modulus_len() {
                    return Err(unfit());
                }
                let private = PrivateDecryptingKey::from_pkcs8(bytes).map_err(|_| unfit())?;
                let encrypting =
                    OaepPublicEncryptingKey::new(private.public_key()).map_err(|_| unfit())?;
                let decrypting = OaepPrivateDecryptingKey::new(private).map_err(|_| unfit())?;
                Parsed::Rsa {
                    signing,
                    decrypting,
                    encrypting,
                }
            }
            KeyFamily::Ecc => Parsed::Ecc {
                key: EcdsaKeyPair::from_pkcs8(ecdsa_signing_alg(spec), bytes)
                    .map_err(|_| unfit())?,
            },
            KeyFamily::MlDsa => Parsed::MlDsa {
                key: PqdsaKeyPair::from_pkcs8(ml_dsa_signing_alg(spec), bytes)
                    .map_err(|_| unfit())?,
            },
        };
        Ok(KeyMaterial {
            spec,
            raw: Zeroizing::new(bytes.to_vec()),
            parsed,
        })
    }

    /// The serialized form, to seal with `MasterKey::seal` and store.
    pub fn to_bytes(&self) -> Zeroizing<Vec<u8>> {
        self.raw.clone()
    }

    pub fn spec(&self) -> KeySpec {
        self.spec
    }

    pub(crate) fn raw_bytes(&self) -> &[u8] {
        &self.raw
    }

    /// The public key as DER `SubjectPublicKeyInfo`, exactly what `GetPublicKey` returns.
    /// Symmetric and HMAC keys have none (`UnsupportedOperationException`, as AWS answers).
    pub fn public_key_der(&self) -> Result<Vec<u8>, KmsCryptoError> {
        let enc_err = KmsCryptoError::internal("public key encoding failed");
        let der: PublicKeyX509Der<'static> = match &self.parsed {
            Parsed::Rsa { signing, .. } => signing.public_key().as_der().map_err(enc_err)?,
            Parsed::Ecc { key } => key.public_key().as_der().map_err(enc_err)?,
            Parsed::MlDsa { key } => key.public_key().as_der().map_err(enc_err)?,
            Parsed::Symmetric(_) | Parsed::Hmac { .. } => {
                return Err(KmsCryptoError::UnsupportedOperation(format!(
                    "{} key spec is not supported for this operation.",
                    self.spec
                )));
            }
        };
        Ok(der.as_ref().to_vec())
    }
}

/// Length of a generated secret: AES-256 = 32 bytes; HMAC keys as long as their hash output.
fn generated_secret_len(spec: KeySpec) -> usize {
    match spec {
        KeySpec::HMAC_224 => 28,
        KeySpec::HMAC_384 => 48,
        KeySpec::HMAC_512 => 64,
        _ => 32,
    }
}

/// AWS's accepted lengths for imported HMAC keys, and the matching aws-lc-rs algorithm.
fn hmac_bounds(spec: KeySpec) -> (usize, usize, hmac::Algorithm) {
    match spec {
        KeySpec::HMAC_224 => (28, 64, hmac::HMAC_SHA224),
        KeySpec::HMAC_384 => (48, 128, hmac::HMAC_SHA384),
        KeySpec::HMAC_512 => (64, 128, hmac::HMAC_SHA512),
        _ => (32, 64, hmac::HMAC_SHA256),
    }
}

/// The one ECDSA algorithm AWS pairs with each curve, with DER (ASN.1) signatures as KMS
/// returns them.
pub(crate) fn ecdsa_signing_alg(spec: KeySpec) -> &'static EcdsaSigningAlgorithm {
    match spec {
        KeySpec::ECC_NIST_P384 => &signature::ECDSA_P384_SHA384_ASN1_SIGNING,
        KeySpec::ECC_NIST_P521 => &signature::ECDSA_P521_SHA512_ASN1_SIGNING,
        KeySpec::ECC_SECG_P256K1 => &signature::ECDSA_P256K1_SHA256_ASN1_SIGNING,
        _ => &signature::ECDSA_P256_SHA256_ASN1_SIGNING,
    }
}

pub(crate) fn ml_dsa_signing_alg(spec: KeySpec) -> &'static PqdsaSigningAlgorithm {
    match spec {
        KeySpec::ML_DSA_65 => &signature::ML_DSA_65_SIGNING,
        KeySpec::ML_DSA_87 => &signature::ML_DSA_87_SIGNING,
        _ => &signature::ML_DSA_44_SIGNING,
    }
}

/// `GetPublicKey`'s `PublicKey`: DER SubjectPublicKeyInfo (same as `KeyMaterial::public_key_der`).
pub fn public_key_der(material: &KeyMaterial) -> Result<Vec<u8>, KmsCryptoError> {
    material.public_key_der()
}
