//! Signature verification: clock, declared payload hash, then the HMAC.

use time::{Duration, OffsetDateTime};

use crate::amz_date::AmzDate;
use crate::auth::{Mode, ParsedAuth, UNSIGNED_PAYLOAD};
use crate::canonical::{
    CanonicalOptions, canonical_request_with_payload, payload_hash_line, string_to_sign,
};
use crate::encoding::canonical_uri;
use crate::error::SigError;
use crate::request::{PayloadHash, Request};
use crate::signing_key::SigningKey;

/// How far `X-Amz-Date` may be from the server clock (either way), as AWS.
pub const MAX_SKEW: Duration = Duration::minutes(15);

/// Verifies the signature of `req` as described by `auth` (from [`crate::parse`]).
///
/// `key` must be derived for `auth.credential` (its secret, date, region and service);
/// `now` is the server clock. On success the request is authentic: the server still has to
/// check the access key's status, the session token's owner and expiry, and the region and
/// service ([`crate::check_scope`]).
///
/// Real clients disagree on two details, so up to four candidates are tried (each a full
/// HMAC, compared in constant time): the path normalised or as received, and in presigned
/// mode with or without `X-Amz-Security-Token` in the canonical query.
pub fn verify(
    req: &Request<'_>,
    auth: &ParsedAuth,
    key: &SigningKey,
    now: OffsetDateTime,
) -> Result<(), SigError> {
    if !key.is_for(&auth.credential) {
        return Err(SigError::SignatureDoesNotMatch);
    }
    check_clock(auth, now)?;
    check_declared_payload(req, auth)?;

    let payload_line = payload_hash_line(req, auth);
    for opts in candidates(req, auth) {
        let canonical = canonical_request_with_payload(req, auth, opts, &payload_line);
        let sts = string_to_sign(auth, &canonical);
        if key.verify(sts.as_bytes(), &auth.signature) {
            return Ok(());
        }
    }
    Err(SigError::SignatureDoesNotMatch)
}

/// The canonicalisation variants worth trying for this request, most common first.
pub fn candidates(req: &Request<'_>, auth: &ParsedAuth) -> Vec<CanonicalOptions> {
    let mut out = vec![CanonicalOptions::default()];
    if canonical_uri(req.path, true) != canonical_uri(req.path, false) {
        out.push(CanonicalOptions {
            normalize_path: false,
            include_query_token: true,
        });
    }
    let token_in_query = auth.mode == Mode::Presigned
        && req
            .query
            .split('&')
            .any(|p| p.split('=').next() == Some("X-Amz-Security-Token"));
    if token_in_query {
        let extra: Vec<CanonicalOptions> = out
            .iter()
            .map(|o| CanonicalOptions {
                include_query_token: false,
                ..*o
            })
            .collect();
        out.extend(extra);
    }
    out
}

/// Header mode: `|now - X-Amz-Date| <= 15 min`. Presigned: not before `X-Amz-Date - 15 min`,
/// not after `X-Amz-Date + X-Amz-Expires` (without `X-Amz-Expires`, the header rule).
pub fn check_clock(auth: &ParsedAuth, now: OffsetDateTime) -> Result<(), SigError> {
    let signed = auth.amz_date;
    if signed > now + MAX_SKEW {
        return Err(SigError::SignatureNotYetCurrent {
            signed: AmzDate(signed).to_string(),
            latest: AmzDate(now + MAX_SKEW).to_string(),
            now: AmzDate(now).to_string(),
        });
    }
    match (auth.mode, auth.expires) {
        (Mode::Presigned, Some(expires)) => {
            if now > signed + Duration::seconds(i64::from(expires)) {
                return Err(SigError::RequestExpired);
            }
        }
        _ => {
            if signed < now - MAX_SKEW {
                return Err(SigError::SignatureExpired {
                    signed: AmzDate(signed).to_string(),
                    earliest: AmzDate(now - MAX_SKEW).to_string(),
                    now: AmzDate(now).to_string(),
                });
            }
        }
    }
    Ok(())
}

/// A declared payload hash must be `UNSIGNED-PAYLOAD` or the body's real SHA-256: the
/// signature covers the declaration, and this ties the declaration to the body.
/// Streaming (`STREAMING-...`) payloads are chunk-signed and not supported.
fn check_declared_payload(req: &Request<'_>, auth: &ParsedAuth) -> Result<(), SigError> {
    let Some(declared) = auth.declared_payload_hash.as_deref() else {
        return Ok(());
    };
    if declared == UNSIGNED_PAYLOAD {
        return Ok(());
    }
    let mut digest = [0u8; 32];
    if hex::decode_to_slice(declared, &mut digest).is_err() {
        return Err(SigError::IncompleteSignature(
            "x-amz-content-sha256 must be UNSIGNED-PAYLOAD or a SHA-256 hex digest.".to_owned(),
        ));
    }
    let actual = match req.payload {
        PayloadHash::Body(body) => {
            let d = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, body);
            let mut a = [0u8; 32];
            for (o, i) in a.iter_mut().zip(d.as_ref()) {
                *o = *i;
            }
            a
        }
        PayloadHash::Sha256(d) => d,
    };
    if actual != digest {
        return Err(SigError::ContentSha256Mismatch);
    }
    Ok(())
}
