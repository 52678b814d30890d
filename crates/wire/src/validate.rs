//! Constraint validation of a canonical input value against its shape, with AWS's (Coral's)
//! message format:
//!
//! `2 validation errors detected: Value 'x' at 'userName' failed to satisfy constraint: Member
//! must have length less than or equal to 64; Value null at 'policyArn' failed to satisfy
//! constraint: Member must not be null`
//!
//! Paths are lower-camel member names joined by `.`, list items as `tags.1.member.key`, map values
//! as `map.<key>.member`. Constraints on the items of a list of scalars, and on map keys and
//! values, are reported once for the whole collection (`Member must satisfy constraint: [...]`,
//! `Map keys must satisfy constraint: [...]`), as Coral does. Sensitive values are never echoed:
//! the message reads `Value at 'password' ...`.
use rampart_aws_types::AwsError;
use serde_json::{Map, Value};

use crate::model::{Bounds, Member, ServiceModel, Shape, ShapeId, ShapeKind, StringShape};
use crate::pattern;

/// Coral stops after this many errors.
const MAX_ERRORS: usize = 10;
/// Redaction marker used in rendered values of nested sensitive members (the AWS SDK for Java's).
const REDACTED_IN_MESSAGE: &str = "***Sensitive Data Redacted***";

/// Validates `value` (a canonical structure) against `shape`.
pub(crate) fn validate(svc: &ServiceModel, shape: ShapeId, value: &Value) -> Result<(), AwsError> {
    let mut v = Validator {
        svc,
        errors: Vec::new(),
        path: Vec::new(),
    };
    if let (ShapeKind::Structure(s), Value::Object(obj)) = (&svc.shape(shape).kind, value) {
        v.structure(&s.members, obj, false);
    }
    if v.errors.is_empty() {
        return Ok(());
    }
    let n = v.errors.len();
    let plural = if n == 1 { "" } else { "s" };
    Err(AwsError::validation(format!(
        "{n} validation error{plural} detected: {}",
        v.errors.join("; ")
    )))
}

enum Seg<'a> {
    Name(&'a str),
    /// A list item, 1-based: renders `N.member`.
    Index(usize),
    /// A map value: renders `<key>.member`.
    Key(&'a str),
}

struct Validator<'a> {
    svc: &'a ServiceModel,
    errors: Vec<String>,
    path: Vec<Seg<'a>>,
}

impl<'a> Validator<'a> {
    fn full(&self) -> bool {
        self.errors.len() >= MAX_ERRORS
    }

    fn path_string(&self) -> String {
        let mut out = String::new();
        for seg in &self.path {
            if !out.is_empty() {
                out.push('.');
            }
            match seg {
                Seg::Name(n) => out.push_str(n),
                Seg::Index(i) => {
                    out.push_str(&i.to_string());
                    out.push_str(".member");
                }
                Seg::Key(k) => {
                    out.push_str(k);
                    out.push_str(".member");
                }
            }
        }
        out
    }

    /// `rendered`: `None` for null, `Some(None)` for a hidden (sensitive) value.
    fn push(&mut self, rendered: Option<Option<String>>, constraint: &str) {
        if self.full() {
            return;
        }
        let path = self.path_string();
        let value = match rendered {
            None => "Value null".to_owned(),
            Some(None) => "Value".to_owned(),
            Some(Some(v)) => format!("Value '{v}'"),
        };
        self.errors.push(format!(
            "{value} at '{path}' failed to satisfy constraint: {constraint}"
        ));
    }

    fn structure(&mut self, members: &'a [Member], obj: &'a Map<String, Value>, sensitive: bool) {
        for member in members {
            if self.full() {
                return;
            }
            self.path.push(Seg::Name(&member.path_name));
            match obj.get(&*member.name) {
                None | Some(Value::Null) => {
                    if member.required {
                        self.push(None, "Member must not be null");
                    }
                }
                Some(value) => {
                    let hidden = sensitive || member.sensitive;
                    self.value(member.shape, value, hidden);
                }
            }
            self.path.pop();
        }
    }

