//! JSON text to [`Policy`], with IAM's checks and IAM's error messages.

use serde_json::{Map, Value};

use crate::condition::{Operator, parse_operator};
use crate::document::{
    Condition, Effect, PatternElement, Policy, PrincipalElement, PrincipalEntry, Statement, Version,
};
use crate::error::{PolicyError, SYNTAX};
use crate::kind::PolicyKind;
use crate::value::parse_date;

const ORGANIZATIONS_MALFORMED: &str =
    "The provided policy document does not meet the requirements of the specified policy type.";

/// The largest document the parser reads at all, whatever the kind (bounds memory).
const MAX_DOCUMENT_BYTES: usize = 512 * 1024;

/// JSON nesting deeper than a policy can have is refused before serde_json recurses.
const MAX_DEPTH: usize = 16;

/// The size IAM counts toward its quotas: characters other than whitespace. Inline policy quotas
/// are per entity (all of a user's inline policies together), so the caller sums this.
pub fn iam_policy_size(text: &str) -> usize {
    text.chars().filter(|c| !c.is_whitespace()).count()
}

impl Policy {
    /// Parses and validates a policy document of the given kind.
    pub fn parse(text: &str, kind: PolicyKind) -> Result<Policy, PolicyError> {
        let (limit, limit_msg) = kind.size_limit();
        let size = if kind.size_counts_whitespace() {
            text.chars().count()
        } else {
            iam_policy_size(text)
        };
        if size > limit {
            return Err(PolicyError::LimitExceeded(limit_msg.to_string()));
        }
        if text.len() > MAX_DOCUMENT_BYTES || too_deep(text) {
            return Err(PolicyError::malformed(SYNTAX));
        }
        // CreateRole answers "This policy contains invalid Json" where CreatePolicy answers
        // "Syntax errors in policy." (both seen in AWS CLI output).
        let invalid_json = || {
            PolicyError::malformed(if kind == PolicyKind::RoleTrust {
                "This policy contains invalid Json"
            } else {
                SYNTAX
            })
        };
        let value: Value = serde_json::from_str(text).map_err(|_| invalid_json())?;
        parse_document(&value, kind).map_err(|e| match (e, kind) {
            // AWS Organizations gives one message for every malformed SCP or RCP.
            (
                PolicyError::Malformed(_),
                PolicyKind::ServiceControl | PolicyKind::ResourceControl,
            ) => PolicyError::malformed(ORGANIZATIONS_MALFORMED),
            (e, _) => e,
        })
    }
}

