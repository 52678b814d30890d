//! Access keys: CreateAccessKey, ListAccessKeys, UpdateAccessKey, DeleteAccessKey,
//! GetAccessKeyLastUsed.
//!
//! Keys are stored in the server's own format ([`AccessKeyRecord`] at
//! [`access_key_store_key`], secret sealed under the master key with [`seal_context`]), so a
//! new key authenticates at once; status changes and deletes tell the server's credential cache
//! so that they take effect at once too.
use std::sync::Arc;

use base64::Engine as _;
use rampart_aws_types::{AwsError, ids};
use rampart_services::Ctx;
use rampart_services::common::records;
use rampart_services::credentials::{
    AccessKeyRecord, KeyOwner, access_key_store_key, seal_context,
};
use rampart_store::Expect;
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::errors;
use crate::key_usage;
use crate::model::UserRecord;
use crate::users;
use crate::util::{Conds, max_items, page_vec, required, str_member, with_marker};

/// IAM's quota of access keys per user.
pub const ACCESS_KEYS_PER_USER: usize = 2;

/// `CreateDate` of a key record (RFC 3339) as epoch seconds.
fn created_epoch(rec: &AccessKeyRecord) -> i64 {
    OffsetDateTime::parse(&rec.create_date, &Rfc3339).map_or(0, |t| t.unix_timestamp())
}

fn metadata_json(user: &str, rec: &AccessKeyRecord) -> Value {
    json!({
        "UserName": user, "AccessKeyId": rec.access_key_id, "Status": rec.status,
        "CreateDate": created_epoch(rec),
    })
}

/// The user an access key operation is about (named, or the caller), authorized.
async fn target_user(ctx: &Ctx, input: &Value, action: &str) -> Result<UserRecord, AwsError> {
    let Some(name) = users::target_name(ctx, input) else {
        // Root without UserName: root's own keys are managed by `rampart accounts`, not here.
        ctx.authorize(action, &ctx.principal.arn, &[])?;
        return Err(errors::invalid_input(
            "Rampart manages the root user's access keys with `rampart accounts`; specify UserName.",
        ));
    };
    users::authorize_on_user(ctx, action, &name, &Conds::new()).await
}

pub async fn create_access_key(ctx: Arc<Ctx>, input: Value) -> Result<Value, AwsError> {
    let user = target_user(&ctx, &input, "iam:CreateAccessKey").await?;
    let account = ctx.account().to_string();
    let id = ids::access_key_id(&account)?;
    let secret = ids::secret_access_key()?;
    let sealed = ctx
        .node
        .master_key
        .seal(&seal_context(&id), secret.as_bytes())
        .map_err(|_| AwsError::internal("cannot seal the secret access key"))?;
    let now = ctx.now();
    let create_date = now
        .format(&Rfc3339)
        .map_err(|_| AwsError::internal("cannot format the time"))?;
    let record = AccessKeyRecord {
        access_key_id: id.clone(),
        account_id: account.clone(),
        owner: KeyOwner::User {
            name: user.name.clone(),
            user_id: user.user_id.clone(),
            path: user.path.clone(),
        },
        sealed_secret: base64::engine::general_purpose::STANDARD.encode(sealed),
        status: "Active".into(),
        create_date,
    };
    let name = user.name.clone();
    let rec = record.clone();
    ctx.store()
        .write(move |tx| {
            let (mut u, v) = users::load(tx.as_read(), &account, &name)?;
            if u.access_keys.len() >= ACCESS_KEYS_PER_USER {
                return Err(errors::limit_exceeded(format!(
                    "Cannot exceed quota for AccessKeysPerUser: {ACCESS_KEYS_PER_USER}"
                )));
            }
            u.access_keys.push(rec.access_key_id.clone());
            records::put(
                tx,
                &access_key_store_key(&rec.access_key_id),
                &rec,
                Expect::Absent,
            )?;
            users::save(tx, &account, &u, v)
        })
        .await?;
    Ok(json!({ "AccessKey": {
        "UserName": user.name, "AccessKeyId": id, "Status": "Active",
        "SecretAccessKey": secret, "CreateDate": now.unix_timestamp(),
    }}))
}

