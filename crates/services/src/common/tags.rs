//! AWS's tag rules, shared by every taggable service. Each service maps a violation to its own
//! error code (IAM `InvalidInput`/`LimitExceeded`, KMS `TagException`, ...).
use std::collections::BTreeMap;

pub const MAX_TAGS: usize = 50;
pub const MAX_KEY_CHARS: usize = 128;
pub const MAX_VALUE_CHARS: usize = 256;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TagViolation {
    TooMany { limit: usize },
    EmptyKey,
    KeyTooLong(String),
    ValueTooLong(String),
    BadCharacters(String),
    ReservedPrefix(String),
    DuplicateKey(String),
}

impl TagViolation {
    pub fn message(&self) -> String {
        match self {
            TagViolation::TooMany { limit } => {
                format!("The number of tags exceeds the limit of {limit}.")
            }
            TagViolation::EmptyKey => "A tag key must not be empty.".to_string(),
            TagViolation::KeyTooLong(k) => {
                format!("The tag key '{k}' is longer than {MAX_KEY_CHARS} characters.")
            }
            TagViolation::ValueTooLong(k) => {
                format!("The value of tag '{k}' is longer than {MAX_VALUE_CHARS} characters.")
            }
            TagViolation::BadCharacters(k) => format!(
                "The tag '{k}' contains characters that are not allowed. Tags may contain letters, digits, spaces and _ . : / = + - @"
            ),
            TagViolation::ReservedPrefix(k) => {
                format!("The tag key '{k}' uses the reserved prefix 'aws:'.")
            }
            TagViolation::DuplicateKey(k) => format!("Duplicate tag key '{k}'."),
        }
    }
}

fn allowed_char(c: char) -> bool {
    c.is_alphanumeric() || c.is_whitespace() || "_.:/=+-@".contains(c)
}

/// Checks one tag.
pub fn check(key: &str, value: &str) -> Result<(), TagViolation> {
    if key.is_empty() {
        return Err(TagViolation::EmptyKey);
    }
    if key.chars().count() > MAX_KEY_CHARS {
        return Err(TagViolation::KeyTooLong(
            key.chars().take(MAX_KEY_CHARS).collect(),
        ));
    }
    if value.chars().count() > MAX_VALUE_CHARS {
        return Err(TagViolation::ValueTooLong(key.to_string()));
    }
    if !key.chars().all(allowed_char) || !value.chars().all(allowed_char) {
        return Err(TagViolation::BadCharacters(key.to_string()));
    }
    if key.len() >= 4 && key.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("aws:")) {
        return Err(TagViolation::ReservedPrefix(key.to_string()));
    }
    Ok(())
}

/// Merges `new` tags into `existing` (new values win), enforcing every rule and the count limit.
pub fn merge(
    existing: &BTreeMap<String, String>,
    new: &[(String, String)],
    limit: usize,
) -> Result<BTreeMap<String, String>, TagViolation> {
    let mut seen = std::collections::HashSet::new();
    let mut merged = existing.clone();
    for (k, v) in new {
        check(k, v)?;
        if !seen.insert(k.as_str()) {
            return Err(TagViolation::DuplicateKey(k.clone()));
        }
        merged.insert(k.clone(), v.clone());
    }
    if merged.len() > limit {
        return Err(TagViolation::TooMany { limit });
    }
    Ok(merged)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules() {
        assert!(check("env", "prod").is_ok());
        assert!(check("a b:c/d=e+f-g@h_i.j", "").is_ok());
        assert_eq!(check("", "x"), Err(TagViolation::EmptyKey));
        assert!(matches!(
            check("AWS:thing", "x"),
            Err(TagViolation::ReservedPrefix(_))
        ));
        assert!(matches!(
            check(&"k".repeat(129), "x"),
            Err(TagViolation::KeyTooLong(_))
        ));
        assert!(matches!(
            check("k", &"v".repeat(257)),
            Err(TagViolation::ValueTooLong(_))
        ));
        assert!(matches!(
            check("k", "semi;colon"),
            Err(TagViolation::BadCharacters(_))
        ));
        let many: Vec<(String, String)> =
            (0..51).map(|i| (format!("k{i}"), String::new())).collect();
        assert_eq!(
            merge(&BTreeMap::new(), &many, MAX_TAGS),
            Err(TagViolation::TooMany { limit: 50 })
        );
        let dup = vec![
            ("a".to_string(), "1".to_string()),
            ("a".to_string(), "2".to_string()),
        ];
        assert!(matches!(
            merge(&BTreeMap::new(), &dup, MAX_TAGS),
            Err(TagViolation::DuplicateKey(_))
        ));
    }
}
