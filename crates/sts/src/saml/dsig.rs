//! XML-DSig verification of an enveloped signature, as SAML uses it: one `ds:Reference` whose
//! URI is `#ID` of the signature's parent element, the enveloped-signature transform and a
//! canonicalization, a SHA-256 (or SHA-1, SHA-384, SHA-512) digest, and an RSA PKCS#1 v1.5
//! signature over the canonical `ds:SignedInfo`, checked against the trusted keys only — the
//! signature's own `KeyInfo` is never trusted.
use aws_lc_rs::digest;
use aws_lc_rs::signature::{self, UnparsedPublicKey};

use super::c14n::{self, Method};
use super::dom::Document;

pub const DS_NS: &str = "http://www.w3.org/2000/09/xmldsig#";
const EC_NS: &str = "http://www.w3.org/2001/10/xml-exc-c14n#";
const ENVELOPED: &str = "http://www.w3.org/2000/09/xmldsig#enveloped-signature";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DsigError {
    /// The signature's structure is not one this verifier accepts.
    Malformed(&'static str),
    /// An algorithm other than the accepted ones.
    Unsupported(String),
    /// The referenced content does not match its digest.
    DigestMismatch,
    /// No trusted key verifies the signature value.
    BadSignature,
}

/// The reference's target: the ID it names must belong to exactly one element.
pub fn element_by_id(doc: &Document, id: &str) -> Result<usize, DsigError> {
    let mut found = doc.elements().filter(|(_, e)| e.attr("ID") == Some(id));
    let (first, _) = found
        .next()
        .ok_or(DsigError::Malformed("the reference names no element"))?;
    if found.next().is_some() {
        return Err(DsigError::Malformed("duplicate ID"));
    }
    Ok(first)
}

fn algorithm(doc: &Document, parent: usize, local: &str) -> Result<(usize, String), DsigError> {
    let (id, el) = doc
        .only_child(parent, DS_NS, local)
        .ok_or(DsigError::Malformed(
            "missing or repeated signature element",
        ))?;
    let alg = el
        .attr("Algorithm")
        .ok_or(DsigError::Malformed("missing Algorithm"))?;
    Ok((id, alg.to_string()))
}

/// A canonicalization method element (with its optional `InclusiveNamespaces PrefixList`).
fn method_of(doc: &Document, id: usize, uri: &str) -> Result<Method, DsigError> {
    let prefixes: Vec<String> = doc
        .children_named(id, EC_NS, "InclusiveNamespaces")
        .filter_map(|(_, e)| e.attr("PrefixList"))
        .flat_map(|l| l.split_whitespace().map(str::to_string))
        .collect();
    Method::from_uri(uri, prefixes).ok_or_else(|| DsigError::Unsupported(uri.to_string()))
}

fn decode_b64(text: &str) -> Result<Vec<u8>, DsigError> {
    let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    base64::Engine::decode(&base64::engine::general_purpose::STANDARD, compact)
        .map_err(|_| DsigError::Malformed("bad base64"))
}

/// Verifies the `ds:Signature` element `sig` with the trusted RSA public keys (PKCS#1 DER).
/// Returns the element the signature covers, which is always the signature's parent: a
/// signature elsewhere (detached, or wrapped away from what it signs) is refused.
pub fn verify(doc: &Document, sig: usize, keys: &[Vec<u8>]) -> Result<usize, DsigError> {
    let signed_info = doc
        .only_child(sig, DS_NS, "SignedInfo")
        .ok_or(DsigError::Malformed("missing SignedInfo"))?
        .0;
    let (cm_id, cm_uri) = algorithm(doc, signed_info, "CanonicalizationMethod")?;
    let si_method = method_of(doc, cm_id, &cm_uri)?;
    let (_, sig_alg) = algorithm(doc, signed_info, "SignatureMethod")?;
    let (reference, r) = doc
        .only_child(signed_info, DS_NS, "Reference")
        .ok_or(DsigError::Malformed("exactly one Reference is accepted"))?;
    let uri = r
        .attr("URI")
        .and_then(|u| u.strip_prefix('#'))
        .ok_or(DsigError::Malformed("the Reference must name an ID"))?;
    let target = element_by_id(doc, uri)?;
    if doc.parent(sig) != Some(target) {
        return Err(DsigError::Malformed(
            "the signature must be enveloped in the element it signs",
        ));
    }

    // Transforms: enveloped-signature and at most one canonicalization, nothing else.
    let mut enveloped = false;
    let mut ref_method: Option<Method> = None;
    if let Some((transforms, _)) = doc.only_child(reference, DS_NS, "Transforms") {
        for (t, el) in doc.child_elements(transforms) {
            if !el.is(DS_NS, "Transform") {
                return Err(DsigError::Malformed("unexpected element in Transforms"));
            }
            let alg = el
                .attr("Algorithm")
                .ok_or(DsigError::Malformed("missing Algorithm"))?;
            if alg == ENVELOPED && !enveloped {
                enveloped = true;
            } else if ref_method.is_none() {
                ref_method = Some(method_of(doc, t, alg)?);
            } else {
                return Err(DsigError::Unsupported(alg.to_string()));
            }
        }
    }
    // Without a canonicalization transform the node-set becomes octets by Canonical XML 1.0.
    let ref_method = ref_method.unwrap_or(Method {
        exclusive: false,
        with_comments: false,
        inclusive_prefixes: Vec::new(),
    });
    let (_, digest_alg) = algorithm(doc, reference, "DigestMethod")?;
    let digest_alg: &'static digest::Algorithm = match digest_alg.as_str() {
        "http://www.w3.org/2001/04/xmlenc#sha256" => &digest::SHA256,
        "http://www.w3.org/2000/09/xmldsig#sha1" => &digest::SHA1_FOR_LEGACY_USE_ONLY,
        "http://www.w3.org/2001/04/xmldsig-more#sha384" => &digest::SHA384,
        "http://www.w3.org/2001/04/xmlenc#sha512" => &digest::SHA512,
        other => return Err(DsigError::Unsupported(other.to_string())),
    };
    let (dv, _) = doc
        .only_child(reference, DS_NS, "DigestValue")
        .ok_or(DsigError::Malformed("missing DigestValue"))?;
    let expected = decode_b64(&doc.text_of(dv))?;
    let exclude = enveloped.then_some(sig);
    let canonical = c14n::canonicalize(doc, target, exclude, &ref_method);
    let actual = digest::digest(digest_alg, canonical.as_bytes());
    if actual.as_ref() != expected.as_slice() {
        return Err(DsigError::DigestMismatch);
    }

    let verification: &'static signature::RsaParameters = match sig_alg.as_str() {
        "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256" => {
            &signature::RSA_PKCS1_2048_8192_SHA256
        }
        "http://www.w3.org/2000/09/xmldsig#rsa-sha1" => {
            &signature::RSA_PKCS1_2048_8192_SHA1_FOR_LEGACY_USE_ONLY
        }
        "http://www.w3.org/2001/04/xmldsig-more#rsa-sha384" => {
            &signature::RSA_PKCS1_2048_8192_SHA384
        }
        "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512" => {
            &signature::RSA_PKCS1_2048_8192_SHA512
        }
        other => return Err(DsigError::Unsupported(other.to_string())),
    };
    let (sv, _) = doc
        .only_child(sig, DS_NS, "SignatureValue")
        .ok_or(DsigError::Malformed("missing SignatureValue"))?;
    let signature_value = decode_b64(&doc.text_of(sv))?;
    let signed = c14n::canonicalize(doc, signed_info, None, &si_method);
    let ok = keys.iter().any(|k| {
        UnparsedPublicKey::new(verification, k)
            .verify(signed.as_bytes(), &signature_value)
            .is_ok()
    });
    if ok {
        Ok(target)
    } else {
        Err(DsigError::BadSignature)
    }
}
