//! The vocabulary of KMS keys as AWS spells it: key specs, key usages, and the algorithm lists
//! `DescribeKey` reports for each spec/usage pair. Parsing and printing use AWS's exact strings.
use std::fmt;
use std::str::FromStr;

use super::error::KmsCryptoError;

/// Defines a string enum with AWS's spelling: `as_str`, `Display`, `FromStr`, and `ALL`.
/// Unknown strings are a `ValidationException` naming the member and the allowed set, the way
/// AWS's model validation phrases it.
macro_rules! aws_enum {
    ($(#[$meta:meta])* $name:ident, $member:literal { $($variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[allow(non_camel_case_types)]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = KmsCryptoError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($text => Ok($name::$variant),)+
                    other => Err(KmsCryptoError::Validation(format!(
                        "1 validation error detected: Value '{}' at '{}' failed to satisfy constraint: Member must satisfy enum value set: [{}]",
                        other,
                        $member,
                        [$($text),+].join(", ")
                    ))),
                }
            }
        }
    };
}

aws_enum!(
    /// The key specs this server creates (`SM2` and `ECC_NIST_EDWARDS25519` are not offered).
    KeySpec, "keySpec" {
        SYMMETRIC_DEFAULT = "SYMMETRIC_DEFAULT",
        RSA_2048 = "RSA_2048",
        RSA_3072 = "RSA_3072",
        RSA_4096 = "RSA_4096",
        ECC_NIST_P256 = "ECC_NIST_P256",
        ECC_NIST_P384 = "ECC_NIST_P384",
        ECC_NIST_P521 = "ECC_NIST_P521",
        ECC_SECG_P256K1 = "ECC_SECG_P256K1",
        HMAC_224 = "HMAC_224",
        HMAC_256 = "HMAC_256",
        HMAC_384 = "HMAC_384",
        HMAC_512 = "HMAC_512",
        ML_DSA_44 = "ML_DSA_44",
        ML_DSA_65 = "ML_DSA_65",
        ML_DSA_87 = "ML_DSA_87",
    }
);

aws_enum!(KeyUsage, "keyUsage" {
    ENCRYPT_DECRYPT = "ENCRYPT_DECRYPT",
    SIGN_VERIFY = "SIGN_VERIFY",
    GENERATE_VERIFY_MAC = "GENERATE_VERIFY_MAC",
    KEY_AGREEMENT = "KEY_AGREEMENT",
});

aws_enum!(EncryptionAlgorithm, "encryptionAlgorithm" {
    SYMMETRIC_DEFAULT = "SYMMETRIC_DEFAULT",
    RSAES_OAEP_SHA_1 = "RSAES_OAEP_SHA_1",
    RSAES_OAEP_SHA_256 = "RSAES_OAEP_SHA_256",
});

aws_enum!(SigningAlgorithm, "signingAlgorithm" {
    RSASSA_PSS_SHA_256 = "RSASSA_PSS_SHA_256",
    RSASSA_PSS_SHA_384 = "RSASSA_PSS_SHA_384",
    RSASSA_PSS_SHA_512 = "RSASSA_PSS_SHA_512",
    RSASSA_PKCS1_V1_5_SHA_256 = "RSASSA_PKCS1_V1_5_SHA_256",
    RSASSA_PKCS1_V1_5_SHA_384 = "RSASSA_PKCS1_V1_5_SHA_384",
    RSASSA_PKCS1_V1_5_SHA_512 = "RSASSA_PKCS1_V1_5_SHA_512",
    ECDSA_SHA_256 = "ECDSA_SHA_256",
    ECDSA_SHA_384 = "ECDSA_SHA_384",
    ECDSA_SHA_512 = "ECDSA_SHA_512",
    ML_DSA_SHAKE_256 = "ML_DSA_SHAKE_256",
});

aws_enum!(MacAlgorithm, "macAlgorithm" {
    HMAC_SHA_224 = "HMAC_SHA_224",
    HMAC_SHA_256 = "HMAC_SHA_256",
    HMAC_SHA_384 = "HMAC_SHA_384",
    HMAC_SHA_512 = "HMAC_SHA_512",
});

