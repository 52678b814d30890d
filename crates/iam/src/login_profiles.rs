//! Login profiles and the account password policy: Create/Get/Update/DeleteLoginProfile,
//! ChangePassword, Update/Get/DeleteAccountPasswordPolicy.
use std::sync::Arc;

use rampart_aws_types::AwsError;
use rampart_services::common::records;
use rampart_services::{Ctx, PrincipalKind};
use rampart_store::{Expect, ReadTxn};
use serde_json::{Value, json};

use crate::errors;
use crate::model::{LoginProfile, PasswordPolicy, password_policy_key};
use crate::passwords;
use crate::users;
use crate::util::{Conds, bool_member, epoch, int_member, put_opt, required};

/// How many earlier hashes a login profile keeps for `PasswordReusePrevention` (IAM's max 24).
const KEEP_PREVIOUS: usize = 24;

fn profile_json(user: &str, p: &LoginProfile) -> Value {
    json!({"UserName": user, "CreateDate": p.create_date, "PasswordResetRequired": p.password_reset_required})
}

fn load_policy(tx: &mut dyn ReadTxn, account: &str) -> Result<Option<PasswordPolicy>, AwsError> {
    Ok(records::get::<PasswordPolicy>(tx, &password_policy_key(account))?.map(|(p, _)| p))
}

pub async fn create_login_profile(ctx: Arc<Ctx>, input: Value) -> Result<Value, AwsError> {
    let Some(name) = users::target_name(&ctx, &input) else {
        ctx.authorize("iam:CreateLoginProfile", &ctx.principal.arn, &[])?;
        return Err(errors::invalid_input("UserName is required."));
    };
    let user =
        users::authorize_on_user(&ctx, "iam:CreateLoginProfile", &name, &Conds::new()).await?;
    let password = required(&input, "Password")?.to_string();
    let reset = bool_member(&input, "PasswordResetRequired").unwrap_or(false);
    let account = ctx.account().to_string();
    let policy = {
        let a = account.clone();
        ctx.store().read(move |tx| load_policy(tx, &a)).await?
    };
    passwords::check(&password, policy.as_ref())?;
    let now = epoch(ctx.now());
    let profile = LoginProfile {
        password_hash: passwords::hash_off_thread(password.clone()).await?,
        create_date: now,
        password_reset_required: reset,
        password_last_changed: now,
        previous_hashes: Vec::new(),
    };
    let out = profile_json(&user.name, &profile);
    let user_name = user.name.clone();
    ctx.store()
        .write(move |tx| {
            let (mut u, v) = users::load(tx.as_read(), &account, &user_name)?;
            if u.login_profile.is_some() {
                return Err(errors::already_exists(format!(
                    "Login Profile for user {} already exists.",
                    u.name
                )));
            }
            u.login_profile = Some(profile.clone());
            users::save(tx, &account, &u, v)
        })
        .await?;
    Ok(json!({ "LoginProfile": out }))
}

pub async fn get_login_profile(ctx: Arc<Ctx>, input: Value) -> Result<Value, AwsError> {
    let Some(name) = users::target_name(&ctx, &input) else {
        ctx.authorize("iam:GetLoginProfile", &ctx.principal.arn, &[])?;
        return Err(errors::no_such_login_profile("root"));
    };
    let user = users::authorize_on_user(&ctx, "iam:GetLoginProfile", &name, &Conds::new()).await?;
    let p = user
        .login_profile
        .as_ref()
        .ok_or_else(|| errors::no_such_login_profile(&user.name))?;
    Ok(json!({ "LoginProfile": profile_json(&user.name, p) }))
}

