//! awsQuery (IAM, STS): requests are form parameters (`Tags.member.1.Key=...`), responses XML.
mod decode;
mod encode;

pub use decode::decode_query;
pub use encode::encode_query;
pub(crate) use encode::escape_into;

/// Code for query parameters that cannot be read as their modelled type (`MaxItems=abc`), which
/// AWS's query services answer with HTTP 400.
pub const MALFORMED_INPUT: &str = "MalformedInput";

/// Parses an `application/x-www-form-urlencoded` body. Invalid UTF-8 becomes U+FFFD (the values
/// then fail their patterns instead of crashing anything).
pub fn parse_form(body: &[u8]) -> Vec<(String, String)> {
    form_urlencoded::parse(body).into_owned().collect()
}
