//! Condition operators: parsing their names, compiling their values, deciding them.
//!
//! Semantics follow the IAM condition operator reference:
//! <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html>
//! - several values for one key OR together; several keys and operators AND together;
//! - a key missing from the request makes a positive operator false and a negated operator
//!   (`StringNotEquals`, `NotIpAddress`, `ArnNotLike`, ...) true;
//! - `...IfExists` is true when the key is missing;
//! - `ForAllValues:` is true when the key is missing or empty, `ForAnyValue:` false;
//! - a policy variable that cannot be resolved makes the condition false.

use std::net::IpAddr;

use crate::arn::{ArnParts, ArnPattern};
use crate::context::{ContextEntry, ContextValue, RequestContext};
use crate::document::Condition;
use crate::hash::key_hash;
use crate::pattern::{Matcher, Wild};
use crate::value::{Cidr, parse_bool, parse_date, parse_number};

/// A condition operator without its qualifier and `IfExists` suffix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Operator {
    StringEquals,
    StringNotEquals,
    StringEqualsIgnoreCase,
    StringNotEqualsIgnoreCase,
    StringLike,
    StringNotLike,
    NumericEquals,
    NumericNotEquals,
    NumericLessThan,
    NumericLessThanEquals,
    NumericGreaterThan,
    NumericGreaterThanEquals,
    DateEquals,
    DateNotEquals,
    DateLessThan,
    DateLessThanEquals,
    DateGreaterThan,
    DateGreaterThanEquals,
    Bool,
    BinaryEquals,
    IpAddress,
    NotIpAddress,
    ArnEquals,
    ArnLike,
    ArnNotEquals,
    ArnNotLike,
    Null,
}

/// `ForAllValues:` or `ForAnyValue:`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SetQualifier {
    ForAllValues,
    ForAnyValue,
}

impl Operator {
    /// Every operator, for exhaustive tests and tooling.
    pub const ALL: [Operator; 27] = [
        Operator::StringEquals,
        Operator::StringNotEquals,
        Operator::StringEqualsIgnoreCase,
        Operator::StringNotEqualsIgnoreCase,
        Operator::StringLike,
        Operator::StringNotLike,
        Operator::NumericEquals,
        Operator::NumericNotEquals,
        Operator::NumericLessThan,
        Operator::NumericLessThanEquals,
        Operator::NumericGreaterThan,
        Operator::NumericGreaterThanEquals,
        Operator::DateEquals,
        Operator::DateNotEquals,
        Operator::DateLessThan,
        Operator::DateLessThanEquals,
        Operator::DateGreaterThan,
        Operator::DateGreaterThanEquals,
        Operator::Bool,
        Operator::BinaryEquals,
        Operator::IpAddress,
        Operator::NotIpAddress,
        Operator::ArnEquals,
        Operator::ArnLike,
        Operator::ArnNotEquals,
        Operator::ArnNotLike,
        Operator::Null,
    ];

    /// The operator's name in a policy.
    pub fn name(self) -> &'static str {
        match self {
            Operator::StringEquals => "StringEquals",
            Operator::StringNotEquals => "StringNotEquals",
            Operator::StringEqualsIgnoreCase => "StringEqualsIgnoreCase",
            Operator::StringNotEqualsIgnoreCase => "StringNotEqualsIgnoreCase",
            Operator::StringLike => "StringLike",
            Operator::StringNotLike => "StringNotLike",
            Operator::NumericEquals => "NumericEquals",
            Operator::NumericNotEquals => "NumericNotEquals",
            Operator::NumericLessThan => "NumericLessThan",
            Operator::NumericLessThanEquals => "NumericLessThanEquals",
            Operator::NumericGreaterThan => "NumericGreaterThan",
            Operator::NumericGreaterThanEquals => "NumericGreaterThanEquals",
            Operator::DateEquals => "DateEquals",
            Operator::DateNotEquals => "DateNotEquals",
            Operator::DateLessThan => "DateLessThan",
            Operator::DateLessThanEquals => "DateLessThanEquals",
            Operator::DateGreaterThan => "DateGreaterThan",
            Operator::DateGreaterThanEquals => "DateGreaterThanEquals",
            Operator::Bool => "Bool",
            Operator::BinaryEquals => "BinaryEquals",
            Operator::IpAddress => "IpAddress",
            Operator::NotIpAddress => "NotIpAddress",
            Operator::ArnEquals => "ArnEquals",
            Operator::ArnLike => "ArnLike",
            Operator::ArnNotEquals => "ArnNotEquals",
            Operator::ArnNotLike => "ArnNotLike",
            Operator::Null => "Null",
        }
    }

    /// Negated operators are true when their positive form is false (and when the key is
    /// missing).
    pub fn is_negated(self) -> bool {
        matches!(
            self,
            Operator::StringNotEquals
                | Operator::StringNotEqualsIgnoreCase
                | Operator::StringNotLike
                | Operator::NumericNotEquals
                | Operator::DateNotEquals
                | Operator::NotIpAddress
                | Operator::ArnNotEquals
                | Operator::ArnNotLike
        )
    }

    fn from_name(s: &str) -> Option<Operator> {
        Operator::ALL
            .into_iter()
            .find(|o| o.name().eq_ignore_ascii_case(s))
    }
}

