//! Instance profiles: CreateInstanceProfile, GetInstanceProfile, ListInstanceProfiles,
//! DeleteInstanceProfile, AddRoleToInstanceProfile, RemoveRoleFromInstanceProfile,
//! ListInstanceProfilesForRole.
use std::sync::Arc;

use rampart_aws_types::{AwsError, ids};
use rampart_services::Ctx;
use rampart_services::common::records;
use rampart_store::{Expect, ReadTxn};
use serde_json::{Value, json};

use crate::errors;
use crate::model::{
    InstanceProfileRecord, KIND_INSTANCE_PROFILE, RoleRecord, entity_arn, entity_prefix,
    instance_profile_key, role_key,
};
use crate::roles;
use crate::util::{
    Conds, epoch, input_path, input_tags, list_page, max_items, merge_tags, page_vec, path_matches,
    put_opt, required, str_member, with_marker,
};

/// AWS allows one role per instance profile.
const ROLES_PER_PROFILE: usize = 1;

fn profile_json(
    tx: &mut dyn ReadTxn,
    account: &str,
    p: &InstanceProfileRecord,
) -> Result<Value, AwsError> {
    let mut roles_out = Vec::new();
    for r in &p.roles {
        if let Some((role, _)) = records::get::<RoleRecord>(tx, &role_key(account, r))? {
            roles_out.push(roles::role_json(&role, false));
        }
    }
    let mut v = json!({
        "Path": p.path, "InstanceProfileName": p.name, "InstanceProfileId": p.instance_profile_id,
        "Arn": p.arn, "CreateDate": p.create_date, "Roles": roles_out,
    });
    if !p.tags.is_empty() {
        put_opt(&mut v, "Tags", Some(json!(p.tags)));
    }
    Ok(v)
}

fn load(
    tx: &mut (impl ReadTxn + ?Sized),
    account: &str,
    name: &str,
) -> Result<(InstanceProfileRecord, u64), AwsError> {
    records::get::<InstanceProfileRecord>(tx, &instance_profile_key(account, name))?
        .ok_or_else(|| errors::no_such_instance_profile(name))
}

async fn authorize_on_profile(ctx: &Ctx, action: &str, name: &str) -> Result<String, AwsError> {
    let key = instance_profile_key(ctx.account(), name);
    let found = ctx
        .store()
        .read(move |tx| {
            Ok::<_, AwsError>(records::get::<InstanceProfileRecord>(tx, &key)?.map(|(p, _)| p))
        })
        .await?;
    let arn = found.as_ref().map_or_else(
        || entity_arn(ctx.account(), "instance-profile", "/", name),
        |p| p.arn.clone(),
    );
    let mut conds = Conds::new();
    if let Some(p) = &found {
        conds.resource_tags(&p.tags);
    }
    ctx.authorize(action, &arn, &conds.refs())?;
    found
        .map(|p| p.name)
        .ok_or_else(|| errors::no_such_instance_profile(name))
}

pub async fn create_instance_profile(ctx: Arc<Ctx>, input: Value) -> Result<Value, AwsError> {
    let name = required(&input, "InstanceProfileName")?.to_string();
    let path = input_path(&input, "Path");
    let tags = input_tags(&input)?;
    let account = ctx.account().to_string();
    let arn = entity_arn(&account, "instance-profile", &path, &name);
    let mut conds = Conds::new();
    conds.request_tags(&tags);
    ctx.authorize("iam:CreateInstanceProfile", &arn, &conds.refs())?;
    let tags = merge_tags(&[], &tags)?;
    let profile = InstanceProfileRecord {
        name,
        instance_profile_id: ids::unique_id("AIPA")?,
        path,
        arn,
        create_date: epoch(ctx.now()),
        roles: Vec::new(),
        tags,
    };
    let out = ctx
        .store()
        .write(move |tx| {
            let key = instance_profile_key(&account, &profile.name);
            if tx.get(&key)?.is_some() {
                return Err(errors::already_exists(format!(
                    "Instance Profile {} already exists.",
                    profile.name
                )));
            }
            records::put(tx, &key, &profile, Expect::Absent)?;
            profile_json(tx.as_read(), &account, &profile)
        })
        .await?;
    Ok(json!({ "InstanceProfile": out }))
}

pub async fn get_instance_profile(ctx: Arc<Ctx>, input: Value) -> Result<Value, AwsError> {
    let name = required(&input, "InstanceProfileName")?.to_string();
    authorize_on_profile(&ctx, "iam:GetInstanceProfile", &name).await?;
    let account = ctx.account().to_string();
    let out = ctx
        .store()
        .read(move |tx| {
            let (p, _) = load(tx, &account, &name)?;
            profile_json(tx, &account, &p)
        })
        .await?;
    Ok(json!({ "InstanceProfile": out }))
}

