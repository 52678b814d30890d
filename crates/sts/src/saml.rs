//! `sts:AssumeRoleWithSAML`: an unsigned request carrying a base64 SAML 2.0 `samlp:Response`.
//! The response is verified against the signing certificates in the IAM SAML provider's
//! metadata (`saml::response`), its `https://aws.amazon.com/SAML/Attributes/Role` attribute must
//! pair the requested role with the provider, then the role's trust policy decides for the
//! `Federated` provider principal with the assertion's `saml:*` condition keys.
mod c14n;
mod cert;
mod dom;
mod dsig;
mod metadata;
mod response;

use std::sync::Arc;

use rampart_aws_types::AwsError;
use rampart_iam::model::{RoleRecord, SamlProviderRecord, role_key, saml_provider_key};
use rampart_services::common::records;
use rampart_services::{
    Ctx, HandlerFuture, Principal, PrincipalKind, ResourcePolicy, ResourcePolicyKind,
};
use serde_json::Value;

use crate::assume_role::{issue_role_session, parse_role_arn};
use response::{Claims, Rejection};

const ROLE_ATTRIBUTE: &str = "https://aws.amazon.com/SAML/Attributes/Role";
const SESSION_NAME_ATTRIBUTE: &str = "https://aws.amazon.com/SAML/Attributes/RoleSessionName";
const SOURCE_IDENTITY_ATTRIBUTE: &str = "https://aws.amazon.com/SAML/Attributes/SourceIdentity";
const PRINCIPAL_TAG_PREFIX: &str = "https://aws.amazon.com/SAML/Attributes/PrincipalTag:";
const TRANSITIVE_TAGS_ATTRIBUTE: &str = "https://aws.amazon.com/SAML/Attributes/TransitiveTagKeys";
const DEFAULT_DURATION: i64 = 3_600;
const MIN_DURATION: i64 = 900;

/// SAML attributes AWS exposes as trust-policy condition keys (by OID name or friendly name).
const ATTRIBUTE_KEYS: &[(&str, &str)] = &[
    (
        "urn:oid:1.3.6.1.4.1.5923.1.1.1.1",
        "saml:edupersonaffiliation",
    ),
    ("urn:oid:1.3.6.1.4.1.5923.1.1.1.2", "saml:edupersonnickname"),
    ("urn:oid:1.3.6.1.4.1.5923.1.1.1.3", "saml:edupersonorgdn"),
    (
        "urn:oid:1.3.6.1.4.1.5923.1.1.1.4",
        "saml:edupersonorgunitdn",
    ),
    (
        "urn:oid:1.3.6.1.4.1.5923.1.1.1.5",
        "saml:edupersonprimaryaffiliation",
    ),
    (
        "urn:oid:1.3.6.1.4.1.5923.1.1.1.6",
        "saml:edupersonprincipalname",
    ),
    (
        "urn:oid:1.3.6.1.4.1.5923.1.1.1.7",
        "saml:edupersonentitlement",
    ),
    (
        "urn:oid:1.3.6.1.4.1.5923.1.1.1.8",
        "saml:edupersonprimaryorgunitdn",
    ),
    (
        "urn:oid:1.3.6.1.4.1.5923.1.1.1.9",
        "saml:edupersonscopedaffiliation",
    ),
    (
        "urn:oid:1.3.6.1.4.1.5923.1.1.1.10",
        "saml:edupersontargetedid",
    ),
    (
        "urn:oid:1.3.6.1.4.1.5923.1.1.1.11",
        "saml:edupersonassurance",
    ),
    ("urn:oid:1.3.6.1.4.1.5923.1.2.1.2", "saml:eduorghomepageuri"),
    (
        "urn:oid:1.3.6.1.4.1.5923.1.2.1.3",
        "saml:eduorgidentityauthnpolicyuri",
    ),
    ("urn:oid:1.3.6.1.4.1.5923.1.2.1.4", "saml:eduorglegalname"),
    ("urn:oid:1.3.6.1.4.1.5923.1.2.1.5", "saml:eduorgsuperioruri"),
    (
        "urn:oid:1.3.6.1.4.1.5923.1.2.1.6",
        "saml:eduorgwhitepagesuri",
    ),
    ("urn:oid:2.5.4.3", "saml:cn"),
    ("urn:oid:2.5.4.42", "saml:givenName"),
    ("urn:oid:2.5.4.4", "saml:surname"),
    ("urn:oid:0.9.2342.19200300.100.1.3", "saml:mail"),
    ("urn:oid:0.9.2342.19200300.100.1.1", "saml:uid"),
    ("urn:oid:2.5.4.41", "saml:name"),
    ("urn:oid:2.5.4.45", "saml:x500UniqueIdentifier"),
];

