//! Identity providers: OpenID Connect (Create/Get/List/Delete, client ids, thumbprints) and SAML
//! (Create/Get/List/Update/Delete, metadata documents stored as uploaded).
use std::sync::Arc;

use rampart_aws_types::AwsError;
use rampart_services::Ctx;
use rampart_services::common::records;
use rampart_store::{Expect, ReadTxn};
use serde_json::{Value, json};

use crate::errors;
use crate::model::{
    KIND_OIDC_PROVIDER, KIND_SAML_PROVIDER, OidcProviderRecord, SamlProviderRecord, Tag,
    entity_prefix, oidc_provider_key, saml_provider_key,
};
use crate::util::{Conds, epoch, input_tags, merge_tags, put_opt, required};

const MAX_THUMBPRINTS: usize = 5;
const MAX_CLIENT_IDS: usize = 100;

fn list_member(input: &Value, member: &str) -> Vec<String> {
    input
        .get(member)
        .and_then(|v| serde_json::from_value(v.clone()).ok())
        .unwrap_or_default()
}

fn check_thumbprints(t: &[String]) -> Result<Vec<String>, AwsError> {
    if t.len() > MAX_THUMBPRINTS {
        return Err(errors::limit_exceeded(format!(
            "Thumbprint list must contain fewer than {} entries.",
            MAX_THUMBPRINTS + 1
        )));
    }
    t.iter()
        .map(|x| {
            if x.len() == 40 && x.bytes().all(|b| b.is_ascii_hexdigit()) {
                Ok(x.to_ascii_lowercase())
            } else {
                Err(errors::invalid_input(format!(
                    "Thumbprint {x} is not a valid SHA-1 thumbprint."
                )))
            }
        })
        .collect()
}

/// `https://host/path` → `host/path` (IAM keeps and shows the URL without the scheme).
fn oidc_url(url: &str) -> Result<String, AwsError> {
    let rest = url
        .strip_prefix("https://")
        .filter(|r| !r.is_empty() && !r.starts_with('/') && !r.contains(['?', '#', ' ']))
        .ok_or_else(|| errors::invalid_input("Invalid URL. The URL must begin with https://"))?;
    Ok(rest.trim_end_matches('/').to_string())
}

/// The OIDC provider behind an ARN of this account.
fn oidc_from_arn(account: &str, arn: &str) -> Result<String, AwsError> {
    arn.strip_prefix(&format!("arn:aws:iam::{account}:oidc-provider/"))
        .filter(|u| !u.is_empty())
        .map(str::to_string)
        .ok_or_else(|| errors::invalid_input(format!("ARN {arn} is not valid.")))
}

fn load_oidc(
    tx: &mut (impl ReadTxn + ?Sized),
    account: &str,
    url: &str,
    arn: &str,
) -> Result<(OidcProviderRecord, u64), AwsError> {
    records::get::<OidcProviderRecord>(tx, &oidc_provider_key(account, url))?.ok_or_else(|| {
        errors::no_such_entity(format!("OpenIDConnect Provider not found for arn {arn}"))
    })
}

pub async fn create_oidc_provider(ctx: Arc<Ctx>, input: Value) -> Result<Value, AwsError> {
    let raw_url = required(&input, "Url")?.to_string();
    let account = ctx.account().to_string();
    let shown = raw_url.strip_prefix("https://").unwrap_or(&raw_url);
    let arn = format!("arn:aws:iam::{account}:oidc-provider/{shown}");
    let tags = input_tags(&input)?;
    let mut conds = Conds::new();
    conds.request_tags(&tags);
    ctx.authorize("iam:CreateOpenIDConnectProvider", &arn, &conds.refs())?;
    let url = oidc_url(&raw_url)?;
    let arn = format!("arn:aws:iam::{account}:oidc-provider/{url}");
    let tags = merge_tags(&[], &tags)?;
    let client_ids = list_member(&input, "ClientIDList");
    if client_ids.len() > MAX_CLIENT_IDS {
        return Err(errors::limit_exceeded(
            "Cannot exceed quota for ClientIdsPerOpenIdConnectProvider: 100",
        ));
    }
    let thumbprints = check_thumbprints(&list_member(&input, "ThumbprintList"))?;
    let rec = OidcProviderRecord {
        arn: arn.clone(),
        url: url.clone(),
        client_ids,
        thumbprints,
        create_date: epoch(ctx.now()),
        tags: tags.clone(),
    };
    ctx.store()
        .write(move |tx| {
            let key = oidc_provider_key(&account, &rec.url);
            if tx.get(&key)?.is_some() {
                return Err(errors::already_exists(format!(
                    "Provider with url https://{} already exists.",
                    rec.url
                )));
            }
            records::put(tx, &key, &rec, Expect::Absent)?;
            Ok(())
        })
        .await?;
    let mut out = json!({ "OpenIDConnectProviderArn": arn });
    if !tags.is_empty() {
        put_opt(&mut out, "Tags", Some(json!(tags)));
    }
    Ok(out)
}

