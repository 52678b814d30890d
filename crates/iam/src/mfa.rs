//! Virtual MFA devices: CreateVirtualMFADevice (a real Base32 seed and QR PNG),
//! EnableMFADevice (two consecutive TOTP codes), ResyncMFADevice, DeactivateMFADevice,
//! DeleteVirtualMFADevice, ListMFADevices, ListVirtualMFADevices. The seed is sealed under the
//! master key; TOTP checks use the request time (`ctx.now()`).
use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use rampart_aws_types::{AwsError, ids};
use rampart_services::Ctx;
use rampart_services::common::records;
use rampart_store::{Expect, ReadTxn};
use serde_json::{Value, json};

use crate::errors;
use crate::model::{
    KIND_MFA, MfaDeviceRecord, UserRecord, entity_arn, entity_prefix, mfa_key, mfa_seal_context,
    user_key,
};
use crate::qr;
use crate::totp;
use crate::users;
use crate::util::{
    Conds, epoch, input_path, input_tags, list_page, max_items, merge_tags, page_vec, put_opt,
    required, str_member, with_marker,
};

/// Seed length in bytes (64 Base32 characters, as AWS's seeds).
const SEED_BYTES: usize = 40;

fn load(
    tx: &mut (impl ReadTxn + ?Sized),
    account: &str,
    serial: &str,
) -> Result<(MfaDeviceRecord, u64), AwsError> {
    records::get::<MfaDeviceRecord>(tx, &mfa_key(account, serial))?.ok_or_else(|| {
        errors::no_such_entity(format!(
            "VirtualMFADevice with serial {serial} does not exist."
        ))
    })
}

fn seed_of(ctx: &Ctx, device: &MfaDeviceRecord) -> Result<Vec<u8>, AwsError> {
    let sealed = STANDARD
        .decode(&device.sealed_seed)
        .map_err(|_| AwsError::internal("corrupt MFA device record"))?;
    let base32 = ctx
        .node
        .master_key
        .open(&mfa_seal_context(&device.serial_number), &sealed)
        .map_err(|_| AwsError::internal("cannot unseal an MFA seed"))?;
    let text = std::str::from_utf8(&base32).map_err(|_| AwsError::internal("corrupt MFA seed"))?;
    totp::base32_decode(text).ok_or_else(|| AwsError::internal("corrupt MFA seed"))
}

fn invalid_code() -> AwsError {
    errors::invalid_authentication_code("Authentication code for device is not valid.")
}

pub async fn create_virtual_mfa_device(ctx: Arc<Ctx>, input: Value) -> Result<Value, AwsError> {
    let name = required(&input, "VirtualMFADeviceName")?.to_string();
    let path = input_path(&input, "Path");
    let tags = input_tags(&input)?;
    let account = ctx.account().to_string();
    let serial = entity_arn(&account, "mfa", &path, &name);
    let mut conds = Conds::new();
    conds.request_tags(&tags);
    ctx.authorize("iam:CreateVirtualMFADevice", &serial, &conds.refs())?;
    let tags = merge_tags(&[], &tags)?;
    let seed = ids::random_bytes::<SEED_BYTES>()?;
    let seed_b32 = totp::base32_encode(&seed);
    let sealed = ctx
        .node
        .master_key
        .seal(&mfa_seal_context(&serial), seed_b32.as_bytes())
        .map_err(|_| AwsError::internal("cannot seal the MFA seed"))?;
    let qr_png = qr::png(&totp::otpauth_uri(&format!("{name}@{account}"), &seed_b32))?;
    let device = MfaDeviceRecord {
        serial_number: serial.clone(),
        sealed_seed: STANDARD.encode(sealed),
        create_date: epoch(ctx.now()),
        user: None,
        enable_date: None,
        last_step: 0,
        tags: tags.clone(),
    };
    ctx.store()
        .write(move |tx| {
            let key = mfa_key(&account, &device.serial_number);
            if tx.get(&key)?.is_some() {
                return Err(errors::already_exists(
                    "MFADevice entity at the same path and name already exists.",
                ));
            }
            records::put(tx, &key, &device, Expect::Absent)?;
            Ok(())
        })
        .await?;
    let mut out = json!({
        "SerialNumber": serial,
        // Blobs travel base64-encoded; the seed blob holds the Base32 text, as AWS's does.
        "Base32StringSeed": STANDARD.encode(seed_b32.as_bytes()),
        "QRCodePNG": STANDARD.encode(qr_png),
    });
    if !tags.is_empty() {
        put_opt(&mut out, "Tags", Some(json!(tags)));
    }
    Ok(json!({ "VirtualMFADevice": out }))
}

