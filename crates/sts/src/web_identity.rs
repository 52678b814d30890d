//! `sts:AssumeRoleWithWebIdentity`: an unsigned request carrying an OpenID Connect token. The
//! token is verified against the issuer's keys (fetched over TLS, see `oidc_keys`), its issuer
//! must be an IAM OIDC provider of the role's account, its audience one of the provider's client
//! ids; then the role's trust policy decides for the `Federated` principal with the token's
//! claims as condition keys (`<provider>:aud`, `<provider>:sub`, ...).
use std::collections::HashSet;
use std::sync::Arc;

use jsonwebtoken::{DecodingKey, Validation};
use rampart_aws_types::AwsError;
use rampart_iam::model::{OidcProviderRecord, RoleRecord, oidc_provider_key, role_key};
use rampart_services::common::records;
use rampart_services::{
    Ctx, HandlerFuture, Principal, PrincipalKind, ResourcePolicy, ResourcePolicyKind,
};
use serde_json::Value;

use crate::assume_role::{issue_role_session, parse_role_arn};
use crate::oidc_keys::{self, FetchError};

/// Clock skew tolerated on `exp`/`nbf`/`iat`.
const LEEWAY_SECS: i64 = 300;
/// Web identity tokens longer than this are refused before any work.
const MAX_TOKEN_LEN: usize = 20_000;

fn invalid(message: impl Into<String>) -> AwsError {
    AwsError::new("InvalidIdentityToken", 400, message)
}

fn str_member<'a>(input: &'a Value, name: &str) -> Option<&'a str> {
    input.get(name).and_then(Value::as_str)
}

/// Audience: `aud` (string or list) or, as AWS accepts, `azp`.
fn audiences(claims: &Value) -> Vec<String> {
    let mut out: Vec<String> = match claims.get("aud") {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect(),
        _ => Vec::new(),
    };
    if let Some(azp) = claims.get("azp").and_then(Value::as_str) {
        out.push(azp.to_string());
    }
    out
}