/// Splits `ForAnyValue:StringLikeIfExists` into its parts. Names are matched ignoring case (a
/// lenient reading: the docs do not say, and we never reject what AWS may accept); `Null`
/// takes no `IfExists`.
pub(crate) fn parse_operator(name: &str) -> Option<(Option<SetQualifier>, Operator, bool)> {
    let (qualifier, rest) = match name.split_once(':') {
        Some((q, rest)) if q.eq_ignore_ascii_case("ForAllValues") => {
            (Some(SetQualifier::ForAllValues), rest)
        }
        Some((q, rest)) if q.eq_ignore_ascii_case("ForAnyValue") => {
            (Some(SetQualifier::ForAnyValue), rest)
        }
        Some(_) => return None,
        None => (None, name),
    };
    if let Some(op) = Operator::from_name(rest) {
        return Some((qualifier, op, false));
    }
    let cut = rest.len().checked_sub("IfExists".len())?;
    let (base, suffix) = (rest.get(..cut)?, rest.get(cut..)?);
    if !suffix.eq_ignore_ascii_case("IfExists") {
        return None;
    }
    let op = Operator::from_name(base)?;
    if op == Operator::Null {
        return None;
    }
    Some((qualifier, op, true))
}

/// A condition value compiled for its operator.
#[derive(Debug, Clone, PartialEq)]
enum Values {
    /// String operators (patterns; `Wild::No` for the Equals forms).
    Str(Box<[Matcher]>),
    Num(Box<[Option<f64>]>),
    Date(Box<[i64]>),
    Bool(Box<[Matcher]>),
    Ip(Box<[Option<Cidr>]>),
    Arn(Box<[ArnPattern]>),
    Binary(Box<[Box<str>]>),
    /// `Null`: true means "the key must be absent".
    Null(Box<[bool]>),
}

/// A condition compiled for deciding.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct CompiledCondition {
    key: Box<str>,
    key_hash: u64,
    op: Operator,
    qualifier: Option<SetQualifier>,
    if_exists: bool,
    values: Values,
}

impl CompiledCondition {
    pub(crate) fn new(c: &Condition, vars: bool) -> CompiledCondition {
        let key = c.key.to_lowercase();
        let key_hash = key_hash(&key);
        let op = c.operator;
        let v = &c.values;
        let values = match op {
            Operator::StringEquals
            | Operator::StringNotEquals
            | Operator::StringEqualsIgnoreCase
            | Operator::StringNotEqualsIgnoreCase => {
                Values::Str(v.iter().map(|s| Matcher::new(s, Wild::No, vars)).collect())
            }
            Operator::StringLike | Operator::StringNotLike => {
                Values::Str(v.iter().map(|s| Matcher::new(s, Wild::Yes, vars)).collect())
            }
            Operator::NumericEquals
            | Operator::NumericNotEquals
            | Operator::NumericLessThan
            | Operator::NumericLessThanEquals
            | Operator::NumericGreaterThan
            | Operator::NumericGreaterThanEquals => {
                Values::Num(v.iter().map(|s| parse_number(s)).collect())
            }
            Operator::DateEquals
            | Operator::DateNotEquals
            | Operator::DateLessThan
            | Operator::DateLessThanEquals
            | Operator::DateGreaterThan
            | Operator::DateGreaterThanEquals => {
                Values::Date(v.iter().filter_map(|s| parse_date(s)).collect())
            }
            Operator::Bool => {
                Values::Bool(v.iter().map(|s| Matcher::new(s, Wild::No, vars)).collect())
            }
            Operator::BinaryEquals => Values::Binary(v.iter().map(|s| s.as_str().into()).collect()),
            Operator::IpAddress | Operator::NotIpAddress => {
                Values::Ip(v.iter().map(|s| Cidr::parse(s)).collect())
            }
            Operator::ArnEquals
            | Operator::ArnLike
            | Operator::ArnNotEquals
            | Operator::ArnNotLike => {
                Values::Arn(v.iter().map(|s| ArnPattern::new(s, vars)).collect())
            }
            Operator::Null => {
                Values::Null(v.iter().map(|s| parse_bool(s).unwrap_or(false)).collect())
            }
        };
        CompiledCondition {
            key: key.into_boxed_str(),
            key_hash,
            op,
            qualifier: c.qualifier,
            if_exists: c.if_exists,
            values,
        }
    }