aws_enum!(KeyAgreementAlgorithm, "keyAgreementAlgorithm" {
    ECDH = "ECDH",
});

aws_enum!(
    /// `RAW` (the message is hashed by the signing algorithm), `DIGEST` (the message already is
    /// the hash), `EXTERNAL_MU` (ML-DSA's 64-byte message representative; parsed so it can be
    /// refused with a clear message, see `sign`).
    MessageType, "messageType" {
        RAW = "RAW",
        DIGEST = "DIGEST",
        EXTERNAL_MU = "EXTERNAL_MU",
    }
);

aws_enum!(DataKeySpec, "keySpec" {
    AES_256 = "AES_256",
    AES_128 = "AES_128",
});

aws_enum!(DataKeyPairSpec, "keyPairSpec" {
    RSA_2048 = "RSA_2048",
    RSA_3072 = "RSA_3072",
    RSA_4096 = "RSA_4096",
    ECC_NIST_P256 = "ECC_NIST_P256",
    ECC_NIST_P384 = "ECC_NIST_P384",
    ECC_NIST_P521 = "ECC_NIST_P521",
    ECC_SECG_P256K1 = "ECC_SECG_P256K1",
});

aws_enum!(WrappingKeySpec, "wrappingKeySpec" {
    RSA_2048 = "RSA_2048",
    RSA_3072 = "RSA_3072",
    RSA_4096 = "RSA_4096",
});

aws_enum!(
    /// `GetParametersForImport`'s `WrappingAlgorithm` (AWS's `AlgorithmSpec`).
    /// `RSAES_PKCS1_V1_5` is parsed only to be refused: AWS no longer accepts it.
    WrappingAlgorithm, "wrappingAlgorithm" {
        RSAES_PKCS1_V1_5 = "RSAES_PKCS1_V1_5",
        RSAES_OAEP_SHA_1 = "RSAES_OAEP_SHA_1",
        RSAES_OAEP_SHA_256 = "RSAES_OAEP_SHA_256",
        RSA_AES_KEY_WRAP_SHA_1 = "RSA_AES_KEY_WRAP_SHA_1",
        RSA_AES_KEY_WRAP_SHA_256 = "RSA_AES_KEY_WRAP_SHA_256",
    }
);

/// The algorithm lists `DescribeKey` reports for a key. Empty lists are omitted from AWS's
/// response (a symmetric key has no `SigningAlgorithms` member at all).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AlgorithmLists {
    pub encryption: &'static [EncryptionAlgorithm],
    pub signing: &'static [SigningAlgorithm],
    pub mac: &'static [MacAlgorithm],
    pub key_agreement: &'static [KeyAgreementAlgorithm],
}

const NONE: AlgorithmLists = AlgorithmLists {
    encryption: &[],
    signing: &[],
    mac: &[],
    key_agreement: &[],
};

/// The broad family of a spec; decides which operations apply and how material is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyFamily {
    Symmetric,
    Rsa,
    Ecc,
    Hmac,
    MlDsa,
}

impl KeySpec {
    pub fn family(self) -> KeyFamily {
        use KeySpec::*;
        match self {
            SYMMETRIC_DEFAULT => KeyFamily::Symmetric,
            RSA_2048 | RSA_3072 | RSA_4096 => KeyFamily::Rsa,
            ECC_NIST_P256 | ECC_NIST_P384 | ECC_NIST_P521 | ECC_SECG_P256K1 => KeyFamily::Ecc,
            HMAC_224 | HMAC_256 | HMAC_384 | HMAC_512 => KeyFamily::Hmac,
            ML_DSA_44 | ML_DSA_65 | ML_DSA_87 => KeyFamily::MlDsa,
        }
    }

    pub fn is_asymmetric(self) -> bool {
        matches!(
            self.family(),
            KeyFamily::Rsa | KeyFamily::Ecc | KeyFamily::MlDsa
        )
    }

