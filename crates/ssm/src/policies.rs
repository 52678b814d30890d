//! Parameter policies (advanced tier): `Expiration`, `ExpirationNotification`,
//! `NoChangeNotification`, checked as AWS documents them. The background tick enforces
//! `Expiration` by deleting the parameter.
use rampart_aws_types::AwsError;
use serde_json::Value;

use crate::error::ssm;

pub const MAX_POLICIES: usize = 10;

fn attr_error(msg: impl Into<String>) -> AwsError {
    ssm("InvalidPolicyAttributeException", msg)
}

/// Parses the `Policies` text (a JSON array) into one JSON text per policy; returns the
/// expiration time if an `Expiration` policy is among them.
pub fn parse(text: &str) -> Result<(Vec<String>, Option<i64>), AwsError> {
    let list: Vec<Value> = serde_json::from_str(text).map_err(|_| {
        ssm(
            "InvalidPolicyTypeException",
            "The policy is not valid JSON: a JSON array of policies is expected.",
        )
    })?;
    if list.len() > MAX_POLICIES {
        return Err(ssm(
            "PoliciesLimitExceededException",
            format!(
                "You specified more than the maximum number of allowed policies ({MAX_POLICIES})."
            ),
        ));
    }
    let mut out = Vec::new();
    let mut expires = None;
    let mut seen = std::collections::HashSet::new();
    for p in &list {
        let kind = p.get("Type").and_then(Value::as_str).unwrap_or_default();
        let attrs = p.get("Attributes").cloned().unwrap_or(Value::Null);
        if !seen.insert(kind.to_string()) {
            return Err(ssm(
                "IncompatiblePolicyException",
                format!(
                    "There is a conflict in the policies specified for this parameter: {kind} appears twice."
                ),
            ));
        }
        match kind {
            "Expiration" => {
                let ts = attrs
                    .get("Timestamp")
                    .and_then(Value::as_str)
                    .ok_or_else(|| {
                        attr_error("Expiration policy requires the Timestamp attribute.")
                    })?;
                let t =
                    time::OffsetDateTime::parse(ts, &time::format_description::well_known::Rfc3339)
                        .map_err(|_| {
                            attr_error(format!("Timestamp {ts} is not a valid ISO 8601 timestamp."))
                        })?;
                expires = Some(t.unix_timestamp());
            }
            "ExpirationNotification" => check_unit(&attrs, "Before")?,
            "NoChangeNotification" => check_unit(&attrs, "After")?,
            other => {
                return Err(ssm(
                    "InvalidPolicyTypeException",
                    format!(
                        "The policy type {other} is not supported. Supported types are Expiration, ExpirationNotification and NoChangeNotification."
                    ),
                ));
            }
        }
        out.push(serde_json::to_string(p).map_err(|_| crate::error::internal())?);
    }
    Ok((out, expires))
}

/// The policy actions due for a version modified at `modified`: `(when, action)` with action
/// `expire`, `expiration-notice` or `no-change-notice`.
pub fn due_actions(policies: &[String], modified: i64) -> Vec<(i64, &'static str)> {
    let mut expires = None;
    let mut out = Vec::new();
    for text in policies {
        let Ok(p) = serde_json::from_str::<Value>(text) else {
            continue;
        };
        let attrs = p.get("Attributes").cloned().unwrap_or(Value::Null);
        match p.get("Type").and_then(Value::as_str) {
            Some("Expiration") => {
                expires = attrs
                    .get("Timestamp")
                    .and_then(Value::as_str)
                    .and_then(|ts| {
                        time::OffsetDateTime::parse(
                            ts,
                            &time::format_description::well_known::Rfc3339,
                        )
                        .ok()
                    })
                    .map(|t| t.unix_timestamp());
                if let Some(e) = expires {
                    out.push((e, "expire"));
                }
            }
            Some("NoChangeNotification") => {
                if let Some(secs) = unit_seconds(&attrs, "After") {
                    out.push((modified + secs, "no-change-notice"));
                }
            }
            _ => {}
        }
    }
    for text in policies {
        let Ok(p) = serde_json::from_str::<Value>(text) else {
            continue;
        };
        if p.get("Type").and_then(Value::as_str) == Some("ExpirationNotification")
            && let (Some(e), Some(secs)) = (
                expires,
                unit_seconds(
                    &p.get("Attributes").cloned().unwrap_or(Value::Null),
                    "Before",
                ),
            )
        {
            out.push((e - secs, "expiration-notice"));
        }
    }
    out
}

fn unit_seconds(attrs: &Value, field: &str) -> Option<i64> {
    let n: i64 = attrs
        .get(field)
        .and_then(|v| {
            v.as_str()
                .map(str::to_string)
                .or_else(|| v.as_u64().map(|n| n.to_string()))
        })?
        .parse()
        .ok()?;
    match attrs.get("Unit").and_then(Value::as_str)? {
        "Days" => Some(n * 86_400),
        "Hours" => Some(n * 3_600),
        _ => None,
    }
}

fn check_unit(attrs: &Value, field: &str) -> Result<(), AwsError> {
    let n = attrs
        .get(field)
        .and_then(|v| {
            v.as_str()
                .map(str::to_string)
                .or_else(|| v.as_u64().map(|n| n.to_string()))
        })
        .and_then(|s| s.parse::<u64>().ok())
        .ok_or_else(|| attr_error(format!("The {field} attribute must be a positive number.")))?;
    let unit = attrs
        .get("Unit")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if n == 0 || !matches!(unit, "Days" | "Hours") {
        return Err(attr_error(format!(
            "The {field} attribute must be positive and Unit must be Days or Hours."
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policies() {
        let (p, exp) = parse(r#"[{"Type":"Expiration","Version":"1.0","Attributes":{"Timestamp":"2030-01-01T00:00:00.000Z"}},{"Type":"NoChangeNotification","Version":"1.0","Attributes":{"After":"20","Unit":"Days"}}]"#).unwrap();
        assert_eq!(p.len(), 2);
        assert_eq!(exp, Some(1_893_456_000));
        assert_eq!(
            parse("nope").unwrap_err().code,
            "InvalidPolicyTypeException"
        );
        assert_eq!(
            parse(r#"[{"Type":"Bogus"}]"#).unwrap_err().code,
            "InvalidPolicyTypeException"
        );
        assert_eq!(
            parse(r#"[{"Type":"Expiration","Attributes":{"Timestamp":"soon"}}]"#)
                .unwrap_err()
                .code,
            "InvalidPolicyAttributeException"
        );
        assert_eq!(
            parse(
                r#"[{"Type":"ExpirationNotification","Attributes":{"Before":"5","Unit":"Weeks"}}]"#
            )
            .unwrap_err()
            .code,
            "InvalidPolicyAttributeException"
        );
    }
}
