//! IAM's policy simulator — SimulateCustomPolicy, SimulatePrincipalPolicy and the
//! GetContextKeysFor* operations — on the same engine and the same request-context rules as
//! enforcement, so what the simulator says is what enforcement does.
use std::collections::BTreeSet;
use std::sync::Arc;

use rampart_aws_types::AwsError;
use rampart_iam::model::{self, GroupRecord, PrincipalRef, SourcedPolicy, group_key};
use rampart_policy::{
    CompiledPolicy, ContextValue, Effect, Outcome, Policy, PolicyKind, PolicySet, PolicyType,
    Principal as EnginePrincipal, RequestContext, ResourceMode,
};
use rampart_services::common::records;
use rampart_services::{Ctx, Handler, HandlerFuture};
use serde_json::{Value, json};

use crate::positions::statement_span;

pub fn handler(operation: &str) -> Option<Handler> {
    Some(match operation {
        "SimulateCustomPolicy" => simulate_custom_policy,
        "SimulatePrincipalPolicy" => simulate_principal_policy,
        "GetContextKeysForCustomPolicy" => context_keys_for_custom_policy,
        "GetContextKeysForPrincipalPolicy" => context_keys_for_principal_policy,
        _ => return None,
    })
}

/// One input policy with what the simulator reports about it.
struct Input {
    id: String,
    source_type: &'static str,
    text: String,
    compiled: Arc<CompiledPolicy>,
    parsed: Policy,
}

fn malformed(message: String) -> AwsError {
    AwsError::new("MalformedPolicyDocument", 400, message)
}

fn parse_input(
    id: String,
    source_type: &'static str,
    text: &str,
    kind: PolicyKind,
) -> Result<Input, AwsError> {
    let parsed = Policy::parse(text, kind).map_err(|e| malformed(e.to_string()))?;
    let compiled = Arc::new(parsed.compile(&id));
    Ok(Input {
        id,
        source_type,
        text: text.to_string(),
        compiled,
        parsed,
    })
}

fn strings(input: &Value, member: &str) -> Vec<String> {
    input
        .get(member)
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// `ContextEntries` → (key, values).
fn context_entries(input: &Value) -> Result<Vec<(String, Vec<ContextValue>, bool)>, AwsError> {
    let mut out = Vec::new();
    for entry in input
        .get("ContextEntries")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let key = entry
            .get("ContextKeyName")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        let ty = entry
            .get("ContextKeyType")
            .and_then(Value::as_str)
            .unwrap_or("string");
        let list = ty.ends_with("List");
        let mut values = Vec::new();
        for v in entry
            .get("ContextKeyValues")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let text = v.as_str().unwrap_or("");
            let value = match ty.trim_end_matches("List") {
                "boolean" => match text.to_ascii_lowercase().as_str() {
                    "true" => ContextValue::bool(true),
                    "false" => ContextValue::bool(false),
                    _ => {
                        return Err(AwsError::new(
                            "InvalidInput",
                            400,
                            format!("Context key {key} has a value that is not a boolean: {text}"),
                        ));
                    }
                },
                "ip" => match text.parse() {
                    Ok(ip) => ContextValue::ip(ip),
                    Err(_) => {
                        return Err(AwsError::new(
                            "InvalidInput",
                            400,
                            format!(
                                "Context key {key} has a value that is not an IP address: {text}"
                            ),
                        ));
                    }
                },
                _ => ContextValue::string(text),
            };
            values.push(value);
        }
        out.push((key, values, list));
    }
    Ok(out)
}

/// The keys conditions test in statements that could apply to `action`.
fn condition_keys(inputs: &[&Input], action: Option<&str>) -> BTreeSet<String> {
    let mut keys = BTreeSet::new();
    for input in inputs {
        for st in input.parsed.statements() {
            if let Some(action) = action {
                let matched = st.action.values.iter().any(|p| glob(p, action));
                if matched == st.action.negated {
                    continue;
                }
            }
            for c in &st.conditions {
                keys.insert(c.key.clone());
            }
        }
    }
    keys
}

