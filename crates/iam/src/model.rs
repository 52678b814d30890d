//! IAM's records in the store: the contract between this crate (which writes them through the
//! IAM API) and the authorizer / STS (which read them).
//!
//! # Layout
//! Every record is JSON at `ACCOUNT/global/iam/KIND/ID` ([`rampart_services::common::keys`]):
//!
//! | kind | id | record |
//! |---|---|---|
//! | `user` | user name, lower-cased | [`UserRecord`]: inline policies, attached policy ARNs, group names, permissions boundary, tags, access key ids, MFA serials, login profile |
//! | `group` | group name, lower-cased | [`GroupRecord`]: inline policies, attached policy ARNs, member user names |
//! | `role` | role name, lower-cased | [`RoleRecord`]: trust policy, inline policies, attached ARNs, boundary, max session duration, tags |
//! | `policy` | policy name, lower-cased | [`ManagedPolicyRecord`]: customer managed policy with all its versions |
//! | `policyuse` | policy ARN | [`PolicyUsage`]: which users/groups/roles attach the policy or use it as boundary (customer AND AWS managed policies) |
//! | `instanceprofile` | name, lower-cased | [`InstanceProfileRecord`] |
//! | `mfa` | serial number | [`MfaDeviceRecord`]: sealed TOTP seed, the user it is enabled for |
//! | `passwordpolicy` | `account` | [`PasswordPolicy`] |
//! | `alias` | `account` | [`AccountAliasRecord`] |
//! | `oidcprovider` | issuer URL without `https://` | [`OidcProviderRecord`] |
//! | `samlprovider` | provider name | [`SamlProviderRecord`] |
//! | `credentialreport` | `account` | [`CredentialReportRecord`] |
//!
//! Access keys live outside the account namespace, at
//! [`rampart_services::credentials::access_key_store_key`], in the server's own
//! `AccessKeyRecord` format; the user record lists the ids.
//!
//! Names are keyed lower-cased because IAM names are unique case-insensitively (`Alice` and
//! `alice` cannot both exist); the record keeps the name as it was created.
//!
//! AWS managed policies (`arn:aws:iam::aws:policy/...`) are not in the store: they ship in the
//! binary ([`crate::aws_managed`]) and are immutable, so their "version" for caching is constant.
//!
//! # Versions for caches
//! Every record has a store version ([`rampart_store::Record::version`]) that grows on every
//! write and is never reused (deletes included). Everything a principal's permissions are made of
//! lives in the user/role record, its groups' records and the customer managed policy records,
//! so [`PrincipalPolicies::versions`] (store key → version of every record read) is a complete
//! cache key: if none of those versions changed, the decision inputs did not change.
//!
//! # Documents
//! Policy documents are stored exactly as the caller sent them (decoded, not URL-encoded);
//! the API URL-encodes them on output as AWS does.
use std::collections::BTreeMap;

use rampart_aws_types::AwsError;
use rampart_services::common::{keys, records};
use rampart_store::ReadTxn;
use serde::{Deserialize, Serialize};

use crate::aws_managed;
use crate::errors;

pub const SERVICE: &str = "iam";
/// IAM is a global service: its records live under region `global`.
pub const REGION: &str = rampart_aws_types::GLOBAL_REGION;

pub const KIND_USER: &str = "user";
pub const KIND_GROUP: &str = "group";
pub const KIND_ROLE: &str = "role";
pub const KIND_POLICY: &str = "policy";
pub const KIND_POLICY_USE: &str = "policyuse";
pub const KIND_INSTANCE_PROFILE: &str = "instanceprofile";
pub const KIND_MFA: &str = "mfa";
pub const KIND_PASSWORD_POLICY: &str = "passwordpolicy";
pub const KIND_ALIAS: &str = "alias";
pub const KIND_OIDC_PROVIDER: &str = "oidcprovider";
pub const KIND_SAML_PROVIDER: &str = "samlprovider";
pub const KIND_CREDENTIAL_REPORT: &str = "credentialreport";

/// The store key of a named entity of `kind` (user, group, role, policy, instance profile).
pub fn entity_key(account: &str, kind: &str, name: &str) -> String {
    keys::key(account, REGION, SERVICE, kind, &name.to_ascii_lowercase())
}