fn invalid(message: impl Into<String>) -> AwsError {
    AwsError::new("InvalidIdentityToken", 400, message)
}

fn str_member<'a>(input: &'a Value, name: &str) -> Option<&'a str> {
    input.get(name).and_then(Value::as_str)
}

fn not_authorized() -> AwsError {
    AwsError::access_denied("Not authorized to perform sts:AssumeRoleWithSAML")
}

/// `arn:aws:iam::ACCOUNT:saml-provider/NAME` → (account, name).
fn parse_provider_arn(arn: &str) -> Option<(String, String)> {
    let rest = arn.strip_prefix("arn:aws:iam::")?;
    let (account, name) = rest.split_once(":saml-provider/")?;
    (rampart_aws_types::is_account_id(account) && !name.is_empty() && !name.contains('/'))
        .then(|| (account.to_string(), name.to_string()))
}

/// Whether the Role attribute holds the pair `role,provider` (either order) for this request.
fn role_pair_present(claims: &Claims, role_arn: &str, provider_arn: &str) -> bool {
    claims.attribute(ROLE_ATTRIBUTE).is_some_and(|values| {
        values.iter().any(|v| {
            let parts: Vec<&str> = v.split(',').map(str::trim).collect();
            matches!(parts.as_slice(), [a, b] if (*a == role_arn && *b == provider_arn) || (*a == provider_arn && *b == role_arn))
        })
    })
}

/// AWS's session name rules: 2–64 characters of `[\w+=,.@-]`.
fn valid_session_name(name: &str) -> bool {
    (2..=64).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_+=,.@-".contains(c))
}

/// `saml:namequalifier`: BASE64(SHA1(issuer + account + "/" + provider name)), as AWS.
fn name_qualifier(issuer: &str, account: &str, provider_name: &str) -> String {
    let d = aws_lc_rs::digest::digest(
        &aws_lc_rs::digest::SHA1_FOR_LEGACY_USE_ONLY,
        format!("{issuer}{account}/{provider_name}").as_bytes(),
    );
    base64::Engine::encode(&base64::engine::general_purpose::STANDARD, d.as_ref())
}

fn reject(r: Rejection) -> AwsError {
    match r {
        Rejection::Invalid(m) => invalid(m),
        Rejection::Expired(m) => AwsError::new("ExpiredTokenException", 400, m),
    }
}

