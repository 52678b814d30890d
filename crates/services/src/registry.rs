//! Which handler serves which (service, operation).
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use rampart_aws_types::AwsError;
use serde_json::Value;

use crate::Ctx;

pub type HandlerFuture = Pin<Box<dyn Future<Output = Result<Value, AwsError>> + Send>>;
/// A handler takes the request context and the decoded canonical input.
pub type Handler = fn(Arc<Ctx>, Value) -> HandlerFuture;

/// The handler for an operation, by the service's signing name (`sts`, `iam`, `kms`, ...), or
/// `None` when the operation is not built yet (the pipeline answers 501 NotImplemented).
pub fn find_handler(service: &str, operation: &str) -> Option<Handler> {
    match service {
        "sts" => crate::sts::handler(operation),
        _ => None,
    }
}
