//! Aliases: CreateAlias, UpdateAlias, DeleteAlias, ListAliases.
//!
//! Authorization as AWS does it: the caller needs `kms:CreateAlias` (etc.) on the alias (IAM
//! policy, resource `arn:aws:kms:REGION:ACCOUNT:alias/NAME`) and on the key (key policy).
use std::collections::BTreeMap;
use std::sync::Arc;

use rampart_aws_types::AwsError;
use rampart_services::Ctx;
use rampart_services::common::{input, pagination, records};
use rampart_store::Expect;
use serde::Deserialize;
use serde_json::{Value, json};

use super::keys::refuse_aws_managed;
use super::{Loaded, Paging, load, now_secs, page_output, require_not_pending_deletion};
use crate::authz::{Conditions, authorize_account, authorize_key};
use crate::error;
use crate::record::{AliasRecord, KeyRecord, alias_prefix, alias_store_key, get_key, put_key};
use crate::resolve::{Aliases, alias_arn};

/// AWS's alias name rules beyond the model's pattern.
fn check_alias_name(name: &str) -> Result<(), AwsError> {
    if !name.starts_with("alias/") || name.len() <= "alias/".len() {
        return Err(error::kms(
            "InvalidAliasNameException",
            format!(
                "Alias must start with the prefix \"alias/\". Please see https://docs.aws.amazon.com/kms/latest/developerguide/kms-alias.html: {}",
                error::truncate(name)
            ),
        ));
    }
    if name.starts_with("alias/aws/") {
        return Err(error::kms(
            "NotAuthorizedException",
            "Cannot create, update or delete aliases that begin with alias/aws/. These aliases are reserved for AWS managed keys.",
        ));
    }
    Ok(())
}

fn authorize_alias(ctx: &Ctx, operation: &str, name: &str) -> Result<(), AwsError> {
    let arn = alias_arn(ctx.region(), ctx.account(), name);
    ctx.authorize(
        &format!("kms:{operation}"),
        &arn,
        &Conditions::for_account(ctx).pairs(),
    )
}

