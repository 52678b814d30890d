//! Everything Secrets Manager parses from callers that the model does not already constrain:
//! secret ids, schedule expressions (and the next-window search), filters, resource policies,
//! password specs. None may panic.
#![no_main]
use libfuzzer_sys::fuzz_target;
use rampart_secretsmanager::{filters, password, record, resource_policy, schedule};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let r = record::parse_secret_id(text, "111122223333", "us-east-1");
    let _ = record::account_region(text);
    assert!(!r.candidates.is_empty());
    if let Ok(s) = schedule::parse_expression(text) {
        let _ = schedule::next_after(&s, time::OffsetDateTime::UNIX_EPOCH);
    }
    if let Ok(v) = serde_json::from_str::<serde_json::Value>(text) {
        let _ = schedule::parse_rules(&v);
        let f = filters::parse(&serde_json::json!({ "Filters": v }));
        let _ = f.len();
    }
    if let Ok(p) = resource_policy::parse(text) {
        let _ = resource_policy::is_public(&p);
        let _ = resource_policy::findings(&p);
    }
    if let [len_hi, len_lo, flags, rest @ ..] = data {
        let spec = password::PasswordSpec {
            length: usize::from(u16::from_be_bytes([*len_hi, *len_lo]) % 5000),
            exclude_characters: String::from_utf8_lossy(rest).into_owned(),
            exclude_numbers: flags & 1 != 0,
            exclude_punctuation: flags & 2 != 0,
            exclude_uppercase: flags & 4 != 0,
            exclude_lowercase: flags & 8 != 0,
            include_space: flags & 16 != 0,
            require_each_included_type: flags & 32 != 0,
        };
        if let Ok(p) = password::generate(&spec) {
            assert_eq!(p.chars().count(), spec.length);
            assert!(!p.chars().any(|c| spec.exclude_characters.contains(c)));
        }
    }
});