pub fn assume_role_with_saml(ctx: Arc<Ctx>, input: Value) -> HandlerFuture {
    Box::pin(async move {
        let role_arn = str_member(&input, "RoleArn").unwrap_or("").to_string();
        let provider_arn = str_member(&input, "PrincipalArn").unwrap_or("").to_string();
        let encoded = str_member(&input, "SAMLAssertion").unwrap_or("");
        let Some(target) = parse_role_arn(&role_arn) else {
            ctx.mark_unauthenticated();
            return Err(AwsError::validation(format!("{role_arn} is invalid")));
        };
        let Some((provider_account, provider_name)) = parse_provider_arn(&provider_arn) else {
            ctx.mark_unauthenticated();
            return Err(AwsError::validation(format!("{provider_arn} is invalid")));
        };
        if let Some(policy) = str_member(&input, "Policy")
            && let Err(e) =
                rampart_policy::Policy::parse(policy, rampart_policy::PolicyKind::Session)
        {
            ctx.mark_unauthenticated();
            return Err(match e {
                rampart_policy::PolicyError::Malformed(m) => {
                    AwsError::new("MalformedPolicyDocument", 400, m)
                }
                rampart_policy::PolicyError::LimitExceeded(_) => AwsError::new(
                    "PackedPolicyTooLarge",
                    400,
                    "Packed policy consumes more than 100 percent of the allotted size.",
                ),
            });
        }
        let compact: String = encoded.chars().filter(|c| !c.is_whitespace()).collect();
        let xml = base64::Engine::decode(&base64::engine::general_purpose::STANDARD, compact)
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .ok_or_else(|| {
                ctx.mark_unauthenticated();
                invalid("Invalid base64 SAMLResponse (check that you have URL-decoded it)")
            })?;

        let provider_key = saml_provider_key(&provider_account, &provider_name);
        let role_key = role_key(&target.account, &target.name);
        let (provider, role) = ctx
            .store()
            .read(move |tx| {
                let p = records::get::<SamlProviderRecord>(tx, &provider_key)?.map(|(r, _)| r);
                let r = records::get::<RoleRecord>(tx, &role_key)?.map(|(r, _)| r);
                Ok::<_, AwsError>((p, r))
            })
            .await?;
        let Some(provider) = provider else {
            ctx.mark_unauthenticated();
            return Err(invalid("Specified provider doesn't exist"));
        };
        let now = ctx.now().unix_timestamp();
        if provider.valid_until.is_some_and(|until| now >= until) {
            // The metadata's validUntil has passed: the provider no longer vouches for anyone.
            ctx.mark_unauthenticated();
            return Err(invalid(
                "Invalid SAML response: the SAML provider's metadata has expired (ValidUntil).",
            ));
        }
        let Some(idp) = metadata::parse(&provider.metadata_document) else {
            ctx.mark_unauthenticated();
            return Err(invalid(
                "Invalid SAML response: the provider's metadata cannot be read.",
            ));
        };
        let claims = response::verify_response(&xml, &idp, now).map_err(|r| {
            ctx.mark_unauthenticated();
            reject(r)
        })?;

        if !role_pair_present(&claims, &role_arn, &provider.arn) {
            ctx.mark_unauthenticated();
            return Err(not_authorized());
        }
        let session_name = match claims.attribute(SESSION_NAME_ATTRIBUTE) {
            Some([name]) if valid_session_name(name) => name.clone(),
            Some([_]) => {
                ctx.mark_unauthenticated();
                return Err(invalid(
                    "RoleSessionName in AuthnResponse must satisfy regular expression pattern: [\\w+=,.@-]{2,64}",
                ));
            }
            _ => {
                ctx.mark_unauthenticated();
                return Err(invalid("RoleSessionName is required in AuthnResponse"));
            }
        };
        let source_identity = claims
            .attribute(SOURCE_IDENTITY_ATTRIBUTE)
            .and_then(|v| v.first().cloned());
        let tags: Vec<(String, String)> = claims
            .attributes
            .iter()
            .filter_map(|(n, v)| {
                Some((
                    n.strip_prefix(PRINCIPAL_TAG_PREFIX)?.to_string(),
                    v.first()?.clone(),
                ))
            })
            .collect();
        let transitive: Vec<String> = claims
            .attribute(TRANSITIVE_TAGS_ATTRIBUTE)
            .map(<[String]>::to_vec)
            .unwrap_or_default();

        // The trust policy decides for the provider, with the assertion's claims.
        let qualifier = name_qualifier(&claims.issuer, &provider_account, &provider_name);
        let doc_key = format!("{provider_account}/{provider_name}");
        let federated = Principal {
            kind: PrincipalKind::WebIdentity {
                provider: provider.arn.clone(),
            },
            account: target.account.clone(),
            arn: provider.arn.clone(),
            user_id: claims.subject.clone(),
            access_key_id: String::new(),
            session: None,
        };
        let tag_keys: Vec<String> = tags
            .iter()
            .map(|(k, _)| format!("aws:RequestTag/{k}"))
            .collect();
        let mut conditions: Vec<(&str, &str)> = vec![
            ("saml:aud", claims.recipient.as_str()),
            ("saml:sub", claims.subject.as_str()),
            ("saml:sub_type", claims.subject_type.as_str()),
            ("saml:iss", claims.issuer.as_str()),
            ("saml:namequalifier", qualifier.as_str()),
            ("saml:doc", doc_key.as_str()),
        ];
        for (oid, key) in ATTRIBUTE_KEYS {
            for v in claims.attribute(oid).unwrap_or(&[]) {
                conditions.push((key, v.as_str()));
            }
        }
        for ((k, v), rk) in tags.iter().zip(&tag_keys) {
            conditions.push((rk.as_str(), v.as_str()));
            conditions.push(("aws:TagKeys", k.as_str()));
        }
        for k in &transitive {
            conditions.push(("sts:TransitiveTagKeys", k.as_str()));
        }
        if let Some(s) = &source_identity {
            conditions.push(("sts:SourceIdentity", s.as_str()));
        }
        let Some(role) = role else {
            ctx.authorize_as(
                &federated,
                "sts:AssumeRoleWithSAML",
                &role_arn,
                &target.account,
                &conditions,
                None,
            )
            .map_err(|_| not_authorized())?;
            return Err(not_authorized());
        };
        let trust = ResourcePolicy {
            document: &role.assume_role_policy_document,
            kind: ResourcePolicyKind::TrustPolicy,
        };
        let mut actions = vec!["sts:AssumeRoleWithSAML"];
        if !tags.is_empty() || !transitive.is_empty() {
            actions.push("sts:TagSession");
        }
        if source_identity.is_some() {
            actions.push("sts:SetSourceIdentity");
        }
        for action in actions {
            ctx.authorize_as(
                &federated,
                action,
                &role.arn,
                &target.account,
                &conditions,
                Some(trust),
            )
            .map_err(|_| not_authorized())?;
        }

        // The session ends no later than the IdP's SessionNotOnOrAfter.
        let requested = input
            .get("DurationSeconds")
            .and_then(Value::as_i64)
            .unwrap_or(DEFAULT_DURATION);
        let duration = match claims.session_not_on_or_after {
            // A request above the role's maximum still fails, as AWS, whatever the cap.
            Some(end) if end - now < requested && requested <= role.max_session_duration => {
                if end - now < MIN_DURATION {
                    return Err(invalid(
                        "Invalid SAML response: SessionNotOnOrAfter leaves less than the minimum session duration of 900 seconds.",
                    ));
                }
                end - now
            }
            _ => requested,
        };
        let mut session_input = input.clone();
        if let Some(map) = session_input.as_object_mut() {
            map.insert("DurationSeconds".into(), Value::from(duration));
        }
        let mut out = issue_role_session(
            &ctx,
            &role,
            &target.account,
            &session_name,
            &session_input,
            tags,
            transitive,
            None,
            source_identity,
        )?;
        if let Some(map) = out.as_object_mut() {
            map.insert("Subject".into(), Value::String(claims.subject));
            map.insert("SubjectType".into(), Value::String(claims.subject_type));
            map.insert("Issuer".into(), Value::String(claims.issuer));
            map.insert("Audience".into(), Value::String(claims.recipient));
            map.insert("NameQualifier".into(), Value::String(qualifier));
        }
        Ok(out)
    })
}
