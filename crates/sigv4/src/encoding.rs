//! URI encoding, path normalisation and the canonical query string.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode, utf8_percent_encode};

/// Everything except RFC 3986 unreserved characters is encoded.
const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// The same, but `/` is kept (for paths).
const UNRESERVED_AND_SLASH: &AsciiSet = &UNRESERVED.remove(b'/');

/// Percent-encodes bytes, keeping only unreserved characters (and `/` when `keep_slash`).
/// Hex digits are upper case, as SigV4 requires.
pub fn uri_encode(input: &[u8], keep_slash: bool) -> String {
    let set = if keep_slash {
        UNRESERVED_AND_SLASH
    } else {
        UNRESERVED
    };
    percent_encoding::percent_encode(input, set).to_string()
}

/// Encodes a string (query values built by the signer).
pub fn uri_encode_str(input: &str) -> String {
    utf8_percent_encode(input, UNRESERVED).to_string()
}

/// The canonical URI of a non-S3 service: the path as it appears on the wire, URI-encoded
/// once more ("double encoding": `%2F` in the wire path becomes `%252F`), after optional
/// removal of `.`/`..` segments and empty segments. An empty path is `/`.
pub fn canonical_uri(raw_path: &str, normalize: bool) -> String {
    let path = if normalize {
        normalize_path(raw_path)
    } else if raw_path.is_empty() {
        "/".to_owned()
    } else {
        raw_path.to_owned()
    };
    uri_encode(path.as_bytes(), true)
}

/// Removes empty, `.` and `..` segments (RFC 3986 section 5.2.4 plus doubled slashes, as
/// botocore does before signing). The result always starts with `/`.
pub fn normalize_path(raw_path: &str) -> String {
    let mut segments: Vec<&str> = Vec::new();
    for seg in raw_path.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                segments.pop();
            }
            s => segments.push(s),
        }
    }
    let mut out = String::with_capacity(raw_path.len() + 1);
    for seg in &segments {
        out.push('/');
        out.push_str(seg);
    }
    // Like botocore's `remove_dot_segments`: a trailing slash survives only if the path ended
    // with one (`/a/b/..` is `/a`, not RFC 3986's `/a/`).
    if out.is_empty() || (raw_path.ends_with('/') && !segments.is_empty()) {
        out.push('/');
    }
    out
}

/// One query parameter, decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryParam {
    pub name: Vec<u8>,
    pub value: Vec<u8>,
}

/// Splits a raw query string on `&` and `=` and percent-decodes each part. `+` stays a
/// literal plus (SigV4 clients encode spaces as `%20`). Empty pieces (`a&&b`) are skipped.
pub fn parse_query(raw: &str) -> Vec<QueryParam> {
    raw.split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (n, v) = pair.split_once('=').unwrap_or((pair, ""));
            QueryParam {
                name: percent_decode(n.as_bytes()).collect(),
                value: percent_decode(v.as_bytes()).collect(),
            }
        })
        .collect()
}

/// The canonical query string: each name and value re-encoded, pairs sorted by encoded name
/// then encoded value, joined with `&`. `skip` decides which parameters to leave out
/// (`X-Amz-Signature` in presigned mode).
pub fn canonical_query(params: &[QueryParam], skip: impl Fn(&QueryParam) -> bool) -> String {
    let mut pairs: Vec<(String, String)> = params
        .iter()
        .filter(|p| !skip(p))
        .map(|p| (uri_encode(&p.name, false), uri_encode(&p.value, false)))
        .collect();
    pairs.sort();
    let mut out = String::new();
    for (i, (n, v)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        out.push_str(n);
        out.push('=');
        out.push_str(v);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_like_the_sdks() {
        for (input, want) in [
            ("", "/"),
            ("/", "/"),
            ("//", "/"),
            ("/./", "/"),
            ("/example/..", "/"),
            ("/example1/example2/../..", "/"),
            ("/./example", "/example"),
            ("//example//", "/example/"),
            ("/a/b/../c/", "/a/c/"),
            ("/a/b/.", "/a/b"),
            ("/a/b/..", "/a"),
            ("/../..", "/"),
            ("a/b", "/a/b"),
        ] {
            assert_eq!(normalize_path(input), want, "input {input:?}");
        }
    }

    #[test]
    fn encodes_path_twice_for_non_s3() {
        assert_eq!(canonical_uri("/example space/", true), "/example%20space/");
        assert_eq!(canonical_uri("/a%2Fb", true), "/a%252Fb");
        assert_eq!(canonical_uri("/\u{1234}", false), "/%E1%88%B4");
    }

    #[test]
    fn canonical_query_sorts_and_reencodes() {
        let q = parse_query("Param-3=Value3&Param=Value2&%E1%88%B4=Value1&b&a=+x%20y");
        assert_eq!(
            canonical_query(&q, |_| false),
            "%E1%88%B4=Value1&Param=Value2&Param-3=Value3&a=%2Bx%20y&b="
        );
    }
}
