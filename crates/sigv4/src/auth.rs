//! Reading the authentication parameters out of a request, without any secret: the server
//! learns which access key to look up, the scope, and what was signed.

use std::fmt;

use time::OffsetDateTime;

use crate::amz_date::{AmzDate, format_scope_date, parse_amz_date, parse_http_date};
use crate::encoding::{QueryParam, parse_query};
use crate::error::SigError;
use crate::request::Request;

/// The only algorithm this crate accepts (SigV4a, `AWS4-ECDSA-P256-SHA256`, is not supported).
pub const ALGORITHM: &str = "AWS4-HMAC-SHA256";
/// The credential-scope terminator.
pub const TERMINATOR: &str = "aws4_request";
/// Longest accepted `X-Amz-Expires` (seven days), as AWS.
pub const MAX_EXPIRES_SECS: u32 = 604_800;
/// How much of a malformed Authorization header is echoed back in a message: enough to
/// recognise it, not enough to leak a bearer token someone sent by mistake.
const ECHO_LIMIT: usize = 40;

/// Where the signature was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Mode {
    /// `Authorization: AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...`
    Header,
    /// Presigned URL: `X-Amz-Algorithm`, `X-Amz-Credential`, ... in the query string.
    Presigned,
}

/// The credential scope `AKID/20150830/us-east-1/service/aws4_request`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Credential {
    /// The access key id (`AKIA...`, `ASIA...`).
    pub access_key_id: String,
    /// Scope date, `YYYYMMDD`.
    pub date: String,
    /// Region, e.g. `us-east-1`.
    pub region: String,
    /// Signing name of the service, e.g. `sts`, `kms`.
    pub service: String,
}

impl Credential {
    /// `date/region/service/aws4_request`, the scope line of the string to sign.
    pub fn scope(&self) -> String {
        format!(
            "{}/{}/{}/{TERMINATOR}",
            self.date, self.region, self.service
        )
    }
}

/// Everything the request says about its own authentication. Produced by [`parse`].
#[derive(Clone, PartialEq, Eq)]
pub struct ParsedAuth {
    /// Header or presigned.
    pub mode: Mode,
    /// The credential scope.
    pub credential: Credential,
    /// Lower-cased signed header names, in the order the client listed them.
    pub signed_headers: Vec<String>,
    /// The signature the client sent.
    pub signature: [u8; 32],
    /// The request time (`X-Amz-Date`, or `Date` when that is absent).
    pub amz_date: OffsetDateTime,
    /// Presigned only: `X-Amz-Expires` in seconds (1..=604800). `None` means the header-mode
    /// skew rule applies.
    pub expires: Option<u32>,
    /// `X-Amz-Security-Token`, when present (signed or not). The server must check that it
    /// belongs to `credential.access_key_id`.
    pub security_token: Option<String>,
    /// The payload hash the client declared: a signed `x-amz-content-sha256` header (header
    /// mode) or the `X-Amz-Content-Sha256` parameter (presigned). `None`: the body is hashed.
    pub declared_payload_hash: Option<String>,
}

impl ParsedAuth {
    /// True when the client declared `UNSIGNED-PAYLOAD`: the body is then not covered by the
    /// signature. A service that needs body integrity should refuse such requests.
    pub fn is_payload_unsigned(&self) -> bool {
        self.declared_payload_hash.as_deref() == Some(UNSIGNED_PAYLOAD)
    }
}

/// The `x-amz-content-sha256` value for a body that is not signed.
pub const UNSIGNED_PAYLOAD: &str = "UNSIGNED-PAYLOAD";

impl fmt::Debug for ParsedAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ParsedAuth")
            .field("mode", &self.mode)
            .field("credential", &self.credential)
            .field("signed_headers", &self.signed_headers)
            .field("signature", &hex::encode(self.signature))
            .field("amz_date", &AmzDate(self.amz_date).to_string())
            .field("expires", &self.expires)
            .field(
                "security_token",
                &self.security_token.as_ref().map(|_| "<redacted>"),
            )
            .field("declared_payload_hash", &self.declared_payload_hash)
            .finish()
    }
}

/// Reads the authentication parameters. Needs no secret: the result tells the server which
/// key to look up; then [`crate::verify`] checks the signature.
///
/// An `Authorization` header wins over presigned query parameters.
pub fn parse(req: &Request<'_>) -> Result<ParsedAuth, SigError> {
    if let Some(value) = req.header_values("authorization").next() {
        return parse_header_mode(req, value);
    }
    let params = parse_query(req.query);
    let has = |name: &str| params.iter().any(|p| p.name == name.as_bytes());
    if has("X-Amz-Algorithm") || has("X-Amz-Credential") || has("X-Amz-Signature") {
        return parse_presigned(req, &params);
    }
    Err(SigError::MissingAuthenticationToken)
}

