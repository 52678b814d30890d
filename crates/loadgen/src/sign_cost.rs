//! Measures what signing costs per request, without the network: building the request and
//! re-signing it with the current time, exactly as the workers do.

use std::time::Instant;

use time::OffsetDateTime;

use crate::credentials::Credentials;
use crate::request::{RequestError, RequestSigner, RequestTemplate};

/// Builds and signs `iterations` requests on this thread; returns nanoseconds per request.
pub fn measure_sign_cost(
    template: &RequestTemplate,
    credentials: Credentials,
    region: &str,
    service: &str,
    iterations: u32,
) -> Result<f64, RequestError> {
    let mut signer = RequestSigner::new(credentials, region, service);
    let iterations = iterations.max(1);
    let start = Instant::now();
    for _ in 0..iterations {
        let request = template.build(&mut signer, OffsetDateTime::now_utc())?;
        std::hint::black_box(request);
    }
    Ok(start.elapsed().as_nanos() as f64 / f64::from(iterations))
}
