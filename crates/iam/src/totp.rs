//! RFC 6238 TOTP (HMAC-SHA-1, 30-second steps, 6 digits: what authenticator apps and AWS's
//! virtual MFA use), Base32 seeds, and the otpauth:// URI. HMAC comes from aws-lc-rs.
use aws_lc_rs::hmac;
use time::OffsetDateTime;

pub const STEP_SECONDS: i64 = 30;
const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// RFC 4648 Base32 without padding (seeds are whole 5-byte groups, so nothing is lost).
pub fn base32_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 8 / 5 + 1);
    let mut buffer: u32 = 0;
    let mut bits = 0u32;
    for b in bytes {
        buffer = (buffer << 8) | u32::from(*b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            let idx = ((buffer >> bits) & 31) as usize;
            out.push(ALPHABET.get(idx).copied().unwrap_or(b'A') as char);
        }
    }
    if bits > 0 {
        let idx = ((buffer << (5 - bits)) & 31) as usize;
        out.push(ALPHABET.get(idx).copied().unwrap_or(b'A') as char);
    }
    out
}

pub fn base32_decode(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let mut buffer: u32 = 0;
    let mut bits = 0u32;
    for c in text.bytes().filter(|c| *c != b'=') {
        let v = ALPHABET.iter().position(|a| *a == c.to_ascii_uppercase())? as u32;
        buffer = (buffer << 5) | v;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push(((buffer >> bits) & 0xff) as u8);
        }
    }
    Some(out)
}

/// The time step `now` falls in.
pub fn step_of(now: OffsetDateTime) -> u64 {
    u64::try_from(now.unix_timestamp().div_euclid(STEP_SECONDS)).unwrap_or(0)
}

/// The 6-digit code for `step` (RFC 4226 dynamic truncation).
pub fn code(secret: &[u8], step: u64) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, secret);
    let tag = hmac::sign(&key, &step.to_be_bytes());
    let mac = tag.as_ref();
    let offset = usize::from(mac.last().copied().unwrap_or(0) & 0x0f);
    let word = mac
        .get(offset..offset + 4)
        .and_then(|w| <[u8; 4]>::try_from(w).ok())
        .map_or(0, u32::from_be_bytes);
    format!("{:06}", (word & 0x7fff_ffff) % 1_000_000)
}

/// How far back (in steps) a pair of codes may lie: AWS accepts codes typed a few minutes late.
pub const LOOKBACK_STEPS: u64 = 10;

/// The step of `first` when `first` and `second` are the codes of two consecutive steps near
/// `now` and both lie after `last_used` (a code is never accepted twice).
pub fn consecutive(
    secret: &[u8],
    first: &str,
    second: &str,
    now: OffsetDateTime,
    last_used: u64,
) -> Option<u64> {
    let current = step_of(now);
    let earliest = current
        .saturating_sub(LOOKBACK_STEPS)
        .max(last_used.saturating_add(1));
    (earliest..=current.saturating_add(1))
        .find(|s| code(secret, *s) == first && code(secret, s.saturating_add(1)) == second)
}

/// The otpauth:// URI authenticator apps read from the QR code.
pub fn otpauth_uri(label: &str, seed_base32: &str) -> String {
    let enc = |s: &str| {
        percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
    };
    format!(
        "otpauth://totp/{}?secret={seed_base32}&issuer={}",
        enc(&format!("Rampart:{label}")),
        enc("Rampart")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 appendix B, SHA-1 column (8 digits there; the last 6 are the 6-digit code).
    #[test]
    fn rfc6238_vectors() {
        let secret = b"12345678901234567890";
        for (t, eight) in [
            (59i64, "94287082"),
            (1_111_111_109, "07081804"),
            (1_111_111_111, "14050471"),
            (1_234_567_890, "89005924"),
            (2_000_000_000, "69279037"),
            (20_000_000_000, "65353130"),
        ] {
            let now = OffsetDateTime::from_unix_timestamp(t).unwrap();
            assert_eq!(code(secret, step_of(now)), eight[2..], "t={t}");
        }
    }

    #[test]
    fn base32_round_trips() {
        assert_eq!(base32_encode(b"foobar"), "MZXW6YTBOI");
        assert_eq!(base32_decode("MZXW6YTBOI").unwrap(), b"foobar");
        let bytes: Vec<u8> = (0..40).collect();
        assert_eq!(base32_decode(&base32_encode(&bytes)).unwrap(), bytes);
        assert!(base32_decode("not base32!").is_none());
    }

    #[test]
    fn consecutive_codes_are_found_once() {
        let secret = b"12345678901234567890";
        let now = OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap();
        let s = step_of(now);
        let (a, b) = (code(secret, s - 1), code(secret, s));
        assert_eq!(consecutive(secret, &a, &b, now, 0), Some(s - 1));
        // Already used: refused.
        assert_eq!(consecutive(secret, &a, &b, now, s), None);
        // Not consecutive.
        assert_eq!(consecutive(secret, &b, &a, now, 0), None);
        // Too old.
        let (c, d) = (code(secret, s - 20), code(secret, s - 19));
        assert_eq!(consecutive(secret, &c, &d, now, 0), None);
    }
}