pub async fn get_oidc_provider(ctx: Arc<Ctx>, input: Value) -> Result<Value, AwsError> {
    let arn = required(&input, "OpenIDConnectProviderArn")?.to_string();
    ctx.authorize("iam:GetOpenIDConnectProvider", &arn, &[])?;
    let account = ctx.account().to_string();
    let url = oidc_from_arn(&account, &arn)?;
    let (p, _) = ctx
        .store()
        .read(move |tx| load_oidc(tx, &account, &url, &arn))
        .await?;
    let mut out = json!({
        "Url": p.url, "ClientIDList": p.client_ids, "ThumbprintList": p.thumbprints,
        "CreateDate": p.create_date,
    });
    if !p.tags.is_empty() {
        put_opt(&mut out, "Tags", Some(json!(p.tags)));
    }
    Ok(out)
}

pub async fn list_oidc_providers(ctx: Arc<Ctx>, _input: Value) -> Result<Value, AwsError> {
    ctx.authorize("iam:ListOpenIDConnectProviders", "*", &[])?;
    let account = ctx.account().to_string();
    let list = ctx
        .store()
        .read(move |tx| {
            let mut out = Vec::new();
            for (k, r) in tx.scan_all(&entity_prefix(&account, KIND_OIDC_PROVIDER))? {
                let p: OidcProviderRecord = records::decode(&k, &r.value)?;
                out.push(json!({ "Arn": p.arn }));
            }
            Ok::<_, AwsError>(out)
        })
        .await?;
    Ok(json!({ "OpenIDConnectProviderList": list }))
}

/// Applies `change` to an OIDC provider in one transaction.
async fn modify_oidc(
    ctx: &Ctx,
    action: &str,
    input: &Value,
    change: impl Fn(&mut OidcProviderRecord) -> Result<(), AwsError> + Send + 'static,
) -> Result<(), AwsError> {
    let arn = required(input, "OpenIDConnectProviderArn")?.to_string();
    ctx.authorize(action, &arn, &[])?;
    let account = ctx.account().to_string();
    let url = oidc_from_arn(&account, &arn)?;
    ctx.store()
        .write(move |tx| {
            let (mut p, v) = load_oidc(tx.as_read(), &account, &url, &arn)?;
            change(&mut p)?;
            records::put(
                tx,
                &oidc_provider_key(&account, &url),
                &p,
                Expect::Version(v),
            )?;
            Ok(())
        })
        .await
}

pub async fn delete_oidc_provider(ctx: Arc<Ctx>, input: Value) -> Result<Value, AwsError> {
    let arn = required(&input, "OpenIDConnectProviderArn")?.to_string();
    ctx.authorize("iam:DeleteOpenIDConnectProvider", &arn, &[])?;
    let account = ctx.account().to_string();
    let url = oidc_from_arn(&account, &arn)?;
    ctx.store()
        .write(move |tx| {
            let (_, v) = load_oidc(tx.as_read(), &account, &url, &arn)?;
            tx.delete(&oidc_provider_key(&account, &url), Expect::Version(v))?;
            Ok::<_, AwsError>(())
        })
        .await?;
    Ok(json!({}))
}

pub async fn add_client_id(ctx: Arc<Ctx>, input: Value) -> Result<Value, AwsError> {
    let id = required(&input, "ClientID")?.to_string();
    modify_oidc(
        &ctx,
        "iam:AddClientIDToOpenIDConnectProvider",
        &input,
        move |p| {
            if !p.client_ids.contains(&id) {
                if p.client_ids.len() >= MAX_CLIENT_IDS {
                    return Err(errors::limit_exceeded(
                        "Cannot exceed quota for ClientIdsPerOpenIdConnectProvider: 100",
                    ));
                }
                p.client_ids.push(id.clone());
            }
            Ok(())
        },
    )
    .await?;
    Ok(json!({}))
}

