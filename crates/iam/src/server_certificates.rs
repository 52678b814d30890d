//! Server certificates (UploadServerCertificate, Get/List/Update/DeleteServerCertificate). The
//! private key is sealed under the master key and never returned; `Expiration` is read from the
//! certificate's DER (`validity.notAfter`).
use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use rampart_aws_types::{AwsError, ids};
use rampart_services::Ctx;
use rampart_services::common::{keys, records};
use rampart_store::{Expect, ReadTxn};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::errors;
use crate::model::{REGION, SERVICE, Tag, entity_arn};
use crate::util::{
    Conds, epoch, input_path, input_tags, list_page, max_items, merge_tags, path_matches, put_opt,
    required, str_member, with_marker,
};

pub const KIND_SERVER_CERTIFICATE: &str = "servercertificate";

pub fn server_certificate_key(account: &str, name: &str) -> String {
    keys::key(
        account,
        REGION,
        SERVICE,
        KIND_SERVER_CERTIFICATE,
        &name.to_ascii_lowercase(),
    )
}

fn seal_context(id: &str) -> String {
    format!("iam-server-certificate/{id}")
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServerCertificateRecord {
    pub name: String,
    /// `ASCA...`
    pub id: String,
    pub path: String,
    pub arn: String,
    pub upload_date: i64,
    #[serde(default)]
    pub expiration: Option<i64>,
    pub certificate_body: String,
    #[serde(default)]
    pub certificate_chain: Option<String>,
    /// The private key PEM sealed under the master key, base64.
    pub sealed_private_key: String,
    #[serde(default)]
    pub tags: Vec<Tag>,
}

fn malformed(what: &str) -> AwsError {
    match rampart_wire::service("iam") {
        Some(svc) => rampart_wire::modeled_error(
            svc,
            "MalformedCertificateException",
            format!("Unable to parse {what}. Please ensure it is in PEM format."),
        ),
        None => AwsError::internal("the IAM service model is missing"),
    }
}

/// The base64 payload of the first PEM block whose label ends with `label_suffix`.
fn pem_der(pem: &str, label_suffix: &str) -> Option<Vec<u8>> {
    let start = pem.find("-----BEGIN ")?;
    let rest = pem.get(start + 11..)?;
    let (label, rest) = rest.split_once("-----")?;
    if !label.ends_with(label_suffix) {
        return None;
    }
    let (body, _) = rest.split_once(&format!("-----END {label}-----"))?;
    let b64: String = body.chars().filter(|c| !c.is_whitespace()).collect();
    STANDARD.decode(b64.as_bytes()).ok()
}

/// One DER element: (tag, contents, rest).
fn der_element(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = input.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 || rest.len() < n {
            return None;
        }
        let (len_bytes, rest) = rest.split_at(n);
        (
            len_bytes
                .iter()
                .fold(0usize, |a, b| (a << 8) | usize::from(*b)),
            rest,
        )
    };
    if rest.len() < len {
        return None;
    }
    let (contents, rest) = rest.split_at(len);
    Some((tag, contents, rest))
}

/// `validity.notAfter` of an X.509 certificate, as epoch seconds.
pub fn not_after(der: &[u8]) -> Option<i64> {
    let (0x30, cert, _) = der_element(der)? else {
        return None;
    };
    let (0x30, tbs, _) = der_element(cert)? else {
        return None;
    };
    let mut rest = tbs;
    // Optional explicit version [0].
    if rest.first() == Some(&0xa0) {
        rest = der_element(rest)?.2;
    }
    let (0x02, _, rest) = der_element(rest)? else {
        return None;
    }; // serialNumber
    let (0x30, _, rest) = der_element(rest)? else {
        return None;
    }; // signature
    let (0x30, _, rest) = der_element(rest)? else {
        return None;
    }; // issuer
    let (0x30, validity, _) = der_element(rest)? else {
        return None;
    };
    let (_, _, after) = der_element(validity)?; // notBefore
    let (tag, time, _) = der_element(after)?;
    let text = std::str::from_utf8(time).ok()?;
    let (year, rest) = match tag {
        // UTCTime YYMMDDHHMMSSZ: 50..99 are 19xx.
        0x17 => {
            let yy: i32 = text.get(..2)?.parse().ok()?;
            (if yy >= 50 { 1900 + yy } else { 2000 + yy }, text.get(2..)?)
        }
        0x18 => (text.get(..4)?.parse().ok()?, text.get(4..)?),
        _ => return None,
    };
    let num = |r: std::ops::Range<usize>| -> Option<u8> { rest.get(r)?.parse().ok() };
    let date =
        time::Date::from_calendar_date(year, time::Month::try_from(num(0..2)?).ok()?, num(2..4)?)
            .ok()?;
    let t = time::Time::from_hms(num(4..6)?, num(6..8)?, num(8..10)?).ok()?;
    Some(
        time::PrimitiveDateTime::new(date, t)
            .assume_utc()
            .unix_timestamp(),
    )
}

