//! Malformed authentication: the right AWS error, never a panic.

use rampart_sigv4::{
    Credential, PayloadHash, Protocol, Request, SigError, SigningKey, check_scope, parse,
    parse_amz_date, verify,
};

const DATE: &[u8] = b"20150830T123600Z";
const GOOD: &str = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31";

fn parse_with(
    headers: &[(&str, &[u8])],
    query: &str,
) -> Result<rampart_sigv4::ParsedAuth, SigError> {
    parse(&Request {
        method: "GET",
        path: "/",
        query,
        headers,
        payload: PayloadHash::Body(b""),
    })
}

fn parse_auth(value: &str) -> Result<rampart_sigv4::ParsedAuth, SigError> {
    parse_with(
        &[
            ("Host", b"example.amazonaws.com"),
            ("X-Amz-Date", DATE),
            ("Authorization", value.as_bytes()),
        ],
        "",
    )
}

fn incomplete_message(r: Result<rampart_sigv4::ParsedAuth, SigError>) -> String {
    match r {
        Err(SigError::IncompleteSignature(m)) => m,
        other => panic!("expected IncompleteSignature, got {other:?}"),
    }
}

#[test]
fn the_good_header_parses_and_verifies() {
    let auth = parse_auth(GOOD).unwrap();
    let key = SigningKey::derive(
        "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
        "20150830",
        "us-east-1",
        "service",
    );
    let headers: [(&str, &[u8]); 3] = [
        ("Host", b"example.amazonaws.com"),
        ("X-Amz-Date", DATE),
        ("Authorization", GOOD.as_bytes()),
    ];
    let req = Request {
        method: "GET",
        path: "/",
        query: "",
        headers: &headers,
        payload: PayloadHash::Body(b""),
    };
    verify(
        &req,
        &auth,
        &key,
        parse_amz_date("20150830T123600Z").unwrap(),
    )
    .unwrap();
}

#[test]
fn no_authentication_at_all() {
    let err = parse_with(&[("Host", b"h")], "Action=GetCallerIdentity").unwrap_err();
    assert_eq!(err, SigError::MissingAuthenticationToken);
    assert_eq!(err.message(), "Request is missing Authentication Token");
    assert_eq!(err.code(Protocol::Query), "MissingAuthenticationToken");
    assert_eq!(
        err.code(Protocol::Json),
        "MissingAuthenticationTokenException"
    );
    assert_eq!(err.http_status(Protocol::Query), 403);
    assert_eq!(err.http_status(Protocol::Json), 403);
    assert_eq!(
        err.message_for(Protocol::Query),
        "Request is missing Authentication Token"
    );
    assert_eq!(
        err.message_for(Protocol::Json),
        "Missing Authentication Token"
    );
    assert_eq!(
        SigError::SignatureDoesNotMatch.message_for(Protocol::Json),
        SigError::SignatureDoesNotMatch.message()
    );
}

#[test]
fn bearer_or_basic_header_lists_every_missing_part() {
    let m = incomplete_message(parse_with(
        &[
            ("Host", b"h"),
            (
                "Authorization",
                b"Bearer eyJhbGciOiJIUzI1NiJ9.payload.signature-that-is-long",
            ),
        ],
        "",
    ));
    assert!(m.starts_with(
        "Authorization header requires 'Credential' parameter. Authorization header requires 'Signature' parameter. Authorization header requires 'SignedHeaders' parameter. Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. Authorization=Bearer eyJ"
    ), "{m}");
    // Only a prefix of what the client sent is echoed.
    assert!(!m.contains("signature-that-is-long"), "{m}");
    assert!(m.ends_with("..."), "{m}");
}

#[test]
fn each_missing_component_is_named() {
    let m = incomplete_message(parse_auth(
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date",
    ));
    assert!(
        m.starts_with("Authorization header requires 'Signature' parameter. Authorization="),
        "{m}"
    );
    let m = incomplete_message(parse_auth(
        "AWS4-HMAC-SHA256 SignedHeaders=host, Signature=00",
    ));
    assert!(
        m.starts_with("Authorization header requires 'Credential' parameter. Authorization="),
        "{m}"
    );
}

#[test]
fn missing_date_header() {
    let m = incomplete_message(parse_with(
        &[("Host", b"h"), ("Authorization", GOOD.as_bytes())],
        "",
    ));
    assert!(
        m.starts_with(
            "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header."
        ),
        "{m}"
    );
}

#[test]
fn bad_date_formats() {
    for bad in ["2015-08-30T12:36:00Z", "yesterday", ""] {
        let m = incomplete_message(parse_with(
            &[
                ("Host", b"h"),
                ("X-Amz-Date", bad.as_bytes()),
                ("Authorization", GOOD.as_bytes()),
            ],
            "",
        ));
        assert!(
            m.starts_with("Date must be in ISO-8601 'basic format'. Got '"),
            "{m}"
        );
    }
}