pub async fn enable_mfa_device(ctx: Arc<Ctx>, input: Value) -> Result<Value, AwsError> {
    let name = required(&input, "UserName")?.to_string();
    let serial = required(&input, "SerialNumber")?.to_string();
    let c1 = required(&input, "AuthenticationCode1")?.to_string();
    let c2 = required(&input, "AuthenticationCode2")?.to_string();
    let user = users::authorize_on_user(&ctx, "iam:EnableMFADevice", &name, &Conds::new()).await?;
    let account = ctx.account().to_string();
    let device = {
        let (a, s) = (account.clone(), serial.clone());
        ctx.store().read(move |tx| load(tx, &a, &s)).await?.0
    };
    if device.user.is_some() {
        return Err(errors::already_exists("MFA Device is already in use."));
    }
    let seed = seed_of(&ctx, &device)?;
    let step =
        totp::consecutive(&seed, &c1, &c2, ctx.now(), device.last_step).ok_or_else(invalid_code)?;
    let now = epoch(ctx.now());
    let user_name = user.name.clone();
    ctx.store()
        .write(move |tx| {
            let (mut d, dv) = load(tx.as_read(), &account, &serial)?;
            if d.user.is_some() || d.last_step >= step {
                return Err(errors::already_exists("MFA Device is already in use."));
            }
            let (mut u, uv) = users::load(tx.as_read(), &account, &user_name)?;
            d.user = Some(u.name.clone());
            d.enable_date = Some(now);
            d.last_step = step.saturating_add(1);
            u.mfa_devices.push(d.serial_number.clone());
            records::put(tx, &mfa_key(&account, &serial), &d, Expect::Version(dv))?;
            users::save(tx, &account, &u, uv)
        })
        .await?;
    Ok(json!({}))
}

pub async fn resync_mfa_device(ctx: Arc<Ctx>, input: Value) -> Result<Value, AwsError> {
    let name = required(&input, "UserName")?.to_string();
    let serial = required(&input, "SerialNumber")?.to_string();
    let c1 = required(&input, "AuthenticationCode1")?.to_string();
    let c2 = required(&input, "AuthenticationCode2")?.to_string();
    let user = users::authorize_on_user(&ctx, "iam:ResyncMFADevice", &name, &Conds::new()).await?;
    if !user.mfa_devices.contains(&serial) {
        return Err(errors::no_such_entity(format!(
            "MFA Device with serial number {serial} does not exist for user {}.",
            user.name
        )));
    }
    let account = ctx.account().to_string();
    let device = {
        let (a, s) = (account.clone(), serial.clone());
        ctx.store().read(move |tx| load(tx, &a, &s)).await?.0
    };
    let seed = seed_of(&ctx, &device)?;
    let step =
        totp::consecutive(&seed, &c1, &c2, ctx.now(), device.last_step).ok_or_else(invalid_code)?;
    ctx.store()
        .write(move |tx| {
            let (mut d, dv) = load(tx.as_read(), &account, &serial)?;
            if d.last_step > step {
                return Err(invalid_code());
            }
            d.last_step = step.saturating_add(1);
            records::put(tx, &mfa_key(&account, &serial), &d, Expect::Version(dv))?;
            Ok(())
        })
        .await?;
    Ok(json!({}))
}

pub async fn deactivate_mfa_device(ctx: Arc<Ctx>, input: Value) -> Result<Value, AwsError> {
    let serial = required(&input, "SerialNumber")?.to_string();
    let Some(name) = users::target_name(&ctx, &input) else {
        ctx.authorize("iam:DeactivateMFADevice", &ctx.principal.arn, &[])?;
        return Err(errors::no_such_entity(
            "Root MFA devices are not managed by Rampart.",
        ));
    };
    let user =
        users::authorize_on_user(&ctx, "iam:DeactivateMFADevice", &name, &Conds::new()).await?;
    let account = ctx.account().to_string();
    let user_name = user.name.clone();
    ctx.store()
        .write(move |tx| {
            let (mut u, uv) = users::load(tx.as_read(), &account, &user_name)?;
            if !u.mfa_devices.contains(&serial) {
                return Err(errors::no_such_entity(format!(
                    "MFA Device with serial number {serial} does not exist for user {}.",
                    u.name
                )));
            }
            u.mfa_devices.retain(|s| *s != serial);
            if let Some((mut d, dv)) =
                records::get::<MfaDeviceRecord>(tx.as_read(), &mfa_key(&account, &serial))?
            {
                d.user = None;
                d.enable_date = None;
                records::put(tx, &mfa_key(&account, &serial), &d, Expect::Version(dv))?;
            }
            users::save(tx, &account, &u, uv)
        })
        .await?;
    Ok(json!({}))
}

