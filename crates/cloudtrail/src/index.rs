//! Indexes over the audit trail, written by the audit writer in the same transaction as the
//! events, so LookupEvents reads one short key range whatever the trail's size.
//!
//! Every event is indexed in the account and region it belongs to (`recipientAccountId`,
//! `awsRegion`): by time, and by each LookupAttributes value. The index is a posting list per
//! write batch: one row per (attribute, value) per batch,
//! `<account>/<region>/cloudtrail/ev/<Attr>/<escaped value>/<sort>` holding the batch's
//! `[seconds, seq]` pairs with that value, where `<sort>` = 16 hex digits of
//! `u64::MAX - newest eventTime seconds` then 16 of `u64::MAX - first seq`: a forward scan meets
//! the newest rows first. A row spans at most [`SPAN`] seconds of event time, so a lookup that
//! starts [`SPAN`] seconds above its end time misses nothing. Under load a batch holds thousands
//! of events and a handful of rows per attribute: the index costs a few store writes per batch,
//! not per event. `EventId` needs no index: the writer puts the sequence number into the id.
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
    let text = |name: &str| event.get(name).and_then(Value::as_str);
    attributes(&EventFields {
        event_id: text("eventID"),
        event_name: text("eventName"),
        read_only: event.get("readOnly").and_then(Value::as_bool),
        username: event
            .get("userIdentity")
            .and_then(record::identity_username),
        access_key_id: event
            .get("userIdentity")
            .and_then(|u| u.get("accessKeyId"))
            .and_then(Value::as_str),
        event_source: text("eventSource"),
        resources: event.get("resources"),
    })
}

/// The members of an event that LookupAttributes search.
struct EventFields<'a> {
    event_id: Option<&'a str>,
    event_name: Option<&'a str>,
    read_only: Option<bool>,
    username: Option<String>,
    access_key_id: Option<&'a str>,
    event_source: Option<&'a str>,
    resources: Option<&'a Value>,
}

fn attributes(f: &EventFields<'_>) -> Vec<(&'static str, String)> {
    let text = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_string);
    let mut out: Vec<(&'static str, String)> = Vec::new();
    let mut push = |attr: &'static str, value: Option<String>| {
        if let Some(v) = value.filter(|v| !v.is_empty()) {
            if !out.iter().any(|(a, x)| *a == attr && *x == v) {
                out.push((attr, v));
            }
        }
    };
    push("EventId", f.event_id.map(str::to_string));
    push("EventName", f.event_name.map(str::to_string));
    push("ReadOnly", f.read_only.map(|b| b.to_string()));
    push("Username", f.username.clone());
    push("EventSource", f.event_source.map(str::to_string));
    push("AccessKeyId", f.access_key_id.map(str::to_string));
    for r in f
        .resources
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

/// Most event-time seconds one posting row spans.
pub const SPAN: i64 = 300;

/// Where the writer records which rows a batch wrote (for retention).
pub const BATCH_PREFIX: &str = "sys/audit-batch/";

pub fn batch_key(first_seq: u64) -> String {
    format!("{BATCH_PREFIX}{first_seq:020}")
}

/// A batch's manifest: its sequence range, newest event time and index rows.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct BatchManifest {
    pub first_seq: u64,
    pub last_seq: u64,
    pub newest: i64,
    pub keys: Vec<String>,
}

impl BatchManifest {
    /// The stored form: JSON, LZ4-compressed like the event chunks (a manifest lists every index
    /// key of its batch — long keys with long common prefixes — and was the largest part of a
    /// big store: 450 MB of 2.1 GB over a million events with many distinct users and keys).
    pub fn encode(&self) -> Vec<u8> {
        crate::stored::encode_chunk(&serde_json::to_vec(self).unwrap_or_default())
    }

    /// Reads a stored manifest (compressed, or plain JSON as written before).
    pub fn decode(stored: &[u8]) -> Option<BatchManifest> {
        let json = crate::stored::decode_chunk(stored).ok()?;
        serde_json::from_slice(&json).ok()
    }
}

