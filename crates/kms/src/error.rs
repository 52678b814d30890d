//! KMS's errors, with the codes and messages AWS KMS answers. Messages name keys and aliases by
//! ARN, never key material or plaintext.
use rampart_aws_types::AwsError;

pub fn kms(code: &'static str, message: impl Into<String>) -> AwsError {
    AwsError::new(code, 400, message)
}

pub fn key_not_found(arn: &str) -> AwsError {
    kms("NotFoundException", format!("Key '{arn}' does not exist"))
}

pub fn alias_not_found(alias_arn: &str) -> AwsError {
    kms(
        "NotFoundException",
        format!("Alias {alias_arn} is not found."),
    )
}

pub fn invalid_key_id(given: &str) -> AwsError {
    kms(
        "NotFoundException",
        format!("Invalid keyId '{}'", truncate(given)),
    )
}

pub fn invalid_arn(given: &str) -> AwsError {
    kms(
        "InvalidArnException",
        format!("ARN {} is not a valid ARN.", truncate(given)),
    )
}

pub fn disabled(arn: &str) -> AwsError {
    kms("DisabledException", format!("{arn} is disabled."))
}

pub fn invalid_state(message: impl Into<String>) -> AwsError {
    kms("KMSInvalidStateException", message)
}

pub fn invalid_key_usage(message: impl Into<String>) -> AwsError {
    kms("InvalidKeyUsageException", message)
}

pub fn unsupported(message: impl Into<String>) -> AwsError {
    kms("UnsupportedOperationException", message)
}

pub fn malformed_policy(message: impl Into<String>) -> AwsError {
    kms("MalformedPolicyDocumentException", message)
}

pub fn invalid_marker() -> AwsError {
    kms(
        "InvalidMarkerException",
        "The request was rejected because the marker that specifies where pagination should next begin is not valid.",
    )
}

pub fn dry_run() -> AwsError {
    AwsError::new(
        "DryRunOperationException",
        412,
        "The request would have succeeded, but the DryRun option is set.",
    )
}

pub fn internal() -> AwsError {
    AwsError::new(
        "KMSInternalException",
        500,
        "The request was rejected because an internal exception occurred. The request can be retried.",
    )
}

/// Identifiers from the request are echoed shortened, as AWS does, so a huge value cannot
/// balloon an error message.
pub fn truncate(s: &str) -> String {
    s.chars().take(256).collect()
}
