//! The one error type every layer returns. Each protocol codec renders it the way AWS does.
use std::borrow::Cow;
use std::fmt;

/// An AWS-style error: a code (`NoSuchEntity`, `ValidationException`, ...), an HTTP status and a
/// message meant for the caller. Messages must never carry secrets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwsError {
    pub code: Cow<'static, str>,
    pub status: u16,
    pub message: String,
    /// `Sender` (client's fault) or `Receiver` (ours); awsQuery renders it as `<Type>`.
    pub sender_fault: bool,
}

impl AwsError {
    pub fn new(
        code: impl Into<Cow<'static, str>>,
        status: u16,
        message: impl Into<String>,
    ) -> Self {
        let status_code = status;
        AwsError {
            code: code.into(),
            status,
            message: message.into(),
            sender_fault: status_code < 500,
        }
    }

    /// `ValidationException` (JSON protocols) / `ValidationError` (query protocols) is chosen by
    /// the codec; handlers use this neutral constructor.
    pub fn validation(message: impl Into<String>) -> Self {
        AwsError::new(VALIDATION, 400, message)
    }

    pub fn access_denied(message: impl Into<String>) -> Self {
        AwsError::new(ACCESS_DENIED, 403, message)
    }

    pub fn internal(message: impl Into<String>) -> Self {
        AwsError::new("InternalFailure", 500, message)
    }

    pub fn not_implemented(operation: &str) -> Self {
        AwsError::new(
            "NotImplemented",
            501,
            format!("The operation {operation} is not implemented by Rampart yet."),
        )
    }

    pub fn is_server_error(&self) -> bool {
        self.status >= 500
    }
}

/// Neutral code for input validation failures; the codec renders `ValidationException` for JSON
/// protocols and `ValidationError` for awsQuery, as AWS does.
pub const VALIDATION: &str = "ValidationError";
/// Neutral code for authorization failures; JSON protocols render `AccessDeniedException`.
pub const ACCESS_DENIED: &str = "AccessDenied";

impl fmt::Display for AwsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({}): {}", self.code, self.status, self.message)
    }
}

impl std::error::Error for AwsError {}
