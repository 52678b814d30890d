//! The encryption context: authenticated data that must match exactly on decrypt.
use std::collections::BTreeMap;

/// KMS's `EncryptionContext`: string pairs, compared as an exact, case-sensitive match.
/// Kept sorted so that its canonical encoding is independent of the order the caller sent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EncryptionContext(BTreeMap<String, String>);

impl EncryptionContext {
    pub fn new() -> EncryptionContext {
        EncryptionContext::default()
    }

    pub fn insert(&mut self, key: impl Into<String>, value: impl Into<String>) {
        self.0.insert(key.into(), value.into());
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn as_map(&self) -> &BTreeMap<String, String> {
        &self.0
    }

    /// Canonical bytes: pair count, then each pair sorted by key (byte order of UTF-8), every
    /// string length-prefixed (u32 big-endian) so no two different contexts encode alike.
    pub(crate) fn canonical_bytes(&self, out: &mut Vec<u8>) {
        push_len(out, self.0.len());
        for (k, v) in &self.0 {
            push_len(out, k.len());
            out.extend_from_slice(k.as_bytes());
            push_len(out, v.len());
            out.extend_from_slice(v.as_bytes());
        }
    }
}

fn push_len(out: &mut Vec<u8>, len: usize) {
    // Contexts come from requests bounded far below 4 GiB; saturate rather than wrap.
    let len = u32::try_from(len).unwrap_or(u32::MAX);
    out.extend_from_slice(&len.to_be_bytes());
}

impl From<BTreeMap<String, String>> for EncryptionContext {
    fn from(map: BTreeMap<String, String>) -> Self {
        EncryptionContext(map)
    }
}

impl<K: Into<String>, V: Into<String>> FromIterator<(K, V)> for EncryptionContext {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        EncryptionContext(
            iter.into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn canon(ctx: &EncryptionContext) -> Vec<u8> {
        let mut v = Vec::new();
        ctx.canonical_bytes(&mut v);
        v
    }

    #[test]
    fn order_does_not_matter_but_content_does() {
        let a: EncryptionContext = [("b", "2"), ("a", "1")].into_iter().collect();
        let b: EncryptionContext = [("a", "1"), ("b", "2")].into_iter().collect();
        assert_eq!(canon(&a), canon(&b));
        // Shifting a boundary between key and value must change the encoding.
        let c: EncryptionContext = [("ab", "c")].into_iter().collect();
        let d: EncryptionContext = [("a", "bc")].into_iter().collect();
        assert_ne!(canon(&c), canon(&d));
        let e: EncryptionContext = [("A", "1")].into_iter().collect();
        let f: EncryptionContext = [("a", "1")].into_iter().collect();
        assert_ne!(canon(&e), canon(&f), "case-sensitive");
        assert_ne!(canon(&EncryptionContext::new()), canon(&f));
    }
}
