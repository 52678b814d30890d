//! SAML response verification on arbitrary input: XML parsing, canonicalization, signature and
//! claim checks must never panic. The corpus starts from the unit tests' signed responses.
#![no_main]
#![allow(dead_code)]

use libfuzzer_sys::fuzz_target;

// The verifier's modules, compiled here as they are in the crate (they are private there).
#[path = "../../src/saml"]
mod saml {
    pub mod c14n;
    pub mod cert;
    pub mod dom;
    pub mod dsig;
    pub mod metadata;
    pub mod response;
}

const METADATA: &str = include_str!("../../src/saml/testdata/metadata.xml");
/// 2030-01-01T00:10:00Z, inside the fixtures' validity window.
const NOW: i64 = 1_893_456_600;

fuzz_target!(|data: &[u8]| {
    let Ok(xml) = std::str::from_utf8(data) else {
        return;
    };
    if let Some(idp) = saml::metadata::parse(METADATA) {
        let _ = saml::response::verify_response(xml, &idp, NOW);
    }
    if let Ok(doc) = saml::dom::Document::parse(xml) {
        for uri in [saml::c14n::EXC_C14N, saml::c14n::C14N_COMMENTS] {
            if let Some(m) = saml::c14n::Method::from_uri(uri, vec!["#default".into()]) {
                let _ = saml::c14n::canonicalize(&doc, doc.root, None, &m);
            }
        }
    }
    let _ = saml::metadata::parse(xml);
});