/// The prefix every record of `kind` in `account` lives under.
pub fn entity_prefix(account: &str, kind: &str) -> String {
    keys::prefix(account, REGION, SERVICE, kind)
}

pub fn user_key(account: &str, name: &str) -> String {
    entity_key(account, KIND_USER, name)
}
pub fn group_key(account: &str, name: &str) -> String {
    entity_key(account, KIND_GROUP, name)
}
pub fn role_key(account: &str, name: &str) -> String {
    entity_key(account, KIND_ROLE, name)
}
pub fn policy_key(account: &str, name: &str) -> String {
    entity_key(account, KIND_POLICY, name)
}
pub fn instance_profile_key(account: &str, name: &str) -> String {
    entity_key(account, KIND_INSTANCE_PROFILE, name)
}
pub fn policy_use_key(account: &str, policy_arn: &str) -> String {
    keys::key(account, REGION, SERVICE, KIND_POLICY_USE, policy_arn)
}
pub fn mfa_key(account: &str, serial: &str) -> String {
    keys::key(account, REGION, SERVICE, KIND_MFA, serial)
}
pub fn password_policy_key(account: &str) -> String {
    keys::key(account, REGION, SERVICE, KIND_PASSWORD_POLICY, "account")
}
pub fn alias_key(account: &str) -> String {
    keys::key(account, REGION, SERVICE, KIND_ALIAS, "account")
}
/// An OIDC provider by its URL without `https://` (host and path, as its ARN has it).
pub fn oidc_provider_key(account: &str, url_without_scheme: &str) -> String {
    keys::key(
        account,
        REGION,
        SERVICE,
        KIND_OIDC_PROVIDER,
        url_without_scheme,
    )
}
pub fn saml_provider_key(account: &str, name: &str) -> String {
    keys::key(account, REGION, SERVICE, KIND_SAML_PROVIDER, name)
}
/// A user's per-service last access, by the user's unique id (stable across renames).
pub fn last_access_key(account: &str, user_id: &str) -> String {
    keys::key(account, REGION, SERVICE, "lastaccess", user_id)
}
pub fn credential_report_key(account: &str) -> String {
    keys::key(account, REGION, SERVICE, KIND_CREDENTIAL_REPORT, "account")
}

/// `arn:aws:iam::ACCOUNT:KIND/PATH/NAME` (path starts and ends with `/`).
pub fn entity_arn(account: &str, kind: &str, path: &str, name: &str) -> String {
    format!("arn:aws:iam::{account}:{kind}{path}{name}")
}

/// A tag as IAM shows it (`Key`/`Value`), stored the same way.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Tag {
    #[serde(rename = "Key")]
    pub key: String,
    #[serde(rename = "Value")]
    pub value: String,
}

