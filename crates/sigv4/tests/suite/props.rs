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

/// What a mutation does to a signed vector request, and whether the verifier must still
/// accept it.
#[derive(Debug, Clone)]
enum Mutation {
    /// Changes one byte of the body (always covered by the payload hash).
    BodyByte(usize, u8),
    /// Changes one non-whitespace byte of a signed header's value to another one.
    SignedHeaderByte(usize, usize, u8),
    /// Appends to a query parameter value (not X-Amz-Signature).
    QueryValue(usize, String),
    /// Changes the method.
    Method(String),
    /// Harmless: header name case, padding around a value, an unsigned header, order.
    UpperCaseNames,
    PadValues,
    AddUnsignedHeader(String),
    ReverseHeaders,
}

impl Mutation {
    fn harmless(&self) -> bool {
        matches!(
            self,
            Self::UpperCaseNames
                | Self::PadValues
                | Self::AddUnsignedHeader(_)
                | Self::ReverseHeaders
        )
    }
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Mutation::BodyByte(i, b)),
        (any::<usize>(), any::<usize>(), b'!'..=b'~')
            .prop_map(|(h, i, b)| Mutation::SignedHeaderByte(h, i, b)),
        (any::<usize>(), "[a-zA-Z0-9%~]{1,4}").prop_map(|(i, s)| Mutation::QueryValue(i, s)),
        prop_oneof![Just("PUT"), Just("DELETE"), Just("get"), Just("HEAD")]
            .prop_map(|m| Mutation::Method(m.to_owned())),
        Just(Mutation::UpperCaseNames),
        Just(Mutation::PadValues),
        "x-unsigned-[a-z]{1,6}".prop_map(Mutation::AddUnsignedHeader),
        Just(Mutation::ReverseHeaders),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1500))]

    /// Mutating a real signed request: changes to anything signed are refused, cosmetic
    /// changes AWS tolerates are accepted, nothing panics.
    #[test]
    fn mutated_vectors_are_judged_correctly(
        case_index in any::<usize>(),
        presigned in any::<bool>(),
        m in mutation(),
    ) {
        use crate::vectors::{case_names, clock, key, read};
        use crate::wire::{WireRequest, with_request};
        let cases = case_names();
        let case = &cases[case_index % cases.len()];
        let file = if presigned { "query-signed-request.txt" } else { "header-signed-request.txt" };
        let mut w = WireRequest::parse(&read(case, file));
        let auth = with_request(&w, |req| parse(req).unwrap());

        let applied = match &m {
            Mutation::BodyByte(i, b) => {
                if w.body.is_empty() {
                    w.body.push(*b);
                } else {
                    let i = i % w.body.len();
                    w.body[i] = w.body[i].wrapping_add(b | 1);
                }
                true
            }
            Mutation::SignedHeaderByte(h, i, b) => {
                let signed: Vec<usize> = (0..w.headers.len())
                    .filter(|&k| auth.signed_headers.contains(&w.headers[k].0.to_ascii_lowercase()))
                    .collect();
                let k = signed[h % signed.len()];
                let value = &mut w.headers[k].1;
                let spots: Vec<usize> = (0..value.len()).filter(|&j| !value[j].is_ascii_whitespace()).collect();
                if spots.is_empty() || value[spots[i % spots.len()]] == *b {
                    false
                } else {
                    value[spots[i % spots.len()]] = *b;
                    true
                }
            }
            Mutation::QueryValue(i, extra) => {
                let mut parts: Vec<String> = w.query.split('&').filter(|p| !p.is_empty()).map(str::to_owned).collect();
                let candidates: Vec<usize> = (0..parts.len())
                    .filter(|&k| !parts[k].starts_with("X-Amz-Signature="))
                    // That case's token was added after signing: it is not signed, by design.
                    .filter(|&k| !(case == "post-sts-header-after" && parts[k].starts_with("X-Amz-Security-Token=")))
                    .collect();
                if candidates.is_empty() {
                    parts.push(format!("new={extra}"));
                } else {
                    let k = candidates[i % candidates.len()];
                    if !parts[k].contains('=') { parts[k].push('='); }
                    parts[k].push_str(extra);
                }
                w.query = parts.join("&");
                true
            }
            Mutation::Method(method) => { w.method = method.clone(); true }
            Mutation::UpperCaseNames => {
                for (n, _) in &mut w.headers { *n = n.to_ascii_uppercase(); }
                true
            }
            Mutation::PadValues => {
                for (_, v) in &mut w.headers {
                    let mut padded = b"  \t".to_vec();
                    padded.extend_from_slice(v);
                    padded.extend_from_slice(b" \t ");
                    *v = padded;
                }
                true
            }
            Mutation::AddUnsignedHeader(name) => {
                w.headers.push((name.clone(), b"whatever".to_vec()));
                true
            }
            Mutation::ReverseHeaders => {
                // Repeated headers keep their relative order (it is significant), so only
                // requests without repeated names are reordered.
                let mut names: Vec<String> = w.headers.iter().map(|(n, _)| n.to_ascii_lowercase()).collect();
                let count = names.len();
                names.sort();
                names.dedup();
                if names.len() == count {
                    w.headers.reverse();
                    true
                } else {
                    false
                }
            }
        };
        prop_assume!(applied);
        let outcome = with_request(&w, |req| {
            let auth = parse(req)?;
            verify(req, &auth, &key(), clock())
        });
        if m.harmless() {
            prop_assert_eq!(outcome, Ok(()), "{} {:?}", case, m);
        } else {
            prop_assert!(outcome.is_err(), "{} {:?} was accepted", case, m);
        }
    }
}
