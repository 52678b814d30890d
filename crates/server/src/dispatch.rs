//! Which service crate serves which (service, operation).
use rampart_services::Handler;

/// The handler for an operation, by the service's signing name (`sts`, `iam`, `kms`, ...), or
/// `None` when the operation is not built yet (the pipeline answers 501 NotImplemented).
pub fn find_handler(service: &str, operation: &str) -> Option<Handler> {
    match service {
        "sts" => rampart_sts::handler(operation),
        "kms" => rampart_kms::handler(operation),
        "cloudtrail" => rampart_cloudtrail::handler(operation),
        // The policy simulator lives with enforcement so the two cannot drift apart.
        "iam" => {
            rampart_iam::handler(operation).or_else(|| rampart_authz::simulate::handler(operation))
        }
        "secretsmanager" => rampart_secretsmanager::handler(operation),
        "ssm" => rampart_ssm::handler(operation),
        _ => None,
    }
}
