//! A trail as the store holds it: its configuration (changed by the API) and, in a separate
//! record, its delivery state (changed by the delivery job), so neither overwrites the other.
//! A node-wide registry (`sys/cloudtrail/trails/<account>/<region>/<name>`) lets the job find
//! every trail without knowing the accounts.
use std::collections::BTreeMap;

use rampart_aws_types::{AwsError, PARTITION};
use rampart_services::common::keys;
use serde::{Deserialize, Serialize};

use crate::errors::error;
use crate::selectors::Selection;

pub const REGISTRY_PREFIX: &str = "sys/cloudtrail/trails/";
/// Trails per region (AWS's limit).
pub const MAX_TRAILS_PER_REGION: usize = 5;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct TrailConfig {
    pub name: String,
    pub account: String,
    pub home_region: String,
    pub arn: String,
    pub s3_bucket_name: String,
    pub s3_key_prefix: Option<String>,
    pub sns_topic_name: Option<String>,
    pub include_global_service_events: bool,
    pub is_multi_region_trail: bool,
    pub log_file_validation_enabled: bool,
    pub kms_key_id: Option<String>,
    pub cloud_watch_logs_log_group_arn: Option<String>,
    pub cloud_watch_logs_role_arn: Option<String>,
    pub selection: Selection,
    pub has_custom_event_selectors: bool,
    pub tags: BTreeMap<String, String>,
    pub is_logging: bool,
    pub start_logging_time: Option<i64>,
    pub stop_logging_time: Option<i64>,
}

/// One delivered log file, remembered until the next digest lists it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct DeliveredFile {
    pub bucket: String,
    pub key: String,
    /// Hex SHA-256 of the file as delivered (gzipped bytes).
    pub sha256: String,
    pub oldest_event_time: String,
    pub newest_event_time: String,
}

/// The last digest file, which the next one chains to.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct LastDigest {
    pub bucket: String,
    pub key: String,
    /// Hex SHA-256 of the digest file's (uncompressed) JSON.
    pub hash: String,
    /// Hex signature.
    pub signature: String,
    pub end_time: i64,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryState {
    /// Events up to this audit sequence number are handled.
    pub cursor_seq: u64,
    /// Set by StopLogging: deliver up to here, then stop.
    pub stop_seq: Option<u64>,
    pub latest_delivery_time: Option<i64>,
    pub latest_delivery_attempt_time: Option<i64>,
    pub latest_delivery_attempt_succeeded: Option<bool>,
    pub latest_delivery_error: Option<String>,
    pub latest_digest_delivery_time: Option<i64>,
    pub latest_digest_delivery_error: Option<String>,
    /// Log files delivered since the last digest.
    pub undigested: Vec<DeliveredFile>,
    /// Start of the current digest period (epoch seconds).
    pub digest_period_start: Option<i64>,
    pub last_digest: Option<LastDigest>,
}

pub fn trail_arn(account: &str, region: &str, name: &str) -> String {
    format!("arn:{PARTITION}:cloudtrail:{region}:{account}:trail/{name}")
}

pub fn config_key(account: &str, region: &str, name: &str) -> String {
    keys::key(account, region, "cloudtrail", "trail", name)
}

pub fn state_key(account: &str, region: &str, name: &str) -> String {
    keys::key(account, region, "cloudtrail", "trail-delivery", name)
}

pub fn registry_key(account: &str, region: &str, name: &str) -> String {
    format!("{REGISTRY_PREFIX}{account}/{region}/{}", keys::escape(name))
}

/// A trail named by the caller: its account, home region and name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrailRef {
    pub account: String,
    pub region: String,
    pub name: String,
}

impl TrailRef {
    pub fn arn(&self) -> String {
        trail_arn(&self.account, &self.region, &self.name)
    }
}

/// Resolves a trail name or ARN given by `account` calling in `region`.
pub fn resolve(name_or_arn: &str, account: &str, region: &str) -> Result<TrailRef, AwsError> {
    if let Some(rest) = name_or_arn.strip_prefix("arn:") {
        let parts: Vec<&str> = rest.splitn(5, ':').collect();
        let valid = parts.len() == 5
            && parts.first() == Some(&PARTITION)
            && parts.get(1) == Some(&"cloudtrail")
            && parts
                .get(3)
                .is_some_and(|a| rampart_aws_types::is_account_id(a))
            && parts
                .get(2)
                .is_some_and(|r| rampart_aws_types::is_region(r));
        let name = parts.get(4).and_then(|r| r.strip_prefix("trail/"));
        return match (valid, name) {
            (true, Some(name)) => {
                check_name(name)?;
                Ok(TrailRef {
                    account: parts.get(3).copied().unwrap_or_default().to_string(),
                    region: parts.get(2).copied().unwrap_or_default().to_string(),
                    name: name.to_string(),
                })
            }
            _ => Err(error(
                "CloudTrailARNInvalidException",
                format!("Invalid trail ARN: {name_or_arn}"),
            )),
        };
    }
    check_name(name_or_arn)?;
    Ok(TrailRef {
        account: account.to_string(),
        region: region.to_string(),
        name: name_or_arn.to_string(),
    })
}

