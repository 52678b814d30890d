//! What the store holds per key, and the optimistic checks on writes.

use std::fmt;

/// A live value and its version.
///
/// A key's versions are 1, 2, 3, ... over its whole life, deletes included: a delete leaves a
/// tombstone that keeps the last version, and a key created again continues after it. So a
/// version is never reused (no ABA for `Expect::Version` or version-stamped caches).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub value: Vec<u8>,
    pub version: u64,
}

/// The optimistic check a `put` or `delete` makes before it writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// No check.
    Any,
    /// The key must not hold a live record (create-only).
    Absent,
    /// The key must hold a live record, whatever its version (update-only).
    Present,
    /// The key must hold a live record with exactly this version (compare-and-set).
    Version(u64),
}

impl Expect {
    /// Whether the check holds for a key whose live version is `found` (`None`: absent).
    pub fn holds(self, found: Option<u64>) -> bool {
        match self {
            Expect::Any => true,
            Expect::Absent => found.is_none(),
            Expect::Present => found.is_some(),
            Expect::Version(wanted) => found == Some(wanted),
        }
    }
}

impl fmt::Display for Expect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expect::Any => f.write_str("any"),
            Expect::Absent => f.write_str("no record"),
            Expect::Present => f.write_str("a record"),
            Expect::Version(version) => write!(f, "version {version}"),
        }
    }
}
