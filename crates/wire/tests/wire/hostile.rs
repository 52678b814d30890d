//! Hostile input: errors, never panics, bounded work.
use std::time::Instant;

use serde_json::json;

use crate::{lookup, params};

#[test]
fn deeply_nested_json_is_rejected() {
    let (svc, op) = lookup("kms", "Encrypt");
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    assert_eq!(
        rampart_wire::decode_json(svc, op, deep.as_bytes())
            .unwrap_err()
            .code,
        "SerializationException"
    );
    let deep = format!(
        "{{\"EncryptionContext\":{}1{}}}",
        "{\"a\":".repeat(5000),
        "}".repeat(5000)
    );
    assert_eq!(
        rampart_wire::decode_json(svc, op, deep.as_bytes())
            .unwrap_err()
            .code,
        "SerializationException"
    );
}

#[test]
fn invalid_utf8_is_rejected_or_replaced() {
    let (svc, op) = lookup("kms", "Encrypt");
    let body = b"{\"KeyId\":\"\xff\xfe\",\"Plaintext\":\"AA==\"}";
    assert_eq!(
        rampart_wire::decode_json(svc, op, body).unwrap_err().code,
        "SerializationException"
    );
    let (svc, op) = lookup("iam", "CreateUser");
    let form = rampart_wire::parse_form(b"UserName=al%FFice");
    let e = rampart_wire::decode_query(svc, op, &form).unwrap_err();
    assert_eq!(e.code, "ValidationError");
}

#[test]
fn huge_lists_are_bounded_and_validated() {
    let (svc, op) = lookup("kms", "Encrypt");
    let tokens: Vec<String> = (0..10_000).map(|i| format!("t{i}")).collect();
    let body = json!({"KeyId":"k","Plaintext":"AA==","GrantTokens":tokens}).to_string();
    let start = Instant::now();
    let e = rampart_wire::decode_json(svc, op, body.as_bytes()).unwrap_err();
    assert!(
        e.message
            .contains("Member must have length less than or equal to 10"),
        "{}",
        &e.message[..200]
    );
    assert!(start.elapsed().as_secs() < 5);

    let (svc, op) = lookup("iam", "CreateUser");
    let mut pairs = vec![("UserName".to_owned(), "alice".to_owned())];
    for i in 1..=10_000 {
        pairs.push((format!("Tags.member.{i}.Key"), format!("k{i}")));
        pairs.push((format!("Tags.member.{i}.Value"), "v".to_owned()));
    }
    let start = Instant::now();
    let e = rampart_wire::decode_query(svc, op, &pairs).unwrap_err();
    assert_eq!(e.code, "ValidationError");
    assert!(e.message.contains(
        "at 'tags' failed to satisfy constraint: Member must have length less than or equal to 50"
    ));
    assert!(start.elapsed().as_secs() < 5);
}

#[test]
fn pathological_query_keys_do_not_recurse_or_allocate_by_index() {
    let (svc, op) = lookup("iam", "CreateUser");
    let long_key = format!("Tags{}", ".member.1".repeat(20_000));
    let pairs = vec![
        ("UserName".to_owned(), "a".to_owned()),
        (long_key, "x".to_owned()),
    ];
    assert!(rampart_wire::decode_query(svc, op, &pairs).is_err());
    let pairs = params(&[("UserName", "a"), ("Tags.member.4294967297.Key", "k")]);
    assert_eq!(
        rampart_wire::decode_query(svc, op, &pairs)
            .unwrap_err()
            .code,
        "MalformedInput"
    );
    let pairs = params(&[("UserName", "a"), ("Tags.member.1", "scalar-for-a-struct")]);
    // A scalar where a structure is expected: the item has no members, so Key/Value are missing.
    assert_eq!(
        rampart_wire::decode_query(svc, op, &pairs)
            .unwrap_err()
            .code,
        "ValidationError"
    );
}

#[test]
fn arbitrary_bytes_never_panic() {
    // A tiny deterministic fuzz pass (the real fuzz targets live in fuzz/).
    let ops = [
        ("kms", "Encrypt"),
        ("kms", "CreateKey"),
        ("secretsmanager", "CreateSecret"),
        ("ssm", "PutParameter"),
        ("cloudtrail", "LookupEvents"),
    ];
    let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
    let alphabet = br#"{}[]":,0123456789.eE-+truefalsnul\ "KeyIdPlaintextTagsAA==\u00"#;
    for _ in 0..5_000 {
        let len = (next(&mut seed) % 64) as usize;
        let body: Vec<u8> = (0..len)
            .map(|_| alphabet[(next(&mut seed) % alphabet.len() as u64) as usize])
            .collect();
        for (s, o) in ops {
            let (svc, op) = lookup(s, o);
            let _ = rampart_wire::decode_json(svc, op, &body);
        }
        let (svc, op) = lookup("iam", "CreateUser");
        let _ = rampart_wire::decode_query(svc, op, &rampart_wire::parse_form(&body));
    }
}

fn next(seed: &mut u64) -> u64 {
    *seed ^= *seed << 13;
    *seed ^= *seed >> 7;
    *seed ^= *seed << 17;
    *seed
}
