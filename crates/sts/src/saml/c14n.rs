//! XML canonicalization of an element subtree: Exclusive XML Canonicalization 1.0 (what SAML
//! identity providers use) and Canonical XML 1.0 (the XML-DSig default), each with or without
//! comments. The subtree may leave out one element (the enveloped signature).
//!
//! The rules applied (W3C xml-c14n and xml-exc-c14n): start/end tag pairs for empty elements;
//! attributes sorted by namespace URI then local name; namespace declarations sorted by prefix
//! (default first) and rendered only where the output would otherwise change meaning —
//! exclusive mode renders a prefix only where it is visibly used (by the element's or an
//! attribute's name) or listed in the InclusiveNamespaces PrefixList, and only when the nearest
//! rendered ancestor did not already bind it to the same URI; text escapes `& < > CR`, attribute
//! values `& < " TAB LF CR`.
use std::collections::BTreeMap;

use super::dom::{Attr, Document, Element, Kind, XML_NS};

pub const EXC_C14N: &str = "http://www.w3.org/2001/10/xml-exc-c14n#";
pub const EXC_C14N_COMMENTS: &str = "http://www.w3.org/2001/10/xml-exc-c14n#WithComments";
pub const C14N: &str = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315";
pub const C14N_COMMENTS: &str = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315#WithComments";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Method {
    pub exclusive: bool,
    pub with_comments: bool,
    /// Exclusive mode's InclusiveNamespaces PrefixList ("#default" is the default namespace).
    pub inclusive_prefixes: Vec<String>,
}

impl Method {
    /// The method named by an algorithm URI, or `None` for anything else.
    pub fn from_uri(uri: &str, inclusive_prefixes: Vec<String>) -> Option<Method> {
        let (exclusive, with_comments) = match uri {
            EXC_C14N => (true, false),
            EXC_C14N_COMMENTS => (true, true),
            C14N => (false, false),
            C14N_COMMENTS => (false, true),
            _ => return None,
        };
        Some(Method {
            exclusive,
            with_comments,
            inclusive_prefixes,
        })
    }
}

/// Canonical form of the subtree rooted at element `apex`, leaving out element `exclude` (and
/// its descendants) when given.
pub fn canonicalize(
    doc: &Document,
    apex: usize,
    exclude: Option<usize>,
    method: &Method,
) -> String {
    let mut out = String::new();
    render(doc, apex, exclude, method, &BTreeMap::new(), true, &mut out);
    out
}

fn render(
    doc: &Document,
    id: usize,
    exclude: Option<usize>,
    method: &Method,
    rendered: &BTreeMap<String, String>,
    is_apex: bool,
    out: &mut String,
) {
    if Some(id) == exclude {
        return;
    }
    let Some(node) = doc.nodes.get(id) else {
        return;
    };
    match &node.kind {
        Kind::Text(t) => escape_text(t, out),
        Kind::Comment(c) => {
            if method.with_comments {
                out.push_str("<!--");
                out.push_str(c);
                out.push_str("-->");
            }
        }
        Kind::Pi { target, data } => {
            out.push_str("<?");
            out.push_str(target);
            if !data.is_empty() {
                out.push(' ');
                out.push_str(data);
            }
            out.push_str("?>");
        }
        Kind::Element(el) => {
            // The prefixes this element must consider rendering.
            let mut candidates: Vec<String> = if method.exclusive {
                let mut c = vec![el.prefix.clone()];
                for a in &el.attrs {
                    if !a.prefix.is_empty() {
                        c.push(a.prefix.clone());
                    }
                }
                for p in &method.inclusive_prefixes {
                    c.push(if p == "#default" {
                        String::new()
                    } else {
                        p.clone()
                    });
                }
                c
            } else {
                doc.all_in_scope(id).into_iter().map(|(p, _)| p).collect()
            };
            candidates.sort();
            candidates.dedup();
            let mut now_rendered = rendered.clone();
            let mut decls: Vec<(String, String)> = Vec::new();
            for p in candidates {
                if p == "xml" {
                    continue;
                }
                let uri = doc.in_scope(id, &p).unwrap_or_default();
                let already = rendered.get(&p);
                let render_it = if uri.is_empty() {
                    // Only the default namespace can be undeclared (`xmlns=""`), and only when an
                    // output ancestor declared it.
                    p.is_empty() && already.is_some_and(|u| !u.is_empty())
                } else {
                    already != Some(&uri)
                };
                if render_it {
                    now_rendered.insert(p.clone(), uri.clone());
                    decls.push((p, uri));
                }
            }
            let mut attrs: Vec<&Attr> = el.attrs.iter().collect();
            // Canonical XML (inclusive) carries the `xml:*` attributes of the ancestors left
            // out of the subset onto the apex (nearest wins); exclusive mode does not.
            let inherited = if !method.exclusive && is_apex {
                inherited_xml_attrs(doc, id, el)
            } else {
                Vec::new()
            };
            attrs.extend(inherited.iter());
            attrs.sort_by(|a, b| (a.ns.as_str(), a.local.as_str()).cmp(&(&b.ns, &b.local)));

            let name = el.qname();
            out.push('<');
            out.push_str(&name);
            for (p, uri) in &decls {
                if p.is_empty() {
                    out.push_str(" xmlns=\"");
                } else {
                    out.push_str(" xmlns:");
                    out.push_str(p);
                    out.push_str("=\"");
                }
                escape_attr(uri, out);
                out.push('"');
            }
            for a in attrs {
                out.push(' ');
                out.push_str(&a.qname());
                out.push_str("=\"");
                escape_attr(&a.value, out);
                out.push('"');
            }
            out.push('>');
            for &c in &el.children {
                render(doc, c, exclude, method, &now_rendered, false, out);
            }
            out.push_str("</");
            out.push_str(&name);
            out.push('>');
        }
    }
}