#[test]
fn date_header_is_accepted_without_x_amz_date() {
    let auth = parse_with(
        &[
            ("Host", b"h"),
            ("Date", b"Sun, 30 Aug 2015 12:36:00 GMT"),
            ("Authorization", GOOD.as_bytes()),
        ],
        "",
    )
    .unwrap();
    assert_eq!(
        rampart_sigv4::format_amz_date(auth.amz_date),
        "20150830T123600Z"
    );
}

#[test]
fn wrong_algorithm() {
    let m = incomplete_message(parse_auth(
        &GOOD.replace("AWS4-HMAC-SHA256", "AWS4-HMAC-SHA512"),
    ));
    assert_eq!(m, "Unsupported AWS 'algorithm': 'AWS4-HMAC-SHA512'.");
}

#[test]
fn credential_shape() {
    let m = incomplete_message(parse_auth(
        &GOOD.replace("/us-east-1/service/aws4_request", ""),
    ));
    assert_eq!(
        m,
        "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got 'AKIDEXAMPLE/20150830'"
    );
}

#[test]
fn scope_terminator_and_date() {
    let err = parse_auth(&GOOD.replace("aws4_request", "aws5_request")).unwrap_err();
    assert_eq!(
        err.message(),
        "Credential should be scoped with a valid terminator: 'aws4_request', not 'aws5_request'."
    );
    assert_eq!(err.code(Protocol::Query), "SignatureDoesNotMatch");
    assert_eq!(err.code(Protocol::Json), "InvalidSignatureException");

    let err = parse_auth(&GOOD.replace("/20150830/", "/20150831/")).unwrap_err();
    assert_eq!(
        err.message(),
        "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '20150831' != '20150830', from '20150830T123600Z'."
    );
}

#[test]
fn region_and_service_checks() {
    let cred = Credential {
        access_key_id: "AKID".into(),
        date: "20150830".into(),
        region: "mars-1".into(),
        service: "kms".into(),
    };
    let err = check_scope(&cred, |r| r == "us-east-1", "kms").unwrap_err();
    assert_eq!(
        err.message(),
        "Credential should be scoped to a valid region, not 'mars-1'."
    );
    let err = check_scope(&cred, |_| true, "sts").unwrap_err();
    assert_eq!(
        err.message(),
        "Credential should be scoped to correct service: 'sts'."
    );
    check_scope(&cred, |_| true, "kms").unwrap();
}

#[test]
fn host_must_be_signed() {
    let m = incomplete_message(parse_auth(
        &GOOD.replace("SignedHeaders=host;x-amz-date", "SignedHeaders=x-amz-date"),
    ));
    assert_eq!(
        m,
        "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization."
    );
    let m = incomplete_message(parse_auth(&GOOD.replace(
        "SignedHeaders=host;x-amz-date",
        "SignedHeaders=host;;x-amz-date",
    )));
    assert!(
        m.starts_with("SignedHeaders contains an empty header name"),
        "{m}"
    );
}

#[test]
fn signature_not_hex_does_not_match() {
    for sig in ["zz", "", "abc", &"0".repeat(66)] {
        let value = format!(
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature={sig}"
        );
        assert_eq!(
            parse_auth(&value).unwrap_err(),
            SigError::SignatureDoesNotMatch,
            "{sig:?}"
        );
    }
}

#[test]
fn duplicate_component_is_refused() {
    let m = incomplete_message(parse_auth(&format!("{GOOD}, Signature=00")));
    assert!(
        m.starts_with("Authorization header has a duplicate 'Signature' parameter."),
        "{m}"
    );
}

#[test]
fn tolerant_spacing_like_aws() {
    let squeezed = GOOD.replace(", ", ",");
    assert!(parse_auth(&squeezed).is_ok());
    let spaced = GOOD
        .replace(", ", " ,  ")
        .replace("AWS4-HMAC-SHA256 ", "AWS4-HMAC-SHA256   ");
    assert!(parse_auth(&spaced).is_ok());
}

#[test]
fn presigned_missing_parameters() {
    let m = incomplete_message(parse_with(
        &[("Host", b"h")],
        "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Date=20150830T123600Z",
    ));
    assert_eq!(
        m,
        "AWS query-string parameters must include 'X-Amz-Credential'. AWS query-string parameters must include 'X-Amz-Signature'. AWS query-string parameters must include 'X-Amz-SignedHeaders'. Re-examine the query-string parameters."
    );
}

