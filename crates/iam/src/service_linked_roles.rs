//! Service-linked roles: CreateServiceLinkedRole, DeleteServiceLinkedRole,
//! GetServiceLinkedRoleDeletionStatus. They are roles at `/aws-service-role/SERVICE/` that only
//! the service may assume; ordinary role operations refuse to change them (UnmodifiableEntity).
use std::sync::Arc;

use rampart_aws_types::{AwsError, ids};
use rampart_services::Ctx;
use rampart_services::common::records;
use rampart_store::Expect;
use serde_json::{Value, json};

use crate::errors;
use crate::model::{RoleRecord, entity_arn, role_key};
use crate::roles;
use crate::util::{epoch, required, str_member};

pub const SERVICE_ROLE_PATH_PREFIX: &str = "/aws-service-role/";

/// Role names AWS gives the service-linked roles of well-known services.
const KNOWN: &[(&str, &str)] = &[
    ("access-analyzer", "AccessAnalyzer"),
    ("autoscaling", "AutoScaling"),
    ("cloudtrail", "CloudTrail"),
    ("config", "Config"),
    ("ds", "DirectoryServices"),
    ("ecs", "ECS"),
    ("elasticloadbalancing", "ElasticLoadBalancing"),
    ("guardduty", "AmazonGuardDuty"),
    ("inspector2", "AmazonInspector2"),
    ("macie", "AmazonMacie"),
    ("organizations", "Organizations"),
    ("rds", "RDS"),
    ("securityhub", "SecurityHub"),
    ("ssm", "AmazonSSM"),
    ("sso", "SSO"),
];

/// `elasticloadbalancing.amazonaws.com` → `AWSServiceRoleForElasticLoadBalancing`.
pub fn role_name_for(service: &str) -> Option<String> {
    let label = service.strip_suffix(".amazonaws.com")?;
    if label.is_empty()
        || !label
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
    {
        return None;
    }
    let first = label.split('.').next().unwrap_or(label);
    let suffix = KNOWN.iter().find(|(k, _)| *k == first).map_or_else(
        || {
            first
                .split('-')
                .map(|w| {
                    let mut c = w.chars();
                    c.next().map_or_else(String::new, |f| {
                        f.to_ascii_uppercase().to_string() + c.as_str()
                    })
                })
                .collect::<String>()
        },
        |(_, n)| (*n).to_string(),
    );
    Some(format!("AWSServiceRoleFor{suffix}"))
}

/// Whether a role is service-linked (and so not changeable through the ordinary role API).
pub fn is_service_linked(role: &RoleRecord) -> bool {
    role.path.starts_with(SERVICE_ROLE_PATH_PREFIX)
}

pub fn protected(role: &RoleRecord) -> AwsError {
    errors::unmodifiable(format!(
        "Cannot perform the operation on the protected role '{}' - this role is only modifiable by AWS",
        role.name
    ))
}

pub async fn create_service_linked_role(ctx: Arc<Ctx>, input: Value) -> Result<Value, AwsError> {
    let service = required(&input, "AWSServiceName")?.to_string();
    let account = ctx.account().to_string();
    let base = role_name_for(&service);
    let name = match (&base, str_member(&input, "CustomSuffix")) {
        (Some(b), Some(s)) => Some(format!("{b}_{s}")),
        (Some(b), None) => Some(b.clone()),
        (None, _) => None,
    };
    let path = format!("{SERVICE_ROLE_PATH_PREFIX}{service}/");
    let arn = entity_arn(&account, "role", &path, name.as_deref().unwrap_or(""));
    ctx.authorize(
        "iam:CreateServiceLinkedRole",
        &arn,
        &[("iam:AWSServiceName", service.as_str())],
    )?;
    let Some(name) = name else {
        return Err(errors::invalid_input(format!(
            "Invalid service name: {service}. Service names look like service.amazonaws.com."
        )));
    };
    let trust = json!({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole",
    }]})
    .to_string();
    let role = RoleRecord {
        name: name.clone(),
        role_id: ids::unique_id("AROA")?,
        path,
        arn,
        create_date: epoch(ctx.now()),
        assume_role_policy_document: trust,
        description: str_member(&input, "Description").map(str::to_string),
        max_session_duration: roles::DEFAULT_MAX_SESSION_DURATION,
        permissions_boundary: None,
        tags: Vec::new(),
        inline_policies: Default::default(),
        attached_policies: Vec::new(),
        last_used: None,
    };
    let out = roles::role_json(&role, false);
    ctx.store()
        .write(move |tx| {
            let key = role_key(&account, &role.name);
            if tx.get(&key)?.is_some() {
                return Err(errors::invalid_input(format!(
                    "Service role name {} has been taken in this account, please try a different suffix.",
                    role.name
                )));
            }
            records::put(tx, &key, &role, Expect::Absent)?;
            Ok(())
        })
        .await?;
    Ok(json!({ "Role": out }))
}

