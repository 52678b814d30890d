//! Runs the load generator against a tiny in-process hyper server that verifies every
//! request's SigV4 signature with rampart-sigv4, and checks that both sides count the same.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use rampart_loadgen::{Credentials, Endpoint, LoadConfig, Operation, RequestTemplate, Stop, run};
use rampart_sigv4::{PayloadHash, Protocol, Request, SigningKey, parse, verify};
use time::OffsetDateTime;
use tokio::net::TcpListener;

const AKID: &str = "AKIAIOSFODNN7EXAMPLE";
const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

#[derive(Default)]
struct Counters {
    connections: AtomicU64,
    valid: AtomicU64,
    invalid: AtomicU64,
    with_target: AtomicU64,
    with_token: AtomicU64,
}

async fn handle(
    req: hyper::Request<Incoming>,
    counters: Arc<Counters>,
) -> Result<hyper::Response<Full<Bytes>>, Infallible> {
    let (parts, body) = req.into_parts();
    let body = body
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let headers: Vec<(&str, &[u8])> = parts
        .headers
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_bytes()))
        .collect();
    let request = Request {
        method: parts.method.as_str(),
        path: parts.uri.path(),
        query: parts.uri.query().unwrap_or(""),
        headers: &headers,
        payload: PayloadHash::Body(&body),
    };
    if parts.headers.contains_key("x-amz-target") {
        counters.with_target.fetch_add(1, Ordering::Relaxed);
    }
    if parts.headers.contains_key("x-amz-security-token") {
        counters.with_token.fetch_add(1, Ordering::Relaxed);
    }
    let outcome = parse(&request).and_then(|auth| {
        assert_eq!(auth.credential.access_key_id, AKID);
        let key = SigningKey::derive(
            SECRET,
            &auth.credential.date,
            &auth.credential.region,
            &auth.credential.service,
        );
        verify(&request, &auth, &key, OffsetDateTime::now_utc())
    });
    let response = match outcome {
        Ok(()) => {
            counters.valid.fetch_add(1, Ordering::Relaxed);
            hyper::Response::new(Full::new(Bytes::from_static(b"<ok/>")))
        }
        Err(e) => {
            counters.invalid.fetch_add(1, Ordering::Relaxed);
            let mut r = hyper::Response::new(Full::new(Bytes::from(format!(
                "<Code>{}</Code><Message>{}</Message>",
                e.code(Protocol::Query),
                e.message()
            ))));
            *r.status_mut() = hyper::StatusCode::from_u16(e.http_status(Protocol::Query)).unwrap();
            r
        }
    };
    Ok(response)
}

async fn start_server() -> (SocketAddr, Arc<Counters>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let counters = Arc::new(Counters::default());
    let c = Arc::clone(&counters);
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            c.connections.fetch_add(1, Ordering::Relaxed);
            let c = Arc::clone(&c);
            tokio::spawn(async move {
                let svc = service_fn(move |req| handle(req, Arc::clone(&c)));
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), svc)
                    .await;
            });
        }
    });
    (addr, counters)
}

fn creds(secret: &str, token: Option<&str>) -> Credentials {
    Credentials {
        access_key_id: AKID.to_owned(),
        secret_access_key: secret.to_owned(),
        session_token: token.map(str::to_owned),
    }
}

fn sts_query() -> Operation {
    Operation::Query {
        action: "GetCallerIdentity".into(),
        version: "2011-06-15".into(),
        params: String::new(),
    }
}