pub async fn list_instance_profiles(ctx: Arc<Ctx>, input: Value) -> Result<Value, AwsError> {
    let account = ctx.account().to_string();
    ctx.authorize(
        "iam:ListInstanceProfiles",
        &format!("arn:aws:iam::{account}:instance-profile/"),
        &[],
    )?;
    let prefix = str_member(&input, "PathPrefix").map(str::to_string);
    let marker = str_member(&input, "Marker").map(str::to_string);
    let max = max_items(&input);
    let (out, next) = ctx
        .store()
        .read(move |tx| {
            let (profiles, next) = list_page::<InstanceProfileRecord>(
                tx,
                &entity_prefix(&account, KIND_INSTANCE_PROFILE),
                marker.as_deref(),
                max,
                |p| path_matches(&p.path, prefix.as_deref()),
            )?;
            let mut out = Vec::new();
            for p in &profiles {
                out.push(profile_json(tx, &account, p)?);
            }
            Ok::<_, AwsError>((out, next))
        })
        .await?;
    Ok(with_marker(json!({ "InstanceProfiles": out }), next))
}

pub async fn delete_instance_profile(ctx: Arc<Ctx>, input: Value) -> Result<Value, AwsError> {
    let name = required(&input, "InstanceProfileName")?.to_string();
    authorize_on_profile(&ctx, "iam:DeleteInstanceProfile", &name).await?;
    let account = ctx.account().to_string();
    ctx.store()
        .write(move |tx| {
            let (p, v) = load(tx.as_read(), &account, &name)?;
            if !p.roles.is_empty() {
                return Err(errors::delete_conflict(
                    "Cannot delete entity, must remove roles from instance profile first.",
                ));
            }
            tx.delete(&instance_profile_key(&account, &p.name), Expect::Version(v))?;
            Ok(())
        })
        .await?;
    Ok(json!({}))
}

pub async fn add_role_to_instance_profile(ctx: Arc<Ctx>, input: Value) -> Result<Value, AwsError> {
    let name = required(&input, "InstanceProfileName")?.to_string();
    let role = required(&input, "RoleName")?.to_string();
    authorize_on_profile(&ctx, "iam:AddRoleToInstanceProfile", &name).await?;
    let account = ctx.account().to_string();
    ctx.store()
        .write(move |tx| {
            let (mut p, v) = load(tx.as_read(), &account, &name)?;
            let (r, _) = roles::load(tx.as_read(), &account, &role)?;
            if p.roles.iter().any(|x| x.eq_ignore_ascii_case(&r.name)) {
                return Err(errors::limit_exceeded(format!(
                    "Cannot exceed quota for InstanceSessionsPerInstanceProfile: {ROLES_PER_PROFILE}"
                )));
            }
            if p.roles.len() >= ROLES_PER_PROFILE {
                return Err(errors::limit_exceeded(format!(
                    "Cannot exceed quota for InstanceSessionsPerInstanceProfile: {ROLES_PER_PROFILE}"
                )));
            }
            p.roles.push(r.name);
            records::put(tx, &instance_profile_key(&account, &p.name), &p, Expect::Version(v))?;
            Ok(())
        })
        .await?;
    Ok(json!({}))
}

pub async fn remove_role_from_instance_profile(
    ctx: Arc<Ctx>,
    input: Value,
) -> Result<Value, AwsError> {
    let name = required(&input, "InstanceProfileName")?.to_string();
    let role = required(&input, "RoleName")?.to_string();
    authorize_on_profile(&ctx, "iam:RemoveRoleFromInstanceProfile", &name).await?;
    let account = ctx.account().to_string();
    ctx.store()
        .write(move |tx| {
            let (mut p, v) = load(tx.as_read(), &account, &name)?;
            if !p.roles.iter().any(|x| x.eq_ignore_ascii_case(&role)) {
                return Err(errors::no_such_role(&role));
            }
            p.roles.retain(|x| !x.eq_ignore_ascii_case(&role));
            records::put(
                tx,
                &instance_profile_key(&account, &p.name),
                &p,
                Expect::Version(v),
            )?;
            Ok(())
        })
        .await?;
    Ok(json!({}))
}

pub async fn list_instance_profiles_for_role(
    ctx: Arc<Ctx>,
    input: Value,
) -> Result<Value, AwsError> {
    let role = required(&input, "RoleName")?.to_string();
    roles::authorize_on_role(
        &ctx,
        "iam:ListInstanceProfilesForRole",
        &role,
        &Conds::new(),
    )
    .await?;
    let account = ctx.account().to_string();
    let all = ctx
        .store()
        .read(move |tx| {
            let profiles = roles::profiles_with_role(tx, &account, &role)?;
            let mut out = Vec::new();
            for p in &profiles {
                out.push(profile_json(tx, &account, p)?);
            }
            Ok::<_, AwsError>(out)
        })
        .await?;
    let (page, next) = page_vec(all, str_member(&input, "Marker"), max_items(&input))?;
    Ok(with_marker(json!({ "InstanceProfiles": page }), next))
}