fn incomplete(msg: impl Into<String>) -> SigError {
    SigError::IncompleteSignature(msg.into())
}

fn echo(value: &str) -> String {
    let mut out: String = value.chars().take(ECHO_LIMIT).collect();
    if out.len() < value.len() {
        out.push_str("...");
    }
    out
}

fn parse_header_mode(req: &Request<'_>, raw: &[u8]) -> Result<ParsedAuth, SigError> {
    let value = String::from_utf8_lossy(raw);
    let value = value.trim();
    let (algorithm, rest) = match value.split_once(|c: char| c.is_ascii_whitespace()) {
        Some((a, r)) => (a, r),
        None => (value, ""),
    };

    let mut credential = None;
    let mut signed_headers = None;
    let mut signature = None;
    for part in rest.split(',') {
        let part = part.trim();
        if part.is_empty() {
            continue;
        }
        let Some((key, val)) = part.split_once('=') else {
            continue;
        };
        let slot = match key.trim() {
            "Credential" => &mut credential,
            "SignedHeaders" => &mut signed_headers,
            "Signature" => &mut signature,
            _ => continue,
        };
        if slot.is_some() {
            return Err(incomplete(format!(
                "Authorization header has a duplicate '{}' parameter. Authorization={}",
                key.trim(),
                echo(value)
            )));
        }
        *slot = Some(val.trim());
    }

    // X-Amz-Date wins over Date whenever it is present, even if unreadable (then it is an
    // error, not a silent fall-back to Date).
    let date_header = if req.has_header("x-amz-date") {
        Some((req.header_str("x-amz-date").unwrap_or("\u{fffd}"), true))
    } else if req.has_header("date") {
        Some((req.header_str("date").unwrap_or("\u{fffd}"), false))
    } else {
        None
    };

    let mut missing = String::new();
    if credential.is_none() {
        missing.push_str("Authorization header requires 'Credential' parameter. ");
    }
    if signature.is_none() {
        missing.push_str("Authorization header requires 'Signature' parameter. ");
    }
    if signed_headers.is_none() {
        missing.push_str("Authorization header requires 'SignedHeaders' parameter. ");
    }
    if date_header.is_none() {
        missing.push_str(
            "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. ",
        );
    }
    if !missing.is_empty() {
        missing.push_str("Authorization=");
        missing.push_str(&echo(value));
        return Err(incomplete(missing));
    }
    if algorithm != ALGORITHM {
        return Err(incomplete(format!(
            "Unsupported AWS 'algorithm': '{}'.",
            echo(algorithm)
        )));
    }
    let (date_text, is_amz) = date_header.unwrap_or_default();
    let amz_date = if is_amz {
        parse_amz_date(date_text.trim())
    } else {
        parse_http_date(date_text.trim())
    }
    .ok_or_else(|| bad_date(date_text))?;

    let credential = parse_credential(credential.unwrap_or_default(), amz_date)?;
    let signed_headers = parse_signed_headers(signed_headers.unwrap_or_default())?;
    let signature = parse_signature(signature.unwrap_or_default())?;
    let security_token = req.header_str("x-amz-security-token").map(str::to_owned);
    let declared_payload_hash = if signed_headers.iter().any(|h| h == "x-amz-content-sha256") {
        req.header_str("x-amz-content-sha256")
            .map(|v| v.trim().to_owned())
    } else {
        None
    };
    Ok(ParsedAuth {
        mode: Mode::Header,
        credential,
        signed_headers,
        signature,
        amz_date,
        expires: None,
        security_token,
        declared_payload_hash,
    })
}

fn parse_presigned(req: &Request<'_>, params: &[QueryParam]) -> Result<ParsedAuth, SigError> {
    let get = |name: &str| -> Option<String> {
        params
            .iter()
            .find(|p| p.name == name.as_bytes())
            .map(|p| String::from_utf8_lossy(&p.value).into_owned())
    };
    let algorithm = get("X-Amz-Algorithm");
    let credential = get("X-Amz-Credential");
    let signature = get("X-Amz-Signature");
    let signed_headers = get("X-Amz-SignedHeaders");
    let date = get("X-Amz-Date");

    let mut missing = String::new();
    for (name, v) in [
        ("X-Amz-Algorithm", &algorithm),
        ("X-Amz-Credential", &credential),
        ("X-Amz-Signature", &signature),
        ("X-Amz-SignedHeaders", &signed_headers),
        ("X-Amz-Date", &date),
    ] {
        if v.is_none() {
            missing.push_str(&format!(
                "AWS query-string parameters must include '{name}'. "
            ));
        }
    }
    if !missing.is_empty() {
        missing.push_str("Re-examine the query-string parameters.");
        return Err(incomplete(missing));
    }
    if algorithm.as_deref() != Some(ALGORITHM) {
        return Err(incomplete(format!(
            "X-Amz-Algorithm only supports '{ALGORITHM}'."
        )));
    }
    let date = date.unwrap_or_default();
    let amz_date = parse_amz_date(&date).ok_or_else(|| bad_date(&date))?;
    let expires = match get("X-Amz-Expires") {
        None => None,
        Some(e) => Some(parse_expires(&e)?),
    };
    let credential = parse_credential(&credential.unwrap_or_default(), amz_date)?;
    let signed_headers = parse_signed_headers(&signed_headers.unwrap_or_default())?;
    let signature = parse_signature(&signature.unwrap_or_default())?;
    let security_token = get("X-Amz-Security-Token")
        .or_else(|| req.header_str("x-amz-security-token").map(str::to_owned));
    Ok(ParsedAuth {
        mode: Mode::Presigned,
        credential,
        signed_headers,
        signature,
        amz_date,
        expires,
        security_token,
        declared_payload_hash: get("X-Amz-Content-Sha256"),
    })
}

