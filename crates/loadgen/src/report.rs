//! The result of a run: throughput, latency percentiles, statuses, signing cost.

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;

/// Latency percentiles in microseconds.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Latency {
    /// Median.
    pub p50_us: u64,
    /// 90th percentile.
    pub p90_us: u64,
    /// 99th percentile.
    pub p99_us: u64,
    /// 99.9th percentile.
    pub p999_us: u64,
    /// Slowest.
    pub max_us: u64,
    /// Mean.
    pub mean_us: f64,
}

/// Summary of a run. `--json` prints it as is.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Report {
    /// Connections used.
    pub connections: usize,
    /// Requests attempted (answered or failed).
    pub requests: u64,
    /// Requests answered with 2xx.
    pub ok: u64,
    /// Non-2xx answers plus transport failures.
    pub errors: u64,
    /// Answers by HTTP status (all statuses, including 2xx).
    pub status_counts: BTreeMap<u16, u64>,
    /// Connect/send/receive failures and timeouts (no HTTP status).
    pub transport_errors: u64,
    /// Wall time of the run.
    pub duration_secs: f64,
    /// `requests / duration_secs`.
    pub requests_per_sec: f64,
    /// Latency of answered requests (send to last body byte).
    pub latency: Latency,
    /// Mean time to build and sign one request.
    pub sign_ns_per_request: f64,
    /// The first non-2xx answer's body (first 300 bytes), to see why requests fail.
    pub first_error_body: Option<String>,
    /// The first transport error.
    pub first_transport_error: Option<String>,
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ms = |us: u64| us as f64 / 1000.0;
        writeln!(
            f,
            "{} requests over {} connections in {:.2} s",
            self.requests, self.connections, self.duration_secs
        )?;
        writeln!(f, "  throughput  {:.1} req/s", self.requests_per_sec)?;
        writeln!(
            f,
            "  latency     p50 {:.3} ms  p90 {:.3} ms  p99 {:.3} ms  p99.9 {:.3} ms  max {:.3} ms  mean {:.3} ms",
            ms(self.latency.p50_us),
            ms(self.latency.p90_us),
            ms(self.latency.p99_us),
            ms(self.latency.p999_us),
            ms(self.latency.max_us),
            self.latency.mean_us / 1000.0
        )?;
        let statuses: Vec<String> = self
            .status_counts
            .iter()
            .map(|(s, n)| format!("{s}: {n}"))
            .collect();
        writeln!(f, "  statuses    {}", statuses.join(", "))?;
        writeln!(
            f,
            "  errors      {} (non-2xx {}, transport {})",
            self.errors,
            self.errors.saturating_sub(self.transport_errors),
            self.transport_errors
        )?;
        writeln!(
            f,
            "  signing     {:.2} us/request",
            self.sign_ns_per_request / 1000.0
        )?;
        if let Some(body) = &self.first_error_body {
            writeln!(f, "  first error body: {body}")?;
        }
        if let Some(e) = &self.first_transport_error {
            writeln!(f, "  first transport error: {e}")?;
        }
        Ok(())
    }
}
