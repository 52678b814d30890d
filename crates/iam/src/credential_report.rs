//! GenerateCredentialReport / GetCredentialReport: AWS's CSV, column for column, so the tools
//! that read AWS's report read Rampart's.
use std::sync::Arc;

use base64::Engine as _;
use rampart_aws_types::AwsError;
use rampart_services::Ctx;
use rampart_services::common::records;
use rampart_services::credentials::{AccessKeyRecord, access_key_store_key};
use rampart_store::{Expect, ReadTxn};
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::errors;
use crate::key_usage;
use crate::model::{
    CredentialReportRecord, KIND_USER, PasswordPolicy, UserRecord, credential_report_key,
    entity_prefix, password_policy_key,
};

/// AWS's columns, in AWS's order.
pub const COLUMNS: &[&str] = &[
    "user",
    "arn",
    "user_creation_time",
    "password_enabled",
    "password_last_used",
    "password_last_changed",
    "password_next_rotation",
    "mfa_active",
    "access_key_1_active",
    "access_key_1_last_rotated",
    "access_key_1_last_used_date",
    "access_key_1_last_used_region",
    "access_key_1_last_used_service",
    "access_key_2_active",
    "access_key_2_last_rotated",
    "access_key_2_last_used_date",
    "access_key_2_last_used_region",
    "access_key_2_last_used_service",
    "cert_1_active",
    "cert_1_last_rotated",
    "cert_2_active",
    "cert_2_last_rotated",
];

/// A report younger than this is returned as is by GenerateCredentialReport (AWS: 4 hours).
const FRESH_SECONDS: i64 = 4 * 3600;

/// ISO 8601 with `+00:00`, as AWS writes the report's times.
fn iso(epoch: i64) -> String {
    OffsetDateTime::from_unix_timestamp(epoch)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .map_or_else(|| "N/A".to_string(), |s| s.replace('Z', "+00:00"))
}

/// A CSV field (quoted only when it has to be).
fn field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

fn key_columns(tx: &mut dyn ReadTxn, id: Option<&String>) -> Result<Vec<String>, AwsError> {
    let na = || "N/A".to_string();
    let Some(id) = id else {
        return Ok(vec!["false".into(), na(), na(), na(), na()]);
    };
    let Some((rec, _)) = records::get::<AccessKeyRecord>(tx, &access_key_store_key(id))? else {
        return Ok(vec!["false".into(), na(), na(), na(), na()]);
    };
    let created = OffsetDateTime::parse(&rec.create_date, &Rfc3339)
        .map_or_else(|_| na(), |t| iso(t.unix_timestamp()));
    let used = key_usage::pending(id).or(key_usage::load(tx, id)?);
    let (date, region, service) = match used {
        Some(u) => (iso(u.when), u.region, u.service),
        None => (na(), na(), na()),
    };
    Ok(vec![
        (rec.status == "Active").to_string(),
        created,
        date,
        region,
        service,
    ])
}

/// Builds the report for `account`.
pub fn build(tx: &mut dyn ReadTxn, account: &str) -> Result<String, AwsError> {
    let policy = records::get::<PasswordPolicy>(tx, &password_policy_key(account))?.map(|(p, _)| p);
    let mut out = COLUMNS.join(",");
    out.push('\n');
    // The root user's row: Rampart keeps no console password or MFA for root.
    let root: Vec<String> = vec![
        "<root_account>".into(),
        format!("arn:aws:iam::{account}:root"),
        "N/A".into(),
        "not_supported".into(),
        "no_information".into(),
        "not_supported".into(),
        "not_supported".into(),
        "false".into(),
        "true".into(),
        "N/A".into(),
        "N/A".into(),
        "N/A".into(),
        "N/A".into(),
        "false".into(),
        "N/A".into(),
        "N/A".into(),
        "N/A".into(),
        "N/A".into(),
        "false".into(),
        "N/A".into(),
        "false".into(),
        "N/A".into(),
    ];
    out.push_str(&root.iter().map(|f| field(f)).collect::<Vec<_>>().join(","));
    out.push('\n');
    for (key, rec) in tx.scan_all(&entity_prefix(account, KIND_USER))? {
        let u: UserRecord = records::decode(&key, &rec.value)?;
        let lp = u.login_profile.as_ref();
        let mut row: Vec<String> = vec![
            u.name.clone(),
            u.arn.clone(),
            iso(u.create_date),
            lp.is_some().to_string(),
            match (lp, u.password_last_used) {
                (None, _) => "N/A".into(),
                (Some(_), Some(t)) => iso(t),
                (Some(_), None) => "no_information".into(),
            },
            lp.map_or_else(|| "N/A".into(), |p| iso(p.password_last_changed)),
            match (lp, policy.as_ref().and_then(|p| p.max_password_age)) {
                (Some(p), Some(days)) => iso(p.password_last_changed.saturating_add(days * 86_400)),
                _ => "N/A".into(),
            },
            (!u.mfa_devices.is_empty()).to_string(),
        ];
        row.extend(key_columns(tx, u.access_keys.first())?);
        row.extend(key_columns(tx, u.access_keys.get(1))?);
        for i in 0..2 {
            match u.signing_certificates.get(i) {
                Some(c) => row.extend([(c.status == "Active").to_string(), iso(c.upload_date)]),
                None => row.extend(["false".to_string(), "N/A".to_string()]),
            }
        }
        out.push_str(&row.iter().map(|f| field(f)).collect::<Vec<_>>().join(","));
        out.push('\n');
    }
    Ok(out)
}

