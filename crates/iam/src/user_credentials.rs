//! A user's other credentials: X.509 signing certificates (Upload/List/Update/
//! DeleteSigningCertificate) and service-specific credentials (Create/List/Reset/Update/
//! DeleteServiceSpecificCredential). Both live in the user record.
use std::sync::Arc;

use base64::Engine as _;
use rampart_aws_types::{AwsError, ids};
use rampart_services::Ctx;
use serde_json::{Value, json};

use crate::errors;
use crate::model::{ServiceCredentialRecord, SigningCertificateRecord, UserRecord};
use crate::passwords;
use crate::users;
use crate::util::{Conds, epoch, max_items, page_vec, required, str_member, with_marker};

pub const CERTIFICATES_PER_USER: usize = 2;
pub const SERVICE_CREDENTIALS_PER_SERVICE: usize = 2;

fn modeled(shape: &str, message: String) -> AwsError {
    match rampart_wire::service("iam") {
        Some(svc) => rampart_wire::modeled_error(svc, shape, message),
        None => AwsError::internal("the IAM service model is missing"),
    }
}

/// The DER bytes of a PEM certificate, or IAM's MalformedCertificate.
fn certificate_der(pem: &str) -> Result<Vec<u8>, AwsError> {
    let malformed = || {
        modeled(
            "MalformedCertificateException",
            "Unable to parse certificate. Please ensure the certificate is in PEM format.".into(),
        )
    };
    let body = pem
        .trim()
        .strip_prefix("-----BEGIN CERTIFICATE-----")
        .and_then(|r| r.split("-----END CERTIFICATE-----").next())
        .ok_or_else(malformed)?;
    let b64: String = body.chars().filter(|c| !c.is_whitespace()).collect();
    let der = base64::engine::general_purpose::STANDARD
        .decode(b64.as_bytes())
        .map_err(|_| malformed())?;
    // An X.509 certificate is a DER SEQUENCE with a long-form length.
    if der.len() < 64 || der.first() != Some(&0x30) || der.get(1).is_none_or(|b| *b < 0x81) {
        return Err(malformed());
    }
    Ok(der)
}

fn cert_json(user: &str, c: &SigningCertificateRecord) -> Value {
    json!({"UserName": user, "CertificateId": c.certificate_id, "CertificateBody": c.certificate_body,
           "Status": c.status, "UploadDate": c.upload_date})
}

async fn target(ctx: &Ctx, input: &Value, action: &str) -> Result<UserRecord, AwsError> {
    let Some(name) = users::target_name(ctx, input) else {
        ctx.authorize(action, &ctx.principal.arn, &[])?;
        return Err(errors::invalid_input(
            "Specify UserName: Rampart keeps no root certificates.",
        ));
    };
    users::authorize_on_user(ctx, action, &name, &Conds::new()).await
}

/// Applies `change` to the user record in one transaction.
async fn modify<T: Send + 'static>(
    ctx: &Ctx,
    name: String,
    change: impl Fn(&mut UserRecord) -> Result<T, AwsError> + Send + 'static,
) -> Result<T, AwsError> {
    let account = ctx.account().to_string();
    ctx.store()
        .write(move |tx| {
            let (mut u, v) = users::load(tx.as_read(), &account, &name)?;
            let out = change(&mut u)?;
            users::save(tx, &account, &u, v)?;
            Ok(out)
        })
        .await
}

pub async fn upload_signing_certificate(ctx: Arc<Ctx>, input: Value) -> Result<Value, AwsError> {
    let user = target(&ctx, &input, "iam:UploadSigningCertificate").await?;
    let body = required(&input, "CertificateBody")?.to_string();
    certificate_der(&body)?;
    let cert = SigningCertificateRecord {
        certificate_id: ids::prefixed_id("", 32)?,
        certificate_body: body,
        status: "Active".into(),
        upload_date: epoch(ctx.now()),
    };
    let out = cert_json(&user.name, &cert);
    modify(&ctx, user.name, move |u| {
        if let Some(same) = u
            .signing_certificates
            .iter()
            .find(|c| c.certificate_body.trim() == cert.certificate_body.trim())
        {
            return Err(modeled(
                "DuplicateCertificateException",
                format!(
                    "The Certificate with id {} already exists.",
                    same.certificate_id
                ),
            ));
        }
        if u.signing_certificates.len() >= CERTIFICATES_PER_USER {
            return Err(errors::limit_exceeded(format!(
                "Cannot exceed quota for CertificatesPerUser: {CERTIFICATES_PER_USER}"
            )));
        }
        u.signing_certificates.push(cert.clone());
        Ok(())
    })
    .await?;
    Ok(json!({ "Certificate": out }))
}

