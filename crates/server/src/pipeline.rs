//! One request, start to end (DESIGN.md):
//! identify the service and operation → authenticate (SigV4) → decode the input from the model →
//! the handler (which must ask for an authorization decision) → encode → audit.
use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::Body;
use axum::http::{HeaderMap, Request};
use axum::response::Response;
use rampart_aws_types::{AwsError, ids};
use rampart_services::{AuthState, Ctx, Principal, RequestFacts};
use rampart_sigv4::{PayloadHash, SigError};
use serde_json::Value;

use crate::audit::{self, Trace};
use crate::credentials::SessionFailure;
use crate::protocol::{self, Proto};
use crate::state::AppState;

pub async fn handle(state: Arc<AppState>, remote: SocketAddr, request: Request<Body>) -> Response {
    let (parts, body) = request.into_parts();
    let mut trace = Trace {
        now: state.clock.now(),
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
        key_account: None,
        input: None,
        output: None,
        resources: Vec::new(),
        session: Default::default(),
        tls: parts
            .extensions
            .get::<crate::tls::TlsConnection>()
            .map(|t| rampart_cloudtrail::record::TlsDetails {
                tls_version: t.version.clone(),
                cipher_suite: t.cipher_suite.clone(),
                client_provided_host_header: header_str(&parts.headers, "host")
                    .unwrap_or("")
                    .to_string(),
            }),
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
    if !state.audit.enabled() {
        return response;
    }
    let (event, meta) = audit::event(&mut trace, result.as_ref().err(), &state.default_account);
    if let Err(error) = state.audit.record_encoded(&event, meta).await {
        // --audit-mode fail-closed: no durable record, no answer.
        return protocol::encode_error(proto, trace.target.as_ref(), &error, &trace.request_id);
    }
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
    let body = read_body(body, limit).await?;

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
    let target = target?;
    let (principal, region) = match auth {
        // The few operations AWS serves unsigned (the token or assertion in the request is the
        // proof); their handlers establish who the caller is.
        Err(SigError::MissingAuthenticationToken) if protocol::serves_unsigned(&target) => (
            Principal::anonymous(&state.default_account),
            state.config.region.clone(),
        ),
        auth => {
            let auth = auth.map_err(|e| sig_error(&e, *proto))?;
            authenticate(state, &sig_request, auth, trace, *proto, &target).await?
        }
    };
    trace.principal = Some(principal.clone());

    // What is asked.
    let input =
        protocol::decode_input(&target, &parts.method, path, &parts.headers, &params, &body)?;
    // The record keeps the redacted view only (no second copy of a secret in memory).
    if state.audit.enabled() {
        trace.input = Some(protocol::redact(&target, &input, false));
    }
    let Some(handler) = crate::dispatch::find_handler(target.signing_name(), &target.operation)
    else {
        return Err(AwsError::not_implemented(&target.operation));
    };
    let facts = RequestFacts {
        source_ip: trace.source_ip.clone(),
        secure_transport: trace.tls.is_some(),
        now: trace.now,
        region,
        user_agent: trace.user_agent.clone(),
    };
    let ctx = Arc::new(Ctx::new(
        principal,
        trace.request_id.clone(),
        facts,
        state.node.clone(),
    ));
    let result = handler(ctx.clone(), input).await;
    trace.resources = ctx.resources();
    let result = fail_closed(
        result,
        ctx.auth_state(),
        &ctx.principal.arn,
        target.signing_name(),
        &target.operation,
    );
    let output = result?;
    if target.signing_name() == "iam" && !audit::is_read_only(&target.operation) {
        // Any change to IAM may change someone's permissions: the next decision reloads.
        state.iam_authz.invalidate();
    }
    if state.audit.enabled() {
        trace.output = Some(protocol::redact(&target, &output, true));
    }
    Ok(output)
}

/// Who is calling: the access key's principal, once its signature checks out.
async fn authenticate(
    state: &AppState,
    sig_request: &rampart_sigv4::Request<'_>,
    auth: rampart_sigv4::ParsedAuth,
    trace: &mut Trace,
    proto: Proto,
    target: &protocol::Target,
) -> Result<(Principal, String), AwsError> {
    trace.claimed_access_key = Some(auth.credential.access_key_id.clone());
    let region = auth.credential.region.clone();
    rampart_sigv4::check_scope(
        &auth.credential,
        rampart_aws_types::is_region,
        target.signing_name(),
    )
    .map_err(|e| sig_error(&e, proto))?;
    trace.region = region.clone();
    let entry = state
        .credentials
        .authenticate(
            &auth.credential.access_key_id,
            auth.security_token.as_deref(),
            trace.now.unix_timestamp(),
        )
        .await;
    let entry = match entry {
        Ok(entry) => entry,
        Err(SessionFailure::Invalid) => {
            return Err(sig_error(&SigError::InvalidClientTokenId, proto));
        }
        Err(SessionFailure::Expired) => return Err(sig_error(&SigError::ExpiredToken, proto)),
        Err(SessionFailure::Internal(e)) => return Err(e),
    };
    let principal = match entry {
        Some(entry) => {
            trace.key_account = Some(entry.principal.account.clone());
            let key = entry.signing_key(
                &auth.credential.date,
                &auth.credential.region,
                &auth.credential.service,
            );
            if let Err(e) = rampart_sigv4::verify(sig_request, &auth, &key, state.clock.wall()) {
                if matches!(e, SigError::SignatureDoesNotMatch)
                    && tracing::enabled!(tracing::Level::DEBUG)
                {
                    // The canonical request holds no secret; it is what a client author needs.
                    for options in rampart_sigv4::candidates(sig_request, &auth) {
                        let canonical =
                            rampart_sigv4::canonical_request(sig_request, &auth, options);
                        tracing::debug!(request_id = %trace.request_id, canonical_request = %String::from_utf8_lossy(&canonical), "signature mismatch");
                    }
                }
                return Err(sig_error(&e, proto));
            }
            // When the key was last used (IAM GetAccessKeyLastUsed): an in-memory note, written
            // to the store by the `iam` tick once a second.
            rampart_iam::key_usage::note(
                &auth.credential.access_key_id,
                &auth.credential.service,
                &auth.credential.region,
                trace.now,
            );
            entry.principal.clone()
        }
        None if state.config.dev && auth.security_token.is_none() => {
            // --dev: any well-formed signature from an unknown key is the default root.
            rampart_sigv4::check_clock(&auth, state.clock.wall())
                .map_err(|e| sig_error(&e, proto))?;
            Principal::root(&state.default_account, &auth.credential.access_key_id)
        }
        None => return Err(sig_error(&SigError::InvalidClientTokenId, proto)),
    };
    Ok((principal, region))
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

/// Most of an oversized body we read and discard before answering 413, so that a client still
/// sending gets the answer instead of a broken connection; past it the connection is dropped.
const DRAIN_LIMIT: usize = 64 * 1024 * 1024;

/// Reads the whole body, or answers 413 once it passes `limit`.
async fn read_body(mut body: Body, limit: usize) -> Result<bytes::Bytes, AwsError> {
    use http_body_util::BodyExt;
    let mut buf = bytes::BytesMut::new();
    let mut seen = 0usize;
    while let Some(frame) = body.frame().await {
        let Ok(frame) = frame else {
            return Err(AwsError::new(
                "IncompleteBody",
                400,
                "The request body ended early.",
            ));
        };
        let Ok(data) = frame.into_data() else {
            continue;
        };
        seen = seen.saturating_add(data.len());
        if seen > limit {
            if seen > DRAIN_LIMIT {
                break;
            }
            continue;
        }
        buf.extend_from_slice(&data);
    }
    if seen > limit {
        return Err(too_large(limit));
    }
    Ok(buf.freeze())
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
    AwsError::new(e.code(p), e.http_status(p), e.message_for(p))
}

fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn undecided_answers_are_denied() {
        let ok = || Ok(serde_json::json!({"secret": "x"}));
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
}
