//! The 38 AWS SigV4 test-suite cases (aws-c-auth `v4/`), in both header and presigned mode,
//! verified from the server side: parse the signed request as it arrives, rebuild the
//! canonical request and string to sign, check the signature, then tamper and expect refusal.
//! See `shared/vectors/sigv4/README.md`.

use std::fs;
use std::path::{Path, PathBuf};

use crate::wire::{WireRequest, with_request};
use rampart_sigv4::{
    CanonicalOptions, Mode, SigError, SignableRequest, SigningKey, SigningParams, candidates,
    canonical_request, parse, parse_amz_date, presign, sign_headers, string_to_sign, verify,
};
use time::{Duration, OffsetDateTime};

const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

fn vectors_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/vectors/sigv4");
    assert!(
        dir.join("README.md").is_file(),
        "SigV4 test vectors missing at {} (CI must place shared/ beside the clone)",
        dir.display()
    );
    dir
}

pub fn case_names() -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(vectors_dir())
        .unwrap()
        .filter_map(|e| {
            let e = e.unwrap();
            e.path()
                .join("context.json")
                .is_file()
                .then(|| e.file_name().to_string_lossy().into_owned())
        })
        .collect();
    names.sort();
    names
}

pub fn clock() -> OffsetDateTime {
    parse_amz_date("20150830T123600Z").unwrap()
}

pub fn key() -> SigningKey {
    SigningKey::derive(SECRET, "20150830", "us-east-1", "service")
}

pub fn read(case: &str, file: &str) -> String {
    fs::read_to_string(vectors_dir().join(case).join(file))
        .unwrap_or_else(|e| panic!("{case}/{file}: {e}"))
}

struct Context {
    normalize: bool,
    sign_body: bool,
    token: Option<String>,
    omit_session_token: bool,
}

fn context(case: &str) -> Context {
    let text = read(case, "context.json");
    let flag = |name: &str| -> bool {
        let needle = format!("\"{name}\": true");
        text.contains(&needle)
    };
    let token = text
        .split("\"token\": \"")
        .nth(1)
        .map(|rest| rest.split('"').next().unwrap().to_owned());
    Context {
        normalize: !text.contains("\"normalize\": false"),
        sign_body: flag("sign_body"),
        token,
        omit_session_token: flag("omit_session_token"),
    }
}

const MODES: [(&str, Mode); 2] = [("header", Mode::Header), ("query", Mode::Presigned)];

#[test]
fn there_are_38_cases() {
    assert_eq!(case_names().len(), 38);
}

/// Steps 1-4 of the README for all 76 (case, mode) pairs.
#[test]
fn every_vector_parses_canonicalises_and_verifies() {
    let mut checked = 0;
    for case in case_names() {
        let ctx = context(&case);
        for (prefix, mode) in MODES {
            let wire = WireRequest::parse(&read(&case, &format!("{prefix}-signed-request.txt")));
            let want_canonical = read(&case, &format!("{prefix}-canonical-request.txt"));
            let want_sts = read(&case, &format!("{prefix}-string-to-sign.txt"));
            let want_sig = read(&case, &format!("{prefix}-signature.txt"));
            with_request(&wire, |req| {
                let auth = parse(req).unwrap_or_else(|e| panic!("{case}/{prefix}: {e:?}"));
                assert_eq!(auth.mode, mode, "{case}/{prefix}");
                assert_eq!(auth.credential.access_key_id, "AKIDEXAMPLE");
                assert_eq!(
                    auth.credential.scope(),
                    "20150830/us-east-1/service/aws4_request"
                );
                assert_eq!(
                    hex::encode(auth.signature),
                    want_sig.trim(),
                    "{case}/{prefix}"
                );
                assert_eq!(auth.security_token, ctx.token, "{case}/{prefix}");
                assert_eq!(auth.expires, (mode == Mode::Presigned).then_some(3600));

                // The exact form the signer used must be among the verifier's candidates.
                let opts = CanonicalOptions {
                    normalize_path: ctx.normalize,
                    include_query_token: !ctx.omit_session_token,
                };
                let canonical = canonical_request(req, &auth, opts);
                assert!(
                    candidates(req, &auth)
                        .into_iter()
                        .any(|c| canonical_request(req, &auth, c) == canonical),
                    "{case}/{prefix}: {opts:?} not tried"
                );
                assert_eq!(
                    String::from_utf8(canonical.clone()).unwrap(),
                    want_canonical,
                    "{case}/{prefix}: canonical request"
                );
                let sts = string_to_sign(&auth, &canonical);
                assert_eq!(sts, want_sts, "{case}/{prefix}: string to sign");
                assert_eq!(
                    hex::encode(key().sign(sts.as_bytes())),
                    want_sig.trim(),
                    "{case}/{prefix}: signature"
                );
                verify(req, &auth, &key(), clock())
                    .unwrap_or_else(|e| panic!("{case}/{prefix}: verify: {e:?}"));
            });
            checked += 1;
        }
    }
    assert_eq!(checked, 76);
}

