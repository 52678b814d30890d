//! Drives N keep-alive HTTP/1.1 connections, each sending one request at a time, until a
//! request count or a deadline is reached.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use hdrhistogram::Histogram;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use time::OffsetDateTime;
use tokio::net::TcpStream;

use crate::credentials::Credentials;
use crate::report::{Latency, Report};
use crate::request::{Endpoint, RequestSigner, RequestTemplate};

/// When to stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    /// After exactly this many requests (answered or failed).
    Requests(u64),
    /// When this much time has passed (requests in flight finish).
    Duration(Duration),
}

/// A complete run description.
#[derive(Debug, Clone)]
pub struct LoadConfig {
    /// Where to connect.
    pub endpoint: Endpoint,
    /// Number of concurrent keep-alive connections.
    pub connections: usize,
    /// Stop condition.
    pub stop: Stop,
    /// The request to send.
    pub template: RequestTemplate,
    /// Credentials to sign with.
    pub credentials: Credentials,
    /// Signing region.
    pub region: String,
    /// Signing service name.
    pub service: String,
    /// Per-request timeout (send to last body byte).
    pub timeout: Duration,
}

/// Highest latency the histogram tracks (larger values are clamped): 10 minutes in µs.
const MAX_LATENCY_US: u64 = 600_000_000;
const ERROR_BODY_SAMPLE: usize = 300;

/// What one connection worker observed.
struct WorkerStats {
    latency_us: Histogram<u64>,
    statuses: BTreeMap<u16, u64>,
    transport_errors: u64,
    sign_ns: u128,
    signed: u64,
    first_error_body: Option<String>,
    first_transport_error: Option<String>,
}

impl WorkerStats {
    fn new() -> Result<WorkerStats, String> {
        Ok(WorkerStats {
            latency_us: Histogram::new_with_bounds(1, MAX_LATENCY_US, 3)
                .map_err(|e| e.to_string())?,
            statuses: BTreeMap::new(),
            transport_errors: 0,
            sign_ns: 0,
            signed: 0,
            first_error_body: None,
            first_transport_error: None,
        })
    }

    fn transport_error(&mut self, e: impl ToString) {
        self.transport_errors += 1;
        if self.first_transport_error.is_none() {
            self.first_transport_error = Some(e.to_string());
        }
    }
}

/// Hands out request tickets: a shared countdown, or a deadline.
struct Tickets {
    stop: Stop,
    issued: AtomicU64,
    deadline: Instant,
}

impl Tickets {
    fn take(&self) -> bool {
        match self.stop {
            Stop::Requests(n) => self.issued.fetch_add(1, Ordering::Relaxed) < n,
            Stop::Duration(_) => Instant::now() < self.deadline,
        }
    }
}

/// Runs the load and returns the report. Errors only for setup problems; request failures
/// are counted in the report.
pub async fn run(cfg: LoadConfig) -> Result<Report, String> {
    if cfg.connections == 0 {
        return Err("--connections must be at least 1".to_owned());
    }
    let started = Instant::now();
    let deadline = match cfg.stop {
        Stop::Duration(d) => started + d,
        Stop::Requests(_) => started,
    };
    let tickets = Arc::new(Tickets {
        stop: cfg.stop,
        issued: AtomicU64::new(0),
        deadline,
    });
    let cfg = Arc::new(cfg);
    let mut workers = Vec::with_capacity(cfg.connections);
    for _ in 0..cfg.connections {
        let cfg = Arc::clone(&cfg);
        let tickets = Arc::clone(&tickets);
        workers.push(tokio::spawn(async move { worker(&cfg, &tickets).await }));
    }
    let mut total = WorkerStats::new()?;
    for w in workers {
        let stats = w.await.map_err(|e| format!("worker failed: {e}"))??;
        total
            .latency_us
            .add(&stats.latency_us)
            .map_err(|e| e.to_string())?;
        for (s, n) in stats.statuses {
            *total.statuses.entry(s).or_default() += n;
        }
        total.transport_errors += stats.transport_errors;
        total.sign_ns += stats.sign_ns;
        total.signed += stats.signed;
        total.first_error_body = total.first_error_body.or(stats.first_error_body);
        total.first_transport_error = total.first_transport_error.or(stats.first_transport_error);
    }
    let elapsed = started.elapsed().as_secs_f64();
    Ok(summarize(&cfg, total, elapsed))
}

