//! Parameter Store's errors with AWS's codes and messages. Messages name parameters, never
//! values.
use rampart_aws_types::AwsError;

pub fn ssm(code: &'static str, message: impl Into<String>) -> AwsError {
    AwsError::new(code, 400, message)
}

pub fn validation(message: impl Into<String>) -> AwsError {
    ssm("ValidationException", message)
}

pub fn not_found(name: &str) -> AwsError {
    ssm("ParameterNotFound", format!("Parameter {name} not found."))
}

pub fn version_not_found(name: &str, version: &str) -> AwsError {
    ssm(
        "ParameterVersionNotFound",
        format!(
            "Systems Manager could not find version {version} of {name}. Verify the version and try again."
        ),
    )
}

pub fn already_exists() -> AwsError {
    ssm(
        "ParameterAlreadyExists",
        "The parameter already exists. To overwrite this request value, set the overwrite option in the request to true.",
    )
}

pub fn invalid_next_token() -> AwsError {
    ssm("InvalidNextToken", "The specified token is not valid.")
}

pub fn internal() -> AwsError {
    AwsError::new(
        "InternalServerError",
        500,
        "An error occurred on the server side.",
    )
}
