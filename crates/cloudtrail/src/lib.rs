//! AWS CloudTrail for Rampart: the record format of audit events, the indexes the server's audit
//! writer keeps beside them, `LookupEvents`, trails with event selectors, delivery of log files to
//! a local directory or an S3-compatible endpoint, and signed digest files.
//!
//! The server's dispatcher calls [`handler`]; the audit writer calls [`index::batch_rows`] for
//! every batch it stores; the job scheduler runs [`tick`].
#![cfg_attr(
    test,
    allow(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )
)]

pub mod delivery;
pub mod destination;
pub mod digest;
pub mod errors;
pub mod index;
pub mod journal;
pub mod lake;
pub mod lookup;
pub mod record;
pub mod retention;
pub mod selectors;
pub mod settings;
pub mod stored;
pub mod trail;
pub mod trails;
pub mod validate;

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicI64, Ordering};

use rampart_aws_types::AwsError;
use rampart_services::{Handler, Node};
use time::OffsetDateTime;

/// The job scheduler's future type.
pub type TickFuture = Pin<Box<dyn Future<Output = Result<(), AwsError>> + Send>>;

/// Last retention run (epoch seconds); retention runs once a minute.
static LAST_RETENTION: AtomicI64 = AtomicI64::new(0);

/// The background job: trail delivery and digests every tick, retention once a minute. Does
/// nothing until the server installed [`settings`].
pub fn tick(node: Node, now: OffsetDateTime) -> TickFuture {
    Box::pin(async move {
        let Some(settings) = settings::get() else {
            return Ok(());
        };
        let t = now.unix_timestamp();
        if t - LAST_RETENTION.load(Ordering::Relaxed) >= 60 {
            LAST_RETENTION.store(t, Ordering::Relaxed);
            let removed = retention::expire_default(&node.store, now).await?;
            if removed > 0 {
                tracing::info!(removed, "audit retention removed events older than 90 days");
            }
        }
        delivery::deliver_all(&node.store, &node.master_key, settings, now).await
    })
}

pub fn handler(operation: &str) -> Option<Handler> {
    Some(match operation {
        "LookupEvents" => lookup::lookup_events,
        "CreateTrail" => trails::create_trail,
        "GetTrail" => trails::get_trail,
        "DescribeTrails" => trails::describe_trails,
        "ListTrails" => trails::list_trails,
        "UpdateTrail" => trails::update_trail,
        "DeleteTrail" => trails::delete_trail,
        "StartLogging" => trails::start_logging,
        "StopLogging" => trails::stop_logging,
        "GetTrailStatus" => trails::get_trail_status,
        "PutEventSelectors" => trails::put_event_selectors,
        "GetEventSelectors" => trails::get_event_selectors,
        "AddTags" => trails::add_tags,
        "RemoveTags" => trails::remove_tags,
        "ListTags" => trails::list_tags,
        "ListPublicKeys" => digest::list_public_keys,
        "CreateEventDataStore" => lake::create_event_data_store,
        "GetEventDataStore" => lake::get_event_data_store,
        "ListEventDataStores" => lake::list_event_data_stores,
        "UpdateEventDataStore" => lake::update_event_data_store,
        "DeleteEventDataStore" => lake::delete_event_data_store,
        "StartQuery" => lake::start_query,
        "DescribeQuery" => lake::describe_query,
        "GetQueryResults" => lake::get_query_results,
        "CancelQuery" => lake::cancel_query,
        _ => return None,
    })
}
