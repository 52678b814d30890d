//! One request, start to end (DESIGN.md):
//! identify the service and operation → authenticate (SigV4) → decode the input from the model →
//! the handler (which must ask for an authorization decision) → encode → audit.
use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::Body;
use axum::http::{HeaderMap, Request};
use axum::response::Response;
use rampart_aws_types::{AwsError, ids};
use rampart_services::{AuthState, Ctx, Principal};
use rampart_sigv4::{PayloadHash, SigError};
use serde_json::{Value, json};
use time::OffsetDateTime;

use crate::protocol::{self, Proto, Target};
use crate::state::AppState;

/// What the audit record needs to know about a request, filled in as the pipeline goes.
struct Trace {
    now: OffsetDateTime,
    request_id: String,
    source_ip: String,
    user_agent: String,
    region: String,
    target: Option<Target>,
    /// Set once the caller is authenticated.
    principal: Option<Principal>,
    /// Access key named by a request that failed authentication.
    claimed_access_key: Option<String>,
    input: Option<Value>,
    output: Option<Value>,
}

pub async fn handle(state: Arc<AppState>, remote: SocketAddr, request: Request<Body>) -> Response {
    let (parts, body) = request.into_parts();
    let mut trace = Trace {
        now: OffsetDateTime::now_utc(),
        request_id: ids::request_id()
            .unwrap_or_else(|_| "00000000-0000-4000-8000-000000000000".to_string()),
        source_ip: remote.ip().to_string(),
        user_agent: header_str(&parts.headers, "user-agent")
            .unwrap_or("")
            .chars()
            .take(512)
            .collect(),
        region: state.config.region.clone(),
        target: None,
        principal: None,
        claimed_access_key: None,
        input: None,
        output: None,
    };
    // Until the target is known, errors are rendered in the protocol the request looks like.
    let mut proto = Proto::guess(&parts.headers);
    let result = run(&state, &parts, body, &mut trace, &mut proto).await;
    let response = match &result {
        Ok(output) => protocol::encode_output(trace.target.as_ref(), output, &trace.request_id),
        Err(error) => {
            if error.is_server_error() && error.status != 501 {
                tracing::error!(request_id = %trace.request_id, code = %error.code, message = %error.message, "request failed");
            }
            protocol::encode_error(proto, trace.target.as_ref(), error, &trace.request_id)
        }
    };
    let event = audit_event(&trace, result.as_ref().err());
    state.audit.record(event).await;
    response
}

async fn run(
    state: &AppState,
    parts: &axum::http::request::Parts,
    body: Body,
    trace: &mut Trace,
    proto: &mut Proto,
) -> Result<Value, AwsError> {
    let limit = state.config.max_body_bytes;
    if let Some(len) =
        header_str(&parts.headers, "content-length").and_then(|v| v.parse::<u64>().ok())
    {
        if len > limit as u64 {
            return Err(too_large(limit));
        }
    }
    let body = axum::body::to_bytes(body, limit)
        .await
        .map_err(|_| too_large(limit))?;

    let path = parts.uri.path();
    let query = parts.uri.query().unwrap_or("");
    let header_pairs: Vec<(&str, &[u8])> = parts
        .headers
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_bytes()))
        .collect();
    let sig_request = rampart_sigv4::Request {
        method: parts.method.as_str(),
        path,
        query,
        headers: &header_pairs,
        payload: PayloadHash::Body(&body),
    };
    let auth = rampart_sigv4::parse(&sig_request);
    let scope_service = auth.as_ref().ok().map(|a| a.credential.service.as_str());

    // Which service and operation. An unauthenticated request learns nothing more than that.
    let params = protocol::request_params(&parts.method, &parts.headers, query, &body);
    let target = protocol::identify(&parts.headers, &params, scope_service);
    if let Ok(t) = &target {
        *proto = t.proto;
        trace.target = Some(t.clone());
    }
    let auth = auth.map_err(|e| sig_error(&e, *proto))?;
    let target = target?;

    // Who is calling.
    trace.claimed_access_key = Some(auth.credential.access_key_id.clone());
    let region = auth.credential.region.clone();
    rampart_sigv4::check_scope(
        &auth.credential,
        rampart_aws_types::is_region,
        target.signing_name(),
    )
    .map_err(|e| sig_error(&e, *proto))?;
    trace.region = region.clone();
    let principal = match state
        .credentials
        .lookup(&auth.credential.access_key_id)
        .await?
    {
        Some(entry) => {
            let key = entry.signing_key(
                &auth.credential.date,
                &auth.credential.region,
                &auth.credential.service,
            );
            if let Err(e) = rampart_sigv4::verify(&sig_request, &auth, &key, trace.now) {
                if matches!(e, SigError::SignatureDoesNotMatch)
                    && tracing::enabled!(tracing::Level::DEBUG)
                {
                    // The canonical request holds no secret; it is what a client author needs.
                    for options in rampart_sigv4::candidates(&sig_request, &auth) {
                        let canonical =
                            rampart_sigv4::canonical_request(&sig_request, &auth, options);
                        tracing::debug!(request_id = %trace.request_id, canonical_request = %String::from_utf8_lossy(&canonical), "signature mismatch");
                    }
                }
                return Err(sig_error(&e, *proto));
            }
            entry.principal.clone()
        }
        None if state.config.dev && auth.security_token.is_none() => {
            // --dev: any well-formed signature from an unknown key is the default root.
            rampart_sigv4::check_clock(&auth, trace.now).map_err(|e| sig_error(&e, *proto))?;
            Principal::root(&state.default_account, &auth.credential.access_key_id)
        }
        None => return Err(sig_error(&SigError::InvalidClientTokenId, *proto)),
    };
    trace.principal = Some(principal.clone());

    // What is asked.
    let input =
        protocol::decode_input(&target, &parts.method, path, &parts.headers, &params, &body)?;
    trace.input = Some(input.clone());
    let Some(handler) = rampart_services::find_handler(target.signing_name(), &target.operation)
    else {
        return Err(AwsError::not_implemented(&target.operation));
    };
    let ctx = Arc::new(Ctx::new(
        principal,
        region,
        trace.request_id.clone(),
        trace.now,
        state.store.clone(),
        trace.source_ip.clone(),
        state.authorizer.clone(),
    ));
    let result = handler(ctx.clone(), input).await;
    let result = fail_closed(
        result,
        ctx.auth_state(),
        &ctx.principal.arn,
        target.signing_name(),
        &target.operation,
    );
    let output = result?;
    trace.output = Some(output.clone());
    Ok(output)
}

