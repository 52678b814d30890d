//! Cost of the server's hot path (parse + verify) and of the signer, on a typical STS
//! awsQuery request and a KMS awsJson request. `cargo bench -p rampart-sigv4`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use rampart_sigv4::{
    PayloadHash, Request, SignableRequest, SigningKey, SigningParams, parse, parse_amz_date,
    sign_headers_with_key, verify,
};

const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
const STS_BODY: &[u8] = b"Action=GetCallerIdentity&Version=2011-06-15";
const KMS_BODY: &[u8] = br#"{"KeyId":"alias/bench","Plaintext":"aGVsbG8gd29ybGQ="}"#;

fn main() {
    divan::main();
}

struct Signed {
    headers: Vec<(String, Vec<u8>)>,
    body: &'static [u8],
}

fn signed(json: bool) -> Signed {
    let now = parse_amz_date("20260102T030405Z").unwrap();
    let base: Vec<(&str, &[u8])> = if json {
        vec![
            ("host", b"kms.us-east-1.amazonaws.com"),
            ("content-type", b"application/x-amz-json-1.1"),
            ("x-amz-target", b"TrentService.Encrypt"),
        ]
    } else {
        vec![
            ("host", b"sts.us-east-1.amazonaws.com"),
            (
                "content-type",
                b"application/x-www-form-urlencoded; charset=utf-8",
            ),
        ]
    };
    let body = if json { KMS_BODY } else { STS_BODY };
    let service = if json { "kms" } else { "sts" };
    let key = SigningKey::derive(SECRET, "20260102", "us-east-1", service);
    let params = SigningParams {
        access_key_id: "AKIAIOSFODNN7EXAMPLE",
        session_token: Some("IQoJb3JpZ2luX2VjEXAMPLETOKEN"),
        region: "us-east-1",
        service,
        now,
    };
    let signable = SignableRequest {
        method: "POST",
        path: "/",
        query: "",
        headers: &base,
        body,
    };
    let mut headers: Vec<(String, Vec<u8>)> = base
        .iter()
        .map(|(n, v)| ((*n).to_owned(), v.to_vec()))
        .collect();
    for (n, v) in sign_headers_with_key(&signable, &key, &params, false) {
        headers.push((n, v.into_bytes()));
    }
    headers.push((
        "user-agent".into(),
        b"Boto3/1.35 md/Botocore#1.35 ua/2.0 os/linux".to_vec(),
    ));
    Signed { headers, body }
}

#[divan::bench(args = [false, true])]
fn parse_and_verify(bencher: divan::Bencher, json: bool) {
    let s = signed(json);
    let service = if json { "kms" } else { "sts" };
    let key = SigningKey::derive(SECRET, "20260102", "us-east-1", service);
    let now = parse_amz_date("20260102T030405Z").unwrap();
    let refs: Vec<(&str, &[u8])> = s
        .headers
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_slice()))
        .collect();
    bencher.bench_local(|| {
        let req = Request {
            method: "POST",
            path: "/",
            query: "",
            headers: &refs,
            payload: PayloadHash::Body(s.body),
        };
        let auth = parse(&req).unwrap();
        verify(&req, &auth, &key, now).unwrap();
    });
}

#[divan::bench]
fn derive_signing_key() -> SigningKey {
    SigningKey::derive(divan::black_box(SECRET), "20260102", "us-east-1", "sts")
}

#[divan::bench(args = [false, true])]
fn sign_request(bencher: divan::Bencher, json: bool) {
    let key = SigningKey::derive(SECRET, "20260102", "us-east-1", "sts");
    let now = parse_amz_date("20260102T030405Z").unwrap();
    let base: Vec<(&str, &[u8])> = vec![
        ("host", b"sts.us-east-1.amazonaws.com"),
        (
            "content-type",
            b"application/x-www-form-urlencoded; charset=utf-8",
        ),
    ];
    let body = if json { KMS_BODY } else { STS_BODY };
    bencher.bench_local(|| {
        let params = SigningParams {
            access_key_id: "AKID",
            session_token: None,
            region: "us-east-1",
            service: "sts",
            now,
        };
        let signable = SignableRequest {
            method: "POST",
            path: "/",
            query: "",
            headers: &base,
            body,
        };
        sign_headers_with_key(&signable, &key, &params, false)
    });
}
