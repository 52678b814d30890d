//! Groups and membership: CreateGroup, GetGroup, ListGroups, UpdateGroup, DeleteGroup,
//! AddUserToGroup, RemoveUserFromGroup, ListGroupsForUser.
use std::sync::Arc;

use rampart_aws_types::{AwsError, ids};
use rampart_services::Ctx;
use rampart_services::common::records;
use rampart_store::{Expect, ReadTxn, Txn};
use serde_json::{Value, json};

use crate::errors;
use crate::model::{
    EntityKind, GroupRecord, KIND_GROUP, UserRecord, entity_arn, entity_prefix, group_key, user_key,
};
use crate::usage;
use crate::users;
use crate::util::{
    Conds, epoch, input_path, list_page, max_items, page_vec, path_matches, required, str_member,
    with_marker,
};

/// IAM's quota of groups one user may belong to.
pub const GROUPS_PER_USER: usize = 10;

pub fn group_json(g: &GroupRecord) -> Value {
    json!({
        "Path": g.path, "GroupName": g.name, "GroupId": g.group_id, "Arn": g.arn,
        "CreateDate": g.create_date,
    })
}

pub fn load(
    tx: &mut (impl ReadTxn + ?Sized),
    account: &str,
    name: &str,
) -> Result<(GroupRecord, u64), AwsError> {
    records::get::<GroupRecord>(tx, &group_key(account, name))?
        .ok_or_else(|| errors::no_such_group(name))
}

pub fn save(
    tx: &mut dyn Txn,
    account: &str,
    g: &GroupRecord,
    version: u64,
) -> Result<(), AwsError> {
    records::put(
        tx,
        &group_key(account, &g.name),
        g,
        Expect::Version(version),
    )?;
    Ok(())
}

pub async fn find(ctx: &Ctx, name: &str) -> Result<Option<GroupRecord>, AwsError> {
    let key = group_key(ctx.account(), name);
    ctx.store()
        .read(move |tx| Ok::<_, AwsError>(records::get::<GroupRecord>(tx, &key)?.map(|(g, _)| g)))
        .await
}

/// Authorizes `action` on the group (its ARN when it exists) and returns it, or NoSuchEntity.
pub async fn authorize_on_group(
    ctx: &Ctx,
    action: &str,
    name: &str,
) -> Result<GroupRecord, AwsError> {
    let group = find(ctx, name).await?;
    let arn = group.as_ref().map_or_else(
        || entity_arn(ctx.account(), "group", "/", name),
        |g| g.arn.clone(),
    );
    ctx.authorize(action, &arn, &[])?;
    group.ok_or_else(|| errors::no_such_group(name))
}

pub async fn create_group(ctx: Arc<Ctx>, input: Value) -> Result<Value, AwsError> {
    let name = required(&input, "GroupName")?.to_string();
    let path = input_path(&input, "Path");
    let account = ctx.account().to_string();
    let arn = entity_arn(&account, "group", &path, &name);
    ctx.authorize("iam:CreateGroup", &arn, &[])?;
    let group = GroupRecord {
        name,
        group_id: ids::unique_id("AGPA")?,
        path,
        arn,
        create_date: epoch(ctx.now()),
        inline_policies: Default::default(),
        attached_policies: Vec::new(),
        members: Vec::new(),
    };
    let out = group_json(&group);
    ctx.store()
        .write(move |tx| {
            let key = group_key(&account, &group.name);
            if tx.get(&key)?.is_some() {
                return Err(errors::already_exists(format!(
                    "Group with name {} already exists.",
                    group.name
                )));
            }
            records::put(tx, &key, &group, Expect::Absent)?;
            Ok(())
        })
        .await?;
    Ok(json!({ "Group": out }))
}

