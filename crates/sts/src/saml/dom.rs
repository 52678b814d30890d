//! A small namespace-aware XML tree, built with quick-xml, holding exactly what XML signatures
//! need: elements with their own namespace declarations (so canonicalization can decide which to
//! render), attributes after XML's value normalization, text after line-end normalization and
//! entity resolution, comments and processing instructions. DTDs are refused (no entity
//! expansion, no external fetches).
use quick_xml::XmlVersion;
use quick_xml::events::{BytesStart, Event};
use quick_xml::reader::Reader;

pub const XML_NS: &str = "http://www.w3.org/XML/1998/namespace";
/// Deeper documents are refused (SAML responses are a few levels deep).
const MAX_DEPTH: usize = 64;
/// More nodes than this are refused before any further work.
const MAX_NODES: usize = 20_000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attr {
    pub prefix: String,
    pub local: String,
    /// Namespace URI ("" for unprefixed attributes).
    pub ns: String,
    pub value: String,
}

impl Attr {
    pub fn qname(&self) -> String {
        qname(&self.prefix, &self.local)
    }
}

#[derive(Debug, Clone)]
pub struct Element {
    pub prefix: String,
    pub local: String,
    /// Namespace URI ("" when the element is in no namespace).
    pub ns: String,
    pub attrs: Vec<Attr>,
    /// Namespace declarations made on this element: (prefix, uri), prefix "" for `xmlns`.
    pub ns_decls: Vec<(String, String)>,
    pub children: Vec<usize>,
}

impl Element {
    pub fn qname(&self) -> String {
        qname(&self.prefix, &self.local)
    }

    /// An unqualified attribute's value.
    pub fn attr(&self, local: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|a| a.ns.is_empty() && a.local == local)
            .map(|a| a.value.as_str())
    }

    pub fn is(&self, ns: &str, local: &str) -> bool {
        self.ns == ns && self.local == local
    }
}

#[derive(Debug, Clone)]
pub enum Kind {
    Element(Element),
    Text(String),
    Comment(String),
    Pi { target: String, data: String },
}

#[derive(Debug, Clone)]
pub struct Node {
    pub parent: Option<usize>,
    pub kind: Kind,
}

#[derive(Debug, Clone)]
pub struct Document {
    pub nodes: Vec<Node>,
    pub root: usize,
}

fn qname(prefix: &str, local: &str) -> String {
    if prefix.is_empty() {
        local.to_string()
    } else {
        format!("{prefix}:{local}")
    }
}

