//! Amazon Resource Names: `arn:partition:service:region:account:resource`.
use std::fmt;

use crate::AwsError;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Arn {
    pub partition: String,
    pub service: String,
    pub region: String,
    pub account: String,
    /// Everything after the fifth colon, e.g. `user/path/alice` or `key/1234...`.
    pub resource: String,
}

impl Arn {
    pub fn new(service: &str, region: &str, account: &str, resource: &str) -> Arn {
        Arn {
            partition: crate::PARTITION.to_string(),
            service: service.to_string(),
            region: region.to_string(),
            account: account.to_string(),
            resource: resource.to_string(),
        }
    }

    /// Parses an ARN. The resource part may itself contain colons.
    pub fn parse(s: &str) -> Result<Arn, AwsError> {
        let mut parts = s.splitn(6, ':');
        let invalid = || AwsError::validation(format!("Invalid ARN: {}", truncate(s)));
        if parts.next() != Some("arn") {
            return Err(invalid());
        }
        let partition = parts.next().ok_or_else(invalid)?;
        let service = parts.next().ok_or_else(invalid)?;
        let region = parts.next().ok_or_else(invalid)?;
        let account = parts.next().ok_or_else(invalid)?;
        let resource = parts.next().ok_or_else(invalid)?;
        if partition.is_empty() || service.is_empty() || resource.is_empty() {
            return Err(invalid());
        }
        Ok(Arn {
            partition: partition.to_string(),
            service: service.to_string(),
            region: region.to_string(),
            account: account.to_string(),
            resource: resource.to_string(),
        })
    }
}

fn truncate(s: &str) -> &str {
    match s.char_indices().nth(256) {
        Some((i, _)) => s.get(..i).unwrap_or(s),
        None => s,
    }
}

impl fmt::Display for Arn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "arn:{}:{}:{}:{}:{}",
            self.partition, self.service, self.region, self.account, self.resource
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_formats_round_trip() {
        let a = Arn::parse("arn:aws:iam::123456789012:user/division/alice").unwrap();
        assert_eq!(a.service, "iam");
        assert_eq!(a.region, "");
        assert_eq!(a.account, "123456789012");
        assert_eq!(a.resource, "user/division/alice");
        assert_eq!(
            a.to_string(),
            "arn:aws:iam::123456789012:user/division/alice"
        );
    }

    #[test]
    fn resource_may_contain_colons() {
        let a = Arn::parse("arn:aws:logs:us-east-1:123456789012:log-group:g:log-stream:s").unwrap();
        assert_eq!(a.resource, "log-group:g:log-stream:s");
    }

    #[test]
    fn rejects_malformed() {
        for bad in [
            "",
            "arn",
            "arn:aws",
            "arn:aws:iam::123",
            "urn:aws:iam::1:user/a",
            "arn::iam::1:x",
            "arn:aws:iam::1:",
        ] {
            assert!(Arn::parse(bad).is_err(), "{bad}");
        }
    }
}