/// The `xml:*` attributes in scope at `id` from its ancestors and not set on `el` itself.
fn inherited_xml_attrs(doc: &Document, id: usize, el: &Element) -> Vec<Attr> {
    let mut out: Vec<Attr> = Vec::new();
    let mut cur = doc.parent(id);
    while let Some(c) = cur {
        if let Some(e) = doc.element(c) {
            for a in e.attrs.iter().filter(|a| a.ns == XML_NS) {
                let shadowed = el
                    .attrs
                    .iter()
                    .chain(out.iter())
                    .any(|b| b.ns == XML_NS && b.local == a.local);
                if !shadowed {
                    out.push(a.clone());
                }
            }
        }
        cur = doc.parent(c);
    }
    out
}

fn escape_text(s: &str, out: &mut String) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\r' => out.push_str("&#xD;"),
            _ => out.push(c),
        }
    }
}

fn escape_attr(s: &str, out: &mut String) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '"' => out.push_str("&quot;"),
            '\t' => out.push_str("&#x9;"),
            '\n' => out.push_str("&#xA;"),
            '\r' => out.push_str("&#xD;"),
            _ => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exc(xml: &str, apex_local: &str) -> String {
        c14n_with(xml, apex_local, EXC_C14N, Vec::new())
    }

    fn c14n_with(xml: &str, apex_local: &str, uri: &str, prefixes: Vec<String>) -> String {
        let doc = Document::parse(xml).unwrap();
        let (apex, _) = doc.elements().find(|(_, e)| e.local == apex_local).unwrap();
        canonicalize(&doc, apex, None, &Method::from_uri(uri, prefixes).unwrap())
    }

    /// The example of the W3C Exclusive XML Canonicalization recommendation, section 2.2: the
    /// same `n1:elem2` subtree in two contexts has one exclusive canonical form, while the
    /// inclusive forms differ.
    #[test]
    fn w3c_exclusive_example() {
        let doc1 = r#"<n0:local xmlns:n0="foo:bar" xmlns:n3="ftp://example.org"><n1:elem2 xmlns:n1="http://example.net" xml:lang="en"><n3:stuff xmlns:n3="ftp://example.org"/></n1:elem2></n0:local>"#;
        let doc2 = r#"<n2:pdu xmlns:n1="http://example.com" xmlns:n2="http://foo.example" xml:lang="fr" xml:space="retain"><n1:elem2 xmlns:n1="http://example.net" xml:lang="en"><n3:stuff xmlns:n3="ftp://example.org"/></n1:elem2></n2:pdu>"#;
        let expected = r#"<n1:elem2 xmlns:n1="http://example.net" xml:lang="en"><n3:stuff xmlns:n3="ftp://example.org"></n3:stuff></n1:elem2>"#;
        assert_eq!(exc(doc1, "elem2"), expected);
        assert_eq!(exc(doc2, "elem2"), expected);
        // Canonical XML (inclusive) carries the context's namespaces and `xml:*` attributes onto
        // the apex (section 2.2 of the exclusive recommendation gives both inclusive forms).
        assert_eq!(
            c14n_with(doc1, "elem2", C14N, Vec::new()),
            r#"<n1:elem2 xmlns:n0="foo:bar" xmlns:n1="http://example.net" xmlns:n3="ftp://example.org" xml:lang="en"><n3:stuff></n3:stuff></n1:elem2>"#
        );
        assert_eq!(
            c14n_with(doc2, "elem2", C14N, Vec::new()),
            r#"<n1:elem2 xmlns:n1="http://example.net" xmlns:n2="http://foo.example" xml:lang="en" xml:space="retain"><n3:stuff xmlns:n3="ftp://example.org"></n3:stuff></n1:elem2>"#
        );
    }

    #[test]
    fn sorts_attributes_by_namespace_then_name_and_escapes() {
        let xml = "<doc xmlns:b=\"urn:b\" xmlns:a=\"urn:z\"><e z=\"1\" b:c=\"2\" a:c=\"3\" a=\"&quot;&#9;&#xD;&amp;&lt;>\">x &gt; &#xD;&lt;y</e></doc>";
        assert_eq!(
            exc(xml, "e"),
            "<e xmlns:a=\"urn:z\" xmlns:b=\"urn:b\" a=\"&quot;&#x9;&#xD;&amp;&lt;>\" z=\"1\" b:c=\"2\" a:c=\"3\">x &gt; &#xD;&lt;y</e>"
        );
    }

    #[test]
    fn renders_default_namespace_and_undeclaration_only_when_needed() {
        let xml = r#"<r xmlns="urn:d"><a><b xmlns=""><c/></b></a><p:x xmlns:p="urn:p"><y xmlns=""/></p:x></r>"#;
        assert_eq!(
            exc(xml, "r"),
            r#"<r xmlns="urn:d"><a><b xmlns=""><c></c></b></a><p:x xmlns:p="urn:p"><y xmlns=""></y></p:x></r>"#
        );
        // Starting below the default declaration: `a` renders it, `b` undeclares it.
        assert_eq!(
            exc(xml, "a"),
            r#"<a xmlns="urn:d"><b xmlns=""><c></c></b></a>"#
        );
        // An apex in no namespace needs no `xmlns=""`.
        assert_eq!(exc(xml, "b"), r#"<b><c></c></b>"#);
    }

    #[test]
    fn unused_prefixes_are_dropped_unless_listed_inclusive() {
        let xml = r#"<r xmlns:u="urn:u" xmlns:q="urn:q"><s:e xmlns:s="urn:s" xmlns:v="urn:v"><s:f attr="u:x"/></s:e></r>"#;
        assert_eq!(
            exc(xml, "e"),
            r#"<s:e xmlns:s="urn:s"><s:f attr="u:x"></s:f></s:e>"#
        );
        assert_eq!(
            c14n_with(xml, "e", EXC_C14N, vec!["u".into(), "absent".into()]),
            r#"<s:e xmlns:s="urn:s" xmlns:u="urn:u"><s:f attr="u:x"></s:f></s:e>"#
        );
    }

    #[test]
    fn comments_and_processing_instructions() {
        let xml = "<r><!-- c --><?pi  data?><?empty?>t</r>";
        assert_eq!(exc(xml, "r"), "<r><?pi data?><?empty?>t</r>");
        assert_eq!(
            c14n_with(xml, "r", EXC_C14N_COMMENTS, Vec::new()),
            "<r><!-- c --><?pi data?><?empty?>t</r>"
        );
    }

    #[test]
    fn leaves_out_the_excluded_element() {
        let doc = Document::parse(
            r#"<r ID="a"><x>1</x><ds:Signature xmlns:ds="urn:ds"><ds:v/></ds:Signature><y/></r>"#,
        )
        .unwrap();
        let (sig, _) = doc
            .elements()
            .find(|(_, e)| e.local == "Signature")
            .unwrap();
        let m = Method::from_uri(EXC_C14N, Vec::new()).unwrap();
        assert_eq!(
            canonicalize(&doc, doc.root, Some(sig), &m),
            r#"<r ID="a"><x>1</x><y></y></r>"#
        );
    }

    #[test]
    fn line_ends_are_normalized_before_canonicalization() {
        assert_eq!(
            exc("<r a=\"x\r\ny\">1\r\n2\r3</r>", "r"),
            "<r a=\"x y\">1\n2\n3</r>"
        );
    }
}
