//! awsJson 1.0 / 1.1: request bodies are JSON objects keyed by member name, responses likewise.
//!
//! Decoding follows AWS's (Coral's) order: the body must parse and every member must have the
//! right JSON type (else `SerializationException`, with Coral's messages), unknown members are
//! dropped, then constraints are checked (`ValidationException`).
use rampart_aws_types::AwsError;
use serde_json::{Map, Number, Value};

use crate::model::{
    Member, NumberKind, Operation, ServiceModel, ShapeId, ShapeKind, TimestampFormat,
};
use crate::{timestamp, validate};

/// Code of type errors in awsJson bodies. Its message is spelled `Message` on the wire.
pub const SERIALIZATION_EXCEPTION: &str = "SerializationException";

/// Decodes an awsJson request body into the canonical input value.
pub fn decode_json(svc: &ServiceModel, op: &Operation, body: &[u8]) -> Result<Value, AwsError> {
    let mut value = if body.iter().all(u8::is_ascii_whitespace) {
        Value::Object(Map::new())
    } else {
        // serde_json rejects invalid UTF-8 and nesting deeper than 128 levels.
        serde_json::from_slice(body).map_err(|_| serialization(""))?
    };
    if value.is_null() {
        value = Value::Object(Map::new());
    }
    let Some(input) = op.input else {
        return match value {
            Value::Object(_) => Ok(Value::Object(Map::new())),
            _ => Err(serialization("Expected null")),
        };
    };
    normalize(svc, input, &mut value, false)?;
    validate::validate(svc, input, &value)?;
    Ok(value)
}

fn serialization(message: impl Into<String>) -> AwsError {
    AwsError::new(SERIALIZATION_EXCEPTION, 400, message)
}

/// Coral's message for a JSON value of the wrong kind where `expected` was wanted.
fn start_of(value: &Value) -> Option<&'static str> {
    match value {
        Value::Object(_) => Some("Start of structure or map found where not expected."),
        Value::Array(_) => Some("Start of list found where not expected"),
        _ => None,
    }
}

fn java_class(value: &Value) -> &'static str {
    match value {
        Value::Bool(_) => "class java.lang.Boolean",
        Value::Number(_) => "class com.amazon.coral.value.json.numbers.TruncatingBigNumber",
        _ => "class java.lang.String",
    }
}

/// Checks JSON types against the shape, converting in place to the canonical form: drops unknown
/// and null members, floors integers, parses ISO timestamps to epoch seconds.
fn normalize(
    svc: &ServiceModel,
    id: ShapeId,
    value: &mut Value,
    sensitive: bool,
) -> Result<(), AwsError> {
    let shape = svc.shape(id);
    let sensitive = sensitive || shape.sensitive;
    match &shape.kind {
        ShapeKind::Structure(s) => {
            let Value::Object(obj) = value else {
                return Err(serialization(start_of(value).unwrap_or("Expected null")));
            };
            normalize_members(svc, &s.members, obj, sensitive)
        }
        ShapeKind::List(list) => {
            let Value::Array(items) = value else {
                return Err(serialization(
                    start_of(value).unwrap_or("Expected list or null"),
                ));
            };
            for item in items.iter_mut().filter(|i| !i.is_null()) {
                normalize(svc, list.member, item, sensitive)?;
            }
            Ok(())
        }
        ShapeKind::Map(map) => {
            let Value::Object(entries) = value else {
                return Err(serialization(
                    start_of(value).unwrap_or("Expected map or null"),
                ));
            };
            for item in entries.values_mut().filter(|i| !i.is_null()) {
                normalize(svc, map.value, item, sensitive)?;
            }
            Ok(())
        }
        ShapeKind::String(_) => match value {
            Value::String(_) => Ok(()),
            other => Err(serialization(start_of(other).map_or_else(
                || format!("{} can not be converted to an String", java_class(other)),
                str::to_owned,
            ))),
        },
        ShapeKind::Number { kind, .. } => normalize_number(*kind, value),
        ShapeKind::Boolean => match value {
            Value::Bool(_) => Ok(()),
            Value::String(s) => {
                let b = match s.to_ascii_lowercase().as_str() {
                    "true" | "1" | "yes" => true,
                    "false" | "0" | "no" => false,
                    _ if sensitive => {
                        return Err(serialization("Value can not be converted to an Boolean"));
                    }
                    _ => {
                        return Err(serialization(format!(
                            "'{}' can not be converted to an Boolean",
                            s.to_uppercase()
                        )));
                    }
                };
                *value = Value::Bool(b);
                Ok(())
            }
            other => Err(serialization(start_of(other).map_or_else(
                || format!("{} can not be converted to an Boolean", java_class(other)),
                str::to_owned,
            ))),
        },
        ShapeKind::Blob { .. } => match value {
            Value::String(s) => check_base64(s, sensitive).map_err(serialization),
            other => Err(serialization(start_of(other).map_or_else(
                || format!("{} can not be converted to a Blob", java_class(other)),
                str::to_owned,
            ))),
        },
        ShapeKind::Timestamp { .. } => match value {
            Value::Number(n) if n.as_f64().is_some_and(f64::is_finite) => Ok(()),
            Value::String(s) => match timestamp::parse_to_epoch(s) {
                Some(epoch) => {
                    *value = epoch;
                    Ok(())
                }
                None => Err(serialization(
                    "class java.lang.String can not be converted to milliseconds since epoch",
                )),
            },
            other => Err(serialization(start_of(other).map_or_else(
                || {
                    format!(
                        "{} can not be converted to milliseconds since epoch",
                        java_class(other)
                    )
                },
                str::to_owned,
            ))),
        },
        ShapeKind::Document => Ok(()),
    }
}

