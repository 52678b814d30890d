//! Everything KMS parses from a caller before the cryptographic core sees it: `KeyId` forms,
//! grant tokens, service envelopes, key policies gaining grant statements, and the tick's index
//! keys. None may panic; parsed key references must stay in the namespace they name.
#![no_main]
use libfuzzer_sys::fuzz_target;
use rampart_kms::resolve::{self, Aliases, KeyRef};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    for aliases in [Aliases::Accepted, Aliases::Refused] {
        if let Ok(r) = resolve::parse(&text, "111122223333", "us-east-1", aliases) {
            match r {
                KeyRef::Key { key_id, account, .. } => {
                    assert!(resolve::is_key_id(&key_id));
                    assert!(account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit()));
                }
                KeyRef::Alias { name, .. } => {
                    assert!(aliases == Aliases::Accepted && name.starts_with("alias/"));
                }
            }
        }
    }
    let _ = rampart_kms::grants::parse_token(&text);
    if let Ok((blob, sealed)) = rampart_kms::internal::split_envelope(data) {
        assert!(blob.len() + sealed.map_or(0, <[u8]>::len) <= data.len());
    }
    let _ = rampart_kms::policy::with_grants(&text, &[], "kms:Decrypt");
    let _ = rampart_kms::tick::parse_due(&text);
});