/// IAM's action wildcard match: case-insensitive, `*` and `?`.
fn glob(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.to_lowercase().chars().collect();
    let t: Vec<char> = text.to_lowercase().chars().collect();
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

/// Keys the engine fills in from the principal itself (never "missing").
fn principal_supplied(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    [
        "aws:principalarn",
        "aws:principalaccount",
        "aws:principaltype",
        "aws:userid",
        "aws:username",
        "aws:principalisawsservice",
        "aws:resourceaccount",
    ]
    .contains(&k.as_str())
        || k.starts_with("aws:principaltag/")
}

struct Simulation<'a> {
    identity: Vec<Input>,
    boundary: Vec<Input>,
    resource_policy: Option<Input>,
    principal: EnginePrincipal,
    caller_account: &'a str,
    resource_owner: Option<String>,
}

impl Simulation<'_> {
    fn run(&self, input: &Value) -> Result<Value, AwsError> {
        let actions = strings(input, "ActionNames");
        let mut resources = strings(input, "ResourceArns");
        if resources.is_empty() {
            resources.push("*".to_string());
        }
        let entries = context_entries(input)?;
        let provided: BTreeSet<String> = entries
            .iter()
            .map(|(k, _, _)| k.to_ascii_lowercase())
            .collect();
        let mut set = PolicySet {
            identity: self.identity.iter().map(|i| i.compiled.clone()).collect(),
            ..Default::default()
        };
        if let Some(b) = self.boundary.first() {
            set.permissions_boundary = Some(b.compiled.clone());
        }
        if let Some(r) = &self.resource_policy {
            set.resource = Some(r.compiled.clone());
            set.resource_mode = ResourceMode::Standard;
        }
        let mut results = Vec::new();
        for action in &actions {
            for resource in &resources {
                let mut ctx = RequestContext::new(self.principal.clone(), action, resource);
                let owner = self
                    .resource_owner
                    .clone()
                    .or_else(|| arn_account(resource))
                    .unwrap_or_else(|| self.caller_account.to_string());
                ctx = ctx.with_resource_account(&owner);
                for (key, values, list) in &entries {
                    match (values.as_slice(), list) {
                        ([single], false) => ctx.set(key, single.clone()),
                        _ => ctx.set_multi(key, values.clone()),
                    }
                }
                let decision = rampart_policy::evaluate(&set, &ctx);
                let all: Vec<&Input> = self
                    .identity
                    .iter()
                    .chain(self.boundary.iter())
                    .chain(self.resource_policy.iter())
                    .collect();
                let missing: Vec<String> = condition_keys(&all, Some(action))
                    .into_iter()
                    .filter(|k| {
                        !provided.contains(&k.to_ascii_lowercase()) && !principal_supplied(k)
                    })
                    .collect();
                let matched: Vec<Value> = decision
                    .matched
                    .iter()
                    .filter_map(|m| {
                        let input = all.iter().find(|i| *i.id == *m.policy)?;
                        let (start, end) = statement_span(&input.text, m.index);
                        Some(json!({
                            "SourcePolicyId": input.id,
                            "SourcePolicyType": input.source_type,
                            "StartPosition": { "Line": start.0, "Column": start.1 },
                            "EndPosition": { "Line": end.0, "Column": end.1 },
                        }))
                    })
                    .collect();
                let eval_decision = match decision.outcome {
                    Outcome::Allow => "allowed",
                    Outcome::ExplicitDeny => "explicitDeny",
                    Outcome::ImplicitDeny => "implicitDeny",
                };
                let boundary_allows = self.boundary.is_empty()
                    || decision.denied_by != Some(PolicyType::PermissionsBoundary);
                let mut result = json!({
                    "EvalActionName": action,
                    "EvalResourceName": resource,
                    "EvalDecision": eval_decision,
                    "MatchedStatements": matched,
                    "MissingContextValues": missing,
                    "OrganizationsDecisionDetail": { "AllowedByOrganizations": true },
                });
                if let Some(map) = result.as_object_mut() {
                    if !self.boundary.is_empty() {
                        map.insert(
                            "PermissionsBoundaryDecisionDetail".into(),
                            json!({ "AllowedByPermissionsBoundary": boundary_allows }),
                        );
                    }
                    if self.resource_policy.is_some() {
                        let resource_allows = decision.matched.iter().any(|m| {
                            m.policy_type == PolicyType::ResourceBased && m.effect == Effect::Allow
                        });
                        map.insert(
                            "EvalDecisionDetails".into(),
                            json!({
                                "IAM Policy": eval_decision,
                                "Resource Policy": if resource_allows { "allowed" } else { "implicitDeny" },
                            }),
                        );
                    }
                }
                results.push(result);
            }
        }
        paginate(input, results)
    }
}