fn too_deep(text: &str) -> bool {
    let mut depth = 0usize;
    let mut in_str = false;
    let mut esc = false;
    for b in text.bytes() {
        if in_str {
            match (esc, b) {
                (true, _) => esc = false,
                (false, b'\\') => esc = true,
                (false, b'"') => in_str = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_str = true,
            b'{' | b'[' => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return true;
                }
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    false
}

fn parse_document(value: &Value, kind: PolicyKind) -> Result<Policy, PolicyError> {
    let obj = value
        .as_object()
        .ok_or_else(|| PolicyError::malformed(SYNTAX))?;
    for k in obj.keys() {
        if !matches!(k.as_str(), "Version" | "Id" | "Statement") {
            return Err(PolicyError::malformed(SYNTAX));
        }
    }
    let version = match obj.get("Version") {
        None => None,
        Some(Value::String(s)) if s == "2012-10-17" => Some(Version::V2012_10_17),
        Some(Value::String(s)) if s == "2008-10-17" => Some(Version::V2008_10_17),
        Some(_) => return Err(PolicyError::malformed("The policy failed legacy parsing")),
    };
    let vars = version.is_some_and(Version::has_variables);
    let id = match obj.get("Id") {
        None => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => return Err(PolicyError::malformed(SYNTAX)),
    };
    let raw_statements: Vec<&Map<String, Value>> = match obj.get("Statement") {
        Some(Value::Object(o)) => vec![o],
        Some(Value::Array(a)) => a
            .iter()
            .map(|s| s.as_object().ok_or_else(|| PolicyError::malformed(SYNTAX)))
            .collect::<Result<_, _>>()?,
        _ => return Err(PolicyError::malformed(SYNTAX)),
    };
    let mut statements = Vec::with_capacity(raw_statements.len());
    for raw in raw_statements {
        statements.push(parse_statement(raw, kind, vars)?);
    }
    let mut sids: Vec<&str> = statements
        .iter()
        .filter_map(|s| s.sid.as_deref())
        .filter(|s| !s.is_empty())
        .collect();
    sids.sort_unstable();
    if sids.windows(2).any(|w| w.first() == w.get(1)) {
        return Err(PolicyError::malformed(
            "Statement IDs (SID) in a single policy must be unique.",
        ));
    }
    Ok(Policy {
        kind,
        version,
        id,
        statements,
    })
}

fn parse_statement(
    raw: &Map<String, Value>,
    kind: PolicyKind,
    vars: bool,
) -> Result<Statement, PolicyError> {
    for k in raw.keys() {
        if !matches!(
            k.as_str(),
            "Sid"
                | "Effect"
                | "Principal"
                | "NotPrincipal"
                | "Action"
                | "NotAction"
                | "Resource"
                | "NotResource"
                | "Condition"
        ) {
            return Err(PolicyError::malformed(SYNTAX));
        }
    }
    let sid = match raw.get("Sid") {
        None => None,
        Some(Value::String(s)) => {
            if kind.sid_alphanumeric() && !s.bytes().all(|b| b.is_ascii_alphanumeric()) {
                return Err(PolicyError::malformed(
                    "Statement IDs (SID) must be alpha-numeric. Check that your input satisfies \
                     the regular expression [0-9A-Za-z]*",
                ));
            }
            Some(s.clone())
        }
        Some(_) => return Err(PolicyError::malformed(SYNTAX)),
    };
    let effect = match raw.get("Effect") {
        None => return Err(PolicyError::malformed("Missing required field Effect")),
        Some(Value::String(s)) if s == "Allow" => Effect::Allow,
        Some(Value::String(s)) if s == "Deny" => Effect::Deny,
        // IAM answers "The policy failed legacy parsing" for `"Effect": "allow"`
        // (hashicorp/terraform#10057); S3 and others answer "Invalid effect: allow".
        Some(Value::String(_)) if kind.iam_stored() => {
            return Err(PolicyError::malformed("The policy failed legacy parsing"));
        }
        Some(Value::String(s)) => {
            return Err(PolicyError::malformed(format!("Invalid effect: {s}")));
        }
        Some(_) => return Err(PolicyError::malformed(SYNTAX)),
    };

    let principal = match (raw.get("Principal"), raw.get("NotPrincipal")) {
        (Some(_), Some(_)) => return Err(PolicyError::malformed(SYNTAX)),
        (Some(p), None) => Some(parse_principal(p, false).map_err(|e| principal_error(e, kind))?),
        (None, Some(p)) => Some(parse_principal(p, true).map_err(|e| principal_error(e, kind))?),
        (None, None) => None,
    };
    if kind.requires_principal() && principal.is_none() {
        return Err(PolicyError::malformed("Missing required field Principal"));
    }
    if !kind.requires_principal() && principal.is_some() {
        return Err(PolicyError::malformed(
            "Policy document should not specify a principal.",
        ));
    }

    let action = match (raw.get("Action"), raw.get("NotAction")) {
        (Some(_), Some(_)) => return Err(PolicyError::malformed(SYNTAX)),
        (Some(a), None) => pattern_element(a, false)?,
        (None, Some(a)) => pattern_element(a, true)?,
        (None, None) => {
            return Err(PolicyError::malformed(
                "Policy statement must contain actions.",
            ));
        }
    };
    if action.values.is_empty() {
        return Err(PolicyError::malformed(
            "Policy statement must contain actions.",
        ));
    }
    for a in &action.values {
        check_action(a)?;
    }

    let resource = match (raw.get("Resource"), raw.get("NotResource")) {
        (Some(_), Some(_)) => return Err(PolicyError::malformed(SYNTAX)),
        (Some(_), None) | (None, Some(_)) if kind.resource_prohibited() => {
            let field = if raw.contains_key("Resource") {
                "Resource"
            } else {
                "NotResource"
            };
            return Err(PolicyError::malformed(format!(
                "Has prohibited field {field}"
            )));
        }
        (Some(r), None) => Some(pattern_element(r, false)?),
        (None, Some(r)) => Some(pattern_element(r, true)?),
        (None, None) if kind.resource_optional() => None,
        (None, None) => {
            return Err(PolicyError::malformed(
                "Policy statement must contain resources.",
            ));
        }
    };
    if let Some(r) = &resource {
        if r.values.is_empty() {
            return Err(PolicyError::malformed(
                "Policy statement must contain resources.",
            ));
        }
        for v in &r.values {
            check_resource(v)?;
        }
    }

    let conditions = match raw.get("Condition") {
        None => Vec::new(),
        Some(c) => parse_conditions(c, vars)?,
    };
    Ok(Statement {
        sid,
        effect,
        principal,
        action,
        resource,
        conditions,
    })
}

fn string_or_array(v: &Value) -> Result<Vec<String>, PolicyError> {
    match v {
        Value::String(s) => Ok(vec![s.clone()]),
        Value::Array(a) => a
            .iter()
            .map(|x| match x {
                Value::String(s) => Ok(s.clone()),
                _ => Err(PolicyError::malformed(SYNTAX)),
            })
            .collect(),
        _ => Err(PolicyError::malformed(SYNTAX)),
    }
}

fn pattern_element(v: &Value, negated: bool) -> Result<PatternElement, PolicyError> {
    Ok(PatternElement {
        negated,
        values: string_or_array(v)?,
    })
}

const VENDOR_MSG: &str =
    "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.";

fn check_action(a: &str) -> Result<(), PolicyError> {
    if a == "*" {
        return Ok(());
    }
    let Some((vendor, _name)) = a.split_once(':') else {
        return Err(PolicyError::malformed(VENDOR_MSG));
    };
    if a.matches(':').count() > 1 {
        return Err(PolicyError::malformed(
            "Actions/Condition can contain only one colon.",
        ));
    }
    if vendor.is_empty() {
        return Err(PolicyError::malformed(VENDOR_MSG));
    }
    if !vendor
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'*' | b'?' | b'.'))
    {
        return Err(PolicyError::malformed(format!(
            "Vendor {vendor} is not valid"
        )));
    }
    Ok(())
}