fn metadata_json(c: &ServerCertificateRecord) -> Value {
    let mut v = json!({
        "Path": c.path, "ServerCertificateName": c.name, "ServerCertificateId": c.id,
        "Arn": c.arn, "UploadDate": c.upload_date,
    });
    put_opt(&mut v, "Expiration", c.expiration.map(Value::from));
    v
}

fn no_such(name: &str) -> AwsError {
    errors::no_such_entity(format!(
        "The Server Certificate with name {name} cannot be found."
    ))
}

fn load(
    tx: &mut (impl ReadTxn + ?Sized),
    account: &str,
    name: &str,
) -> Result<(ServerCertificateRecord, u64), AwsError> {
    records::get::<ServerCertificateRecord>(tx, &server_certificate_key(account, name))?
        .ok_or_else(|| no_such(name))
}

async fn authorize_on(
    ctx: &Ctx,
    action: &str,
    name: &str,
) -> Result<ServerCertificateRecord, AwsError> {
    let key = server_certificate_key(ctx.account(), name);
    let found = ctx
        .store()
        .read(move |tx| {
            Ok::<_, AwsError>(records::get::<ServerCertificateRecord>(tx, &key)?.map(|(c, _)| c))
        })
        .await?;
    let mut conds = Conds::new();
    let arn = match &found {
        Some(c) => {
            conds.resource_tags(&c.tags);
            c.arn.clone()
        }
        None => entity_arn(ctx.account(), "server-certificate", "/", name),
    };
    ctx.authorize(action, &arn, &conds.refs())?;
    found.ok_or_else(|| no_such(name))
}

pub async fn upload_server_certificate(ctx: Arc<Ctx>, input: Value) -> Result<Value, AwsError> {
    let name = required(&input, "ServerCertificateName")?.to_string();
    let path = input_path(&input, "Path");
    let tags = input_tags(&input)?;
    let account = ctx.account().to_string();
    let arn = entity_arn(&account, "server-certificate", &path, &name);
    let mut conds = Conds::new();
    conds.request_tags(&tags);
    ctx.authorize("iam:UploadServerCertificate", &arn, &conds.refs())?;
    let tags = merge_tags(&[], &tags)?;
    let body = required(&input, "CertificateBody")?.to_string();
    let der = pem_der(&body, "CERTIFICATE").ok_or_else(|| malformed("certificate"))?;
    let expiration = not_after(&der).ok_or_else(|| malformed("certificate"))?;
    let key = required(&input, "PrivateKey")?.to_string();
    pem_der(&key, "PRIVATE KEY").ok_or_else(|| malformed("private key"))?;
    let chain = str_member(&input, "CertificateChain").map(str::to_string);
    if let Some(c) = &chain {
        pem_der(c, "CERTIFICATE").ok_or_else(|| malformed("certificate chain"))?;
    }
    let id = ids::unique_id("ASCA")?;
    let sealed = ctx
        .node
        .master_key
        .seal(&seal_context(&id), key.as_bytes())
        .map_err(|_| AwsError::internal("cannot seal the private key"))?;
    let rec = ServerCertificateRecord {
        name,
        id,
        path,
        arn,
        upload_date: epoch(ctx.now()),
        expiration: Some(expiration),
        certificate_body: body,
        certificate_chain: chain,
        sealed_private_key: STANDARD.encode(sealed),
        tags: tags.clone(),
    };
    let out = metadata_json(&rec);
    ctx.store()
        .write(move |tx| {
            let k = server_certificate_key(&account, &rec.name);
            if tx.get(&k)?.is_some() {
                return Err(errors::already_exists(format!(
                    "The Server Certificate with name {} already exists.",
                    rec.name
                )));
            }
            records::put(tx, &k, &rec, Expect::Absent)?;
            Ok(())
        })
        .await?;
    let mut result = json!({ "ServerCertificateMetadata": out });
    if !tags.is_empty() {
        put_opt(&mut result, "Tags", Some(json!(tags)));
    }
    Ok(result)
}

pub async fn get_server_certificate(ctx: Arc<Ctx>, input: Value) -> Result<Value, AwsError> {
    let name = required(&input, "ServerCertificateName")?.to_string();
    let c = authorize_on(&ctx, "iam:GetServerCertificate", &name).await?;
    let mut v = json!({ "ServerCertificateMetadata": metadata_json(&c), "CertificateBody": c.certificate_body });
    put_opt(
        &mut v,
        "CertificateChain",
        c.certificate_chain.clone().map(Value::from),
    );
    if !c.tags.is_empty() {
        put_opt(&mut v, "Tags", Some(json!(c.tags)));
    }
    Ok(json!({ "ServerCertificate": v }))
}

