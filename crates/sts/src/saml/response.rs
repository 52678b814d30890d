//! Checks a SAML 2.0 `samlp:Response` the way AWS's sign-in endpoint does and returns the claims
//! of its one assertion: the Response or the Assertion must carry a valid enveloped signature by
//! one of the IdP's metadata keys, and the claims are read only from the element that signature
//! covers (against signature wrapping: exactly one assertion, a direct child of the Response, IDs
//! unique, the signature enveloped in the element its reference names). Then the issuer, the
//! validity window, the audience and the bearer subject confirmation are checked at `now`.
use std::collections::HashSet;

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::dom::Document;
use super::dsig::{self, DS_NS};
use super::metadata::IdpMetadata;

pub const SAMLP_NS: &str = "urn:oasis:names:tc:SAML:2.0:protocol";
pub const SAML_NS: &str = "urn:oasis:names:tc:SAML:2.0:assertion";
const SUCCESS: &str = "urn:oasis:names:tc:SAML:2.0:status:Success";
const BEARER: &str = "urn:oasis:names:tc:SAML:2.0:cm:bearer";
/// Clock skew tolerated on every time bound.
pub const SKEW_SECS: i64 = 300;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claims {
    pub issuer: String,
    pub subject: String,
    /// `persistent`, `transient`, or the NameID's full Format URI.
    pub subject_type: String,
    /// The bearer confirmation's `Recipient` (AWS's `Audience` output and `saml:aud`).
    pub recipient: String,
    pub session_not_on_or_after: Option<i64>,
    /// Attribute name → values, in document order.
    pub attributes: Vec<(String, Vec<String>)>,
}

