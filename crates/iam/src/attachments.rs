//! What users, groups and roles have in common regarding policies: attached managed policies
//! (Attach/Detach*Policy, ListAttached*Policies, ListEntitiesForPolicy), inline policies
//! (Put/Get/Delete/List*Policy) and permissions boundaries (Put/Delete*PermissionsBoundary).
//!
//! The three records share the camelCase fields `name`, `path`, `arn`, `attachedPolicies`,
//! `inlinePolicies`, `permissionsBoundary` and `tags`, so these operations work on one
//! [`Entity`] view of the stored JSON and write the rest of the record back untouched.
use std::collections::BTreeMap;
use std::sync::Arc;

use rampart_aws_types::AwsError;
use rampart_policy::PolicyKind;
use rampart_services::Ctx;
use rampart_services::common::records;
use rampart_store::{Expect, ReadTxn, Txn};
use serde_json::{Map, Value, json};

use crate::documents;
use crate::errors;
use crate::model::{EntityKind, Tag, entity_arn, group_key, role_key, user_key};
use crate::usage;
use crate::util::{
    Conds, encode_document, max_items, page_vec, path_matches, required, str_member, with_marker,
};

/// IAM's quota of managed policies attached to one user, group or role.
pub const MANAGED_POLICIES_PER_ENTITY: usize = 10;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    User,
    Group,
    Role,
}

impl Target {
    fn member(self) -> &'static str {
        match self {
            Target::User => "UserName",
            Target::Group => "GroupName",
            Target::Role => "RoleName",
        }
    }
    fn noun(self) -> &'static str {
        match self {
            Target::User => "user",
            Target::Group => "group",
            Target::Role => "role",
        }
    }
    fn action_noun(self) -> &'static str {
        match self {
            Target::User => "User",
            Target::Group => "Group",
            Target::Role => "Role",
        }
    }
    fn kind(self) -> EntityKind {
        match self {
            Target::User => EntityKind::User,
            Target::Group => EntityKind::Group,
            Target::Role => EntityKind::Role,
        }
    }
    fn key(self, account: &str, name: &str) -> String {
        match self {
            Target::User => user_key(account, name),
            Target::Group => group_key(account, name),
            Target::Role => role_key(account, name),
        }
    }
    fn no_such(self, name: &str) -> AwsError {
        match self {
            Target::User => errors::no_such_user(name),
            Target::Group => errors::no_such_group(name),
            Target::Role => errors::no_such_role(name),
        }
    }
    fn inline_kind(self) -> PolicyKind {
        match self {
            Target::User => PolicyKind::InlineUser,
            Target::Group => PolicyKind::InlineGroup,
            Target::Role => PolicyKind::InlineRole,
        }
    }
    /// IAM's quota on the total size of an entity's inline policies (characters without
    /// whitespace).
    fn inline_quota(self) -> usize {
        match self {
            Target::User => 2_048,
            Target::Group => 5_120,
            Target::Role => 10_240,
        }
    }
}

/// The policy-related view of a user, group or role record.
pub struct Entity {
    raw: Map<String, Value>,
    pub name: String,
    pub path: String,
    pub arn: String,
    pub attached: Vec<String>,
    pub inline: BTreeMap<String, String>,
    pub boundary: Option<String>,
    pub tags: Vec<Tag>,
    version: u64,
}

fn field<T: serde::de::DeserializeOwned + Default>(raw: &Map<String, Value>, name: &str) -> T {
    raw.get(name)
        .and_then(|v| serde_json::from_value(v.clone()).ok())
        .unwrap_or_default()
}

impl Entity {
    fn from_raw(raw: Map<String, Value>, version: u64) -> Entity {
        Entity {
            name: field(&raw, "name"),
            path: field(&raw, "path"),
            arn: field(&raw, "arn"),
            attached: field(&raw, "attachedPolicies"),
            inline: field(&raw, "inlinePolicies"),
            boundary: field(&raw, "permissionsBoundary"),
            tags: field(&raw, "tags"),
            raw,
            version,
        }
    }