pub async fn remove_client_id(ctx: Arc<Ctx>, input: Value) -> Result<Value, AwsError> {
    let id = required(&input, "ClientID")?.to_string();
    modify_oidc(
        &ctx,
        "iam:RemoveClientIDFromOpenIDConnectProvider",
        &input,
        move |p| {
            p.client_ids.retain(|c| *c != id);
            Ok(())
        },
    )
    .await?;
    Ok(json!({}))
}

pub async fn update_thumbprints(ctx: Arc<Ctx>, input: Value) -> Result<Value, AwsError> {
    let thumbprints = check_thumbprints(&list_member(&input, "ThumbprintList"))?;
    modify_oidc(
        &ctx,
        "iam:UpdateOpenIDConnectProviderThumbprint",
        &input,
        move |p| {
            p.thumbprints = thumbprints.clone();
            Ok(())
        },
    )
    .await?;
    Ok(json!({}))
}

// --- SAML ---------------------------------------------------------------------------------------

/// A SAML metadata document must at least be an `EntityDescriptor` with a signing certificate;
/// `validUntil` (ISO 8601) becomes `ValidUntil`.
fn check_metadata(doc: &str) -> Result<Option<i64>, AwsError> {
    let looks_right = doc.contains("EntityDescriptor") && doc.contains("X509Certificate");
    if !looks_right {
        return Err(errors::invalid_input(
            "Could not parse metadata: the document is not a SAML EntityDescriptor with a signing certificate.",
        ));
    }
    let valid_until = doc.split_once("validUntil=\"").and_then(|(_, rest)| {
        let value = rest.split('"').next()?;
        time::OffsetDateTime::parse(value, &time::format_description::well_known::Rfc3339)
            .ok()
            .map(|t| t.unix_timestamp())
    });
    Ok(valid_until)
}

fn saml_name_from_arn(account: &str, arn: &str) -> Result<String, AwsError> {
    arn.strip_prefix(&format!("arn:aws:iam::{account}:saml-provider/"))
        .filter(|n| !n.is_empty() && !n.contains('/'))
        .map(str::to_string)
        .ok_or_else(|| errors::invalid_input(format!("ARN {arn} is not valid.")))
}

fn load_saml(
    tx: &mut (impl ReadTxn + ?Sized),
    account: &str,
    name: &str,
    arn: &str,
) -> Result<(SamlProviderRecord, u64), AwsError> {
    records::get::<SamlProviderRecord>(tx, &saml_provider_key(account, name))?
        .ok_or_else(|| errors::no_such_entity(format!("Manifest not found for arn {arn}")))
}

pub async fn create_saml_provider(ctx: Arc<Ctx>, input: Value) -> Result<Value, AwsError> {
    let name = required(&input, "Name")?.to_string();
    let doc = required(&input, "SAMLMetadataDocument")?.to_string();
    let account = ctx.account().to_string();
    let arn = format!("arn:aws:iam::{account}:saml-provider/{name}");
    let tags = input_tags(&input)?;
    let mut conds = Conds::new();
    conds.request_tags(&tags);
    ctx.authorize("iam:CreateSAMLProvider", &arn, &conds.refs())?;
    let tags: Vec<Tag> = merge_tags(&[], &tags)?;
    let valid_until = check_metadata(&doc)?;
    let rec = SamlProviderRecord {
        arn: arn.clone(),
        name,
        metadata_document: doc,
        create_date: epoch(ctx.now()),
        valid_until,
        tags: tags.clone(),
    };
    ctx.store()
        .write(move |tx| {
            let key = saml_provider_key(&account, &rec.name);
            if tx.get(&key)?.is_some() {
                return Err(errors::already_exists(format!(
                    "SAMLProvider {} already exists.",
                    rec.name
                )));
            }
            records::put(tx, &key, &rec, Expect::Absent)?;
            Ok(())
        })
        .await?;
    let mut out = json!({ "SAMLProviderArn": arn });
    if !tags.is_empty() {
        put_opt(&mut out, "Tags", Some(json!(tags)));
    }
    Ok(out)
}