/// An event id that carries its sequence number (`xxxxxxxx-xxxx-4xxx-xxxx-<seq as 12 hex>`),
/// so LookupEvents by EventId reads the event directly. `random` supplies the other 80 bits.
pub fn event_id(seq: u64, random: [u8; 10]) -> String {
    // `{8 hex}-{4 hex}-4{3 hex}-{4 hex}-{12 hex of seq}` from the random bytes' hex digits,
    // written by hand: one per event, and `format!` over a hex string cost more than the rest.
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut random_hex = [0u8; 19];
    for (i, slot) in random_hex.iter_mut().enumerate() {
        let byte = random.get(i / 2).copied().unwrap_or_default();
        let nibble = if i % 2 == 0 { byte >> 4 } else { byte & 15 };
        *slot = HEX.get(usize::from(nibble)).copied().unwrap_or(b'0');
    }
    let mut out = String::with_capacity(36);
    let mut put = |digits: &[u8]| out.extend(digits.iter().map(|&d| char::from(d)));
    put(random_hex.get(0..8).unwrap_or_default());
    put(b"-");
    put(random_hex.get(8..12).unwrap_or_default());
    put(b"-4");
    put(random_hex.get(12..15).unwrap_or_default());
    put(b"-");
    put(random_hex.get(15..19).unwrap_or_default());
    put(b"-");
    let tail = seq & 0xffff_ffff_ffff;
    let mut seq_hex = [0u8; 12];
    for (i, slot) in seq_hex.iter_mut().enumerate() {
        *slot = HEX
            .get(((tail >> (4 * (11 - i))) & 15) as usize)
            .copied()
            .unwrap_or(b'0');
    }
    put(&seq_hex);
    out
}

/// The sequence number inside an event id made by [`event_id`].
pub fn seq_of_event_id(id: &str) -> Option<u64> {
    let last = id.rsplit('-').next()?;
    if last.len() != 12 || id.len() != 36 {
        return None;
    }
    u64::from_str_radix(last, 16).ok()
}

/// What the index needs to know about one event, taken from it where it is built (on the
/// request's thread) so the indexer never parses event JSON.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventMeta {
    pub account: String,
    pub region: String,
    pub seconds: i64,
    /// LookupAttributes values other than EventId (the id carries the sequence number).
    pub attributes: Vec<(&'static str, String)>,
}

impl EventMeta {
    /// The metadata of an API call's record, read from its typed form (what the request path
    /// has), the same as [`EventMeta::of`] gives for its JSON.
    pub fn of_api_call(r: &record::ApiCallRecord<'_>, fallback_account: &str) -> EventMeta {
        EventMeta {
            account: r
                .recipient_account_id
                .filter(|a| !a.is_empty())
                .unwrap_or(fallback_account)
                .to_string(),
            region: r.aws_region.to_string(),
            seconds: r.seconds,
            attributes: attributes(&EventFields {
                event_id: None,
                event_name: Some(r.event_name),
                read_only: Some(r.read_only),
                username: r.user_identity.username(),
                access_key_id: r.user_identity.access_key_id,
                event_source: Some(r.event_source),
                resources: r.resources.as_ref(),
            }),
        }
    }

    pub fn of(event: &Value, fallback_account: &str) -> EventMeta {
        EventMeta {
            account: event_account(event, fallback_account).to_string(),
            region: event_region(event).to_string(),
            seconds: event_seconds(event),
            attributes: attribute_values(event)
                .into_iter()
                .filter(|(a, _)| *a != "EventId")
                .collect(),
        }
    }
}

/// The rows a batch adds: posting rows for every (account, region, attribute, value), and the
/// batch manifest. `events` are (seq, event) in sequence order.
pub fn batch_rows(events: &[(u64, &Value)], fallback_account: &str) -> Vec<(String, Vec<u8>)> {
    let metas: Vec<(u64, EventMeta)> = events
        .iter()
        .map(|(seq, e)| (*seq, EventMeta::of(e, fallback_account)))
        .collect();
    let refs: Vec<(u64, &EventMeta)> = metas.iter().map(|(s, m)| (*s, m)).collect();
    meta_rows(&refs)
}

