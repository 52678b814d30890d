//! Secrets Manager's errors with AWS's codes and messages. Messages name secrets, never values.
use rampart_aws_types::AwsError;

pub fn sm(code: &'static str, message: impl Into<String>) -> AwsError {
    AwsError::new(code, 400, message)
}

pub fn not_found() -> AwsError {
    sm(
        "ResourceNotFoundException",
        "Secrets Manager can't find the specified secret.",
    )
}

pub fn version_not_found(what: &str, id: &str) -> AwsError {
    sm(
        "ResourceNotFoundException",
        format!("Secrets Manager can't find the specified secret value for {what}: {id}"),
    )
}

pub fn marked_for_deletion() -> AwsError {
    sm(
        "InvalidRequestException",
        "You can't perform this operation on the secret because it was marked for deletion.",
    )
}

pub fn invalid_parameter(message: impl Into<String>) -> AwsError {
    sm("InvalidParameterException", message)
}

pub fn invalid_request(message: impl Into<String>) -> AwsError {
    sm("InvalidRequestException", message)
}

pub fn exists(message: impl Into<String>) -> AwsError {
    sm("ResourceExistsException", message)
}

pub fn limit(message: impl Into<String>) -> AwsError {
    sm("LimitExceededException", message)
}

pub fn invalid_token() -> AwsError {
    sm(
        "InvalidNextTokenException",
        "The NextToken value is invalid.",
    )
}

pub fn internal() -> AwsError {
    AwsError::new(
        "InternalServiceError",
        500,
        "An error occurred on the server side.",
    )
}