pub async fn get_group(ctx: Arc<Ctx>, input: Value) -> Result<Value, AwsError> {
    let name = required(&input, "GroupName")?.to_string();
    let group = authorize_on_group(&ctx, "iam:GetGroup", &name).await?;
    let account = ctx.account().to_string();
    let members = group.members.clone();
    let (page, next) = page_vec(members, str_member(&input, "Marker"), max_items(&input))?;
    let users = ctx
        .store()
        .read(move |tx| {
            let mut out = Vec::new();
            for m in &page {
                if let Some((u, _)) = records::get::<UserRecord>(tx, &user_key(&account, m))? {
                    out.push(users::user_json(&u, false));
                }
            }
            Ok::<_, AwsError>(out)
        })
        .await?;
    Ok(with_marker(
        json!({ "Group": group_json(&group), "Users": users }),
        next,
    ))
}

pub async fn list_groups(ctx: Arc<Ctx>, input: Value) -> Result<Value, AwsError> {
    let account = ctx.account().to_string();
    ctx.authorize(
        "iam:ListGroups",
        &format!("arn:aws:iam::{account}:group/"),
        &[],
    )?;
    let prefix = str_member(&input, "PathPrefix").map(str::to_string);
    let marker = str_member(&input, "Marker").map(str::to_string);
    let max = max_items(&input);
    let (groups, next) = ctx
        .store()
        .read(move |tx| {
            list_page::<GroupRecord>(
                tx,
                &entity_prefix(&account, KIND_GROUP),
                marker.as_deref(),
                max,
                |g| path_matches(&g.path, prefix.as_deref()),
            )
        })
        .await?;
    let groups: Vec<Value> = groups.iter().map(group_json).collect();
    Ok(with_marker(json!({ "Groups": groups }), next))
}

pub async fn update_group(ctx: Arc<Ctx>, input: Value) -> Result<Value, AwsError> {
    let name = required(&input, "GroupName")?.to_string();
    let new_name = str_member(&input, "NewGroupName").map(str::to_string);
    let new_path = str_member(&input, "NewPath").map(str::to_string);
    let account = ctx.account().to_string();
    let group = authorize_on_group(&ctx, "iam:UpdateGroup", &name).await?;
    if let Some(n) = &new_name {
        let path = new_path.as_deref().unwrap_or(&group.path);
        ctx.authorize(
            "iam:UpdateGroup",
            &entity_arn(&account, "group", path, n),
            &[],
        )?;
    }
    ctx.store()
        .write(move |tx| {
            let (mut g, version) = load(tx.as_read(), &account, &name)?;
            let old = g.name.clone();
            let target = new_name.clone().unwrap_or_else(|| old.clone());
            let moved_key = !target.eq_ignore_ascii_case(&old);
            if moved_key && tx.get(&group_key(&account, &target))?.is_some() {
                return Err(errors::already_exists(format!(
                    "Group with name {target} already exists."
                )));
            }
            if let Some(p) = &new_path {
                g.path = p.clone();
            }
            g.name = target.clone();
            g.arn = entity_arn(&account, "group", &g.path, &g.name);
            if target != old {
                for m in &g.members {
                    let (mut u, uv) = users::load(tx.as_read(), &account, m)?;
                    for gn in &mut u.groups {
                        if *gn == old {
                            *gn = target.clone();
                        }
                    }
                    users::save(tx, &account, &u, uv)?;
                }
                usage::rename(
                    tx,
                    &account,
                    &g.attached_policies,
                    None,
                    EntityKind::Group,
                    &old,
                    &target,
                )?;
            }
            if moved_key {
                tx.delete(&group_key(&account, &old), Expect::Version(version))?;
                records::put(tx, &group_key(&account, &g.name), &g, Expect::Absent)?;
            } else {
                save(tx, &account, &g, version)?;
            }
            Ok(())
        })
        .await?;
    Ok(json!({}))
}