fn split_qname(name: &str) -> (&str, &str) {
    name.split_once(':').unwrap_or(("", name))
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError(pub String);

fn err(message: impl Into<String>) -> ParseError {
    ParseError(message.into())
}

impl Document {
    pub fn parse(xml: &str) -> Result<Document, ParseError> {
        let mut reader = Reader::from_str(xml);
        let config = reader.config_mut();
        config.check_end_names = true;
        config.expand_empty_elements = false;
        config.trim_text_start = false;
        config.trim_text_end = false;
        let mut doc = Document {
            nodes: Vec::new(),
            root: usize::MAX,
        };
        let mut stack: Vec<usize> = Vec::new();
        loop {
            let event = reader.read_event().map_err(|e| err(e.to_string()))?;
            if doc.nodes.len() > MAX_NODES {
                return Err(err("the document has too many nodes"));
            }
            match event {
                Event::Eof => break,
                Event::Decl(_) => {}
                Event::DocType(_) => return Err(err("DTDs are not accepted")),
                Event::Start(e) => {
                    let id = doc.open(&e, stack.last().copied())?;
                    stack.push(id);
                    if stack.len() > MAX_DEPTH {
                        return Err(err("the document is nested too deeply"));
                    }
                }
                Event::Empty(e) => {
                    doc.open(&e, stack.last().copied())?;
                }
                Event::End(_) => {
                    stack.pop();
                }
                Event::Text(t) => doc.text(stack.last().copied(), &t.xml10_content())?,
                Event::CData(c) => {
                    let raw = c.into_inner();
                    doc.text(
                        stack.last().copied(),
                        &raw.replace("\r\n", "\n").replace('\r', "\n"),
                    )?;
                }
                Event::GeneralRef(r) => {
                    let c = match r.resolve_char_ref().map_err(|e| err(e.to_string()))? {
                        Some(c) => c,
                        None => match r.xml10_content().as_ref() {
                            "amp" => '&',
                            "lt" => '<',
                            "gt" => '>',
                            "quot" => '"',
                            "apos" => '\'',
                            other => return Err(err(format!("undeclared entity &{other};"))),
                        },
                    };
                    doc.text(stack.last().copied(), c.encode_utf8(&mut [0; 4]))?;
                }
                Event::Comment(c) => {
                    if let Some(parent) = stack.last().copied() {
                        doc.push(Some(parent), Kind::Comment(c.xml10_content().into_owned()));
                    }
                }
                Event::PI(p) => {
                    if let Some(parent) = stack.last().copied() {
                        let data = p.content().trim_start().to_string();
                        doc.push(
                            Some(parent),
                            Kind::Pi {
                                target: p.target().to_string(),
                                data,
                            },
                        );
                    }
                }
            }
        }
        if doc.root == usize::MAX || !stack.is_empty() {
            return Err(err("the document has no complete root element"));
        }
        Ok(doc)
    }

    fn push(&mut self, parent: Option<usize>, kind: Kind) -> usize {
        let id = self.nodes.len();
        self.nodes.push(Node { parent, kind });
        if let Some(p) = parent
            && let Some(Node {
                kind: Kind::Element(e),
                ..
            }) = self.nodes.get_mut(p)
        {
            e.children.push(id);
        }
        id
    }

    fn text(&mut self, parent: Option<usize>, text: &str) -> Result<(), ParseError> {
        let Some(parent) = parent else {
            // Outside the root element only whitespace may appear.
            return if text.chars().all(char::is_whitespace) {
                Ok(())
            } else {
                Err(err("text outside the root element"))
            };
        };
        // Adjacent text (split by references or CDATA) is one text node.
        let last = self
            .element(parent)
            .and_then(|e| e.children.last().copied());
        if let Some(Some(Node {
            kind: Kind::Text(t),
            ..
        })) = last.map(|l| self.nodes.get_mut(l))
        {
            t.push_str(text);
            return Ok(());
        }
        self.push(Some(parent), Kind::Text(text.to_string()));
        Ok(())
    }

    fn open(&mut self, e: &BytesStart<'_>, parent: Option<usize>) -> Result<usize, ParseError> {
        if parent.is_none() && self.root != usize::MAX {
            return Err(err("more than one root element"));
        }
        let name = std::str::from_utf8(e.name().into_inner().as_ref())
            .map_err(|_| err("name is not UTF-8"))?
            .to_string();
        let mut ns_decls = Vec::new();
        let mut raw_attrs = Vec::new();
        for a in e.attributes() {
            let a = a.map_err(|e| err(e.to_string()))?;
            let key = a.key.into_inner().to_string();
            let value = a
                .normalized_value(XmlVersion::Implicit1_0)
                .map_err(|e| err(e.to_string()))?
                .into_owned();
            if key == "xmlns" {
                ns_decls.push((String::new(), value));
            } else if let Some(p) = key.strip_prefix("xmlns:") {
                if value.is_empty() {
                    return Err(err("a namespace prefix cannot be undeclared in XML 1.0"));
                }
                ns_decls.push((p.to_string(), value));
            } else {
                raw_attrs.push((key, value));
            }
        }
        let (prefix, local) = split_qname(&name);
        let mut el = Element {
            prefix: prefix.to_string(),
            local: local.to_string(),
            ns: String::new(),
            attrs: Vec::new(),
            ns_decls,
            children: Vec::new(),
        };
        let lookup = |doc: &Document, el: &Element, p: &str| -> Option<String> {
            if p == "xml" {
                return Some(XML_NS.to_string());
            }
            if let Some((_, uri)) = el.ns_decls.iter().find(|(dp, _)| dp == p) {
                return Some(uri.clone());
            }
            parent.and_then(|pid| doc.in_scope(pid, p))
        };
        el.ns = match lookup(self, &el, prefix) {
            Some(uri) => uri,
            None if prefix.is_empty() => String::new(),
            None => return Err(err(format!("undeclared namespace prefix {prefix}"))),
        };
        for (key, value) in raw_attrs {
            let (p, l) = split_qname(&key);
            let ns = if p.is_empty() {
                String::new()
            } else {
                lookup(self, &el, p)
                    .ok_or_else(|| err(format!("undeclared namespace prefix {p}")))?
            };
            if el.attrs.iter().any(|a| a.ns == ns && a.local == l) {
                return Err(err("duplicate attribute"));
            }
            el.attrs.push(Attr {
                prefix: p.to_string(),
                local: l.to_string(),
                ns,
                value,
            });
        }
        let id = self.push(parent, Kind::Element(el));
        if parent.is_none() {
            self.root = id;
        }
        Ok(id)
    }

    pub fn element(&self, id: usize) -> Option<&Element> {
        match self.nodes.get(id) {
            Some(Node {
                kind: Kind::Element(e),
                ..
            }) => Some(e),
            _ => None,
        }
    }

    pub fn parent(&self, id: usize) -> Option<usize> {
        self.nodes.get(id).and_then(|n| n.parent)
    }

    /// The namespace URI bound to `prefix` at element `id` ("" prefix: the default namespace;
    /// an empty URI means undeclared).
    pub fn in_scope(&self, id: usize, prefix: &str) -> Option<String> {
        if prefix == "xml" {
            return Some(XML_NS.to_string());
        }
        let mut cur = Some(id);
        while let Some(c) = cur {
            if let Some(e) = self.element(c)
                && let Some((_, uri)) = e.ns_decls.iter().find(|(p, _)| p == prefix)
            {
                return Some(uri.clone());
            }
            cur = self.parent(c);
        }
        None
    }

    /// Every prefix bound at element `id` (nearest declaration wins), with its URI.
    pub fn all_in_scope(&self, id: usize) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = Vec::new();
        let mut cur = Some(id);
        while let Some(c) = cur {
            if let Some(e) = self.element(c) {
                for (p, uri) in &e.ns_decls {
                    if !out.iter().any(|(op, _)| op == p) {
                        out.push((p.clone(), uri.clone()));
                    }
                }
            }
            cur = self.parent(c);
        }
        out
    }

    /// Child elements of `id`.
    pub fn child_elements(&self, id: usize) -> impl Iterator<Item = (usize, &Element)> + '_ {
        self.element(id)
            .map(|e| e.children.as_slice())
            .unwrap_or(&[])
            .iter()
            .filter_map(|&c| self.element(c).map(|e| (c, e)))
    }

    /// Child elements of `id` named `ns`/`local`.
    pub fn children_named<'a>(
        &'a self,
        id: usize,
        ns: &'a str,
        local: &'a str,
    ) -> impl Iterator<Item = (usize, &'a Element)> + 'a {
        self.child_elements(id)
            .filter(move |(_, e)| e.is(ns, local))
    }

    /// The only child element named `ns`/`local`, or `None` when there are none or several.
    pub fn only_child<'a>(
        &'a self,
        id: usize,
        ns: &'a str,
        local: &'a str,
    ) -> Option<(usize, &'a Element)> {
        let mut it = self.children_named(id, ns, local);
        let first = it.next()?;
        it.next().is_none().then_some(first)
    }

    /// The concatenated text content of `id` and its descendants.
    pub fn text_of(&self, id: usize) -> String {
        let mut out = String::new();
        self.collect_text(id, &mut out);
        out
    }

    fn collect_text(&self, id: usize, out: &mut String) {
        match self.nodes.get(id).map(|n| &n.kind) {
            Some(Kind::Text(t)) => out.push_str(t),
            Some(Kind::Element(e)) => {
                for &c in &e.children {
                    self.collect_text(c, out);
                }
            }
            _ => {}
        }
    }

    /// All elements in document order.
    pub fn elements(&self) -> impl Iterator<Item = (usize, &Element)> + '_ {
        (0..self.nodes.len()).filter_map(|i| self.element(i).map(|e| (i, e)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_namespaces_entities_and_normalizes_attributes() {
        let doc = Document::parse(
            "<?xml version=\"1.0\"?>\n<a:r xmlns:a=\"urn:a\" xmlns=\"urn:d\" x=\"1\t2&#xA;3\"><c a:y=\"&lt;\">t &amp; u<![CDATA[<v>]]></c></a:r>",
        )
        .unwrap();
        let root = doc.element(doc.root).unwrap();
        assert_eq!((root.ns.as_str(), root.local.as_str()), ("urn:a", "r"));
        assert_eq!(root.attr("x"), Some("1 2\n3"));
        let (cid, c) = doc.child_elements(doc.root).next().unwrap();
        assert_eq!(c.ns, "urn:d");
        assert_eq!(c.attrs[0].ns, "urn:a");
        assert_eq!(c.attrs[0].value, "<");
        assert_eq!(doc.text_of(cid), "t & u<v>");
    }

    #[test]
    fn refuses_dtds_undeclared_prefixes_and_bad_documents() {
        assert!(Document::parse("<!DOCTYPE a [<!ENTITY x \"y\">]><a>&x;</a>").is_err());
        assert!(Document::parse("<a>&x;</a>").is_err());
        assert!(Document::parse("<p:a/>").is_err());
        assert!(Document::parse("<a><b></a>").is_err());
        assert!(Document::parse("<a/><b/>").is_err());
        assert!(Document::parse("<a x=\"1\" x=\"2\"/>").is_err());
        assert!(Document::parse("").is_err());
        let deep = "<a>".repeat(100) + &"</a>".repeat(100);
        assert!(Document::parse(&deep).is_err());
    }
}
