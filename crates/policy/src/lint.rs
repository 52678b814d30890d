//! Lint findings for a valid policy, in the spirit of IAM Access Analyzer's policy validation:
//! things AWS accepts but that are probably mistakes. Findings never reject a policy.

use std::fmt;

use crate::catalogue::Catalogue;
use crate::condition::{Operator, SetQualifier};
use crate::document::{Effect, Policy, Statement};
use crate::pattern::{Matcher, Resolve};
use crate::value::{Cidr, parse_bool, parse_number};

/// How serious a finding is (Access Analyzer's four finding types).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Severity {
    /// The policy cannot work as written (unknown action, value of the wrong type).
    Error,
    /// The policy grants more than it probably means to.
    SecurityWarning,
    /// The policy does not follow best practice.
    Warning,
    /// The policy can be simplified.
    Suggestion,
}

/// One lint finding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub severity: Severity,
    /// A stable code such as `INVALID_ACTION` (Access Analyzer's issue code where it has one).
    pub code: &'static str,
    /// The statement (0-based) the finding is about, if any.
    pub statement: Option<usize>,
    pub message: String,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.statement {
            Some(i) => write!(
                f,
                "{:?} {} (statement {i}): {}",
                self.severity, self.code, self.message
            ),
            None => write!(f, "{:?} {}: {}", self.severity, self.code, self.message),
        }
    }
}

struct NoVars;
impl Resolve for NoVars {
    fn resolve(&self, _: &str, _: u64) -> Option<&str> {
        None
    }
}

impl Policy {
    /// Lint findings against the embedded IAM action catalogue.
    pub fn validate(&self) -> Vec<Finding> {
        self.validate_with(Catalogue::builtin())
    }

    /// Lint findings against a given catalogue.
    pub fn validate_with(&self, cat: &Catalogue) -> Vec<Finding> {
        let mut out = Vec::new();
        if self.version.is_none() {
            out.push(Finding {
                severity: Severity::Warning,
                code: "MISSING_VERSION",
                statement: None,
                message: "Add \"Version\": \"2012-10-17\"; without it policy variables are plain \
                          text (2008-10-17 rules)."
                    .into(),
            });
        }
        let vars = self.effective_version().has_variables();
        for (i, s) in self.statements.iter().enumerate() {
            lint_statement(i, s, vars, cat, &mut out);
        }
        out
    }
}

fn push(out: &mut Vec<Finding>, severity: Severity, code: &'static str, i: usize, message: String) {
    out.push(Finding {
        severity,
        code,
        statement: Some(i),
        message,
    });
}

