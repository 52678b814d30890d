//! The canonical request and the string to sign, built from the request as received.

use crate::amz_date::AmzDate;
use crate::auth::{ALGORITHM, Mode, ParsedAuth};
use crate::encoding::{canonical_query, canonical_uri, parse_query};
use crate::request::{Request, canonical_header_value};

/// Choices a verifier may have to try, because real clients differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CanonicalOptions {
    /// Remove `.`/`..`/empty path segments before encoding (what the SDKs do for non-S3
    /// services). `false` encodes the path as received.
    pub normalize_path: bool,
    /// Presigned mode: keep `X-Amz-Security-Token` in the canonical query. Some signers
    /// (and the `post-sts-header-after` vector) append the token after signing.
    pub include_query_token: bool,
}

impl Default for CanonicalOptions {
    fn default() -> Self {
        Self {
            normalize_path: true,
            include_query_token: true,
        }
    }
}

/// The canonical request (bytes: header values need not be UTF-8).
///
/// ```text
/// METHOD \n canonical-uri \n canonical-query \n (name:value \n)* \n signed;headers \n payload-hash
/// ```
pub fn canonical_request(req: &Request<'_>, auth: &ParsedAuth, opts: CanonicalOptions) -> Vec<u8> {
    canonical_request_with_payload(req, auth, opts, &payload_hash_line(req, auth))
}

/// As [`canonical_request`] with the payload line computed once by the caller (the verifier
/// tries several candidates and must not hash a large body for each).
pub(crate) fn canonical_request_with_payload(
    req: &Request<'_>,
    auth: &ParsedAuth,
    opts: CanonicalOptions,
    payload_line: &str,
) -> Vec<u8> {
    let mut out = Vec::with_capacity(256 + req.query.len());
    out.extend_from_slice(req.method.as_bytes());
    out.push(b'\n');
    out.extend_from_slice(canonical_uri(req.path, opts.normalize_path).as_bytes());
    out.push(b'\n');

    let params = parse_query(req.query);
    let query = match auth.mode {
        Mode::Header => canonical_query(&params, |_| false),
        Mode::Presigned => canonical_query(&params, |p| {
            p.name == b"X-Amz-Signature"
                || (!opts.include_query_token && p.name == b"X-Amz-Security-Token")
        }),
    };
    out.extend_from_slice(query.as_bytes());
    out.push(b'\n');

    for name in &auth.signed_headers {
        out.extend_from_slice(name.as_bytes());
        out.push(b':');
        canonical_header_value(req.header_values(name), &mut out);
        out.push(b'\n');
    }
    out.push(b'\n');
    out.extend_from_slice(auth.signed_headers.join(";").as_bytes());
    out.push(b'\n');
    out.extend_from_slice(payload_line.as_bytes());
    out
}

/// The last line of the canonical request: the declared hash when the client declared one
/// (it is signed, and [`crate::verify`] checks it against the body), else the body's SHA-256.
pub fn payload_hash_line(req: &Request<'_>, auth: &ParsedAuth) -> String {
    match &auth.declared_payload_hash {
        Some(declared) => declared.clone(),
        None => req.payload.hex_sha256(),
    }
}

/// `AWS4-HMAC-SHA256 \n amz-date \n scope \n hex(sha256(canonical request))`.
pub fn string_to_sign(auth: &ParsedAuth, canonical_request: &[u8]) -> String {
    format!(
        "{ALGORITHM}\n{}\n{}\n{}",
        AmzDate(auth.amz_date),
        auth.credential.scope(),
        crate::request::hex_sha256(canonical_request)
    )
}
