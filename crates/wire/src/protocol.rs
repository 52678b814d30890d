//! The protocol seam: which wire format a service speaks, and one entry point per direction that
//! dispatches to the codec. awsJson and awsQuery are built; restJson1 and rpc-v2-cbor answer
//! `NotImplemented` until their codecs land (the only stubs in this crate).
use rampart_aws_types::AwsError;
use serde_json::Value;

use crate::model::{Operation, ServiceModel};
use crate::{json, query};

/// A wire protocol, as botocore names them in `metadata.protocol(s)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Protocol {
    AwsJson1_0,
    AwsJson1_1,
    AwsQuery,
    Ec2Query,
    RestJson1,
    RestXml,
    RpcV2Cbor,
}

impl Protocol {
    pub(crate) fn from_model(name: &str, json_version: Option<&str>) -> Protocol {
        match name {
            "json" if json_version == Some("1.0") => Protocol::AwsJson1_0,
            "json" => Protocol::AwsJson1_1,
            "query" => Protocol::AwsQuery,
            "ec2" => Protocol::Ec2Query,
            "rest-json" => Protocol::RestJson1,
            "rest-xml" => Protocol::RestXml,
            _ => Protocol::RpcV2Cbor,
        }
    }

    /// Content type of responses (success and error).
    pub fn content_type(self) -> &'static str {
        match self {
            Protocol::AwsJson1_0 => "application/x-amz-json-1.0",
            Protocol::AwsJson1_1 => "application/x-amz-json-1.1",
            Protocol::AwsQuery | Protocol::Ec2Query | Protocol::RestXml => "text/xml",
            Protocol::RestJson1 => "application/json",
            Protocol::RpcV2Cbor => "application/cbor",
        }
    }

    /// JSON-flavoured protocols render neutral codes as `ValidationException` etc.
    pub fn is_json_family(self) -> bool {
        matches!(
            self,
            Protocol::AwsJson1_0 | Protocol::AwsJson1_1 | Protocol::RestJson1 | Protocol::RpcV2Cbor
        )
    }
}

/// The parts of an HTTP request a codec may read. The server fills it from its framework's types.
#[derive(Debug, Clone, Copy)]
pub struct HttpRequest<'a> {
    pub method: &'a str,
    pub path: &'a str,
    /// Decoded query-string parameters.
    pub query: &'a [(String, String)],
    /// Header names in lower case.
    pub headers: &'a [(String, String)],
    pub body: &'a [u8],
}

/// An encoded response: what the server writes on the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncodedResponse {
    pub status: u16,
    /// Extra headers (`x-amzn-RequestId`, `x-amzn-ErrorType`), excluding `Content-Type`.
    pub headers: Vec<(&'static str, String)>,
    pub content_type: &'static str,
    pub body: Vec<u8>,
}

/// Decodes a request's input into the canonical value, whatever the service's protocol.
pub fn decode_request(
    svc: &ServiceModel,
    op: &Operation,
    req: &HttpRequest<'_>,
) -> Result<Value, AwsError> {
    match svc.protocol {
        Protocol::AwsJson1_0 | Protocol::AwsJson1_1 => json::decode_json(svc, op, req.body),
        Protocol::AwsQuery => {
            let mut params: Vec<(String, String)> = req.query.to_vec();
            params.extend(query::parse_form(req.body));
            query::decode_query(svc, op, &params)
        }
        other => Err(protocol_not_implemented(other)),
    }
}

/// Encodes a handler's canonical output in the service's protocol.
pub fn encode_response(
    svc: &ServiceModel,
    op: &Operation,
    output: &Value,
    request_id: &str,
) -> Result<EncodedResponse, AwsError> {
    let body = match svc.protocol {
        Protocol::AwsJson1_0 | Protocol::AwsJson1_1 => json::encode_json(svc, op, output),
        Protocol::AwsQuery => query::encode_query(svc, op, output, request_id),
        other => return Err(protocol_not_implemented(other)),
    };
    Ok(EncodedResponse {
        status: 200,
        headers: vec![("x-amzn-RequestId", request_id.to_owned())],
        content_type: svc.protocol.content_type(),
        body,
    })
}

fn protocol_not_implemented(protocol: Protocol) -> AwsError {
    AwsError::new(
        "NotImplemented",
        501,
        format!("The {protocol:?} protocol is not implemented by Rampart yet."),
    )
}