pub async fn generate_credential_report(ctx: Arc<Ctx>, _input: Value) -> Result<Value, AwsError> {
    ctx.authorize("iam:GenerateCredentialReport", "*", &[])?;
    let account = ctx.account().to_string();
    let now = ctx.now().unix_timestamp();
    let fresh = ctx
        .store()
        .write(move |tx| {
            let key = credential_report_key(&account);
            if let Some((r, _)) = records::get::<CredentialReportRecord>(tx.as_read(), &key)? {
                if now.saturating_sub(r.generated_time) < FRESH_SECONDS {
                    return Ok(true);
                }
            }
            let csv = build(tx.as_read(), &account)?;
            let rec = CredentialReportRecord {
                generated_time: now,
                csv,
            };
            records::put(tx, &key, &rec, Expect::Any)?;
            Ok::<_, AwsError>(false)
        })
        .await?;
    // The report is built synchronously, so it is complete as soon as this answers.
    let description = if fresh {
        "A credential report already exists and is recent."
    } else {
        "The credential report has been generated."
    };
    Ok(json!({ "State": "COMPLETE", "Description": description }))
}

pub async fn get_credential_report(ctx: Arc<Ctx>, _input: Value) -> Result<Value, AwsError> {
    ctx.authorize("iam:GetCredentialReport", "*", &[])?;
    let account = ctx.account().to_string();
    let rec = ctx
        .store()
        .read_offloaded(move |tx| {
            Ok::<_, AwsError>(
                records::get::<CredentialReportRecord>(tx, &credential_report_key(&account))?
                    .map(|(r, _)| r),
            )
        })
        .await?
        .ok_or_else(errors::credential_report_not_present)?;
    Ok(json!({
        "Content": base64::engine::general_purpose::STANDARD.encode(rec.csv.as_bytes()),
        "ReportFormat": "text/csv",
        "GeneratedTime": rec.generated_time,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_reflect_users_passwords_keys_and_certificates() {
        use crate::model::{LoginProfile, SigningCertificateRecord, entity_arn, user_key};
        use rampart_store::Store;
        let store = Store::open_in_memory().unwrap();
        let acct = "111122223333";
        let user = UserRecord {
            name: "a,b".into(),
            user_id: "AIDAX".into(),
            path: "/".into(),
            arn: entity_arn(acct, "user", "/", "a,b"),
            create_date: 1_700_000_000,
            tags: vec![],
            permissions_boundary: None,
            inline_policies: Default::default(),
            attached_policies: vec![],
            groups: vec![],
            access_keys: vec![],
            mfa_devices: vec!["arn:aws:iam::111122223333:mfa/x".into()],
            login_profile: Some(LoginProfile {
                password_hash: String::new(),
                create_date: 1_700_000_000,
                password_reset_required: false,
                password_last_changed: 1_700_000_100,
                previous_hashes: vec![],
            }),
            password_last_used: None,
            signing_certificates: vec![SigningCertificateRecord {
                certificate_id: "C1".into(),
                certificate_body: String::new(),
                status: "Active".into(),
                upload_date: 1_700_000_200,
            }],
            service_specific_credentials: vec![],
        };
        store
            .write_blocking(move |tx| {
                records::put(tx, &user_key(acct, "a,b"), &user, Expect::Absent)?;
                Ok::<_, AwsError>(())
            })
            .unwrap();
        let csv = store.read_blocking(|tx| build(tx, acct)).unwrap();
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines.len(), 3);
        assert_eq!(lines[0], COLUMNS.join(","));
        assert!(lines[1].starts_with("<root_account>,arn:aws:iam::111122223333:root,"));
        // A name with a comma is quoted; then: created, password on, never used, changed,
        // no rotation, MFA on, no keys, cert 1 active.
        assert_eq!(
            lines[2],
            "\"a,b\",\"arn:aws:iam::111122223333:user/a,b\",2023-11-14T22:13:20+00:00,true,no_information,2023-11-14T22:15:00+00:00,N/A,true,false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,true,2023-11-14T22:16:40+00:00,false,N/A"
        );
    }

    #[test]
    fn times_and_fields_look_like_aws() {
        assert_eq!(iso(1_700_000_000), "2023-11-14T22:13:20+00:00");
        assert_eq!(field("a,b"), "\"a,b\"");
        assert_eq!(field("plain"), "plain");
        assert_eq!(COLUMNS.len(), 22);
    }
}