fn arn_account(arn: &str) -> Option<String> {
    let account = arn.split(':').nth(4)?;
    rampart_aws_types::is_account_id(account).then(|| account.to_string())
}

fn paginate(input: &Value, results: Vec<Value>) -> Result<Value, AwsError> {
    let max = input
        .get("MaxItems")
        .and_then(Value::as_u64)
        .unwrap_or(1000) as usize;
    let start = match input.get("Marker").and_then(Value::as_str) {
        Some(m) => m
            .parse::<usize>()
            .map_err(|_| AwsError::new("InvalidInput", 400, "Invalid Marker."))?,
        None => 0,
    };
    let page: Vec<Value> = results.iter().skip(start).take(max).cloned().collect();
    let next = start + page.len();
    let mut out = json!({ "EvaluationResults": page, "IsTruncated": next < results.len() });
    if next < results.len() {
        if let Some(map) = out.as_object_mut() {
            map.insert("Marker".into(), Value::String(next.to_string()));
        }
    }
    Ok(out)
}

fn caller_principal(arn: &str, fallback: &rampart_services::Principal) -> EnginePrincipal {
    let account = arn
        .split(':')
        .nth(4)
        .unwrap_or(&fallback.account)
        .to_string();
    if let Some(rest) = arn.split_once(":user/").map(|(_, r)| r) {
        let name = rest.rsplit('/').next().unwrap_or(rest);
        return EnginePrincipal::user(arn, &account, name, &fallback.user_id);
    }
    // The simulator evaluates the policies it is given: a root caller is simulated as a plain
    // principal of its account, without the root user's implicit rights.
    if let Some(rest) = arn.split_once(":assumed-role/").map(|(_, r)| r) {
        let role = rest.split('/').next().unwrap_or(rest);
        return EnginePrincipal::role_session(
            arn,
            &account,
            &format!("arn:aws:iam::{account}:role/{role}"),
            &fallback.user_id,
        );
    }
    EnginePrincipal::user(arn, &account, "", &fallback.user_id)
}

fn inputs(
    input: &Value,
    member: &str,
    source_type: &'static str,
    kind: PolicyKind,
) -> Result<Vec<Input>, AwsError> {
    strings(input, member)
        .iter()
        .enumerate()
        .map(|(i, text)| parse_input(format!("{member}.{}", i + 1), source_type, text, kind))
        .collect()
}

fn resource_policy(input: &Value) -> Result<Option<Input>, AwsError> {
    match input.get("ResourcePolicy").and_then(Value::as_str) {
        Some(text) => Ok(Some(parse_input(
            "ResourcePolicy".into(),
            "resource",
            text,
            PolicyKind::Resource,
        )?)),
        None => Ok(None),
    }
}

fn simulate_custom_policy(ctx: Arc<Ctx>, input: Value) -> HandlerFuture {
    Box::pin(async move {
        ctx.authorize("iam:SimulateCustomPolicy", "*", &[])?;
        let identity = inputs(&input, "PolicyInputList", "IAM Policy", PolicyKind::Managed)?;
        let boundary = inputs(
            &input,
            "PermissionsBoundaryPolicyInputList",
            "PermissionsBoundaryPolicy",
            PolicyKind::Managed,
        )?;
        let caller = input
            .get("CallerArn")
            .and_then(Value::as_str)
            .map(str::to_string)
            .unwrap_or_else(|| ctx.principal.arn.clone());
        let sim = Simulation {
            identity,
            boundary,
            resource_policy: resource_policy(&input)?,
            principal: caller_principal(&caller, &ctx.principal),
            caller_account: ctx.account(),
            resource_owner: input
                .get("ResourceOwner")
                .and_then(Value::as_str)
                .and_then(arn_account_or_id),
        };
        sim.run(&input)
    })
}