pub async fn delete_virtual_mfa_device(ctx: Arc<Ctx>, input: Value) -> Result<Value, AwsError> {
    let serial = required(&input, "SerialNumber")?.to_string();
    ctx.authorize("iam:DeleteVirtualMFADevice", &serial, &[])?;
    let account = ctx.account().to_string();
    ctx.store()
        .write(move |tx| {
            let (d, dv) = load(tx.as_read(), &account, &serial)?;
            if d.user.is_some() {
                return Err(errors::delete_conflict("MFA device is still in use"));
            }
            tx.delete(&mfa_key(&account, &serial), Expect::Version(dv))?;
            Ok(())
        })
        .await?;
    Ok(json!({}))
}

pub async fn list_mfa_devices(ctx: Arc<Ctx>, input: Value) -> Result<Value, AwsError> {
    let Some(name) = users::target_name(&ctx, &input) else {
        ctx.authorize("iam:ListMFADevices", &ctx.principal.arn, &[])?;
        return Ok(with_marker(json!({ "MFADevices": [] }), None));
    };
    let user = users::authorize_on_user(&ctx, "iam:ListMFADevices", &name, &Conds::new()).await?;
    let account = ctx.account().to_string();
    let serials = user.mfa_devices.clone();
    let uname = user.name.clone();
    let items = ctx
        .store()
        .read(move |tx| {
            let mut out = Vec::new();
            for s in &serials {
                if let Some((d, _)) = records::get::<MfaDeviceRecord>(tx, &mfa_key(&account, s))? {
                    out.push(json!({"UserName": uname, "SerialNumber": d.serial_number,
                        "EnableDate": d.enable_date.unwrap_or(d.create_date)}));
                }
            }
            Ok::<_, AwsError>(out)
        })
        .await?;
    let (page, next) = page_vec(items, str_member(&input, "Marker"), max_items(&input))?;
    Ok(with_marker(json!({ "MFADevices": page }), next))
}

pub async fn list_virtual_mfa_devices(ctx: Arc<Ctx>, input: Value) -> Result<Value, AwsError> {
    let account = ctx.account().to_string();
    ctx.authorize("iam:ListVirtualMFADevices", "*", &[])?;
    let status = str_member(&input, "AssignmentStatus")
        .unwrap_or("Any")
        .to_string();
    let marker = str_member(&input, "Marker").map(str::to_string);
    let max = max_items(&input);
    let (items, next) = ctx
        .store()
        .read(move |tx| {
            let (devices, next) = list_page::<MfaDeviceRecord>(
                tx,
                &entity_prefix(&account, KIND_MFA),
                marker.as_deref(),
                max,
                |d| match status.as_str() {
                    "Assigned" => d.user.is_some(),
                    "Unassigned" => d.user.is_none(),
                    _ => true,
                },
            )?;
            let mut out = Vec::new();
            for d in devices {
                let mut v = json!({ "SerialNumber": d.serial_number });
                if let Some(u) = &d.user {
                    if let Some((user, _)) = records::get::<UserRecord>(tx, &user_key(&account, u))?
                    {
                        put_opt(&mut v, "User", Some(users::user_json(&user, false)));
                    }
                    put_opt(&mut v, "EnableDate", d.enable_date.map(Value::from));
                }
                if !d.tags.is_empty() {
                    put_opt(&mut v, "Tags", Some(json!(d.tags)));
                }
                out.push(v);
            }
            Ok::<_, AwsError>((out, next))
        })
        .await?;
    Ok(with_marker(json!({ "VirtualMFADevices": items }), next))
}

pub async fn get_mfa_device(ctx: Arc<Ctx>, input: Value) -> Result<Value, AwsError> {
    let serial = required(&input, "SerialNumber")?.to_string();
    ctx.authorize("iam:GetMFADevice", &serial, &[])?;
    let account = ctx.account().to_string();
    let s = serial.clone();
    let (d, _) = ctx.store().read(move |tx| load(tx, &account, &s)).await?;
    if let Some(wanted) = str_member(&input, "UserName") {
        if !d
            .user
            .as_deref()
            .is_some_and(|u| u.eq_ignore_ascii_case(wanted))
        {
            return Err(errors::no_such_entity(format!(
                "MFA Device with serial number {serial} does not exist for user {wanted}."
            )));
        }
    }
    let mut out = json!({ "SerialNumber": d.serial_number });
    put_opt(&mut out, "UserName", d.user.clone().map(Value::from));
    put_opt(&mut out, "EnableDate", d.enable_date.map(Value::from));
    Ok(out)
}