fn lint_statement(i: usize, s: &Statement, vars: bool, cat: &Catalogue, out: &mut Vec<Finding>) {
    if s.effect == Effect::Allow && s.principal.as_ref().is_some_and(|p| p.negated) {
        push(
            out,
            Severity::SecurityWarning,
            "ALLOW_WITH_NOT_PRINCIPAL",
            i,
            "Allow with NotPrincipal grants access to every principal not listed, anonymous \
             callers included."
                .into(),
        );
    }
    if !vars {
        let texts = s
            .resource
            .iter()
            .flat_map(|r| r.values.iter())
            .chain(s.conditions.iter().flat_map(|c| c.values.iter()));
        if texts.into_iter().any(|t| t.contains("${")) {
            push(
                out,
                Severity::Warning,
                "VARIABLE_WITH_OLD_VERSION",
                i,
                "Policy variables are only substituted with \"Version\": \"2012-10-17\"; here \
                 they are literal text."
                    .into(),
            );
        }
    }

    // Actions.
    let star_resource = s
        .resource
        .as_ref()
        .is_some_and(|r| !r.negated && r.values.iter().any(|v| v == "*"));
    if s.effect == Effect::Allow && !s.action.negated && star_resource {
        let passes_role = s
            .action
            .values
            .iter()
            .any(|a| Matcher::lowercase(a).matches("iam:passrole", &NoVars) == Some(true));
        if passes_role {
            push(
                out,
                Severity::SecurityWarning,
                "PASS_ROLE_WITH_STAR_IN_RESOURCE",
                i,
                "iam:PassRole with \"Resource\": \"*\" lets the principal pass any role to any \
                 service."
                    .into(),
            );
        }
    }
    for a in &s.action.values {
        if a == "*" {
            continue;
        }
        let Some((vendor, name)) = a.split_once(':') else {
            continue;
        };
        if vendor.contains(['*', '?']) {
            if !cat.any_action_matches(a) {
                push(
                    out,
                    Severity::Error,
                    "INVALID_ACTION",
                    i,
                    format!("The action pattern {a} matches no action of any service."),
                );
            }
            continue;
        }
        if !cat.has_service(vendor) {
            push(
                out,
                Severity::Error,
                "INVALID_SERVICE",
                i,
                format!("The service prefix {vendor} (in {a}) does not exist."),
            );
            continue;
        }
        if name.contains(['*', '?']) {
            if !cat.any_action_matches(a) {
                push(
                    out,
                    Severity::Error,
                    "INVALID_ACTION",
                    i,
                    format!("The action pattern {a} matches no action of {vendor}."),
                );
            }
        } else if cat.action(a).is_none() {
            push(
                out,
                Severity::Error,
                "INVALID_ACTION",
                i,
                format!("The action {a} does not exist."),
            );
        }
    }
    let wildcards: Vec<Matcher> = s
        .action
        .values
        .iter()
        .filter(|a| a.contains(['*', '?']))
        .map(|a| Matcher::lowercase(a))
        .collect();
    if !wildcards.is_empty() {
        for a in s.action.values.iter().filter(|a| !a.contains(['*', '?'])) {
            let lower = a.to_lowercase();
            if wildcards
                .iter()
                .any(|m| m.matches(&lower, &NoVars) == Some(true))
            {
                push(
                    out,
                    Severity::Suggestion,
                    "REDUNDANT_ACTION",
                    i,
                    format!(
                        "The action {a} is already covered by a wildcard in the same statement."
                    ),
                );
            }
        }
    }

    // Conditions.
    for c in &s.conditions {
        let known = cat.condition_key(&c.key);
        if known.is_none() && !cat.is_unassociated_prefix(&c.key) {
            // Access Analyzer's codes for keys no service documents.
            let global = c
                .key
                .get(..4)
                .is_some_and(|p| p.eq_ignore_ascii_case("aws:"));
            let code = if global {
                "INVALID_GLOBAL_CONDITION_KEY"
            } else {
                "INVALID_SERVICE_CONDITION_KEY"
            };
            push(
                out,
                Severity::Error,
                code,
                i,
                format!(
                    "The condition key {} is not documented for any service.",
                    c.key
                ),
            );
        }
        if let Some(t) = known {
            match (c.qualifier, t.is_multivalued()) {
                (Some(q), false) if c.operator != Operator::Null => {
                    let (severity, code) = match q {
                        SetQualifier::ForAllValues => (
                            Severity::SecurityWarning,
                            "FORALLVALUES_WITH_SINGLE_VALUED_KEY",
                        ),
                        SetQualifier::ForAnyValue => {
                            (Severity::Warning, "FORANYVALUE_WITH_SINGLE_VALUED_KEY")
                        }
                    };
                    push(
                        out,
                        severity,
                        code,
                        i,
                        format!(
                            "{} uses a set operator with the single-valued key {}; this can \
                                 be overly permissive.",
                            c.operator_name, c.key
                        ),
                    );
                }
                (None, true) if c.operator != Operator::Null => {
                    push(
                        out,
                        Severity::Warning,
                        "MULTIVALUED_KEY_WITHOUT_SET_OPERATOR",
                        i,
                        format!(
                            "{} is multivalued; use ForAllValues: or ForAnyValue: with {}.",
                            c.key, c.operator_name
                        ),
                    );
                }
                _ => {}
            }
        }
        if c.qualifier == Some(SetQualifier::ForAllValues) && s.effect == Effect::Allow {
            let null_checked = s.conditions.iter().any(|n| {
                n.operator == Operator::Null
                    && n.key.eq_ignore_ascii_case(&c.key)
                    && n.values.iter().any(|v| v.eq_ignore_ascii_case("false"))
            });
            if !null_checked {
                push(
                    out,
                    Severity::SecurityWarning,
                    "FORALLVALUES_WITH_ALLOW",
                    i,
                    format!(
                        "ForAllValues with Allow is also true when {} is missing; add a Null \
                             check.",
                        c.key
                    ),
                );
            }
        }
        lint_values(i, c.operator, &c.operator_name, &c.values, out);
    }
}

fn lint_values(i: usize, op: Operator, name: &str, values: &[String], out: &mut Vec<Finding>) {
    for v in values {
        let bad = match op {
            Operator::NumericEquals
            | Operator::NumericNotEquals
            | Operator::NumericLessThan
            | Operator::NumericLessThanEquals
            | Operator::NumericGreaterThan
            | Operator::NumericGreaterThanEquals => parse_number(v).is_none(),
            Operator::IpAddress | Operator::NotIpAddress => Cidr::parse(v).is_none(),
            Operator::Bool => !v.contains("${") && parse_bool(v).is_none(),
            _ => false,
        };
        if bad {
            push(
                out,
                Severity::Error,
                "INVALID_CONDITION_VALUE",
                i,
                format!("{v} is not a valid value for {name}; the condition can never match it."),
            );
        }
    }
}