impl Claims {
    pub fn attribute(&self, name: &str) -> Option<&[String]> {
        self.attributes
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_slice())
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rejection {
    /// AWS's `InvalidIdentityToken`.
    Invalid(String),
    /// AWS's `ExpiredTokenException`.
    Expired(String),
}

fn invalid(message: impl Into<String>) -> Rejection {
    Rejection::Invalid(message.into())
}

fn instant(value: &str) -> Result<i64, Rejection> {
    OffsetDateTime::parse(value.trim(), &Rfc3339)
        .map(OffsetDateTime::unix_timestamp)
        .map_err(|_| {
            invalid(format!(
                "Invalid SAML response: {value} is not a valid dateTime."
            ))
        })
}

/// The AWS sign-in endpoints an assertion may be addressed to (global or regional).
pub fn is_signin_endpoint(url: &str) -> bool {
    if url == "https://signin.aws.amazon.com/saml" {
        return true;
    }
    url.strip_prefix("https://")
        .and_then(|r| r.strip_suffix(".signin.aws.amazon.com/saml"))
        .is_some_and(|region| {
            !region.is_empty()
                && region
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        })
}

fn is_aws_audience(aud: &str) -> bool {
    aud == "urn:amazon:webservices" || is_signin_endpoint(aud)
}

pub fn verify_response(xml: &str, idp: &IdpMetadata, now: i64) -> Result<Claims, Rejection> {
    let doc = Document::parse(xml)
        .map_err(|_| invalid("Invalid SAML response: the document is not well-formed XML."))?;
    let root = doc.root;
    let response = doc
        .element(root)
        .ok_or_else(|| invalid("Invalid SAML response."))?;
    if !response.is(SAMLP_NS, "Response") {
        return Err(invalid(
            "Invalid SAML response: the document is not a samlp:Response.",
        ));
    }

    // Structure first, so that what is verified is what is read.
    let mut ids = HashSet::new();
    for (_, e) in doc.elements() {
        if let Some(id) = e.attr("ID")
            && !ids.insert(id)
        {
            return Err(invalid("Invalid SAML response: duplicate ID."));
        }
    }
    if doc
        .elements()
        .any(|(_, e)| e.is(SAML_NS, "EncryptedAssertion"))
    {
        return Err(invalid(
            "Invalid SAML response: encrypted assertions are not supported.",
        ));
    }
    let assertions: Vec<usize> = doc
        .elements()
        .filter(|(_, e)| e.is(SAML_NS, "Assertion"))
        .map(|(i, _)| i)
        .collect();
    let assertion = match assertions.as_slice() {
        [a] if doc.parent(*a) == Some(root) => *a,
        _ => {
            return Err(invalid(
                "Invalid SAML response: the response must contain exactly one assertion.",
            ));
        }
    };

    // Signatures: each one present must verify; one must cover the assertion.
    let mut covered = false;
    for element in [root, assertion] {
        let sigs: Vec<usize> = doc
            .children_named(element, DS_NS, "Signature")
            .map(|(i, _)| i)
            .collect();
        match sigs.as_slice() {
            [] => {}
            [sig] => {
                let target = dsig::verify(&doc, *sig, &idp.signing_keys).map_err(|e| {
                    tracing::info!(error = ?e, "SAML signature refused");
                    invalid("Response signature invalid")
                })?;
                covered |= target == element;
            }
            _ => return Err(invalid("Invalid SAML response: more than one signature.")),
        }
    }
    if !covered {
        return Err(invalid("Response signature invalid"));
    }

    // Status.
    let status_ok = doc
        .only_child(root, SAMLP_NS, "Status")
        .and_then(|(s, _)| doc.only_child(s, SAMLP_NS, "StatusCode"))
        .and_then(|(_, c)| c.attr("Value"))
        == Some(SUCCESS);
    if !status_ok {
        return Err(invalid(
            "Invalid SAML response: the response status is not Success.",
        ));
    }

    // Issuer.
    let issuer = doc
        .only_child(assertion, SAML_NS, "Issuer")
        .map(|(i, _)| doc.text_of(i).trim().to_string())
        .ok_or_else(|| invalid("Invalid SAML response: the assertion has no Issuer."))?;
    let response_issuer = doc
        .only_child(root, SAML_NS, "Issuer")
        .map(|(i, _)| doc.text_of(i).trim().to_string());
    if issuer != idp.entity_id || response_issuer.is_some_and(|r| r != idp.entity_id) {
        return Err(invalid(
            "Invalid SAML response: the issuer does not match the provider's metadata.",
        ));
    }

    // Validity window and audience.
    let (conditions, c) = doc
        .only_child(assertion, SAML_NS, "Conditions")
        .ok_or_else(|| invalid("Invalid SAML response: the assertion has no Conditions."))?;
    if let Some(nb) = c.attr("NotBefore")
        && now + SKEW_SECS < instant(nb)?
    {
        return Err(invalid(
            "Invalid SAML response: the assertion is not yet valid.",
        ));
    }
    if let Some(noa) = c.attr("NotOnOrAfter")
        && now - SKEW_SECS >= instant(noa)?
    {
        return Err(Rejection::Expired(
            "SAML assertion has expired: current date/time must be before NotOnOrAfter.".into(),
        ));
    }
    let restrictions: Vec<usize> = doc
        .children_named(conditions, SAML_NS, "AudienceRestriction")
        .map(|(i, _)| i)
        .collect();
    let audience_ok = !restrictions.is_empty()
        && restrictions.iter().all(|&r| {
            doc.children_named(r, SAML_NS, "Audience")
                .any(|(a, _)| is_aws_audience(doc.text_of(a).trim()))
        });
    if !audience_ok {
        return Err(invalid(
            "Invalid SAML response: the audience restriction does not include https://signin.aws.amazon.com/saml.",
        ));
    }

    // Subject: NameID and exactly one bearer confirmation, addressed to AWS.
    let (subject_el, _) = doc
        .only_child(assertion, SAML_NS, "Subject")
        .ok_or_else(|| invalid("Invalid SAML response: the assertion has no Subject."))?;
    let (name_id, nid) = doc
        .only_child(subject_el, SAML_NS, "NameID")
        .ok_or_else(|| invalid("Invalid SAML response: the subject has no NameID."))?;
    let subject = doc.text_of(name_id).trim().to_string();
    let subject_type = match nid.attr("Format") {
        Some("urn:oasis:names:tc:SAML:2.0:nameid-format:persistent") => "persistent".to_string(),
        Some("urn:oasis:names:tc:SAML:2.0:nameid-format:transient") => "transient".to_string(),
        Some(other) => other.to_string(),
        None => "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified".to_string(),
    };
    let confirmations: Vec<usize> = doc
        .children_named(subject_el, SAML_NS, "SubjectConfirmation")
        .map(|(i, _)| i)
        .collect();
    let [confirmation] = confirmations.as_slice() else {
        return Err(invalid(
            "Invalid SAML response: the subject must have exactly one SubjectConfirmation.",
        ));
    };
    if doc.element(*confirmation).and_then(|e| e.attr("Method")) != Some(BEARER) {
        return Err(invalid(
            "Invalid SAML response: the subject confirmation method must be bearer.",
        ));
    }
    let (_, data) = doc
        .only_child(*confirmation, SAML_NS, "SubjectConfirmationData")
        .ok_or_else(|| invalid("Invalid SAML response: missing SubjectConfirmationData."))?;
    let recipient = data.attr("Recipient").unwrap_or("").to_string();
    if !is_signin_endpoint(&recipient) {
        return Err(invalid(
            "Invalid SAML response: the subject confirmation's Recipient must be the AWS sign-in endpoint.",
        ));
    }
    let confirmation_noa = data.attr("NotOnOrAfter").ok_or_else(|| {
        invalid("Invalid SAML response: the subject confirmation has no NotOnOrAfter.")
    })?;
    if now - SKEW_SECS >= instant(confirmation_noa)? {
        return Err(Rejection::Expired(
            "SAML assertion has expired: current date/time must be before the subject confirmation's NotOnOrAfter.".into(),
        ));
    }
    if let Some(nb) = data.attr("NotBefore")
        && now + SKEW_SECS < instant(nb)?
    {
        return Err(invalid(
            "Invalid SAML response: the assertion is not yet valid.",
        ));
    }

    let mut session_not_on_or_after = None;
    for (_, s) in doc.children_named(assertion, SAML_NS, "AuthnStatement") {
        if let Some(v) = s.attr("SessionNotOnOrAfter") {
            session_not_on_or_after = Some(instant(v)?);
        }
    }

    let mut attributes: Vec<(String, Vec<String>)> = Vec::new();
    for (st, _) in doc.children_named(assertion, SAML_NS, "AttributeStatement") {
        for (a, el) in doc.children_named(st, SAML_NS, "Attribute") {
            let Some(name) = el.attr("Name") else {
                continue;
            };
            let values: Vec<String> = doc
                .children_named(a, SAML_NS, "AttributeValue")
                .map(|(v, _)| doc.text_of(v).trim().to_string())
                .collect();
            match attributes.iter_mut().find(|(n, _)| n == name) {
                Some((_, existing)) => existing.extend(values),
                None => attributes.push((name.to_string(), values)),
            }
        }
    }

    Ok(Claims {
        issuer,
        subject,
        subject_type,
        recipient,
        session_not_on_or_after,
        attributes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::saml::metadata;

    const METADATA: &str = include_str!("testdata/metadata.xml");
    const OTHER_METADATA: &str = include_str!("testdata/other_metadata.xml");
    /// Signed by signxml: Response signature, exclusive C14N, RSA-SHA256.
    const SIGNXML: &str = include_str!("testdata/response_signxml.xml");
    /// Assertion signature, exclusive C14N with comments (a comment in an attribute value),
    /// RSA-SHA1 and SHA-1 digest.
    const SHA1_COMMENTS: &str = include_str!("testdata/assertion_sha1_comments.xml");
    /// Response signature, Canonical XML 1.0 (inclusive).
    const INCLUSIVE: &str = include_str!("testdata/response_inclusive.xml");
    /// ADFS style: default namespaces everywhere (the signature's too), assertion signed,
    /// `urn:amazon:webservices` audience, e-mail NameID, SessionNotOnOrAfter.
    const ADFS: &str = include_str!("testdata/assertion_adfs_style.xml");
    /// 2030-01-01T00:10:00Z, inside the fixtures' validity window.
    const NOW: i64 = 1_893_456_600;

    fn idp() -> IdpMetadata {
        metadata::parse(METADATA).unwrap()
    }

    fn check(xml: &str) -> Result<Claims, Rejection> {
        verify_response(xml, &idp(), NOW)
    }

    fn is_invalid(r: Result<Claims, Rejection>) -> bool {
        matches!(r, Err(Rejection::Invalid(_)))
    }

    #[test]
    fn metadata_yields_entity_id_and_signing_key() {
        let m = idp();
        assert_eq!(m.entity_id, "https://idp.example.com/saml");
        assert_eq!(m.signing_keys.len(), 1);
        assert!(metadata::parse("<x/>").is_none());
    }

    #[test]
    fn accepts_responses_signed_by_signxml_and_other_algorithms() {
        for xml in [SIGNXML, SHA1_COMMENTS, INCLUSIVE] {
            let c = check(xml).unwrap();
            assert_eq!(c.issuer, "https://idp.example.com/saml");
            assert_eq!(c.subject, "alice");
            assert_eq!(c.subject_type, "persistent");
            assert_eq!(c.recipient, "https://signin.aws.amazon.com/saml");
            assert_eq!(
                c.attribute("https://aws.amazon.com/SAML/Attributes/RoleSessionName"),
                Some(&["alice@example.com".to_string()][..])
            );
        }
    }

    #[test]
    fn accepts_default_namespaces_in_the_adfs_style() {
        let c = check(ADFS).unwrap();
        assert_eq!(c.subject, "alice@example.com");
        assert_eq!(
            c.subject_type,
            "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"
        );
        // 2030-01-01T08:00:00Z.
        assert_eq!(c.session_not_on_or_after, Some(1_893_484_800));
        let t = ADFS.replace("alice@example.com</NameID>", "bob@example.com</NameID>");
        assert!(is_invalid(check(&t)));
    }

    #[test]
    fn the_comment_is_signed_under_with_comments() {
        // Removing the comment changes the canonical form, so the digest no longer matches.
        let tampered = SHA1_COMMENTS.replace("<!-- c -->", "");
        assert_ne!(tampered, SHA1_COMMENTS);
        assert!(is_invalid(check(&tampered)));
    }

    #[test]
    fn tampering_after_signing_is_refused() {
        for xml in [SIGNXML, SHA1_COMMENTS, INCLUSIVE] {
            let t = xml.replace("SamlRole", "AdminRole");
            assert_ne!(t, xml);
            assert!(is_invalid(check(&t)));
        }
        // A signature value that does not verify (digest still right).
        let sv_start = SIGNXML.find("<ds:SignatureValue>").unwrap() + 19;
        let mut bad = SIGNXML.to_string();
        let flipped = if &bad[sv_start..sv_start + 1] == "A" {
            "B"
        } else {
            "A"
        };
        bad.replace_range(sv_start..sv_start + 1, flipped);
        assert!(is_invalid(check(&bad)));
    }

    #[test]
    fn whitespace_is_signed_but_character_references_are_not() {
        // Whitespace inside the signed content is signed.
        let t = SIGNXML.replacen("<saml:Subject>", "<saml:Subject> ", 1);
        assert!(is_invalid(check(&t)));
        // Re-encoding a character as a reference does not change the canonical form.
        let t = SIGNXML.replacen("alice</saml:NameID>", "&#97;lice</saml:NameID>", 1);
        assert_eq!(check(&t).unwrap().subject, "alice");
    }

    #[test]
    fn a_comment_inside_a_signed_value_does_not_truncate_it() {
        // Without-comments canonicalization ignores the comment, so the signature still holds;
        // the value read must still be the whole text, not the part before the comment.
        let t = SIGNXML.replacen(">alice</saml:NameID>", ">ali<!---->ce</saml:NameID>", 1);
        assert_ne!(t, SIGNXML);
        assert_eq!(check(&t).unwrap().subject, "alice");
        let t = SIGNXML.replacen(
            ">alice@example.com</saml:AttributeValue>",
            ">alice@example.com<!---->.evil</saml:AttributeValue>",
            1,
        );
        assert!(is_invalid(check(&t)));
    }

    #[test]
    fn random_mutations_never_panic_and_never_verify_other_content() {
        // A deterministic generator flips, deletes and duplicates bytes of signed responses.
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let reference = check(SIGNXML).unwrap();
        for xml in [SIGNXML, SHA1_COMMENTS, INCLUSIVE] {
            for _ in 0..400 {
                let mut bytes = xml.as_bytes().to_vec();
                let at = (next() as usize) % bytes.len();
                match next() % 3 {
                    0 => bytes[at] = (next() % 128) as u8,
                    1 => {
                        bytes.remove(at);
                    }
                    _ => {
                        let b = bytes[at];
                        bytes.insert(at, b);
                    }
                }
                let Ok(mutated) = String::from_utf8(bytes) else {
                    continue;
                };
                // Whatever still verifies must carry exactly the signed claims (a mutation in
                // ignorable places, such as whitespace between attributes, may verify).
                if let Ok(c) = check(&mutated) {
                    assert_eq!(c.subject, reference.subject);
                    assert_eq!(c.attributes, reference.attributes);
                }
            }
        }
    }

    /// The `<md:KeyDescriptor ...>...</md:KeyDescriptor>` element of a metadata fixture.
    fn key_descriptor(metadata: &str) -> &str {
        let start = metadata.find("<md:KeyDescriptor").unwrap();
        let end = metadata.find("</md:KeyDescriptor>").unwrap() + "</md:KeyDescriptor>".len();
        &metadata[start..end]
    }

    #[test]
    fn any_signing_certificate_of_the_metadata_verifies_during_rollover() {
        let both = OTHER_METADATA.replacen(
            "</md:KeyDescriptor>",
            &format!("</md:KeyDescriptor>{}", key_descriptor(METADATA)),
            1,
        );
        let m = metadata::parse(&both).unwrap();
        assert_eq!(m.signing_keys.len(), 2);
        assert!(verify_response(SIGNXML, &m, NOW).is_ok());
    }

    #[test]
    fn an_encryption_certificate_is_not_a_signing_certificate() {
        let kd = key_descriptor(METADATA);
        let for_encryption = METADATA.replacen(
            kd,
            &kd.replacen("use=\"signing\"", "use=\"encryption\"", 1),
            1,
        );
        assert_ne!(for_encryption, METADATA);
        let m = metadata::parse(&for_encryption).unwrap();
        assert!(m.signing_keys.is_empty());
        assert!(is_invalid(verify_response(SIGNXML, &m, NOW)));
        // Without `use`, a key serves both purposes.
        let unqualified = METADATA.replacen(" use=\"signing\"", "", 1);
        assert!(verify_response(SIGNXML, &metadata::parse(&unqualified).unwrap(), NOW).is_ok());
    }

    #[test]
    fn a_certificate_not_in_the_metadata_is_refused() {
        let other = metadata::parse(OTHER_METADATA).unwrap();
        assert!(matches!(
            verify_response(SIGNXML, &other, NOW),
            Err(Rejection::Invalid(m)) if m == "Response signature invalid"
        ));
    }

    #[test]
    fn an_unsigned_response_is_refused() {
        let start = SIGNXML.find("<ds:Signature").unwrap();
        let end = SIGNXML.find("</ds:Signature>").unwrap() + "</ds:Signature>".len();
        let mut unsigned = SIGNXML.to_string();
        unsigned.replace_range(start..end, "");
        assert!(is_invalid(check(&unsigned)));
    }

    #[test]
    fn signature_wrapping_is_refused() {
        // XSW: the signed assertion moved under an Extensions element, an evil one in its place.
        let a_start = SHA1_COMMENTS.find("<saml:Assertion").unwrap();
        let a_end = SHA1_COMMENTS.find("</saml:Assertion>").unwrap() + "</saml:Assertion>".len();
        let signed = &SHA1_COMMENTS[a_start..a_end];
        let evil = signed
            .replace("ID=\"_assert1\"", "ID=\"_evil\"")
            .replace("SamlRole", "AdminRole");
        let wrapped = format!(
            "{}<samlp:Extensions>{signed}</samlp:Extensions>{evil}{}",
            &SHA1_COMMENTS[..a_start],
            &SHA1_COMMENTS[a_end..]
        );
        assert!(
            matches!(check(&wrapped), Err(Rejection::Invalid(m)) if m.contains("exactly one assertion"))
        );
        // Same ID twice: the evil copy claims the signed ID.
        let dup = format!(
            "{}{}{}",
            &SHA1_COMMENTS[..a_end],
            evil.replace("_evil", "_assert1"),
            &SHA1_COMMENTS[a_end..]
        );
        assert!(matches!(check(&dup), Err(Rejection::Invalid(m)) if m.contains("duplicate ID")));
        // The Response's signature moved onto an unsigned, rewritten assertion.
        let r_start = SIGNXML.find("<ds:Signature").unwrap();
        let r_end = SIGNXML.find("</ds:Signature>").unwrap() + "</ds:Signature>".len();
        let sig = &SIGNXML[r_start..r_end];
        let moved = SIGNXML.replacen(sig, "", 1).replacen(
            "</saml:Issuer>\n    <saml:Subject>",
            &format!("</saml:Issuer>{sig}<saml:Subject>"),
            1,
        );
        assert!(moved.contains(&format!("</saml:Issuer>{sig}<saml:Subject>")));
        assert!(
            matches!(check(&moved), Err(Rejection::Invalid(m)) if m == "Response signature invalid")
        );
    }

    #[test]
    fn time_bounds_are_enforced_with_skew() {
        // 2030-01-01T01:00:00Z is NotOnOrAfter: still fine within the five minutes of skew.
        assert!(verify_response(SIGNXML, &idp(), 1_893_459_600 + SKEW_SECS - 1).is_ok());
        assert!(matches!(
            verify_response(SIGNXML, &idp(), 1_893_459_600 + SKEW_SECS),
            Err(Rejection::Expired(_))
        ));
        // NotBefore 2030-01-01T00:00:00Z.
        assert!(verify_response(SIGNXML, &idp(), 1_893_456_000 - SKEW_SECS).is_ok());
        assert!(is_invalid(verify_response(
            SIGNXML,
            &idp(),
            1_893_456_000 - SKEW_SECS - 1
        )));
    }

    #[test]
    fn issuer_must_match_the_metadata() {
        let mut m = idp();
        m.entity_id = "https://someone-else".into();
        assert!(is_invalid(verify_response(SIGNXML, &m, NOW)));
    }

    #[test]
    fn signin_endpoints() {
        assert!(is_signin_endpoint("https://signin.aws.amazon.com/saml"));
        assert!(is_signin_endpoint(
            "https://us-east-1.signin.aws.amazon.com/saml"
        ));
        assert!(!is_signin_endpoint(
            "https://evil.com/.signin.aws.amazon.com/saml"
        ));
        assert!(!is_signin_endpoint("https://example.com/saml"));
        assert!(is_aws_audience("urn:amazon:webservices"));
    }

    #[test]
    fn garbage_is_refused_without_panicking() {
        for xml in [
            "",
            "<",
            "not xml",
            "<samlp:Response xmlns:samlp=\"urn:oasis:names:tc:SAML:2.0:protocol\"/>",
            "<a/>",
        ] {
            assert!(is_invalid(check(xml)));
        }
        // Every prefix of a real response is refused, never a panic.
        for cut in (0..SIGNXML.len()).step_by(97) {
            if let Some(prefix) = SIGNXML.get(..cut) {
                assert!(check(prefix).is_err());
            }
        }
    }
}