pub async fn update_login_profile(ctx: Arc<Ctx>, input: Value) -> Result<Value, AwsError> {
    let name = required(&input, "UserName")?.to_string();
    let user =
        users::authorize_on_user(&ctx, "iam:UpdateLoginProfile", &name, &Conds::new()).await?;
    if user.login_profile.is_none() {
        return Err(errors::no_such_login_profile(&user.name));
    }
    let password = crate::util::str_member(&input, "Password").map(str::to_string);
    let reset = bool_member(&input, "PasswordResetRequired");
    let account = ctx.account().to_string();
    let new_hash = match &password {
        Some(p) => {
            let a = account.clone();
            let policy = ctx.store().read(move |tx| load_policy(tx, &a)).await?;
            passwords::check(p, policy.as_ref())?;
            Some(passwords::hash_off_thread(p.clone()).await?)
        }
        None => None,
    };
    let now = epoch(ctx.now());
    let user_name = user.name.clone();
    ctx.store()
        .write(move |tx| {
            let (mut u, v) = users::load(tx.as_read(), &account, &user_name)?;
            let name = u.name.clone();
            let p = u
                .login_profile
                .as_mut()
                .ok_or_else(|| errors::no_such_login_profile(&name))?;
            if let Some(h) = &new_hash {
                let old = std::mem::replace(&mut p.password_hash, h.clone());
                p.previous_hashes.insert(0, old);
                p.previous_hashes.truncate(KEEP_PREVIOUS);
                p.password_last_changed = now;
            }
            if let Some(r) = reset {
                p.password_reset_required = r;
            }
            users::save(tx, &account, &u, v)
        })
        .await?;
    Ok(json!({}))
}

pub async fn delete_login_profile(ctx: Arc<Ctx>, input: Value) -> Result<Value, AwsError> {
    let Some(name) = users::target_name(&ctx, &input) else {
        ctx.authorize("iam:DeleteLoginProfile", &ctx.principal.arn, &[])?;
        return Err(errors::invalid_input("UserName is required."));
    };
    let user =
        users::authorize_on_user(&ctx, "iam:DeleteLoginProfile", &name, &Conds::new()).await?;
    let account = ctx.account().to_string();
    let user_name = user.name.clone();
    ctx.store()
        .write(move |tx| {
            let (mut u, v) = users::load(tx.as_read(), &account, &user_name)?;
            if u.login_profile.take().is_none() {
                return Err(errors::no_such_login_profile(&u.name));
            }
            users::save(tx, &account, &u, v)
        })
        .await?;
    Ok(json!({}))
}

/// ChangePassword: the calling IAM user changes its own password.
pub async fn change_password(ctx: Arc<Ctx>, input: Value) -> Result<Value, AwsError> {
    let PrincipalKind::IamUser { name } = &ctx.principal.kind else {
        ctx.authorize("iam:ChangePassword", &ctx.principal.arn, &[])?;
        return Err(AwsError::new(
            "InvalidUserType",
            400,
            "Only IAM users can change their password with ChangePassword.",
        ));
    };
    let name = name.clone();
    let account = ctx.account().to_string();
    let policy = {
        let a = account.clone();
        ctx.store().read(move |tx| load_policy(tx, &a)).await?
    };
    // With `AllowUsersToChangePassword` every user may change its own password without a
    // policy granting iam:ChangePassword, as in AWS.
    let user = if policy
        .as_ref()
        .is_some_and(|p| p.allow_users_to_change_password)
    {
        ctx.mark_unauthenticated();
        users::find(&ctx, &name)
            .await?
            .ok_or_else(|| errors::no_such_user(&name))?
    } else {
        users::authorize_on_user(&ctx, "iam:ChangePassword", &name, &Conds::new()).await?
    };
    let old = required(&input, "OldPassword")?.to_string();
    let new = required(&input, "NewPassword")?.to_string();
    let profile = user
        .login_profile
        .clone()
        .ok_or_else(|| errors::no_such_login_profile(&user.name))?;
    if !passwords::verify_off_thread(old.clone(), profile.password_hash.clone()).await {
        return Err(errors::invalid_input("The old password was incorrect."));
    }
    passwords::check(&new, policy.as_ref())?;
    let (candidate, current, previous, reuse_policy) = (
        new.clone(),
        profile.password_hash.clone(),
        profile.previous_hashes.clone(),
        policy.clone(),
    );
    tokio::task::spawn_blocking(move || {
        passwords::check_reuse(&candidate, &current, &previous, reuse_policy.as_ref())
    })
    .await
    .map_err(|_| AwsError::internal("password check failed"))??;
    let new_hash = passwords::hash_off_thread(new.clone()).await?;
    let now = epoch(ctx.now());
    let expected_hash = profile.password_hash.clone();
    ctx.store()
        .write(move |tx| {
            let (mut u, v) = users::load(tx.as_read(), &account, &name)?;
            let user_name = u.name.clone();
            let p = u
                .login_profile
                .as_mut()
                .ok_or_else(|| errors::no_such_login_profile(&user_name))?;
            // Someone changed it meanwhile: the old password we checked is no longer current.
            if p.password_hash != expected_hash {
                return Err(errors::invalid_input("The old password was incorrect."));
            }
            let old = std::mem::replace(&mut p.password_hash, new_hash.clone());
            p.previous_hashes.insert(0, old);
            p.previous_hashes.truncate(KEEP_PREVIOUS);
            p.password_last_changed = now;
            p.password_reset_required = false;
            users::save(tx, &account, &u, v)
        })
        .await?;
    Ok(json!({}))
}

