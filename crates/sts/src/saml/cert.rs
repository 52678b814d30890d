//! The public key of an X.509 certificate, found with a small DER walk (Certificate →
//! TBSCertificate → SubjectPublicKeyInfo) so no certificate-parsing crate is needed; the key
//! itself is then parsed and used by aws-lc-rs. Only RSA keys are accepted: AWS verifies SAML
//! signatures made with RSA-SHA256 or RSA-SHA1.

/// DER of `rsaEncryption` (1.2.840.113549.1.1.1).
const RSA_ENCRYPTION_OID: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];

/// One DER element: (tag, contents, rest of the input).
fn element(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = input.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 || rest.len() < n {
            return None;
        }
        let (len_bytes, rest) = rest.split_at(n);
        let len = len_bytes
            .iter()
            .fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
        (len, rest)
    };
    if rest.len() < len {
        return None;
    }
    let (contents, rest) = rest.split_at(len);
    Some((tag, contents, rest))
}

const SEQUENCE: u8 = 0x30;
const BIT_STRING: u8 = 0x03;
const OID: u8 = 0x06;
const VERSION_TAG: u8 = 0xa0;

/// The PKCS#1 `RSAPublicKey` DER inside a DER certificate, or `None` when the certificate is
/// malformed or its key is not RSA.
pub fn rsa_public_key(cert_der: &[u8]) -> Option<Vec<u8>> {
    let (tag, cert, _) = element(cert_der)?;
    (tag == SEQUENCE).then_some(())?;
    let (tag, mut tbs, _) = element(cert)?;
    (tag == SEQUENCE).then_some(())?;
    // [0] version (optional), serialNumber, signature, issuer, validity, subject.
    if tbs.first() == Some(&VERSION_TAG) {
        tbs = element(tbs)?.2;
    }
    for _ in 0..5 {
        tbs = element(tbs)?.2;
    }
    let (tag, spki, _) = element(tbs)?;
    (tag == SEQUENCE).then_some(())?;
    let (tag, algorithm, rest) = element(spki)?;
    (tag == SEQUENCE).then_some(())?;
    let (tag, oid, _) = element(algorithm)?;
    (tag == OID && oid == RSA_ENCRYPTION_OID).then_some(())?;
    let (tag, bits, _) = element(rest)?;
    (tag == BIT_STRING).then_some(())?;
    // The first content byte counts the unused bits of the last byte: zero for a DER key.
    let (&unused, key) = bits.split_first()?;
    (unused == 0).then(|| key.to_vec())
}

/// A base64 certificate as found in `X509Certificate` elements (whitespace allowed), decoded.
pub fn decode_base64_cert(text: &str) -> Option<Vec<u8>> {
    let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    base64::Engine::decode(&base64::engine::general_purpose::STANDARD, compact).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn malformed_input_is_refused_not_panicking() {
        assert_eq!(rsa_public_key(&[]), None);
        assert_eq!(rsa_public_key(&[0x30]), None);
        assert_eq!(rsa_public_key(&[0x30, 0x84, 0xff, 0xff, 0xff, 0xff]), None);
        assert_eq!(rsa_public_key(&[0x30, 0x03, 0x30, 0x01, 0x00]), None);
        for n in 0..64u8 {
            let junk: Vec<u8> = (0..n).map(|i| i.wrapping_mul(37) ^ 0x30).collect();
            let _ = rsa_public_key(&junk);
        }
    }
}
