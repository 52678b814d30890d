//! Account-wide operations: CreateAccountAlias, DeleteAccountAlias, ListAccountAliases,
//! GetAccountSummary, GetAccountAuthorizationDetails.
use std::collections::BTreeSet;
use std::sync::Arc;

use rampart_aws_types::AwsError;
use rampart_services::Ctx;
use rampart_services::common::records;
use rampart_store::{Expect, ReadTxn};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::aws_managed;
use crate::errors;
use crate::model::{
    AccountAliasRecord, GroupRecord, InstanceProfileRecord, KIND_GROUP, KIND_INSTANCE_PROFILE,
    KIND_MFA, KIND_POLICY, KIND_ROLE, KIND_USER, ManagedPolicyRecord, MfaDeviceRecord, RoleRecord,
    UserRecord, alias_key, entity_prefix,
};
use crate::policies::PolicyView;
use crate::roles;
use crate::usage;
use crate::util::{
    boundary_json, encode_document, max_items, page_vec, put_opt, required, str_member, with_marker,
};

fn sts_preferences_key(account: &str) -> String {
    rampart_services::common::keys::key(
        account,
        crate::model::REGION,
        crate::model::SERVICE,
        "stspreferences",
        "account",
    )
}

/// SetSecurityTokenServicePreferences: which token version the global STS endpoint issues
/// (`v1Token` → 1, `v2Token` → 2), shown by GetAccountSummary's `GlobalEndpointTokenVersion`.
pub async fn set_sts_preferences(ctx: Arc<Ctx>, input: Value) -> Result<Value, AwsError> {
    ctx.authorize("iam:SetSecurityTokenServicePreferences", "*", &[])?;
    let version: u8 = match required(&input, "GlobalEndpointTokenVersion")? {
        "v2Token" => 2,
        _ => 1,
    };
    let account = ctx.account().to_string();
    ctx.store()
        .write(move |tx| {
            records::put(
                tx,
                &sts_preferences_key(&account),
                &json!({ "globalEndpointTokenVersion": version }),
                Expect::Any,
            )?;
            Ok::<_, AwsError>(())
        })
        .await?;
    Ok(json!({}))
}

/// Aliases are unique across all accounts of this Rampart.
fn global_alias_key(alias: &str) -> String {
    format!("sys/iam-account-alias/{alias}")
}

pub async fn create_account_alias(ctx: Arc<Ctx>, input: Value) -> Result<Value, AwsError> {
    let alias = required(&input, "AccountAlias")?.to_string();
    ctx.authorize("iam:CreateAccountAlias", "*", &[])?;
    let account = ctx.account().to_string();
    ctx.store()
        .write(move |tx| {
            if let Some(owner) = tx.get(&global_alias_key(&alias))? {
                if owner.value != account.as_bytes() {
                    return Err(errors::already_exists(format!(
                        "The account alias {alias} already exists."
                    )));
                }
                return Ok(());
            }
            // An account has one alias: a new one replaces the old.
            if let Some((old, _)) =
                records::get::<AccountAliasRecord>(tx.as_read(), &alias_key(&account))?
            {
                tx.delete(&global_alias_key(&old.alias), Expect::Any)?;
            }
            tx.put(
                &global_alias_key(&alias),
                account.as_bytes(),
                Expect::Absent,
            )?;
            records::put(
                tx,
                &alias_key(&account),
                &AccountAliasRecord {
                    alias: alias.clone(),
                },
                Expect::Any,
            )?;
            Ok(())
        })
        .await?;
    Ok(json!({}))
}

pub async fn delete_account_alias(ctx: Arc<Ctx>, input: Value) -> Result<Value, AwsError> {
    let alias = required(&input, "AccountAlias")?.to_string();
    ctx.authorize("iam:DeleteAccountAlias", "*", &[])?;
    let account = ctx.account().to_string();
    ctx.store()
        .write(move |tx| {
            match records::get::<AccountAliasRecord>(tx.as_read(), &alias_key(&account))? {
                Some((rec, v)) if rec.alias == alias => {
                    tx.delete(&alias_key(&account), Expect::Version(v))?;
                    tx.delete(&global_alias_key(&alias), Expect::Any)?;
                    Ok(())
                }
                _ => Err(errors::no_such_entity(format!(
                    "The account alias {alias} cannot be found."
                ))),
            }
        })
        .await?;
    Ok(json!({}))
}