/// [`batch_rows`] from the events' metadata.
pub fn meta_rows(events: &[(u64, &EventMeta)]) -> Vec<(String, Vec<u8>)> {
    use std::collections::{BTreeMap, HashMap};
    // Grouped by borrowed (account, region, attribute, value) first: the key text is formatted
    // once per distinct value, not once per event. foldhash, not SipHash: the keys are our own
    // events' values, and hashing was most of this function's time.
    type Group<'a> = (&'a str, &'a str, &'a str, &'a str);
    let mut groups: HashMap<Group<'_>, Vec<(i64, u64)>, foldhash::fast::RandomState> =
        HashMap::default();
    let mut newest = i64::MIN;
    for (seq, m) in events {
        newest = newest.max(m.seconds);
        groups
            .entry((&m.account, &m.region, ALL, ""))
            .or_default()
            .push((m.seconds, *seq));
        for (attr, value) in &m.attributes {
            groups
                .entry((&m.account, &m.region, attr, value))
                .or_default()
                .push((m.seconds, *seq));
        }
    }
    let lists: BTreeMap<String, Vec<(i64, u64)>> = groups
        .into_iter()
        .map(|((account, region, attr, value), entries)| {
            let prefix = if attr == ALL {
                time_prefix(account, region)
            } else {
                attribute_prefix(account, region, attr, value)
            };
            (prefix, entries)
        })
        .collect();
    let mut rows = Vec::new();
    for (prefix, mut entries) in lists {
        // Newest first; rows of at most SPAN seconds.
        entries.sort_by(|a, b| b.cmp(a));
        let mut chunk: Vec<(i64, u64)> = Vec::new();
        let flush = |chunk: &mut Vec<(i64, u64)>, rows: &mut Vec<(String, Vec<u8>)>| {
            if let (Some(first), Some(min_seq)) =
                (chunk.first(), chunk.iter().map(|(_, q)| *q).min())
            {
                let key = format!("{prefix}{}", sort_part(first.0, min_seq));
                rows.push((key, serde_json::to_vec(&chunk).unwrap_or_default()));
            }
            chunk.clear();
        };
        for e in entries {
            if chunk.first().is_some_and(|f| f.0 - e.0 > SPAN) {
                flush(&mut chunk, &mut rows);
            }
            chunk.push(e);
        }
        flush(&mut chunk, &mut rows);
    }
    if let (Some((first, _)), Some((last, _))) = (events.first(), events.last()) {
        let manifest = BatchManifest {
            first_seq: *first,
            last_seq: *last,
            newest,
            keys: rows.iter().map(|(k, _)| k.clone()).collect(),
        };
        rows.push((batch_key(*first), manifest.encode()));
    }
    rows
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
    fn event_ids_carry_their_sequence_number() {
        // The same text the format! version wrote.
        let random = [0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 0x10, 0x32];
        let h = hex::encode(random);
        let expected = format!(
            "{}-{}-4{}-{}-{:012x}",
            &h[0..8],
            &h[8..12],
            &h[12..15],
            &h[15..19],
            0x1234_5678_9abc_u64
        );
        assert_eq!(event_id(0xffff_1234_5678_9abc, random), expected);
        let id = event_id(123_456, [0xab; 10]);
        assert_eq!(id.len(), 36);
        assert_eq!(
            id.split('-').map(str::len).collect::<Vec<_>>(),
            vec![8, 4, 4, 4, 12]
        );
        assert_eq!(seq_of_event_id(&id), Some(123_456));
        assert_eq!(seq_of_event_id("not-an-id"), None);
    }

    #[test]
    fn an_event_is_findable_by_every_attribute() {
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
        let rows = batch_rows(&[(7, &e)], "000000000000");
        // One row per attribute value except EventId, the time row and the manifest.
        assert_eq!(rows.len(), attrs.len() - 1 + 1 + 1);
        assert!(
            rows.iter()
                .filter(|(k, _)| !k.starts_with(BATCH_PREFIX))
                .all(|(k, _)| k.starts_with("123456789012/eu-west-1/cloudtrail/ev/"))
        );
        let no_account = json!({"eventName": "X", "awsRegion": "us-east-1"});
        assert!(
            batch_rows(&[(1, &no_account)], "999999999999")[0]
                .0
                .starts_with("999999999999/")
        );
    }

    #[test]
    fn a_batch_shares_rows_and_splits_long_spans() {
        let ev = |t: &str| json!({"eventName": "X", "awsRegion": "us-east-1", "recipientAccountId": "111111111111", "eventTime": t});
        let (a, b, c) = (
            ev("2024-01-01T00:00:00Z"),
            ev("2024-01-01T00:01:00Z"),
            ev("2024-01-01T01:00:00Z"),
        );
        let rows = batch_rows(&[(1, &a), (2, &b), (3, &c)], "0");
        let time_rows: Vec<&(String, Vec<u8>)> = rows
            .iter()
            .filter(|(k, _)| k.contains("/ev/_all/"))
            .collect();
        assert_eq!(time_rows.len(), 2, "an hour apart: two rows");
        let newest: Vec<(i64, u64)> = serde_json::from_slice(&time_rows[0].1).unwrap();
        assert_eq!(newest, vec![(1_704_070_800, 3)]);
        let older: Vec<(i64, u64)> = serde_json::from_slice(&time_rows[1].1).unwrap();
        assert_eq!(older, vec![(1_704_067_260, 2), (1_704_067_200, 1)]);
        let stored = &rows.last().unwrap().1;
        assert!(stored.starts_with(crate::stored::COMPRESSED));
        let manifest = BatchManifest::decode(stored).unwrap();
        assert_eq!((manifest.first_seq, manifest.last_seq), (1, 3));
        assert_eq!(manifest.keys.len(), rows.len() - 1);
        // A manifest written before compression (plain JSON) still reads.
        let plain = serde_json::to_vec(&manifest).unwrap();
        assert_eq!(BatchManifest::decode(&plain), Some(manifest));
        assert_eq!(BatchManifest::decode(b"\0lz4\xff\xff\xff\xffjunk"), None);
    }
}
