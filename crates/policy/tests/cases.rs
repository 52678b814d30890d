//! The table-driven suite: every JSON file under `tests/cases/` holds cases grouped by rule.
//! One case = policies + request + expected decision (see `tests/cases/README.md`).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::Path;
use std::sync::Arc;

use rampart_policy::*;
use serde_json::{Map, Value};

/// The suite must keep at least this many cases (the bar).
const MIN_CASES: usize = 400;

fn policy_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        // A bare list of statements is wrapped in a 2012-10-17 document.
        Value::Array(_) => serde_json::json!({"Version": "2012-10-17", "Statement": v}).to_string(),
        other => other.to_string(),
    }
}

fn compile(v: &Value, kind: PolicyKind, name: &str) -> Result<Arc<CompiledPolicy>, String> {
    let text = policy_text(v);
    let p = Policy::parse(&text, kind).map_err(|e| format!("{name}: {e} in {text}"))?;
    Ok(Arc::new(p.compile(name)))
}

fn kind_of(s: &str) -> PolicyKind {
    match s {
        "Managed" => PolicyKind::Managed,
        "InlineUser" => PolicyKind::InlineUser,
        "InlineGroup" => PolicyKind::InlineGroup,
        "InlineRole" => PolicyKind::InlineRole,
        "RoleTrust" => PolicyKind::RoleTrust,
        "Session" => PolicyKind::Session,
        "Resource" => PolicyKind::Resource,
        "KeyPolicy" => PolicyKind::KeyPolicy,
        "ServiceControl" => PolicyKind::ServiceControl,
        "ResourceControl" => PolicyKind::ResourceControl,
        other => panic!("unknown kind {other}"),
    }
}

/// Principal shorthands: `user:ACCOUNT:name`, `role:ACCOUNT:role/session`,
/// `federated:ACCOUNT:name:issuing-user`, `root:ACCOUNT`, `service:NAME`, `web:PROVIDER`,
/// `anonymous`; or an object `{"id": shorthand, "tags": {...}, "service_linked": bool,
/// "role_path": "/path/"}`.
fn principal(v: Option<&Value>) -> Principal {
    let default = Value::String("user:111122223333:alice".into());
    let v = v.unwrap_or(&default);
    let (id, extra) = match v {
        Value::String(s) => (s.as_str(), None),
        Value::Object(o) => (o["id"].as_str().unwrap(), Some(o)),
        _ => panic!("bad principal {v}"),
    };
    let parts: Vec<&str> = id.split(':').collect();
    let role_path = extra
        .and_then(|o| o.get("role_path"))
        .and_then(Value::as_str)
        .unwrap_or("/");
    let mut p = match parts[0] {
        "user" => Principal::user(
            &format!("arn:aws:iam::{}:user/{}", parts[1], parts[2]),
            parts[1],
            parts[2],
            &format!("AIDA{}", parts[2].to_uppercase()),
        ),
        "role" => {
            let (role, session) = parts[2].split_once('/').unwrap();
            Principal::role_session(
                &format!("arn:aws:sts::{}:assumed-role/{role}/{session}", parts[1]),
                parts[1],
                &format!("arn:aws:iam::{}:role{role_path}{role}", parts[1]),
                &format!("AROA{}:{session}", role.to_uppercase()),
            )
        }
        "federated" => Principal::federated_user(
            &format!("arn:aws:sts::{}:federated-user/{}", parts[1], parts[2]),
            parts[1],
            &format!("arn:aws:iam::{}:user/{}", parts[1], parts[3]),
            &format!("{}:{}", parts[1], parts[2]),
        ),
        "root" => Principal::root(parts[1]),
        "service" => Principal::service(&id["service:".len()..]),
        "web" => Principal::web_identity(&id["web:".len()..]),
        "anonymous" => Principal::anonymous(),
        other => panic!("unknown principal shorthand {other}"),
    };
    if let Some(o) = extra {
        if let Some(Value::Object(tags)) = o.get("tags") {
            for (k, t) in tags {
                p = p.with_tag(k, t.as_str().unwrap());
            }
        }
        if o.get("service_linked") == Some(&Value::Bool(true)) {
            p.service_linked_role = true;
        }
        if let Some(c) = o.get("canonical_user").and_then(Value::as_str) {
            p.canonical_user = Some(c.to_string());
        }
    }
    p
}

