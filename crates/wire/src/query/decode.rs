//! Form parameters -> canonical input value.
//!
//! The parameters are sorted once; every lookup the shape walk makes (`UserName`,
//! `Tags.member.<N>.Key`) is a binary search, so no tree of the raw keys is ever built and a
//! hostile key (`Tags.member.99999999999`, ten thousand dots) costs no more than its own bytes.
use std::collections::BTreeSet;

use rampart_aws_types::AwsError;
use serde_json::{Map, Number, Value};

use super::MALFORMED_INPUT;
use crate::json::check_base64;
use crate::model::{NumberKind, Operation, ServiceModel, ShapeId, ShapeKind};
use crate::{timestamp, validate};

/// Structures nested deeper than this are refused (recursive shapes would otherwise let a long
/// key recurse without bound).
const MAX_DEPTH: usize = 32;

/// Decodes awsQuery parameters into the canonical input value. `Action` and `Version` are
/// ignored, as are parameters the model does not know (AWS ignores them too). If a parameter is
/// repeated, its first value wins.
pub fn decode_query(
    svc: &ServiceModel,
    op: &Operation,
    params: &[(String, String)],
) -> Result<Value, AwsError> {
    let Some(input) = op.input else {
        return Ok(Value::Object(Map::new()));
    };
    let mut sorted: Vec<(&str, &str)> = params
        .iter()
        .filter(|(k, _)| k != "Action" && k != "Version")
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    // Stable sort + dedup keeps the first occurrence of a repeated key.
    sorted.sort_by(|a, b| a.0.cmp(b.0));
    sorted.dedup_by(|later, earlier| later.0 == earlier.0);
    let decoder = Decoder {
        svc,
        params: sorted,
    };
    let value = decoder
        .shape(input, "", 0)?
        .unwrap_or_else(|| Value::Object(Map::new()));
    validate::validate(svc, input, &value)?;
    Ok(value)
}

fn malformed(message: impl Into<String>) -> AwsError {
    AwsError::new(MALFORMED_INPUT, 400, message)
}

fn join(prefix: &str, name: &str) -> String {
    if prefix.is_empty() {
        name.to_owned()
    } else {
        let mut s = String::with_capacity(prefix.len() + 1 + name.len());
        s.push_str(prefix);
        s.push('.');
        s.push_str(name);
        s
    }
}

struct Decoder<'a> {
    svc: &'a ServiceModel,
    params: Vec<(&'a str, &'a str)>,
}

impl<'a> Decoder<'a> {
    fn get(&self, key: &str) -> Option<&'a str> {
        self.params
            .binary_search_by(|(k, _)| (*k).cmp(key))
            .ok()
            .and_then(|i| self.params.get(i))
            .map(|(_, v)| *v)
    }

    /// Keys strictly below `prefix` (`prefix.` + something), as a slice.
    fn under(&self, prefix: &str) -> &[(&'a str, &'a str)] {
        let dotted = format!("{prefix}.");
        let start = self.params.partition_point(|(k, _)| *k < dotted.as_str());
        let rest = self.params.get(start..).unwrap_or(&[]);
        let len = rest.partition_point(|(k, _)| k.starts_with(&dotted));
        rest.get(..len).unwrap_or(&[])
    }

    /// The item numbers used below `prefix` (`prefix.<N>...`); they must be exactly 1..=n.
    fn indices(&self, prefix: &str) -> Result<usize, AwsError> {
        let mut seen = BTreeSet::new();
        for (key, _) in self.under(prefix) {
            let rest = key.get(prefix.len() + 1..).unwrap_or("");
            let segment = rest.split('.').next().unwrap_or("");
            let valid = !segment.is_empty()
                && segment.len() <= 9
                && segment.bytes().all(|b| b.is_ascii_digit())
                && !segment.starts_with('0');
            let index: usize = match segment.parse() {
                Ok(i) if valid => i,
                _ => {
                    return Err(malformed(format!(
                        "Invalid list or map index in parameter '{key}'"
                    )));
                }
            };
            seen.insert(index);
        }
        let n = seen.len();
        match seen.last() {
            Some(&max) if max != n => Err(malformed(format!(
                "Index {max} in parameter '{prefix}.{max}' leaves a gap: items must be numbered 1 to {n}"
            ))),
            _ => Ok(n),
        }
    }

    fn shape(&self, id: ShapeId, key: &str, depth: usize) -> Result<Option<Value>, AwsError> {
        if depth > MAX_DEPTH {
            return Err(malformed("The request nests parameters too deeply"));
        }
        let shape = self.svc.shape(id);
        match &shape.kind {
            ShapeKind::Structure(s) => {
                if depth > 0 && self.under(key).is_empty() {
                    return Ok(None);
                }
                let mut obj = Map::new();
                for m in &s.members {
                    let child = join(key, m.wire_name());
                    let decoded = if m.flattened {
                        self.flattened_member(m.shape, &child, depth + 1)?
                    } else {
                        self.shape(m.shape, &child, depth + 1)?
                    };
                    if let Some(v) = decoded {
                        obj.insert(m.name.to_string(), v);
                    }
                }
                Ok(Some(Value::Object(obj)))
            }
            ShapeKind::List(list) if list.flattened => self.flattened_member(id, key, depth),
            ShapeKind::List(list) => {
                let items = join(key, list.member_name.as_deref().unwrap_or("member"));
                self.list(list.member, key, &items, depth)
            }
            ShapeKind::Map(map) => {
                let entries = if map.flattened {
                    key.to_owned()
                } else {
                    join(key, "entry")
                };
                self.map(id, key, &entries, depth)
            }
            _ => match self.get(key) {
                Some(text) => scalar(&shape.kind, key, text, shape.sensitive).map(Some),
                None => Ok(None),
            },
        }
    }

    /// A member whose list/map items are not wrapped (`Name.1`, `Name.1.key`).
    fn flattened_member(
        &self,
        id: ShapeId,
        key: &str,
        depth: usize,
    ) -> Result<Option<Value>, AwsError> {
        match &self.svc.shape(id).kind {
            ShapeKind::List(list) => {
                // botocore replaces the member's own name by the item's locationName, if any.
                let items = match (&list.member_name, key.rsplit_once('.')) {
                    (Some(name), Some((parent, _))) => join(parent, name),
                    (Some(name), None) => name.to_string(),
                    (None, _) => key.to_owned(),
                };
                self.list(list.member, key, &items, depth)
            }
            ShapeKind::Map(_) => self.map(id, key, key, depth),
            _ => self.shape(id, key, depth),
        }
    }

    fn list(
        &self,
        member: ShapeId,
        key: &str,
        items: &str,
        depth: usize,
    ) -> Result<Option<Value>, AwsError> {
        let n = self.indices(items)?;
        if n == 0 {
            // botocore sends an empty list as `Name=` with no items.
            return match self.get(key) {
                Some("") => Ok(Some(Value::Array(Vec::new()))),
                Some(_) => Err(malformed(format!(
                    "Parameter '{key}' is a list and cannot take a single value"
                ))),
                None => Ok(None),
            };
        }
        let mut out = Vec::with_capacity(n);
        for i in 1..=n {
            let item = join(items, &i.to_string());
            out.push(self.shape(member, &item, depth + 1)?.unwrap_or(Value::Null));
        }
        Ok(Some(Value::Array(out)))
    }

    fn map(
        &self,
        id: ShapeId,
        key: &str,
        entries: &str,
        depth: usize,
    ) -> Result<Option<Value>, AwsError> {
        let ShapeKind::Map(map) = &self.svc.shape(id).kind else {
            return Ok(None);
        };
        let n = self.indices(entries)?;
        if n == 0 {
            return match self.get(key) {
                Some("") => Ok(Some(Value::Object(Map::new()))),
                Some(_) => Err(malformed(format!(
                    "Parameter '{key}' is a map and cannot take a single value"
                ))),
                None => Ok(None),
            };
        }
        let key_name = map.key_name.as_deref().unwrap_or("key");
        let value_name = map.value_name.as_deref().unwrap_or("value");
        let mut out = Map::new();
        for i in 1..=n {
            let entry = join(entries, &i.to_string());
            let key_param = join(&entry, key_name);
            let Some(k) = self.get(&key_param) else {
                return Err(malformed(format!("Missing map key '{key_param}'")));
            };
            let v = self
                .shape(map.value, &join(&entry, value_name), depth + 1)?
                .unwrap_or(Value::Null);
            out.insert(k.to_owned(), v);
        }
        Ok(Some(Value::Object(out)))
    }
}

