//! CloudTrail's errors, with the codes and statuses of its service model.
use rampart_aws_types::AwsError;

/// A model-declared CloudTrail error.
pub fn error(shape: &str, message: impl Into<String>) -> AwsError {
    match rampart_wire::service("cloudtrail") {
        Some(svc) => rampart_wire::modeled_error(svc, shape, message),
        None => AwsError::new(shape.to_string(), 400, message),
    }
}

pub fn trail_not_found(arn: &str, account: &str) -> AwsError {
    error(
        "TrailNotFoundException",
        format!("Unknown trail: {arn} for the user: {account}"),
    )
}
