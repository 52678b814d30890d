//! Users: CreateUser, GetUser, ListUsers, UpdateUser, DeleteUser, TagUser, UntagUser, ListUserTags.
use std::sync::Arc;

use rampart_aws_types::{AwsError, ids};
use rampart_services::common::records;
use rampart_services::credentials::{AccessKeyRecord, KeyOwner, access_key_store_key};
use rampart_services::{Ctx, PrincipalKind};
use rampart_store::{Expect, ReadTxn, Txn};
use serde_json::{Value, json};

use crate::errors;
use crate::model::{
    EntityKind, GroupRecord, KIND_USER, MfaDeviceRecord, UserRecord, entity_arn, entity_prefix,
    group_key, mfa_key, user_key,
};
use crate::usage;
use crate::util::{
    Conds, boundary_json, epoch, input_path, input_tags, list_page, max_items, merge_tags,
    page_vec, path_matches, put_opt, remove_tags, required, str_member, with_marker,
};

/// The user as IAM shows it. `full` adds tags and the permissions boundary (GetUser, CreateUser).
pub fn user_json(u: &UserRecord, full: bool) -> Value {
    let mut v = json!({
        "Path": u.path, "UserName": u.name, "UserId": u.user_id, "Arn": u.arn,
        "CreateDate": u.create_date,
    });
    put_opt(
        &mut v,
        "PasswordLastUsed",
        u.password_last_used.map(Value::from),
    );
    if full {
        put_opt(
            &mut v,
            "PermissionsBoundary",
            boundary_json(&u.permissions_boundary),
        );
        if !u.tags.is_empty() {
            put_opt(&mut v, "Tags", Some(json!(u.tags)));
        }
    }
    v
}

/// The user's ARN when it exists, else the ARN it would have at path `/` (for authorization of
/// a request about a missing user, which then fails with NoSuchEntity).
fn arn_of(account: &str, name: &str, user: Option<&UserRecord>) -> String {
    user.map_or_else(|| entity_arn(account, "user", "/", name), |u| u.arn.clone())
}

/// Reads a user outside of any write (to resolve the target before authorizing).
pub async fn find(ctx: &Ctx, name: &str) -> Result<Option<UserRecord>, AwsError> {
    let key = user_key(ctx.account(), name);
    ctx.store()
        .read(move |tx| Ok::<_, AwsError>(records::get::<UserRecord>(tx, &key)?.map(|(u, _)| u)))
        .await
}

/// Loads a user inside a transaction, or NoSuchEntity.
pub fn load(
    tx: &mut (impl ReadTxn + ?Sized),
    account: &str,
    name: &str,
) -> Result<(UserRecord, u64), AwsError> {
    records::get::<UserRecord>(tx, &user_key(account, name))?
        .ok_or_else(|| errors::no_such_user(name))
}

pub fn save(
    tx: &mut dyn Txn,
    account: &str,
    user: &UserRecord,
    version: u64,
) -> Result<(), AwsError> {
    records::put(
        tx,
        &user_key(account, &user.name),
        user,
        Expect::Version(version),
    )?;
    Ok(())
}

/// Resolves the target user, authorizes `action` on it with its tags as `aws:ResourceTag/*`,
/// and returns its name (or NoSuchEntity after the decision).
pub async fn authorize_on_user(
    ctx: &Ctx,
    action: &str,
    name: &str,
    extra: &Conds,
) -> Result<UserRecord, AwsError> {
    let user = find(ctx, name).await?;
    let mut conds = extra.clone();
    if let Some(u) = &user {
        conds.resource_tags(&u.tags);
    }
    ctx.authorize(
        action,
        &arn_of(ctx.account(), name, user.as_ref()),
        &conds.refs(),
    )?;
    user.ok_or_else(|| errors::no_such_user(name))
}

/// The user a `UserName`-optional operation is about: the named one, or the calling IAM user.
/// Root without a name gets `None`.
pub fn target_name(ctx: &Ctx, input: &Value) -> Option<String> {
    if let Some(n) = str_member(input, "UserName") {
        return Some(n.to_string());
    }
    match &ctx.principal.kind {
        PrincipalKind::IamUser { name } => Some(name.clone()),
        _ => None,
    }
}

