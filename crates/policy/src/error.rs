//! The errors IAM returns when it refuses a policy document.

use std::fmt;

/// Why a policy document was refused, in IAM's own words.
///
/// `code()` is the AWS error code the server should answer with; `message()` is the text IAM
/// puts in the error, so callers can render it unchanged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PolicyError {
    /// `MalformedPolicyDocument`: bad JSON, unknown elements, bad values.
    Malformed(String),
    /// `LimitExceeded`: the document is larger than IAM allows for its kind.
    LimitExceeded(String),
}

impl PolicyError {
    pub(crate) fn malformed(msg: impl Into<String>) -> Self {
        PolicyError::Malformed(msg.into())
    }

    /// The AWS error code (`MalformedPolicyDocument` or `LimitExceeded`).
    pub fn code(&self) -> &'static str {
        match self {
            PolicyError::Malformed(_) => "MalformedPolicyDocument",
            PolicyError::LimitExceeded(_) => "LimitExceeded",
        }
    }

    /// The message IAM returns with the code.
    pub fn message(&self) -> &str {
        match self {
            PolicyError::Malformed(m) | PolicyError::LimitExceeded(m) => m,
        }
    }
}

impl fmt::Display for PolicyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code(), self.message())
    }
}

impl std::error::Error for PolicyError {}

/// IAM's catch-all text for documents it cannot read as a policy.
pub(crate) const SYNTAX: &str = "Syntax errors in policy.";