    fn value(&mut self, id: ShapeId, value: &'a Value, sensitive: bool) {
        let shape = self.svc.shape(id);
        let sensitive = sensitive || shape.sensitive;
        match &shape.kind {
            ShapeKind::Structure(s) => {
                if let Value::Object(obj) = value {
                    self.structure(&s.members, obj, sensitive);
                }
            }
            ShapeKind::List(list) => {
                let Value::Array(items) = value else { return };
                self.length(list.length, items.len(), value, id, sensitive);
                let item_shape = self.svc.shape(list.member);
                let item_sensitive = sensitive || item_shape.sensitive;
                if is_scalar(item_shape) {
                    let bad = items.iter().any(|item| {
                        item.is_null() || !scalar_violations(item_shape, item).is_empty()
                    });
                    if bad {
                        let all = constraint_list(item_shape);
                        self.push(
                            Some(self.render(id, value, sensitive)),
                            &format!("Member must satisfy constraint: [{all}]"),
                        );
                    }
                    return;
                }
                for (i, item) in items.iter().enumerate() {
                    if self.full() {
                        return;
                    }
                    self.path.push(Seg::Index(i + 1));
                    if item.is_null() {
                        self.push(None, "Member must not be null");
                    } else {
                        self.value(list.member, item, item_sensitive);
                    }
                    self.path.pop();
                }
            }
            ShapeKind::Map(map) => {
                let Value::Object(entries) = value else {
                    return;
                };
                self.length(map.length, entries.len(), value, id, sensitive);
                let key_shape = self.svc.shape(map.key);
                let key_bad = entries
                    .keys()
                    .any(|k| !scalar_violations(key_shape, &Value::String(k.clone())).is_empty());
                if key_bad {
                    let all = constraint_list(key_shape);
                    self.push(
                        Some(self.render(id, value, sensitive)),
                        &format!("Map keys must satisfy constraint: [{all}]"),
                    );
                }
                let value_shape = self.svc.shape(map.value);
                if is_scalar(value_shape) {
                    let bad = entries.values().any(|item| {
                        item.is_null() || !scalar_violations(value_shape, item).is_empty()
                    });
                    if bad {
                        let all = constraint_list(value_shape);
                        self.push(
                            Some(self.render(id, value, sensitive)),
                            &format!("Map value must satisfy constraint: [{all}]"),
                        );
                    }
                    return;
                }
                let value_sensitive = sensitive || value_shape.sensitive;
                for (k, item) in entries {
                    if self.full() {
                        return;
                    }
                    self.path.push(Seg::Key(k));
                    if item.is_null() {
                        self.push(None, "Member must not be null");
                    } else {
                        self.value(map.value, item, value_sensitive);
                    }
                    self.path.pop();
                }
            }
            _ => {
                for violation in scalar_violations(shape, value) {
                    self.push(Some(self.render(id, value, sensitive)), &violation);
                }
            }
        }
    }

    fn length(&mut self, bounds: Bounds, len: usize, value: &Value, id: ShapeId, sensitive: bool) {
        for violation in length_violations(bounds, len as f64) {
            self.push(Some(self.render(id, value, sensitive)), &violation);
        }
    }

    /// The value as Coral prints it, or `None` when it must stay hidden.
    fn render(&self, id: ShapeId, value: &Value, sensitive: bool) -> Option<String> {
        if sensitive {
            return None;
        }
        let mut out = String::new();
        render_into(self.svc, id, value, &mut out, 0);
        Some(out)
    }
}

/// Renders like Java's `toString` of Coral's types: lists `[a, b]`, maps `{k=v}`, blobs as the
/// `ByteBuffer` they are, nested sensitive members redacted.
fn render_into(svc: &ServiceModel, id: ShapeId, value: &Value, out: &mut String, depth: usize) {
    let shape = svc.shape(id);
    if shape.sensitive {
        out.push_str(REDACTED_IN_MESSAGE);
        return;
    }
    if depth > 32 {
        out.push_str("...");
        return;
    }
    match (&shape.kind, value) {
        (_, Value::Null) => out.push_str("null"),
        (ShapeKind::Blob { .. }, Value::String(s)) => {
            let n = base64_decoded_len(s);
            out.push_str(&format!("java.nio.HeapByteBuffer[pos=0 lim={n} cap={n}]"));
        }
        (ShapeKind::List(list), Value::Array(items)) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                render_into(svc, list.member, item, out, depth + 1);
            }
            out.push(']');
        }
        (ShapeKind::Map(map), Value::Object(entries)) => {
            out.push('{');
            for (i, (k, v)) in entries.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                out.push_str(k);
                out.push('=');
                render_into(svc, map.value, v, out, depth + 1);
            }
            out.push('}');
        }
        (ShapeKind::Structure(s), Value::Object(obj)) => {
            out.push('{');
            let mut first = true;
            for m in &s.members {
                let Some(v) = obj.get(&*m.name).filter(|v| !v.is_null()) else {
                    continue;
                };
                if !first {
                    out.push(',');
                }
                first = false;
                out.push_str(&m.name);
                out.push_str(": ");
                if m.sensitive {
                    out.push_str(REDACTED_IN_MESSAGE);
                } else {
                    render_into(svc, m.shape, v, out, depth + 1);
                }
            }
            out.push('}');
        }
        (_, Value::String(s)) => out.push_str(s),
        (_, other) => out.push_str(&other.to_string()),
    }
}

