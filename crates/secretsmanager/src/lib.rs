//! AWS Secrets Manager (awsJson1.1, target prefix `secretsmanager`). Versions and staging labels
//! as AWS moves them; every value encrypted through Rampart's KMS (the store holds only
//! ciphertext). The server's dispatcher calls [`handler`], the scheduler [`tick::tick`];
//! Parameter Store reads secrets through [`read_secret_value`].
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
pub mod ops;
pub mod password;
pub mod record;
pub mod resource_policy;
pub mod rotation;
pub mod rotators;
pub mod schedule;
pub mod tick;
pub mod versions;

#[cfg(test)]
mod tests;

use rampart_services::{Handler, HandlerFuture};

pub use ops::values::{SecretValue, read_secret_value};

macro_rules! op {
    ($f:path) => {
        (|ctx, input| -> HandlerFuture { Box::pin($f(ctx, input)) }) as Handler
    };
}

pub fn handler(operation: &str) -> Option<Handler> {
    use ops::*;
    Some(match operation {
        "CreateSecret" => op!(secrets::create_secret),
        "DescribeSecret" => op!(secrets::describe_secret),
        "UpdateSecret" => op!(secrets::update_secret),
        "DeleteSecret" => op!(secrets::delete_secret),
        "RestoreSecret" => op!(secrets::restore_secret),
        "TagResource" => op!(secrets::tag_resource),
        "UntagResource" => op!(secrets::untag_resource),
        "GetSecretValue" => op!(values::get_secret_value),
        "PutSecretValue" => op!(values::put_secret_value),
        "ListSecretVersionIds" => op!(values::list_secret_version_ids),
        "UpdateSecretVersionStage" => op!(values::update_secret_version_stage),
        "ListSecrets" => op!(list::list_secrets),
        "BatchGetSecretValue" => op!(batch::batch_get_secret_value),
        "GetRandomPassword" => op!(password::get_random_password),
        "PutResourcePolicy" => op!(policy::put_resource_policy),
        "GetResourcePolicy" => op!(policy::get_resource_policy),
        "DeleteResourcePolicy" => op!(policy::delete_resource_policy),
        "ValidateResourcePolicy" => op!(policy::validate_resource_policy),
        "ReplicateSecretToRegions" => op!(replicas::replicate_secret_to_regions),
        "RemoveRegionsFromReplication" => op!(replicas::remove_regions_from_replication),
        "StopReplicationToReplica" => op!(replicas::stop_replication_to_replica),
        "RotateSecret" => op!(rotate::rotate_secret),
        "CancelRotateSecret" => op!(rotate::cancel_rotate_secret),
        _ => return None,
    })
}
