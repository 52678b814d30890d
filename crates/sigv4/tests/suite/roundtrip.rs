//! Sign with the crate's signer, receive as a server would, verify. Covers the request shapes
//! Rampart serves (awsQuery form POST, awsJson with X-Amz-Target), temporary credentials,
//! presigned URLs, and tampering after signing.

use rampart_sigv4::{
    Mode, PayloadHash, Request, SigError, SignableRequest, SigningKey, SigningParams, parse,
    parse_amz_date, presign, sign_headers, verify,
};
use time::OffsetDateTime;

const AKID: &str = "AKIAIOSFODNN7EXAMPLE";
const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

fn now() -> OffsetDateTime {
    parse_amz_date("20260102T030405Z").unwrap()
}

fn params<'a>(service: &'a str, token: Option<&'a str>) -> SigningParams<'a> {
    SigningParams {
        access_key_id: AKID,
        session_token: token,
        region: "eu-west-1",
        service,
        now: now(),
    }
}

/// A request after header-mode signing: the caller's headers plus the added ones.
struct Signed {
    method: String,
    path: String,
    query: String,
    headers: Vec<(String, Vec<u8>)>,
    body: Vec<u8>,
}

impl Signed {
    fn header_mode(
        method: &str,
        path: &str,
        query: &str,
        headers: &[(&str, &str)],
        body: &[u8],
        params: &SigningParams<'_>,
        content_sha: bool,
    ) -> Signed {
        let hdrs: Vec<(&str, &[u8])> = headers.iter().map(|(n, v)| (*n, v.as_bytes())).collect();
        let signable = SignableRequest {
            method,
            path,
            query,
            headers: &hdrs,
            body,
        };
        let added = sign_headers(&signable, SECRET, params, content_sha);
        let mut all: Vec<(String, Vec<u8>)> = headers
            .iter()
            .map(|(n, v)| ((*n).to_owned(), v.as_bytes().to_vec()))
            .collect();
        // Servers see header names in any case.
        all.extend(
            added
                .into_iter()
                .map(|(n, v)| (n.to_ascii_uppercase(), v.into_bytes())),
        );
        Signed {
            method: method.into(),
            path: path.into(),
            query: query.into(),
            headers: all,
            body: body.to_vec(),
        }
    }

    fn check(
        &self,
        service: &str,
        at: OffsetDateTime,
    ) -> Result<rampart_sigv4::ParsedAuth, SigError> {
        let headers: Vec<(&str, &[u8])> = self
            .headers
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_slice()))
            .collect();
        let req = Request {
            method: &self.method,
            path: &self.path,
            query: &self.query,
            headers: &headers,
            payload: PayloadHash::Body(&self.body),
        };
        let auth = parse(&req)?;
        let key = SigningKey::derive(
            SECRET,
            &auth.credential.date,
            &auth.credential.region,
            service,
        );
        verify(&req, &auth, &key, at)?;
        Ok(auth)
    }

    fn set_header(&mut self, name: &str, value: &str) {
        for (n, v) in &mut self.headers {
            if n.eq_ignore_ascii_case(name) {
                *v = value.as_bytes().to_vec();
            }
        }
    }
}

const FORM: &str = "application/x-www-form-urlencoded; charset=utf-8";

#[test]
fn aws_query_form_post_round_trips() {
    let body = b"Action=GetCallerIdentity&Version=2011-06-15";
    let signed = Signed::header_mode(
        "POST",
        "/",
        "",
        &[
            ("Host", "sts.eu-west-1.amazonaws.com"),
            ("Content-Type", FORM),
            ("User-Agent", "test/1.0"),
        ],
        body,
        &params("sts", None),
        false,
    );
    let auth = signed.check("sts", now()).unwrap();
    assert_eq!(auth.mode, Mode::Header);
    assert_eq!(auth.credential.access_key_id, AKID);
    // User-Agent is not signed (proxies rewrite it); host, content-type and x-amz-date are.
    assert_eq!(auth.signed_headers, ["content-type", "host", "x-amz-date"]);

    let mut changed = Signed {
        body: b"Action=GetCallerIdentity&Version=2011-06-16".to_vec(),
        ..signed
    };
    assert_eq!(
        changed.check("sts", now()).unwrap_err(),
        SigError::SignatureDoesNotMatch
    );
    changed.body = body.to_vec();
    changed.set_header("User-Agent", "other/2.0");
    changed.check("sts", now()).unwrap();
}