fn check_resource(r: &str) -> Result<(), PolicyError> {
    if r == "*" {
        return Ok(());
    }
    let bad = || PolicyError::malformed(format!("Resource {r} must be in ARN format or \"*\"."));
    if !r.starts_with("arn:") {
        return Err(bad());
    }
    // `arn:aws:s3:::b` has five colons; IAM also accepts shorter ARNs that end in a wildcard
    // (`arn:aws:s3:*`), matched as a whole.
    if r.matches(':').count() < 5 && !r.ends_with('*') {
        return Err(bad());
    }
    let mut parts = r.splitn(4, ':');
    let vendor = parts.nth(2).unwrap_or("");
    if vendor.is_empty() {
        return Err(PolicyError::malformed(
            "Resource vendor must be fully qualified and cannot contain regexes.",
        ));
    }
    Ok(())
}

/// Each service words a bad principal its own way: IAM names it, S3 does not, KMS has its own
/// sentence (all three seen in AWS error output).
fn principal_error(e: PolicyError, kind: PolicyKind) -> PolicyError {
    match (&e, kind) {
        (PolicyError::Malformed(m), PolicyKind::KeyPolicy)
            if m.starts_with("Invalid principal") =>
        {
            PolicyError::malformed(
                "Policy contains a statement with one or more invalid principals.",
            )
        }
        (PolicyError::Malformed(m), PolicyKind::Resource) if m.starts_with("Invalid principal") => {
            PolicyError::malformed("Invalid principal in policy")
        }
        _ => e,
    }
}

fn invalid_principal(ty: &str, v: &str) -> PolicyError {
    PolicyError::malformed(format!("Invalid principal in policy: \"{ty}\":\"{v}\""))
}

fn parse_principal(v: &Value, negated: bool) -> Result<PrincipalElement, PolicyError> {
    let mut entries = Vec::new();
    match v {
        Value::String(s) if s == "*" => entries.push(PrincipalEntry::Any),
        Value::String(s) => return Err(invalid_principal("AWS", s)),
        Value::Object(map) => {
            if map.is_empty() {
                return Err(PolicyError::malformed(SYNTAX));
            }
            for (ty, vals) in map {
                for s in string_or_array(vals)? {
                    entries.push(principal_entry(ty, &s)?);
                }
            }
        }
        _ => return Err(PolicyError::malformed(SYNTAX)),
    }
    Ok(PrincipalElement { negated, entries })
}

