//! The policy document as written: the parsed, validated form of the JSON, element by element.

use crate::condition::{Operator, SetQualifier};
use crate::kind::PolicyKind;

/// The `Version` element.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    /// `2012-10-17`: policy variables are substituted.
    V2012_10_17,
    /// `2008-10-17`, or no `Version` at all: `${...}` is literal text.
    V2008_10_17,
}

impl Version {
    pub(crate) fn has_variables(self) -> bool {
        self == Version::V2012_10_17
    }
}

/// `Allow` or `Deny`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Effect {
    Allow,
    Deny,
}

/// One entry of a `Principal`/`NotPrincipal` element.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PrincipalEntry {
    /// `"*"` or `{"AWS": "*"}`: everyone, anonymous callers included.
    Any,
    /// An account, written as its id or `arn:aws:iam::ACCOUNT:root`; holds the account id.
    Account(String),
    /// An IAM user, role, role session or federated user ARN.
    Arn(String),
    /// `{"Service": "..."}`.
    Service(String),
    /// `{"Federated": "..."}`: an identity provider name or ARN.
    Federated(String),
    /// `{"CanonicalUser": "..."}`.
    CanonicalUser(String),
}

/// `Principal` or `NotPrincipal`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrincipalElement {
    pub negated: bool,
    pub entries: Vec<PrincipalEntry>,
}

/// `Action`/`NotAction` or `Resource`/`NotResource`: patterns as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatternElement {
    pub negated: bool,
    pub values: Vec<String>,
}

/// One `operator: { key: values }` pair of a `Condition` block.
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    /// The operator as written (`ForAnyValue:StringLikeIfExists`).
    pub operator_name: String,
    pub qualifier: Option<SetQualifier>,
    pub operator: Operator,
    pub if_exists: bool,
    /// The condition key as written (matching ignores case).
    pub key: String,
    /// The values as strings (JSON numbers and booleans are kept in their text form).
    pub values: Vec<String>,
}

/// One statement.
#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    pub sid: Option<String>,
    pub effect: Effect,
    pub principal: Option<PrincipalElement>,
    pub action: PatternElement,
    /// `None` only where the kind allows it (role trust policies).
    pub resource: Option<PatternElement>,
    pub conditions: Vec<Condition>,
}

/// A parsed and validated policy document.
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    pub(crate) kind: PolicyKind,
    pub(crate) version: Option<Version>,
    pub(crate) id: Option<String>,
    pub(crate) statements: Vec<Statement>,
}

impl Policy {
    /// The kind the document was parsed as.
    pub fn kind(&self) -> PolicyKind {
        self.kind
    }

    /// The `Version` element; `None` when the document has none (then 2008-10-17 applies).
    pub fn version(&self) -> Option<Version> {
        self.version
    }

    /// The effective language version.
    pub fn effective_version(&self) -> Version {
        self.version.unwrap_or(Version::V2008_10_17)
    }

    /// The `Id` element.
    pub fn id(&self) -> Option<&str> {
        self.id.as_deref()
    }

    /// The statements in document order.
    pub fn statements(&self) -> &[Statement] {
        &self.statements
    }
}
