//! Arbitrary bytes -> a request -> parse + verify. Must never panic.
//!
//! Input format (the same as the test vectors' `*-signed-request.txt`, so they seed the
//! corpus): `METHOD path?query` on the first line, `Name:value` header lines, an empty line,
//! then the body. The clock is set to the request's own X-Amz-Date (plus a skew taken from
//! the input length) so fuzzing reaches the canonicalisation and HMAC code, not just the
//! clock check.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rampart_sigv4::{PayloadHash, Request, SigningKey, parse, verify};

fuzz_target!(|data: &[u8]| {
    let (head, body) = match data.windows(2).position(|w| w == b"\n\n") {
        Some(i) => (&data[..i], &data[i + 2..]),
        None => (data, &[][..]),
    };
    let mut lines = head.split(|&b| b == b'\n');
    let first = String::from_utf8_lossy(lines.next().unwrap_or_default()).into_owned();
    let (method, uri) = first.split_once(' ').unwrap_or((first.as_str(), "/"));
    let uri = uri.strip_suffix(" HTTP/1.1").unwrap_or(uri);
    let (path, query) = uri.split_once('?').unwrap_or((uri, ""));

    let mut names: Vec<String> = Vec::new();
    let mut values: Vec<&[u8]> = Vec::new();
    for line in lines {
        let (name, value) = match line.iter().position(|&b| b == b':') {
            Some(i) => (&line[..i], &line[i + 1..]),
            None => (line, &[][..]),
        };
        names.push(String::from_utf8_lossy(name).into_owned());
        values.push(value);
    }
    let headers: Vec<(&str, &[u8])> = names.iter().map(String::as_str).zip(values).collect();

    let payload = if data.len() % 7 == 3 && body.len() >= 32 {
        let mut d = [0u8; 32];
        d.copy_from_slice(&body[..32]);
        PayloadHash::Sha256(d)
    } else {
        PayloadHash::Body(body)
    };
    let req = Request { method, path, query, headers: &headers, payload };
    if let Ok(auth) = parse(&req) {
        let _ = format!("{auth:?}");
        let key = SigningKey::derive(
            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            &auth.credential.date,
            &auth.credential.region,
            &auth.credential.service,
        );
        let skew = time::Duration::seconds((data.len() as i64 % 2000) - 1000);
        if let Err(e) = verify(&req, &auth, &key, auth.amz_date + skew) {
            let _ = (e.message(), e.code_for_json(), e.code_for_query());
        }
    } else if let Err(e) = parse(&req) {
        let _ = e.message();
    }
});
