//! The cryptographic core of KMS, on aws-lc-rs: key specs and their algorithms, key material
//! (generation, serialization for sealing, loading), symmetric ciphertext blobs, data keys,
//! RSA-OAEP encryption, signatures, HMAC, ECDH, and key import. No I/O, no clock: the caller
//! passes `now` where time matters, and stores what it is handed (sealed with `MasterKey::seal`).
//!
//! Errors are `KmsCryptoError`, whose variants are AWS error codes; `AwsError: From` it.
//!
//! ```
//! use rampart_crypto::MasterKey;
//! use rampart_crypto::kms::*;
//!
//! # fn main() -> Result<(), KmsCryptoError> {
//! // CreateKey: generate, seal for the store (the record remembers spec and material id).
//! let master = MasterKey::from_bytes(&[7; 32]).unwrap();
//! let key_id = KeyId::parse("1234abcd-12ab-34cd-56ef-1234567890ab")?;
//! let spec: KeySpec = "SYMMETRIC_DEFAULT".parse()?;
//! let usage = spec.resolve_usage(None)?;
//! let material = KeyMaterial::generate(spec)?;
//! let material_id = MaterialId::derive(&key_id, &material);
//! let sealed = master.seal("kms/material/1234abcd", &material.to_bytes()).unwrap();
//!
//! // Encrypt with the newest material.
//! let arn = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
//! check_operation(CryptoOperation::Encrypt, arn, spec, usage)?;
//! let context: EncryptionContext = [("tenant", "blue")].into_iter().collect();
//! let key = SymmetricKeyRef { key_id: &key_id, material_id: &material_id, material: &material };
//! let blob = encrypt(key, &context, b"hello")?;
//!
//! // Decrypt without KeyId: the blob names key and material.
//! let parsed = CiphertextBlob::parse(&blob)?;
//! assert_eq!(parsed.key_id(), key_id.as_str());
//! let stored = KeyMaterial::from_bytes(spec, &master.open("kms/material/1234abcd", &sealed).unwrap())?;
//! assert_eq!(parsed.material_id(), material_id);
//! assert_eq!(&parsed.decrypt(&stored, &context)?[..], b"hello");
//! # Ok(())
//! # }
//! ```
pub mod agreement;
pub mod context;
pub mod data_key;
pub mod error;
pub mod ids;
pub mod import;
pub mod mac;
pub mod material;
pub mod rsa_encryption;
pub mod signing;
pub mod spec;
pub mod symmetric;
pub mod usage;

pub use agreement::derive_shared_secret;
pub use context::EncryptionContext;
pub use data_key::{
    DataKey, DataKeyLength, DataKeyPair, generate_data_key, generate_data_key_pair, generate_random,
};
pub use error::{CIPHERTEXT_KEY_NOT_ACCESSIBLE, KmsCryptoError};
pub use ids::{KeyId, MaterialId};
pub use import::{
    ImportParameters, check_reimport, get_parameters_for_import, import_key_material,
    wrap_key_material,
};
pub use mac::{generate_mac, verify_mac};
pub use material::{KeyMaterial, public_key_der};
pub use rsa_encryption::{max_rsa_plaintext_len, rsa_decrypt, rsa_encrypt};
pub use signing::{sign, verify, verify_with_public_key};
pub use spec::{
    AlgorithmLists, DataKeyPairSpec, DataKeySpec, EncryptionAlgorithm, KeyAgreementAlgorithm,
    KeyFamily, KeySpec, KeyUsage, MacAlgorithm, MessageType, SigningAlgorithm, WrappingAlgorithm,
    WrappingKeySpec,
};
pub use symmetric::{CiphertextBlob, SymmetricKeyRef, encrypt, peek_key_id, re_encrypt};
pub use usage::{CryptoOperation, check_operation};

#[cfg(test)]
mod tests;
