//! The HTTP server: routes, body limits and graceful shutdown.
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, State};
use axum::http::{Request, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

use crate::config::Config;
use crate::state::AppState;
use crate::{audit, bootstrap, credentials, jobs, pipeline};

pub async fn serve(config: Config) -> Result<(), String> {
    let started = Instant::now();
    if config.dev {
        tracing::warn!(
            "DEVELOPMENT MODE: requests signed with unknown access keys are accepted as the root user of the default account, and POST /_rampart/reset wipes all state. Never run --dev in production."
        );
    }
    let node = bootstrap::open(&config)?;
    rampart_cloudtrail::settings::install(trail_settings(&config, &node.default_account));
    let master_key = Arc::new(node.master_key);
    let (audit_sink, audit_writer) = audit::start(
        node.store.clone(),
        config.data_dir.join(audit::JOURNAL_DIR),
        node.default_account.clone(),
        config.audit_mode,
    )
    .await?;
    let credentials = Arc::new(credentials::Credentials::new(
        node.store.clone(),
        master_key.clone(),
    ));
    // Every request is decided by IAM's policy logic over IAM's records.
    let iam_authz = Arc::new(rampart_authz::IamAuthorizer::new(
        node.store.clone(),
        config.explain,
    ));
    let shared = rampart_services::Node {
        store: node.store.clone(),
        master_key,
        authorizer: iam_authz.clone(),
        credential_cache: credentials.clone(),
        service_events: Arc::new(audit_sink.clone()),
    };
    let (stop_jobs, jobs_stopped) = tokio::sync::watch::channel(false);
    let clock = Arc::new(crate::clock::Clock::default());
    let jobs = jobs::start(shared.clone(), clock.clone(), jobs_stopped);
    let state = Arc::new(AppState {
        clock,
        iam_authz,
        credentials,
        node: shared,
        audit: audit_sink,
        default_account: node.default_account.clone(),
        config: config.clone(),
    });
    let mut router = Router::new().route("/_rampart/health", get(health));
    if config.dev {
        router = router
            .route("/_rampart/reset", post(reset))
            .route("/_rampart/clock", post(move_clock));
    }
    let router = router.fallback(aws_request).with_state(state.clone());

    // TLS material is loaded before binding, so a bad certificate fails the start cleanly.
    let tls = match (&config.tls_cert, &config.tls_key) {
        (Some(cert), Some(key)) => Some(crate::tls::server_config(cert, key)?),
        (None, None) => None,
        _ => return Err("--tls-cert and --tls-key go together".to_string()),
    };
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", config.listen))?;
    let local = listener.local_addr().map_err(|e| e.to_string())?;
    tracing::info!(listen = %local, tls = tls.is_some(), account = %node.default_account, data_dir = %config.data_dir.display(), ready_ms = started.elapsed().as_millis() as u64, "rampart is ready");
    match tls {
        Some(tls) => crate::tls::serve(listener, router, tls, shutdown_signal()).await,
        None => {
            // Small request/response exchanges: never let Nagle hold a response back.
            let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
                let _ = tcp.set_nodelay(true);
            });
            axum::serve(
                listener,
                router.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .with_graceful_shutdown(shutdown_signal())
            .await
            .map_err(|e| format!("server error: {e}"))?;
        }
    }

    // In-flight requests have finished; stop the jobs, flush the audit queue, close the store.
    let _ = stop_jobs.send(true);
    if let Err(e) = jobs.await {
        tracing::error!(error = %e, "background jobs ended abnormally");
    }
    tracing::info!("shutting down: flushing the audit trail");
    drop(state);
    if let Err(e) = audit_writer.await {
        tracing::error!(error = %e, "audit writer ended abnormally");
    }
    node.store
        .close()
        .map_err(|e| format!("store close: {e}"))?;
    tracing::info!("stopped cleanly");
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutdown signal received; finishing in-flight requests");
}

async fn health() -> impl IntoResponse {
    (
        [("content-type", "application/json")],
        "{\"status\":\"ok\"}",
    )
}

async fn reset(State(state): State<Arc<AppState>>) -> Response {
    match bootstrap::reset(&state.node.store, &state.default_account).await {
        Ok(()) => {
            state.credentials.clear();
            tracing::warn!("dev reset: all state wiped");
            (
                [("content-type", "application/json")],
                "{\"status\":\"reset\"}",
            )
                .into_response()
        }
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.message).into_response(),
    }
}

/// `POST /_rampart/clock` (--dev only): `{"advanceSeconds": N}` moves domain time forward by N
/// seconds, `{"offsetSeconds": N}` sets the offset from the wall clock. Answers the new offset.
async fn move_clock(State(state): State<Arc<AppState>>, body: axum::body::Bytes) -> Response {
    let request: serde_json::Value =
        serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null);
    let advance = request
        .get("advanceSeconds")
        .and_then(serde_json::Value::as_i64);
    let offset = request
        .get("offsetSeconds")
        .and_then(serde_json::Value::as_i64);
    match (advance, offset) {
        (Some(a), None) => {
            state.clock.advance(a);
        }
        (None, Some(o)) => state.clock.set_offset(o),
        _ => {
            return (
                StatusCode::BAD_REQUEST,
                "send {\"advanceSeconds\": N} or {\"offsetSeconds\": N}",
            )
                .into_response();
        }
    }
    let offset = state.clock.offset_seconds();
    tracing::warn!(offset_seconds = offset, "dev: domain clock moved");
    let body =
        serde_json::json!({ "offsetSeconds": offset, "now": state.clock.now().unix_timestamp() });
    ([("content-type", "application/json")], body.to_string()).into_response()
}

async fn aws_request(
    State(state): State<Arc<AppState>>,
    ConnectInfo(remote): ConnectInfo<SocketAddr>,
    request: Request<Body>,
) -> Response {
    pipeline::handle(state, remote, request).await
}

/// CloudTrail's node settings: local delivery under `<data-dir>/trails/<bucket>/`, or the
/// configured S3-compatible endpoint.
fn trail_settings(
    config: &Config,
    default_account: &str,
) -> rampart_cloudtrail::settings::Settings {
    let s3 =
        config
            .trail_s3_endpoint
            .as_ref()
            .map(|url| rampart_cloudtrail::settings::S3Endpoint {
                url: url.clone(),
                region: config
                    .trail_s3_region
                    .clone()
                    .unwrap_or_else(|| config.region.clone()),
                access_key_id: config.trail_s3_access_key_id.clone().unwrap_or_default(),
                secret_access_key: config
                    .trail_s3_secret_access_key
                    .clone()
                    .unwrap_or_default(),
            });
    rampart_cloudtrail::settings::Settings {
        default_account: default_account.to_string(),
        trails_dir: config.data_dir.join("trails"),
        delivery_interval: std::time::Duration::from_secs(config.trail_delivery_seconds),
        delivery_volume: 1_000,
        digest_interval: std::time::Duration::from_secs(config.trail_digest_seconds),
        s3,
    }
}