    /// The record's own id member (`userId`, `groupId`, `roleId`).
    pub fn id(&self, target: Target) -> String {
        let member = match target {
            Target::User => "userId",
            Target::Group => "groupId",
            Target::Role => "roleId",
        };
        field(&self.raw, member)
    }

    fn save(mut self, tx: &mut dyn Txn, account: &str, target: Target) -> Result<(), AwsError> {
        self.raw
            .insert("attachedPolicies".into(), json!(self.attached));
        self.raw.insert("inlinePolicies".into(), json!(self.inline));
        self.raw
            .insert("permissionsBoundary".into(), json!(self.boundary));
        let key = target.key(account, &self.name);
        records::put(
            tx,
            &key,
            &Value::Object(self.raw),
            Expect::Version(self.version),
        )?;
        Ok(())
    }
}

pub fn load(
    tx: &mut (impl ReadTxn + ?Sized),
    account: &str,
    target: Target,
    name: &str,
) -> Result<Entity, AwsError> {
    match records::get::<Map<String, Value>>(tx, &target.key(account, name))? {
        Some((raw, v)) => Ok(Entity::from_raw(raw, v)),
        None => Err(target.no_such(name)),
    }
}

/// Resolves the entity, authorizes `action` on it (with its tags for users and roles), and
/// returns the entity name as stored (or NoSuchEntity after the decision).
async fn authorize_on(
    ctx: &Ctx,
    target: Target,
    action: &str,
    name: &str,
    extra: &Conds,
) -> Result<Entity, AwsError> {
    let account = ctx.account().to_string();
    let n = name.to_string();
    let found = ctx
        .store()
        .read(move |tx| match load(tx, &account, target, &n) {
            Ok(e) => Ok(Some(e)),
            Err(e) if e.code == "NoSuchEntity" => Ok(None),
            Err(e) => Err(e),
        })
        .await?;
    let mut conds = extra.clone();
    let arn = match &found {
        Some(e) => {
            if target != Target::Group {
                conds.resource_tags(&e.tags);
                // `iam:PermissionsBoundary` is the entity's current boundary, unless the
                // operation sets a new one (Put*PermissionsBoundary supplies that instead).
                let supplied = conds.0.iter().any(|(k, _)| k == "iam:PermissionsBoundary");
                if let (Some(b), false) = (&e.boundary, supplied) {
                    conds.push("iam:PermissionsBoundary", b.clone());
                }
            }
            e.arn.clone()
        }
        None => entity_arn(ctx.account(), target.noun(), "/", name),
    };
    ctx.authorize(action, &arn, &conds.refs())?;
    found.ok_or_else(|| target.no_such(name))
}

// --- Managed policy attachment ---------------------------------------------------------------

pub async fn attach(ctx: Arc<Ctx>, input: Value, target: Target) -> Result<Value, AwsError> {
    let name = required(&input, target.member())?.to_string();
    let arn = required(&input, "PolicyArn")?.to_string();
    let mut conds = Conds::new();
    conds.push("iam:PolicyARN", arn.clone());
    let action = format!("iam:Attach{}Policy", target.action_noun());
    authorize_on(&ctx, target, &action, &name, &conds).await?;
    usage::check_policy_arn(&arn)?;
    let account = ctx.account().to_string();
    ctx.store()
        .write(move |tx| {
            let mut e = load(tx.as_read(), &account, target, &name)?;
            usage::require_policy(tx.as_read(), &account, &arn)?;
            if e.attached.contains(&arn) {
                return Ok(());
            }
            if e.attached.len() >= MANAGED_POLICIES_PER_ENTITY {
                return Err(errors::limit_exceeded(format!(
                    "Cannot exceed quota for PoliciesPer{}: {MANAGED_POLICIES_PER_ENTITY}",
                    target.action_noun()
                )));
            }
            e.attached.push(arn.clone());
            usage::add(
                tx,
                &account,
                &arn,
                usage::entity(target.kind(), &e.name),
                false,
            )?;
            e.save(tx, &account, target)
        })
        .await?;
    Ok(json!({}))
}