/// One parameter value -> its canonical JSON type.
fn scalar(kind: &ShapeKind, key: &str, text: &str, sensitive: bool) -> Result<Value, AwsError> {
    let shown = || {
        if sensitive {
            format!("Invalid value for parameter {key}")
        } else {
            format!("Invalid value '{text}' for parameter {key}")
        }
    };
    match kind {
        ShapeKind::String(_) | ShapeKind::Document => Ok(Value::String(text.to_owned())),
        ShapeKind::Boolean => match text {
            "true" | "1" => Ok(Value::Bool(true)),
            "false" | "0" => Ok(Value::Bool(false)),
            _ => Err(malformed(format!(
                "{}: boolean must follow xsd1.1 definition",
                shown()
            ))),
        },
        ShapeKind::Number { kind, .. } if kind.is_integral() => {
            let (lo, hi) = kind.clamp_range();
            match text.parse::<i64>() {
                Ok(i) if (lo..=hi).contains(&(i as f64)) => Ok(Value::Number(i.into())),
                _ => Err(malformed(format!(
                    "{}: {} must follow xsd1.1 definition",
                    shown(),
                    xsd_name(*kind)
                ))),
            }
        }
        ShapeKind::Number { kind, .. } => match text.parse::<f64>().ok().and_then(Number::from_f64)
        {
            Some(n) => Ok(Value::Number(n)),
            None => Err(malformed(format!(
                "{}: {} must follow xsd1.1 definition",
                shown(),
                xsd_name(*kind)
            ))),
        },
        ShapeKind::Blob { .. } => match check_base64(text, sensitive) {
            Ok(()) => Ok(Value::String(text.to_owned())),
            Err(message) => Err(malformed(message)),
        },
        ShapeKind::Timestamp { .. } => timestamp::parse_to_epoch(text).ok_or_else(|| {
            malformed(format!(
                "{}: timestamp must follow ISO8601 (e.g. 2026-01-02T03:04:05Z)",
                shown()
            ))
        }),
        ShapeKind::Structure(_) | ShapeKind::List(_) | ShapeKind::Map(_) => {
            Ok(Value::String(text.to_owned()))
        }
    }
}

fn xsd_name(kind: NumberKind) -> &'static str {
    match kind {
        NumberKind::Byte => "byte",
        NumberKind::Short => "short",
        NumberKind::Integer => "int",
        NumberKind::Long => "long",
        NumberKind::Float => "float",
        NumberKind::Double => "double",
        NumberKind::BigInteger => "integer",
        NumberKind::BigDecimal => "decimal",
    }
}