pub async fn get_saml_provider(ctx: Arc<Ctx>, input: Value) -> Result<Value, AwsError> {
    let arn = required(&input, "SAMLProviderArn")?.to_string();
    ctx.authorize("iam:GetSAMLProvider", &arn, &[])?;
    let account = ctx.account().to_string();
    let name = saml_name_from_arn(&account, &arn)?;
    let (p, _) = ctx
        .store()
        .read(move |tx| load_saml(tx, &account, &name, &arn))
        .await?;
    let mut out =
        json!({ "SAMLMetadataDocument": p.metadata_document, "CreateDate": p.create_date });
    put_opt(&mut out, "ValidUntil", p.valid_until.map(Value::from));
    if !p.tags.is_empty() {
        put_opt(&mut out, "Tags", Some(json!(p.tags)));
    }
    Ok(out)
}

pub async fn list_saml_providers(ctx: Arc<Ctx>, _input: Value) -> Result<Value, AwsError> {
    ctx.authorize("iam:ListSAMLProviders", "*", &[])?;
    let account = ctx.account().to_string();
    let list = ctx
        .store()
        .read(move |tx| {
            let mut out = Vec::new();
            for (k, r) in tx.scan_all(&entity_prefix(&account, KIND_SAML_PROVIDER))? {
                let p: SamlProviderRecord = records::decode(&k, &r.value)?;
                let mut v = json!({ "Arn": p.arn, "CreateDate": p.create_date });
                put_opt(&mut v, "ValidUntil", p.valid_until.map(Value::from));
                out.push(v);
            }
            Ok::<_, AwsError>(out)
        })
        .await?;
    Ok(json!({ "SAMLProviderList": list }))
}

pub async fn update_saml_provider(ctx: Arc<Ctx>, input: Value) -> Result<Value, AwsError> {
    let arn = required(&input, "SAMLProviderArn")?.to_string();
    ctx.authorize("iam:UpdateSAMLProvider", &arn, &[])?;
    let account = ctx.account().to_string();
    let name = saml_name_from_arn(&account, &arn)?;
    let doc = crate::util::str_member(&input, "SAMLMetadataDocument").map(str::to_string);
    let valid_until = match &doc {
        Some(d) => Some(check_metadata(d)?),
        None => None,
    };
    let a = arn.clone();
    ctx.store()
        .write(move |tx| {
            let (mut p, v) = load_saml(tx.as_read(), &account, &name, &a)?;
            if let (Some(d), Some(vu)) = (&doc, valid_until) {
                p.metadata_document = d.clone();
                p.valid_until = vu;
            }
            records::put(
                tx,
                &saml_provider_key(&account, &name),
                &p,
                Expect::Version(v),
            )?;
            Ok::<_, AwsError>(())
        })
        .await?;
    Ok(json!({ "SAMLProviderArn": arn }))
}

pub async fn delete_saml_provider(ctx: Arc<Ctx>, input: Value) -> Result<Value, AwsError> {
    let arn = required(&input, "SAMLProviderArn")?.to_string();
    ctx.authorize("iam:DeleteSAMLProvider", &arn, &[])?;
    let account = ctx.account().to_string();
    let name = saml_name_from_arn(&account, &arn)?;
    ctx.store()
        .write(move |tx| {
            let (_, v) = load_saml(tx.as_read(), &account, &name, &arn)?;
            tx.delete(&saml_provider_key(&account, &name), Expect::Version(v))?;
            Ok::<_, AwsError>(())
        })
        .await?;
    Ok(json!({}))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_and_thumbprints() {
        assert_eq!(
            oidc_url("https://token.actions.githubusercontent.com").unwrap(),
            "token.actions.githubusercontent.com"
        );
        assert_eq!(
            oidc_url("https://example.com/tenant/").unwrap(),
            "example.com/tenant"
        );
        assert_eq!(
            oidc_url("http://example.com").unwrap_err().code,
            "InvalidInput"
        );
        assert!(check_thumbprints(&["A".repeat(40)]).is_ok());
        assert_eq!(
            check_thumbprints(&["xyz".into()]).unwrap_err().code,
            "InvalidInput"
        );
        assert_eq!(
            check_thumbprints(&vec!["a".repeat(40); 6])
                .unwrap_err()
                .code,
            "LimitExceeded"
        );
    }

    #[test]
    fn metadata_is_checked_and_valid_until_read() {
        let doc = r#"<EntityDescriptor validUntil="2030-01-01T00:00:00Z"><X509Certificate>MII</X509Certificate></EntityDescriptor>"#;
        assert_eq!(check_metadata(doc).unwrap(), Some(1_893_456_000));
        assert!(check_metadata("<html/>").is_err());
    }
}
