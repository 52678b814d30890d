//! The received request, as plain borrowed data: no HTTP framework types, so the crate can
//! be fuzzed and used from any server.

/// A request as it arrived on the wire.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    /// `GET`, `POST`, ... as received.
    pub method: &'a str,
    /// The path exactly as on the wire, still percent-encoded (`/a%20b`), without the query.
    pub path: &'a str,
    /// The raw query string without the leading `?` (empty when there is none).
    pub query: &'a str,
    /// Every header as received: any case, possibly repeated, in arrival order. For HTTP/2
    /// the caller must include `host` (from `:authority`).
    pub headers: &'a [(&'a str, &'a [u8])],
    /// The body, or its SHA-256 when the server hashed it while reading.
    pub payload: PayloadHash<'a>,
}

/// How the verifier learns the payload's SHA-256.
#[derive(Debug, Clone, Copy)]
pub enum PayloadHash<'a> {
    /// The whole body; the crate hashes it.
    Body(&'a [u8]),
    /// The body's SHA-256, already computed by the caller (32 bytes).
    Sha256([u8; 32]),
}

impl PayloadHash<'_> {
    /// Lower-case hex SHA-256 of the payload.
    pub fn hex_sha256(&self) -> String {
        match self {
            Self::Body(body) => hex_sha256(body),
            Self::Sha256(digest) => hex::encode(digest),
        }
    }
}

/// Lower-case hex SHA-256.
pub fn hex_sha256(data: &[u8]) -> String {
    hex::encode(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, data))
}

impl<'a> Request<'a> {
    /// All values of a header (case-insensitive name), in arrival order.
    pub fn header_values<'s>(&'s self, name: &'s str) -> impl Iterator<Item = &'a [u8]> + 's {
        self.headers
            .iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| *v)
    }

    /// The first value of a header as UTF-8 text, if present and valid UTF-8.
    pub fn header_str(&self, name: &str) -> Option<&'a str> {
        self.header_values(name)
            .next()
            .and_then(|v| std::str::from_utf8(v).ok())
    }

    /// Whether a header is present at all.
    pub fn has_header(&self, name: &str) -> bool {
        self.header_values(name).next().is_some()
    }
}

/// The canonical form of one header's value(s): each value trimmed, inner runs of spaces and
/// tabs collapsed to one space, repeated headers joined with `,` in arrival order.
pub fn canonical_header_value<'a>(values: impl Iterator<Item = &'a [u8]>, out: &mut Vec<u8>) {
    for (i, value) in values.enumerate() {
        if i > 0 {
            out.push(b',');
        }
        let mut pending_space = false;
        let mut wrote = false;
        for &b in value {
            if b == b' ' || b == b'\t' {
                pending_space = wrote;
            } else {
                if pending_space {
                    out.push(b' ');
                    pending_space = false;
                }
                out.push(b);
                wrote = true;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn canon(values: &[&str]) -> String {
        let mut out = Vec::new();
        canonical_header_value(values.iter().map(|v| v.as_bytes()), &mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn trims_collapses_and_joins() {
        assert_eq!(canon(&["  value1  "]), "value1");
        assert_eq!(canon(&["a   b \t c  "]), "a b c");
        assert_eq!(
            canon(&["value2", "value2", "value1"]),
            "value2,value2,value1"
        );
        assert_eq!(canon(&["", "x"]), ",x");
        assert_eq!(canon(&["   "]), "");
    }
}
