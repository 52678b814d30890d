//! AWS Key Management Service (awsJson1.1, target prefix `TrentService`) on the KMS core of
//! `rampart-crypto`. The server's dispatcher calls [`handler`]; the background scheduler calls
//! [`tick::tick`]; other service crates (Secrets Manager, SSM) call [`internal`].
#![cfg_attr(
    test,
    allow(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )
)]

pub mod authz;
pub mod cache;
pub mod error;
pub mod grants;
pub mod internal;
pub mod managed;
pub mod ops;
pub mod policy;
pub mod record;
pub mod resolve;
pub mod tick;

#[cfg(test)]
mod tests;

use rampart_services::{Handler, HandlerFuture};

/// Boxes an `async fn(Arc<Ctx>, Value) -> Result<Value, AwsError>` as a [`Handler`].
macro_rules! op {
    ($f:path) => {
        (|ctx, input| -> HandlerFuture { Box::pin($f(ctx, input)) }) as Handler
    };
}

pub fn handler(operation: &str) -> Option<Handler> {
    use ops::*;
    Some(match operation {
        "CreateKey" => op!(keys::create_key),
        "DescribeKey" => op!(keys::describe_key),
        "ListKeys" => op!(keys::list_keys),
        "UpdateKeyDescription" => op!(keys::update_key_description),
        "EnableKey" => op!(keys::enable_key),
        "DisableKey" => op!(keys::disable_key),
        "ScheduleKeyDeletion" => op!(keys::schedule_key_deletion),
        "CancelKeyDeletion" => op!(keys::cancel_key_deletion),
        "TagResource" => op!(keys::tag_resource),
        "UntagResource" => op!(keys::untag_resource),
        "ListResourceTags" => op!(keys::list_resource_tags),
        "CreateAlias" => op!(aliases::create_alias),
        "UpdateAlias" => op!(aliases::update_alias),
        "DeleteAlias" => op!(aliases::delete_alias),
        "ListAliases" => op!(aliases::list_aliases),
        "Encrypt" => op!(crypto::encrypt),
        "Decrypt" => op!(crypto::decrypt),
        "ReEncrypt" => op!(crypto::re_encrypt),
        "GenerateDataKey" => op!(crypto::generate_data_key),
        "GenerateDataKeyWithoutPlaintext" => op!(crypto::generate_data_key_without_plaintext),
        "GenerateDataKeyPair" => op!(crypto::generate_data_key_pair),
        "GenerateDataKeyPairWithoutPlaintext" => {
            op!(crypto::generate_data_key_pair_without_plaintext)
        }
        "GenerateRandom" => op!(crypto::generate_random),
        "Sign" => op!(crypto::sign),
        "Verify" => op!(crypto::verify),
        "GetPublicKey" => op!(crypto::get_public_key),
        "GenerateMac" => op!(crypto::generate_mac),
        "VerifyMac" => op!(crypto::verify_mac),
        "DeriveSharedSecret" => op!(crypto::derive_shared_secret),
        "EnableKeyRotation" => op!(rotation::enable_key_rotation),
        "DisableKeyRotation" => op!(rotation::disable_key_rotation),
        "GetKeyRotationStatus" => op!(rotation::get_key_rotation_status),
        "RotateKeyOnDemand" => op!(rotation::rotate_key_on_demand),
        "ListKeyRotations" => op!(rotation::list_key_rotations),
        "GetKeyPolicy" => op!(policies::get_key_policy),
        "PutKeyPolicy" => op!(policies::put_key_policy),
        "ListKeyPolicies" => op!(policies::list_key_policies),
        "CreateGrant" => op!(grants::create_grant),
        "ListGrants" => op!(grants::list_grants),
        "ListRetirableGrants" => op!(grants::list_retirable_grants),
        "RetireGrant" => op!(grants::retire_grant),
        "RevokeGrant" => op!(grants::revoke_grant),
        "GetParametersForImport" => op!(import::get_parameters_for_import),
        "ImportKeyMaterial" => op!(import::import_key_material),
        "DeleteImportedKeyMaterial" => op!(import::delete_imported_key_material),
        "ReplicateKey" => op!(keys::replicate_key),
        "UpdatePrimaryRegion" => op!(keys::update_primary_region),
        "DescribeCustomKeyStores" => op!(keys::describe_custom_key_stores),
        _ => return None,
    })
}
