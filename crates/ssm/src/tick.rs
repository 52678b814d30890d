//! The background job: deletes parameters whose `Expiration` policy time has passed.
//! (Wired in a later step; see the README.)
use std::future::Future;
use std::pin::Pin;

use rampart_aws_types::AwsError;
use rampart_services::Node;
use time::OffsetDateTime;

pub type TickFuture = Pin<Box<dyn Future<Output = Result<(), AwsError>> + Send>>;

pub fn tick(_node: Node, _now: OffsetDateTime) -> TickFuture {
    Box::pin(async { Ok(()) })
}
