//! The server's side of the wire: which service and operation a request is for, and turning
//! canonical values and errors into HTTP responses. The codecs themselves live in `rampart-wire`.
use axum::body::Body;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use axum::response::Response;
use rampart_aws_types::AwsError;
use rampart_wire::{EncodedResponse, Operation, Protocol, ServiceModel};
use serde_json::Value;

/// The protocol family, for rendering errors before the exact service is known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Proto {
    Json,
    Query,
}

impl Proto {
    /// What a request looks like before it is identified: `X-Amz-Target` means awsJson.
    pub fn guess(headers: &HeaderMap) -> Proto {
        if headers.contains_key("x-amz-target") {
            Proto::Json
        } else {
            Proto::Query
        }
    }

    pub fn sigv4_family(self) -> rampart_sigv4::Protocol {
        match self {
            Proto::Json => rampart_sigv4::Protocol::Json,
            Proto::Query => rampart_sigv4::Protocol::Query,
        }
    }

    fn of(protocol: Protocol) -> Proto {
        if protocol.is_json_family() {
            Proto::Json
        } else {
            Proto::Query
        }
    }
}

/// The service and operation a request addresses.
#[derive(Clone)]
pub struct Target {
    pub service: &'static ServiceModel,
    pub operation: String,
    pub proto: Proto,
}

impl Target {
    pub fn signing_name(&self) -> &str {
        &self.service.signing_name
    }

    /// `kms` in `kms.amazonaws.com` (CloudTrail's eventSource).
    pub fn event_source_prefix(&self) -> &str {
        &self.service.endpoint_prefix
    }

    fn model_operation(&self) -> Option<&'static Operation> {
        self.service.operation(&self.operation)
    }
}

/// Operations AWS serves without a SigV4 signature: the web-identity token or SAML assertion in
/// the request is the caller's proof.
const UNSIGNED_OPERATIONS: &[(&str, &str)] = &[
    ("sts", "AssumeRoleWithWebIdentity"),
    ("sts", "AssumeRoleWithSAML"),
];

pub fn serves_unsigned(target: &Target) -> bool {
    UNSIGNED_OPERATIONS
        .iter()
        .any(|(svc, op)| *svc == target.signing_name() && *op == target.operation)
}

/// Query-string parameters, plus the form body for `application/x-www-form-urlencoded` POSTs.
pub fn request_params(
    method: &Method,
    headers: &HeaderMap,
    query: &str,
    body: &[u8],
) -> Vec<(String, String)> {
    let mut params: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    let is_form = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| {
            ct.to_ascii_lowercase()
                .starts_with("application/x-www-form-urlencoded")
        });
    if *method == Method::POST && is_form {
        params.extend(form_urlencoded::parse(body).into_owned());
    }
    params
}

fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// Finds the service and operation: `X-Amz-Target` for awsJson, the `Action` parameter and the
/// SigV4 scope's service for awsQuery.
pub fn identify(
    headers: &HeaderMap,
    params: &[(String, String)],
    scope_service: Option<&str>,
) -> Result<Target, AwsError> {
    if let Some(target) = headers.get("x-amz-target") {
        let target = target.to_str().unwrap_or("");
        let unknown = || AwsError::new("UnknownOperationException", 400, String::new());
        let (prefix, operation) = rampart_wire::split_target(target).ok_or_else(unknown)?;
        let service = rampart_wire::service_by_target_prefix(prefix).ok_or_else(unknown)?;
        if service.operation(operation).is_none() {
            return Err(unknown());
        }
        return Ok(Target {
            service,
            operation: operation.to_string(),
            proto: Proto::of(service.protocol),
        });
    }
    let scope = scope_service.unwrap_or("sts");
    let service = rampart_wire::service_by_signing_name(scope)
        .filter(|s| !s.protocol.is_json_family())
        .ok_or_else(|| {
            AwsError::new(
                "InvalidAction",
                400,
                format!("The action or operation requested is invalid for service {scope}."),
            )
        })?;
    let action = param(params, "Action").unwrap_or("");
    if action.is_empty() {
        return Err(AwsError::new("MissingAction", 400, "Missing Action"));
    }
    if service.operation(action).is_none() {
        let version = param(params, "Version").unwrap_or("");
        return Err(AwsError::new(
            "InvalidAction",
            400,
            format!("Could not find operation {action} for version {version}"),
        ));
    }
    Ok(Target {
        service,
        operation: action.to_string(),
        proto: Proto::Query,
    })
}

