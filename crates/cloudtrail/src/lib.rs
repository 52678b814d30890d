//! AWS CloudTrail for Rampart: the record format of audit events, the indexes the server's audit
//! writer keeps beside them, `LookupEvents`, trails with event selectors, delivery of log files to
//! a local directory or an S3-compatible endpoint, and signed digest files.
//!
//! The server's dispatcher calls [`handler`]; the audit writer calls [`index::index_keys`] for
//! every event it stores; the job scheduler runs [`tick`].
#![cfg_attr(
    test,
    allow(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )
)]

pub mod errors;
pub mod index;
pub mod lookup;
pub mod record;
pub mod retention;
pub mod selectors;
pub mod settings;
pub mod stored;
pub mod trail;
pub mod trails;

use rampart_services::Handler;

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
        _ => return None,
    })
}