pub async fn list_account_aliases(ctx: Arc<Ctx>, _input: Value) -> Result<Value, AwsError> {
    ctx.authorize("iam:ListAccountAliases", "*", &[])?;
    let account = ctx.account().to_string();
    let alias = ctx
        .store()
        .read(move |tx| {
            Ok::<_, AwsError>(
                records::get::<AccountAliasRecord>(tx, &alias_key(&account))?.map(|(a, _)| a.alias),
            )
        })
        .await?;
    let list: Vec<String> = alias.into_iter().collect();
    Ok(json!({ "AccountAliases": list, "IsTruncated": false }))
}

fn all_of<T: DeserializeOwned>(
    tx: &mut dyn ReadTxn,
    account: &str,
    kind: &str,
) -> Result<Vec<T>, AwsError> {
    let mut out = Vec::new();
    for (key, rec) in tx.scan_all(&entity_prefix(account, kind))? {
        out.push(records::decode::<T>(&key, &rec.value)?);
    }
    Ok(out)
}

pub async fn get_account_summary(ctx: Arc<Ctx>, _input: Value) -> Result<Value, AwsError> {
    ctx.authorize("iam:GetAccountSummary", "*", &[])?;
    let account = ctx.account().to_string();
    let summary = ctx
        .store()
        .read(move |tx| {
            let users: Vec<UserRecord> = all_of(tx, &account, KIND_USER)?;
            let policies: Vec<ManagedPolicyRecord> = all_of(tx, &account, KIND_POLICY)?;
            let mfa: Vec<MfaDeviceRecord> = all_of(tx, &account, KIND_MFA)?;
            let groups = tx.count(&entity_prefix(&account, KIND_GROUP))?;
            let roles = tx.count(&entity_prefix(&account, KIND_ROLE))?;
            let profiles = tx.count(&entity_prefix(&account, KIND_INSTANCE_PROFILE))?;
            let providers = tx.count(&entity_prefix(&account, crate::model::KIND_OIDC_PROVIDER))?
                + tx.count(&entity_prefix(&account, crate::model::KIND_SAML_PROVIDER))?;
            let versions: usize = policies.iter().map(|p| p.versions.len()).sum();
            let token_version = records::get::<Value>(tx, &sts_preferences_key(&account))?
                .and_then(|(v, _)| v.get("globalEndpointTokenVersion").and_then(Value::as_u64))
                .unwrap_or(1);
            Ok::<_, AwsError>(json!({
                "Users": users.len(), "UsersQuota": 5000,
                "Groups": groups, "GroupsQuota": 300,
                "Roles": roles, "RolesQuota": 1000,
                "Policies": policies.len(), "PoliciesQuota": 1500,
                "InstanceProfiles": profiles, "InstanceProfilesQuota": 1000,
                "ServerCertificates": 0, "ServerCertificatesQuota": 20,
                "MFADevices": mfa.len(),
                "MFADevicesInUse": mfa.iter().filter(|d| d.user.is_some()).count(),
                "AccountMFAEnabled": 0,
                "AccountAccessKeysPresent": 1,
                "AccountPasswordPresent": 0,
                "AccountSigningCertificatesPresent": 0,
                "AttachedPoliciesPerUserQuota": 10,
                "AttachedPoliciesPerGroupQuota": 10,
                "AttachedPoliciesPerRoleQuota": 10,
                "PolicySizeQuota": 6144,
                "PolicyVersionsInUse": versions, "PolicyVersionsInUseQuota": 10000,
                "VersionsPerPolicyQuota": 5,
                "GroupsPerUserQuota": 10,
                "AccessKeysPerUserQuota": 2,
                "SigningCertificatesPerUserQuota": 2,
                "UserPolicySizeQuota": 2048,
                "GroupPolicySizeQuota": 5120,
                "RolePolicySizeQuota": 10240,
                "AssumeRolePolicySizeQuota": 2048,
                "GlobalEndpointTokenVersion": token_version,
                "Providers": providers,
            }))
        })
        .await?;
    Ok(json!({ "SummaryMap": summary }))
}

fn inline_list(policies: &std::collections::BTreeMap<String, String>) -> Vec<Value> {
    policies
        .iter()
        .map(|(n, d)| json!({"PolicyName": n, "PolicyDocument": encode_document(d)}))
        .collect()
}

fn attached_list(arns: &[String]) -> Vec<Value> {
    arns.iter()
        .map(|a| json!({"PolicyName": a.rsplit('/').next().unwrap_or(""), "PolicyArn": a}))
        .collect()
}

