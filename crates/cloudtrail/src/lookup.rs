//! `LookupEvents`: the account's events in the addressed region, newest first, read through the
//! indexes (one key range per query), at most 90 days back.
use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rampart_aws_types::AwsError;
use rampart_services::common::input;
use rampart_services::{Ctx, HandlerFuture};
use rampart_store::ReadTxn;
use serde::Deserialize;
use serde_json::{Value, json};
use time::OffsetDateTime;

use crate::errors::error;
use crate::index;
use crate::stored::{StoredEvent, event_key};

/// How far back events can be looked up (and how long they are kept).
pub const RETENTION_DAYS: i64 = 90;
const DEFAULT_MAX_RESULTS: usize = 50;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct LookupAttribute {
    attribute_key: String,
    attribute_value: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct LookupEventsInput {
    lookup_attributes: Vec<LookupAttribute>,
    start_time: Option<f64>,
    end_time: Option<f64>,
    event_category: Option<String>,
    max_results: Option<usize>,
    next_token: Option<String>,
}

/// One lookup over an account's events in a region.
#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    pub account: String,
    pub region: String,
    /// At most one (attribute, value); `None` is every event.
    pub attribute: Option<(String, String)>,
    pub start: i64,
    pub end: i64,
    pub max_results: usize,
    pub next_token: Option<String>,
}

pub fn lookup_events(ctx: Arc<Ctx>, input: Value) -> HandlerFuture {
    Box::pin(async move {
        ctx.authorize("cloudtrail:LookupEvents", "*", &[])?;
        let input: LookupEventsInput = input::parse(input)?;
        if input.event_category.is_some() {
            // Only "insight" exists; Insights are not recorded by Rampart.
            return Ok(json!({ "Events": [] }));
        }
        let query = build_query(&ctx, input)?;
        let (events, next) = ctx.store().read(move |tx| run(tx, &query)).await?;
        let mut out = json!({ "Events": events });
        if let (Some(t), Some(map)) = (next, out.as_object_mut()) {
            map.insert("NextToken".into(), t.into());
        }
        Ok(out)
    })
}

fn build_query(ctx: &Ctx, input: LookupEventsInput) -> Result<Query, AwsError> {
    if input.lookup_attributes.len() > 1 {
        return Err(error(
            "InvalidLookupAttributesException",
            "You cannot specify more than one lookup attribute.",
        ));
    }
    let attribute = match input.lookup_attributes.into_iter().next() {
        Some(a) => {
            if !index::ATTRIBUTES.contains(&a.attribute_key.as_str()) {
                return Err(error(
                    "InvalidLookupAttributesException",
                    format!("Invalid attribute key: {}", a.attribute_key),
                ));
            }
            Some((a.attribute_key, a.attribute_value))
        }
        None => None,
    };
    let now = ctx.now().unix_timestamp();
    let floor = now - RETENTION_DAYS * 86_400;
    let start = input.start_time.map_or(floor, |t| t.floor() as i64);
    let end = input.end_time.map_or(now, |t| t.floor() as i64);
    if start > end {
        return Err(error(
            "InvalidTimeRangeException",
            "Start time must not be after end time.",
        ));
    }
    Ok(Query {
        account: ctx.account().to_string(),
        region: ctx.region().to_string(),
        attribute,
        start: start.max(floor),
        end,
        max_results: input
            .max_results
            .unwrap_or(DEFAULT_MAX_RESULTS)
            .clamp(1, 50),
        next_token: input.next_token,
    })
}

fn token_scope(q: &Query) -> String {
    match &q.attribute {
        Some((a, v)) => format!("{a}\n{v}"),
        None => String::new(),
    }
}

fn encode_token(q: &Query, sort: &str) -> String {
    URL_SAFE_NO_PAD.encode(format!("v1\n{}\n{sort}", token_scope(q)))
}