pub async fn create_user(ctx: Arc<Ctx>, input: Value) -> Result<Value, AwsError> {
    let name = required(&input, "UserName")?.to_string();
    let path = input_path(&input, "Path");
    let tags = input_tags(&input)?;
    let boundary = str_member(&input, "PermissionsBoundary").map(str::to_string);
    let account = ctx.account().to_string();
    let arn = entity_arn(&account, "user", &path, &name);
    let mut conds = Conds::new();
    conds.request_tags(&tags);
    if let Some(b) = &boundary {
        conds.push("iam:PermissionsBoundary", b.clone());
    }
    ctx.authorize("iam:CreateUser", &arn, &conds.refs())?;
    let tags = merge_tags(&[], &tags)?;
    if let Some(b) = &boundary {
        usage::check_policy_arn(b)?;
    }
    let user = UserRecord {
        name: name.clone(),
        user_id: ids::unique_id("AIDA")?,
        path,
        arn,
        create_date: epoch(ctx.now()),
        tags,
        permissions_boundary: boundary,
        inline_policies: Default::default(),
        attached_policies: Vec::new(),
        groups: Vec::new(),
        access_keys: Vec::new(),
        mfa_devices: Vec::new(),
        login_profile: None,
        password_last_used: None,
        signing_certificates: Vec::new(),
        service_specific_credentials: Vec::new(),
    };
    let out = user_json(&user, true);
    ctx.store()
        .write(move |tx| {
            let key = user_key(&account, &user.name);
            if tx.get(&key)?.is_some() {
                return Err(errors::already_exists(format!(
                    "User with name {} already exists.",
                    user.name
                )));
            }
            if let Some(b) = &user.permissions_boundary {
                usage::require_policy(tx.as_read(), &account, b)?;
                usage::add(
                    tx,
                    &account,
                    b,
                    usage::entity(EntityKind::User, &user.name),
                    true,
                )?;
            }
            records::put(tx, &key, &user, Expect::Absent)?;
            Ok(())
        })
        .await?;
    Ok(json!({ "User": out }))
}

pub async fn get_user(ctx: Arc<Ctx>, input: Value) -> Result<Value, AwsError> {
    let Some(name) = target_name(&ctx, &input) else {
        // Root asking about itself.
        let arn = ctx.principal.arn.clone();
        ctx.authorize("iam:GetUser", &arn, &[])?;
        // AWS answers root with its id and ARN only (no name or path).
        return Ok(json!({"User": {
            "UserId": ctx.principal.account, "Arn": arn, "CreateDate": epoch(ctx.now()),
        }}));
    };
    let user = authorize_on_user(&ctx, "iam:GetUser", &name, &Conds::new()).await?;
    Ok(json!({ "User": user_json(&user, true) }))
}

pub async fn list_users(ctx: Arc<Ctx>, input: Value) -> Result<Value, AwsError> {
    let account = ctx.account().to_string();
    ctx.authorize(
        "iam:ListUsers",
        &format!("arn:aws:iam::{account}:user/"),
        &[],
    )?;
    let prefix = str_member(&input, "PathPrefix").map(str::to_string);
    let marker = str_member(&input, "Marker").map(str::to_string);
    let max = max_items(&input);
    let (users, next) = ctx
        .store()
        .read(move |tx| {
            list_page::<UserRecord>(
                tx,
                &entity_prefix(&account, KIND_USER),
                marker.as_deref(),
                max,
                |u| path_matches(&u.path, prefix.as_deref()),
            )
        })
        .await?;
    let users: Vec<Value> = users.iter().map(|u| user_json(u, false)).collect();
    Ok(with_marker(json!({ "Users": users }), next))
}

