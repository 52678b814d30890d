//! AWS Identity and Access Management (awsQuery, global service). The server's dispatcher calls
//! [`handler`]. The records this crate keeps, and the read path the authorizer uses
//! ([`load_principal_policies`]), are documented in [`model`].
#![cfg_attr(
    test,
    allow(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )
)]

mod access_keys;
mod access_report;
mod account;
mod attachments;
pub mod aws_managed;
mod aws_managed_docs;
mod credential_report;
mod documents;
pub mod errors;
mod groups;
mod instance_profiles;
pub mod key_usage;
mod last_accessed;
mod login_profiles;
mod mfa;
pub mod model;
mod passwords;
mod policies;
mod providers;
mod qr;
mod roles;
mod server_certificates;
mod service_linked_roles;
pub mod tagging;
#[cfg(test)]
mod tests;
pub mod totp;
mod usage;
mod user_credentials;
mod users;
mod util;

pub use model::{PrincipalPolicies, PrincipalRef, load_principal_policies};

use rampart_services::Handler;

/// Builds the operations table: each entry adapts an `async fn(Arc<Ctx>, Value)` to [`Handler`].
macro_rules! operations {
    ($($name:literal => $f:path,)*) => {
        /// The handler of an IAM operation, or `None` when it is not built yet.
        pub fn handler(operation: &str) -> Option<Handler> {
            match operation {
                $($name => Some(|ctx, input| Box::pin($f(ctx, input))),)*
                _ => None,
            }
        }

        /// Every operation this crate serves.
        pub const OPERATIONS: &[&str] = &[$($name,)*];
    };
}