pub async fn get_account_authorization_details(
    ctx: Arc<Ctx>,
    input: Value,
) -> Result<Value, AwsError> {
    ctx.authorize("iam:GetAccountAuthorizationDetails", "*", &[])?;
    let filter: BTreeSet<String> = input
        .get("Filter")
        .and_then(|v| serde_json::from_value::<Vec<String>>(v.clone()).ok())
        .unwrap_or_default()
        .into_iter()
        .collect();
    let wants = move |k: &str| filter.is_empty() || filter.contains(k);
    let account = ctx.account().to_string();
    // (list name, item) pairs in a stable order, paged as one sequence.
    let items = ctx
        .store()
        .read(move |tx| {
            let mut items: Vec<(&'static str, Value)> = Vec::new();
            if wants("User") {
                for u in all_of::<UserRecord>(tx, &account, KIND_USER)? {
                    let mut v = json!({
                        "Path": u.path, "UserName": u.name, "UserId": u.user_id, "Arn": u.arn,
                        "CreateDate": u.create_date, "UserPolicyList": inline_list(&u.inline_policies),
                        "GroupList": u.groups, "AttachedManagedPolicies": attached_list(&u.attached_policies),
                        "Tags": u.tags,
                    });
                    put_opt(&mut v, "PermissionsBoundary", boundary_json(&u.permissions_boundary));
                    items.push(("UserDetailList", v));
                }
            }
            if wants("Group") {
                for g in all_of::<GroupRecord>(tx, &account, KIND_GROUP)? {
                    items.push(("GroupDetailList", json!({
                        "Path": g.path, "GroupName": g.name, "GroupId": g.group_id, "Arn": g.arn,
                        "CreateDate": g.create_date, "GroupPolicyList": inline_list(&g.inline_policies),
                        "AttachedManagedPolicies": attached_list(&g.attached_policies),
                    })));
                }
            }
            if wants("Role") {
                let profiles: Vec<InstanceProfileRecord> = all_of(tx, &account, KIND_INSTANCE_PROFILE)?;
                for r in all_of::<RoleRecord>(tx, &account, KIND_ROLE)? {
                    let mut v = roles::role_json(&r, true);
                    let ips: Vec<Value> = profiles
                        .iter()
                        .filter(|p| p.roles.iter().any(|n| n.eq_ignore_ascii_case(&r.name)))
                        .map(|p| json!({
                            "Path": p.path, "InstanceProfileName": p.name,
                            "InstanceProfileId": p.instance_profile_id, "Arn": p.arn,
                            "CreateDate": p.create_date, "Roles": [roles::role_json(&r, false)],
                        }))
                        .collect();
                    put_opt(&mut v, "InstanceProfileList", Some(json!(ips)));
                    put_opt(&mut v, "RolePolicyList", Some(json!(inline_list(&r.inline_policies))));
                    put_opt(&mut v, "AttachedManagedPolicies", Some(json!(attached_list(&r.attached_policies))));
                    if r.tags.is_empty() {
                        put_opt(&mut v, "Tags", Some(json!([])));
                    }
                    items.push(("RoleDetailList", v));
                }
            }
            if wants("LocalManagedPolicy") {
                for p in all_of::<ManagedPolicyRecord>(tx, &account, KIND_POLICY)? {
                    let u = usage::get(tx, &account, &p.arn)?;
                    let mut v = PolicyView::of_customer(&p).json(&u, true);
                    let versions: Vec<Value> = p.versions.iter().map(|x| json!({
                        "Document": encode_document(&x.document), "VersionId": x.version_id,
                        "IsDefaultVersion": x.version_id == p.default_version_id, "CreateDate": x.create_date,
                    })).collect();
                    put_opt(&mut v, "PolicyVersionList", Some(json!(versions)));
                    items.push(("Policies", v));
                }
            }
            if wants("AWSManagedPolicy") {
                for p in aws_managed::all() {
                    let u = usage::get(tx, &account, &p.arn())?;
                    if u.attached.is_empty() && u.boundary_of.is_empty() {
                        continue;
                    }
                    let mut v = PolicyView::of_aws(p).json(&u, true);
                    put_opt(&mut v, "PolicyVersionList", Some(json!([{
                        "Document": encode_document(p.document), "VersionId": p.version_id,
                        "IsDefaultVersion": true, "CreateDate": p.update_date,
                    }])));
                    items.push(("Policies", v));
                }
            }
            Ok::<_, AwsError>(items)
        })
        .await?;
    let (page, next) = page_vec(items, str_member(&input, "Marker"), max_items(&input))?;
    let mut out = json!({
        "UserDetailList": [], "GroupDetailList": [], "RoleDetailList": [], "Policies": [],
    });
    for (list, item) in page {
        if let Some(Value::Array(a)) = out.get_mut(list) {
            a.push(item);
        }
    }
    Ok(with_marker(out, next))
}