pub async fn list_signing_certificates(ctx: Arc<Ctx>, input: Value) -> Result<Value, AwsError> {
    let user = target(&ctx, &input, "iam:ListSigningCertificates").await?;
    let items: Vec<Value> = user
        .signing_certificates
        .iter()
        .map(|c| cert_json(&user.name, c))
        .collect();
    let (page, next) = page_vec(items, str_member(&input, "Marker"), max_items(&input))?;
    Ok(with_marker(json!({ "Certificates": page }), next))
}

fn no_such_certificate(id: &str) -> AwsError {
    errors::no_such_entity(format!("The Certificate with id {id} cannot be found."))
}

pub async fn update_signing_certificate(ctx: Arc<Ctx>, input: Value) -> Result<Value, AwsError> {
    let user = target(&ctx, &input, "iam:UpdateSigningCertificate").await?;
    let id = required(&input, "CertificateId")?.to_string();
    let status = required(&input, "Status")?.to_string();
    modify(&ctx, user.name, move |u| {
        let c = u
            .signing_certificates
            .iter_mut()
            .find(|c| c.certificate_id == id)
            .ok_or_else(|| no_such_certificate(&id))?;
        c.status = status.clone();
        Ok(())
    })
    .await?;
    Ok(json!({}))
}

pub async fn delete_signing_certificate(ctx: Arc<Ctx>, input: Value) -> Result<Value, AwsError> {
    let user = target(&ctx, &input, "iam:DeleteSigningCertificate").await?;
    let id = required(&input, "CertificateId")?.to_string();
    modify(&ctx, user.name, move |u| {
        let before = u.signing_certificates.len();
        u.signing_certificates.retain(|c| c.certificate_id != id);
        if u.signing_certificates.len() == before {
            return Err(no_such_certificate(&id));
        }
        Ok(())
    })
    .await?;
    Ok(json!({}))
}

// --- Service-specific credentials --------------------------------------------------------------

fn credential_json(user: &str, c: &ServiceCredentialRecord) -> Value {
    json!({"UserName": user, "Status": c.status, "ServiceUserName": c.service_user_name,
           "CreateDate": c.create_date, "ServiceSpecificCredentialId": c.id, "ServiceName": c.service_name})
}

fn no_such_credential(id: &str, user: &str) -> AwsError {
    errors::no_such_entity(format!("No such credential {id} exists for user {user}."))
}

/// A fresh service password (32 random bytes, base64: 44 characters, as AWS's).
fn new_password() -> Result<String, AwsError> {
    Ok(base64::engine::general_purpose::STANDARD.encode(ids::random_bytes::<32>()?))
}

pub async fn create_service_specific_credential(
    ctx: Arc<Ctx>,
    input: Value,
) -> Result<Value, AwsError> {
    let name = required(&input, "UserName")?.to_string();
    let user = users::authorize_on_user(
        &ctx,
        "iam:CreateServiceSpecificCredential",
        &name,
        &Conds::new(),
    )
    .await?;
    let service = required(&input, "ServiceName")?.to_string();
    let password = new_password()?;
    let cred = ServiceCredentialRecord {
        id: ids::unique_id("ACCA")?,
        service_name: service,
        service_user_name: format!("{}-at-{}", user.name, ctx.account()),
        password_hash: passwords::hash_off_thread(password.clone()).await?,
        status: "Active".into(),
        create_date: epoch(ctx.now()),
    };
    let mut out = credential_json(&user.name, &cred);
    if let Some(o) = out.as_object_mut() {
        o.insert("ServicePassword".into(), Value::String(password));
    }
    modify(&ctx, user.name, move |u| {
        let same = u.service_specific_credentials.iter().filter(|c| c.service_name == cred.service_name).count();
        if same >= SERVICE_CREDENTIALS_PER_SERVICE {
            return Err(errors::limit_exceeded(format!(
                "Cannot exceed quota for ServiceSpecificCredentialsPerUserPerService: {SERVICE_CREDENTIALS_PER_SERVICE}"
            )));
        }
        u.service_specific_credentials.push(cred.clone());
        Ok(())
    })
    .await?;
    Ok(json!({ "ServiceSpecificCredential": out }))
}

pub async fn list_service_specific_credentials(
    ctx: Arc<Ctx>,
    input: Value,
) -> Result<Value, AwsError> {
    let Some(name) = users::target_name(&ctx, &input) else {
        ctx.authorize(
            "iam:ListServiceSpecificCredentials",
            &ctx.principal.arn,
            &[],
        )?;
        return Ok(json!({ "ServiceSpecificCredentials": [] }));
    };
    let user = users::authorize_on_user(
        &ctx,
        "iam:ListServiceSpecificCredentials",
        &name,
        &Conds::new(),
    )
    .await?;
    let service = str_member(&input, "ServiceName");
    let items: Vec<Value> = user
        .service_specific_credentials
        .iter()
        .filter(|c| service.is_none_or(|s| s == c.service_name))
        .map(|c| credential_json(&user.name, c))
        .collect();
    Ok(json!({ "ServiceSpecificCredentials": items }))
}