fn bad_date(text: &str) -> SigError {
    incomplete(format!(
        "Date must be in ISO-8601 'basic format'. Got '{}'. See http://en.wikipedia.org/wiki/ISO_8601",
        echo(text)
    ))
}

fn parse_expires(text: &str) -> Result<u32, SigError> {
    let n: i64 = text
        .trim()
        .parse()
        .map_err(|_| incomplete("X-Amz-Expires should be a number"))?;
    if n < 0 {
        return Err(incomplete("X-Amz-Expires must be non-negative"));
    }
    if n == 0 {
        return Err(incomplete("X-Amz-Expires must be at least 1 second"));
    }
    if n > i64::from(MAX_EXPIRES_SECS) {
        return Err(incomplete(format!(
            "X-Amz-Expires must be less than a week (in seconds) that is {MAX_EXPIRES_SECS}"
        )));
    }
    u32::try_from(n).map_err(|_| incomplete("X-Amz-Expires should be a number"))
}

fn parse_credential(text: &str, amz_date: OffsetDateTime) -> Result<Credential, SigError> {
    let parts: Vec<&str> = text.split('/').collect();
    let [access_key_id, date, region, service, terminator] = parts.as_slice() else {
        return Err(incomplete(format!(
            "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '{}'",
            echo(text)
        )));
    };
    if *terminator != TERMINATOR {
        return Err(SigError::InvalidScope(format!(
            "Credential should be scoped with a valid terminator: '{TERMINATOR}', not '{}'.",
            echo(terminator)
        )));
    }
    let http_date = format_scope_date(amz_date);
    if *date != http_date {
        return Err(SigError::InvalidScope(format!(
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '{}' != '{http_date}', from '{}'.",
            echo(date),
            AmzDate(amz_date)
        )));
    }
    if region.is_empty() {
        return Err(SigError::InvalidScope(
            "Credential should be scoped to a valid region.".to_owned(),
        ));
    }
    if service.is_empty() {
        return Err(SigError::InvalidScope(
            "Credential should be scoped to correct service.".to_owned(),
        ));
    }
    Ok(Credential {
        access_key_id: (*access_key_id).to_owned(),
        date: (*date).to_owned(),
        region: (*region).to_owned(),
        service: (*service).to_owned(),
    })
}

fn parse_signed_headers(text: &str) -> Result<Vec<String>, SigError> {
    let names: Vec<String> = text
        .split(';')
        .map(|n| n.trim().to_ascii_lowercase())
        .collect();
    if names.iter().any(String::is_empty) {
        return Err(incomplete(format!(
            "SignedHeaders contains an empty header name: '{}'.",
            echo(text)
        )));
    }
    // HTTP/1 servers see `host`; HTTP/2 clients may sign `:authority`.
    if !names.iter().any(|n| n == "host" || n == ":authority") {
        return Err(incomplete(
            "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.",
        ));
    }
    Ok(names)
}

fn parse_signature(text: &str) -> Result<[u8; 32], SigError> {
    let mut out = [0u8; 32];
    hex::decode_to_slice(text, &mut out).map_err(|_| SigError::SignatureDoesNotMatch)?;
    Ok(out)
}

/// Checks the scope's region and service against what this endpoint serves, with AWS's
/// messages. `verify` cannot know these; the server calls this after [`parse`].
pub fn check_scope(
    credential: &Credential,
    valid_region: impl Fn(&str) -> bool,
    expected_service: &str,
) -> Result<(), SigError> {
    if !valid_region(&credential.region) {
        return Err(SigError::InvalidScope(format!(
            "Credential should be scoped to a valid region, not '{}'.",
            echo(&credential.region)
        )));
    }
    if credential.service != expected_service {
        return Err(SigError::InvalidScope(format!(
            "Credential should be scoped to correct service: '{expected_service}'."
        )));
    }
    Ok(())
}