pub fn assume_role_with_web_identity(ctx: Arc<Ctx>, input: Value) -> HandlerFuture {
    Box::pin(async move {
        let role_arn = str_member(&input, "RoleArn").unwrap_or("").to_string();
        let session_name = str_member(&input, "RoleSessionName")
            .unwrap_or("")
            .to_string();
        let token = str_member(&input, "WebIdentityToken")
            .unwrap_or("")
            .to_string();
        let Some(target) = parse_role_arn(&role_arn) else {
            ctx.mark_unauthenticated();
            return Err(AwsError::validation(format!("{role_arn} is invalid")));
        };
        if token.len() > MAX_TOKEN_LEN {
            ctx.mark_unauthenticated();
            return Err(invalid("The web identity token is too long."));
        }
        let header = jsonwebtoken::decode_header(&token).map_err(|_| {
            ctx.mark_unauthenticated();
            invalid("Couldn't parse the web identity token.")
        })?;
        // Read the issuer before verifying, only to know which keys verify the token.
        let unverified: Value = token
            .split('.')
            .nth(1)
            .and_then(|p| {
                base64::Engine::decode(
                    &base64::engine::general_purpose::URL_SAFE_NO_PAD,
                    p.trim_end_matches('='),
                )
                .ok()
            })
            .and_then(|b| serde_json::from_slice(&b).ok())
            .ok_or_else(|| {
                ctx.mark_unauthenticated();
                invalid("Couldn't parse the web identity token.")
            })?;
        let issuer = unverified
            .get("iss")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        let host = issuer
            .strip_prefix("https://")
            .unwrap_or(&issuer)
            .trim_end_matches('/')
            .to_string();
        let provider_key = oidc_provider_key(&target.account, &host);
        let role_key = role_key(&target.account, &target.name);
        let (provider, role) = ctx
            .store()
            .read(move |tx| {
                let p = records::get::<OidcProviderRecord>(tx, &provider_key)?.map(|(r, _)| r);
                let r = records::get::<RoleRecord>(tx, &role_key)?.map(|(r, _)| r);
                Ok::<_, AwsError>((p, r))
            })
            .await?;
        let Some(provider) = provider else {
            ctx.mark_unauthenticated();
            return Err(invalid(format!(
                "No OpenIDConnect provider found in your account for {issuer}"
            )));
        };
        let keys = oidc_keys::keys(&issuer, &provider.thumbprints, header.kid.as_deref()).await.map_err(|FetchError::Communication(m)| {
            ctx.mark_unauthenticated();
            tracing::info!(issuer = %issuer, error = %m, "cannot fetch the provider's keys");
            AwsError::new("IDPCommunicationError", 400, "Couldn't retrieve verification key from your identity provider, please reference AssumeRoleWithWebIdentity documentation for requirements")
        })?;
        let jwk = match &header.kid {
            Some(kid) => keys.find(kid),
            None => keys.keys.first(),
        }
        .ok_or_else(|| {
            ctx.mark_unauthenticated();
            invalid("Couldn't find the key the web identity token was signed with.")
        })?;
        let key = DecodingKey::from_jwk(jwk).map_err(|_| {
            ctx.mark_unauthenticated();
            invalid("The identity provider's key cannot be used.")
        })?;
        let mut validation = Validation::new(header.alg);
        // Time and audience are checked below against the request time and the provider.
        validation.validate_exp = false;
        validation.validate_nbf = false;
        validation.validate_aud = false;
        validation.required_spec_claims = HashSet::new();
        let claims: Value = jsonwebtoken::decode::<Value>(&token, &key, &validation)
            .map_err(|_| {
                ctx.mark_unauthenticated();
                invalid("The web identity token's signature is not valid.")
            })?
            .claims;
        let now = ctx.now().unix_timestamp();
        let exp = claims.get("exp").and_then(Value::as_i64).unwrap_or(0);
        if now > exp + LEEWAY_SECS {
            ctx.mark_unauthenticated();
            return Err(AwsError::new(
                "ExpiredTokenException",
                400,
                "Token expired: current date/time must be before the expiration date/time.",
            ));
        }
        if claims
            .get("nbf")
            .and_then(Value::as_i64)
            .is_some_and(|nbf| now + LEEWAY_SECS < nbf)
        {
            ctx.mark_unauthenticated();
            return Err(invalid("The web identity token is not valid yet."));
        }
        let auds = audiences(&claims);
        let Some(audience) = auds
            .iter()
            .find(|a| provider.client_ids.contains(a))
            .cloned()
        else {
            ctx.mark_unauthenticated();
            return Err(invalid("Incorrect token audience"));
        };
        let subject = claims
            .get("sub")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();

        // The trust policy decides for the federated principal, with the token's claims.
        let web = Principal {
            kind: PrincipalKind::WebIdentity {
                provider: provider.arn.clone(),
            },
            account: target.account.clone(),
            arn: provider.arn.clone(),
            user_id: subject.clone(),
            access_key_id: String::new(),
            session: None,
        };
        let aud_key = format!("{host}:aud");
        let sub_key = format!("{host}:sub");
        let amr_key = format!("{host}:amr");
        let amr: Vec<String> = claims
            .get("amr")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        let mut conditions: Vec<(&str, &str)> = vec![
            (aud_key.as_str(), audience.as_str()),
            (sub_key.as_str(), subject.as_str()),
            ("sts:RoleSessionName", session_name.as_str()),
        ];
        for a in &amr {
            conditions.push((amr_key.as_str(), a.as_str()));
        }
        let Some(role) = role else {
            ctx.authorize_as(
                &web,
                "sts:AssumeRoleWithWebIdentity",
                &role_arn,
                &target.account,
                &conditions,
                None,
            )?;
            return Err(AwsError::access_denied(
                "Not authorized to perform sts:AssumeRoleWithWebIdentity",
            ));
        };
        let trust = ResourcePolicy {
            document: &role.assume_role_policy_document,
            kind: ResourcePolicyKind::TrustPolicy,
        };
        ctx.authorize_as(
            &web,
            "sts:AssumeRoleWithWebIdentity",
            &role.arn,
            &target.account,
            &conditions,
            Some(trust),
        )
        .map_err(|_| {
            AwsError::access_denied("Not authorized to perform sts:AssumeRoleWithWebIdentity")
        })?;
        let mut out = issue_role_session(
            &ctx,
            &role,
            &target.account,
            &session_name,
            &input,
            Vec::new(),
            Vec::new(),
            None,
            None,
        )?;
        if let Some(map) = out.as_object_mut() {
            map.insert("SubjectFromWebIdentityToken".into(), Value::String(subject));
            map.insert("Audience".into(), Value::String(audience));
            map.insert("Provider".into(), Value::String(provider.arn.clone()));
        }
        Ok(out)
    })
}