#[test]
fn aws_json_with_target_and_session_token_round_trips() {
    let token = "IQoJb3JpZ2luX2VjEXAMPLE//////////wEaCXVzLWVhc3QtMSJHMEUCIQ==";
    let body = br#"{"KeyId":"alias/test","Plaintext":"aGVsbG8="}"#;
    let mut signed = Signed::header_mode(
        "POST",
        "/",
        "",
        &[
            ("Host", "kms.eu-west-1.amazonaws.com"),
            ("Content-Type", "application/x-amz-json-1.1"),
            ("X-Amz-Target", "TrentService.Encrypt"),
        ],
        body,
        &params("kms", Some(token)),
        false,
    );
    let auth = signed.check("kms", now()).unwrap();
    assert_eq!(auth.security_token.as_deref(), Some(token));
    assert_eq!(
        auth.signed_headers,
        [
            "content-type",
            "host",
            "x-amz-date",
            "x-amz-security-token",
            "x-amz-target"
        ]
    );
    signed.set_header("X-Amz-Target", "TrentService.Decrypt");
    assert_eq!(
        signed.check("kms", now()).unwrap_err(),
        SigError::SignatureDoesNotMatch
    );
}

#[test]
fn signed_token_cannot_be_swapped() {
    let mut signed = Signed::header_mode(
        "POST",
        "/",
        "",
        &[("Host", "sts.amazonaws.com")],
        b"",
        &params("sts", Some("token-one")),
        false,
    );
    signed.check("sts", now()).unwrap();
    signed.set_header("X-Amz-Security-Token", "token-two");
    assert_eq!(
        signed.check("sts", now()).unwrap_err(),
        SigError::SignatureDoesNotMatch
    );
}

#[test]
fn content_sha256_header_binds_the_body() {
    let mut signed = Signed::header_mode(
        "POST",
        "/",
        "",
        &[("Host", "h")],
        b"payload",
        &params("kms", None),
        true,
    );
    let auth = signed.check("kms", now()).unwrap();
    assert!(auth.declared_payload_hash.is_some());
    assert!(!auth.is_payload_unsigned());
    signed.body = b"PAYLOAD".to_vec();
    assert_eq!(
        signed.check("kms", now()).unwrap_err(),
        SigError::ContentSha256Mismatch
    );
}

#[test]
fn unsigned_payload_is_honoured_and_reported() {
    let mut signed = Signed::header_mode(
        "PUT",
        "/bucket/key",
        "",
        &[("Host", "h"), ("x-amz-content-sha256", "UNSIGNED-PAYLOAD")],
        b"anything",
        &params("s3", None),
        false,
    );
    let auth = signed.check("s3", now()).unwrap();
    assert!(auth.is_payload_unsigned());
    // The body is not covered, as AWS documents for UNSIGNED-PAYLOAD.
    signed.body = b"something else".to_vec();
    signed.check("s3", now()).unwrap();
}