pub async fn list_server_certificates(ctx: Arc<Ctx>, input: Value) -> Result<Value, AwsError> {
    let account = ctx.account().to_string();
    ctx.authorize("iam:ListServerCertificates", "*", &[])?;
    let prefix = str_member(&input, "PathPrefix").map(str::to_string);
    let marker = str_member(&input, "Marker").map(str::to_string);
    let max = max_items(&input);
    let (certs, next) = ctx
        .store()
        .read(move |tx| {
            list_page::<ServerCertificateRecord>(
                tx,
                &keys::prefix(&account, REGION, SERVICE, KIND_SERVER_CERTIFICATE),
                marker.as_deref(),
                max,
                |c| path_matches(&c.path, prefix.as_deref()),
            )
        })
        .await?;
    let list: Vec<Value> = certs.iter().map(metadata_json).collect();
    Ok(with_marker(
        json!({ "ServerCertificateMetadataList": list }),
        next,
    ))
}

pub async fn update_server_certificate(ctx: Arc<Ctx>, input: Value) -> Result<Value, AwsError> {
    let name = required(&input, "ServerCertificateName")?.to_string();
    let c = authorize_on(&ctx, "iam:UpdateServerCertificate", &name).await?;
    let new_name = str_member(&input, "NewServerCertificateName").map(str::to_string);
    let new_path = str_member(&input, "NewPath").map(str::to_string);
    let account = ctx.account().to_string();
    if let Some(n) = &new_name {
        let path = new_path.as_deref().unwrap_or(&c.path);
        ctx.authorize(
            "iam:UpdateServerCertificate",
            &entity_arn(&account, "server-certificate", path, n),
            &[],
        )?;
    }
    ctx.store()
        .write(move |tx| {
            let (mut c, v) = load(tx.as_read(), &account, &name)?;
            let old_key = server_certificate_key(&account, &c.name);
            if let Some(p) = &new_path {
                c.path = p.clone();
            }
            if let Some(n) = &new_name {
                c.name = n.clone();
            }
            c.arn = entity_arn(&account, "server-certificate", &c.path, &c.name);
            let new_key = server_certificate_key(&account, &c.name);
            if new_key != old_key {
                if tx.get(&new_key)?.is_some() {
                    return Err(errors::already_exists(format!(
                        "The Server Certificate with name {} already exists.",
                        c.name
                    )));
                }
                tx.delete(&old_key, Expect::Version(v))?;
                records::put(tx, &new_key, &c, Expect::Absent)?;
            } else {
                records::put(tx, &new_key, &c, Expect::Version(v))?;
            }
            Ok(())
        })
        .await?;
    Ok(json!({}))
}

pub async fn delete_server_certificate(ctx: Arc<Ctx>, input: Value) -> Result<Value, AwsError> {
    let name = required(&input, "ServerCertificateName")?.to_string();
    authorize_on(&ctx, "iam:DeleteServerCertificate", &name).await?;
    let account = ctx.account().to_string();
    ctx.store()
        .write(move |tx| {
            let (c, v) = load(tx.as_read(), &account, &name)?;
            tx.delete(
                &server_certificate_key(&account, &c.name),
                Expect::Version(v),
            )?;
            Ok::<_, AwsError>(())
        })
        .await?;
    Ok(json!({}))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A minimal certificate-shaped DER: SEQ { SEQ { [0]{INT 2}, INT 1, SEQ{}, SEQ{}, SEQ{ UTCTime, GeneralizedTime } } }.
    fn fake_der(not_after: &[u8], tag: u8) -> Vec<u8> {
        let tlv = |t: u8, v: &[u8]| -> Vec<u8> {
            let mut out = vec![t, v.len() as u8];
            out.extend_from_slice(v);
            out
        };
        let validity = [tlv(0x17, b"240101000000Z"), tlv(tag, not_after)].concat();
        let tbs = [
            tlv(0xa0, &tlv(0x02, &[2])),
            tlv(0x02, &[1]),
            tlv(0x30, &[]),
            tlv(0x30, &[]),
            tlv(0x30, &validity),
        ]
        .concat();
        tlv(0x30, &tlv(0x30, &tbs))
    }

    #[test]
    fn expiration_comes_from_not_after() {
        assert_eq!(
            not_after(&fake_der(b"300101000000Z", 0x17)),
            Some(1_893_456_000)
        );
        assert_eq!(
            not_after(&fake_der(b"20300101000000Z", 0x18)),
            Some(1_893_456_000)
        );
        assert_eq!(
            not_after(&fake_der(b"991231235959Z", 0x17)),
            Some(946_684_799)
        );
        assert_eq!(not_after(&fake_der(b"garbage", 0x17)), None);
        assert_eq!(not_after(&[0x30, 0x84, 0xff, 0xff, 0xff, 0xff]), None);
        assert_eq!(not_after(&[]), None);
    }

    #[test]
    fn pem_blocks_are_matched_by_label() {
        let pem = "-----BEGIN EC PRIVATE KEY-----\nAAEC\n-----END EC PRIVATE KEY-----\n";
        assert_eq!(pem_der(pem, "PRIVATE KEY").unwrap(), vec![0, 1, 2]);
        assert!(pem_der(pem, "CERTIFICATE").is_none());
        assert!(pem_der("nothing", "CERTIFICATE").is_none());
    }
}