fn config(
    addr: SocketAddr,
    op: &Operation,
    connections: usize,
    stop: Stop,
    credentials: Credentials,
    service: &str,
) -> LoadConfig {
    let endpoint = Endpoint::parse(&format!("http://{addr}")).unwrap();
    LoadConfig {
        template: RequestTemplate::new(endpoint.clone(), op),
        endpoint,
        connections,
        stop,
        credentials,
        region: "us-east-1".into(),
        service: service.into(),
        timeout: Duration::from_secs(10),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signed_query_requests_all_verify_over_keep_alive_connections() {
    let (addr, counters) = start_server().await;
    let report = run(config(
        addr,
        &sts_query(),
        4,
        Stop::Requests(300),
        creds(SECRET, None),
        "sts",
    ))
    .await
    .unwrap();
    assert_eq!(report.requests, 300);
    assert_eq!(report.ok, 300);
    assert_eq!(report.errors, 0);
    assert_eq!(report.transport_errors, 0);
    assert_eq!(report.status_counts.get(&200), Some(&300));
    assert_eq!(counters.valid.load(Ordering::Relaxed), 300);
    assert_eq!(counters.invalid.load(Ordering::Relaxed), 0);
    // Keep-alive: one TCP connection per worker, reused for every request.
    assert_eq!(counters.connections.load(Ordering::Relaxed), 4);
    assert!(report.latency.p50_us >= 1 && report.latency.p50_us <= report.latency.p99_us);
    assert!(report.latency.p99_us <= report.latency.p999_us);
    assert!(report.latency.p999_us <= report.latency.max_us);
    assert!(report.sign_ns_per_request > 0.0);
    assert!(report.requests_per_sec > 0.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_target_with_session_token_verifies() {
    let (addr, counters) = start_server().await;
    let op = Operation::Json {
        target: "TrentService.Encrypt".into(),
        json_version: "1.1".into(),
        body: br#"{"KeyId":"alias/bench","Plaintext":"aGVsbG8="}"#.to_vec(),
    };
    let report = run(config(
        addr,
        &op,
        2,
        Stop::Requests(120),
        creds(SECRET, Some("FQoGZXIvYXdzEXAMPLE==")),
        "kms",
    ))
    .await
    .unwrap();
    assert_eq!((report.requests, report.ok), (120, 120));
    assert_eq!(counters.valid.load(Ordering::Relaxed), 120);
    assert_eq!(counters.with_target.load(Ordering::Relaxed), 120);
    assert_eq!(counters.with_token.load(Ordering::Relaxed), 120);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_secret_is_counted_by_status() {
    let (addr, counters) = start_server().await;
    let report = run(config(
        addr,
        &sts_query(),
        3,
        Stop::Requests(50),
        creds("not-the-secret", None),
        "sts",
    ))
    .await
    .unwrap();
    assert_eq!(report.requests, 50);
    assert_eq!(report.ok, 0);
    assert_eq!(report.errors, 50);
    assert_eq!(report.status_counts.get(&403), Some(&50));
    assert_eq!(counters.invalid.load(Ordering::Relaxed), 50);
    assert!(
        report
            .first_error_body
            .as_deref()
            .unwrap()
            .contains("<Code>SignatureDoesNotMatch</Code>"),
        "{:?}",
        report.first_error_body
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duration_mode_counts_match_the_server() {
    let (addr, counters) = start_server().await;
    let report = run(config(
        addr,
        &sts_query(),
        2,
        Stop::Duration(Duration::from_millis(300)),
        creds(SECRET, None),
        "sts",
    ))
    .await
    .unwrap();
    assert!(report.requests > 0);
    assert!(report.duration_secs >= 0.3);
    assert_eq!(report.ok, counters.valid.load(Ordering::Relaxed));
    assert_eq!(report.requests, report.ok);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreachable_endpoint_counts_transport_errors() {
    // Bind then drop, so the port is (almost certainly) closed.
    let addr = TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap()
        .local_addr()
        .unwrap();
    let report = run(config(
        addr,
        &sts_query(),
        2,
        Stop::Requests(6),
        creds(SECRET, None),
        "sts",
    ))
    .await
    .unwrap();
    assert_eq!(report.requests, 6);
    assert_eq!(report.transport_errors, 6);
    assert_eq!(report.errors, 6);
    assert!(report.status_counts.is_empty());
    assert!(
        report
            .first_transport_error
            .unwrap()
            .starts_with("connect ")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_prints_a_json_report() {
    let (addr, counters) = start_server().await;
    let dir = std::env::temp_dir().join(format!("rampart-loadgen-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let creds_file = dir.join("credentials");
    std::fs::write(
        &creds_file,
        format!("[other]\naws_access_key_id = X\naws_secret_access_key = Y\n\n[bench]\naws_access_key_id = {AKID}\naws_secret_access_key = {SECRET}\n"),
    )
    .unwrap();
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_rampart-loadgen"))
        .args([
            "--endpoint",
            &format!("http://{addr}"),
            "--connections",
            "3",
            "--requests",
            "200",
        ])
        .args([
            "--profile",
            "bench",
            "--credentials-file",
            creds_file.to_str().unwrap(),
        ])
        .args([
            "--service",
            "sts",
            "--target-or-action",
            "GetCallerIdentity",
            "--json",
        ])
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env_remove("AWS_SESSION_TOKEN")
        .env_remove("AWS_PROFILE")
        .output()
        .await
        .unwrap();
    std::fs::remove_dir_all(&dir).ok();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["requests"], 200);
    assert_eq!(json["ok"], 200);
    assert_eq!(json["status_counts"]["200"], 200);
    assert!(json["latency"]["p99_us"].as_u64().unwrap() > 0);
    assert_eq!(counters.valid.load(Ordering::Relaxed), 200);
}