#[test]
fn streaming_payloads_are_refused() {
    let signed = Signed::header_mode(
        "PUT",
        "/",
        "",
        &[
            ("Host", "h"),
            ("x-amz-content-sha256", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"),
        ],
        b"",
        &params("s3", None),
        false,
    );
    assert!(matches!(
        signed.check("s3", now()),
        Err(SigError::IncompleteSignature(_))
    ));
}

#[test]
fn unsigned_content_sha_header_is_ignored() {
    // Not in SignedHeaders: the verifier hashes the body itself, as AWS does.
    let mut signed = Signed::header_mode(
        "POST",
        "/",
        "",
        &[("Host", "h")],
        b"body",
        &params("kms", None),
        false,
    );
    signed
        .headers
        .push(("X-Amz-Content-Sha256".into(), b"UNSIGNED-PAYLOAD".to_vec()));
    let auth = signed.check("kms", now()).unwrap();
    assert!(!auth.is_payload_unsigned());
    signed.body = b"BODY".to_vec();
    assert_eq!(
        signed.check("kms", now()).unwrap_err(),
        SigError::SignatureDoesNotMatch
    );
}

#[test]
fn rest_paths_and_queries_round_trip() {
    for (path, query) in [
        ("/2015-03-31/functions/my%3Afunction/invocations", ""),
        ("/a b/ሴ/", "z=1&a=2&a=1&empty=&flag"),
        ("/v1/things/../other/./x", "q=%20space%2Bplus"),
        ("", "Action=ListUsers&Version=2010-05-08"),
    ] {
        let signed = Signed::header_mode(
            "GET",
            path,
            query,
            &[("Host", "h")],
            b"",
            &params("iam", None),
            false,
        );
        signed
            .check("iam", now())
            .unwrap_or_else(|e| panic!("{path:?} {query:?}: {e:?}"));
    }
}

#[test]
fn repeated_and_messy_headers_round_trip() {
    let signed = Signed::header_mode(
        "GET",
        "/",
        "",
        &[
            ("Host", "h"),
            ("X-Custom", "  a   b  "),
            ("x-custom", "c"),
            ("X-Other", "\tv\t"),
        ],
        b"",
        &params("iam", None),
        false,
    );
    let auth = signed.check("iam", now()).unwrap();
    assert!(auth.signed_headers.contains(&"x-custom".to_owned()));
}

#[test]
fn clock_skew_after_signing() {
    let signed = Signed::header_mode(
        "GET",
        "/",
        "",
        &[("Host", "h")],
        b"",
        &params("iam", None),
        false,
    );
    signed
        .check("iam", now() + time::Duration::minutes(14))
        .unwrap();
    assert!(matches!(
        signed.check("iam", now() + time::Duration::minutes(16)),
        Err(SigError::SignatureExpired { .. })
    ));
}

fn presigned_request(
    query: &str,
    check_at: OffsetDateTime,
) -> Result<rampart_sigv4::ParsedAuth, SigError> {
    let headers: [(&str, &[u8]); 1] = [("host", b"sts.amazonaws.com")];
    let req = Request {
        method: "GET",
        path: "/",
        query,
        headers: &headers,
        payload: PayloadHash::Body(b""),
    };
    let auth = parse(&req)?;
    let key = SigningKey::derive(
        SECRET,
        &auth.credential.date,
        &auth.credential.region,
        "sts",
    );
    verify(&req, &auth, &key, check_at)?;
    Ok(auth)
}

#[test]
fn presigned_url_round_trips_with_token() {
    let headers: [(&str, &[u8]); 1] = [("Host", b"sts.amazonaws.com")];
    let signable = SignableRequest {
        method: "GET",
        path: "/",
        query: "Action=GetCallerIdentity&Version=2011-06-15",
        headers: &headers,
        body: b"",
    };
    let token = "tok/en+with=specials";
    let query = presign(&signable, SECRET, &params("sts", Some(token)), 900);
    assert!(query.starts_with(
        "Action=GetCallerIdentity&Version=2011-06-15&X-Amz-Algorithm=AWS4-HMAC-SHA256&"
    ));
    assert!(query.contains("X-Amz-Security-Token=tok%2Fen%2Bwith%3Dspecials"));
    let auth = presigned_request(&query, now() + time::Duration::seconds(900)).unwrap();
    assert_eq!(auth.mode, Mode::Presigned);
    assert_eq!(auth.security_token.as_deref(), Some(token));
    assert_eq!(
        presigned_request(&query, now() + time::Duration::seconds(901)).unwrap_err(),
        SigError::RequestExpired
    );
    let tampered = query.replace("GetCallerIdentity", "GetSessionToken");
    assert_eq!(
        presigned_request(&tampered, now()).unwrap_err(),
        SigError::SignatureDoesNotMatch
    );
    // Dropping the token changes what was signed.
    let without: String = query
        .split('&')
        .filter(|p| !p.starts_with("X-Amz-Security-Token="))
        .collect::<Vec<_>>()
        .join("&");
    assert_eq!(
        presigned_request(&without, now()).unwrap_err(),
        SigError::SignatureDoesNotMatch
    );
}

#[test]
fn header_wins_over_query_parameters() {
    let signed = Signed::header_mode(
        "GET",
        "/",
        "X-Amz-Algorithm=junk",
        &[("Host", "h")],
        b"",
        &params("iam", None),
        false,
    );
    assert_eq!(signed.check("iam", now()).unwrap().mode, Mode::Header);
}

#[test]
fn a_body_hashed_once_signs_exactly_as_hashing_each_time() {
    let body = br#"{"KeyId":"alias/app","Plaintext":"aGVsbG8="}"#;
    let headers: [(&str, &[u8]); 3] = [
        ("host", b"kms.us-east-1.amazonaws.com"),
        ("content-type", b"application/x-amz-json-1.1"),
        ("x-amz-target", b"TrentService.Encrypt"),
    ];
    let signable = SignableRequest {
        method: "POST",
        path: "/",
        query: "",
        headers: &headers,
        body,
    };
    let p = params("kms", None);
    let key = SigningKey::derive(SECRET, "20260102", p.region, "kms");
    for with_header in [false, true] {
        let each_time = rampart_sigv4::sign_headers_with_key(&signable, &key, &p, with_header);
        let once = rampart_sigv4::sign_headers_with_body_sha256(
            &signable,
            &key,
            &p,
            with_header,
            rampart_sigv4::body_sha256(body),
        );
        assert_eq!(each_time, once);
        assert_eq!(each_time, sign_headers(&signable, SECRET, &p, with_header));
    }
    // A wrong digest gives a signature the server (which hashes the body itself) refuses.
    let wrong = rampart_sigv4::sign_headers_with_body_sha256(&signable, &key, &p, false, [0; 32]);
    let mut all: Vec<(&str, &[u8])> = headers.to_vec();
    all.extend(wrong.iter().map(|(n, v)| (n.as_str(), v.as_bytes())));
    let req = Request {
        method: "POST",
        path: "/",
        query: "",
        headers: &all,
        payload: PayloadHash::Body(body),
    };
    let auth = parse(&req).unwrap();
    assert_eq!(
        verify(&req, &auth, &key, now()).unwrap_err(),
        SigError::SignatureDoesNotMatch
    );
}