pub async fn list_access_keys(ctx: Arc<Ctx>, input: Value) -> Result<Value, AwsError> {
    let user = target_user(&ctx, &input, "iam:ListAccessKeys").await?;
    let ids = user.access_keys.clone();
    let name = user.name.clone();
    let items = ctx
        .store()
        .read(move |tx| {
            let mut out = Vec::new();
            for id in &ids {
                if let Some((rec, _)) =
                    records::get::<AccessKeyRecord>(tx, &access_key_store_key(id))?
                {
                    out.push(metadata_json(&name, &rec));
                }
            }
            Ok::<_, AwsError>(out)
        })
        .await?;
    let (page, next) = page_vec(items, str_member(&input, "Marker"), max_items(&input))?;
    Ok(with_marker(json!({ "AccessKeyMetadata": page }), next))
}

pub async fn update_access_key(ctx: Arc<Ctx>, input: Value) -> Result<Value, AwsError> {
    let user = target_user(&ctx, &input, "iam:UpdateAccessKey").await?;
    let id = required(&input, "AccessKeyId")?.to_string();
    let status = required(&input, "Status")?.to_string();
    if !user.access_keys.contains(&id) {
        return Err(errors::no_such_access_key(&id));
    }
    let account = ctx.account().to_string();
    let key_id = id.clone();
    ctx.store()
        .write(move |tx| {
            let k = access_key_store_key(&key_id);
            let (mut rec, v) = records::get::<AccessKeyRecord>(tx.as_read(), &k)?
                .filter(|(r, _)| r.account_id == account)
                .ok_or_else(|| errors::no_such_access_key(&key_id))?;
            rec.status = status.clone();
            records::put(tx, &k, &rec, Expect::Version(v))?;
            Ok::<_, AwsError>(())
        })
        .await?;
    // An inactive key must stop working now, not when the cache forgets it.
    ctx.node.credential_cache.invalidate(&id);
    Ok(json!({}))
}

pub async fn delete_access_key(ctx: Arc<Ctx>, input: Value) -> Result<Value, AwsError> {
    let user = target_user(&ctx, &input, "iam:DeleteAccessKey").await?;
    let id = required(&input, "AccessKeyId")?.to_string();
    let account = ctx.account().to_string();
    let name = user.name.clone();
    let key_id = id.clone();
    ctx.store()
        .write(move |tx| {
            let (mut u, v) = users::load(tx.as_read(), &account, &name)?;
            if !u.access_keys.contains(&key_id) {
                return Err(errors::no_such_access_key(&key_id));
            }
            u.access_keys.retain(|k| *k != key_id);
            tx.delete(&access_key_store_key(&key_id), Expect::Any)?;
            tx.delete(&key_usage::store_key(&key_id), Expect::Any)?;
            users::save(tx, &account, &u, v)
        })
        .await?;
    ctx.node.credential_cache.invalidate(&id);
    Ok(json!({}))
}

pub async fn get_access_key_last_used(ctx: Arc<Ctx>, input: Value) -> Result<Value, AwsError> {
    let id = required(&input, "AccessKeyId")?.to_string();
    let account = ctx.account().to_string();
    let key_id = id.clone();
    let found = ctx
        .store()
        .read(move |tx| {
            let rec = records::get::<AccessKeyRecord>(tx, &access_key_store_key(&key_id))?
                .map(|(r, _)| r)
                .filter(|r| r.account_id == account);
            let used = key_usage::load(tx, &key_id)?;
            Ok::<_, AwsError>(rec.map(|r| (r, used)))
        })
        .await?;
    let user_arn = match found.as_ref().map(|(r, _)| &r.owner) {
        Some(KeyOwner::User { name, path, .. }) => {
            format!("arn:aws:iam::{}:user{path}{name}", ctx.account())
        }
        _ => ctx.principal.arn.clone(),
    };
    ctx.authorize("iam:GetAccessKeyLastUsed", &user_arn, &[])?;
    let Some((rec, stored)) = found else {
        return Err(errors::no_such_access_key(&id));
    };
    // This node's not-yet-flushed use is newer than the stored one.
    let used = key_usage::pending(&id).or(stored);
    let user_name = match &rec.owner {
        KeyOwner::User { name, .. } => name.clone(),
        KeyOwner::Root => String::new(),
    };
    let last = match used {
        Some(u) => json!({"LastUsedDate": u.when, "ServiceName": u.service, "Region": u.region}),
        None => json!({"ServiceName": "N/A", "Region": "N/A"}),
    };
    Ok(json!({ "UserName": user_name, "AccessKeyLastUsed": last }))
}
