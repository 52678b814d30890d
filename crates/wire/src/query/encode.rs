//! Canonical output value -> awsQuery XML response, in the shape AWS writes:
//!
//! ```xml
//! <ListUsersResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/">
//!   <ListUsersResult><Users><member>...</member></Users><IsTruncated>false</IsTruncated></ListUsersResult>
//!   <ResponseMetadata><RequestId>...</RequestId></ResponseMetadata>
//! </ListUsersResponse>
//! ```
use serde_json::Value;

use crate::model::{Member, Operation, ServiceModel, ShapeId, ShapeKind, TimestampFormat};
use crate::timestamp;

/// Deeper than this the output is cut (only recursive shapes could get there).
const MAX_DEPTH: usize = 64;

/// Encodes a canonical output as the operation's awsQuery XML response.
pub fn encode_query(
    svc: &ServiceModel,
    op: &Operation,
    output: &Value,
    request_id: &str,
) -> Vec<u8> {
    let mut out = String::with_capacity(512);
    let ns = svc.xml_namespace.as_deref().unwrap_or("");
    out.push('<');
    out.push_str(&op.name);
    out.push_str("Response xmlns=\"");
    escape_into(ns, &mut out);
    out.push_str("\">");
    if let Some(id) = op.output {
        if let ShapeKind::Structure(s) = &svc.shape(id).kind {
            match &op.result_wrapper {
                Some(wrapper) => {
                    open(wrapper, &mut out);
                    members(svc, &s.members, output, &mut out, 0);
                    close(wrapper, &mut out);
                }
                None => members(svc, &s.members, output, &mut out, 0),
            }
        }
    }
    out.push_str("<ResponseMetadata><RequestId>");
    escape_into(request_id, &mut out);
    out.push_str("</RequestId></ResponseMetadata></");
    out.push_str(&op.name);
    out.push_str("Response>");
    out.into_bytes()
}

fn open(name: &str, out: &mut String) {
    out.push('<');
    out.push_str(name);
    out.push('>');
}

fn close(name: &str, out: &mut String) {
    out.push_str("</");
    out.push_str(name);
    out.push('>');
}

fn members(svc: &ServiceModel, members: &[Member], value: &Value, out: &mut String, depth: usize) {
    let Value::Object(obj) = value else { return };
    for m in members {
        let Some(v) = obj.get(&*m.name).filter(|v| !v.is_null()) else {
            continue;
        };
        element(
            svc,
            m.wire_name(),
            m.shape,
            v,
            m.flattened,
            m.timestamp_format,
            out,
            depth + 1,
        );
    }
}

#[allow(clippy::too_many_arguments)]
fn element(
    svc: &ServiceModel,
    name: &str,
    id: ShapeId,
    value: &Value,
    member_flattened: bool,
    member_ts: Option<TimestampFormat>,
    out: &mut String,
    depth: usize,
) {
    if depth > MAX_DEPTH {
        return;
    }
    let shape = svc.shape(id);
    match &shape.kind {
        ShapeKind::Structure(s) => {
            open(name, out);
            members(svc, &s.members, value, out, depth);
            close(name, out);
        }
        ShapeKind::List(list) => {
            let Value::Array(items) = value else { return };
            if list.flattened || member_flattened {
                let item_name = list.member_name.as_deref().unwrap_or(name);
                for item in items.iter().filter(|i| !i.is_null()) {
                    element(
                        svc,
                        item_name,
                        list.member,
                        item,
                        false,
                        None,
                        out,
                        depth + 1,
                    );
                }
            } else {
                let item_name = list.member_name.as_deref().unwrap_or("member");
                open(name, out);
                for item in items.iter().filter(|i| !i.is_null()) {
                    element(
                        svc,
                        item_name,
                        list.member,
                        item,
                        false,
                        None,
                        out,
                        depth + 1,
                    );
                }
                close(name, out);
            }
        }
        ShapeKind::Map(map) => {
            let Value::Object(entries) = value else {
                return;
            };
            let key_name = map.key_name.as_deref().unwrap_or("key");
            let value_name = map.value_name.as_deref().unwrap_or("value");
            let flattened = map.flattened || member_flattened;
            if !flattened {
                open(name, out);
            }
            for (k, v) in entries {
                open(if flattened { name } else { "entry" }, out);
                open(key_name, out);
                escape_into(k, out);
                close(key_name, out);
                if !v.is_null() {
                    element(svc, value_name, map.value, v, false, None, out, depth + 1);
                }
                close(if flattened { name } else { "entry" }, out);
            }
            if !flattened {
                close(name, out);
            }
        }
        ShapeKind::Timestamp { format } => {
            let Some(epoch) = timestamp::as_epoch(value) else {
                return;
            };
            let text = match member_ts.or(*format) {
                Some(TimestampFormat::UnixTimestamp) => timestamp::number(epoch).to_string(),
                _ => match timestamp::format_iso8601(epoch) {
                    Some(t) => t,
                    None => return,
                },
            };
            open(name, out);
            out.push_str(&text);
            close(name, out);
        }
        _ => {
            open(name, out);
            match value {
                Value::String(s) => escape_into(s, out),
                Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
                Value::Number(n) => out.push_str(&n.to_string()),
                other => escape_into(&other.to_string(), out),
            }
            close(name, out);
        }
    }
}

/// XML text/attribute escaping. `\r` is written as a character reference so parsers do not fold
/// it into `\n`; characters XML 1.0 forbids (most C0 controls) become U+FFFD so the document
/// stays parseable for every client.
pub(crate) fn escape_into(text: &str, out: &mut String) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\r' => out.push_str("&#xD;"),
            '\t' | '\n' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
}