/// A user's console password (`CreateLoginProfile`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LoginProfile {
    /// argon2id PHC string; the password itself is never stored.
    pub password_hash: String,
    pub create_date: i64,
    pub password_reset_required: bool,
    /// When the password was last set (for the password policy's max age).
    pub password_last_changed: i64,
    /// Earlier hashes, newest first, for the policy's `PasswordReusePrevention`.
    #[serde(default)]
    pub previous_hashes: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserRecord {
    pub name: String,
    /// `AIDA...`
    pub user_id: String,
    pub path: String,
    pub arn: String,
    /// Epoch seconds.
    pub create_date: i64,
    #[serde(default)]
    pub tags: Vec<Tag>,
    /// ARN of the managed policy used as permissions boundary.
    #[serde(default)]
    pub permissions_boundary: Option<String>,
    /// Inline policies: name → document.
    #[serde(default)]
    pub inline_policies: BTreeMap<String, String>,
    /// Attached managed policy ARNs, in attachment order.
    #[serde(default)]
    pub attached_policies: Vec<String>,
    /// Names of the groups the user is a member of (as the groups spell them).
    #[serde(default)]
    pub groups: Vec<String>,
    /// Access key ids (records at `sys/accesskey/ID`).
    #[serde(default)]
    pub access_keys: Vec<String>,
    /// Serial numbers of the MFA devices enabled for the user.
    #[serde(default)]
    pub mfa_devices: Vec<String>,
    #[serde(default)]
    pub login_profile: Option<LoginProfile>,
    #[serde(default)]
    pub password_last_used: Option<i64>,
    /// X.509 signing certificates (UploadSigningCertificate), at most 2.
    #[serde(default)]
    pub signing_certificates: Vec<SigningCertificateRecord>,
    /// Service-specific credentials (CodeCommit, Keyspaces, ...), at most 2 per service.
    #[serde(default)]
    pub service_specific_credentials: Vec<ServiceCredentialRecord>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct SigningCertificateRecord {
    pub certificate_id: String,
    /// The PEM body as uploaded.
    pub certificate_body: String,
    /// `Active` or `Inactive`.
    pub status: String,
    pub upload_date: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct ServiceCredentialRecord {
    /// `ACCA...`
    pub id: String,
    pub service_name: String,
    pub service_user_name: String,
    /// argon2id PHC string of the service password; the password is shown once.
    pub password_hash: String,
    pub status: String,
    pub create_date: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupRecord {
    pub name: String,
    /// `AGPA...`
    pub group_id: String,
    pub path: String,
    pub arn: String,
    pub create_date: i64,
    #[serde(default)]
    pub inline_policies: BTreeMap<String, String>,
    #[serde(default)]
    pub attached_policies: Vec<String>,
    /// Member user names (as the users spell them).
    #[serde(default)]
    pub members: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RoleLastUsed {
    pub last_used_date: i64,
    pub region: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RoleRecord {
    pub name: String,
    /// `AROA...`
    pub role_id: String,
    pub path: String,
    pub arn: String,
    pub create_date: i64,
    /// The trust policy, as sent.
    pub assume_role_policy_document: String,
    #[serde(default)]
    pub description: Option<String>,
    /// Seconds, 3600..=43200.
    pub max_session_duration: i64,
    #[serde(default)]
    pub permissions_boundary: Option<String>,
    #[serde(default)]
    pub tags: Vec<Tag>,
    #[serde(default)]
    pub inline_policies: BTreeMap<String, String>,
    #[serde(default)]
    pub attached_policies: Vec<String>,
    #[serde(default)]
    pub last_used: Option<RoleLastUsed>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PolicyVersionRecord {
    /// `v1`, `v2`, ...
    pub version_id: String,
    pub document: String,
    pub create_date: i64,
}

/// A customer managed policy with every version it has (at most 5).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ManagedPolicyRecord {
    pub name: String,
    /// `ANPA...`
    pub policy_id: String,
    pub path: String,
    pub arn: String,
    #[serde(default)]
    pub description: Option<String>,
    pub create_date: i64,
    pub update_date: i64,
    pub default_version_id: String,
    pub versions: Vec<PolicyVersionRecord>,
    /// The number the next version gets (`v{next_version}`); never reused.
    pub next_version: u32,
    #[serde(default)]
    pub tags: Vec<Tag>,
}

impl ManagedPolicyRecord {
    pub fn default_document(&self) -> Option<&str> {
        self.versions
            .iter()
            .find(|v| v.version_id == self.default_version_id)
            .map(|v| v.document.as_str())
    }
}

/// What kind of entity uses a policy.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord)]
pub enum EntityKind {
    User,
    Group,
    Role,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord)]
pub struct EntityRef {
    pub kind: EntityKind,
    /// The entity's name as it spells it.
    pub name: String,
}

/// Reverse index of one managed policy's use in an account: keeps `AttachmentCount`,
/// `PermissionsBoundaryUsageCount`, `ListEntitiesForPolicy` and `DeletePolicy`'s conflict check
/// off full scans. Written in the same transaction as the entity records it mirrors.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PolicyUsage {
    #[serde(default)]
    pub attached: Vec<EntityRef>,
    #[serde(default)]
    pub boundary_of: Vec<EntityRef>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InstanceProfileRecord {
    pub name: String,
    /// `AIPA...`
    pub instance_profile_id: String,
    pub path: String,
    pub arn: String,
    pub create_date: i64,
    /// Role names (at most one, as AWS allows).
    #[serde(default)]
    pub roles: Vec<String>,
    #[serde(default)]
    pub tags: Vec<Tag>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MfaDeviceRecord {
    /// `arn:aws:iam::ACCOUNT:mfa/PATH/NAME`
    pub serial_number: String,
    /// The Base32 seed sealed under the master key with [`mfa_seal_context`], base64.
    pub sealed_seed: String,
    pub create_date: i64,
    /// The user the device is enabled for.
    #[serde(default)]
    pub user: Option<String>,
    #[serde(default)]
    pub enable_date: Option<i64>,
    /// The last TOTP time step accepted: a code is never accepted twice.
    #[serde(default)]
    pub last_step: u64,
    #[serde(default)]
    pub tags: Vec<Tag>,
}

/// The context an MFA seed is sealed under.
pub fn mfa_seal_context(serial: &str) -> String {
    format!("iam-mfa/{serial}")
}

/// The account password policy (`UpdateAccountPasswordPolicy`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct PasswordPolicy {
    pub minimum_password_length: i64,
    pub require_symbols: bool,
    pub require_numbers: bool,
    pub require_uppercase_characters: bool,
    pub require_lowercase_characters: bool,
    pub allow_users_to_change_password: bool,
    #[serde(default)]
    pub max_password_age: Option<i64>,
    #[serde(default)]
    pub password_reuse_prevention: Option<i64>,
    #[serde(default)]
    pub hard_expiry: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AccountAliasRecord {
    pub alias: String,
}

/// An OpenID Connect identity provider (`arn:aws:iam::ACCOUNT:oidc-provider/HOST/PATH`), read by
/// STS AssumeRoleWithWebIdentity.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OidcProviderRecord {
    pub arn: String,
    /// The issuer URL without `https://`.
    pub url: String,
    #[serde(default)]
    pub client_ids: Vec<String>,
    /// SHA-1 thumbprints (40 hex characters, lower case) of the provider's certificates.
    #[serde(default)]
    pub thumbprints: Vec<String>,
    pub create_date: i64,
    #[serde(default)]
    pub tags: Vec<Tag>,
}

/// A SAML identity provider (`arn:aws:iam::ACCOUNT:saml-provider/NAME`), read by STS
/// AssumeRoleWithSAML.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SamlProviderRecord {
    pub arn: String,
    pub name: String,
    /// The SAML metadata document as uploaded (holds the signing certificates).
    pub metadata_document: String,
    pub create_date: i64,
    /// Epoch seconds (`ValidUntil`), from the metadata's `validUntil` when present.
    #[serde(default)]
    pub valid_until: Option<i64>,
    #[serde(default)]
    pub tags: Vec<Tag>,
}

/// The last generated credential report (CSV, AWS's columns).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CredentialReportRecord {
    pub generated_time: i64,
    pub csv: String,
}

// ---------------------------------------------------------------------------------------------
// The authorizer's read path.

/// Which principal to load.
#[derive(Debug, Clone, Copy)]
pub enum PrincipalRef<'a> {
    User(&'a str),
    Role(&'a str),
}

/// Where an identity policy comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PolicySource {
    /// An inline policy of the user/role itself.
    Inline { name: String },
    /// An inline policy of one of the user's groups.
    GroupInline { group: String, name: String },
    /// A managed policy attached to the principal.
    Managed { arn: String, version_id: String },
    /// A managed policy attached to one of the user's groups.
    GroupManaged {
        group: String,
        arn: String,
        version_id: String,
    },
}

/// One policy document with where it came from.
#[derive(Debug, Clone)]
pub struct SourcedPolicy {
    pub source: PolicySource,
    pub document: String,
}

/// The principal entity itself.
#[derive(Debug, Clone)]
pub enum PrincipalEntity {
    User(UserRecord),
    Role(RoleRecord),
}

/// Everything the authorizer needs about one principal, read in one store transaction.
#[derive(Debug, Clone)]
pub struct PrincipalPolicies {
    pub entity: PrincipalEntity,
    /// Identity-based policies: the principal's inline and attached managed policies (default
    /// version documents), then each group's (users only).
    pub identity: Vec<SourcedPolicy>,
    /// The permissions boundary's default version document, when one is set.
    pub boundary: Option<SourcedPolicy>,
    /// Principal tags (`aws:PrincipalTag/*`).
    pub tags: Vec<Tag>,
    /// Roles only: the trust policy and maximum session duration.
    pub trust_policy: Option<String>,
    pub max_session_duration: Option<i64>,
    /// Store key → version of every record read: the cache key (see the module docs).
    pub versions: Vec<(String, u64)>,
}

/// A managed policy's default version: `(version_id, document, (store key, version))`; the
/// stamp is `None` for AWS managed policies, which never change at run time.
pub type ManagedDefault = (String, String, Option<(String, u64)>);

/// The default version of the managed policy `arn`, or `None` when no such policy exists.
pub fn managed_default(
    tx: &mut (impl ReadTxn + ?Sized),
    account: &str,
    arn: &str,
) -> Result<Option<ManagedDefault>, AwsError> {
    if let Some(p) = aws_managed::by_arn(arn) {
        return Ok(Some((
            p.version_id.to_string(),
            p.document.to_string(),
            None,
        )));
    }
    let Some(name) = customer_policy_name(account, arn) else {
        return Ok(None);
    };
    let key = policy_key(account, name);
    let Some((rec, version)) = records::get::<ManagedPolicyRecord>(tx, &key)? else {
        return Ok(None);
    };
    if rec.arn != arn {
        return Ok(None);
    }
    let Some(doc) = rec.default_document() else {
        return Ok(None);
    };
    Ok(Some((
        rec.default_version_id.clone(),
        doc.to_string(),
        Some((key, version)),
    )))
}

/// The policy name of a customer managed policy ARN of `account`
/// (`arn:aws:iam::ACCOUNT:policy/PATH/NAME`), or `None` for any other ARN.
pub fn customer_policy_name<'a>(account: &str, arn: &'a str) -> Option<&'a str> {
    let rest = arn.strip_prefix("arn:aws:iam::")?;
    let rest = rest.strip_prefix(account)?;
    let rest = rest.strip_prefix(":policy/")?;
    let name = rest.rsplit('/').next()?;
    (!name.is_empty()).then_some(name)
}