pub async fn delete_service_linked_role(ctx: Arc<Ctx>, input: Value) -> Result<Value, AwsError> {
    let name = required(&input, "RoleName")?.to_string();
    let role = roles::authorize_on_role(
        &ctx,
        "iam:DeleteServiceLinkedRole",
        &name,
        &Default::default(),
    )
    .await?;
    if !is_service_linked(&role) {
        return Err(errors::invalid_input(format!(
            "Role {} is not a service-linked role.",
            role.name
        )));
    }
    let service = role
        .path
        .trim_start_matches(SERVICE_ROLE_PATH_PREFIX)
        .trim_end_matches('/')
        .to_string();
    let account = ctx.account().to_string();
    let role_name = role.name.clone();
    ctx.store()
        .write(move |tx| {
            let (r, v) = roles::load(tx.as_read(), &account, &role_name)?;
            if !r.inline_policies.is_empty() || !r.attached_policies.is_empty() {
                return Err(errors::delete_conflict(
                    "Cannot delete entity, must detach all policies first.",
                ));
            }
            tx.delete(&role_key(&account, &r.name), Expect::Version(v))?;
            Ok(())
        })
        .await?;
    // The deletion happens at once; the task id only lets callers poll for it as with AWS.
    let task = ids::request_id()?;
    Ok(
        json!({ "DeletionTaskId": format!("task{SERVICE_ROLE_PATH_PREFIX}{service}/{}/{task}", role.name) }),
    )
}

pub async fn get_service_linked_role_deletion_status(
    ctx: Arc<Ctx>,
    input: Value,
) -> Result<Value, AwsError> {
    let task = required(&input, "DeletionTaskId")?.to_string();
    ctx.authorize("iam:GetServiceLinkedRoleDeletionStatus", "*", &[])?;
    // task/aws-service-role/SERVICE/ROLE/UUID
    let parts: Vec<&str> = task.split('/').collect();
    let role = match parts.as_slice() {
        ["task", "aws-service-role", _service, role, _uuid] => (*role).to_string(),
        _ => {
            return Err(errors::invalid_input(format!(
                "Invalid deletion task id: {task}"
            )));
        }
    };
    let exists = roles::find(&ctx, &role).await?.is_some();
    let status = if exists { "IN_PROGRESS" } else { "SUCCEEDED" };
    Ok(json!({ "Status": status }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_names_follow_aws() {
        assert_eq!(
            role_name_for("elasticloadbalancing.amazonaws.com").unwrap(),
            "AWSServiceRoleForElasticLoadBalancing"
        );
        assert_eq!(
            role_name_for("guardduty.amazonaws.com").unwrap(),
            "AWSServiceRoleForAmazonGuardDuty"
        );
        assert_eq!(
            role_name_for("some-new.amazonaws.com").unwrap(),
            "AWSServiceRoleForSomeNew"
        );
        assert!(role_name_for("evil.example.com").is_none());
        assert!(role_name_for(".amazonaws.com").is_none());
    }
}