fn summarize(cfg: &LoadConfig, total: WorkerStats, elapsed: f64) -> Report {
    let answered: u64 = total.statuses.values().sum();
    let ok: u64 = total
        .statuses
        .iter()
        .filter(|(s, _)| (200..300).contains(*s))
        .map(|(_, n)| n)
        .sum();
    let requests = answered + total.transport_errors;
    let h = &total.latency_us;
    Report {
        connections: cfg.connections,
        requests,
        ok,
        errors: requests - ok,
        status_counts: total.statuses,
        transport_errors: total.transport_errors,
        duration_secs: elapsed,
        requests_per_sec: if elapsed > 0.0 {
            requests as f64 / elapsed
        } else {
            0.0
        },
        latency: Latency {
            p50_us: h.value_at_quantile(0.50),
            p90_us: h.value_at_quantile(0.90),
            p99_us: h.value_at_quantile(0.99),
            p999_us: h.value_at_quantile(0.999),
            max_us: h.max(),
            mean_us: h.mean(),
        },
        sign_ns_per_request: if total.signed > 0 {
            total.sign_ns as f64 / total.signed as f64
        } else {
            0.0
        },
        first_error_body: total.first_error_body,
        first_transport_error: total.first_transport_error,
    }
}

async fn connect(addr: &str) -> Result<SendRequest<Full<Bytes>>, String> {
    let stream = TcpStream::connect(addr)
        .await
        .map_err(|e| format!("connect {addr}: {e}"))?;
    stream.set_nodelay(true).map_err(|e| e.to_string())?;
    let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| format!("handshake: {e}"))?;
    // The connection task ends when the server closes or the sender is dropped.
    tokio::spawn(async move {
        let _ = conn.await;
    });
    Ok(sender)
}

async fn worker(cfg: &LoadConfig, tickets: &Tickets) -> Result<WorkerStats, String> {
    let mut stats = WorkerStats::new()?;
    let mut signer = RequestSigner::new(cfg.credentials.clone(), &cfg.region, &cfg.service);
    let mut sender: Option<SendRequest<Full<Bytes>>> = None;
    while tickets.take() {
        let mut conn = match sender.take() {
            Some(s) if !s.is_closed() => s,
            _ => match connect(&cfg.endpoint.connect_addr).await {
                Ok(s) => s,
                Err(e) => {
                    stats.transport_error(e);
                    // Do not spin on a dead endpoint.
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
            },
        };

        let sign_start = Instant::now();
        let request = cfg.template.build(&mut signer, OffsetDateTime::now_utc());
        stats.sign_ns += sign_start.elapsed().as_nanos();
        stats.signed += 1;
        let request = request.map_err(|e| e.to_string())?;

        let start = Instant::now();
        let exchange = async {
            conn.ready().await?;
            let response = conn.send_request(request).await?;
            let status = response.status().as_u16();
            let keep_alive = !response
                .headers()
                .get(http::header::CONNECTION)
                .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"close"));
            let body = response.into_body().collect().await?.to_bytes();
            Ok::<_, hyper::Error>((status, keep_alive, body))
        };
        match tokio::time::timeout(cfg.timeout, exchange).await {
            Ok(Ok((status, keep_alive, body))) => {
                let us = u64::try_from(start.elapsed().as_micros()).unwrap_or(u64::MAX);
                stats
                    .latency_us
                    .saturating_record(us.clamp(1, MAX_LATENCY_US));
                *stats.statuses.entry(status).or_default() += 1;
                if !(200..300).contains(&status) && stats.first_error_body.is_none() {
                    let sample = body.get(..ERROR_BODY_SAMPLE.min(body.len())).unwrap_or(&[]);
                    stats.first_error_body = Some(String::from_utf8_lossy(sample).into_owned());
                }
                if keep_alive {
                    sender = Some(conn);
                }
            }
            Ok(Err(e)) => stats.transport_error(e),
            Err(_) => stats.transport_error(format!("timeout after {:?}", cfg.timeout)),
        }
    }
    Ok(stats)
}