pub async fn detach(ctx: Arc<Ctx>, input: Value, target: Target) -> Result<Value, AwsError> {
    let name = required(&input, target.member())?.to_string();
    let arn = required(&input, "PolicyArn")?.to_string();
    let mut conds = Conds::new();
    conds.push("iam:PolicyARN", arn.clone());
    let action = format!("iam:Detach{}Policy", target.action_noun());
    authorize_on(&ctx, target, &action, &name, &conds).await?;
    usage::check_policy_arn(&arn)?;
    let account = ctx.account().to_string();
    ctx.store()
        .write(move |tx| {
            let mut e = load(tx.as_read(), &account, target, &name)?;
            if !e.attached.contains(&arn) {
                return Err(errors::no_such_entity(format!(
                    "Policy {arn} was not found."
                )));
            }
            e.attached.retain(|a| *a != arn);
            usage::remove(
                tx,
                &account,
                &arn,
                &usage::entity(target.kind(), &e.name),
                false,
            )?;
            e.save(tx, &account, target)
        })
        .await?;
    Ok(json!({}))
}

pub async fn list_attached(ctx: Arc<Ctx>, input: Value, target: Target) -> Result<Value, AwsError> {
    let name = required(&input, target.member())?.to_string();
    let action = format!("iam:ListAttached{}Policies", target.action_noun());
    let e = authorize_on(&ctx, target, &action, &name, &Conds::new()).await?;
    let prefix = str_member(&input, "PathPrefix");
    let items: Vec<Value> = e
        .attached
        .iter()
        .filter(|arn| path_matches(&policy_path(arn), prefix))
        .map(|arn| json!({"PolicyName": arn.rsplit('/').next().unwrap_or(""), "PolicyArn": arn}))
        .collect();
    let (page, next) = page_vec(items, str_member(&input, "Marker"), max_items(&input))?;
    Ok(with_marker(json!({ "AttachedPolicies": page }), next))
}

/// The path part of a managed policy ARN (`/` or `/a/b/`).
fn policy_path(arn: &str) -> String {
    let rest = arn.split_once(":policy").map_or("", |(_, r)| r);
    match rest.rfind('/') {
        Some(i) => rest.get(..=i).unwrap_or("/").to_string(),
        None => "/".to_string(),
    }
}

pub async fn list_entities_for_policy(ctx: Arc<Ctx>, input: Value) -> Result<Value, AwsError> {
    let arn = required(&input, "PolicyArn")?.to_string();
    ctx.authorize("iam:ListEntitiesForPolicy", &arn, &[])?;
    usage::check_policy_arn(&arn)?;
    let filter = str_member(&input, "EntityFilter").map(str::to_string);
    let prefix = str_member(&input, "PathPrefix").map(str::to_string);
    let usage_filter = str_member(&input, "PolicyUsageFilter").map(str::to_string);
    let account = ctx.account().to_string();
    let entities = ctx
        .store()
        .read(move |tx| {
            usage::require_policy(tx, &account, &arn)?;
            let u = usage::get(tx, &account, &arn)?;
            let mut refs = Vec::new();
            if usage_filter.as_deref() != Some("PermissionsBoundary") {
                refs.extend(u.attached.iter().cloned());
            }
            if usage_filter.as_deref() != Some("PermissionsPolicy") {
                refs.extend(u.boundary_of.iter().cloned());
            }
            refs.sort();
            refs.dedup();
            let mut out = Vec::new();
            for r in refs {
                let target = match r.kind {
                    EntityKind::User => Target::User,
                    EntityKind::Group => Target::Group,
                    EntityKind::Role => Target::Role,
                };
                let wanted = match filter.as_deref() {
                    Some("User") => target == Target::User,
                    Some("Group") => target == Target::Group,
                    Some("Role") => target == Target::Role,
                    _ => true,
                };
                if !wanted {
                    continue;
                }
                if let Ok(e) = load(tx, &account, target, &r.name) {
                    if path_matches(&e.path, prefix.as_deref()) {
                        out.push((target, e.name.clone(), e.id(target)));
                    }
                }
            }
            Ok::<_, AwsError>(out)
        })
        .await?;
    let (page, next) = page_vec(entities, str_member(&input, "Marker"), max_items(&input))?;
    let pick = |t: Target, n: &str, i: &str| -> Vec<Value> {
        page.iter()
            .filter(|(target, _, _)| *target == t)
            .map(|(_, name, id)| json!({ n: name, i: id }))
            .collect()
    };
    let out = json!({
        "PolicyGroups": pick(Target::Group, "GroupName", "GroupId"),
        "PolicyUsers": pick(Target::User, "UserName", "UserId"),
        "PolicyRoles": pick(Target::Role, "RoleName", "RoleId"),
    });
    Ok(with_marker(out, next))
}

