//! AWS Security Token Service (awsQuery). The server's dispatcher calls [`handler`].
#![cfg_attr(
    test,
    allow(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )
)]
use std::sync::Arc;

use rampart_aws_types::AwsError;
use serde_json::{Value, json};

use rampart_services::{Ctx, Handler, HandlerFuture};

pub fn handler(operation: &str) -> Option<Handler> {
    Some(match operation {
        "GetCallerIdentity" => get_caller_identity,
        _ => return None,
    })
}

/// `sts:GetCallerIdentity`. AWS answers it for every authenticated caller, even when a policy
/// explicitly denies it, so no decision is asked for (the `sts:GetCallerIdentity` permission is
/// not enforced by AWS either).
fn get_caller_identity(ctx: Arc<Ctx>, _input: Value) -> HandlerFuture {
    Box::pin(async move {
        ctx.mark_unauthenticated();
        let p = &ctx.principal;
        Ok::<Value, AwsError>(json!({ "UserId": p.user_id, "Account": p.account, "Arn": p.arn }))
    })
}