/// Decodes the operation's input into the canonical value, validating it against the model.
pub fn decode_input(
    target: &Target,
    method: &Method,
    path: &str,
    headers: &HeaderMap,
    params: &[(String, String)],
    body: &[u8],
) -> Result<Value, AwsError> {
    let Some(op) = target.model_operation() else {
        return Err(AwsError::new(
            "InvalidAction",
            400,
            format!("Unknown operation {}", target.operation),
        ));
    };
    // awsJson and awsQuery carry their input in the body and parameters only; headers matter
    // to the REST protocols, which are not served yet.
    let header_pairs: Vec<(String, String)> = Vec::new();
    let _ = headers;
    let without_action: Vec<(String, String)> = params
        .iter()
        .filter(|(k, _)| k != "Action" && k != "Version")
        .cloned()
        .collect();
    // The form body was already parsed into params for awsQuery.
    let (query, body) = match target.proto {
        Proto::Query => (without_action.as_slice(), &[][..]),
        Proto::Json => (&[][..], body),
    };
    let request = rampart_wire::HttpRequest {
        method: method.as_str(),
        path,
        query,
        headers: &header_pairs,
        body,
    };
    rampart_wire::decode_request(target.service, op, &request)
}

pub fn encode_output(target: Option<&Target>, output: &Value, request_id: &str) -> Response {
    let Some(target) = target else {
        return encode_error(
            Proto::Query,
            None,
            &AwsError::internal("no target"),
            request_id,
        );
    };
    let Some(op) = target.model_operation() else {
        return encode_error(
            target.proto,
            Some(target),
            &AwsError::internal("no operation"),
            request_id,
        );
    };
    match rampart_wire::encode_response(target.service, op, output, request_id) {
        Ok(encoded) => into_response(encoded),
        Err(e) => encode_error(target.proto, Some(target), &e, request_id),
    }
}

pub fn encode_error(
    proto: Proto,
    target: Option<&Target>,
    error: &AwsError,
    request_id: &str,
) -> Response {
    let service = target.map(|t| t.service).or_else(|| match proto {
        Proto::Json => rampart_wire::service("kms"),
        Proto::Query => rampart_wire::service("sts"),
    });
    // awsJson services answer AccessDeniedException with HTTP 400 (KMS, Secrets Manager, SSM
    // list it so among their common errors); awsQuery's AccessDenied is 403.
    let json_denial;
    let error = if proto == Proto::Json
        && error.code == rampart_aws_types::error::ACCESS_DENIED
        && error.status == 403
    {
        json_denial = AwsError {
            status: 400,
            ..error.clone()
        };
        &json_denial
    } else {
        error
    };
    match service {
        Some(service) => into_response(rampart_wire::encode_error(service, error, request_id)),
        None => Response::builder()
            .status(StatusCode::INTERNAL_SERVER_ERROR)
            .body(Body::from(error.message.clone()))
            .unwrap_or_default(),
    }
}

/// The value with every model-`sensitive` member replaced, for audit records and logs.
pub fn redact(target: &Target, value: &Value, output: bool) -> Value {
    match target.model_operation() {
        Some(op) if output => rampart_wire::audit_output(target.service, op, value),
        Some(op) => rampart_wire::audit_input(target.service, op, value),
        None => Value::Null,
    }
}

fn into_response(encoded: EncodedResponse) -> Response {
    let mut response = Response::new(Body::from(encoded.body));
    *response.status_mut() =
        StatusCode::from_u16(encoded.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let headers = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(encoded.content_type) {
        headers.insert(axum::http::header::CONTENT_TYPE, v);
    }
    for (name, value) in encoded.headers {
        if let (Ok(n), Ok(v)) = (
            HeaderName::from_bytes(AsRef::<[u8]>::as_ref(name.as_bytes())),
            HeaderValue::from_str(&value),
        ) {
            headers.insert(n, v);
        }
    }
    response
}