fn presigned_query(expires: &str, algorithm: &str) -> String {
    format!(
        "X-Amz-Algorithm={algorithm}&X-Amz-Credential=AKIDEXAMPLE%2F20150830%2Fus-east-1%2Fservice%2Faws4_request&X-Amz-Date=20150830T123600Z&X-Amz-SignedHeaders=host&X-Amz-Expires={expires}&X-Amz-Signature={}",
        "0".repeat(64)
    )
}

#[test]
fn presigned_expires_bounds() {
    for (expires, want) in [
        ("0", "X-Amz-Expires must be at least 1 second"),
        ("-5", "X-Amz-Expires must be non-negative"),
        (
            "604801",
            "X-Amz-Expires must be less than a week (in seconds) that is 604800",
        ),
        ("soon", "X-Amz-Expires should be a number"),
    ] {
        let m = incomplete_message(parse_with(
            &[("Host", b"h")],
            &presigned_query(expires, "AWS4-HMAC-SHA256"),
        ));
        assert_eq!(m, want);
    }
    for ok in ["1", "604800"] {
        let auth = parse_with(&[("Host", b"h")], &presigned_query(ok, "AWS4-HMAC-SHA256")).unwrap();
        assert_eq!(auth.expires, Some(ok.parse().unwrap()));
    }
}

#[test]
fn presigned_wrong_algorithm() {
    let m = incomplete_message(parse_with(
        &[("Host", b"h")],
        &presigned_query("60", "AWS4-ECDSA-P256-SHA256"),
    ));
    assert_eq!(m, "X-Amz-Algorithm only supports 'AWS4-HMAC-SHA256'.");
}

#[test]
fn secrets_never_appear_in_messages_or_debug() {
    let token = "FQoGZXIvYXdzEXAMPLETOKEN-that-must-not-leak-0123456789";
    let headers: [(&str, &[u8]); 4] = [
        ("Host", b"h"),
        ("X-Amz-Date", DATE),
        ("X-Amz-Security-Token", token.as_bytes()),
        ("Authorization", GOOD.as_bytes()),
    ];
    let auth = parse_with(&headers, "").unwrap();
    assert_eq!(auth.security_token.as_deref(), Some(token));
    assert!(!format!("{auth:?}").contains("must-not-leak"));
    let key = SigningKey::derive("SECRETSECRET", "20150830", "us-east-1", "service");
    assert!(!format!("{key:?}").contains("SECRET"));
    let req = Request {
        method: "GET",
        path: "/",
        query: "",
        headers: &headers,
        payload: PayloadHash::Body(b""),
    };
    let err = verify(
        &req,
        &auth,
        &key,
        parse_amz_date("20150830T123600Z").unwrap(),
    )
    .unwrap_err();
    assert!(!err.message().contains("must-not-leak"));
    assert!(!err.message().contains("SECRET"));
}

#[test]
fn error_code_table() {
    let cases: Vec<(SigError, &str, &str, u16, u16)> = vec![
        (
            SigError::MissingAuthenticationToken,
            "MissingAuthenticationToken",
            "MissingAuthenticationTokenException",
            403,
            403,
        ),
        (
            SigError::IncompleteSignature("x".into()),
            "IncompleteSignature",
            "IncompleteSignatureException",
            400,
            400,
        ),
        (
            SigError::SignatureDoesNotMatch,
            "SignatureDoesNotMatch",
            "InvalidSignatureException",
            403,
            400,
        ),
        (
            SigError::RequestExpired,
            "RequestExpired",
            "RequestExpired",
            400,
            400,
        ),
        (
            SigError::InvalidClientTokenId,
            "InvalidClientTokenId",
            "UnrecognizedClientException",
            403,
            403,
        ),
        (
            SigError::ExpiredToken,
            "ExpiredToken",
            "ExpiredTokenException",
            403,
            403,
        ),
    ];
    for (err, query, json, qs, js) in cases {
        assert_eq!(err.code_for_query(), query);
        assert_eq!(err.code_for_json(), json);
        assert_eq!(err.http_status(Protocol::Query), qs, "{err:?}");
        assert_eq!(err.http_status(Protocol::Json), js, "{err:?}");
    }
    assert_eq!(
        SigError::SignatureDoesNotMatch.message(),
        "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
    );
}

#[test]
fn unreadable_x_amz_date_does_not_fall_back_to_date() {
    let m = incomplete_message(parse_with(
        &[
            ("Host", b"h"),
            ("X-Amz-Date", b"2015\xff0830T123600Z"),
            ("Date", b"Sun, 30 Aug 2015 12:36:00 GMT"),
            ("Authorization", GOOD.as_bytes()),
        ],
        "",
    ));
    assert!(
        m.starts_with("Date must be in ISO-8601 'basic format'."),
        "{m}"
    );
}
