//! Grants: CreateGrant, ListGrants, ListRetirableGrants, RetireGrant, RevokeGrant. How grants
//! take part in authorization is in `crate::authz`.
use std::collections::BTreeMap;
use std::sync::Arc;

use rampart_aws_types::{AwsError, PARTITION};
use rampart_services::Ctx;
use rampart_services::common::{input, pagination, records};
use rampart_store::Expect;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::{Context, Loaded, load, now_secs, page_output, require_enabled};
use crate::authz::{Conditions, authorize_account, authorize_key};
use crate::error;
use crate::grants::{
    CONTEXT_OPERATIONS, check_tokens, is_grantee, make_token, new_grant_id, parse_token,
};
use crate::record::{GrantRecord, KeyRecord, grant_prefix, grant_store_key, key_grant_prefix};
use crate::resolve::{Aliases, key_arn};

/// Grant operations that make sense for a key of this spec and usage.
fn operations_for(key: &KeyRecord) -> &'static [&'static str] {
    match (key.key_usage.as_str(), key.key_spec == "SYMMETRIC_DEFAULT") {
        ("ENCRYPT_DECRYPT", true) => &[
            "Decrypt",
            "Encrypt",
            "GenerateDataKey",
            "GenerateDataKeyWithoutPlaintext",
            "ReEncryptFrom",
            "ReEncryptTo",
            "GenerateDataKeyPair",
            "GenerateDataKeyPairWithoutPlaintext",
            "CreateGrant",
            "RetireGrant",
            "DescribeKey",
        ],
        ("ENCRYPT_DECRYPT", false) => &[
            "Decrypt",
            "Encrypt",
            "ReEncryptFrom",
            "ReEncryptTo",
            "GetPublicKey",
            "CreateGrant",
            "RetireGrant",
            "DescribeKey",
        ],
        ("SIGN_VERIFY", _) => &[
            "Sign",
            "Verify",
            "GetPublicKey",
            "CreateGrant",
            "RetireGrant",
            "DescribeKey",
        ],
        ("GENERATE_VERIFY_MAC", _) => &[
            "GenerateMac",
            "VerifyMac",
            "CreateGrant",
            "RetireGrant",
            "DescribeKey",
        ],
        ("KEY_AGREEMENT", _) => &[
            "DeriveSharedSecret",
            "GetPublicKey",
            "CreateGrant",
            "RetireGrant",
            "DescribeKey",
        ],
        _ => &["CreateGrant", "RetireGrant", "DescribeKey"],
    }
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
struct Constraints {
    encryption_context_subset: Option<Context>,
    encryption_context_equals: Option<Context>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct CreateGrantInput {
    key_id: String,
    grantee_principal: String,
    retiring_principal: Option<String>,
    operations: Vec<String>,
    constraints: Option<Constraints>,
    #[serde(default)]
    grant_tokens: Vec<String>,
    name: Option<String>,
    dry_run: Option<bool>,
}

pub async fn create_grant(ctx: Arc<Ctx>, input: Value) -> Result<Value, AwsError> {
    let i: CreateGrantInput = input::parse(input)?;
    check_tokens(&i.grant_tokens)?;
    let l = load(&ctx, &i.key_id, Aliases::Refused).await?;
    let constraints = i.constraints.unwrap_or_default();
    let mut conds = Conditions::for_loaded(&ctx, &l);
    for op in &i.operations {
        conds.push("kms:GrantOperations", op);
    }
    conds.push("kms:GranteePrincipal", &i.grantee_principal);
    if let Some(r) = &i.retiring_principal {
        conds.push("kms:RetiringPrincipal", r);
    }
    conds.push("kms:GrantIsForAWSResource", "false");
    if constraints.encryption_context_subset.is_some() {
        conds.push("kms:GrantConstraintType", "EncryptionContextSubset");
    }
    if constraints.encryption_context_equals.is_some() {
        conds.push("kms:GrantConstraintType", "EncryptionContextEquals");
    }
    authorize_key(
        &ctx,
        "CreateGrant",
        &l.key,
        &conds,
        &l.grants,
        &Context::new(),
    )?;
    require_enabled(&l.key)?;
    if i.operations.is_empty() {
        return Err(AwsError::validation(
            "Operations must contain at least one grant operation.",
        ));
    }
    let allowed = operations_for(&l.key);
    if let Some(bad) = i.operations.iter().find(|o| !allowed.contains(&o.as_str())) {
        return Err(AwsError::validation(format!(
            "The grant operation {bad} is not valid for {} with KeySpec {} and KeyUsage {}.",
            l.key.arn, l.key.key_spec, l.key.key_usage
        )));
    }
    let constrained = constraints.encryption_context_subset.is_some()
        || constraints.encryption_context_equals.is_some();
    if constrained {
        if let Some(bad) = i
            .operations
            .iter()
            .find(|o| !CONTEXT_OPERATIONS.contains(&o.as_str()))
        {
            return Err(AwsError::validation(format!(
                "Grant constraints are not supported for the {bad} operation: it does not take an encryption context."
            )));
        }
    }
    if i.dry_run == Some(true) {
        return Err(error::dry_run());
    }
    let (account, region, key_id) = (
        l.key.account.clone(),
        l.key.region.clone(),
        l.key.key_id.clone(),
    );
    let mut operations = i.operations.clone();
    operations.dedup();
    let candidate = GrantRecord {
        key_id: key_id.clone(),
        grant_id: new_grant_id()?,
        name: i.name.clone(),
        creation_date: now_secs(&ctx),
        grantee_principal: i.grantee_principal.clone(),
        retiring_principal: i.retiring_principal.clone(),
        issuing_account: format!("arn:{PARTITION}:iam::{}:root", ctx.account()),
        operations,
        constraint_subset: constraints.encryption_context_subset,
        constraint_equals: constraints.encryption_context_equals,
        token: String::new(),
    };
    let token_for = |g: &GrantRecord| make_token(&account, &region, &key_id, &g.grant_id);
    // AWS: a CreateGrant repeated with the same name and parameters returns the same grant.
    let existing = l.grants.iter().find(|g| {
        g.name.is_some()
            && g.name == candidate.name
            && g.grantee_principal == candidate.grantee_principal
            && g.retiring_principal == candidate.retiring_principal
            && g.operations == candidate.operations
            && g.constraint_subset == candidate.constraint_subset
            && g.constraint_equals == candidate.constraint_equals
    });
    if let Some(g) = existing {
        return Ok(json!({ "GrantToken": token_for(g)?, "GrantId": g.grant_id }));
    }
    let mut grant = candidate;
    grant.token = token_for(&grant)?;
    let stored = grant.clone();
    ctx.store()
        .write(move |tx| {
            records::put(
                tx,
                &grant_store_key(&account, &region, &stored.key_id, &stored.grant_id),
                &stored,
                Expect::Absent,
            )
        })
        .await?;
    Ok(json!({ "GrantToken": grant.token, "GrantId": grant.grant_id }))
}

fn grant_entry(region: &str, account: &str, g: &GrantRecord) -> Value {
    let mut e = Map::new();
    e.insert("KeyId".into(), json!(key_arn(region, account, &g.key_id)));
    e.insert("GrantId".into(), json!(g.grant_id));
    if let Some(n) = &g.name {
        e.insert("Name".into(), json!(n));
    }
    e.insert("CreationDate".into(), json!(g.creation_date));
    e.insert("GranteePrincipal".into(), json!(g.grantee_principal));
    if let Some(r) = &g.retiring_principal {
        e.insert("RetiringPrincipal".into(), json!(r));
    }
    e.insert("IssuingAccount".into(), json!(g.issuing_account));
    e.insert("Operations".into(), json!(g.operations));
    let mut c = Map::new();
    if let Some(s) = &g.constraint_subset {
        c.insert("EncryptionContextSubset".into(), json!(s));
    }
    if let Some(s) = &g.constraint_equals {
        c.insert("EncryptionContextEquals".into(), json!(s));
    }
    if !c.is_empty() {
        e.insert("Constraints".into(), Value::Object(c));
    }
    Value::Object(e)
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ListGrantsInput {
    key_id: String,
    grant_id: Option<String>,
    grantee_principal: Option<String>,
    limit: Option<usize>,
    marker: Option<String>,
}

pub async fn list_grants(ctx: Arc<Ctx>, input: Value) -> Result<Value, AwsError> {
    let i: ListGrantsInput = input::parse(input)?;
    let l = load(&ctx, &i.key_id, Aliases::Refused).await?;
    authorize_key(
        &ctx,
        "ListGrants",
        &l.key,
        &Conditions::for_loaded(&ctx, &l),
        &[],
        &BTreeMap::new(),
    )?;
    if let Some(g) = &i.grant_id {
        check_grant_id(g)?;
    }
    let (account, region) = (l.key.account.clone(), l.key.region.clone());
    let prefix = key_grant_prefix(&account, &region, &l.key.key_id);
    let (grant_id, grantee) = (i.grant_id, i.grantee_principal);
    let (items, next) = ctx
        .store()
        .read(move |tx| {
            pagination::page(
                tx,
                &prefix,
                i.marker.as_deref(),
                i.limit.unwrap_or(50),
                error::invalid_marker,
                |k, r| {
                    records::decode::<GrantRecord>(k, &r.value).is_ok_and(|g| {
                        grant_id.as_ref().is_none_or(|id| *id == g.grant_id)
                            && grantee.as_ref().is_none_or(|p| *p == g.grantee_principal)
                    })
                },
            )
        })
        .await?;
    let mut out = Vec::new();
    for (k, r) in items {
        out.push(grant_entry(
            &region,
            &account,
            &records::decode(&k, &r.value)?,
        ));
    }
    Ok(page_output("Grants", out, next))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ListRetirableInput {
    retiring_principal: String,
    limit: Option<usize>,
    marker: Option<String>,
}

pub async fn list_retirable_grants(ctx: Arc<Ctx>, input: Value) -> Result<Value, AwsError> {
    let i: ListRetirableInput = input::parse(input)?;
    authorize_account(&ctx, "ListRetirableGrants", &Conditions::for_account(&ctx))?;
    let (account, region) = (ctx.account().to_string(), ctx.region().to_string());
    let prefix = grant_prefix(&account, &region);
    let principal = i.retiring_principal;
    let (items, next) = ctx
        .store()
        .read(move |tx| {
            pagination::page(
                tx,
                &prefix,
                i.marker.as_deref(),
                i.limit.unwrap_or(50),
                error::invalid_marker,
                |k, r| {
                    records::decode::<GrantRecord>(k, &r.value)
                        .is_ok_and(|g| g.retiring_principal.as_deref() == Some(principal.as_str()))
                },
            )
        })
        .await?;
    let mut out = Vec::new();
    for (k, r) in items {
        out.push(grant_entry(
            &region,
            &account,
            &records::decode(&k, &r.value)?,
        ));
    }
    Ok(page_output("Grants", out, next))
}

/// Grant ids are 64 hex digits.
fn check_grant_id(id: &str) -> Result<(), AwsError> {
    if id.len() == 64 && id.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(())
    } else {
        Err(error::kms(
            "InvalidGrantIdException",
            format!("Invalid grant ID {}", error::truncate(id)),
        ))
    }
}

fn grant_not_found(id: &str) -> AwsError {
    error::kms(
        "NotFoundException",
        format!("Grant ID {} not found", error::truncate(id)),
    )
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RetireInput {
    grant_token: Option<String>,
    key_id: Option<String>,
    grant_id: Option<String>,
    dry_run: Option<bool>,
}

pub async fn retire_grant(ctx: Arc<Ctx>, input: Value) -> Result<Value, AwsError> {
    let i: RetireInput = input::parse(input)?;
    let (l, grant_id) = match (&i.grant_token, &i.key_id, &i.grant_id) {
        (Some(token), _, _) => {
            let (account, region, key_id, grant_id) = parse_token(token)?;
            (
                load(&ctx, &key_arn(&region, &account, &key_id), Aliases::Refused).await?,
                grant_id,
            )
        }
        (None, Some(k), Some(g)) => {
            check_grant_id(g)?;
            (load(&ctx, k, Aliases::Refused).await?, g.clone())
        }
        _ => {
            return Err(AwsError::validation(
                "Specify either GrantToken, or both KeyId and GrantId.",
            ));
        }
    };
    let grant = l
        .grants
        .iter()
        .find(|g| g.grant_id == grant_id)
        .cloned()
        .ok_or_else(|| grant_not_found(&grant_id))?;
    authorize_retire(&ctx, &l, &grant)?;
    if i.dry_run == Some(true) {
        return Err(error::dry_run());
    }
    delete_grant(&ctx, &l, &grant_id).await?;
    Ok(json!({}))
}

/// Who may retire a grant: its retiring principal, its grantee when the grant includes
/// `RetireGrant`, or whoever the key policy / IAM policies allow `kms:RetireGrant`. The first two
/// reach the authorizer as grant statements, so an explicit deny still wins.
fn authorize_retire(ctx: &Ctx, l: &Loaded, grant: &GrantRecord) -> Result<(), AwsError> {
    let p = &ctx.principal;
    let may = grant
        .retiring_principal
        .as_deref()
        .is_some_and(|r| is_grantee(r, p))
        || (is_grantee(&grant.grantee_principal, p)
            && grant.operations.iter().any(|o| o == "RetireGrant"));
    let mut as_grants = Vec::new();
    if may {
        let mut g = grant.clone();
        g.grantee_principal = p.arn.clone();
        g.operations = vec!["RetireGrant".to_string()];
        g.constraint_equals = None;
        g.constraint_subset = None;
        as_grants.push(g);
    }
    authorize_key(
        ctx,
        "RetireGrant",
        &l.key,
        &Conditions::for_loaded(ctx, l),
        &as_grants,
        &BTreeMap::new(),
    )
}

async fn delete_grant(ctx: &Ctx, l: &Loaded, grant_id: &str) -> Result<(), AwsError> {
    let key = grant_store_key(&l.key.account, &l.key.region, &l.key.key_id, grant_id);
    let id = grant_id.to_string();
    ctx.store()
        .write(move |tx| {
            if !tx.delete(&key, Expect::Any)? {
                return Err(grant_not_found(&id));
            }
            Ok(())
        })
        .await
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RevokeInput {
    key_id: String,
    grant_id: String,
    dry_run: Option<bool>,
}

pub async fn revoke_grant(ctx: Arc<Ctx>, input: Value) -> Result<Value, AwsError> {
    let i: RevokeInput = input::parse(input)?;
    let l = load(&ctx, &i.key_id, Aliases::Refused).await?;
    authorize_key(
        &ctx,
        "RevokeGrant",
        &l.key,
        &Conditions::for_loaded(&ctx, &l),
        &[],
        &BTreeMap::new(),
    )?;
    check_grant_id(&i.grant_id)?;
    if !l.grants.iter().any(|g| g.grant_id == i.grant_id) {
        return Err(grant_not_found(&i.grant_id));
    }
    if i.dry_run == Some(true) {
        return Err(error::dry_run());
    }
    delete_grant(&ctx, &l, &i.grant_id).await?;
    Ok(json!({}))
}
