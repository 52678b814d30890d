//! The cryptographic core of KMS, on aws-lc-rs: key specs and their algorithms, key material
//! (generation, serialization for sealing, loading), symmetric ciphertext blobs, data keys,
//! RSA-OAEP encryption, signatures, HMAC, and key import. No I/O, no clock: the caller passes
//! `now` where time matters, and stores what it is handed (sealed with `MasterKey::seal`).
//!
//! Errors are `KmsCryptoError`, whose variants are AWS error codes.
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

pub use agreement::derive_shared_secret;
pub use context::EncryptionContext;
pub use data_key::{
    DataKey, DataKeyLength, DataKeyPair, generate_data_key, generate_data_key_pair, generate_random,
};
pub use error::KmsCryptoError;
pub use ids::{KeyId, MaterialId};
pub use import::{
    ImportParameters, check_reimport, get_parameters_for_import, import_key_material,
    wrap_key_material,
};
pub use mac::{generate_mac, verify_mac};
pub use material::KeyMaterial;
pub use rsa_encryption::{max_rsa_plaintext_len, rsa_decrypt, rsa_encrypt};
pub use signing::{sign, verify, verify_with_public_key};
pub use spec::{
    AlgorithmLists, DataKeyPairSpec, DataKeySpec, EncryptionAlgorithm, KeyAgreementAlgorithm,
    KeyFamily, KeySpec, KeyUsage, MacAlgorithm, MessageType, SigningAlgorithm, WrappingAlgorithm,
    WrappingKeySpec,
};
pub use symmetric::{CiphertextBlob, SymmetricKeyRef, encrypt, peek_key_id, re_encrypt};

#[cfg(test)]
mod tests;