fn normalize_members(
    svc: &ServiceModel,
    members: &[Member],
    obj: &mut Map<String, Value>,
    sensitive: bool,
) -> Result<(), AwsError> {
    // Unknown members are ignored, as AWS does; nulls mean "absent".
    obj.retain(|k, v| !v.is_null() && members.iter().any(|m| m.wire_name() == k));
    for member in members {
        let wire = member.wire_name();
        if wire != &*member.name {
            if let Some(v) = obj.shift_remove(wire) {
                obj.insert(member.name.to_string(), v);
            }
        }
        if let Some(v) = obj.get_mut(&*member.name) {
            normalize(svc, member.shape, v, sensitive || member.sensitive)?;
        }
    }
    Ok(())
}

fn normalize_number(kind: NumberKind, value: &mut Value) -> Result<(), AwsError> {
    let Value::Number(n) = value else {
        let name = kind.java_name();
        return Err(serialization(start_of(value).map_or_else(
            || format!("{} can not be converted to an {name}", java_class(value)),
            str::to_owned,
        )));
    };
    if !kind.is_integral() {
        return Ok(());
    }
    // Coral truncates fractional values and clamps out-of-range ones for integral types.
    let (lo, hi) = kind.clamp_range();
    if let Some(i) = n.as_i64() {
        if (lo..=hi).contains(&(i as f64)) {
            return Ok(());
        }
    }
    let x = n.as_f64().unwrap_or(0.0).floor();
    *value = Value::Number(Number::from(x.clamp(lo, hi) as i64));
    Ok(())
}

/// Coral's base64 checks, with its messages (including its spelling).
pub(crate) fn check_base64(s: &str, sensitive: bool) -> Result<(), String> {
    let shown = |detail: String| {
        if sensitive {
            format!("Value can not be converted to a Blob: {detail}")
        } else {
            format!("'{s}' can not be converted to a Blob: {detail}")
        }
    };
    let bytes = s.as_bytes();
    if bytes.len() % 4 != 0 {
        return Err(shown(format!(
            "Base64 encoded length is expected a multiple of 4 bytes but found: {}",
            bytes.len()
        )));
    }
    let data_len = bytes.len() - bytes.iter().rev().take(2).filter(|b| **b == b'=').count();
    let is_data = |b: u8| b.is_ascii_alphanumeric() | (b == b'+') | (b == b'/');
    // Whole blocks without an early exit first: the compiler turns this into SIMD compares (a
    // 4 KiB plaintext is checked on every Encrypt); the byte loop below only names the culprit.
    let (data, padding) = bytes.split_at(data_len);
    let all_valid = data
        .chunks(64)
        .all(|block| block.iter().fold(true, |ok, b| ok & is_data(*b)))
        && padding.iter().all(|b| *b == b'=');
    if !all_valid {
        for (i, b) in bytes.iter().enumerate() {
            let ok = if i < data_len {
                is_data(*b)
            } else {
                *b == b'='
            };
            if !ok {
                return Err(shown(format!(
                    "Invalid Base64 character: '{}'",
                    char::from(*b).escape_default()
                )));
            }
        }
    }
    // The unused low bits of the last character must be zero (canonical encoding).
    let pad = bytes.len() - data_len;
    if let Some(last) = data_len.checked_sub(1).and_then(|i| bytes.get(i)) {
        let sextet = match last {
            b'A'..=b'Z' => last - b'A',
            b'a'..=b'z' => last - b'a' + 26,
            b'0'..=b'9' => last - b'0' + 52,
            b'+' => 62,
            _ => 63,
        };
        let mask = match pad {
            1 => 0b11,
            2 => 0b1111,
            _ => 0,
        };
        if sextet & mask != 0 {
            return Err(shown(
                "Invalid last non-pad Base64 character dectected".to_owned(),
            ));
        }
    }
    Ok(())
}

/// Encodes a canonical output value as an awsJson response body. Members not in the model are
/// left out; a missing output shape gives `{}`.
pub fn encode_json(svc: &ServiceModel, op: &Operation, output: &Value) -> Vec<u8> {
    let mut out = Vec::with_capacity(256);
    match op.output {
        Some(id) => write_value(svc, id, output, None, &mut out, 0),
        None => out.extend_from_slice(b"{}"),
    }
    out
}

