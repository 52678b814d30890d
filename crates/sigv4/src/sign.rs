//! The client side: signing requests (tests, the load generator, service-to-service calls).
//! It builds the canonical request with the verifier's own code, so both sides agree.

use time::OffsetDateTime;

use crate::amz_date::{format_amz_date, format_scope_date};
use crate::auth::{ALGORITHM, Credential, Mode, ParsedAuth};
use crate::canonical::{CanonicalOptions, canonical_request, string_to_sign};
use crate::encoding::{parse_query, uri_encode_str};
use crate::request::{PayloadHash, Request};
use crate::signing_key::SigningKey;

/// Headers a signer leaves unsigned because proxies and clients rewrite them (botocore's list).
const UNSIGNED_HEADERS: [&str; 4] = ["authorization", "user-agent", "expect", "x-amzn-trace-id"];

/// What to sign. `headers` must include `host`.
#[derive(Debug, Clone, Copy)]
pub struct SignableRequest<'a> {
    /// HTTP method.
    pub method: &'a str,
    /// The path as it will go on the wire (percent-encoded).
    pub path: &'a str,
    /// The query string as it will go on the wire, without `?`.
    pub query: &'a str,
    /// Headers that will be sent (at least `host`).
    pub headers: &'a [(&'a str, &'a [u8])],
    /// The body.
    pub body: &'a [u8],
}

/// Who signs, for which scope.
#[derive(Debug, Clone, Copy)]
pub struct SigningParams<'a> {
    /// Access key id.
    pub access_key_id: &'a str,
    /// Session token for temporary credentials; sent as `X-Amz-Security-Token` and signed.
    pub session_token: Option<&'a str>,
    /// Region of the scope.
    pub region: &'a str,
    /// Service signing name.
    pub service: &'a str,
    /// Signing time.
    pub now: OffsetDateTime,
}

/// Signs in header mode with a key derived from `secret`. Returns the headers to add:
/// `x-amz-date`, `x-amz-security-token` (with a session token), `x-amz-content-sha256`
/// (when `content_sha256_header`), then `authorization`.
pub fn sign_headers(
    req: &SignableRequest<'_>,
    secret: &str,
    params: &SigningParams<'_>,
    content_sha256_header: bool,
) -> Vec<(String, String)> {
    let key = SigningKey::derive(
        secret,
        &format_scope_date(params.now),
        params.region,
        params.service,
    );
    sign_headers_with_key(req, &key, params, content_sha256_header)
}

/// As [`sign_headers`], with a key derived (and cached) by the caller for
/// `params.now`'s date, `params.region` and `params.service`.
pub fn sign_headers_with_key(
    req: &SignableRequest<'_>,
    key: &SigningKey,
    params: &SigningParams<'_>,
    content_sha256_header: bool,
) -> Vec<(String, String)> {
    sign_headers_with_body_sha256(
        req,
        key,
        params,
        content_sha256_header,
        body_sha256(req.body),
    )
}

/// The SHA-256 of a body, as [`sign_headers_with_body_sha256`] takes it.
pub fn body_sha256(body: &[u8]) -> [u8; 32] {
    let mut digest = [0u8; 32];
    digest.copy_from_slice(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, body).as_ref());
    digest
}

/// As [`sign_headers_with_key`], with the body's SHA-256 computed once by the caller (a client
/// that sends the same body many times; the signature is the same as if it hashed each time).
pub fn sign_headers_with_body_sha256(
    req: &SignableRequest<'_>,
    key: &SigningKey,
    params: &SigningParams<'_>,
    content_sha256_header: bool,
    body_sha256: [u8; 32],
) -> Vec<(String, String)> {
    let amz_date = format_amz_date(params.now);
    let mut added: Vec<(String, String)> = vec![("x-amz-date".to_owned(), amz_date)];
    if let Some(token) = params.session_token {
        added.push(("x-amz-security-token".to_owned(), token.to_owned()));
    }
    let has_content_sha = req
        .headers
        .iter()
        .any(|(n, _)| n.eq_ignore_ascii_case("x-amz-content-sha256"));
    if content_sha256_header && !has_content_sha {
        added.push(("x-amz-content-sha256".to_owned(), hex::encode(body_sha256)));
    }

    let mut all: Vec<(&str, &[u8])> = req
        .headers
        .iter()
        .filter(|(n, _)| is_signable(n))
        .copied()
        .collect();
    all.extend(added.iter().map(|(n, v)| (n.as_str(), v.as_bytes())));
    let signed_headers = signed_header_names(&all);

    let received = Request {
        method: req.method,
        path: req.path,
        query: req.query,
        headers: &all,
        payload: PayloadHash::Sha256(body_sha256),
    };
    // A caller-supplied `x-amz-content-sha256` (e.g. UNSIGNED-PAYLOAD) is what gets signed.
    let declared_payload_hash = received
        .header_str("x-amz-content-sha256")
        .map(|v| v.trim().to_owned());
    let auth = ParsedAuth {
        mode: Mode::Header,
        credential: credential(params),
        signed_headers,
        signature: [0; 32],
        amz_date: params.now,
        expires: None,
        security_token: params.session_token.map(str::to_owned),
        declared_payload_hash,
    };
    let canonical = canonical_request(&received, &auth, CanonicalOptions::default());
    let signature = hex::encode(key.sign(string_to_sign(&auth, &canonical).as_bytes()));
    let authorization = format!(
        "{ALGORITHM} Credential={}/{}, SignedHeaders={}, Signature={signature}",
        params.access_key_id,
        auth.credential.scope(),
        auth.signed_headers.join(";"),
    );
    added.push(("authorization".to_owned(), authorization));
    added
}

