//! Errors of the KMS cryptographic core. Each variant is one AWS error code; messages never carry
//! key material, plaintext or anything derived from them.
use rampart_aws_types::AwsError;

/// AWS's `AccessDeniedException` message when a ciphertext names a key that does not exist here
/// (or the caller may not use): handlers raise it after `peek_key_id` finds no such key.
pub const CIPHERTEXT_KEY_NOT_ACCESSIBLE: &str = "The ciphertext refers to a customer master key that does not exist, does not exist in this region, or you are not allowed to access.";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KmsCryptoError {
    /// `InvalidCiphertextException`: the blob is malformed, was tampered with, or the encryption
    /// context differs. AWS sends no message with it, and neither do we: saying *why* would be an
    /// oracle.
    #[error("")]
    InvalidCiphertext,
    /// `IncorrectKeyException`: the ciphertext was made under a different KMS key than the one
    /// named in the request.
    #[error(
        "The key ID in the request does not identify a KMS key that can perform this operation."
    )]
    IncorrectKey,
    /// `KMSInvalidSignatureException`: `Verify` found the signature invalid.
    #[error("")]
    InvalidSignature,
    /// `KMSInvalidMacException`: `VerifyMac` found the MAC invalid.
    #[error("")]
    InvalidMac,
    /// `InvalidKeyUsageException`: the key's spec/usage does not allow the operation or algorithm.
    #[error("{0}")]
    InvalidKeyUsage(String),
    /// `ValidationException`: a parameter is out of range or malformed.
    #[error("{0}")]
    Validation(String),
    /// `InvalidImportTokenException`: the import token is not one we issued for this key.
    #[error("The import token is invalid or does not belong to this KMS key.")]
    InvalidImportToken,
    /// `ExpiredImportTokenException`.
    #[error("The import token has expired. Call GetParametersForImport for a new one.")]
    ExpiredImportToken,
    /// `IncorrectKeyMaterialException`: imported material differs from the key's material.
    #[error("The key material is not the key material previously imported into this KMS key.")]
    IncorrectKeyMaterial,
    /// `UnsupportedOperationException`: AWS has the feature; this server does not offer it.
    #[error("{0}")]
    UnsupportedOperation(String),
    /// `KMSInternalException`: the crypto library failed where it should not (RNG, keygen).
    #[error("{0}")]
    Internal(&'static str),
}

impl KmsCryptoError {
    /// The AWS error code (`__type` in awsJson).
    pub fn aws_code(&self) -> &'static str {
        match self {
            KmsCryptoError::InvalidCiphertext => "InvalidCiphertextException",
            KmsCryptoError::IncorrectKey => "IncorrectKeyException",
            KmsCryptoError::InvalidSignature => "KMSInvalidSignatureException",
            KmsCryptoError::InvalidMac => "KMSInvalidMacException",
            KmsCryptoError::InvalidKeyUsage(_) => "InvalidKeyUsageException",
            KmsCryptoError::Validation(_) => "ValidationException",
            KmsCryptoError::InvalidImportToken => "InvalidImportTokenException",
            KmsCryptoError::ExpiredImportToken => "ExpiredImportTokenException",
            KmsCryptoError::IncorrectKeyMaterial => "IncorrectKeyMaterialException",
            KmsCryptoError::UnsupportedOperation(_) => "UnsupportedOperationException",
            KmsCryptoError::Internal(_) => "KMSInternalException",
        }
    }

    pub fn http_status(&self) -> u16 {
        match self {
            KmsCryptoError::Internal(_) => 500,
            _ => 400,
        }
    }

    pub(crate) fn internal(
        what: &'static str,
    ) -> impl FnOnce(aws_lc_rs::error::Unspecified) -> Self {
        move |_| KmsCryptoError::Internal(what)
    }

    pub(crate) fn validation(message: impl Into<String>) -> Self {
        KmsCryptoError::Validation(message.into())
    }
}

impl From<KmsCryptoError> for AwsError {
    fn from(e: KmsCryptoError) -> AwsError {
        // `AwsError::validation` lets each codec choose ValidationException/ValidationError.
        if let KmsCryptoError::Validation(message) = e {
            return AwsError::validation(message);
        }
        AwsError::new(e.aws_code(), e.http_status(), e.to_string())
    }
}