    /// Decides the condition against the request.
    #[inline]
    pub(crate) fn eval(&self, ctx: &RequestContext) -> bool {
        let entry = ctx.get(&self.key, self.key_hash);
        if let Values::Null(expect_absent) = &self.values {
            let absent = entry.is_none_or(|e| e.values().is_empty());
            return expect_absent.contains(&absent);
        }
        let values: &[ContextValue] = match entry {
            Some(ContextEntry::Single(v)) => std::slice::from_ref(v),
            Some(ContextEntry::Multi(v)) => v,
            None => &[],
        };
        // "...IfExists: if the key is not present, evaluate the condition element as true",
        // whatever the set operator.
        if values.is_empty() && self.if_exists {
            return true;
        }
        match self.qualifier {
            Some(SetQualifier::ForAllValues) => {
                // Vacuously true for a missing or empty key.
                for v in values {
                    match self.single(v, ctx) {
                        Some(true) => {}
                        _ => return false,
                    }
                }
                true
            }
            Some(SetQualifier::ForAnyValue) => {
                values.iter().any(|v| self.single(v, ctx) == Some(true))
            }
            None => {
                if values.is_empty() {
                    return self.if_exists || self.op.is_negated();
                }
                // A multivalued key without a set qualifier: a positive operator matches when
                // any value matches, a negated one when no value matches the positive form.
                // AWS documents this case only as "do not do it"; this is the reading its
                // behaviour is commonly described with.
                if self.op.is_negated() {
                    let mut any_positive = false;
                    for v in values {
                        match self.positive(v, ctx) {
                            None => return false,
                            Some(true) => any_positive = true,
                            Some(false) => {}
                        }
                    }
                    !any_positive
                } else {
                    let mut any = false;
                    for v in values {
                        match self.positive(v, ctx) {
                            None => return false,
                            Some(true) => any = true,
                            Some(false) => {}
                        }
                    }
                    any
                }
            }
        }
    }

    /// The operator applied to one request value (negated operators negate). `None` when a
    /// policy variable could not be resolved.
    #[inline]
    fn single(&self, v: &ContextValue, ctx: &RequestContext) -> Option<bool> {
        let p = self.positive(v, ctx)?;
        Some(if self.op.is_negated() { !p } else { p })
    }

    /// The positive form of the operator: does `v` match any policy value?
    fn positive(&self, v: &ContextValue, ctx: &RequestContext) -> Option<bool> {
        let s = v.as_str();
        match &self.values {
            Values::Str(ms) => {
                let ignore_case = matches!(
                    self.op,
                    Operator::StringEqualsIgnoreCase | Operator::StringNotEqualsIgnoreCase
                );
                let mut unresolved = false;
                for m in ms.iter() {
                    let r = if ignore_case {
                        m.eq_ignore_case(s, ctx)
                    } else {
                        m.matches(s, ctx)
                    };
                    match r {
                        Some(true) => return Some(true),
                        Some(false) => {}
                        None => unresolved = true,
                    }
                }
                if unresolved { None } else { Some(false) }
            }
            Values::Bool(ms) => {
                let mut unresolved = false;
                for m in ms.iter() {
                    match m.eq_ignore_case(s, ctx) {
                        Some(true) => return Some(true),
                        Some(false) => {}
                        None => unresolved = true,
                    }
                }
                if unresolved { None } else { Some(false) }
            }
            Values::Num(ns) => {
                let Some(x) = v.number_value() else {
                    return Some(false);
                };
                Some(
                    ns.iter()
                        .flatten()
                        .any(|n| compare(self.op, x.partial_cmp(n))),
                )
            }
            Values::Date(ds) => {
                let Some(x) = v.date_value() else {
                    return Some(false);
                };
                Some(ds.iter().any(|d| compare(self.op, Some(x.cmp(d)))))
            }
            Values::Ip(cs) => {
                let Some(ip): Option<IpAddr> = v.ip_value() else {
                    return Some(false);
                };
                Some(cs.iter().flatten().any(|c| c.contains(ip)))
            }
            Values::Arn(ps) => {
                let parts = ArnParts::split(s);
                let Some(parts) = parts else {
                    return Some(false);
                };
                let mut unresolved = false;
                for p in ps.iter() {
                    match p.matches(s, Some(&parts), ctx) {
                        Some(true) => return Some(true),
                        Some(false) => {}
                        None => unresolved = true,
                    }
                }
                if unresolved { None } else { Some(false) }
            }
            Values::Binary(bs) => Some(bs.iter().any(|b| **b == *s)),
            Values::Null(_) => Some(false),
        }
    }
}

/// Applies a comparison operator to `request.cmp(policy)`; the Not forms are handled by the
/// caller through `is_negated` (their positive form is equality).
fn compare(op: Operator, ord: Option<std::cmp::Ordering>) -> bool {
    use std::cmp::Ordering::{Equal, Greater, Less};
    let Some(ord) = ord else {
        return false;
    };
    match op {
        Operator::NumericEquals
        | Operator::NumericNotEquals
        | Operator::DateEquals
        | Operator::DateNotEquals => ord == Equal,
        Operator::NumericLessThan | Operator::DateLessThan => ord == Less,
        Operator::NumericLessThanEquals | Operator::DateLessThanEquals => ord != Greater,
        Operator::NumericGreaterThan | Operator::DateGreaterThan => ord == Greater,
        Operator::NumericGreaterThanEquals | Operator::DateGreaterThanEquals => ord != Less,
        _ => false,
    }
}
