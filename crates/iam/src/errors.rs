//! IAM's errors, with the codes, statuses and messages AWS uses. Codes and HTTP statuses come
//! from the IAM service model (`modeled_error`), so they cannot drift from what boto3 expects.
use rampart_aws_types::AwsError;

fn modeled(shape: &str, message: impl Into<String>) -> AwsError {
    match rampart_wire::service("iam") {
        Some(svc) => rampart_wire::modeled_error(svc, shape, message),
        None => AwsError::internal("the IAM service model is missing"),
    }
}

pub fn no_such_entity(message: impl Into<String>) -> AwsError {
    modeled("NoSuchEntityException", message)
}

pub fn already_exists(message: impl Into<String>) -> AwsError {
    modeled("EntityAlreadyExistsException", message)
}

pub fn delete_conflict(message: impl Into<String>) -> AwsError {
    modeled("DeleteConflictException", message)
}

pub fn limit_exceeded(message: impl Into<String>) -> AwsError {
    modeled("LimitExceededException", message)
}

pub fn invalid_input(message: impl Into<String>) -> AwsError {
    modeled("InvalidInputException", message)
}

pub fn malformed_policy(message: impl Into<String>) -> AwsError {
    modeled("MalformedPolicyDocumentException", message)
}

pub fn password_policy_violation(message: impl Into<String>) -> AwsError {
    modeled("PasswordPolicyViolationException", message)
}

pub fn invalid_authentication_code(message: impl Into<String>) -> AwsError {
    modeled("InvalidAuthenticationCodeException", message)
}

pub fn unmodifiable(message: impl Into<String>) -> AwsError {
    modeled("UnmodifiableEntityException", message)
}

pub fn credential_report_not_present() -> AwsError {
    modeled(
        "CredentialReportNotPresentException",
        "Credential report not present. Use GenerateCredentialReport to generate a report.",
    )
}

pub fn no_such_user(name: &str) -> AwsError {
    no_such_entity(format!("The user with name {name} cannot be found."))
}

pub fn no_such_group(name: &str) -> AwsError {
    no_such_entity(format!("The group with name {name} cannot be found."))
}

pub fn no_such_role(name: &str) -> AwsError {
    no_such_entity(format!("The role with name {name} cannot be found."))
}

pub fn no_such_instance_profile(name: &str) -> AwsError {
    no_such_entity(format!("Instance Profile {name} cannot be found."))
}

pub fn no_such_policy(arn: &str) -> AwsError {
    no_such_entity(format!("Policy {arn} does not exist or is not attachable."))
}

pub fn no_such_policy_version(arn: &str, version: &str) -> AwsError {
    no_such_entity(format!(
        "Policy {arn} version {version} does not exist or is not attachable."
    ))
}

pub fn no_such_access_key(id: &str) -> AwsError {
    no_such_entity(format!("The Access Key with id {id} cannot be found."))
}

pub fn no_such_login_profile(user: &str) -> AwsError {
    no_such_entity(format!("Login Profile for User {user} cannot be found."))
}

/// Maps a policy engine refusal to IAM's error (code and message as the engine words them).
pub fn from_policy_error(e: &rampart_policy::PolicyError) -> AwsError {
    match e {
        rampart_policy::PolicyError::Malformed(m) => malformed_policy(m.clone()),
        rampart_policy::PolicyError::LimitExceeded(m) => limit_exceeded(m.clone()),
    }
}

/// IAM's answer to a Marker it did not issue.
pub fn invalid_marker() -> AwsError {
    invalid_input("Invalid Marker.")
}