/// The sort key to continue after; a token from another query is refused.
fn decode_token(q: &Query, token: &str) -> Result<String, AwsError> {
    let invalid = || error("InvalidNextTokenException", "Invalid NextToken.");
    let bytes = URL_SAFE_NO_PAD
        .decode(token.as_bytes())
        .map_err(|_| invalid())?;
    let text = String::from_utf8(bytes).map_err(|_| invalid())?;
    let rest = text.strip_prefix("v1\n").ok_or_else(invalid)?;
    let (scope, sort) = rest.rsplit_once('\n').ok_or_else(invalid)?;
    let valid_sort = sort.len() == 32 && sort.bytes().all(|b| b.is_ascii_hexdigit());
    if scope != token_scope(q) || !valid_sort {
        return Err(invalid());
    }
    Ok(sort.to_string())
}

/// Runs a query: the LookupEvents `Events` and the next token.
pub fn run(
    tx: &mut (impl ReadTxn + ?Sized),
    q: &Query,
) -> Result<(Vec<Value>, Option<String>), AwsError> {
    let prefix = match &q.attribute {
        Some((a, v)) => index::attribute_prefix(&q.account, &q.region, a, v),
        None => index::time_prefix(&q.account, &q.region),
    };
    // Newest first: skip everything newer than `end` (keys sort by inverted time).
    let mut after = format!("{prefix}{}~", index::time_part(q.end.saturating_add(1)));
    if let Some(token) = &q.next_token {
        let from_token = format!("{prefix}{}", decode_token(q, token)?);
        if from_token > after {
            after = from_token;
        }
    }
    let mut out = Vec::new();
    let mut last_sort: Option<String> = None;
    loop {
        let page = tx.scan(&prefix, Some(&after), q.max_results + 1)?;
        let exhausted = page.len() <= q.max_results;
        for (key, _) in page {
            after.clone_from(&key);
            let Some((seconds, seq)) = index::decode_sort(&key) else {
                continue;
            };
            if seconds < q.start {
                return Ok((out, None));
            }
            if out.len() == q.max_results {
                let next = last_sort.as_deref().map(|s| encode_token(q, s));
                return Ok((out, next));
            }
            // Retention may have removed the event before its index entries.
            let Some(record) = tx.get(&event_key(seq))? else {
                continue;
            };
            let Ok(stored) = serde_json::from_slice::<StoredEvent>(&record.value) else {
                continue;
            };
            out.push(lookup_event(&stored.event));
            last_sort = key.rsplit('/').next().map(str::to_string);
        }
        if exhausted {
            return Ok((out, None));
        }
    }
}