/// CloudTrail's trail name rules.
pub fn check_name(name: &str) -> Result<(), AwsError> {
    let bad = |why: &str| {
        Err(error(
            "InvalidTrailNameException",
            format!("Trail name {why}."),
        ))
    };
    let len = name.chars().count();
    if !(3..=128).contains(&len) {
        return bad("must be between 3 and 128 characters");
    }
    if !name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
    {
        return bad("can only contain ASCII letters, numbers, periods, underscores and dashes");
    }
    let first_last_ok = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric());
    if !first_last_ok(name.chars().next()) || !first_last_ok(name.chars().last()) {
        return bad("must start and end with a letter or number");
    }
    let b = name.as_bytes();
    if b.windows(2)
        .any(|w| w.iter().all(|c| matches!(c, b'.' | b'_' | b'-')))
    {
        return bad("cannot have adjacent periods, underscores or dashes");
    }
    let octets: Vec<&str> = name.split('.').collect();
    if octets.len() == 4 && octets.iter().all(|o| o.parse::<u8>().is_ok()) {
        return bad("cannot be formatted as an IP address");
    }
    Ok(())
}

/// S3 bucket naming rules; the name is also a directory name for local delivery, so these
/// rules are what keep a trail's files inside the trails directory.
pub fn check_bucket(bucket: &str) -> Result<(), AwsError> {
    let ok = (3..=63).contains(&bucket.len())
        && bucket
            .bytes()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'.' || c == b'-')
        && bucket
            .bytes()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric())
        && bucket
            .bytes()
            .last()
            .is_some_and(|c| c.is_ascii_alphanumeric())
        && !bucket.contains("..");
    if ok {
        Ok(())
    } else {
        Err(error(
            "InvalidS3BucketNameException",
            format!("Bucket name {bucket} is not valid."),
        ))
    }
}

/// A key prefix: at most 200 characters, no empty, `.` or `..` path segments.
pub fn check_prefix(prefix: &str) -> Result<(), AwsError> {
    let ok = prefix.chars().count() <= 200
        && prefix
            .split('/')
            .all(|seg| !seg.is_empty() && seg != "." && seg != "..")
        && !prefix.contains('\\')
        && !prefix.chars().any(char::is_control);
    if ok {
        Ok(())
    } else {
        Err(error(
            "InvalidS3PrefixException",
            format!("Prefix {prefix} is not valid."),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert!(check_name("my-trail_1.a").is_ok());
        for bad in [
            "ab", "-abc", "abc-", "a..b", "a-_b", "10.0.0.1", "a b c", "tr@il",
        ] {
            assert_eq!(
                check_name(bad).unwrap_err().code,
                "InvalidTrailNameException",
                "{bad}"
            );
        }
    }

    #[test]
    fn resolves_names_and_arns() {
        let r = resolve("tr1", "111111111111", "us-east-1").unwrap();
        assert_eq!(
            r.arn(),
            "arn:aws:cloudtrail:us-east-1:111111111111:trail/tr1"
        );
        let r = resolve(
            "arn:aws:cloudtrail:eu-west-1:222222222222:trail/tr2",
            "111111111111",
            "us-east-1",
        )
        .unwrap();
        assert_eq!(
            (r.account.as_str(), r.region.as_str()),
            ("222222222222", "eu-west-1")
        );
        assert_eq!(
            resolve("arn:aws:s3:::b", "1", "us-east-1")
                .unwrap_err()
                .code,
            "CloudTrailARNInvalidException"
        );
    }

    #[test]
    fn buckets_and_prefixes_stay_inside_their_directory() {
        assert!(check_bucket("my-logs.bucket").is_ok());
        for bad in ["..", "a..b", "UPPER", "a/b", "ab", ".abc"] {
            assert!(check_bucket(bad).is_err(), "{bad}");
        }
        assert!(check_prefix("team/prod").is_ok());
        for bad in ["../x", "a//b", "/abs", "a/./b", "a\\b"] {
            assert!(check_prefix(bad).is_err(), "{bad}");
        }
    }
}