pub async fn delete_group(ctx: Arc<Ctx>, input: Value) -> Result<Value, AwsError> {
    let name = required(&input, "GroupName")?.to_string();
    let account = ctx.account().to_string();
    authorize_on_group(&ctx, "iam:DeleteGroup", &name).await?;
    ctx.store()
        .write(move |tx| {
            let (g, version) = load(tx.as_read(), &account, &name)?;
            let conflict = if !g.members.is_empty() {
                Some("Cannot delete entity, must remove users from group first.")
            } else if !g.inline_policies.is_empty() {
                Some("Cannot delete entity, must delete policies first.")
            } else if !g.attached_policies.is_empty() {
                Some("Cannot delete entity, must detach all policies first.")
            } else {
                None
            };
            if let Some(msg) = conflict {
                return Err(errors::delete_conflict(msg));
            }
            tx.delete(&group_key(&account, &g.name), Expect::Version(version))?;
            Ok(())
        })
        .await?;
    Ok(json!({}))
}

pub async fn add_user_to_group(ctx: Arc<Ctx>, input: Value) -> Result<Value, AwsError> {
    let group_name = required(&input, "GroupName")?.to_string();
    let user_name = required(&input, "UserName")?.to_string();
    let account = ctx.account().to_string();
    authorize_on_group(&ctx, "iam:AddUserToGroup", &group_name).await?;
    ctx.store()
        .write(move |tx| {
            let (mut g, gv) = load(tx.as_read(), &account, &group_name)?;
            let (mut u, uv) = users::load(tx.as_read(), &account, &user_name)?;
            if u.groups.iter().any(|n| n.eq_ignore_ascii_case(&g.name)) {
                return Ok(());
            }
            if u.groups.len() >= GROUPS_PER_USER {
                return Err(errors::limit_exceeded(format!(
                    "Cannot exceed quota for GroupsPerUser: {GROUPS_PER_USER}"
                )));
            }
            u.groups.push(g.name.clone());
            g.members.push(u.name.clone());
            users::save(tx, &account, &u, uv)?;
            save(tx, &account, &g, gv)
        })
        .await?;
    Ok(json!({}))
}

pub async fn remove_user_from_group(ctx: Arc<Ctx>, input: Value) -> Result<Value, AwsError> {
    let group_name = required(&input, "GroupName")?.to_string();
    let user_name = required(&input, "UserName")?.to_string();
    let account = ctx.account().to_string();
    authorize_on_group(&ctx, "iam:RemoveUserFromGroup", &group_name).await?;
    ctx.store()
        .write(move |tx| {
            let (mut g, gv) = load(tx.as_read(), &account, &group_name)?;
            let (mut u, uv) = users::load(tx.as_read(), &account, &user_name)?;
            if !u.groups.iter().any(|n| n.eq_ignore_ascii_case(&g.name)) {
                return Err(errors::no_such_entity(format!(
                    "User {} is not in group {}.",
                    u.name, g.name
                )));
            }
            u.groups.retain(|n| !n.eq_ignore_ascii_case(&g.name));
            g.members.retain(|n| !n.eq_ignore_ascii_case(&u.name));
            users::save(tx, &account, &u, uv)?;
            save(tx, &account, &g, gv)
        })
        .await?;
    Ok(json!({}))
}

pub async fn list_groups_for_user(ctx: Arc<Ctx>, input: Value) -> Result<Value, AwsError> {
    let name = required(&input, "UserName")?.to_string();
    let user =
        users::authorize_on_user(&ctx, "iam:ListGroupsForUser", &name, &Conds::new()).await?;
    let account = ctx.account().to_string();
    let (page, next) = page_vec(user.groups, str_member(&input, "Marker"), max_items(&input))?;
    let groups = ctx
        .store()
        .read(move |tx| {
            let mut out = Vec::new();
            for g in &page {
                if let Some((g, _)) = records::get::<GroupRecord>(tx, &group_key(&account, g))? {
                    out.push(group_json(&g));
                }
            }
            Ok::<_, AwsError>(out)
        })
        .await?;
    Ok(with_marker(json!({ "Groups": groups }), next))
}
