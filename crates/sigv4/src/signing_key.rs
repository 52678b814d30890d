//! The derived SigV4 signing key and the HMAC operations on it.

use aws_lc_rs::hmac;
use zeroize::Zeroize;

/// `HMAC("AWS4" + secret, date) -> region -> service -> "aws4_request"`.
///
/// Valid for one (access key, date, region, service): a server caches it under that tuple so
/// it needs the secret only once a day. The bytes are wiped on drop; cloning copies 32 bytes.
#[derive(Clone)]
pub struct SigningKey {
    bytes: [u8; 32],
    /// `date/region/service`: lets `verify` refuse a key cached under the wrong scope.
    scope: String,
}

impl SigningKey {
    /// Derives the key. `date` is the scope date `YYYYMMDD`.
    pub fn derive(secret: &str, date: &str, region: &str, service: &str) -> SigningKey {
        let mut seed = Vec::with_capacity(4 + secret.len());
        seed.extend_from_slice(b"AWS4");
        seed.extend_from_slice(secret.as_bytes());
        let mut k = hmac_bytes(&seed, date.as_bytes());
        seed.zeroize();
        for part in [region.as_bytes(), service.as_bytes(), b"aws4_request"] {
            let next = hmac_bytes(&k, part);
            k.zeroize();
            k = next;
        }
        SigningKey {
            bytes: k,
            scope: format!("{date}/{region}/{service}"),
        }
    }

    /// Whether this key was derived for the credential's date, region and service.
    pub fn is_for(&self, credential: &crate::auth::Credential) -> bool {
        let mut parts = self.scope.splitn(3, '/');
        parts.next() == Some(credential.date.as_str())
            && parts.next() == Some(credential.region.as_str())
            && parts.next() == Some(credential.service.as_str())
    }

    /// HMAC-SHA256 of the string to sign: the signature.
    pub fn sign(&self, string_to_sign: &[u8]) -> [u8; 32] {
        hmac_bytes(&self.bytes, string_to_sign)
    }

    /// Constant-time check that `signature` is the HMAC of `string_to_sign`.
    pub fn verify(&self, string_to_sign: &[u8], signature: &[u8; 32]) -> bool {
        let key = hmac::Key::new(hmac::HMAC_SHA256, &self.bytes);
        hmac::verify(&key, string_to_sign, signature).is_ok()
    }
}

impl Drop for SigningKey {
    fn drop(&mut self) {
        self.bytes.zeroize();
    }
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SigningKey(<redacted>)")
    }
}

fn hmac_bytes(key: &[u8], data: &[u8]) -> [u8; 32] {
    let key = hmac::Key::new(hmac::HMAC_SHA256, key);
    let tag = hmac::sign(&key, data);
    let mut out = [0u8; 32];
    // A SHA-256 tag is always 32 bytes; copy defensively without indexing.
    for (o, t) in out.iter_mut().zip(tag.as_ref()) {
        *o = *t;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// AWS's documented example (IAM "Examples of how to derive a signing key").
    #[test]
    fn derives_aws_documented_key() {
        let key = SigningKey::derive(
            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            "20120215",
            "us-east-1",
            "iam",
        );
        assert_eq!(
            hex::encode(key.bytes),
            "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d"
        );
        assert_eq!(format!("{key:?}"), "SigningKey(<redacted>)");
    }

    #[test]
    fn verify_rejects_other_tags() {
        let key = SigningKey::derive("s", "20150830", "r", "svc");
        let mut sig = key.sign(b"hello");
        assert!(key.verify(b"hello", &sig));
        sig[0] ^= 1;
        assert!(!key.verify(b"hello", &sig));
    }
}
