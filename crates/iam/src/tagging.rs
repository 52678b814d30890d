//! Tagging of the IAM resources that are not users or roles: managed policies, instance
//! profiles, virtual MFA devices, OIDC and SAML providers (Tag*/Untag*/List*Tags). Their records
//! all keep tags in a `tags` member, so one implementation serves all.
use std::sync::Arc;

use rampart_aws_types::AwsError;
use rampart_services::Ctx;
use rampart_services::common::records;
use rampart_store::Expect;
use serde_json::{Map, Value, json};

use crate::errors;
use crate::model::{
    Tag, customer_policy_name, instance_profile_key, mfa_key, oidc_provider_key, policy_key,
    saml_provider_key,
};
use crate::util::{
    Conds, input_tags, max_items, merge_tags, page_vec, remove_tags, required, str_member,
    with_marker,
};

#[derive(Debug, Clone, Copy)]
pub enum Taggable {
    Policy,
    InstanceProfile,
    MfaDevice,
    OidcProvider,
    SamlProvider,
    ServerCertificate,
}

impl Taggable {
    /// The input member naming the resource, and the noun in the action name.
    fn member_and_noun(self) -> (&'static str, &'static str) {
        match self {
            Taggable::Policy => ("PolicyArn", "Policy"),
            Taggable::InstanceProfile => ("InstanceProfileName", "InstanceProfile"),
            Taggable::MfaDevice => ("SerialNumber", "MFADevice"),
            Taggable::OidcProvider => ("OpenIDConnectProviderArn", "OpenIDConnectProvider"),
            Taggable::SamlProvider => ("SAMLProviderArn", "SAMLProvider"),
            Taggable::ServerCertificate => ("ServerCertificateName", "ServerCertificate"),
        }
    }

    /// (store key, resource ARN) of the resource the input names.
    fn locate(self, account: &str, id: &str) -> Result<(String, String), AwsError> {
        let bad = || errors::invalid_input(format!("ARN {id} is not valid."));
        Ok(match self {
            Taggable::Policy => {
                let name = customer_policy_name(account, id).ok_or_else(bad)?;
                (policy_key(account, name), id.to_string())
            }
            Taggable::InstanceProfile => (
                instance_profile_key(account, id),
                format!("arn:aws:iam::{account}:instance-profile/{id}"),
            ),
            Taggable::MfaDevice => (mfa_key(account, id), id.to_string()),
            Taggable::OidcProvider => {
                let url = id
                    .strip_prefix(&format!("arn:aws:iam::{account}:oidc-provider/"))
                    .ok_or_else(bad)?;
                (oidc_provider_key(account, url), id.to_string())
            }
            Taggable::SamlProvider => {
                let name = id
                    .strip_prefix(&format!("arn:aws:iam::{account}:saml-provider/"))
                    .ok_or_else(bad)?;
                (saml_provider_key(account, name), id.to_string())
            }
            Taggable::ServerCertificate => (
                crate::server_certificates::server_certificate_key(account, id),
                format!("arn:aws:iam::{account}:server-certificate/{id}"),
            ),
        })
    }

    fn missing(self, id: &str) -> AwsError {
        match self {
            Taggable::Policy => errors::no_such_policy(id),
            Taggable::InstanceProfile => errors::no_such_instance_profile(id),
            _ => errors::no_such_entity(format!("The resource {id} cannot be found.")),
        }
    }
}

type Raw = Map<String, Value>;

fn tags_of(raw: &Raw) -> Vec<Tag> {
    raw.get("tags")
        .and_then(|v| serde_json::from_value(v.clone()).ok())
        .unwrap_or_default()
}