    /// The key usages AWS allows for this spec (`CreateKey`'s validation).
    pub fn valid_usages(self) -> &'static [KeyUsage] {
        use KeyUsage::*;
        match self {
            KeySpec::SYMMETRIC_DEFAULT => &[ENCRYPT_DECRYPT],
            KeySpec::RSA_2048 | KeySpec::RSA_3072 | KeySpec::RSA_4096 => {
                &[ENCRYPT_DECRYPT, SIGN_VERIFY]
            }
            KeySpec::ECC_NIST_P256 | KeySpec::ECC_NIST_P384 | KeySpec::ECC_NIST_P521 => {
                &[SIGN_VERIFY, KEY_AGREEMENT]
            }
            KeySpec::ECC_SECG_P256K1 => &[SIGN_VERIFY],
            KeySpec::HMAC_224 | KeySpec::HMAC_256 | KeySpec::HMAC_384 | KeySpec::HMAC_512 => {
                &[GENERATE_VERIFY_MAC]
            }
            KeySpec::ML_DSA_44 | KeySpec::ML_DSA_65 | KeySpec::ML_DSA_87 => &[SIGN_VERIFY],
        }
    }

    /// `CreateKey`'s rule: `KeyUsage` may be omitted only for `SYMMETRIC_DEFAULT` (it defaults to
    /// `ENCRYPT_DECRYPT`); otherwise it is required and must be one the spec allows.
    pub fn resolve_usage(self, requested: Option<KeyUsage>) -> Result<KeyUsage, KmsCryptoError> {
        match requested {
            None if self == KeySpec::SYMMETRIC_DEFAULT => Ok(KeyUsage::ENCRYPT_DECRYPT),
            None => Err(KmsCryptoError::Validation(
                "You must specify a KeyUsage value for all KMS keys except for symmetric encryption keys."
                    .to_string(),
            )),
            Some(usage) if self.valid_usages().contains(&usage) => Ok(usage),
            Some(usage) => Err(KmsCryptoError::Validation(format!(
                "KeyUsage {usage} is not compatible with KeySpec {self}"
            ))),
        }
    }

    /// The algorithm lists `DescribeKey` reports for this spec used with `usage` (empty lists for
    /// an invalid pair).
    pub fn algorithms(self, usage: KeyUsage) -> AlgorithmLists {
        use EncryptionAlgorithm as E;
        use SigningAlgorithm as S;
        if !self.valid_usages().contains(&usage) {
            return NONE;
        }
        match (self.family(), usage) {
            (KeyFamily::Symmetric, _) => AlgorithmLists {
                encryption: &[E::SYMMETRIC_DEFAULT],
                ..NONE
            },
            (KeyFamily::Rsa, KeyUsage::ENCRYPT_DECRYPT) => AlgorithmLists {
                encryption: &[E::RSAES_OAEP_SHA_1, E::RSAES_OAEP_SHA_256],
                ..NONE
            },
            (KeyFamily::Rsa, _) => AlgorithmLists {
                signing: &[
                    S::RSASSA_PKCS1_V1_5_SHA_256,
                    S::RSASSA_PKCS1_V1_5_SHA_384,
                    S::RSASSA_PKCS1_V1_5_SHA_512,
                    S::RSASSA_PSS_SHA_256,
                    S::RSASSA_PSS_SHA_384,
                    S::RSASSA_PSS_SHA_512,
                ],
                ..NONE
            },
            (KeyFamily::Ecc, KeyUsage::KEY_AGREEMENT) => AlgorithmLists {
                key_agreement: &[KeyAgreementAlgorithm::ECDH],
                ..NONE
            },
            (KeyFamily::Ecc, _) => AlgorithmLists {
                signing: match self {
                    KeySpec::ECC_NIST_P384 => &[S::ECDSA_SHA_384],
                    KeySpec::ECC_NIST_P521 => &[S::ECDSA_SHA_512],
                    _ => &[S::ECDSA_SHA_256],
                },
                ..NONE
            },
            (KeyFamily::Hmac, _) => AlgorithmLists {
                mac: match self {
                    KeySpec::HMAC_224 => &[MacAlgorithm::HMAC_SHA_224],
                    KeySpec::HMAC_384 => &[MacAlgorithm::HMAC_SHA_384],
                    KeySpec::HMAC_512 => &[MacAlgorithm::HMAC_SHA_512],
                    _ => &[MacAlgorithm::HMAC_SHA_256],
                },
                ..NONE
            },
            (KeyFamily::MlDsa, _) => AlgorithmLists {
                signing: &[S::ML_DSA_SHAKE_256],
                ..NONE
            },
        }
    }

    /// RSA modulus size in bytes, for RSA specs.
    pub(crate) fn rsa_modulus_len(self) -> Option<usize> {
        match self {
            KeySpec::RSA_2048 => Some(256),
            KeySpec::RSA_3072 => Some(384),
            KeySpec::RSA_4096 => Some(512),
            _ => None,
        }
    }
}