/// Authorization fails closed: an answer from a handler that never asked for a decision (nor
/// declared its operation unauthenticated) is a bug, and is replaced by a denial.
fn fail_closed(
    result: Result<Value, AwsError>,
    state: AuthState,
    principal_arn: &str,
    service: &str,
    operation: &str,
) -> Result<Value, AwsError> {
    if result.is_ok() && state == AuthState::Undecided {
        tracing::error!(
            operation,
            "handler finished without an authorization decision; denying"
        );
        return Err(AwsError::access_denied(format!(
            "User: {principal_arn} is not authorized to perform: {service}:{operation}"
        )));
    }
    result
}

fn too_large(limit: usize) -> AwsError {
    AwsError::new(
        "RequestEntityTooLarge",
        413,
        format!("Request body is larger than the limit of {limit} bytes."),
    )
}

fn sig_error(e: &SigError, proto: Proto) -> AwsError {
    let p = proto.sigv4_family();
    AwsError::new(e.code(p), e.http_status(p), e.message())
}

fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// Operations CloudTrail marks `readOnly`: those that only read state.
fn is_read_only(operation: &str) -> bool {
    const READ_PREFIXES: [&str; 8] = [
        "Get", "List", "Describe", "Lookup", "Search", "Simulate", "Validate", "Decrypt",
    ];
    READ_PREFIXES.iter().any(|p| operation.starts_with(p))
        || operation == "Verify"
        || operation == "VerifyMac"
}

/// The CloudTrail record for this request. Inputs and outputs are redacted from the model.
fn audit_event(trace: &Trace, error: Option<&AwsError>) -> Value {
    let event_time = trace
        .now
        .replace_nanosecond(0)
        .unwrap_or(trace.now)
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    let (source, name) = match &trace.target {
        Some(t) => (
            format!("{}.amazonaws.com", t.event_source_prefix()),
            t.operation.clone(),
        ),
        None => ("unknown".to_string(), "Unknown".to_string()),
    };
    let identity = match &trace.principal {
        Some(p) => json!({
            "type": p.identity_type(),
            "principalId": p.user_id,
            "arn": p.arn,
            "accountId": p.account,
            "accessKeyId": p.access_key_id,
        }),
        None => json!({ "type": "Unknown", "accessKeyId": trace.claimed_access_key }),
    };
    let recipient = trace.principal.as_ref().map(|p| p.account.clone());
    let redact = |value: &Option<Value>, output: bool| -> Value {
        match (value, &trace.target) {
            (Some(v), Some(t)) => protocol::redact(t, v, output),
            _ => Value::Null,
        }
    };
    let mut event = json!({
        "eventVersion": "1.09",
        "userIdentity": identity,
        "eventTime": event_time,
        "eventSource": source,
        "eventName": name,
        "awsRegion": trace.region,
        "sourceIPAddress": trace.source_ip,
        "userAgent": trace.user_agent,
        "requestParameters": redact(&trace.input, false),
        "responseElements": redact(&trace.output, true),
        "requestID": trace.request_id,
        "eventID": ids::request_id().unwrap_or_default(),
        "readOnly": is_read_only(&name),
        "eventType": "AwsApiCall",
        "managementEvent": true,
        "eventCategory": "Management",
        "recipientAccountId": recipient,
    });
    if let (Some(e), Some(map)) = (error, event.as_object_mut()) {
        map.insert("errorCode".into(), Value::String(e.code.to_string()));
        map.insert("errorMessage".into(), Value::String(e.message.clone()));
    }
    event
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn undecided_answers_are_denied() {
        let ok = || Ok(json!({"secret": "x"}));
        let denied = fail_closed(
            ok(),
            AuthState::Undecided,
            "arn:aws:iam::1:root",
            "sts",
            "X",
        )
        .unwrap_err();
        assert_eq!(denied.code, "AccessDenied");
        assert!(fail_closed(ok(), AuthState::Allowed, "a", "s", "o").is_ok());
        assert!(fail_closed(ok(), AuthState::Unauthenticated, "a", "s", "o").is_ok());
        // Errors pass through unchanged (a denial already happened, or the input was bad).
        let err = fail_closed(
            Err(AwsError::validation("bad")),
            AuthState::Undecided,
            "a",
            "s",
            "o",
        )
        .unwrap_err();
        assert_eq!(err.message, "bad");
    }

    #[test]
    fn read_only_classification() {
        assert!(is_read_only("GetCallerIdentity"));
        assert!(is_read_only("ListUsers"));
        assert!(!is_read_only("CreateUser"));
        assert!(!is_read_only("PutSecretValue"));
    }
}
