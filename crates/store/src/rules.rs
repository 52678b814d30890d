//! The rules every backend applies the same way: limits, `Expect` checks, versions and key
//! ranges. Backends call these instead of re-implementing them.

use crate::error::StoreError;
use crate::record::Expect;

/// Longest key accepted, in bytes. Room for an account/region/service/kind prefix plus a full
/// 2048-character ARN as the id.
pub const MAX_KEY_BYTES: usize = 4096;

/// Largest value accepted, in bytes. Far above any AWS payload we store (secrets are 64 KiB);
/// the cap keeps one write from stalling every other writer.
pub const MAX_VALUE_BYTES: usize = 16 * 1024 * 1024;

/// Refuses keys the store cannot hold.
pub fn check_key(key: &str) -> Result<(), StoreError> {
    if key.is_empty() {
        return Err(StoreError::InvalidArgument("empty key".to_owned()));
    }
    // NUL is refused so that every backend can hold keys as text (PostgreSQL text cannot).
    if key.contains('\0') {
        return Err(StoreError::InvalidArgument(
            "key contains a NUL character".to_owned(),
        ));
    }
    if key.len() > MAX_KEY_BYTES {
        return Err(StoreError::InvalidArgument(format!(
            "key of {} bytes exceeds the limit of {MAX_KEY_BYTES}",
            key.len()
        )));
    }
    Ok(())
}

/// Refuses values over the size limit.
pub fn check_value(value: &[u8]) -> Result<(), StoreError> {
    if value.len() > MAX_VALUE_BYTES {
        return Err(StoreError::InvalidArgument(format!(
            "value of {} bytes exceeds the limit of {MAX_VALUE_BYTES}",
            value.len()
        )));
    }
    Ok(())
}

/// Checks `expect` against the live version `found` of `key`.
pub fn check_expect(key: &str, expect: Expect, found: Option<u64>) -> Result<(), StoreError> {
    if expect.holds(found) {
        Ok(())
    } else {
        Err(StoreError::Conflict {
            key: key.to_owned(),
            expected: expect,
            found,
        })
    }
}

/// The version a write gets, given the key's last version (live or tombstone), if any.
pub fn next_version(last: Option<u64>) -> Result<u64, StoreError> {
    match last {
        None => Ok(1),
        Some(version) => version
            .checked_add(1)
            .ok_or_else(|| StoreError::Corrupt("version counter overflow".to_owned())),
    }
}

/// The half-open byte range `[prefix, end)` holding exactly the keys that start with `prefix`;
/// `end` is `None` when the range is unbounded (empty prefix).
///
/// The end is the prefix with its last byte incremented. UTF-8 never contains the byte 0xFF, so
/// the increment never overflows; the end itself may not be UTF-8, which is why backends compare
/// keys as raw bytes (SQLite BLOB, PostgreSQL `bytea` or `COLLATE "C"`).
pub fn prefix_end(prefix: &str) -> Option<Vec<u8>> {
    let mut end = prefix.as_bytes().to_vec();
    while let Some(last) = end.pop() {
        if let Some(bumped) = last.checked_add(1) {
            end.push(bumped);
            return Some(end);
        }
    }
    None
}

/// Where a scan starts: at `prefix` inclusive, or after `start_after` when that lies further on.
pub enum ScanStart<'a> {
    Inclusive(&'a str),
    Exclusive(&'a str),
}

/// The effective start of a scan of `prefix` after `start_after`.
pub fn scan_start<'a>(prefix: &'a str, start_after: Option<&'a str>) -> ScanStart<'a> {
    match start_after {
        Some(after) if after.as_bytes() >= prefix.as_bytes() => ScanStart::Exclusive(after),
        _ => ScanStart::Inclusive(prefix),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_end_bumps_the_last_byte() {
        assert_eq!(prefix_end("a/b"), Some(b"a/c".to_vec()));
        assert_eq!(prefix_end(""), None);
        // U+10FFFF is F4 8F BF BF: the last byte becomes C0.
        assert_eq!(
            prefix_end("x\u{10FFFF}"),
            Some(vec![b'x', 0xF4, 0x8F, 0xBF, 0xC0])
        );
    }

    #[test]
    fn every_key_with_the_prefix_is_inside_the_range() {
        for (prefix, key) in [("a/b", "a/b"), ("a/b", "a/b\u{10FFFF}"), ("é", "é\u{7F}")] {
            let end = prefix_end(prefix).unwrap();
            assert!(key.as_bytes() >= prefix.as_bytes());
            assert!(
                key.as_bytes() < end.as_slice(),
                "{key:?} outside {prefix:?}"
            );
        }
        let end = prefix_end("a/b").unwrap();
        assert!(b"a/c".as_slice() >= end.as_slice());
    }

    #[test]
    fn versions_and_checks() {
        assert_eq!(next_version(None).unwrap(), 1);
        assert_eq!(next_version(Some(7)).unwrap(), 8);
        assert!(next_version(Some(u64::MAX)).is_err());
        assert!(
            check_expect("k", Expect::Absent, Some(1))
                .unwrap_err()
                .is_conflict()
        );
        assert!(check_expect("k", Expect::Version(2), Some(2)).is_ok());
        assert!(check_key("").is_err());
        assert!(check_key("a\0b").is_err());
        assert!(check_key(&"k".repeat(MAX_KEY_BYTES + 1)).is_err());
    }
}
