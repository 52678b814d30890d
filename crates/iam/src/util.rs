//! Plumbing every IAM handler shares: condition keys, listing pages, tags, documents, paths.
use std::collections::BTreeMap;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use rampart_aws_types::AwsError;
use rampart_services::common::{pagination, records, tags as tag_rules};
use rampart_store::ReadTxn;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use time::OffsetDateTime;

use crate::errors;
use crate::model::Tag;

/// Condition keys an operation supplies, owned; [`Conds::refs`] gives the form `authorize` takes.
#[derive(Debug, Default, Clone)]
pub struct Conds(pub Vec<(String, String)>);

impl Conds {
    pub fn new() -> Conds {
        Conds(Vec::new())
    }

    pub fn push(&mut self, key: impl Into<String>, value: impl Into<String>) -> &mut Self {
        self.0.push((key.into(), value.into()));
        self
    }

    /// `aws:RequestTag/K` for every tag and `aws:TagKeys` for every key.
    pub fn request_tags(&mut self, tags: &[Tag]) -> &mut Self {
        for t in tags {
            self.0
                .push((format!("aws:RequestTag/{}", t.key), t.value.clone()));
        }
        for t in tags {
            self.0.push(("aws:TagKeys".to_string(), t.key.clone()));
        }
        self
    }

    /// `aws:TagKeys` for keys being removed.
    pub fn tag_keys(&mut self, keys: &[String]) -> &mut Self {
        for k in keys {
            self.0.push(("aws:TagKeys".to_string(), k.clone()));
        }
        self
    }

    /// `aws:ResourceTag/K` for the tags the target already has.
    pub fn resource_tags(&mut self, tags: &[Tag]) -> &mut Self {
        for t in tags {
            self.0
                .push((format!("aws:ResourceTag/{}", t.key), t.value.clone()));
        }
        self
    }

    pub fn refs(&self) -> Vec<(&str, &str)> {
        self.0
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect()
    }
}

pub fn epoch(now: OffsetDateTime) -> i64 {
    now.unix_timestamp()
}

/// Checks tags with AWS's rules and merges them into `existing` (IAM: at most 50).
pub fn merge_tags(existing: &[Tag], new: &[Tag]) -> Result<Vec<Tag>, AwsError> {
    let current: BTreeMap<String, String> = existing
        .iter()
        .map(|t| (t.key.clone(), t.value.clone()))
        .collect();
    let pairs: Vec<(String, String)> = new
        .iter()
        .map(|t| (t.key.clone(), t.value.clone()))
        .collect();
    let merged = tag_rules::merge(&current, &pairs, tag_rules::MAX_TAGS).map_err(|v| match v {
        tag_rules::TagViolation::TooMany { .. } => {
            errors::limit_exceeded("The number of tags has reached the maximum limit.")
        }
        tag_rules::TagViolation::DuplicateKey(_) => errors::invalid_input(
            "Duplicate tag keys found. Please note that Tag keys are case insensitive.",
        ),
        other => errors::invalid_input(other.message()),
    })?;
    // Keep the existing order, new keys at the end.
    let mut out: Vec<Tag> = existing
        .iter()
        .map(|t| Tag {
            key: t.key.clone(),
            value: merged.get(&t.key).cloned().unwrap_or_default(),
        })
        .collect();
    for t in new {
        if !out.iter().any(|o| o.key == t.key) {
            out.push(t.clone());
        }
    }
    Ok(out)
}

pub fn remove_tags(existing: &[Tag], keys: &[String]) -> Vec<Tag> {
    existing
        .iter()
        .filter(|t| !keys.contains(&t.key))
        .cloned()
        .collect()
}

/// Tags from the canonical input (`Tags: [{Key, Value}]`).
pub fn input_tags(input: &Value) -> Result<Vec<Tag>, AwsError> {
    match input.get("Tags") {
        Some(v) => serde_json::from_value(v.clone())
            .map_err(|_| errors::invalid_input("Tags are malformed.")),
        None => Ok(Vec::new()),
    }
}

/// A path from input (`/` when absent). The model's pattern already holds.
pub fn input_path(input: &Value, member: &str) -> String {
    input
        .get(member)
        .and_then(Value::as_str)
        .unwrap_or("/")
        .to_string()
}

pub fn str_member<'a>(input: &'a Value, member: &str) -> Option<&'a str> {
    input.get(member).and_then(Value::as_str)
}

/// A required string member (the model already made sure it is there).
pub fn required<'a>(input: &'a Value, member: &str) -> Result<&'a str, AwsError> {
    str_member(input, member).ok_or_else(|| AwsError::validation(format!("{member} is required.")))
}

pub fn bool_member(input: &Value, member: &str) -> Option<bool> {
    input.get(member).and_then(Value::as_bool)
}

pub fn int_member(input: &Value, member: &str) -> Option<i64> {
    input.get(member).and_then(Value::as_i64)
}