/// Resolves the resource, authorizes `action` with its tags, and returns (key, current tags).
async fn authorize(
    ctx: &Ctx,
    kind: Taggable,
    verb: &str,
    input: &Value,
    extra: &Conds,
) -> Result<String, AwsError> {
    let (member, noun) = kind.member_and_noun();
    let id = required(input, member)?.to_string();
    let account = ctx.account().to_string();
    let (key, arn) = kind.locate(&account, &id)?;
    let k = key.clone();
    let found = ctx
        .store()
        .read(move |tx| Ok::<_, AwsError>(records::get::<Raw>(tx, &k)?.map(|(r, _)| r)))
        .await?;
    let mut conds = extra.clone();
    let mut arn = arn;
    if let Some(raw) = &found {
        conds.resource_tags(&tags_of(raw));
        // The stored ARN carries the resource's path.
        if let Some(a) = raw.get("arn").and_then(Value::as_str) {
            arn = a.to_string();
        }
    }
    ctx.authorize(
        &format!(
            "iam:{verb}{noun}{}",
            if verb == "List" { "Tags" } else { "" }
        ),
        &arn,
        &conds.refs(),
    )?;
    if found.is_none() {
        return Err(kind.missing(&id));
    }
    Ok(key)
}

async fn update(
    ctx: &Ctx,
    key: String,
    kind: Taggable,
    change: impl Fn(&[Tag]) -> Result<Vec<Tag>, AwsError> + Send + 'static,
) -> Result<(), AwsError> {
    ctx.store()
        .write(move |tx| {
            let (mut raw, v) =
                records::get::<Raw>(tx.as_read(), &key)?.ok_or_else(|| kind.missing(&key))?;
            let tags = change(&tags_of(&raw))?;
            raw.insert("tags".into(), json!(tags));
            records::put(tx, &key, &raw, Expect::Version(v))?;
            Ok(())
        })
        .await
}

pub async fn tag(ctx: Arc<Ctx>, input: Value, kind: Taggable) -> Result<Value, AwsError> {
    let tags = input_tags(&input)?;
    let mut conds = Conds::new();
    conds.request_tags(&tags);
    let key = authorize(&ctx, kind, "Tag", &input, &conds).await?;
    update(&ctx, key, kind, move |old| merge_tags(old, &tags)).await?;
    Ok(json!({}))
}

pub async fn untag(ctx: Arc<Ctx>, input: Value, kind: Taggable) -> Result<Value, AwsError> {
    let keys: Vec<String> = input
        .get("TagKeys")
        .and_then(|v| serde_json::from_value(v.clone()).ok())
        .unwrap_or_default();
    let mut conds = Conds::new();
    conds.tag_keys(&keys);
    let key = authorize(&ctx, kind, "Untag", &input, &conds).await?;
    update(&ctx, key, kind, move |old| Ok(remove_tags(old, &keys))).await?;
    Ok(json!({}))
}

pub async fn list(ctx: Arc<Ctx>, input: Value, kind: Taggable) -> Result<Value, AwsError> {
    let key = authorize(&ctx, kind, "List", &input, &Conds::new()).await?;
    let k = key.clone();
    let raw = ctx
        .store()
        .read(move |tx| Ok::<_, AwsError>(records::get::<Raw>(tx, &k)?.map(|(r, _)| r)))
        .await?
        .ok_or_else(|| kind.missing(&key))?;
    let (page, next) = page_vec(
        tags_of(&raw),
        str_member(&input, "Marker"),
        max_items(&input),
    )?;
    Ok(with_marker(json!({ "Tags": page }), next))
}

macro_rules! per_kind {
    ($($fname:ident = $f:ident, $k:ident;)*) => {
        $(pub async fn $fname(ctx: Arc<Ctx>, input: Value) -> Result<Value, AwsError> {
            $f(ctx, input, Taggable::$k).await
        })*
    };
}

per_kind! {
    tag_policy = tag, Policy;
    untag_policy = untag, Policy;
    list_policy_tags = list, Policy;
    tag_instance_profile = tag, InstanceProfile;
    untag_instance_profile = untag, InstanceProfile;
    list_instance_profile_tags = list, InstanceProfile;
    tag_mfa_device = tag, MfaDevice;
    untag_mfa_device = untag, MfaDevice;
    list_mfa_device_tags = list, MfaDevice;
    tag_oidc_provider = tag, OidcProvider;
    untag_oidc_provider = untag, OidcProvider;
    list_oidc_provider_tags = list, OidcProvider;
    tag_saml_provider = tag, SamlProvider;
    untag_saml_provider = untag, SamlProvider;
    list_saml_provider_tags = list, SamlProvider;
    tag_server_certificate = tag, ServerCertificate;
    untag_server_certificate = untag, ServerCertificate;
    list_server_certificate_tags = list, ServerCertificate;
}
