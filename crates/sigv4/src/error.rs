//! Why a request failed authentication, and how AWS words it on the wire.
//!
//! AWS answers the same failure with different codes depending on the service's protocol:
//! awsQuery services (IAM, STS) say `SignatureDoesNotMatch`, awsJson services (KMS, Secrets
//! Manager) say `InvalidSignatureException`. [`SigError::code`] takes the [`Protocol`] so the
//! server renders the right one. No message ever contains the secret key, the signing key or
//! a session token.

use std::fmt;

/// The wire protocol family of the service that answers, which decides the error code spelling.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Protocol {
    /// awsQuery (IAM, STS, SNS, SQS-query) and ec2: `SignatureDoesNotMatch`, `IncompleteSignature`, ...
    Query,
    /// awsJson1.0/1.1, restJson1, rpc-v2-cbor: `InvalidSignatureException`, ... (the `Exception` family).
    Json,
}

/// A SigV4 authentication failure. Each variant maps to one AWS error code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SigError {
    /// Neither an `Authorization` header nor `X-Amz-Algorithm`/`X-Amz-Credential` query parameters.
    #[error("Request is missing Authentication Token")]
    MissingAuthenticationToken,

    /// The Authorization header or the presigned query parameters are malformed or incomplete.
    /// The message is AWS's wording, e.g. "Authorization header requires 'Credential' parameter. ...".
    #[error("{0}")]
    IncompleteSignature(String),

    /// The signature is well-formed but does not match what we calculated.
    #[error(
        "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
    )]
    SignatureDoesNotMatch,

    /// The scope (date, terminator, region or service) is wrong: AWS reports these as
    /// `SignatureDoesNotMatch` with a specific message such as
    /// "Credential should be scoped to a valid region.".
    #[error("{0}")]
    InvalidScope(String),

    /// Header mode: `X-Amz-Date` is more than 15 minutes in the past.
    /// "Signature expired: 20150830T123600Z is now earlier than 20150830T124100Z (20150830T125600Z - 15 min.)"
    #[error("Signature expired: {signed} is now earlier than {earliest} ({now} - 15 min.)")]
    SignatureExpired {
        /// The request's X-Amz-Date, basic ISO-8601.
        signed: String,
        /// `now` minus the allowed skew.
        earliest: String,
        /// The server's clock.
        now: String,
    },

    /// `X-Amz-Date` is more than 15 minutes in the future.
    #[error("Signature not yet current: {signed} is still later than {latest} ({now} + 15 min.)")]
    SignatureNotYetCurrent {
        /// The request's X-Amz-Date, basic ISO-8601.
        signed: String,
        /// `now` plus the allowed skew.
        latest: String,
        /// The server's clock.
        now: String,
    },

    /// Presigned mode: `now` is after `X-Amz-Date + X-Amz-Expires`. AWS's common-error table
    /// describes exactly this case as `RequestExpired` (HTTP 400).
    #[error("Request has expired.")]
    RequestExpired,

    /// A signed `x-amz-content-sha256` header names a digest that is not the body's.
    #[error("The provided 'x-amz-content-sha256' header does not match what was computed.")]
    ContentSha256Mismatch,

    /// The access key id is unknown. `verify` never returns it; the server does after its lookup.
    #[error("The security token included in the request is invalid.")]
    InvalidClientTokenId,

    /// The session token is expired. `verify` never returns it; the server does.
    #[error("The security token included in the request is expired")]
    ExpiredToken,
}

impl SigError {
    /// The AWS error code for a service of the given protocol.
    pub fn code(&self, protocol: Protocol) -> &'static str {
        match protocol {
            Protocol::Query => self.code_for_query(),
            Protocol::Json => self.code_for_json(),
        }
    }

    /// The awsQuery spelling (IAM, STS).
    pub fn code_for_query(&self) -> &'static str {
        match self {
            Self::MissingAuthenticationToken => "MissingAuthenticationToken",
            Self::IncompleteSignature(_) => "IncompleteSignature",
            Self::SignatureDoesNotMatch
            | Self::InvalidScope(_)
            | Self::SignatureExpired { .. }
            | Self::SignatureNotYetCurrent { .. } => "SignatureDoesNotMatch",
            Self::RequestExpired => "RequestExpired",
            Self::ContentSha256Mismatch => "XAmzContentSHA256Mismatch",
            Self::InvalidClientTokenId => "InvalidClientTokenId",
            Self::ExpiredToken => "ExpiredToken",
        }
    }

    /// The awsJson / restJson spelling (KMS, Secrets Manager, ...).
    pub fn code_for_json(&self) -> &'static str {
        match self {
            Self::MissingAuthenticationToken => "MissingAuthenticationTokenException",
            Self::IncompleteSignature(_) => "IncompleteSignatureException",
            Self::SignatureDoesNotMatch
            | Self::InvalidScope(_)
            | Self::SignatureExpired { .. }
            | Self::SignatureNotYetCurrent { .. } => "InvalidSignatureException",
            Self::RequestExpired => "RequestExpired",
            Self::ContentSha256Mismatch => "XAmzContentSHA256Mismatch",
            Self::InvalidClientTokenId => "UnrecognizedClientException",
            Self::ExpiredToken => "ExpiredTokenException",
        }
    }

    /// The human message, AWS's wording for awsQuery services.
    pub fn message(&self) -> String {
        self.to_string()
    }

    /// The message as a service of `protocol` words it. Only one differs: JSON and REST
    /// services (KMS, Lambda, API Gateway) say "Missing Authentication Token" where STS says
    /// "Request is missing Authentication Token".
    pub fn message_for(&self, protocol: Protocol) -> String {
        match (protocol, self) {
            (Protocol::Json, Self::MissingAuthenticationToken) => {
                "Missing Authentication Token".to_owned()
            }
            _ => self.to_string(),
        }
    }

    /// HTTP status for the given protocol. Query services answer 403 for signature problems
    /// and 400 for malformed ones; JSON services answer 400 for everything here except
    /// `MissingAuthenticationTokenException` and `UnrecognizedClientException` (403 in
    /// observed KMS/Secrets Manager replies). The common-error tables disagree between
    /// services; these are the values the SDKs see from the real endpoints.
    pub fn http_status(&self, protocol: Protocol) -> u16 {
        match (protocol, self) {
            (_, Self::MissingAuthenticationToken) => 403,
            (_, Self::InvalidClientTokenId) => 403,
            (_, Self::ExpiredToken) => 403,
            (_, Self::IncompleteSignature(_)) => 400,
            (_, Self::RequestExpired) => 400,
            (_, Self::ContentSha256Mismatch) => 400,
            (Protocol::Query, _) => 403,
            (Protocol::Json, _) => 400,
        }
    }
}

/// Formats a date as AWS prints it in messages: basic ISO-8601, `20150830T123600Z`.
pub(crate) struct AmzDate(pub time::OffsetDateTime);

impl fmt::Display for AmzDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let t = self.0.to_offset(time::UtcOffset::UTC);
        write!(
            f,
            "{:04}{:02}{:02}T{:02}{:02}{:02}Z",
            t.year(),
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute(),
            t.second()
        )
    }
}
