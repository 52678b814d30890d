//! Redaction for audit records and logs: every member the model marks `sensitive` (on the member
//! or on its target shape, at any depth) is replaced by AWS's CloudTrail marker.
use serde_json::{Map, Value};

use crate::model::{Operation, ServiceModel, ShapeId, ShapeKind};

/// What CloudTrail writes in place of sensitive values.
pub const REDACTED: &str = "HIDDEN_DUE_TO_SECURITY_REASONS";

/// Deeper than this, values are replaced wholesale (only recursive shapes could get there).
const MAX_DEPTH: usize = 64;

/// The operation's canonical input with sensitive members hidden.
pub fn redact_input(svc: &ServiceModel, op: &Operation, input: &Value) -> Value {
    match op.input {
        Some(id) => redact_at(svc, id, input, 0, false),
        None => input.clone(),
    }
}

/// The operation's canonical output with sensitive members hidden.
pub fn redact_output(svc: &ServiceModel, op: &Operation, output: &Value) -> Value {
    match op.output {
        Some(id) => redact_at(svc, id, output, 0, false),
        None => output.clone(),
    }
}

/// The input as a CloudTrail record's `requestParameters`: sensitive members hidden and binary
/// (blob) members left out — CloudTrail does not record ciphertexts, signatures or public keys
/// (KMS Decrypt's `requestParameters` hold no `ciphertextBlob`).
pub fn audit_input(svc: &ServiceModel, op: &Operation, input: &Value) -> Value {
    match op.input {
        Some(id) => redact_at(svc, id, input, 0, true),
        None => input.clone(),
    }
}

/// The output as a CloudTrail record's `responseElements` (see [`audit_input`]).
pub fn audit_output(svc: &ServiceModel, op: &Operation, output: &Value) -> Value {
    match op.output {
        Some(id) => redact_at(svc, id, output, 0, true),
        None => output.clone(),
    }
}

/// Redacts `value` as an instance of shape `id` (for values that are not a whole input/output).
pub fn redact(svc: &ServiceModel, id: ShapeId, value: &Value) -> Value {
    redact_at(svc, id, value, 0, false)
}

fn redact_at(
    svc: &ServiceModel,
    id: ShapeId,
    value: &Value,
    depth: usize,
    drop_blobs: bool,
) -> Value {
    let shape = svc.shape(id);
    if shape.sensitive || depth > MAX_DEPTH {
        return Value::String(REDACTED.into());
    }
    match (&shape.kind, value) {
        (ShapeKind::Structure(s), Value::Object(obj)) => {
            let mut out = Map::with_capacity(obj.len());
            for (k, v) in obj {
                let redacted = match s.members.iter().find(|m| &*m.name == k) {
                    Some(m) if m.sensitive || svc.shape(m.shape).sensitive => {
                        Value::String(REDACTED.into())
                    }
                    Some(m)
                        if drop_blobs
                            && matches!(svc.shape(m.shape).kind, ShapeKind::Blob { .. }) =>
                    {
                        continue;
                    }
                    Some(m) => redact_at(svc, m.shape, v, depth + 1, drop_blobs),
                    None => v.clone(),
                };
                out.insert(k.clone(), redacted);
            }
            Value::Object(out)
        }
        (ShapeKind::List(list), Value::Array(items)) => Value::Array(
            items
                .iter()
                .map(|i| redact_at(svc, list.member, i, depth + 1, drop_blobs))
                .collect(),
        ),
        (ShapeKind::Map(map), Value::Object(entries)) => {
            if svc.shape(map.key).sensitive {
                return Value::String(REDACTED.into());
            }
            Value::Object(
                entries
                    .iter()
                    .map(|(k, v)| {
                        (
                            k.clone(),
                            redact_at(svc, map.value, v, depth + 1, drop_blobs),
                        )
                    })
                    .collect(),
            )
        }
        (_, v) => v.clone(),
    }
}
