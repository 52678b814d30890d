//! Property tests: arbitrary input never panics; whatever the signer signs, the verifier accepts.

use proptest::prelude::*;
use rampart_sigv4::{
    PayloadHash, Request, SignableRequest, SigningKey, SigningParams, parse, parse_amz_date,
    presign, sign_headers, verify,
};

const SECRET: &str = "secret";

fn header_name() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("Authorization".to_owned()),
        Just("X-Amz-Date".to_owned()),
        Just("Date".to_owned()),
        Just("host".to_owned()),
        Just("X-Amz-Security-Token".to_owned()),
        Just("x-amz-content-sha256".to_owned()),
        "[a-zA-Z-]{1,12}",
    ]
}

fn auth_value() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        any::<Vec<u8>>(),
        "AWS4-HMAC-SHA256 Credential=[A-Z/0-9a-z_-]{0,60}, SignedHeaders=[a-z;:-]{0,30}, Signature=[0-9a-f]{0,70}"
            .prop_map(String::into_bytes),
        "AWS4-HMAC-SHA256[ ,=a-zA-Z0-9/;]{0,80}".prop_map(String::into_bytes),
        "[0-9TZ]{14,18}".prop_map(String::into_bytes),
    ]
}

fn query() -> impl Strategy<Value = String> {
    prop_oneof![
        ".{0,80}",
        "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=[A-Za-z0-9%/_-]{0,50}&X-Amz-Date=[0-9TZ]{0,17}&X-Amz-Expires=-?[0-9]{0,8}&X-Amz-SignedHeaders=[a-z%;B3]{0,20}&X-Amz-Signature=[0-9a-f]{0,64}(&X-Amz-Security-Token=[a-zA-Z%0-9]{0,10})?",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn arbitrary_requests_never_panic(
        method in "[A-Z]{0,7}",
        path in ".{0,40}",
        query in query(),
        headers in prop::collection::vec((header_name(), auth_value()), 0..6),
        body in any::<Vec<u8>>(),
        skew in -100_000i64..100_000,
    ) {
        let refs: Vec<(&str, &[u8])> = headers.iter().map(|(n, v)| (n.as_str(), v.as_slice())).collect();
        let req = Request { method: &method, path: &path, query: &query, headers: &refs, payload: PayloadHash::Body(&body) };
        if let Ok(auth) = parse(&req) {
            let key = SigningKey::derive(SECRET, &auth.credential.date, &auth.credential.region, &auth.credential.service);
            let now = auth.amz_date + time::Duration::seconds(skew);
            // Random signatures essentially never match; we only require no panic and an answer.
            let _ = verify(&req, &auth, &key, now);
        }
    }

    #[test]
    fn whatever_is_signed_verifies(
        path in "(/[a-zA-Z0-9 ._~%-]{0,8}){0,4}",
        query in "([a-zA-Z0-9]{1,5}=[a-zA-Z0-9 %+]{0,6}&){0,3}",
        header_values in prop::collection::vec("[ -~]{0,20}", 0..3),
        body in any::<Vec<u8>>(),
        token in proptest::option::of("[A-Za-z0-9+/=]{1,40}"),
        content_sha in any::<bool>(),
    ) {
        let query = query.trim_end_matches('&').to_owned();
        let now = parse_amz_date("20260102T030405Z").unwrap();
        let names = ["x-a", "x-b", "x-c"];
        let mut headers: Vec<(String, Vec<u8>)> = vec![("Host".into(), b"example.com".to_vec())];
        for (n, v) in names.iter().zip(&header_values) {
            headers.push(((*n).to_owned(), v.clone().into_bytes()));
        }
        let refs: Vec<(&str, &[u8])> = headers.iter().map(|(n, v)| (n.as_str(), v.as_slice())).collect();
        let params = SigningParams { access_key_id: "AKID", session_token: token.as_deref(), region: "us-east-1", service: "svc", now };
        let signable = SignableRequest { method: "POST", path: &path, query: &query, headers: &refs, body: &body };
        let key = SigningKey::derive(SECRET, "20260102", "us-east-1", "svc");

        // Header mode.
        let added = sign_headers(&signable, SECRET, &params, content_sha);
        let mut all = headers.clone();
        all.extend(added.into_iter().map(|(n, v)| (n, v.into_bytes())));
        let refs2: Vec<(&str, &[u8])> = all.iter().map(|(n, v)| (n.as_str(), v.as_slice())).collect();
        let req = Request { method: "POST", path: &path, query: &query, headers: &refs2, payload: PayloadHash::Body(&body) };
        let auth = parse(&req).unwrap();
        prop_assert_eq!(verify(&req, &auth, &key, now), Ok(()));

        // Presigned.
        let q = presign(&signable, SECRET, &params, 60);
        let req = Request { method: "POST", path: &path, query: &q, headers: &refs, payload: PayloadHash::Body(&body) };
        let auth = parse(&req).unwrap();
        prop_assert_eq!(verify(&req, &auth, &key, now), Ok(()));
    }
}