impl From<DataKeyPairSpec> for KeySpec {
    fn from(spec: DataKeyPairSpec) -> KeySpec {
        match spec {
            DataKeyPairSpec::RSA_2048 => KeySpec::RSA_2048,
            DataKeyPairSpec::RSA_3072 => KeySpec::RSA_3072,
            DataKeyPairSpec::RSA_4096 => KeySpec::RSA_4096,
            DataKeyPairSpec::ECC_NIST_P256 => KeySpec::ECC_NIST_P256,
            DataKeyPairSpec::ECC_NIST_P384 => KeySpec::ECC_NIST_P384,
            DataKeyPairSpec::ECC_NIST_P521 => KeySpec::ECC_NIST_P521,
            DataKeyPairSpec::ECC_SECG_P256K1 => KeySpec::ECC_SECG_P256K1,
        }
    }
}

impl From<WrappingKeySpec> for KeySpec {
    fn from(spec: WrappingKeySpec) -> KeySpec {
        match spec {
            WrappingKeySpec::RSA_2048 => KeySpec::RSA_2048,
            WrappingKeySpec::RSA_3072 => KeySpec::RSA_3072,
            WrappingKeySpec::RSA_4096 => KeySpec::RSA_4096,
        }
    }
}

impl DataKeySpec {
    pub fn byte_len(self) -> usize {
        match self {
            DataKeySpec::AES_256 => 32,
            DataKeySpec::AES_128 => 16,
        }
    }
}

impl SigningAlgorithm {
    /// Output length of the hash a `DIGEST` message must have (`None` for ML-DSA, which has no
    /// separate digest step that KMS accepts as `DIGEST`).
    pub fn digest_len(self) -> Option<usize> {
        use SigningAlgorithm::*;
        match self {
            RSASSA_PSS_SHA_256 | RSASSA_PKCS1_V1_5_SHA_256 | ECDSA_SHA_256 => Some(32),
            RSASSA_PSS_SHA_384 | RSASSA_PKCS1_V1_5_SHA_384 | ECDSA_SHA_384 => Some(48),
            RSASSA_PSS_SHA_512 | RSASSA_PKCS1_V1_5_SHA_512 | ECDSA_SHA_512 => Some(64),
            ML_DSA_SHAKE_256 => None,
        }
    }
}