fn is_scalar(shape: &Shape) -> bool {
    !matches!(
        shape.kind,
        ShapeKind::Structure(_) | ShapeKind::List(_) | ShapeKind::Map(_) | ShapeKind::Document
    )
}

/// Failed constraints of a scalar value, in Coral's order: length, pattern, enum, range.
pub(crate) fn scalar_violations(shape: &Shape, value: &Value) -> Vec<String> {
    match (&shape.kind, value) {
        (ShapeKind::String(s), Value::String(text)) => string_violations(shape, s, text),
        (ShapeKind::Number { range, .. }, Value::Number(n)) => {
            let x = n.as_f64().unwrap_or(0.0);
            let mut out = Vec::new();
            if let Some(min) = range.min.filter(|min| x < *min) {
                out.push(format!(
                    "Member must have value greater than or equal to {}",
                    num(min)
                ));
            }
            if let Some(max) = range.max.filter(|max| x > *max) {
                out.push(format!(
                    "Member must have value less than or equal to {}",
                    num(max)
                ));
            }
            out
        }
        (ShapeKind::Blob { length }, Value::String(b64)) => {
            length_violations(*length, base64_decoded_len(b64) as f64)
        }
        _ => Vec::new(),
    }
}

fn string_violations(shape: &Shape, s: &StringShape, text: &str) -> Vec<String> {
    let mut out = Vec::new();
    if s.length.min.is_some() || s.length.max.is_some() {
        out.extend(length_violations(s.length, text.chars().count() as f64));
    }
    if let Some(p) = &s.pattern {
        if let Some(re) = pattern::compiled(shape, p) {
            if !re.is_match(text) {
                out.push(format!(
                    "Member must satisfy regular expression pattern: {p}"
                ));
            }
        }
    }
    if let Some(values) = &s.enum_values {
        if !values.iter().any(|v| &**v == text) {
            out.push(format!(
                "Member must satisfy enum value set: [{}]",
                values.join(", ")
            ));
        }
    }
    out
}

fn length_violations(bounds: Bounds, len: f64) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(min) = bounds.min.filter(|min| len < *min) {
        out.push(format!(
            "Member must have length greater than or equal to {}",
            num(min)
        ));
    }
    if let Some(max) = bounds.max.filter(|max| len > *max) {
        out.push(format!(
            "Member must have length less than or equal to {}",
            num(max)
        ));
    }
    out
}

/// Every constraint of a scalar shape, for the collection-level messages.
fn constraint_list(shape: &Shape) -> String {
    let mut parts = Vec::new();
    let (length, range) = match &shape.kind {
        ShapeKind::String(s) => (s.length, Bounds::default()),
        ShapeKind::Blob { length } => (*length, Bounds::default()),
        ShapeKind::Number { range, .. } => (Bounds::default(), *range),
        _ => (Bounds::default(), Bounds::default()),
    };
    if let Some(max) = length.max {
        parts.push(format!(
            "Member must have length less than or equal to {}",
            num(max)
        ));
    }
    if let Some(min) = length.min {
        parts.push(format!(
            "Member must have length greater than or equal to {}",
            num(min)
        ));
    }
    if let ShapeKind::String(s) = &shape.kind {
        if let Some(p) = &s.pattern {
            parts.push(format!(
                "Member must satisfy regular expression pattern: {p}"
            ));
        }
        if let Some(values) = &s.enum_values {
            parts.push(format!(
                "Member must satisfy enum value set: [{}]",
                values.join(", ")
            ));
        }
    }
    if let Some(max) = range.max {
        parts.push(format!(
            "Member must have value less than or equal to {}",
            num(max)
        ));
    }
    if let Some(min) = range.min {
        parts.push(format!(
            "Member must have value greater than or equal to {}",
            num(min)
        ));
    }
    parts.join(", ")
}

fn num(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e18 {
        format!("{}", x as i64)
    } else {
        format!("{x}")
    }
}

/// Bytes encoded by a (valid, padded) base64 string.
pub(crate) fn base64_decoded_len(b64: &str) -> usize {
    let bytes = b64.as_bytes();
    let pad = bytes.iter().rev().take(2).filter(|b| **b == b'=').count();
    (bytes.len() / 4 * 3).saturating_sub(pad)
}