/// Presigns (query mode). Returns the complete query string to send after `?`: the request's
/// own query, then `X-Amz-Algorithm`, `X-Amz-Credential`, `X-Amz-Date`, `X-Amz-Expires`,
/// `X-Amz-SignedHeaders`, optional `X-Amz-Security-Token`, and last `X-Amz-Signature`.
pub fn presign(
    req: &SignableRequest<'_>,
    secret: &str,
    params: &SigningParams<'_>,
    expires_secs: u32,
) -> String {
    let key = SigningKey::derive(
        secret,
        &format_scope_date(params.now),
        params.region,
        params.service,
    );
    presign_with_key(req, &key, params, expires_secs)
}

/// As [`presign`], with a caller-derived key.
pub fn presign_with_key(
    req: &SignableRequest<'_>,
    key: &SigningKey,
    params: &SigningParams<'_>,
    expires_secs: u32,
) -> String {
    let headers: Vec<(&str, &[u8])> = req
        .headers
        .iter()
        .filter(|(n, _)| is_signable(n))
        .copied()
        .collect();
    let signed_headers = signed_header_names(&headers);
    let credential = credential(params);
    let amz_date = format_amz_date(params.now);

    let mut query = req.query.to_owned();
    let mut add = |name: &str, value: &str| {
        if !query.is_empty() {
            query.push('&');
        }
        query.push_str(name);
        query.push('=');
        query.push_str(&uri_encode_str(value));
    };
    add("X-Amz-Algorithm", ALGORITHM);
    add(
        "X-Amz-Credential",
        &format!("{}/{}", params.access_key_id, credential.scope()),
    );
    add("X-Amz-Date", &amz_date);
    add("X-Amz-Expires", &expires_secs.to_string());
    add("X-Amz-SignedHeaders", &signed_headers.join(";"));
    if let Some(token) = params.session_token {
        add("X-Amz-Security-Token", token);
    }

    let auth = ParsedAuth {
        mode: Mode::Presigned,
        credential,
        signed_headers,
        signature: [0; 32],
        amz_date: params.now,
        expires: Some(expires_secs),
        security_token: params.session_token.map(str::to_owned),
        declared_payload_hash: parse_query(req.query)
            .into_iter()
            .find(|p| p.name == b"X-Amz-Content-Sha256")
            .map(|p| String::from_utf8_lossy(&p.value).into_owned()),
    };
    let received = Request {
        method: req.method,
        path: req.path,
        query: &query,
        headers: &headers,
        payload: PayloadHash::Body(req.body),
    };
    let canonical = canonical_request(&received, &auth, CanonicalOptions::default());
    let signature = hex::encode(key.sign(string_to_sign(&auth, &canonical).as_bytes()));
    query.push_str("&X-Amz-Signature=");
    query.push_str(&signature);
    query
}

fn is_signable(name: &str) -> bool {
    !UNSIGNED_HEADERS
        .iter()
        .any(|u| name.eq_ignore_ascii_case(u))
}

/// Lower-cased, sorted, de-duplicated names.
fn signed_header_names(headers: &[(&str, &[u8])]) -> Vec<String> {
    let mut names: Vec<String> = headers
        .iter()
        .map(|(n, _)| n.to_ascii_lowercase())
        .collect();
    names.sort();
    names.dedup();
    names
}

fn credential(params: &SigningParams<'_>) -> Credential {
    Credential {
        access_key_id: params.access_key_id.to_owned(),
        date: format_scope_date(params.now),
        region: params.region.to_owned(),
        service: params.service.to_owned(),
    }
}