// --- Inline policies --------------------------------------------------------------------------

/// Characters that count toward IAM's size quotas (whitespace is free).
fn counted_chars(document: &str) -> usize {
    document.chars().filter(|c| !c.is_whitespace()).count()
}

pub async fn put_inline(ctx: Arc<Ctx>, input: Value, target: Target) -> Result<Value, AwsError> {
    let name = required(&input, target.member())?.to_string();
    let policy_name = required(&input, "PolicyName")?.to_string();
    let document = required(&input, "PolicyDocument")?.to_string();
    let action = format!("iam:Put{}Policy", target.action_noun());
    authorize_on(&ctx, target, &action, &name, &Conds::new()).await?;
    documents::validate(&document, target.inline_kind())?;
    let account = ctx.account().to_string();
    ctx.store()
        .write(move |tx| {
            let mut e = load(tx.as_read(), &account, target, &name)?;
            let others: usize = e
                .inline
                .iter()
                .filter(|(n, _)| **n != policy_name)
                .map(|(_, d)| counted_chars(d))
                .sum();
            let quota = target.inline_quota();
            if others.saturating_add(counted_chars(&document)) > quota {
                return Err(errors::limit_exceeded(format!(
                    "Maximum policy size of {quota} bytes exceeded for {} {}",
                    target.noun(),
                    e.name
                )));
            }
            e.inline.insert(policy_name.clone(), document.clone());
            e.save(tx, &account, target)
        })
        .await?;
    Ok(json!({}))
}

fn no_such_inline(target: Target, policy: &str) -> AwsError {
    errors::no_such_entity(format!(
        "The {} policy with name {policy} cannot be found.",
        target.noun()
    ))
}

pub async fn get_inline(ctx: Arc<Ctx>, input: Value, target: Target) -> Result<Value, AwsError> {
    let name = required(&input, target.member())?.to_string();
    let policy_name = required(&input, "PolicyName")?.to_string();
    let action = format!("iam:Get{}Policy", target.action_noun());
    let e = authorize_on(&ctx, target, &action, &name, &Conds::new()).await?;
    let doc = e
        .inline
        .get(&policy_name)
        .ok_or_else(|| no_such_inline(target, &policy_name))?;
    Ok(json!({
        target.member(): e.name, "PolicyName": policy_name,
        "PolicyDocument": encode_document(doc),
    }))
}

pub async fn delete_inline(ctx: Arc<Ctx>, input: Value, target: Target) -> Result<Value, AwsError> {
    let name = required(&input, target.member())?.to_string();
    let policy_name = required(&input, "PolicyName")?.to_string();
    let action = format!("iam:Delete{}Policy", target.action_noun());
    authorize_on(&ctx, target, &action, &name, &Conds::new()).await?;
    let account = ctx.account().to_string();
    ctx.store()
        .write(move |tx| {
            let mut e = load(tx.as_read(), &account, target, &name)?;
            if e.inline.remove(&policy_name).is_none() {
                return Err(no_such_inline(target, &policy_name));
            }
            e.save(tx, &account, target)
        })
        .await?;
    Ok(json!({}))
}

pub async fn list_inline(ctx: Arc<Ctx>, input: Value, target: Target) -> Result<Value, AwsError> {
    let name = required(&input, target.member())?.to_string();
    let action = format!("iam:List{}Policies", target.action_noun());
    let e = authorize_on(&ctx, target, &action, &name, &Conds::new()).await?;
    let names: Vec<String> = e.inline.keys().cloned().collect();
    let (page, next) = page_vec(names, str_member(&input, "Marker"), max_items(&input))?;
    Ok(with_marker(json!({ "PolicyNames": page }), next))
}