/// Step 5: flipping any byte of the signature is refused.
#[test]
fn every_vector_rejects_a_flipped_signature_byte() {
    for case in case_names() {
        for (prefix, _) in MODES {
            let wire = WireRequest::parse(&read(&case, &format!("{prefix}-signed-request.txt")));
            with_request(&wire, |req| {
                let auth = parse(req).unwrap();
                for i in [0, 13, 31] {
                    let mut bad = auth.clone();
                    bad.signature[i] ^= 0x01;
                    assert_eq!(
                        verify(req, &bad, &key(), clock()),
                        Err(SigError::SignatureDoesNotMatch),
                        "{case}/{prefix} byte {i}"
                    );
                }
            });
        }
    }
}

/// Step 5: changing a signed header's value (or a signed query value) is refused.
#[test]
fn every_vector_rejects_a_changed_signed_header() {
    for case in case_names() {
        for (prefix, _) in MODES {
            let mut wire =
                WireRequest::parse(&read(&case, &format!("{prefix}-signed-request.txt")));
            let auth = with_request(&wire, |req| parse(req).unwrap());
            let victim = auth
                .signed_headers
                .iter()
                .find(|h| *h != "x-amz-date")
                .unwrap()
                .clone();
            let header = wire
                .headers
                .iter_mut()
                .find(|(n, _)| n.eq_ignore_ascii_case(&victim))
                .unwrap();
            header.1.push(b'x');
            with_request(&wire, |req| {
                assert_eq!(
                    verify(req, &auth, &key(), clock()),
                    Err(SigError::SignatureDoesNotMatch),
                    "{case}/{prefix}: header {victim} changed"
                );
            });
        }
    }
}

#[test]
fn every_vector_rejects_a_changed_query_or_method() {
    for case in case_names() {
        for (prefix, _) in MODES {
            let wire = WireRequest::parse(&read(&case, &format!("{prefix}-signed-request.txt")));
            let auth = with_request(&wire, |req| parse(req).unwrap());
            let mut extra =
                WireRequest::parse(&read(&case, &format!("{prefix}-signed-request.txt")));
            extra.query = if extra.query.is_empty() {
                "Injected=1".to_owned()
            } else {
                format!("{}&Injected=1", extra.query)
            };
            with_request(&extra, |req| {
                assert_eq!(
                    verify(req, &auth, &key(), clock()),
                    Err(SigError::SignatureDoesNotMatch),
                    "{case}/{prefix}: query"
                );
            });
            let mut method =
                WireRequest::parse(&read(&case, &format!("{prefix}-signed-request.txt")));
            method.method = if method.method == "GET" { "PUT" } else { "GET" }.to_owned();
            with_request(&method, |req| {
                assert_eq!(
                    verify(req, &auth, &key(), clock()),
                    Err(SigError::SignatureDoesNotMatch),
                    "{case}/{prefix}: method"
                );
            });
        }
    }
}

/// Step 5: a changed body is refused when the body is signed.
#[test]
fn signed_bodies_cannot_change() {
    let mut seen = 0;
    for case in case_names() {
        if !context(&case).sign_body {
            continue;
        }
        for (prefix, mode) in MODES {
            let mut wire =
                WireRequest::parse(&read(&case, &format!("{prefix}-signed-request.txt")));
            assert!(!wire.body.is_empty(), "{case}");
            let auth = with_request(&wire, |req| parse(req).unwrap());
            wire.body[0] ^= 0x20;
            with_request(&wire, |req| {
                let want = match mode {
                    // The signed x-amz-content-sha256 no longer matches the body.
                    Mode::Header => SigError::ContentSha256Mismatch,
                    Mode::Presigned => SigError::SignatureDoesNotMatch,
                };
                assert_eq!(
                    verify(req, &auth, &key(), clock()),
                    Err(want),
                    "{case}/{prefix}"
                );
            });
            seen += 1;
        }
    }
    assert_eq!(seen, 4);
}