fn context(case: &Map<String, Value>) -> RequestContext {
    let p = principal(case.get("principal"));
    let action = case
        .get("action")
        .and_then(Value::as_str)
        .unwrap_or("s3:GetObject");
    let resource = case
        .get("resource")
        .and_then(Value::as_str)
        .unwrap_or("arn:aws:s3:::bucket/key");
    let mut ctx = RequestContext::new(p, action, resource);
    if let Some(a) = case.get("resource_account").and_then(Value::as_str) {
        ctx = ctx.with_resource_account(a);
    }
    if let Some(t) = case.get("time").and_then(Value::as_i64) {
        ctx = ctx.with_time(t);
    }
    if let Some(Value::Object(keys)) = case.get("context") {
        for (k, v) in keys {
            match v {
                Value::String(s) => ctx.set(k, ContextValue::string(s)),
                Value::Bool(b) => ctx.set(k, ContextValue::bool(*b)),
                Value::Number(n) => ctx.set(k, ContextValue::number(n.as_i64().unwrap())),
                Value::Array(a) => ctx.set_multi(
                    k,
                    a.iter()
                        .map(|x| ContextValue::string(x.as_str().unwrap()))
                        .collect(),
                ),
                Value::Null => ctx.remove(k),
                _ => panic!("bad context value {v}"),
            }
        }
    }
    ctx
}

fn org(
    case: &Map<String, Value>,
    key: &str,
    kind: PolicyKind,
) -> Result<Option<OrgPolicies>, String> {
    let Some(levels) = case.get(key) else {
        return Ok(None);
    };
    let mut out = OrgPolicies {
        management_account: case
            .get("management_account")
            .and_then(Value::as_str)
            .unwrap_or("999999999999")
            .to_string(),
        levels: Vec::new(),
    };
    for (li, level) in levels.as_array().unwrap().iter().enumerate() {
        let mut ps = Vec::new();
        for (pi, p) in level.as_array().unwrap().iter().enumerate() {
            ps.push(compile(p, kind, &format!("{key}{li}.{pi}"))?);
        }
        out.levels.push(ps);
    }
    Ok(Some(out))
}

fn policy_set(case: &Map<String, Value>) -> Result<PolicySet, String> {
    let mut set = PolicySet::default();
    if let Some(Value::Array(ids)) = case.get("identity") {
        for (i, p) in ids.iter().enumerate() {
            set.identity
                .push(compile(p, PolicyKind::Managed, &format!("identity{i}"))?);
        }
    }
    if let Some(b) = case.get("boundary") {
        set.permissions_boundary = Some(compile(b, PolicyKind::Managed, "boundary")?);
    }
    if let Some(Value::Array(ss)) = case.get("session") {
        let mut v = Vec::new();
        for (i, p) in ss.iter().enumerate() {
            v.push(compile(p, PolicyKind::Session, &format!("session{i}"))?);
        }
        set.session = Some(v);
    }
    set.scp = org(case, "scp", PolicyKind::ServiceControl)?;
    set.rcp = org(case, "rcp", PolicyKind::ResourceControl)?;
    if let Some(r) = case.get("resource_policy") {
        set.resource = Some(compile(r, PolicyKind::Resource, "resource")?);
    }
    if let Some(r) = case.get("vpc_endpoint_policy") {
        set.vpc_endpoint = Some(compile(r, PolicyKind::Resource, "vpce")?);
    }
    if let Some(r) = case.get("trust_policy") {
        set.resource = Some(compile(r, PolicyKind::RoleTrust, "trust")?);
        set.resource_mode = ResourceMode::RoleTrust;
    }
    if let Some(r) = case.get("key_policy") {
        set.resource = Some(compile(r, PolicyKind::KeyPolicy, "key")?);
        set.resource_mode = ResourceMode::KeyPolicy;
    }
    Ok(set)
}

fn outcome(s: &str) -> Outcome {
    match s {
        "Allow" => Outcome::Allow,
        "ExplicitDeny" => Outcome::ExplicitDeny,
        "ImplicitDeny" => Outcome::ImplicitDeny,
        other => panic!("unknown outcome {other}"),
    }
}