pub async fn update_user(ctx: Arc<Ctx>, input: Value) -> Result<Value, AwsError> {
    let name = required(&input, "UserName")?.to_string();
    let new_name = str_member(&input, "NewUserName").map(str::to_string);
    let new_path = str_member(&input, "NewPath").map(str::to_string);
    let account = ctx.account().to_string();
    let user = authorize_on_user(&ctx, "iam:UpdateUser", &name, &Conds::new()).await?;
    if let Some(n) = &new_name {
        let path = new_path.as_deref().unwrap_or(&user.path);
        ctx.authorize(
            "iam:UpdateUser",
            &entity_arn(&account, "user", path, n),
            &[],
        )?;
    }
    let key_ids = ctx
        .store()
        .write(move |tx| {
            let (mut u, version) = load(tx.as_read(), &account, &name)?;
            let old_name = u.name.clone();
            let target = new_name.clone().unwrap_or_else(|| old_name.clone());
            let renamed = target != old_name || new_path.as_ref().is_some_and(|p| *p != u.path);
            let moved_key = !target.eq_ignore_ascii_case(&old_name);
            if moved_key && tx.get(&user_key(&account, &target))?.is_some() {
                return Err(errors::already_exists(format!(
                    "User with name {target} already exists."
                )));
            }
            if let Some(p) = &new_path {
                u.path = p.clone();
            }
            u.name = target.clone();
            u.arn = entity_arn(&account, "user", &u.path, &u.name);
            if renamed {
                rename_references(tx, &account, &u, &old_name)?;
            }
            if moved_key {
                tx.delete(&user_key(&account, &old_name), Expect::Version(version))?;
                records::put(tx, &user_key(&account, &u.name), &u, Expect::Absent)?;
            } else {
                save(tx, &account, &u, version)?;
            }
            Ok(if renamed {
                u.access_keys.clone()
            } else {
                Vec::new()
            })
        })
        .await?;
    // The server caches principals by key; renamed owners must be read again.
    for id in key_ids {
        ctx.node.credential_cache.invalidate(&id);
    }
    Ok(json!({}))
}

/// Everything that names a user by name follows a rename: groups' member lists, policy usage,
/// access key owners, MFA device assignments.
fn rename_references(
    tx: &mut dyn Txn,
    account: &str,
    u: &UserRecord,
    old: &str,
) -> Result<(), AwsError> {
    for g in &u.groups {
        let gk = group_key(account, g);
        if let Some((mut group, v)) = records::get::<GroupRecord>(tx.as_read(), &gk)? {
            for m in &mut group.members {
                if m == old {
                    *m = u.name.clone();
                }
            }
            records::put(tx, &gk, &group, Expect::Version(v))?;
        }
    }
    usage::rename(
        tx,
        account,
        &u.attached_policies,
        u.permissions_boundary.as_deref(),
        EntityKind::User,
        old,
        &u.name,
    )?;
    for id in &u.access_keys {
        let k = access_key_store_key(id);
        if let Some((mut rec, v)) = records::get::<AccessKeyRecord>(tx.as_read(), &k)? {
            rec.owner = KeyOwner::User {
                name: u.name.clone(),
                user_id: u.user_id.clone(),
                path: u.path.clone(),
            };
            records::put(tx, &k, &rec, Expect::Version(v))?;
        }
    }
    for serial in &u.mfa_devices {
        let k = mfa_key(account, serial);
        if let Some((mut rec, v)) = records::get::<MfaDeviceRecord>(tx.as_read(), &k)? {
            rec.user = Some(u.name.clone());
            records::put(tx, &k, &rec, Expect::Version(v))?;
        }
    }
    Ok(())
}