fn authorize_target(ctx: &Ctx, operation: &str, target: &Loaded) -> Result<(), AwsError> {
    authorize_key(
        ctx,
        operation,
        &target.key,
        &Conditions::for_loaded(ctx, target),
        &[],
        &BTreeMap::new(),
    )
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AliasInput {
    alias_name: String,
    target_key_id: String,
}

pub async fn create_alias(ctx: Arc<Ctx>, input: Value) -> Result<Value, AwsError> {
    let i: AliasInput = input::parse(input)?;
    let target = load(&ctx, &i.target_key_id, Aliases::Refused).await?;
    authorize_alias(&ctx, "CreateAlias", &i.alias_name)?;
    authorize_target(&ctx, "CreateAlias", &target)?;
    check_alias_name(&i.alias_name)?;
    require_not_pending_deletion(&target.key)?;
    refuse_aws_managed(&target.key)?;
    if target.key.account != ctx.account() {
        return Err(error::key_not_found(&target.key.arn));
    }
    let (account, region, name) = (
        ctx.account().to_string(),
        ctx.region().to_string(),
        i.alias_name,
    );
    let key_id = target.key.key_id.clone();
    let now = now_secs(&ctx);
    ctx.store()
        .write(move |tx| {
            let key = alias_store_key(&account, &region, &name);
            if tx.get(&key)?.is_some() {
                return Err(error::kms(
                    "AlreadyExistsException",
                    format!(
                        "An alias with the name {} already exists",
                        alias_arn(&region, &account, &name)
                    ),
                ));
            }
            let alias = AliasRecord {
                alias_name: name.clone(),
                target_key_id: key_id.clone(),
                creation_date: now,
                last_updated_date: now,
            };
            records::put(tx, &key, &alias, Expect::Absent)?;
            link(tx, &account, &region, &key_id, &name, true)
        })
        .await?;
    Ok(json!({}))
}

/// Adds `alias` to (or removes it from) the key's own alias list, in the alias's transaction.
fn link(
    tx: &mut dyn rampart_store::Txn,
    account: &str,
    region: &str,
    key_id: &str,
    alias: &str,
    add: bool,
) -> Result<(), AwsError> {
    let Some((old, version)) = get_key(tx, account, region, key_id)? else {
        return Ok(());
    };
    let mut new = old.clone();
    new.aliases.retain(|a| a != alias);
    if add {
        new.aliases.push(alias.to_string());
        new.aliases.sort();
    }
    put_key(tx, Some(&old), &new, Expect::Version(version))?;
    Ok(())
}

/// UpdateAlias may only move an alias between keys of the same type and usage.
fn same_kind(a: &KeyRecord, b: &KeyRecord) -> bool {
    let symmetric = |k: &KeyRecord| k.key_spec == "SYMMETRIC_DEFAULT";
    symmetric(a) == symmetric(b) && a.key_usage == b.key_usage
}

pub async fn update_alias(ctx: Arc<Ctx>, input: Value) -> Result<Value, AwsError> {
    let i: AliasInput = input::parse(input)?;
    let (account, region) = (ctx.account().to_string(), ctx.region().to_string());
    let current = load(&ctx, &i.alias_name, Aliases::Accepted).await?;
    let target = load(&ctx, &i.target_key_id, Aliases::Refused).await?;
    authorize_alias(&ctx, "UpdateAlias", &i.alias_name)?;
    authorize_target(&ctx, "UpdateAlias", &current)?;
    authorize_target(&ctx, "UpdateAlias", &target)?;
    check_alias_name(&i.alias_name)?;
    require_not_pending_deletion(&target.key)?;
    refuse_aws_managed(&target.key)?;
    if target.key.account != account {
        return Err(error::key_not_found(&target.key.arn));
    }
    if !same_kind(&current.key, &target.key) {
        return Err(AwsError::validation(format!(
            "{} key type and usage does not match the current target key {}.",
            target.key.arn, current.key.arn
        )));
    }
    let name = i.alias_name;
    let key_id = target.key.key_id.clone();
    let now = now_secs(&ctx);
    ctx.store()
        .write(move |tx| {
            let key = alias_store_key(&account, &region, &name);
            let (mut alias, version) = records::get::<AliasRecord>(tx, &key)?
                .ok_or_else(|| error::alias_not_found(&alias_arn(&region, &account, &name)))?;
            link(tx, &account, &region, &alias.target_key_id, &name, false)?;
            alias.target_key_id = key_id.clone();
            alias.last_updated_date = now;
            records::put(tx, &key, &alias, Expect::Version(version))?;
            link(tx, &account, &region, &key_id, &name, true)
        })
        .await?;
    Ok(json!({}))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DeleteAliasInput {
    alias_name: String,
}

pub async fn delete_alias(ctx: Arc<Ctx>, input: Value) -> Result<Value, AwsError> {
    let i: DeleteAliasInput = input::parse(input)?;
    if !i.alias_name.starts_with("alias/") {
        check_alias_name(&i.alias_name)?;
    }
    let target = load(&ctx, &i.alias_name, Aliases::Accepted).await?;
    authorize_alias(&ctx, "DeleteAlias", &i.alias_name)?;
    authorize_target(&ctx, "DeleteAlias", &target)?;
    check_alias_name(&i.alias_name)?;
    let (account, region, name) = (
        ctx.account().to_string(),
        ctx.region().to_string(),
        i.alias_name,
    );
    ctx.store()
        .write(move |tx| {
            let key = alias_store_key(&account, &region, &name);
            let Some((alias, _)) = records::get::<AliasRecord>(tx, &key)? else {
                return Err(error::alias_not_found(&alias_arn(&region, &account, &name)));
            };
            tx.delete(&key, Expect::Any)?;
            link(tx, &account, &region, &alias.target_key_id, &name, false)
        })
        .await?;
    Ok(json!({}))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ListAliasesInput {
    key_id: Option<String>,
    #[serde(flatten)]
    paging: Paging,
}

pub async fn list_aliases(ctx: Arc<Ctx>, input: Value) -> Result<Value, AwsError> {
    let i: ListAliasesInput = input::parse(input)?;
    let filter = match &i.key_id {
        Some(k) => {
            let l = load(&ctx, k, Aliases::Refused).await?;
            authorize_key(
                &ctx,
                "ListAliases",
                &l.key,
                &Conditions::for_loaded(&ctx, &l),
                &[],
                &BTreeMap::new(),
            )?;
            Some(l.key.key_id.clone())
        }
        None => {
            authorize_account(&ctx, "ListAliases", &Conditions::for_account(&ctx))?;
            None
        }
    };
    let (account, region) = (ctx.account().to_string(), ctx.region().to_string());
    let prefix = alias_prefix(&account, &region);
    let limit = i.paging.limit.unwrap_or(50);
    let marker = i.paging.marker;
    let (items, next) = ctx
        .store()
        .read(move |tx| {
            pagination::page(
                tx,
                &prefix,
                marker.as_deref(),
                limit,
                error::invalid_marker,
                |k, r| match &filter {
                    None => true,
                    Some(id) => records::decode::<AliasRecord>(k, &r.value)
                        .is_ok_and(|a| &a.target_key_id == id),
                },
            )
        })
        .await?;
    let mut aliases = Vec::new();
    for (k, r) in items {
        let a: AliasRecord = records::decode(&k, &r.value)?;
        aliases.push(json!({
            "AliasName": a.alias_name,
            "AliasArn": alias_arn(&region, &account, &a.alias_name),
            "TargetKeyId": a.target_key_id,
            "CreationDate": a.creation_date,
            "LastUpdatedDate": a.last_updated_date,
        }));
    }
    Ok(page_output("Aliases", aliases, next))
}
