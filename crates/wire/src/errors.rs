//! AWS errors on the wire: one `AwsError`, rendered per protocol the way AWS does, plus the
//! helpers for model-declared errors and for unknown / unbuilt operations.
use rampart_aws_types::AwsError;
use rampart_aws_types::error::{ACCESS_DENIED, VALIDATION};

use crate::json::SERIALIZATION_EXCEPTION;
use crate::model::ServiceModel;
use crate::protocol::{EncodedResponse, Protocol};
use crate::query::escape_into;

/// The code as the protocol spells it: JSON protocols say `ValidationException` and
/// `AccessDeniedException` where query protocols say `ValidationError` and `AccessDenied`.
pub fn wire_code(protocol: Protocol, code: &str) -> &str {
    if protocol.is_json_family() {
        match code {
            VALIDATION => "ValidationException",
            ACCESS_DENIED => "AccessDeniedException",
            other => other,
        }
    } else {
        code
    }
}

/// Renders `err` in the service's protocol.
pub fn encode_error(svc: &ServiceModel, err: &AwsError, request_id: &str) -> EncodedResponse {
    encode_error_for(
        svc.protocol,
        svc.xml_namespace.as_deref(),
        svc.json_message_key(&err.code),
        err,
        request_id,
    )
}

/// Renders `err` when only the protocol is known (e.g. the service could not be determined).
/// `json_message_key` is `message` or `Message` (see [`ServiceModel::json_error_message_key`]).
pub fn encode_error_for(
    protocol: Protocol,
    xml_namespace: Option<&str>,
    json_message_key: &str,
    err: &AwsError,
    request_id: &str,
) -> EncodedResponse {
    let code = wire_code(protocol, &err.code);
    let mut headers = vec![("x-amzn-RequestId", request_id.to_owned())];
    let body = match protocol {
        Protocol::AwsQuery | Protocol::Ec2Query | Protocol::RestXml => {
            query_error_body(code, err, xml_namespace, request_id)
        }
        Protocol::RpcV2Cbor => {
            headers.push(("smithy-protocol", "rpc-v2-cbor".to_owned()));
            cbor_error_body(code, &err.message)
        }
        Protocol::AwsJson1_0 | Protocol::AwsJson1_1 | Protocol::RestJson1 => {
            headers.push(("x-amzn-ErrorType", code.to_owned()));
            // Coral's deserializer errors spell it `Message`; the services' own errors follow
            // their model's error shapes.
            let key = if code == SERIALIZATION_EXCEPTION {
                "Message"
            } else {
                json_message_key
            };
            let mut obj = serde_json::Map::new();
            obj.insert("__type".into(), code.into());
            if !err.message.is_empty() {
                obj.insert(key.into(), err.message.clone().into());
            }
            serde_json::to_vec(&obj).unwrap_or_default()
        }
    };
    EncodedResponse {
        status: err.status,
        headers,
        content_type: protocol.content_type(),
        body,
    }
}

fn query_error_body(code: &str, err: &AwsError, ns: Option<&str>, request_id: &str) -> Vec<u8> {
    let mut out = String::with_capacity(256 + err.message.len());
    out.push_str("<ErrorResponse");
    if let Some(ns) = ns {
        out.push_str(" xmlns=\"");
        escape_into(ns, &mut out);
        out.push('"');
    }
    out.push_str("><Error><Type>");
    out.push_str(if err.sender_fault {
        "Sender"
    } else {
        "Receiver"
    });
    out.push_str("</Type><Code>");
    escape_into(code, &mut out);
    out.push_str("</Code><Message>");
    escape_into(&err.message, &mut out);
    out.push_str("</Message></Error><RequestId>");
    escape_into(request_id, &mut out);
    out.push_str("</RequestId></ErrorResponse>");
    out.into_bytes()
}

/// Smithy rpc-v2-cbor error body: a CBOR map `{"__type": code, "message": message}`.
fn cbor_error_body(code: &str, message: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(32 + code.len() + message.len());
    let entries = if message.is_empty() { 1 } else { 2 };
    cbor_head(5, entries, &mut out);
    cbor_text("__type", &mut out);
    cbor_text(code, &mut out);
    if !message.is_empty() {
        cbor_text("message", &mut out);
        cbor_text(message, &mut out);
    }
    out
}

fn cbor_text(text: &str, out: &mut Vec<u8>) {
    cbor_head(3, text.len() as u64, out);
    out.extend_from_slice(text.as_bytes());
}

/// A CBOR item head: major type in the top 3 bits, then the length in the shortest form.
fn cbor_head(major: u8, len: u64, out: &mut Vec<u8>) {
    let m = major << 5;
    match len {
        0..=23 => out.push(m | len as u8),
        24..=0xFF => out.extend_from_slice(&[m | 24, len as u8]),
        0x100..=0xFFFF => {
            out.push(m | 25);
            out.extend_from_slice(&(len as u16).to_be_bytes());
        }
        0x1_0000..=0xFFFF_FFFF => {
            out.push(m | 26);
            out.extend_from_slice(&(len as u32).to_be_bytes());
        }
        _ => {
            out.push(m | 27);
            out.extend_from_slice(&len.to_be_bytes());
        }
    }
}

/// The error a model declares: `modeled_error(iam, "NoSuchEntityException", msg)` gives code
/// `NoSuchEntity`, HTTP 404, sender fault. An unknown shape name (a bug in the caller) still
/// yields an error with that name as its code and HTTP 400, so nothing panics.
pub fn modeled_error(svc: &ServiceModel, shape_name: &str, message: impl Into<String>) -> AwsError {
    match svc.error_info(shape_name) {
        Some(info) => {
            let mut err = AwsError::new(info.code.to_string(), info.status, message);
            err.sender_fault = info.sender_fault;
            err
        }
        None => AwsError::new(shape_name.to_owned(), 400, message),
    }
}

/// The answer to an operation the service does not have: `UnknownOperationException` (JSON
/// protocols, no message, as AWS) or `InvalidAction` (query protocols).
pub fn unknown_operation(svc: &ServiceModel, operation: &str) -> AwsError {
    unknown_operation_for(svc.protocol, &svc.api_version, operation)
}

/// [`unknown_operation`] when only the protocol is known.
pub fn unknown_operation_for(protocol: Protocol, api_version: &str, operation: &str) -> AwsError {
    if protocol.is_json_family() {
        AwsError::new("UnknownOperationException", 400, "")
    } else {
        AwsError::new(
            "InvalidAction",
            400,
            format!("Could not find operation {operation} for version {api_version}"),
        )
    }
}

/// The answer to a modelled operation Rampart has not built yet: HTTP 501 `NotImplemented`.
pub fn not_implemented(operation: &str) -> AwsError {
    AwsError::not_implemented(operation)
}
