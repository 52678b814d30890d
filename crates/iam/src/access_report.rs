//! ListPoliciesGrantingServiceAccess: which of an entity's policies (its own, and for users its
//! groups') allow any action of given services.
use std::sync::Arc;

use rampart_aws_types::AwsError;
use rampart_policy::{Effect, Policy, PolicyKind};
use rampart_services::Ctx;
use rampart_services::common::records;
use serde_json::{Value, json};

use crate::errors;
use crate::model::{
    GroupRecord, PolicySource, PrincipalRef, SourcedPolicy, group_key, load_principal_policies,
};
use crate::util::{page_vec, required, str_member, with_marker};

/// `*`/`?` wildcards, ASCII case-insensitive (IAM action matching).
fn glob(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (
        pattern.to_ascii_lowercase().chars().collect(),
        text.to_ascii_lowercase().chars().collect(),
    );
    let (mut pi, mut ti, mut star, mut mark) = (0usize, 0usize, None, 0usize);
    while ti < t.len() {
        match p.get(pi) {
            Some('*') => {
                star = Some(pi);
                mark = ti;
                pi += 1;
            }
            Some(c) if *c == '?' || Some(c) == t.get(ti) => {
                pi += 1;
                ti += 1;
            }
            _ => match star {
                Some(s) => {
                    pi = s + 1;
                    mark += 1;
                    ti = mark;
                }
                None => return false,
            },
        }
    }
    p.get(pi..)
        .is_some_and(|rest| rest.iter().all(|c| *c == '*'))
}

/// Whether an action pattern can match some action of `namespace`.
fn touches(pattern: &str, namespace: &str) -> bool {
    match pattern.split_once(':') {
        Some((service, _)) => glob(service, namespace),
        None => pattern == "*",
    }
}

/// Whether an action pattern matches every action of `namespace`.
fn covers(pattern: &str, namespace: &str) -> bool {
    match pattern.split_once(':') {
        Some((service, action)) => glob(service, namespace) && action.chars().all(|c| c == '*'),
        None => pattern == "*",
    }
}

/// Whether `document` allows some action of `namespace`.
pub fn grants(document: &str, namespace: &str) -> bool {
    let Ok(policy) = Policy::parse(document, PolicyKind::AwsManaged) else {
        return false;
    };
    policy.statements().iter().any(|s| {
        s.effect == Effect::Allow
            && if s.action.negated {
                !s.action.values.iter().any(|v| covers(v, namespace))
            } else {
                s.action.values.iter().any(|v| touches(v, namespace))
            }
    })
}

fn describe(p: &SourcedPolicy, own_type: &str, own_name: &str) -> Value {
    match &p.source {
        PolicySource::Inline { name } => json!({"PolicyName": name, "PolicyType": "INLINE",
            "EntityType": own_type, "EntityName": own_name}),
        PolicySource::GroupInline { group, name } => {
            json!({"PolicyName": name, "PolicyType": "INLINE",
            "EntityType": "GROUP", "EntityName": group})
        }
        PolicySource::Managed { arn, .. } | PolicySource::GroupManaged { arn, .. } => json!({
            "PolicyName": arn.rsplit('/').next().unwrap_or(""), "PolicyType": "MANAGED", "PolicyArn": arn}),
    }
}

pub async fn list_policies_granting_service_access(
    ctx: Arc<Ctx>,
    input: Value,
) -> Result<Value, AwsError> {
    let arn = required(&input, "Arn")?.to_string();
    ctx.authorize("iam:ListPoliciesGrantingServiceAccess", &arn, &[])?;
    let namespaces: Vec<String> = input
        .get("ServiceNamespaces")
        .and_then(|v| serde_json::from_value(v.clone()).ok())
        .unwrap_or_default();
    let account = ctx.account().to_string();
    let rest = arn
        .strip_prefix(&format!("arn:aws:iam::{account}:"))
        .ok_or_else(|| errors::invalid_input(format!("ARN {arn} is not valid.")))?;
    let (kind, path_name) = rest
        .split_once('/')
        .ok_or_else(|| errors::invalid_input(format!("ARN {arn} is not valid.")))?;
    let name = path_name.rsplit('/').next().unwrap_or("").to_string();
    let own_name = name.clone();
    let kind = kind.to_string();
    let arn_for_errors = arn.clone();
    let (policies, own_type) = ctx
        .store()
        .read_offloaded(move |tx| {
            Ok::<_, AwsError>(match kind.as_str() {
                "user" => (
                    load_principal_policies(tx, &account, PrincipalRef::User(&name))?.identity,
                    "USER",
                ),
                "role" => (
                    load_principal_policies(tx, &account, PrincipalRef::Role(&name))?.identity,
                    "ROLE",
                ),
                "group" => {
                    let (g, _) = records::get::<GroupRecord>(tx, &group_key(&account, &name))?
                        .ok_or_else(|| errors::no_such_group(&name))?;
                    let mut out: Vec<SourcedPolicy> = g
                        .inline_policies
                        .iter()
                        .map(|(n, d)| SourcedPolicy {
                            source: PolicySource::Inline { name: n.clone() },
                            document: d.clone(),
                        })
                        .collect();
                    for a in &g.attached_policies {
                        if let Some((version_id, document, _)) =
                            crate::model::managed_default(tx, &account, a)?
                        {
                            out.push(SourcedPolicy {
                                source: PolicySource::Managed {
                                    arn: a.clone(),
                                    version_id,
                                },
                                document,
                            });
                        }
                    }
                    (out, "GROUP")
                }
                _ => {
                    return Err(errors::invalid_input(format!(
                        "ARN {arn_for_errors} is not a user, group or role."
                    )));
                }
            })
        })
        .await?;
    let own_name = own_name.as_str();
    let items: Vec<Value> = namespaces
        .iter()
        .map(|ns| {
            let found: Vec<Value> = policies
                .iter()
                .filter(|p| grants(&p.document, ns))
                .map(|p| describe(p, own_type, own_name))
                .collect();
            json!({"ServiceNamespace": ns, "Policies": found})
        })
        .collect();
    let (page, next) = page_vec(items, str_member(&input, "Marker"), 200)?;
    Ok(with_marker(
        json!({ "PoliciesGrantingServiceAccess": page }),
        next,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_grants() {
        let admin = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;
        let power = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","NotAction":["iam:*"],"Resource":"*"}]}"#;
        let s3 = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["S3:Get*"],"Resource":"*"}]}"#;
        let deny = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"s3:*","Resource":"*"}]}"#;
        assert!(grants(admin, "iam"));
        assert!(grants(power, "s3") && !grants(power, "iam"));
        assert!(grants(s3, "s3") && !grants(s3, "kms"));
        assert!(!grants(deny, "s3"));
        assert!(glob("k?s", "kms") && glob("*", "") && !glob("a*b", "ac"));
    }
}