fn is_account_id(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

fn principal_entry(ty: &str, s: &str) -> Result<PrincipalEntry, PolicyError> {
    match ty {
        "AWS" => {
            if s == "*" {
                return Ok(PrincipalEntry::Any);
            }
            if is_account_id(s) {
                return Ok(PrincipalEntry::Account(s.to_string()));
            }
            aws_principal_arn(s).ok_or_else(|| invalid_principal(ty, s))
        }
        "Service" | "Federated" | "CanonicalUser" => {
            if s.is_empty() || s.contains(['*', '?']) && s != "*" {
                return Err(invalid_principal(ty, s));
            }
            Ok(match ty {
                "Service" => PrincipalEntry::Service(s.to_string()),
                "Federated" => PrincipalEntry::Federated(s.to_string()),
                _ => PrincipalEntry::CanonicalUser(s.to_string()),
            })
        }
        _ => Err(invalid_principal(ty, s)),
    }
}

/// Accepts `arn:PARTITION:iam::ACCOUNT:(root|user/..|role/..|group?)` and
/// `arn:PARTITION:sts::ACCOUNT:(assumed-role/R/S|federated-user/N)`; wildcards are refused.
fn aws_principal_arn(s: &str) -> Option<PrincipalEntry> {
    if s.contains(['*', '?']) {
        return None;
    }
    let mut it = s.splitn(6, ':');
    let (arn, partition, service, region, account, resource) = (
        it.next()?,
        it.next()?,
        it.next()?,
        it.next()?,
        it.next()?,
        it.next()?,
    );
    if arn != "arn"
        || !partition.starts_with("aws")
        || !region.is_empty()
        || !is_account_id(account)
    {
        return None;
    }
    let ok = match service {
        "iam" => {
            resource == "root"
                || resource
                    .strip_prefix("user/")
                    .is_some_and(|r| !r.is_empty())
                || resource
                    .strip_prefix("role/")
                    .is_some_and(|r| !r.is_empty())
        }
        "sts" => {
            resource
                .strip_prefix("assumed-role/")
                .is_some_and(|r| r.split('/').filter(|p| !p.is_empty()).count() >= 2)
                || resource
                    .strip_prefix("federated-user/")
                    .is_some_and(|r| !r.is_empty())
        }
        _ => false,
    };
    if !ok {
        return None;
    }
    if service == "iam" && resource == "root" {
        return Some(PrincipalEntry::Account(account.to_string()));
    }
    Some(PrincipalEntry::Arn(s.to_string()))
}

fn condition_values(v: &Value) -> Result<Vec<String>, PolicyError> {
    let one = |x: &Value| match x {
        Value::String(s) => Ok(s.clone()),
        Value::Number(n) => Ok(n.to_string()),
        Value::Bool(b) => Ok(b.to_string()),
        _ => Err(PolicyError::malformed(SYNTAX)),
    };
    match v {
        Value::Array(a) => a.iter().map(one).collect(),
        other => Ok(vec![one(other)?]),
    }
}

fn parse_conditions(v: &Value, _vars: bool) -> Result<Vec<Condition>, PolicyError> {
    let ops = v
        .as_object()
        .ok_or_else(|| PolicyError::malformed(SYNTAX))?;
    let mut out = Vec::new();
    for (op_name, block) in ops {
        // The shape is checked before the operator name: a key written without an operator
        // (`"Condition": {"s3:prefix": "x"}`) is a syntax error for IAM
        // (aws-cloudformation/cfn-lint#3751).
        let block = block
            .as_object()
            .ok_or_else(|| PolicyError::malformed(SYNTAX))?;
        let (qualifier, operator, if_exists) = parse_operator(op_name)
            .ok_or_else(|| PolicyError::malformed(format!("Invalid Condition type : {op_name}")))?;
        for (key, vals) in block {
            check_condition_key(key)?;
            let values = condition_values(vals)?;
            check_condition_values(operator, op_name, &values)?;
            out.push(Condition {
                operator_name: op_name.clone(),
                qualifier,
                operator,
                if_exists,
                key: key.clone(),
                values,
            });
        }
    }
    Ok(out)
}

fn check_condition_key(key: &str) -> Result<(), PolicyError> {
    match key.split_once(':') {
        Some((vendor, name)) if !vendor.is_empty() && !name.is_empty() => Ok(()),
        _ => Err(PolicyError::malformed(VENDOR_MSG)),
    }
}

fn check_condition_values(
    op: Operator,
    op_name: &str,
    values: &[String],
) -> Result<(), PolicyError> {
    match op {
        Operator::DateEquals
        | Operator::DateNotEquals
        | Operator::DateLessThan
        | Operator::DateLessThanEquals
        | Operator::DateGreaterThan
        | Operator::DateGreaterThanEquals => {
            for v in values {
                if parse_date(v).is_none() {
                    return Err(PolicyError::malformed(format!(
                        "Invalid date value for condition operator {op_name}: {v}"
                    )));
                }
            }
        }
        Operator::Null => {
            for v in values {
                if !v.eq_ignore_ascii_case("true") && !v.eq_ignore_ascii_case("false") {
                    return Err(PolicyError::malformed(format!(
                        "Invalid value for condition operator Null: {v}"
                    )));
                }
            }
        }
        _ => {}
    }
    Ok(())
}
