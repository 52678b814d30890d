//! Resource policies on secrets: parsed and linted by the policy engine, and the "public
//! policy" test behind `BlockPublicPolicy` (an Allow to every principal, or to all but some,
//! that no condition narrows to an account, organization, source or network).
use rampart_policy::{Effect, Finding, Policy, PolicyKind, PrincipalEntry, Severity};

/// Condition keys that tie a statement to a known set of callers.
const NARROWING_KEYS: &[&str] = &[
    "aws:principalaccount",
    "aws:principalarn",
    "aws:principalorgid",
    "aws:principalorgpaths",
    "aws:sourceaccount",
    "aws:sourcearn",
    "aws:sourceowner",
    "aws:sourceorgid",
    "aws:sourcevpc",
    "aws:sourcevpce",
    "aws:sourceip",
    "aws:userid",
    "aws:username",
];

pub fn parse(text: &str) -> Result<Policy, String> {
    Policy::parse(text, PolicyKind::Resource).map_err(|e| e.message().to_string())
}

/// Whether the policy grants broad (public) access.
pub fn is_public(policy: &Policy) -> bool {
    policy.statements().iter().any(|s| {
        if s.effect != Effect::Allow {
            return false;
        }
        let broad = s.principal.as_ref().is_some_and(|p| {
            p.negated || p.entries.iter().any(|e| matches!(e, PrincipalEntry::Any))
        });
        let narrowed = s.conditions.iter().any(|c| {
            NARROWING_KEYS.contains(&c.key.to_ascii_lowercase().as_str())
                && !c.values.iter().any(|v| v == "*")
        });
        broad && !narrowed
    })
}

/// The engine's findings, those that make validation fail first.
pub fn findings(policy: &Policy) -> Vec<Finding> {
    let mut f = policy.validate();
    f.sort_by_key(|x| x.severity);
    f
}

pub fn blocks_validation(f: &Finding) -> bool {
    f.severity == Severity::Error
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(principal: &str, cond: &str) -> Policy {
        parse(&format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{principal},"Action":"secretsmanager:GetSecretValue","Resource":"*"{cond}}}]}}"#
        ))
        .unwrap()
    }

    #[test]
    fn public_detection() {
        assert!(is_public(&p(r#""*""#, "")));
        assert!(is_public(&p(r#"{"AWS":"*"}"#, "")));
        assert!(!is_public(&p(
            r#"{"AWS":"arn:aws:iam::111122223333:root"}"#,
            ""
        )));
        assert!(!is_public(&p(
            r#""*""#,
            r#","Condition":{"StringEquals":{"aws:PrincipalAccount":"111122223333"}}"#
        )));
        assert!(is_public(&p(
            r#""*""#,
            r#","Condition":{"StringEquals":{"aws:RequestedRegion":"us-east-1"}}"#
        )));
        assert!(parse("{not json").is_err());
    }
}