pub async fn reset_service_specific_credential(
    ctx: Arc<Ctx>,
    input: Value,
) -> Result<Value, AwsError> {
    let Some(name) = users::target_name(&ctx, &input) else {
        ctx.authorize(
            "iam:ResetServiceSpecificCredential",
            &ctx.principal.arn,
            &[],
        )?;
        return Err(errors::invalid_input("Specify UserName."));
    };
    let user = users::authorize_on_user(
        &ctx,
        "iam:ResetServiceSpecificCredential",
        &name,
        &Conds::new(),
    )
    .await?;
    let id = required(&input, "ServiceSpecificCredentialId")?.to_string();
    let password = new_password()?;
    let hash = passwords::hash_off_thread(password.clone()).await?;
    let user_name = user.name.clone();
    let cred = modify(&ctx, user.name.clone(), move |u| {
        let c = u
            .service_specific_credentials
            .iter_mut()
            .find(|c| c.id == id)
            .ok_or_else(|| no_such_credential(&id, &user_name))?;
        c.password_hash = hash.clone();
        Ok(c.clone())
    })
    .await?;
    let mut out = credential_json(&user.name, &cred);
    if let Some(o) = out.as_object_mut() {
        o.insert("ServicePassword".into(), Value::String(password));
    }
    Ok(json!({ "ServiceSpecificCredential": out }))
}

pub async fn update_service_specific_credential(
    ctx: Arc<Ctx>,
    input: Value,
) -> Result<Value, AwsError> {
    let Some(name) = users::target_name(&ctx, &input) else {
        ctx.authorize(
            "iam:UpdateServiceSpecificCredential",
            &ctx.principal.arn,
            &[],
        )?;
        return Err(errors::invalid_input("Specify UserName."));
    };
    let user = users::authorize_on_user(
        &ctx,
        "iam:UpdateServiceSpecificCredential",
        &name,
        &Conds::new(),
    )
    .await?;
    let id = required(&input, "ServiceSpecificCredentialId")?.to_string();
    let status = required(&input, "Status")?.to_string();
    let user_name = user.name.clone();
    modify(&ctx, user.name, move |u| {
        let c = u
            .service_specific_credentials
            .iter_mut()
            .find(|c| c.id == id)
            .ok_or_else(|| no_such_credential(&id, &user_name))?;
        c.status = status.clone();
        Ok(())
    })
    .await?;
    Ok(json!({}))
}

pub async fn delete_service_specific_credential(
    ctx: Arc<Ctx>,
    input: Value,
) -> Result<Value, AwsError> {
    let Some(name) = users::target_name(&ctx, &input) else {
        ctx.authorize(
            "iam:DeleteServiceSpecificCredential",
            &ctx.principal.arn,
            &[],
        )?;
        return Err(errors::invalid_input("Specify UserName."));
    };
    let user = users::authorize_on_user(
        &ctx,
        "iam:DeleteServiceSpecificCredential",
        &name,
        &Conds::new(),
    )
    .await?;
    let id = required(&input, "ServiceSpecificCredentialId")?.to_string();
    let user_name = user.name.clone();
    modify(&ctx, user.name, move |u| {
        let before = u.service_specific_credentials.len();
        u.service_specific_credentials.retain(|c| c.id != id);
        if before == u.service_specific_credentials.len() {
            return Err(no_such_credential(&id, &user_name));
        }
        Ok(())
    })
    .await?;
    Ok(json!({}))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn certificates_must_be_pem_der_sequences() {
        let der: Vec<u8> = [0x30u8, 0x82, 0x01, 0x00]
            .into_iter()
            .chain(std::iter::repeat_n(7u8, 256))
            .collect();
        let b64 = base64::engine::general_purpose::STANDARD.encode(&der);
        let pem = format!("-----BEGIN CERTIFICATE-----\n{b64}\n-----END CERTIFICATE-----\n");
        assert_eq!(certificate_der(&pem).unwrap(), der);
        assert_eq!(
            certificate_der("hello").unwrap_err().code,
            "MalformedCertificate"
        );
        let junk = format!(
            "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----",
            base64::engine::general_purpose::STANDARD.encode([1u8; 100])
        );
        assert_eq!(
            certificate_der(&junk).unwrap_err().code,
            "MalformedCertificate"
        );
        assert_eq!(new_password().unwrap().len(), 44);
    }
}
