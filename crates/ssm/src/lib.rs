//! AWS Systems Manager Parameter Store (awsJson1.1, target prefix `AmazonSSM`): String,
//! StringList and SecureString parameters (SecureString values encrypted through Rampart's KMS,
//! `alias/aws/ssm` by default), versions, labels, tiers, policies, tags, and
//! `/aws/reference/secretsmanager/...` references. The server's dispatcher calls [`handler`];
//! the scheduler calls [`tick::tick`].
#![cfg_attr(
    test,
    allow(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )
)]

pub mod error;
pub mod filters;
pub mod names;
pub mod ops;
pub mod policies;
pub mod record;
pub mod reference;
pub mod tick;

#[cfg(test)]
mod tests;

use rampart_services::{Handler, HandlerFuture};

macro_rules! op {
    ($f:path) => {
        (|ctx, input| -> HandlerFuture { Box::pin($f(ctx, input)) }) as Handler
    };
}

pub fn handler(operation: &str) -> Option<Handler> {
    use ops::*;
    Some(match operation {
        "PutParameter" => op!(put::put_parameter),
        "GetParameter" => op!(get::get_parameter),
        "GetParameters" => op!(get::get_parameters),
        "GetParameterHistory" => op!(get::get_parameter_history),
        "GetParametersByPath" => op!(list::get_parameters_by_path),
        "DescribeParameters" => op!(list::describe_parameters),
        "DeleteParameter" => op!(delete::delete_parameter),
        "DeleteParameters" => op!(delete::delete_parameters),
        "LabelParameterVersion" => op!(labels::label_parameter_version),
        "UnlabelParameterVersion" => op!(labels::unlabel_parameter_version),
        "AddTagsToResource" => op!(tags::add_tags_to_resource),
        "RemoveTagsFromResource" => op!(tags::remove_tags_from_resource),
        "ListTagsForResource" => op!(tags::list_tags_for_resource),
        _ => return None,
    })
}
