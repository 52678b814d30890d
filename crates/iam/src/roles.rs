//! Roles: CreateRole, GetRole, ListRoles, UpdateRole, UpdateRoleDescription,
//! UpdateAssumeRolePolicy, DeleteRole, TagRole, UntagRole, ListRoleTags.
use std::sync::Arc;

use rampart_aws_types::{AwsError, ids};
use rampart_policy::PolicyKind;
use rampart_services::Ctx;
use rampart_services::common::records;
use rampart_store::{Expect, ReadTxn, Txn};
use serde_json::{Value, json};

use crate::documents;
use crate::errors;
use crate::model::{
    EntityKind, InstanceProfileRecord, KIND_INSTANCE_PROFILE, KIND_ROLE, RoleRecord, entity_arn,
    entity_prefix, role_key,
};
use crate::usage;
use crate::util::{
    Conds, boundary_json, encode_document, epoch, input_path, input_tags, int_member, list_page,
    max_items, merge_tags, page_vec, path_matches, put_opt, remove_tags, required, str_member,
    with_marker,
};

pub const DEFAULT_MAX_SESSION_DURATION: i64 = 3600;

/// The role as IAM shows it; `full` adds tags, boundary and last use (GetRole, CreateRole).
pub fn role_json(r: &RoleRecord, full: bool) -> Value {
    let mut v = json!({
        "Path": r.path, "RoleName": r.name, "RoleId": r.role_id, "Arn": r.arn,
        "CreateDate": r.create_date,
        "AssumeRolePolicyDocument": encode_document(&r.assume_role_policy_document),
        "MaxSessionDuration": r.max_session_duration,
    });
    put_opt(
        &mut v,
        "Description",
        r.description.clone().map(Value::from),
    );
    if full {
        put_opt(
            &mut v,
            "PermissionsBoundary",
            boundary_json(&r.permissions_boundary),
        );
        if !r.tags.is_empty() {
            put_opt(&mut v, "Tags", Some(json!(r.tags)));
        }
        let last = r.last_used.as_ref().map_or_else(
            || json!({}),
            |l| json!({"LastUsedDate": l.last_used_date, "Region": l.region}),
        );
        put_opt(&mut v, "RoleLastUsed", Some(last));
    }
    v
}

pub fn load(
    tx: &mut (impl ReadTxn + ?Sized),
    account: &str,
    name: &str,
) -> Result<(RoleRecord, u64), AwsError> {
    records::get::<RoleRecord>(tx, &role_key(account, name))?
        .ok_or_else(|| errors::no_such_role(name))
}

pub fn save(tx: &mut dyn Txn, account: &str, r: &RoleRecord, version: u64) -> Result<(), AwsError> {
    records::put(tx, &role_key(account, &r.name), r, Expect::Version(version))?;
    Ok(())
}

pub async fn find(ctx: &Ctx, name: &str) -> Result<Option<RoleRecord>, AwsError> {
    let key = role_key(ctx.account(), name);
    ctx.store()
        .read(move |tx| Ok::<_, AwsError>(records::get::<RoleRecord>(tx, &key)?.map(|(r, _)| r)))
        .await
}

/// Resolves the role, authorizes `action` on it with its tags as `aws:ResourceTag/*`, and
/// returns it (or NoSuchEntity after the decision).
pub async fn authorize_on_role(
    ctx: &Ctx,
    action: &str,
    name: &str,
    extra: &Conds,
) -> Result<RoleRecord, AwsError> {
    let role = find(ctx, name).await?;
    let mut conds = extra.clone();
    let arn = match &role {
        Some(r) => {
            conds.resource_tags(&r.tags);
            r.arn.clone()
        }
        None => entity_arn(ctx.account(), "role", "/", name),
    };
    ctx.authorize(action, &arn, &conds.refs())?;
    role.ok_or_else(|| errors::no_such_role(name))
}