fn policy_type(s: &str) -> PolicyType {
    match s {
        "ServiceControlPolicy" => PolicyType::ServiceControlPolicy,
        "ResourceControlPolicy" => PolicyType::ResourceControlPolicy,
        "ResourceBased" => PolicyType::ResourceBased,
        "IdentityBased" => PolicyType::IdentityBased,
        "PermissionsBoundary" => PolicyType::PermissionsBoundary,
        "SessionPolicy" => PolicyType::SessionPolicy,
        "VpcEndpoint" => PolicyType::VpcEndpoint,
        other => panic!("unknown policy type {other}"),
    }
}

/// Runs one case; `Err` describes the mismatch.
fn run_case(case: &Map<String, Value>) -> Result<(), String> {
    if let Some(doc) = case.get("parse") {
        let kind = kind_of(
            case.get("kind")
                .and_then(Value::as_str)
                .unwrap_or("Managed"),
        );
        let text = policy_text(doc);
        let got = Policy::parse(&text, kind);
        return match (case.get("error").and_then(Value::as_str), got) {
            (None, Ok(_)) => Ok(()),
            (None, Err(e)) => Err(format!("expected to parse, got {e}")),
            (Some(want), Err(e)) => {
                if e.message() == want {
                    Ok(())
                } else {
                    Err(format!("expected error {want:?}, got {:?}", e.message()))
                }
            }
            (Some(want), Ok(_)) => Err(format!("expected error {want:?}, but it parsed")),
        };
    }
    let set = policy_set(case)?;
    let ctx = context(case);
    let d = evaluate(&set, &ctx);
    let fast = decide(&set, &ctx);
    if fast != (d.outcome, d.denied_by) {
        return Err(format!("decide() {fast:?} disagrees with evaluate() {d}"));
    }
    let want = outcome(case["expect"].as_str().unwrap());
    if d.outcome != want {
        return Err(format!(
            "expected {want:?}, got {d} (matched {:?})",
            d.matched
        ));
    }
    if let Some(by) = case.get("denied_by").and_then(Value::as_str) {
        if d.denied_by != Some(policy_type(by)) {
            return Err(format!("expected denied_by {by}, got {:?}", d.denied_by));
        }
    }
    if let Some(Value::Array(m)) = case.get("matched") {
        let got: Vec<String> = d
            .matched
            .iter()
            .map(|m| {
                format!(
                    "{}#{}",
                    m.policy,
                    m.sid.as_deref().map_or(m.index.to_string(), str::to_string)
                )
            })
            .collect();
        let want: Vec<String> = m.iter().map(|x| x.as_str().unwrap().to_string()).collect();
        if got != want {
            return Err(format!("expected matched {want:?}, got {got:?}"));
        }
    }
    if let Some(msg) = case.get("message").and_then(Value::as_str) {
        let got = d.access_denied_message(&ctx);
        if got.as_deref() != Some(msg) {
            return Err(format!("expected message {msg:?}, got {got:?}"));
        }
    }
    if let Some(reason) = case.get("reason").and_then(Value::as_str) {
        let got = d.denial_reason(ctx.action());
        if got.as_deref() != Some(reason) {
            return Err(format!("expected reason {reason:?}, got {got:?}"));
        }
    }
    Ok(())
}

/// Merges a file's `defaults` into each case (case fields win).
fn with_defaults(defaults: Option<&Value>, case: &Value) -> Map<String, Value> {
    let mut m = match defaults {
        Some(Value::Object(d)) => d.clone(),
        _ => Map::new(),
    };
    for (k, v) in case.as_object().unwrap() {
        m.insert(k.clone(), v.clone());
    }
    m
}

#[test]
fn table_driven_cases() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cases");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    let mut total = 0;
    let mut failures = Vec::new();
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap();
        let file: Value =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        let defaults = file.get("defaults");
        for case in file["cases"].as_array().unwrap() {
            total += 1;
            let case = with_defaults(defaults, case);
            let name = case
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or("?")
                .to_string();
            if let Err(e) = run_case(&case) {
                failures.push(format!(
                    "{} / {name}: {e}",
                    f.file_name().unwrap().to_string_lossy()
                ));
            }
        }
    }
    eprintln!("{total} cases in {} files", files.len());
    assert!(
        failures.is_empty(),
        "{} of {total} cases failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(
        total >= MIN_CASES,
        "only {total} cases; the suite must keep at least {MIN_CASES}"
    );
}