fn arn_account_or_id(s: &str) -> Option<String> {
    if rampart_aws_types::is_account_id(s) {
        Some(s.to_string())
    } else {
        arn_account(s)
    }
}

/// The policies of a user, group or role, as simulator inputs.
async fn principal_inputs(
    ctx: &Ctx,
    source_arn: &str,
) -> Result<(Vec<Input>, Vec<Input>, EnginePrincipal), AwsError> {
    let account = ctx.account().to_string();
    let arn_account = source_arn.split(':').nth(4).unwrap_or("");
    let resource = source_arn.split(':').nth(5).unwrap_or("");
    let (kind, name) = match resource.split_once('/') {
        Some((kind, rest)) => (
            kind.to_string(),
            rest.rsplit('/').next().unwrap_or(rest).to_string(),
        ),
        None => (String::new(), String::new()),
    };
    if arn_account != account || !matches!(kind.as_str(), "user" | "group" | "role") {
        return Err(AwsError::new(
            "InvalidInput",
            400,
            format!("Invalid PolicySourceArn: {source_arn}"),
        ));
    }
    let source = source_arn.to_string();
    let (identity, boundary, principal) = ctx
        .store()
        .read_offloaded(
            move |tx| -> Result<
                (Vec<SourcedPolicy>, Option<SourcedPolicy>, EnginePrincipal),
                AwsError,
            > {
                match kind.as_str() {
                    "group" => {
                        let (group, _) =
                            records::get::<GroupRecord>(tx, &group_key(&account, &name))?
                                .ok_or_else(|| {
                                    AwsError::new(
                                        "NoSuchEntity",
                                        404,
                                        format!("The group with name {name} cannot be found."),
                                    )
                                })?;
                        let mut out = Vec::new();
                        for (policy_name, document) in &group.inline_policies {
                            out.push(SourcedPolicy {
                                source: model::PolicySource::Inline {
                                    name: policy_name.clone(),
                                },
                                document: document.clone(),
                            });
                        }
                        for arn in &group.attached_policies {
                            if let Some((version_id, document, _)) =
                                model::managed_default(tx, &account, arn)?
                            {
                                out.push(SourcedPolicy {
                                    source: model::PolicySource::Managed {
                                        arn: arn.clone(),
                                        version_id,
                                    },
                                    document,
                                });
                            }
                        }
                        Ok((out, None, EnginePrincipal::user(&source, &account, "", "")))
                    }
                    "user" => {
                        let loaded = model::load_principal_policies(
                            tx,
                            &account,
                            PrincipalRef::User(&name),
                        )?;
                        let id = match &loaded.entity {
                            model::PrincipalEntity::User(u) => u.user_id.clone(),
                            model::PrincipalEntity::Role(r) => r.role_id.clone(),
                        };
                        let mut p = EnginePrincipal::user(&source, &account, &name, &id);
                        p.tags = loaded
                            .tags
                            .iter()
                            .map(|t| (t.key.clone(), t.value.clone()))
                            .collect();
                        Ok((loaded.identity, loaded.boundary, p))
                    }
                    _ => {
                        let loaded = model::load_principal_policies(
                            tx,
                            &account,
                            PrincipalRef::Role(&name),
                        )?;
                        let mut p = EnginePrincipal::role_session(
                            &format!("arn:aws:sts::{account}:assumed-role/{name}/simulation"),
                            &account,
                            &source,
                            "",
                        );
                        p.tags = loaded
                            .tags
                            .iter()
                            .map(|t| (t.key.clone(), t.value.clone()))
                            .collect();
                        Ok((loaded.identity, loaded.boundary, p))
                    }
                }
            },
        )
        .await?;
    let to_input = |s: &SourcedPolicy, source_type: &'static str| -> Result<Input, AwsError> {
        let id = match &s.source {
            model::PolicySource::Inline { name } => name.clone(),
            model::PolicySource::GroupInline { group, name } => format!("{group}_{name}"),
            model::PolicySource::Managed { arn, .. }
            | model::PolicySource::GroupManaged { arn, .. } => {
                arn.rsplit('/').next().unwrap_or(arn).to_string()
            }
        };
        let kind = if matches!(&s.source, model::PolicySource::Managed { arn, .. } | model::PolicySource::GroupManaged { arn, .. } if arn.starts_with("arn:aws:iam::aws:"))
        {
            PolicyKind::AwsManaged
        } else {
            PolicyKind::Managed
        };
        // Stored documents were checked when written; inline ones may exceed the managed size
        // quota's character count, so parse as AWS managed (no quota) for simulation.
        parse_input(
            id,
            source_type,
            &s.document,
            if kind == PolicyKind::AwsManaged {
                kind
            } else {
                PolicyKind::AwsManaged
            },
        )
    };
    let identity = identity
        .iter()
        .map(|s| to_input(s, "IAM Policy"))
        .collect::<Result<Vec<_>, _>>()?;
    let boundary = boundary
        .iter()
        .map(|s| to_input(s, "PermissionsBoundaryPolicy"))
        .collect::<Result<Vec<_>, _>>()?;
    Ok((identity, boundary, principal))
}