/// Reads everything the authorizer needs about `principal` in `account`. `NoSuchEntity` when
/// the user or role does not exist.
pub fn load_principal_policies(
    tx: &mut dyn ReadTxn,
    account: &str,
    principal: PrincipalRef<'_>,
) -> Result<PrincipalPolicies, AwsError> {
    let mut versions = Vec::new();
    let mut identity = Vec::new();
    let (entity, inline, attached, boundary_arn, tags, groups) = match principal {
        PrincipalRef::User(name) => {
            let key = user_key(account, name);
            let (u, v) =
                records::get::<UserRecord>(tx, &key)?.ok_or_else(|| errors::no_such_user(name))?;
            versions.push((key, v));
            let inline = u.inline_policies.clone();
            let attached = u.attached_policies.clone();
            let boundary = u.permissions_boundary.clone();
            let tags = u.tags.clone();
            let groups = u.groups.clone();
            (
                PrincipalEntity::User(u),
                inline,
                attached,
                boundary,
                tags,
                groups,
            )
        }
        PrincipalRef::Role(name) => {
            let key = role_key(account, name);
            let (r, v) =
                records::get::<RoleRecord>(tx, &key)?.ok_or_else(|| errors::no_such_role(name))?;
            versions.push((key, v));
            let inline = r.inline_policies.clone();
            let attached = r.attached_policies.clone();
            let boundary = r.permissions_boundary.clone();
            let tags = r.tags.clone();
            (
                PrincipalEntity::Role(r),
                inline,
                attached,
                boundary,
                tags,
                Vec::new(),
            )
        }
    };
    for (name, document) in inline {
        identity.push(SourcedPolicy {
            source: PolicySource::Inline { name },
            document,
        });
    }
    for arn in attached {
        if let Some((version_id, document, stamp)) = managed_default(tx, account, &arn)? {
            versions.extend(stamp);
            identity.push(SourcedPolicy {
                source: PolicySource::Managed { arn, version_id },
                document,
            });
        }
    }
    for group_name in groups {
        let key = group_key(account, &group_name);
        let Some((g, v)) = records::get::<GroupRecord>(tx, &key)? else {
            continue;
        };
        versions.push((key, v));
        for (name, document) in g.inline_policies {
            identity.push(SourcedPolicy {
                source: PolicySource::GroupInline {
                    group: g.name.clone(),
                    name,
                },
                document,
            });
        }
        for arn in g.attached_policies {
            if let Some((version_id, document, stamp)) = managed_default(tx, account, &arn)? {
                versions.extend(stamp);
                identity.push(SourcedPolicy {
                    source: PolicySource::GroupManaged {
                        group: g.name.clone(),
                        arn,
                        version_id,
                    },
                    document,
                });
            }
        }
    }
    let boundary = match boundary_arn {
        Some(arn) => match managed_default(tx, account, &arn)? {
            Some((version_id, document, stamp)) => {
                versions.extend(stamp);
                Some(SourcedPolicy {
                    source: PolicySource::Managed { arn, version_id },
                    document,
                })
            }
            None => None,
        },
        None => None,
    };
    let (trust_policy, max_session_duration) = match &entity {
        PrincipalEntity::Role(r) => (
            Some(r.assume_role_policy_document.clone()),
            Some(r.max_session_duration),
        ),
        PrincipalEntity::User(_) => (None, None),
    };
    Ok(PrincipalPolicies {
        entity,
        identity,
        boundary,
        tags,
        trust_policy,
        max_session_duration,
        versions,
    })
}