/// Deeper than this the output is cut (handlers never nest this deep; recursive shapes could).
const MAX_DEPTH: usize = 64;

fn write_value(
    svc: &ServiceModel,
    id: ShapeId,
    value: &Value,
    member_ts_format: Option<TimestampFormat>,
    out: &mut Vec<u8>,
    depth: usize,
) {
    if depth > MAX_DEPTH {
        out.extend_from_slice(b"null");
        return;
    }
    let shape = svc.shape(id);
    match (&shape.kind, value) {
        (ShapeKind::Structure(s), Value::Object(obj)) => {
            out.push(b'{');
            let mut first = true;
            for m in &s.members {
                let Some(v) = obj.get(&*m.name).filter(|v| !v.is_null()) else {
                    continue;
                };
                if !first {
                    out.push(b',');
                }
                first = false;
                write_str(m.wire_name(), out);
                out.push(b':');
                write_value(svc, m.shape, v, m.timestamp_format, out, depth + 1);
            }
            out.push(b'}');
        }
        (ShapeKind::List(list), Value::Array(items)) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_value(svc, list.member, item, None, out, depth + 1);
            }
            out.push(b']');
        }
        (ShapeKind::Map(map), Value::Object(entries)) => {
            out.push(b'{');
            for (i, (k, v)) in entries.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_str(k, out);
                out.push(b':');
                write_value(svc, map.value, v, None, out, depth + 1);
            }
            out.push(b'}');
        }
        (ShapeKind::Timestamp { format }, v) => {
            let epoch = timestamp::as_epoch(v);
            match (member_ts_format.or(*format), epoch) {
                (Some(TimestampFormat::Iso8601), Some(e)) => match timestamp::format_iso8601(e) {
                    Some(text) => write_scalar(&Value::String(text), out),
                    None => out.extend_from_slice(b"null"),
                },
                (_, Some(e)) => write_scalar(&timestamp::number(e), out),
                (_, None) => out.extend_from_slice(b"null"),
            }
        }
        (_, v) => write_scalar(v, out),
    }
}

fn write_scalar(value: &Value, out: &mut Vec<u8>) {
    if let Value::String(text) = value {
        return write_str(text, out);
    }
    // Writing into a Vec cannot fail.
    if serde_json::to_writer(&mut *out, value).is_err() {
        out.extend_from_slice(b"null");
    }
}

/// A JSON string. Most strings (names, ids, ARNs, base64 blobs of kilobytes) need no escaping:
/// those are copied whole after a check the compiler vectorizes, instead of serde_json's
/// byte-by-byte escape loop (which showed up at ~3% of a KMS Encrypt).
fn write_str(text: &str, out: &mut Vec<u8>) {
    if needs_no_escape(text.as_bytes()) {
        out.reserve(text.len() + 2);
        out.push(b'"');
        out.extend_from_slice(text.as_bytes());
        out.push(b'"');
    } else if serde_json::to_writer(&mut *out, text).is_err() {
        out.extend_from_slice(b"null");
    }
}

/// Whether no byte is one JSON requires escaped (controls, `"` and `\`); other bytes, UTF-8
/// included, are written as they are — serde_json's rule.
fn needs_no_escape(bytes: &[u8]) -> bool {
    let plain = |b: u8| b >= 0x20 && b != b'"' && b != b'\\';
    let mut chunks = bytes.chunks_exact(32);
    for chunk in &mut chunks {
        if !chunk.iter().fold(true, |ok, &b| ok & plain(b)) {
            return false;
        }
    }
    chunks.remainder().iter().all(|&b| plain(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_written_exactly_as_serde_json_writes_them() {
        let long_plain = "QUJD".repeat(2000);
        let mut long_with_quote = long_plain.clone();
        long_with_quote.insert(4321, '"');
        let cases = [
            "",
            "plain",
            "arn:aws:kms:us-east-1:111122223333:key/1234",
            "quote \" inside",
            "back\\slash",
            "tab\tnew\nline\r",
            "\u{0}\u{1f}\u{7f}",
            "ünïcødé ✓ 🔑",
            "</script>",
            long_plain.as_str(),
            long_with_quote.as_str(),
        ];
        for case in cases {
            let mut ours = Vec::new();
            write_str(case, &mut ours);
            assert_eq!(ours, serde_json::to_vec(case).unwrap(), "{case:?}");
            let mut scalar = Vec::new();
            write_scalar(&Value::String(case.to_owned()), &mut scalar);
            assert_eq!(scalar, ours);
        }
        // Every byte value in every position of a chunk.
        for b in 0u8..0x80 {
            for at in [0, 17, 31, 32, 40] {
                let mut text = "x".repeat(41);
                text.replace_range(at..=at, &char::from(b).to_string());
                let mut ours = Vec::new();
                write_str(&text, &mut ours);
                assert_eq!(ours, serde_json::to_vec(&text).unwrap(), "byte {b} at {at}");
            }
        }
    }
}