fn simulate_principal_policy(ctx: Arc<Ctx>, input: Value) -> HandlerFuture {
    Box::pin(async move {
        let source_arn = input
            .get("PolicySourceArn")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        ctx.authorize("iam:SimulatePrincipalPolicy", &source_arn, &[])?;
        let (mut identity, mut boundary, principal) = principal_inputs(&ctx, &source_arn).await?;
        identity.extend(inputs(
            &input,
            "PolicyInputList",
            "IAM Policy",
            PolicyKind::Managed,
        )?);
        let extra_boundary = inputs(
            &input,
            "PermissionsBoundaryPolicyInputList",
            "PermissionsBoundaryPolicy",
            PolicyKind::Managed,
        )?;
        if !extra_boundary.is_empty() {
            // A boundary passed in replaces the principal's own, as AWS documents.
            boundary = extra_boundary;
        }
        let principal = match input.get("CallerArn").and_then(Value::as_str) {
            Some(caller) => caller_principal(caller, &ctx.principal),
            None => principal,
        };
        let sim = Simulation {
            identity,
            boundary,
            resource_policy: resource_policy(&input)?,
            principal,
            caller_account: ctx.account(),
            resource_owner: input
                .get("ResourceOwner")
                .and_then(Value::as_str)
                .and_then(arn_account_or_id),
        };
        sim.run(&input)
    })
}

fn context_keys_output(inputs: &[Input]) -> Value {
    let refs: Vec<&Input> = inputs.iter().collect();
    json!({ "ContextKeyNames": condition_keys(&refs, None).into_iter().collect::<Vec<_>>() })
}

fn context_keys_for_custom_policy(ctx: Arc<Ctx>, input: Value) -> HandlerFuture {
    Box::pin(async move {
        ctx.authorize("iam:GetContextKeysForCustomPolicy", "*", &[])?;
        Ok(context_keys_output(&inputs(
            &input,
            "PolicyInputList",
            "IAM Policy",
            PolicyKind::AwsManaged,
        )?))
    })
}

fn context_keys_for_principal_policy(ctx: Arc<Ctx>, input: Value) -> HandlerFuture {
    Box::pin(async move {
        let source_arn = input
            .get("PolicySourceArn")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        ctx.authorize("iam:GetContextKeysForPrincipalPolicy", &source_arn, &[])?;
        let (mut identity, _, _) = principal_inputs(&ctx, &source_arn).await?;
        identity.extend(inputs(
            &input,
            "PolicyInputList",
            "IAM Policy",
            PolicyKind::AwsManaged,
        )?);
        Ok(context_keys_output(&identity))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob("iam:*", "iam:CreateUser"));
        assert!(glob("IAM:create*", "iam:CreateUser"));
        assert!(glob("iam:?etUser", "iam:GetUser"));
        assert!(!glob("iam:Get*", "iam:CreateUser"));
        assert!(glob("*", "kms:Encrypt"));
        assert!(!glob("s3:*", "iam:GetUser"));
    }
}