#[cfg(test)]
mod tests {
    use rampart_store::{Expect, Store};

    use super::*;

    const ACCT: &str = "111122223333";

    fn doc(action: &str) -> String {
        format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"{action}","Resource":"*"}}]}}"#
        )
    }

    fn user(name: &str) -> UserRecord {
        UserRecord {
            name: name.into(),
            user_id: "AIDAEXAMPLE".into(),
            path: "/".into(),
            arn: entity_arn(ACCT, "user", "/", name),
            create_date: 0,
            tags: vec![Tag {
                key: "team".into(),
                value: "core".into(),
            }],
            permissions_boundary: Some("arn:aws:iam::aws:policy/PowerUserAccess".into()),
            inline_policies: [("own".to_string(), doc("s3:GetObject"))].into(),
            attached_policies: vec![
                format!("arn:aws:iam::{ACCT}:policy/team/custom"),
                "arn:aws:iam::aws:policy/IAMReadOnlyAccess".into(),
            ],
            groups: vec!["Devs".into()],
            access_keys: vec![],
            mfa_devices: vec![],
            login_profile: None,
            password_last_used: None,
            signing_certificates: Vec::new(),
            service_specific_credentials: Vec::new(),
        }
    }

    fn setup() -> Store {
        let store = Store::open_in_memory().unwrap();
        store
            .write_blocking(|tx| {
                records::put(tx, &user_key(ACCT, "Alice"), &user("Alice"), Expect::Absent)?;
                let group = GroupRecord {
                    name: "Devs".into(),
                    group_id: "AGPAEXAMPLE".into(),
                    path: "/".into(),
                    arn: entity_arn(ACCT, "group", "/", "Devs"),
                    create_date: 0,
                    inline_policies: [("g".to_string(), doc("kms:Encrypt"))].into(),
                    attached_policies: vec![format!("arn:aws:iam::{ACCT}:policy/team/custom")],
                    members: vec!["Alice".into()],
                };
                records::put(tx, &group_key(ACCT, "devs"), &group, Expect::Absent)?;
                let policy = ManagedPolicyRecord {
                    name: "custom".into(),
                    policy_id: "ANPAEXAMPLE".into(),
                    path: "/team/".into(),
                    arn: format!("arn:aws:iam::{ACCT}:policy/team/custom"),
                    description: None,
                    create_date: 0,
                    update_date: 0,
                    default_version_id: "v2".into(),
                    versions: vec![
                        PolicyVersionRecord {
                            version_id: "v1".into(),
                            document: doc("s3:DeleteObject"),
                            create_date: 0,
                        },
                        PolicyVersionRecord {
                            version_id: "v2".into(),
                            document: doc("s3:PutObject"),
                            create_date: 0,
                        },
                    ],
                    next_version: 3,
                    tags: vec![],
                };
                records::put(tx, &policy_key(ACCT, "custom"), &policy, Expect::Absent)?;
                let role = RoleRecord {
                    name: "Worker".into(),
                    role_id: "AROAEXAMPLE".into(),
                    path: "/".into(),
                    arn: entity_arn(ACCT, "role", "/", "Worker"),
                    create_date: 0,
                    assume_role_policy_document: "{trust}".into(),
                    description: None,
                    max_session_duration: 7200,
                    permissions_boundary: None,
                    tags: vec![],
                    inline_policies: Default::default(),
                    attached_policies: vec!["arn:aws:iam::aws:policy/AdministratorAccess".into()],
                    last_used: None,
                };
                records::put(tx, &role_key(ACCT, "Worker"), &role, Expect::Absent)?;
                Ok::<_, AwsError>(())
            })
            .unwrap();
        store
    }

    #[test]
    fn a_user_reads_everything_the_authorizer_needs_in_one_go() {
        let store = setup();
        let p = store
            .read_blocking(|tx| load_principal_policies(tx, ACCT, PrincipalRef::User("alice")))
            .unwrap();
        let docs: Vec<(&PolicySource, &str)> = p
            .identity
            .iter()
            .map(|s| (&s.source, s.document.as_str()))
            .collect();
        // Own inline, own managed (default version v2, not v1), AWS managed, group inline,
        // group managed.
        assert_eq!(docs.len(), 5);
        assert!(matches!(docs[0].0, PolicySource::Inline { name } if name == "own"));
        assert!(
            matches!(docs[1].0, PolicySource::Managed { version_id, .. } if version_id == "v2")
        );
        assert!(docs[1].1.contains("s3:PutObject"));
        assert!(docs[2].1.contains("iam:Get*"));
        assert!(matches!(docs[3].0, PolicySource::GroupInline { group, .. } if group == "Devs"));
        assert!(matches!(docs[4].0, PolicySource::GroupManaged { .. }));
        let boundary = p.boundary.unwrap();
        assert!(boundary.document.contains("NotAction"));
        assert_eq!(p.tags[0].key, "team");
        assert!(p.trust_policy.is_none());
        // Versions: the user, the customer policy (read twice: once own, once via group) and the
        // group; AWS managed policies have none.
        let keys: Vec<&str> = p.versions.iter().map(|(k, _)| k.as_str()).collect();
        assert!(keys.contains(&user_key(ACCT, "alice").as_str()));
        assert!(keys.contains(&group_key(ACCT, "devs").as_str()));
        assert!(keys.contains(&policy_key(ACCT, "custom").as_str()));
    }

    #[test]
    fn versions_move_when_anything_that_matters_changes() {
        let store = setup();
        let load = |s: &Store| {
            s.read_blocking(|tx| load_principal_policies(tx, ACCT, PrincipalRef::User("Alice")))
                .unwrap()
                .versions
        };
        let before = load(&store);
        // A new default version of an attached customer policy changes the stamp.
        store
            .write_blocking(|tx| {
                let (mut p, v) =
                    records::get::<ManagedPolicyRecord>(tx.as_read(), &policy_key(ACCT, "custom"))?
                        .unwrap();
                p.default_version_id = "v1".into();
                records::put(tx, &policy_key(ACCT, "custom"), &p, Expect::Version(v))?;
                Ok::<_, AwsError>(())
            })
            .unwrap();
        let after = load(&store);
        assert_ne!(before, after);
        assert_eq!(load(&store), after, "stable while nothing changes");
    }

    #[test]
    fn a_role_brings_its_trust_policy_and_duration() {
        let store = setup();
        let p = store
            .read_blocking(|tx| load_principal_policies(tx, ACCT, PrincipalRef::Role("worker")))
            .unwrap();
        assert_eq!(p.trust_policy.as_deref(), Some("{trust}"));
        assert_eq!(p.max_session_duration, Some(7200));
        assert_eq!(p.identity.len(), 1);
        assert!(matches!(p.entity, PrincipalEntity::Role(ref r) if r.role_id == "AROAEXAMPLE"));
        let missing = store
            .read_blocking(|tx| load_principal_policies(tx, ACCT, PrincipalRef::Role("nobody")))
            .unwrap_err();
        assert_eq!(missing.code, "NoSuchEntity");
        assert_eq!(
            missing.message,
            "The role with name nobody cannot be found."
        );
    }

    #[test]
    fn customer_policy_names_come_only_from_this_accounts_arns() {
        assert_eq!(
            customer_policy_name(ACCT, &format!("arn:aws:iam::{ACCT}:policy/a/b/Name")),
            Some("Name")
        );
        assert_eq!(
            customer_policy_name(ACCT, "arn:aws:iam::999999999999:policy/Name"),
            None
        );
        assert_eq!(
            customer_policy_name(ACCT, "arn:aws:iam::aws:policy/Name"),
            None
        );
    }
}