impl MacAlgorithm {
    pub fn tag_len(self) -> usize {
        match self {
            MacAlgorithm::HMAC_SHA_224 => 28,
            MacAlgorithm::HMAC_SHA_256 => 32,
            MacAlgorithm::HMAC_SHA_384 => 48,
            MacAlgorithm::HMAC_SHA_512 => 64,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_enum_round_trips_through_its_aws_string() {
        for s in KeySpec::ALL {
            assert_eq!(s.as_str().parse::<KeySpec>().unwrap(), *s);
        }
        for s in SigningAlgorithm::ALL {
            assert_eq!(s.to_string().parse::<SigningAlgorithm>().unwrap(), *s);
        }
        for s in WrappingAlgorithm::ALL {
            assert_eq!(s.as_str().parse::<WrappingAlgorithm>().unwrap(), *s);
        }
        let err = "SM2".parse::<KeySpec>().unwrap_err();
        assert_eq!(err.aws_code(), "ValidationException");
        assert!(err.to_string().contains("'SM2' at 'keySpec'"), "{err}");
        assert!(
            "rsa_2048".parse::<KeySpec>().is_err(),
            "AWS strings are case-sensitive"
        );
    }

    #[test]
    fn usages_follow_aws_rules() {
        assert_eq!(
            KeySpec::SYMMETRIC_DEFAULT.resolve_usage(None).unwrap(),
            KeyUsage::ENCRYPT_DECRYPT
        );
        assert!(KeySpec::RSA_2048.resolve_usage(None).is_err());
        assert!(
            KeySpec::HMAC_256
                .resolve_usage(Some(KeyUsage::ENCRYPT_DECRYPT))
                .is_err()
        );
        assert!(
            KeySpec::ECC_SECG_P256K1
                .resolve_usage(Some(KeyUsage::KEY_AGREEMENT))
                .is_err()
        );
        assert!(
            KeySpec::ECC_NIST_P384
                .resolve_usage(Some(KeyUsage::KEY_AGREEMENT))
                .is_ok()
        );
        assert!(
            KeySpec::ML_DSA_65
                .resolve_usage(Some(KeyUsage::ENCRYPT_DECRYPT))
                .is_err()
        );
        // Every valid pair resolves and reports at least one algorithm; every invalid one none.
        for spec in KeySpec::ALL {
            for usage in KeyUsage::ALL {
                let lists = spec.algorithms(*usage);
                let total = lists.encryption.len()
                    + lists.signing.len()
                    + lists.mac.len()
                    + lists.key_agreement.len();
                let valid = spec.resolve_usage(Some(*usage)).is_ok();
                assert_eq!(valid, total > 0, "{spec} {usage}");
            }
        }
    }

    #[test]
    fn describe_key_lists_match_aws() {
        let rsa_sign = KeySpec::RSA_3072.algorithms(KeyUsage::SIGN_VERIFY);
        assert_eq!(
            rsa_sign
                .signing
                .iter()
                .map(|a| a.as_str())
                .collect::<Vec<_>>(),
            [
                "RSASSA_PKCS1_V1_5_SHA_256",
                "RSASSA_PKCS1_V1_5_SHA_384",
                "RSASSA_PKCS1_V1_5_SHA_512",
                "RSASSA_PSS_SHA_256",
                "RSASSA_PSS_SHA_384",
                "RSASSA_PSS_SHA_512"
            ]
        );
        assert!(rsa_sign.encryption.is_empty());
        let rsa_enc = KeySpec::RSA_2048.algorithms(KeyUsage::ENCRYPT_DECRYPT);
        assert_eq!(
            rsa_enc.encryption,
            [
                EncryptionAlgorithm::RSAES_OAEP_SHA_1,
                EncryptionAlgorithm::RSAES_OAEP_SHA_256
            ]
        );
        assert_eq!(
            KeySpec::ECC_NIST_P521
                .algorithms(KeyUsage::SIGN_VERIFY)
                .signing,
            [SigningAlgorithm::ECDSA_SHA_512]
        );
        assert_eq!(
            KeySpec::ECC_SECG_P256K1
                .algorithms(KeyUsage::SIGN_VERIFY)
                .signing,
            [SigningAlgorithm::ECDSA_SHA_256]
        );
        assert_eq!(
            KeySpec::ECC_NIST_P256
                .algorithms(KeyUsage::KEY_AGREEMENT)
                .key_agreement,
            [KeyAgreementAlgorithm::ECDH]
        );
        assert_eq!(
            KeySpec::HMAC_384
                .algorithms(KeyUsage::GENERATE_VERIFY_MAC)
                .mac,
            [MacAlgorithm::HMAC_SHA_384]
        );
        assert_eq!(
            KeySpec::ML_DSA_87.algorithms(KeyUsage::SIGN_VERIFY).signing,
            [SigningAlgorithm::ML_DSA_SHAKE_256]
        );
        assert_eq!(
            KeySpec::SYMMETRIC_DEFAULT
                .algorithms(KeyUsage::ENCRYPT_DECRYPT)
                .encryption,
            [EncryptionAlgorithm::SYMMETRIC_DEFAULT]
        );
    }
}
