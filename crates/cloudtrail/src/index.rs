//! Indexes over the audit trail, written by the audit writer in the same transaction as the
//! events, so LookupEvents reads one short key range whatever the trail's size.
//!
//! Every event is indexed in the account and region it belongs to (`recipientAccountId`,
//! `awsRegion`): once by time, and once per LookupAttributes value:
//! `<account>/<region>/cloudtrail/ev/<Attr>/<escaped value>/<sort>` with
//! `<sort>` = 16 hex digits of `u64::MAX - eventTime seconds` then 16 of `u64::MAX - seq`, so a
//! forward scan returns newest first, and a time range is a key range.
use rampart_services::common::keys;
use serde_json::Value;

use crate::record;

/// The time index's pseudo attribute.
const ALL: &str = "_all";

/// LookupAttributes keys CloudTrail accepts.
pub const ATTRIBUTES: [&str; 8] = [
    "EventId",
    "EventName",
    "ReadOnly",
    "Username",
    "ResourceType",
    "ResourceName",
    "EventSource",
    "AccessKeyId",
];

/// The account an event is stored under: its `recipientAccountId`, else `fallback` (requests
/// that failed authentication before any account was known go to the node's default account).
pub fn event_account<'a>(event: &'a Value, fallback: &'a str) -> &'a str {
    event
        .get("recipientAccountId")
        .and_then(Value::as_str)
        .filter(|a| !a.is_empty())
        .unwrap_or(fallback)
}

pub fn event_region(event: &Value) -> &str {
    event
        .get("awsRegion")
        .and_then(Value::as_str)
        .unwrap_or("us-east-1")
}

pub fn event_seconds(event: &Value) -> i64 {
    event
        .get("eventTime")
        .and_then(Value::as_str)
        .and_then(record::parse_time)
        .map_or(0, |t| t.unix_timestamp())
}

/// The prefix of one attribute value's index (ends with `/`).
pub fn attribute_prefix(account: &str, region: &str, attribute: &str, value: &str) -> String {
    format!(
        "{}{}/{}/",
        keys::prefix(account, region, "cloudtrail", "ev"),
        attribute,
        keys::escape(value)
    )
}

/// The prefix of the time index.
pub fn time_prefix(account: &str, region: &str) -> String {
    format!(
        "{}{ALL}/",
        keys::prefix(account, region, "cloudtrail", "ev")
    )
}

/// Inverted time (seconds, clamped at 0) so newer sorts first.
pub fn time_part(seconds: i64) -> String {
    format!("{:016x}", u64::MAX - u64::try_from(seconds).unwrap_or(0))
}

pub fn sort_part(seconds: i64, seq: u64) -> String {
    format!("{}{:016x}", time_part(seconds), u64::MAX - seq)
}

/// The sequence number and event seconds encoded at the end of an index key.
pub fn decode_sort(key: &str) -> Option<(i64, u64)> {
    let sort = key.rsplit('/').next()?;
    let t = u64::from_str_radix(sort.get(..16)?, 16).ok()?;
    let s = u64::from_str_radix(sort.get(16..32)?, 16).ok()?;
    Some((
        i64::try_from(u64::MAX - t).unwrap_or(i64::MAX),
        u64::MAX - s,
    ))
}

/// Every (attribute, value) pair an event is findable by.
pub fn attribute_values(event: &Value) -> Vec<(&'static str, String)> {
    let text = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_string);
    let mut out: Vec<(&'static str, String)> = Vec::new();
    let mut push = |attr: &'static str, value: Option<String>| {
        if let Some(v) = value.filter(|v| !v.is_empty()) {
            if !out.iter().any(|(a, x)| *a == attr && *x == v) {
                out.push((attr, v));
            }
        }
    };
    push("EventId", text(event.get("eventID")));
    push("EventName", text(event.get("eventName")));
    push(
        "ReadOnly",
        event
            .get("readOnly")
            .and_then(Value::as_bool)
            .map(|b| b.to_string()),
    );
    push("Username", record::username(event));
    push("EventSource", text(event.get("eventSource")));
    push(
        "AccessKeyId",
        text(event.get("userIdentity").and_then(|u| u.get("accessKeyId"))),
    );
    for r in event
        .get("resources")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default()
    {
        push("ResourceType", text(r.get("type")));
        let arn = text(r.get("ARN"));
        push("ResourceName", arn.clone());
        // The short name too (`alias/app`, `alice`), as the console shows it.
        if let Some(arn) = arn {
            let short = arn
                .split_once(':')
                .and_then(|_| arn.splitn(6, ':').nth(5))
                .map(|rest| rest.split_once('/').map_or(rest, |(_, n)| n).to_string());
            push("ResourceName", short);
        }
    }
    out
}

/// The index keys for one stored event.
pub fn index_keys(event: &Value, seq: u64, fallback_account: &str) -> Vec<String> {
    let account = event_account(event, fallback_account);
    let region = event_region(event);
    let sort = sort_part(event_seconds(event), seq);
    let mut keys = vec![format!("{}{sort}", time_prefix(account, region))];
    for (attr, value) in attribute_values(event) {
        keys.push(format!(
            "{}{sort}",
            attribute_prefix(account, region, attr, &value)
        ));
    }
    keys
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn keys_sort_newest_first_and_decode() {
        let a = sort_part(1_000, 5);
        let b = sort_part(2_000, 4);
        let c = sort_part(2_000, 6);
        assert!(c < b && b < a, "newer time first, then higher seq first");
        assert_eq!(decode_sort(&format!("x/y/{c}")), Some((2_000, 6)));
    }

    #[test]
    fn an_event_is_indexed_by_every_attribute() {
        let e = json!({
            "eventID": "id-1", "eventName": "CreateKey", "readOnly": false,
            "eventSource": "kms.amazonaws.com", "awsRegion": "eu-west-1",
            "eventTime": "2024-01-01T00:00:00Z", "recipientAccountId": "123456789012",
            "userIdentity": {"type": "IAMUser", "userName": "bob", "accessKeyId": "AKIAX"},
            "resources": [{"type": "AWS::KMS::Key", "ARN": "arn:aws:kms:eu-west-1:123456789012:key/k1"}]
        });
        let attrs = attribute_values(&e);
        for expected in [
            ("EventId", "id-1"),
            ("EventName", "CreateKey"),
            ("ReadOnly", "false"),
            ("Username", "bob"),
            ("EventSource", "kms.amazonaws.com"),
            ("AccessKeyId", "AKIAX"),
            ("ResourceType", "AWS::KMS::Key"),
            ("ResourceName", "arn:aws:kms:eu-west-1:123456789012:key/k1"),
            ("ResourceName", "k1"),
        ] {
            assert!(
                attrs
                    .iter()
                    .any(|(a, v)| *a == expected.0 && v == expected.1),
                "{expected:?} in {attrs:?}"
            );
        }
        let keys = index_keys(&e, 7, "000000000000");
        assert_eq!(keys.len(), attrs.len() + 1);
        assert!(
            keys.iter()
                .all(|k| k.starts_with("123456789012/eu-west-1/cloudtrail/ev/"))
        );
        let no_account = json!({"eventName": "X", "awsRegion": "us-east-1"});
        assert!(index_keys(&no_account, 1, "999999999999")[0].starts_with("999999999999/"));
    }
}