/// LookupEvents' summary of one record, with the record itself as `CloudTrailEvent`.
pub fn lookup_event(event: &Value) -> Value {
    let s = |k: &str| event.get(k).cloned().unwrap_or(Value::Null);
    let resources: Vec<Value> = event
        .get("resources")
        .and_then(Value::as_array)
        .map(|rs| {
            rs.iter()
                .map(|r| json!({ "ResourceType": r.get("type"), "ResourceName": r.get("ARN") }))
                .collect()
        })
        .unwrap_or_default();
    let time = event
        .get("eventTime")
        .and_then(Value::as_str)
        .and_then(crate::record::parse_time)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH);
    let mut out = json!({
        "EventId": s("eventID"),
        "EventName": s("eventName"),
        "ReadOnly": event.get("readOnly").and_then(Value::as_bool).unwrap_or(false).to_string(),
        "EventTime": time.unix_timestamp(),
        "EventSource": s("eventSource"),
        "Resources": resources,
        "CloudTrailEvent": serde_json::to_string(event).unwrap_or_default(),
    });
    if let Some(map) = out.as_object_mut() {
        if let Some(ak) = event
            .get("userIdentity")
            .and_then(|u| u.get("accessKeyId"))
            .and_then(Value::as_str)
        {
            map.insert("AccessKeyId".into(), ak.into());
        }
        if let Some(u) = crate::record::username(event) {
            map.insert("Username".into(), u.into());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stored::{Head, chain};
    use rampart_store::{Expect, Store, StoreError};

    fn event(i: u64, name: &str, t: i64) -> Value {
        let time = OffsetDateTime::from_unix_timestamp(t).unwrap();
        json!({
            "eventID": format!("id-{i}"), "eventName": name, "readOnly": name.starts_with("Get"),
            "eventSource": "kms.amazonaws.com", "awsRegion": "us-east-1",
            "eventTime": crate::record::format_time(time), "recipientAccountId": "111111111111",
            "userIdentity": {"type": "Root", "accessKeyId": "AKIA1"},
        })
    }

    fn store_events(store: &Store, events: Vec<Value>) {
        let mut head = Head::default();
        let records = chain(&mut head, &events);
        store
            .write_blocking(move |tx| {
                for (seq, key, bytes) in &records {
                    tx.put(key, bytes, Expect::Absent)?;
                    let stored: StoredEvent = serde_json::from_slice(bytes).unwrap();
                    for k in index::index_keys(&stored.event, *seq, "000000000000") {
                        tx.put(&k, b"", Expect::Any)?;
                    }
                }
                Ok::<_, StoreError>(())
            })
            .unwrap();
    }

    fn query(attr: Option<(&str, &str)>, start: i64, end: i64, max: usize) -> Query {
        Query {
            account: "111111111111".into(),
            region: "us-east-1".into(),
            attribute: attr.map(|(a, v)| (a.into(), v.into())),
            start,
            end,
            max_results: max,
            next_token: None,
        }
    }

    #[test]
    fn newest_first_with_time_range_attribute_and_pages() {
        let store = Store::open_in_memory().unwrap();
        let events: Vec<Value> = (1..=30)
            .map(|i| {
                let name = if i % 3 == 0 { "GetKey" } else { "CreateKey" };
                event(i, name, 1_000 + i as i64 * 10)
            })
            .collect();
        store_events(&store, events);
        let names = |evs: &[Value]| -> Vec<String> {
            evs.iter()
                .map(|e| e["EventId"].as_str().unwrap().to_string())
                .collect()
        };
        // All, newest first.
        let q = query(None, 0, 10_000, 50);
        let (all, next) = store.read_blocking(move |tx| run(tx, &q)).unwrap();
        assert_eq!(all.len(), 30);
        assert!(next.is_none());
        assert_eq!(all[0]["EventId"], "id-30");
        assert_eq!(all[29]["EventId"], "id-1");
        // Time range: events 10..=20 (t = 1100..=1200).
        let q = query(None, 1_100, 1_200, 50);
        let (range, _) = store.read_blocking(move |tx| run(tx, &q)).unwrap();
        assert_eq!(names(&range).first().unwrap(), "id-20");
        assert_eq!(names(&range).last().unwrap(), "id-10");
        assert_eq!(range.len(), 11);
        // Attribute + pages of 4: every GetKey event exactly once.
        let mut seen = Vec::new();
        let mut token = None;
        loop {
            let mut q = query(Some(("EventName", "GetKey")), 0, 10_000, 4);
            q.next_token = token.clone();
            let (page, next) = store.read_blocking(move |tx| run(tx, &q)).unwrap();
            assert!(page.len() <= 4);
            seen.extend(names(&page));
            match next {
                Some(t) => token = Some(t),
                None => break,
            }
        }
        let expected: Vec<String> = (1..=30)
            .rev()
            .filter(|i| i % 3 == 0)
            .map(|i| format!("id-{i}"))
            .collect();
        assert_eq!(seen, expected);
        // A token is bound to its query.
        let mut q = query(Some(("EventName", "GetKey")), 0, 10_000, 2);
        let (_, next) = store.read_blocking(move |tx| run(tx, &q.clone())).unwrap();
        q = query(Some(("EventName", "CreateKey")), 0, 10_000, 2);
        q.next_token = next;
        let err = store.read_blocking(move |tx| run(tx, &q)).unwrap_err();
        assert_eq!(err.code, "InvalidNextTokenException");
        // ReadOnly and EventId lookups.
        let q = query(Some(("ReadOnly", "true")), 0, 10_000, 50);
        let (ro, _) = store.read_blocking(move |tx| run(tx, &q)).unwrap();
        assert_eq!(ro.len(), 10);
        let q = query(Some(("EventId", "id-7")), 0, 10_000, 50);
        let (one, _) = store.read_blocking(move |tx| run(tx, &q)).unwrap();
        assert_eq!(names(&one), vec!["id-7"]);
        let cte: Value = serde_json::from_str(one[0]["CloudTrailEvent"].as_str().unwrap()).unwrap();
        assert_eq!(cte["eventID"], "id-7");
        assert_eq!(one[0]["Username"], "root");
    }
}
