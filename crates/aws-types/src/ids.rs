//! Generators for AWS-shaped identifiers. All randomness comes from aws-lc-rs's CSPRNG.
use aws_lc_rs::rand::{SecureRandom, SystemRandom};

use crate::AwsError;

/// Characters AWS uses in access key ids and unique ids (base32-like upper case + digits 2-7).
const ID_ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
const SECRET_ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

pub fn random_bytes<const N: usize>() -> Result<[u8; N], AwsError> {
    let mut out = [0u8; N];
    SystemRandom::new()
        .fill(&mut out)
        .map_err(|_| AwsError::internal("random number generator failure"))?;
    Ok(out)
}

fn random_from(alphabet: &[u8], len: usize) -> Result<String, AwsError> {
    // 64-entry and 32-entry alphabets divide 256 evenly, so `b % len` has no modulo bias.
    debug_assert!(256 % alphabet.len() == 0);
    let mut buf = vec![0u8; len];
    SystemRandom::new()
        .fill(&mut buf)
        .map_err(|_| AwsError::internal("random number generator failure"))?;
    Ok(buf
        .iter()
        .map(|b| {
            alphabet
                .get(usize::from(*b) % alphabet.len())
                .copied()
                .unwrap_or(b'A') as char
        })
        .collect())
}

/// An id of AWS's 20/21-character form: a 4-letter prefix (`AKIA`, `ASIA`, `AIDA`, `AROA`, ...)
/// followed by random characters.
pub fn prefixed_id(prefix: &str, total_len: usize) -> Result<String, AwsError> {
    let rest = random_from(ID_ALPHABET, total_len.saturating_sub(prefix.len()))?;
    Ok(format!("{prefix}{rest}"))
}

/// Long-term access key id (`AKIA` + 16) of `account`.
pub fn access_key_id(account: &str) -> Result<String, AwsError> {
    key_id_for("AKIA", account)
}

/// Temporary access key id (`ASIA` + 16) of `account`.
pub fn temporary_access_key_id(account: &str) -> Result<String, AwsError> {
    key_id_for("ASIA", account)
}

/// As AWS does, the 16 characters after the prefix encode the owning account (40 bits) and 40
/// random bits in base32, so `sts:GetAccessKeyInfo` can answer without a lookup.
fn key_id_for(prefix: &str, account: &str) -> Result<String, AwsError> {
    let account: u64 = account
        .parse()
        .map_err(|_| AwsError::internal("account id is not numeric"))?;
    let random = random_bytes::<5>()?
        .iter()
        .fold(0u128, |acc, b| (acc << 8) | u128::from(*b));
    // 80 bits: the account in the high 40, random in the low 40.
    let value = (u128::from(account & 0xff_ffff_ffff) << 40) | random;
    let mut out = String::with_capacity(20);
    out.push_str(prefix);
    for i in (0..16).rev() {
        let index = ((value >> (i * 5)) & 0x1f) as usize;
        out.push(ID_ALPHABET.get(index).copied().unwrap_or(b'A') as char);
    }
    Ok(out)
}

/// The account an access key id belongs to, decoded from the id itself.
pub fn account_of_access_key_id(id: &str) -> Option<String> {
    let body = id.get(4..)?;
    if id.len() != 20 || !(id.starts_with("AKIA") || id.starts_with("ASIA")) {
        return None;
    }
    let mut value: u128 = 0;
    for c in body.bytes() {
        let index = ID_ALPHABET.iter().position(|&a| a == c)?;
        value = (value << 5) | index as u128;
    }
    let account = (value >> 40) & 0xff_ffff_ffff;
    let text = format!("{account:012}");
    crate::is_account_id(&text).then_some(text)
}

/// IAM unique id such as `AIDA` + 17 characters (21 in total, as AWS forms them).
pub fn unique_id(prefix: &str) -> Result<String, AwsError> {
    prefixed_id(prefix, 21)
}

/// 40-character secret access key.
pub fn secret_access_key() -> Result<String, AwsError> {
    random_from(SECRET_ALPHABET, 40)
}

/// A random 12-digit account id that does not start with 0.
pub fn account_id() -> Result<String, AwsError> {
    let bytes = random_bytes::<16>()?;
    let mut n = u128::from_le_bytes(bytes) % 900_000_000_000;
    n += 100_000_000_000;
    Ok(n.to_string())
}

/// A request id in AWS's UUID form (random, version 4).
pub fn request_id() -> Result<String, AwsError> {
    let mut b = random_bytes::<16>()?;
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex::encode(b);
    Ok(format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn access_keys_have_aws_shape() {
        let a = access_key_id("123456789012").unwrap();
        assert_eq!(a.len(), 20);
        assert!(a.starts_with("AKIA"));
        assert!(a.bytes().all(|b| ID_ALPHABET.contains(&b)));
        assert_ne!(a, access_key_id("123456789012").unwrap());
        assert_eq!(
            account_of_access_key_id(&a).as_deref(),
            Some("123456789012")
        );
        let t = temporary_access_key_id("000000000001").unwrap();
        assert!(t.starts_with("ASIA"));
        assert_eq!(
            account_of_access_key_id(&t).as_deref(),
            Some("000000000001")
        );
        assert_eq!(account_of_access_key_id("AKIA0000000000000000"), None);
        assert_eq!(account_of_access_key_id("short"), None);
        let s = secret_access_key().unwrap();
        assert_eq!(s.len(), 40);
        assert_eq!(unique_id("AIDA").unwrap().len(), 21);
    }

    #[test]
    fn account_ids_are_twelve_digits() {
        for _ in 0..100 {
            let id = account_id().unwrap();
            assert!(crate::is_account_id(&id), "{id}");
            assert!(!id.starts_with('0'));
        }
    }

    #[test]
    fn request_ids_are_uuid_v4() {
        let r = request_id().unwrap();
        assert_eq!(r.len(), 36);
        assert_eq!(r.as_bytes()[14], b'4');
        assert_eq!(r.matches('-').count(), 4);
    }
}
