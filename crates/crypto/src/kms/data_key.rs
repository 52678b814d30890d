//! Data keys (`GenerateDataKey`) and data key pairs (`GenerateDataKeyPair`), each returned in
//! plaintext and encrypted under a symmetric KMS key.
use std::fmt;

use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use zeroize::Zeroizing;

use super::context::EncryptionContext;
use super::error::KmsCryptoError;
use super::material::KeyMaterial;
use super::spec::{DataKeyPairSpec, DataKeySpec};
use super::symmetric::{SymmetricKeyRef, seal};

/// Largest `NumberOfBytes` AWS accepts.
pub const MAX_DATA_KEY_BYTES: usize = 1024;
/// Largest `GenerateRandom` request.
pub const MAX_RANDOM_BYTES: usize = 1024;

/// `GenerateDataKey`'s size: exactly one of `KeySpec` and `NumberOfBytes`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DataKeyLength(usize);

impl DataKeyLength {
    /// Applies AWS's rules: one of the two must be given, not both; `NumberOfBytes` is 1..=1024.
    pub fn from_request(
        key_spec: Option<DataKeySpec>,
        number_of_bytes: Option<i64>,
    ) -> Result<DataKeyLength, KmsCryptoError> {
        match (key_spec, number_of_bytes) {
            (Some(spec), None) => Ok(DataKeyLength(spec.byte_len())),
            (None, Some(n)) => match usize::try_from(n) {
                Ok(n) if (1..=MAX_DATA_KEY_BYTES).contains(&n) => Ok(DataKeyLength(n)),
                _ if n < 1 => Err(KmsCryptoError::validation(format!(
                    "1 validation error detected: Value '{n}' at 'numberOfBytes' failed to satisfy constraint: Member must have value greater than or equal to 1"
                ))),
                _ => Err(KmsCryptoError::validation(format!(
                    "1 validation error detected: Value '{n}' at 'numberOfBytes' failed to satisfy constraint: Member must have value less than or equal to 1024"
                ))),
            },
            _ => Err(KmsCryptoError::validation(
                "Please specify either number of bytes or key spec.",
            )),
        }
    }

    pub fn byte_len(self) -> usize {
        self.0
    }
}

/// A data key: the plaintext (zeroized on drop) and its ciphertext blob.
pub struct DataKey {
    pub plaintext: Zeroizing<Vec<u8>>,
    pub ciphertext_blob: Vec<u8>,
}

impl fmt::Debug for DataKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DataKey")
            .field(
                "plaintext",
                &format_args!("<{} bytes redacted>", self.plaintext.len()),
            )
            .field("ciphertext_blob_len", &self.ciphertext_blob.len())
            .finish()
    }
}

/// `GenerateDataKey` (drop `plaintext` for `GenerateDataKeyWithoutPlaintext`).
pub fn generate_data_key(
    key: SymmetricKeyRef<'_>,
    context: &EncryptionContext,
    length: DataKeyLength,
) -> Result<DataKey, KmsCryptoError> {
    let plaintext = random_bytes(length.byte_len())?;
    let ciphertext_blob = seal(key, context, &plaintext)?;
    Ok(DataKey {
        plaintext,
        ciphertext_blob,
    })
}

/// A data key pair: public key (DER SubjectPublicKeyInfo), private key (PKCS#8 DER, zeroized on
/// drop) and the private key's ciphertext blob.
pub struct DataKeyPair {
    pub public_key_der: Vec<u8>,
    pub private_key_plaintext: Zeroizing<Vec<u8>>,
    pub private_key_ciphertext_blob: Vec<u8>,
}

impl fmt::Debug for DataKeyPair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DataKeyPair")
            .field("public_key_der_len", &self.public_key_der.len())
            .field(
                "private_key_plaintext",
                &format_args!("<{} bytes redacted>", self.private_key_plaintext.len()),
            )
            .field(
                "private_key_ciphertext_blob_len",
                &self.private_key_ciphertext_blob.len(),
            )
            .finish()
    }
}

/// `GenerateDataKeyPair` (drop `private_key_plaintext` for the WithoutPlaintext variant).
pub fn generate_data_key_pair(
    key: SymmetricKeyRef<'_>,
    context: &EncryptionContext,
    spec: DataKeyPairSpec,
) -> Result<DataKeyPair, KmsCryptoError> {
    let pair = KeyMaterial::generate(spec.into())?;
    let public_key_der = pair.public_key_der()?;
    let private_key_plaintext = pair.to_bytes();
    let private_key_ciphertext_blob = seal(key, context, &private_key_plaintext)?;
    Ok(DataKeyPair {
        public_key_der,
        private_key_plaintext,
        private_key_ciphertext_blob,
    })
}

/// `GenerateRandom`: 1 to 1,024 bytes from aws-lc-rs's CSPRNG.
pub fn generate_random(number_of_bytes: i64) -> Result<Zeroizing<Vec<u8>>, KmsCryptoError> {
    match usize::try_from(number_of_bytes) {
        Ok(n) if (1..=MAX_RANDOM_BYTES).contains(&n) => random_bytes(n),
        _ => Err(KmsCryptoError::validation(format!(
            "1 validation error detected: Value '{number_of_bytes}' at 'numberOfBytes' failed to satisfy constraint: Member must have value between 1 and 1024"
        ))),
    }
}

fn random_bytes(n: usize) -> Result<Zeroizing<Vec<u8>>, KmsCryptoError> {
    let mut bytes = Zeroizing::new(vec![0u8; n]);
    SystemRandom::new()
        .fill(&mut bytes)
        .map_err(KmsCryptoError::internal("random number generator failure"))?;
    Ok(bytes)
}
