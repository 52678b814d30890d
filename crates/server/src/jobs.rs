//! Background jobs (key deletion, secret rotation, trail delivery, parameter expiry, ...): each
//! service crate exposes a tick function; the scheduler runs every tick once a second with the
//! current time. A tick must be idempotent and cheap when there is nothing to do, and must record
//! its actions (AwsServiceEvent audit records) itself.
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use rampart_aws_types::AwsError;
use rampart_services::Node;
use time::OffsetDateTime;
use tokio::sync::watch;

pub type TickFuture = Pin<Box<dyn Future<Output = Result<(), AwsError>> + Send>>;
/// One service's periodic work.
pub type Tick = fn(Node, OffsetDateTime) -> TickFuture;

/// Every service's tick, by name. Adding a job is one line here.
const TICKS: &[(&str, Tick)] = &[
    ("kms", rampart_kms::tick::tick),
    ("cloudtrail", rampart_cloudtrail::tick),
    ("iam", rampart_iam::key_usage::flush),
    ("secretsmanager", rampart_secretsmanager::tick::tick),
    ("ssm", rampart_ssm::tick::tick),
];

const PERIOD: Duration = Duration::from_secs(1);

/// Runs the ticks until `shutdown` turns true.
pub fn start(
    node: Node,
    clock: std::sync::Arc<crate::clock::Clock>,
    mut shutdown: watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut interval = tokio::time::interval(PERIOD);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = interval.tick() => {}
                _ = shutdown.changed() => break,
            }
            if *shutdown.borrow() {
                break;
            }
            let now = clock.now();
            for (name, tick) in TICKS {
                if let Err(e) = tick(node.clone(), now).await {
                    tracing::error!(job = name, code = %e.code, message = %e.message, "background job failed");
                }
            }
        }
    })
}
