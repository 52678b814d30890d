//! Which keys an operation may use, with AWS's `InvalidKeyUsageException` wording
//! (`"<key ARN> key usage is SIGN_VERIFY which is not valid for Encrypt."`). Handlers call
//! `check_operation` after resolving the key and before touching its material.
use std::fmt;

use super::error::KmsCryptoError;
use super::spec::{KeySpec, KeyUsage};

/// The KMS operations that use key material.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CryptoOperation {
    Encrypt,
    Decrypt,
    ReEncrypt,
    GenerateDataKey,
    GenerateDataKeyWithoutPlaintext,
    GenerateDataKeyPair,
    GenerateDataKeyPairWithoutPlaintext,
    Sign,
    Verify,
    GenerateMac,
    VerifyMac,
    DeriveSharedSecret,
    GetPublicKey,
}

impl CryptoOperation {
    pub fn as_str(self) -> &'static str {
        use CryptoOperation::*;
        match self {
            Encrypt => "Encrypt",
            Decrypt => "Decrypt",
            ReEncrypt => "ReEncrypt",
            GenerateDataKey => "GenerateDataKey",
            GenerateDataKeyWithoutPlaintext => "GenerateDataKeyWithoutPlaintext",
            GenerateDataKeyPair => "GenerateDataKeyPair",
            GenerateDataKeyPairWithoutPlaintext => "GenerateDataKeyPairWithoutPlaintext",
            Sign => "Sign",
            Verify => "Verify",
            GenerateMac => "GenerateMac",
            VerifyMac => "VerifyMac",
            DeriveSharedSecret => "DeriveSharedSecret",
            GetPublicKey => "GetPublicKey",
        }
    }

    /// The key usage the operation needs (`None`: any usage, as for `GetPublicKey`).
    pub fn required_usage(self) -> Option<KeyUsage> {
        use CryptoOperation::*;
        match self {
            Encrypt
            | Decrypt
            | ReEncrypt
            | GenerateDataKey
            | GenerateDataKeyWithoutPlaintext
            | GenerateDataKeyPair
            | GenerateDataKeyPairWithoutPlaintext => Some(KeyUsage::ENCRYPT_DECRYPT),
            Sign | Verify => Some(KeyUsage::SIGN_VERIFY),
            GenerateMac | VerifyMac => Some(KeyUsage::GENERATE_VERIFY_MAC),
            DeriveSharedSecret => Some(KeyUsage::KEY_AGREEMENT),
            GetPublicKey => None,
        }
    }

    /// Data-key operations take only symmetric encryption keys.
    fn symmetric_only(self) -> bool {
        use CryptoOperation::*;
        matches!(
            self,
            GenerateDataKey
                | GenerateDataKeyWithoutPlaintext
                | GenerateDataKeyPair
                | GenerateDataKeyPairWithoutPlaintext
        )
    }
}

impl fmt::Display for CryptoOperation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `Ok(())` when a key of `spec`/`usage` may perform `operation`; otherwise the error AWS gives
/// (`InvalidKeyUsageException`, or `UnsupportedOperationException` for `GetPublicKey` on a key
/// without a public half).
pub fn check_operation(
    operation: CryptoOperation,
    key_arn: &str,
    spec: KeySpec,
    usage: KeyUsage,
) -> Result<(), KmsCryptoError> {
    if let Some(required) = operation.required_usage() {
        if usage != required {
            return Err(KmsCryptoError::InvalidKeyUsage(format!(
                "{key_arn} key usage is {usage} which is not valid for {operation}."
            )));
        }
    }
    if operation.symmetric_only() && spec != KeySpec::SYMMETRIC_DEFAULT {
        return Err(KmsCryptoError::InvalidKeyUsage(format!(
            "{key_arn} key spec is {spec} which is not valid for {operation}."
        )));
    }
    if operation == CryptoOperation::GetPublicKey && !spec.is_asymmetric() {
        return Err(KmsCryptoError::UnsupportedOperation(format!(
            "{key_arn} key spec is {spec} which is not supported for {operation}."
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const ARN: &str = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";

    #[test]
    fn usage_mismatch_uses_aws_wording() {
        let err = check_operation(
            CryptoOperation::Encrypt,
            ARN,
            KeySpec::RSA_2048,
            KeyUsage::SIGN_VERIFY,
        )
        .unwrap_err();
        assert_eq!(err.aws_code(), "InvalidKeyUsageException");
        assert_eq!(
            err.to_string(),
            format!("{ARN} key usage is SIGN_VERIFY which is not valid for Encrypt.")
        );
    }

    #[test]
    fn each_operation_accepts_exactly_its_keys() {
        use CryptoOperation::*;
        let ok = |op, spec, usage| check_operation(op, ARN, spec, usage).is_ok();
        assert!(ok(
            Encrypt,
            KeySpec::SYMMETRIC_DEFAULT,
            KeyUsage::ENCRYPT_DECRYPT
        ));
        assert!(ok(Encrypt, KeySpec::RSA_3072, KeyUsage::ENCRYPT_DECRYPT));
        assert!(!ok(
            Encrypt,
            KeySpec::HMAC_256,
            KeyUsage::GENERATE_VERIFY_MAC
        ));
        assert!(ok(
            GenerateDataKey,
            KeySpec::SYMMETRIC_DEFAULT,
            KeyUsage::ENCRYPT_DECRYPT
        ));
        assert!(!ok(
            GenerateDataKey,
            KeySpec::RSA_2048,
            KeyUsage::ENCRYPT_DECRYPT
        ));
        assert!(!ok(
            GenerateDataKeyPair,
            KeySpec::RSA_2048,
            KeyUsage::ENCRYPT_DECRYPT
        ));
        assert!(ok(Sign, KeySpec::ML_DSA_44, KeyUsage::SIGN_VERIFY));
        assert!(!ok(Sign, KeySpec::ECC_NIST_P256, KeyUsage::KEY_AGREEMENT));
        assert!(ok(
            DeriveSharedSecret,
            KeySpec::ECC_NIST_P256,
            KeyUsage::KEY_AGREEMENT
        ));
        assert!(ok(
            GenerateMac,
            KeySpec::HMAC_224,
            KeyUsage::GENERATE_VERIFY_MAC
        ));
        assert!(!ok(
            VerifyMac,
            KeySpec::SYMMETRIC_DEFAULT,
            KeyUsage::ENCRYPT_DECRYPT
        ));
        assert!(ok(
            GetPublicKey,
            KeySpec::ECC_SECG_P256K1,
            KeyUsage::SIGN_VERIFY
        ));
        assert_eq!(
            check_operation(
                GetPublicKey,
                ARN,
                KeySpec::SYMMETRIC_DEFAULT,
                KeyUsage::ENCRYPT_DECRYPT
            )
            .unwrap_err()
            .aws_code(),
            "UnsupportedOperationException"
        );
    }
}