pub async fn create_role(ctx: Arc<Ctx>, input: Value) -> Result<Value, AwsError> {
    let name = required(&input, "RoleName")?.to_string();
    let path = input_path(&input, "Path");
    let trust = required(&input, "AssumeRolePolicyDocument")?.to_string();
    let tags = input_tags(&input)?;
    let boundary = str_member(&input, "PermissionsBoundary").map(str::to_string);
    let account = ctx.account().to_string();
    let arn = entity_arn(&account, "role", &path, &name);
    let mut conds = Conds::new();
    conds.request_tags(&tags);
    if let Some(b) = &boundary {
        conds.push("iam:PermissionsBoundary", b.clone());
    }
    ctx.authorize("iam:CreateRole", &arn, &conds.refs())?;
    documents::validate(&trust, PolicyKind::RoleTrust)?;
    let tags = merge_tags(&[], &tags)?;
    if let Some(b) = &boundary {
        usage::check_policy_arn(b)?;
    }
    let role = RoleRecord {
        name,
        role_id: ids::unique_id("AROA")?,
        path,
        arn,
        create_date: epoch(ctx.now()),
        assume_role_policy_document: trust,
        description: str_member(&input, "Description").map(str::to_string),
        max_session_duration: int_member(&input, "MaxSessionDuration")
            .unwrap_or(DEFAULT_MAX_SESSION_DURATION),
        permissions_boundary: boundary,
        tags,
        inline_policies: Default::default(),
        attached_policies: Vec::new(),
        last_used: None,
    };
    let mut out = role_json(&role, true);
    if let Some(o) = out.as_object_mut() {
        // CreateRole does not report RoleLastUsed.
        o.remove("RoleLastUsed");
    }
    ctx.store()
        .write(move |tx| {
            let key = role_key(&account, &role.name);
            if tx.get(&key)?.is_some() {
                return Err(errors::already_exists(format!(
                    "Role with name {} already exists.",
                    role.name
                )));
            }
            if let Some(b) = &role.permissions_boundary {
                usage::require_policy(tx.as_read(), &account, b)?;
                usage::add(
                    tx,
                    &account,
                    b,
                    usage::entity(EntityKind::Role, &role.name),
                    true,
                )?;
            }
            records::put(tx, &key, &role, Expect::Absent)?;
            Ok(())
        })
        .await?;
    Ok(json!({ "Role": out }))
}

pub async fn get_role(ctx: Arc<Ctx>, input: Value) -> Result<Value, AwsError> {
    let name = required(&input, "RoleName")?.to_string();
    let role = authorize_on_role(&ctx, "iam:GetRole", &name, &Conds::new()).await?;
    Ok(json!({ "Role": role_json(&role, true) }))
}

pub async fn list_roles(ctx: Arc<Ctx>, input: Value) -> Result<Value, AwsError> {
    let account = ctx.account().to_string();
    ctx.authorize(
        "iam:ListRoles",
        &format!("arn:aws:iam::{account}:role/"),
        &[],
    )?;
    let prefix = str_member(&input, "PathPrefix").map(str::to_string);
    let marker = str_member(&input, "Marker").map(str::to_string);
    let max = max_items(&input);
    let (roles, next) = ctx
        .store()
        .read(move |tx| {
            list_page::<RoleRecord>(
                tx,
                &entity_prefix(&account, KIND_ROLE),
                marker.as_deref(),
                max,
                |r| path_matches(&r.path, prefix.as_deref()),
            )
        })
        .await?;
    let roles: Vec<Value> = roles.iter().map(|r| role_json(r, false)).collect();
    Ok(with_marker(json!({ "Roles": roles }), next))
}

/// Applies `change` to the role in one transaction and returns the updated record.
async fn modify(
    ctx: &Ctx,
    name: String,
    change: impl Fn(&mut RoleRecord) -> Result<(), AwsError> + Send + 'static,
) -> Result<RoleRecord, AwsError> {
    let account = ctx.account().to_string();
    ctx.store()
        .write(move |tx| {
            let (mut r, version) = load(tx.as_read(), &account, &name)?;
            change(&mut r)?;
            save(tx, &account, &r, version)?;
            Ok(r)
        })
        .await
}

pub async fn update_role(ctx: Arc<Ctx>, input: Value) -> Result<Value, AwsError> {
    let name = required(&input, "RoleName")?.to_string();
    authorize_on_role(&ctx, "iam:UpdateRole", &name, &Conds::new()).await?;
    let description = str_member(&input, "Description").map(str::to_string);
    let max = int_member(&input, "MaxSessionDuration");
    modify(&ctx, name, move |r| {
        if let Some(d) = &description {
            r.description = Some(d.clone());
        }
        if let Some(m) = max {
            r.max_session_duration = m;
        }
        Ok(())
    })
    .await?;
    Ok(json!({}))
}

pub async fn update_role_description(ctx: Arc<Ctx>, input: Value) -> Result<Value, AwsError> {
    let name = required(&input, "RoleName")?.to_string();
    authorize_on_role(&ctx, "iam:UpdateRoleDescription", &name, &Conds::new()).await?;
    let description = required(&input, "Description")?.to_string();
    let role = modify(&ctx, name, move |r| {
        r.description = Some(description.clone());
        Ok(())
    })
    .await?;
    Ok(json!({ "Role": role_json(&role, true) }))
}

