//! What STS needs from a SAML provider's metadata document: the IdP's entity id and its signing
//! keys (`IDPSSODescriptor/KeyDescriptor[use=signing or no use]/KeyInfo/X509Data/X509Certificate`).
use super::cert;
use super::dom::Document;
use super::dsig::DS_NS;

pub const MD_NS: &str = "urn:oasis:names:tc:SAML:2.0:metadata";

#[derive(Debug, Clone)]
pub struct IdpMetadata {
    pub entity_id: String,
    /// RSA public keys (PKCS#1 DER) of the signing certificates.
    pub signing_keys: Vec<Vec<u8>>,
}

pub fn parse(document: &str) -> Option<IdpMetadata> {
    let doc = Document::parse(document).ok()?;
    let root = doc.element(doc.root)?;
    if !root.is(MD_NS, "EntityDescriptor") {
        return None;
    }
    let entity_id = root.attr("entityID")?.to_string();
    let mut signing_keys = Vec::new();
    for (idp, _) in doc.children_named(doc.root, MD_NS, "IDPSSODescriptor") {
        for (kd, el) in doc.children_named(idp, MD_NS, "KeyDescriptor") {
            if el.attr("use").is_some_and(|u| u != "signing") {
                continue;
            }
            for (ki, _) in doc.children_named(kd, DS_NS, "KeyInfo") {
                for (xd, _) in doc.children_named(ki, DS_NS, "X509Data") {
                    for (c, _) in doc.children_named(xd, DS_NS, "X509Certificate") {
                        if let Some(key) = cert::decode_base64_cert(&doc.text_of(c))
                            .and_then(|der| cert::rsa_public_key(&der))
                        {
                            signing_keys.push(key);
                        }
                    }
                }
            }
        }
    }
    Some(IdpMetadata {
        entity_id,
        signing_keys,
    })
}