/// Step 5: the clock. Header mode allows 15 minutes either way; presigned allows 15 minutes
/// early and `X-Amz-Expires` (3600 s) late.
#[test]
fn every_vector_respects_the_clock() {
    let t0 = clock();
    for case in case_names() {
        let wire = WireRequest::parse(&read(&case, "header-signed-request.txt"));
        with_request(&wire, |req| {
            let auth = parse(req).unwrap();
            for ok in [t0 - Duration::minutes(15), t0 + Duration::minutes(15)] {
                verify(req, &auth, &key(), ok).unwrap_or_else(|e| panic!("{case}: {e:?}"));
            }
            let late = verify(
                req,
                &auth,
                &key(),
                t0 + Duration::minutes(15) + Duration::SECOND,
            );
            assert_eq!(
                late.unwrap_err().message(),
                "Signature expired: 20150830T123600Z is now earlier than 20150830T123601Z (20150830T125101Z - 15 min.)"
            );
            let early = verify(req, &auth, &key(), t0 - Duration::minutes(16));
            assert_eq!(
                early.unwrap_err().message(),
                "Signature not yet current: 20150830T123600Z is still later than 20150830T123500Z (20150830T122000Z + 15 min.)"
            );
        });

        let wire = WireRequest::parse(&read(&case, "query-signed-request.txt"));
        with_request(&wire, |req| {
            let auth = parse(req).unwrap();
            for ok in [
                t0 - Duration::minutes(15),
                t0 + Duration::minutes(59),
                t0 + Duration::seconds(3600),
            ] {
                verify(req, &auth, &key(), ok).unwrap_or_else(|e| panic!("{case}: {e:?}"));
            }
            assert_eq!(
                verify(req, &auth, &key(), t0 + Duration::seconds(3601)),
                Err(SigError::RequestExpired),
                "{case}"
            );
            assert!(matches!(
                verify(req, &auth, &key(), t0 - Duration::minutes(16)),
                Err(SigError::SignatureNotYetCurrent { .. })
            ));
        });
    }
}

/// A key derived for another scope or secret is refused.
#[test]
fn wrong_keys_are_refused() {
    let wire = WireRequest::parse(&read("get-vanilla", "header-signed-request.txt"));
    with_request(&wire, |req| {
        let auth = parse(req).unwrap();
        for k in [
            SigningKey::derive("wrong", "20150830", "us-east-1", "service"),
            SigningKey::derive(SECRET, "20150831", "us-east-1", "service"),
            SigningKey::derive(SECRET, "20150830", "us-west-2", "service"),
            SigningKey::derive(SECRET, "20150830", "us-east-1", "sts"),
        ] {
            assert_eq!(
                verify(req, &auth, &k, clock()),
                Err(SigError::SignatureDoesNotMatch)
            );
        }
    });
}

/// The signer reproduces every vector's signed request (header and presigned), and
/// verification accepts what it produces.
#[test]
fn signer_reproduces_every_vector() {
    let mut header_checked = 0;
    let mut query_checked = 0;
    for case in case_names() {
        let ctx = context(&case);
        if !ctx.normalize || ctx.omit_session_token {
            // The signer always normalises and always signs the token, as the SDKs do.
            continue;
        }
        let unsigned = WireRequest::parse(&read(&case, "request.txt"));
        let headers = unsigned.header_refs();
        let signable = SignableRequest {
            method: &unsigned.method,
            path: &unsigned.path,
            query: &unsigned.query,
            headers: &headers,
            body: &unsigned.body,
        };
        let params = SigningParams {
            access_key_id: "AKIDEXAMPLE",
            session_token: ctx.token.as_deref(),
            region: "us-east-1",
            service: "service",
            now: clock(),
        };

        let added = sign_headers(&signable, SECRET, &params, ctx.sign_body);
        let authorization = &added.last().unwrap().1;
        let want = WireRequest::parse(&read(&case, "header-signed-request.txt"));
        let want_auth = want
            .headers
            .iter()
            .find(|(n, _)| n == "Authorization")
            .map(|(_, v)| String::from_utf8(v.clone()).unwrap())
            .unwrap();
        assert_eq!(authorization, &want_auth, "{case}: header mode");
        header_checked += 1;

        if !ctx.sign_body {
            let query = presign(&signable, SECRET, &params, 3600);
            let want = WireRequest::parse(&read(&case, "query-signed-request.txt"));
            let want_sig = want.query.rsplit("X-Amz-Signature=").next().unwrap();
            let got_sig = query.rsplit("X-Amz-Signature=").next().unwrap();
            assert_eq!(got_sig, want_sig, "{case}: presigned");
            query_checked += 1;
        }
    }
    // 38 minus 7 unnormalized minus post-sts-header-after; presigned also skips the 2 signed bodies.
    assert_eq!((header_checked, query_checked), (30, 28));
}