pub async fn delete_user(ctx: Arc<Ctx>, input: Value) -> Result<Value, AwsError> {
    let name = required(&input, "UserName")?.to_string();
    let account = ctx.account().to_string();
    authorize_on_user(&ctx, "iam:DeleteUser", &name, &Conds::new()).await?;
    ctx.store()
        .write(move |tx| {
            let (u, version) = load(tx.as_read(), &account, &name)?;
            let conflict = if !u.access_keys.is_empty() {
                Some("Cannot delete entity, must delete access keys first.")
            } else if !u.inline_policies.is_empty() {
                Some("Cannot delete entity, must delete policies first.")
            } else if !u.attached_policies.is_empty() {
                Some("Cannot delete entity, must detach all policies first.")
            } else if !u.groups.is_empty() {
                Some("Cannot delete entity, must remove user from all groups first.")
            } else if u.login_profile.is_some() {
                Some("Cannot delete entity, must delete login profile first.")
            } else if !u.mfa_devices.is_empty() {
                Some("Cannot delete entity, must delete MFA device first.")
            } else if !u.signing_certificates.is_empty() {
                Some("Cannot delete entity, must delete signing certificates first.")
            } else if !u.service_specific_credentials.is_empty() {
                Some("Cannot delete entity, must delete service specific credentials first.")
            } else {
                None
            };
            if let Some(msg) = conflict {
                return Err(errors::delete_conflict(msg));
            }
            if let Some(b) = &u.permissions_boundary {
                usage::remove(
                    tx,
                    &account,
                    b,
                    &usage::entity(EntityKind::User, &u.name),
                    true,
                )?;
            }
            tx.delete(&user_key(&account, &u.name), Expect::Version(version))?;
            Ok(())
        })
        .await?;
    Ok(json!({}))
}

pub async fn tag_user(ctx: Arc<Ctx>, input: Value) -> Result<Value, AwsError> {
    let name = required(&input, "UserName")?.to_string();
    let tags = input_tags(&input)?;
    let account = ctx.account().to_string();
    let mut conds = Conds::new();
    conds.request_tags(&tags);
    authorize_on_user(&ctx, "iam:TagUser", &name, &conds).await?;
    ctx.store()
        .write(move |tx| {
            let (mut u, version) = load(tx.as_read(), &account, &name)?;
            u.tags = merge_tags(&u.tags, &tags)?;
            save(tx, &account, &u, version)
        })
        .await?;
    Ok(json!({}))
}

pub async fn untag_user(ctx: Arc<Ctx>, input: Value) -> Result<Value, AwsError> {
    let name = required(&input, "UserName")?.to_string();
    let keys: Vec<String> = input
        .get("TagKeys")
        .and_then(|v| serde_json::from_value(v.clone()).ok())
        .unwrap_or_default();
    let account = ctx.account().to_string();
    let mut conds = Conds::new();
    conds.tag_keys(&keys);
    authorize_on_user(&ctx, "iam:UntagUser", &name, &conds).await?;
    ctx.store()
        .write(move |tx| {
            let (mut u, version) = load(tx.as_read(), &account, &name)?;
            u.tags = remove_tags(&u.tags, &keys);
            save(tx, &account, &u, version)
        })
        .await?;
    Ok(json!({}))
}

pub async fn list_user_tags(ctx: Arc<Ctx>, input: Value) -> Result<Value, AwsError> {
    let name = required(&input, "UserName")?.to_string();
    let user = authorize_on_user(&ctx, "iam:ListUserTags", &name, &Conds::new()).await?;
    let (tags, next) = page_vec(user.tags, str_member(&input, "Marker"), max_items(&input))?;
    Ok(with_marker(json!({ "Tags": tags }), next))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_json_has_the_shape_iam_returns() {
        let u = UserRecord {
            name: "alice".into(),
            user_id: "AIDAEXAMPLE".into(),
            path: "/eng/".into(),
            arn: entity_arn("111122223333", "user", "/eng/", "alice"),
            create_date: 1_700_000_000,
            tags: vec![],
            permissions_boundary: Some("arn:aws:iam::aws:policy/AdministratorAccess".into()),
            inline_policies: Default::default(),
            attached_policies: vec![],
            groups: vec![],
            access_keys: vec![],
            mfa_devices: vec![],
            login_profile: None,
            password_last_used: None,
            signing_certificates: Vec::new(),
            service_specific_credentials: Vec::new(),
        };
        let v = user_json(&u, true);
        assert_eq!(v["Arn"], "arn:aws:iam::111122223333:user/eng/alice");
        assert_eq!(
            v["PermissionsBoundary"]["PermissionsBoundaryType"],
            "PermissionsBoundaryPolicy"
        );
        assert!(v.get("Tags").is_none());
        assert!(user_json(&u, false).get("PermissionsBoundary").is_none());
    }
}