pub async fn update_account_password_policy(
    ctx: Arc<Ctx>,
    input: Value,
) -> Result<Value, AwsError> {
    let account = ctx.account().to_string();
    ctx.authorize("iam:UpdateAccountPasswordPolicy", "*", &[])?;
    let b = |m: &str| bool_member(&input, m).unwrap_or(false);
    let policy = PasswordPolicy {
        minimum_password_length: int_member(&input, "MinimumPasswordLength").unwrap_or(6),
        require_symbols: b("RequireSymbols"),
        require_numbers: b("RequireNumbers"),
        require_uppercase_characters: b("RequireUppercaseCharacters"),
        require_lowercase_characters: b("RequireLowercaseCharacters"),
        allow_users_to_change_password: b("AllowUsersToChangePassword"),
        max_password_age: int_member(&input, "MaxPasswordAge").filter(|n| *n > 0),
        password_reuse_prevention: int_member(&input, "PasswordReusePrevention"),
        hard_expiry: b("HardExpiry"),
    };
    ctx.store()
        .write(move |tx| {
            records::put(tx, &password_policy_key(&account), &policy, Expect::Any)?;
            Ok::<_, AwsError>(())
        })
        .await?;
    Ok(json!({}))
}

pub async fn get_account_password_policy(ctx: Arc<Ctx>, _input: Value) -> Result<Value, AwsError> {
    let account = ctx.account().to_string();
    ctx.authorize("iam:GetAccountPasswordPolicy", "*", &[])?;
    let a = account.clone();
    let policy = ctx.store().read(move |tx| load_policy(tx, &a)).await?;
    let Some(p) = policy else {
        return Err(errors::no_such_entity(format!(
            "The Password Policy with domain name {account} cannot be found."
        )));
    };
    let mut out = json!({
        "MinimumPasswordLength": p.minimum_password_length,
        "RequireSymbols": p.require_symbols,
        "RequireNumbers": p.require_numbers,
        "RequireUppercaseCharacters": p.require_uppercase_characters,
        "RequireLowercaseCharacters": p.require_lowercase_characters,
        "AllowUsersToChangePassword": p.allow_users_to_change_password,
        "ExpirePasswords": p.max_password_age.is_some(),
    });
    put_opt(
        &mut out,
        "MaxPasswordAge",
        p.max_password_age.map(Value::from),
    );
    put_opt(
        &mut out,
        "PasswordReusePrevention",
        p.password_reuse_prevention.map(Value::from),
    );
    if p.max_password_age.is_some() {
        put_opt(&mut out, "HardExpiry", Some(Value::Bool(p.hard_expiry)));
    }
    Ok(json!({ "PasswordPolicy": out }))
}

pub async fn delete_account_password_policy(
    ctx: Arc<Ctx>,
    _input: Value,
) -> Result<Value, AwsError> {
    let account = ctx.account().to_string();
    ctx.authorize("iam:DeleteAccountPasswordPolicy", "*", &[])?;
    ctx.store()
        .write(move |tx| {
            if !tx.delete(&password_policy_key(&account), Expect::Any)? {
                return Err(errors::no_such_entity(format!(
                    "The account policy with name {account} cannot be found."
                )));
            }
            Ok(())
        })
        .await?;
    Ok(json!({}))
}
