//! MFA for STS: a TOTP code from the caller's enabled virtual MFA device (IAM's records), checked
//! at `ctx.now()`, never accepted twice.
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use rampart_aws_types::AwsError;
use rampart_iam::model::{MfaDeviceRecord, mfa_key, mfa_seal_context};
use rampart_iam::totp;
use rampart_services::common::records;
use rampart_services::{Ctx, PrincipalKind};
use rampart_store::Expect;

/// Steps either side of now a code may come from (clock drift of the device).
const DRIFT_STEPS: u64 = 1;

fn failed() -> AwsError {
    AwsError::access_denied(
        "MultiFactorAuthentication failed with invalid MFA one time pass code. ",
    )
}

/// Checks `code` against device `serial` of the calling IAM user; returns the time MFA was
/// presented (epoch seconds).
pub async fn verify(ctx: &Ctx, serial: Option<&str>, code: Option<&str>) -> Result<i64, AwsError> {
    let (Some(serial), Some(code)) = (serial, code) else {
        return Err(AwsError::validation(
            "SerialNumber and TokenCode must be given together.",
        ));
    };
    let PrincipalKind::IamUser { name } = &ctx.principal.kind else {
        return Err(failed());
    };
    let account = ctx.account().to_string();
    let key = mfa_key(&account, serial);
    let read_key = key.clone();
    let device: Option<(MfaDeviceRecord, u64)> = ctx
        .store()
        .read(move |tx| records::get::<MfaDeviceRecord>(tx, &read_key))
        .await?;
    let Some((device, version)) = device else {
        return Err(failed());
    };
    if !device
        .user
        .as_deref()
        .is_some_and(|u| u.eq_ignore_ascii_case(name))
    {
        return Err(failed());
    }
    let sealed = STANDARD
        .decode(&device.sealed_seed)
        .map_err(|_| AwsError::internal("corrupt MFA device record"))?;
    let base32 = ctx
        .node
        .master_key
        .open(&mfa_seal_context(&device.serial_number), &sealed)
        .map_err(|_| AwsError::internal("cannot unseal an MFA seed"))?;
    let seed = std::str::from_utf8(&base32)
        .ok()
        .and_then(totp::base32_decode)
        .ok_or_else(|| AwsError::internal("corrupt MFA seed"))?;
    let now = ctx.now();
    let current = totp::step_of(now);
    let step = (current.saturating_sub(DRIFT_STEPS)..=current + DRIFT_STEPS)
        .filter(|s| *s > device.last_step)
        .find(|s| totp::code(&seed, *s) == code)
        .ok_or_else(failed)?;
    // Record the step so the code cannot be replayed; a concurrent use of the same code loses.
    let mut updated = device;
    updated.last_step = step;
    ctx.store()
        .write(move |tx| records::put(tx, &key, &updated, Expect::Version(version)).map(|_| ()))
        .await
        .map_err(|e: AwsError| {
            if e.code == "ConcurrentModificationException" {
                failed()
            } else {
                e
            }
        })?;
    Ok(now.unix_timestamp())
}