operations! {
    "CreateUser" => users::create_user,
    "GetUser" => users::get_user,
    "ListUsers" => users::list_users,
    "UpdateUser" => users::update_user,
    "DeleteUser" => users::delete_user,
    "TagUser" => users::tag_user,
    "UntagUser" => users::untag_user,
    "ListUserTags" => users::list_user_tags,
    "CreateGroup" => groups::create_group,
    "GetGroup" => groups::get_group,
    "ListGroups" => groups::list_groups,
    "UpdateGroup" => groups::update_group,
    "DeleteGroup" => groups::delete_group,
    "AddUserToGroup" => groups::add_user_to_group,
    "RemoveUserFromGroup" => groups::remove_user_from_group,
    "ListGroupsForUser" => groups::list_groups_for_user,
    "CreateRole" => roles::create_role,
    "GetRole" => roles::get_role,
    "ListRoles" => roles::list_roles,
    "UpdateRole" => roles::update_role,
    "UpdateRoleDescription" => roles::update_role_description,
    "UpdateAssumeRolePolicy" => roles::update_assume_role_policy,
    "DeleteRole" => roles::delete_role,
    "TagRole" => roles::tag_role,
    "UntagRole" => roles::untag_role,
    "ListRoleTags" => roles::list_role_tags,
    "CreateInstanceProfile" => instance_profiles::create_instance_profile,
    "GetInstanceProfile" => instance_profiles::get_instance_profile,
    "ListInstanceProfiles" => instance_profiles::list_instance_profiles,
    "DeleteInstanceProfile" => instance_profiles::delete_instance_profile,
    "AddRoleToInstanceProfile" => instance_profiles::add_role_to_instance_profile,
    "RemoveRoleFromInstanceProfile" => instance_profiles::remove_role_from_instance_profile,
    "ListInstanceProfilesForRole" => instance_profiles::list_instance_profiles_for_role,
    "CreatePolicy" => policies::create_policy,
    "GetPolicy" => policies::get_policy,
    "ListPolicies" => policies::list_policies,
    "DeletePolicy" => policies::delete_policy,
    "CreatePolicyVersion" => policies::create_policy_version,
    "GetPolicyVersion" => policies::get_policy_version,
    "ListPolicyVersions" => policies::list_policy_versions,
    "DeletePolicyVersion" => policies::delete_policy_version,
    "SetDefaultPolicyVersion" => policies::set_default_policy_version,
    "CreateAccessKey" => access_keys::create_access_key,
    "ListAccessKeys" => access_keys::list_access_keys,
    "UpdateAccessKey" => access_keys::update_access_key,
    "DeleteAccessKey" => access_keys::delete_access_key,
    "GetAccessKeyLastUsed" => access_keys::get_access_key_last_used,
    "CreateLoginProfile" => login_profiles::create_login_profile,
    "GetLoginProfile" => login_profiles::get_login_profile,
    "UpdateLoginProfile" => login_profiles::update_login_profile,
    "DeleteLoginProfile" => login_profiles::delete_login_profile,
    "ChangePassword" => login_profiles::change_password,
    "UpdateAccountPasswordPolicy" => login_profiles::update_account_password_policy,
    "GetAccountPasswordPolicy" => login_profiles::get_account_password_policy,
    "DeleteAccountPasswordPolicy" => login_profiles::delete_account_password_policy,
    "CreateVirtualMFADevice" => mfa::create_virtual_mfa_device,
    "EnableMFADevice" => mfa::enable_mfa_device,
    "ResyncMFADevice" => mfa::resync_mfa_device,
    "DeactivateMFADevice" => mfa::deactivate_mfa_device,
    "DeleteVirtualMFADevice" => mfa::delete_virtual_mfa_device,
    "ListMFADevices" => mfa::list_mfa_devices,
    "ListVirtualMFADevices" => mfa::list_virtual_mfa_devices,
    "CreateAccountAlias" => account::create_account_alias,
    "DeleteAccountAlias" => account::delete_account_alias,
    "ListAccountAliases" => account::list_account_aliases,
    "GetAccountSummary" => account::get_account_summary,
    "GetAccountAuthorizationDetails" => account::get_account_authorization_details,
    "GenerateCredentialReport" => credential_report::generate_credential_report,
    "GetCredentialReport" => credential_report::get_credential_report,
    "CreateOpenIDConnectProvider" => providers::create_oidc_provider,
    "GetOpenIDConnectProvider" => providers::get_oidc_provider,
    "ListOpenIDConnectProviders" => providers::list_oidc_providers,
    "DeleteOpenIDConnectProvider" => providers::delete_oidc_provider,
    "AddClientIDToOpenIDConnectProvider" => providers::add_client_id,
    "RemoveClientIDFromOpenIDConnectProvider" => providers::remove_client_id,
    "UpdateOpenIDConnectProviderThumbprint" => providers::update_thumbprints,
    "CreateSAMLProvider" => providers::create_saml_provider,
    "GetSAMLProvider" => providers::get_saml_provider,
    "ListSAMLProviders" => providers::list_saml_providers,
    "UpdateSAMLProvider" => providers::update_saml_provider,
    "DeleteSAMLProvider" => providers::delete_saml_provider,
    "TagPolicy" => tagging::tag_policy,
    "UntagPolicy" => tagging::untag_policy,
    "ListPolicyTags" => tagging::list_policy_tags,
    "TagInstanceProfile" => tagging::tag_instance_profile,
    "UntagInstanceProfile" => tagging::untag_instance_profile,
    "ListInstanceProfileTags" => tagging::list_instance_profile_tags,
    "TagMFADevice" => tagging::tag_mfa_device,
    "UntagMFADevice" => tagging::untag_mfa_device,
    "ListMFADeviceTags" => tagging::list_mfa_device_tags,
    "TagOpenIDConnectProvider" => tagging::tag_oidc_provider,
    "UntagOpenIDConnectProvider" => tagging::untag_oidc_provider,
    "ListOpenIDConnectProviderTags" => tagging::list_oidc_provider_tags,
    "TagSAMLProvider" => tagging::tag_saml_provider,
    "UntagSAMLProvider" => tagging::untag_saml_provider,
    "ListSAMLProviderTags" => tagging::list_saml_provider_tags,
    "CreateServiceLinkedRole" => service_linked_roles::create_service_linked_role,
    "DeleteServiceLinkedRole" => service_linked_roles::delete_service_linked_role,
    "GetServiceLinkedRoleDeletionStatus" => service_linked_roles::get_service_linked_role_deletion_status,
    "GetMFADevice" => mfa::get_mfa_device,
    "UploadSigningCertificate" => user_credentials::upload_signing_certificate,
    "ListSigningCertificates" => user_credentials::list_signing_certificates,
    "UpdateSigningCertificate" => user_credentials::update_signing_certificate,
    "DeleteSigningCertificate" => user_credentials::delete_signing_certificate,
    "CreateServiceSpecificCredential" => user_credentials::create_service_specific_credential,
    "ListServiceSpecificCredentials" => user_credentials::list_service_specific_credentials,
    "ResetServiceSpecificCredential" => user_credentials::reset_service_specific_credential,
    "UpdateServiceSpecificCredential" => user_credentials::update_service_specific_credential,
    "DeleteServiceSpecificCredential" => user_credentials::delete_service_specific_credential,
    "UploadServerCertificate" => server_certificates::upload_server_certificate,
    "GetServerCertificate" => server_certificates::get_server_certificate,
    "ListServerCertificates" => server_certificates::list_server_certificates,
    "UpdateServerCertificate" => server_certificates::update_server_certificate,
    "DeleteServerCertificate" => server_certificates::delete_server_certificate,
    "TagServerCertificate" => tagging::tag_server_certificate,
    "UntagServerCertificate" => tagging::untag_server_certificate,
    "ListServerCertificateTags" => tagging::list_server_certificate_tags,
    "SetSecurityTokenServicePreferences" => account::set_sts_preferences,
    "ListPoliciesGrantingServiceAccess" => access_report::list_policies_granting_service_access,
    "GenerateServiceLastAccessedDetails" => last_accessed::generate,
    "GetServiceLastAccessedDetails" => last_accessed::get,
    "GetServiceLastAccessedDetailsWithEntities" => last_accessed::get_with_entities,
    "ListEntitiesForPolicy" => attachments::list_entities_for_policy,
    "AttachUserPolicy" => attachments::attach_user_policy,
    "AttachGroupPolicy" => attachments::attach_group_policy,
    "AttachRolePolicy" => attachments::attach_role_policy,
    "DetachUserPolicy" => attachments::detach_user_policy,
    "DetachGroupPolicy" => attachments::detach_group_policy,
    "DetachRolePolicy" => attachments::detach_role_policy,
    "ListAttachedUserPolicies" => attachments::list_attached_user_policies,
    "ListAttachedGroupPolicies" => attachments::list_attached_group_policies,
    "ListAttachedRolePolicies" => attachments::list_attached_role_policies,
    "PutUserPolicy" => attachments::put_user_policy,
    "PutGroupPolicy" => attachments::put_group_policy,
    "PutRolePolicy" => attachments::put_role_policy,
    "GetUserPolicy" => attachments::get_user_policy,
    "GetGroupPolicy" => attachments::get_group_policy,
    "GetRolePolicy" => attachments::get_role_policy,
    "DeleteUserPolicy" => attachments::delete_user_policy,
    "DeleteGroupPolicy" => attachments::delete_group_policy,
    "DeleteRolePolicy" => attachments::delete_role_policy,
    "ListUserPolicies" => attachments::list_user_policies,
    "ListGroupPolicies" => attachments::list_group_policies,
    "ListRolePolicies" => attachments::list_role_policies,
    "PutUserPermissionsBoundary" => attachments::put_user_permissions_boundary,
    "PutRolePermissionsBoundary" => attachments::put_role_permissions_boundary,
    "DeleteUserPermissionsBoundary" => attachments::delete_user_permissions_boundary,
    "DeleteRolePermissionsBoundary" => attachments::delete_role_permissions_boundary,
}