// --- Permissions boundaries -------------------------------------------------------------------

pub async fn put_boundary(ctx: Arc<Ctx>, input: Value, target: Target) -> Result<Value, AwsError> {
    let name = required(&input, target.member())?.to_string();
    let arn = required(&input, "PermissionsBoundary")?.to_string();
    let mut conds = Conds::new();
    conds.push("iam:PermissionsBoundary", arn.clone());
    let action = format!("iam:Put{}PermissionsBoundary", target.action_noun());
    authorize_on(&ctx, target, &action, &name, &conds).await?;
    usage::check_policy_arn(&arn)?;
    let account = ctx.account().to_string();
    ctx.store()
        .write(move |tx| {
            let mut e = load(tx.as_read(), &account, target, &name)?;
            usage::require_policy(tx.as_read(), &account, &arn)?;
            let me = usage::entity(target.kind(), &e.name);
            if let Some(old) = &e.boundary {
                usage::remove(tx, &account, old, &me, true)?;
            }
            usage::add(tx, &account, &arn, me, true)?;
            e.boundary = Some(arn.clone());
            e.save(tx, &account, target)
        })
        .await?;
    Ok(json!({}))
}

pub async fn delete_boundary(
    ctx: Arc<Ctx>,
    input: Value,
    target: Target,
) -> Result<Value, AwsError> {
    let name = required(&input, target.member())?.to_string();
    let action = format!("iam:Delete{}PermissionsBoundary", target.action_noun());
    authorize_on(&ctx, target, &action, &name, &Conds::new()).await?;
    let account = ctx.account().to_string();
    ctx.store()
        .write(move |tx| {
            let mut e = load(tx.as_read(), &account, target, &name)?;
            let Some(old) = e.boundary.take() else {
                return Ok(());
            };
            usage::remove(
                tx,
                &account,
                &old,
                &usage::entity(target.kind(), &e.name),
                true,
            )?;
            e.save(tx, &account, target)
        })
        .await?;
    Ok(json!({}))
}

/// One operation per (operation, target) pair, as the operations table needs them.
macro_rules! per_target {
    ($($fname:ident = $f:ident, $t:ident;)*) => {
        $(pub async fn $fname(ctx: Arc<Ctx>, input: Value) -> Result<Value, AwsError> {
            $f(ctx, input, Target::$t).await
        })*
    };
}

per_target! {
    attach_user_policy = attach, User;
    attach_group_policy = attach, Group;
    attach_role_policy = attach, Role;
    detach_user_policy = detach, User;
    detach_group_policy = detach, Group;
    detach_role_policy = detach, Role;
    list_attached_user_policies = list_attached, User;
    list_attached_group_policies = list_attached, Group;
    list_attached_role_policies = list_attached, Role;
    put_user_policy = put_inline, User;
    put_group_policy = put_inline, Group;
    put_role_policy = put_inline, Role;
    get_user_policy = get_inline, User;
    get_group_policy = get_inline, Group;
    get_role_policy = get_inline, Role;
    delete_user_policy = delete_inline, User;
    delete_group_policy = delete_inline, Group;
    delete_role_policy = delete_inline, Role;
    list_user_policies = list_inline, User;
    list_group_policies = list_inline, Group;
    list_role_policies = list_inline, Role;
    put_user_permissions_boundary = put_boundary, User;
    put_role_permissions_boundary = put_boundary, Role;
    delete_user_permissions_boundary = delete_boundary, User;
    delete_role_permissions_boundary = delete_boundary, Role;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_paths_come_from_arns() {
        assert_eq!(
            policy_path("arn:aws:iam::aws:policy/AdministratorAccess"),
            "/"
        );
        assert_eq!(
            policy_path("arn:aws:iam::111122223333:policy/a/b/Name"),
            "/a/b/"
        );
    }

    #[test]
    fn whitespace_is_free() {
        assert_eq!(counted_chars("{ \"a\" :\n 1 }"), 7);
    }
}
