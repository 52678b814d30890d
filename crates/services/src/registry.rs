//! The handler type every service's operations table uses.
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use rampart_aws_types::AwsError;
use serde_json::Value;

use crate::Ctx;

pub type HandlerFuture = Pin<Box<dyn Future<Output = Result<Value, AwsError>> + Send>>;
/// A handler takes the request context and the decoded canonical input.
pub type Handler = fn(Arc<Ctx>, Value) -> HandlerFuture;
