//! A tiny, fixed (non-random) string hash used to index condition keys and services.
//!
//! The inputs are policy and context keys chosen by the caller, not by a remote attacker that
//! could target collisions in a long-lived table, and every lookup still compares the string.

/// FNV-1a over the bytes.
pub(crate) fn key_hash(s: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in s.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}