/// `MaxItems` (default 100, as IAM).
pub fn max_items(input: &Value) -> usize {
    int_member(input, "MaxItems")
        .and_then(|n| usize::try_from(n).ok())
        .unwrap_or(100)
        .clamp(1, 1000)
}

/// One page of records of type `T` under `prefix` that pass `keep`.
pub fn list_page<T: DeserializeOwned>(
    tx: &mut dyn ReadTxn,
    prefix: &str,
    marker: Option<&str>,
    max_items: usize,
    keep: impl Fn(&T) -> bool,
) -> Result<(Vec<T>, Option<String>), AwsError> {
    let (items, next) = pagination::page(
        tx,
        prefix,
        marker,
        max_items,
        errors::invalid_marker,
        |key, record| {
            records::decode::<T>(key, &record.value)
                .map(|t| keep(&t))
                .unwrap_or(false)
        },
    )?;
    let mut out = Vec::with_capacity(items.len());
    for (key, record) in items {
        out.push(records::decode::<T>(&key, &record.value)?);
    }
    Ok((out, next))
}

/// Pages through an in-memory, already sorted list with the same Marker form (the index of the
/// next item, opaque to callers).
pub fn page_vec<T>(
    items: Vec<T>,
    marker: Option<&str>,
    max_items: usize,
) -> Result<(Vec<T>, Option<String>), AwsError> {
    let start = match marker {
        Some(m) => pagination::decode_token("idx/", m)
            .and_then(|k| k.strip_prefix("idx/").and_then(|n| n.parse::<usize>().ok()))
            .ok_or_else(errors::invalid_marker)?,
        None => 0,
    };
    let total = items.len();
    let page: Vec<T> = items.into_iter().skip(start).take(max_items).collect();
    let end = start.saturating_add(page.len());
    let next = (end < total).then(|| pagination::encode_token("idx/", &format!("idx/{end}")));
    Ok((page, next))
}

/// Adds `IsTruncated` and `Marker` to a list output.
pub fn with_marker(mut out: Value, next: Option<String>) -> Value {
    if let Some(obj) = out.as_object_mut() {
        obj.insert("IsTruncated".into(), Value::Bool(next.is_some()));
        if let Some(m) = next {
            obj.insert("Marker".into(), Value::String(m));
        }
    }
    out
}

/// Policy documents leave IAM URL-encoded (RFC 3986), as AWS returns them; botocore and the
/// CLI decode them.
pub fn encode_document(document: &str) -> String {
    const SET: &AsciiSet = &NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'_')
        .remove(b'.')
        .remove(b'~');
    utf8_percent_encode(document, SET).to_string()
}

/// A path prefix filter (`PathPrefix`, default `/`).
pub fn path_matches(path: &str, prefix: Option<&str>) -> bool {
    prefix.is_none_or(|p| path.starts_with(p))
}

pub fn boundary_json(arn: &Option<String>) -> Option<Value> {
    arn.as_ref().map(|a| {
        json!({"PermissionsBoundaryType": "PermissionsBoundaryPolicy", "PermissionsBoundaryArn": a})
    })
}

/// Sets `key` in `obj` only when `value` is `Some`.
pub fn put_opt(obj: &mut Value, key: &str, value: Option<Value>) {
    if let (Some(map), Some(v)) = (obj.as_object_mut(), value) {
        map.insert(key.to_string(), v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_are_encoded_as_aws_does() {
        let doc = r#"{"Version": "2012-10-17"}"#;
        assert_eq!(
            encode_document(doc),
            "%7B%22Version%22%3A%20%222012-10-17%22%7D"
        );
    }

    #[test]
    fn vector_pages_cover_everything_once() {
        let items: Vec<u32> = (0..25).collect();
        let (a, m) = page_vec(items.clone(), None, 10).unwrap();
        assert_eq!(a.len(), 10);
        let (b, m) = page_vec(items.clone(), m.as_deref(), 10).unwrap();
        let (c, m) = page_vec(items.clone(), m.as_deref(), 10).unwrap();
        assert_eq!(c.len(), 5);
        assert!(m.is_none());
        assert_eq!([a, b, c].concat(), items);
        assert!(page_vec(items, Some("garbage!"), 10).is_err());
    }

    #[test]
    fn tags_merge_and_enforce_rules() {
        let t = |k: &str, v: &str| Tag {
            key: k.into(),
            value: v.into(),
        };
        let merged = merge_tags(&[t("a", "1")], &[t("b", "2"), t("a", "3")]).unwrap();
        assert_eq!(merged, vec![t("a", "3"), t("b", "2")]);
        assert_eq!(
            merge_tags(&[], &[t("aws:x", "1")]).unwrap_err().code,
            "InvalidInput"
        );
        let many: Vec<Tag> = (0..51).map(|i| t(&format!("k{i}"), "")).collect();
        assert_eq!(merge_tags(&[], &many).unwrap_err().code, "LimitExceeded");
    }
}