pub async fn update_assume_role_policy(ctx: Arc<Ctx>, input: Value) -> Result<Value, AwsError> {
    let name = required(&input, "RoleName")?.to_string();
    let role = authorize_on_role(&ctx, "iam:UpdateAssumeRolePolicy", &name, &Conds::new()).await?;
    if crate::service_linked_roles::is_service_linked(&role) {
        return Err(crate::service_linked_roles::protected(&role));
    }
    let document = required(&input, "PolicyDocument")?.to_string();
    documents::validate(&document, PolicyKind::RoleTrust)?;
    modify(&ctx, name, move |r| {
        r.assume_role_policy_document = document.clone();
        Ok(())
    })
    .await?;
    Ok(json!({}))
}

pub async fn delete_role(ctx: Arc<Ctx>, input: Value) -> Result<Value, AwsError> {
    let name = required(&input, "RoleName")?.to_string();
    let account = ctx.account().to_string();
    let role = authorize_on_role(&ctx, "iam:DeleteRole", &name, &Conds::new()).await?;
    if crate::service_linked_roles::is_service_linked(&role) {
        return Err(crate::service_linked_roles::protected(&role));
    }
    ctx.store()
        .write(move |tx| {
            let (r, version) = load(tx.as_read(), &account, &name)?;
            let in_profile = !profiles_with_role(tx.as_read(), &account, &r.name)?.is_empty();
            let conflict = if in_profile {
                Some("Cannot delete entity, must remove roles from instance profile first.")
            } else if !r.inline_policies.is_empty() {
                Some("Cannot delete entity, must delete policies first.")
            } else if !r.attached_policies.is_empty() {
                Some("Cannot delete entity, must detach all policies first.")
            } else {
                None
            };
            if let Some(msg) = conflict {
                return Err(errors::delete_conflict(msg));
            }
            if let Some(b) = &r.permissions_boundary {
                usage::remove(
                    tx,
                    &account,
                    b,
                    &usage::entity(EntityKind::Role, &r.name),
                    true,
                )?;
            }
            tx.delete(&role_key(&account, &r.name), Expect::Version(version))?;
            Ok(())
        })
        .await?;
    Ok(json!({}))
}

/// The instance profiles that hold `role` (a bounded scan: instance profiles per account are
/// few, 1,000 by AWS's quota).
pub fn profiles_with_role(
    tx: &mut dyn ReadTxn,
    account: &str,
    role: &str,
) -> Result<Vec<InstanceProfileRecord>, AwsError> {
    let mut out = Vec::new();
    for (key, rec) in tx.scan_all(&entity_prefix(account, KIND_INSTANCE_PROFILE))? {
        let p: InstanceProfileRecord = records::decode(&key, &rec.value)?;
        if p.roles.iter().any(|r| r.eq_ignore_ascii_case(role)) {
            out.push(p);
        }
    }
    Ok(out)
}

pub async fn tag_role(ctx: Arc<Ctx>, input: Value) -> Result<Value, AwsError> {
    let name = required(&input, "RoleName")?.to_string();
    let tags = input_tags(&input)?;
    let mut conds = Conds::new();
    conds.request_tags(&tags);
    authorize_on_role(&ctx, "iam:TagRole", &name, &conds).await?;
    modify(&ctx, name, move |r| {
        r.tags = merge_tags(&r.tags, &tags)?;
        Ok(())
    })
    .await?;
    Ok(json!({}))
}

pub async fn untag_role(ctx: Arc<Ctx>, input: Value) -> Result<Value, AwsError> {
    let name = required(&input, "RoleName")?.to_string();
    let keys: Vec<String> = input
        .get("TagKeys")
        .and_then(|v| serde_json::from_value(v.clone()).ok())
        .unwrap_or_default();
    let mut conds = Conds::new();
    conds.tag_keys(&keys);
    authorize_on_role(&ctx, "iam:UntagRole", &name, &conds).await?;
    modify(&ctx, name, move |r| {
        r.tags = remove_tags(&r.tags, &keys);
        Ok(())
    })
    .await?;
    Ok(json!({}))
}

pub async fn list_role_tags(ctx: Arc<Ctx>, input: Value) -> Result<Value, AwsError> {
    let name = required(&input, "RoleName")?.to_string();
    let role = authorize_on_role(&ctx, "iam:ListRoleTags", &name, &Conds::new()).await?;
    let (tags, next) = page_vec(role.tags, str_member(&input, "Marker"), max_items(&input))?;
    Ok(with_marker(json!({ "Tags": tags }), next))
}
