//! `LookupEvents`: the account's events in the addressed region, newest first, read through the
//! indexes (one key range per query), at most 90 days back.
use std::collections::BinaryHeap;
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
use crate::stored::EventReader;

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
        // Every event answered before this lookup is in the store.
        ctx.node.service_events.flush().await;
        let (events, next) = ctx
            .store()
            .read_offloaded(move |tx| run(tx, &query))
            .await?;
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

/// A token names the last event returned: (seconds, seq), bound to its query.
fn encode_token(q: &Query, last: (i64, u64)) -> String {
    URL_SAFE_NO_PAD.encode(format!("v2\n{}\n{}:{}", token_scope(q), last.0, last.1))
}

fn decode_token(q: &Query, token: &str) -> Result<(i64, u64), AwsError> {
    let invalid = || error("InvalidNextTokenException", "Invalid NextToken.");
    let bytes = URL_SAFE_NO_PAD
        .decode(token.as_bytes())
        .map_err(|_| invalid())?;
    let text = String::from_utf8(bytes).map_err(|_| invalid())?;
    let rest = text.strip_prefix("v2\n").ok_or_else(invalid)?;
    let (scope, last) = rest.rsplit_once('\n').ok_or_else(invalid)?;
    if scope != token_scope(q) {
        return Err(invalid());
    }
    let (t, seq) = last.split_once(':').ok_or_else(invalid)?;
    Ok((
        t.parse().map_err(|_| invalid())?,
        seq.parse().map_err(|_| invalid())?,
    ))
}

fn load_event(
    tx: &mut (impl ReadTxn + ?Sized),
    reader: &mut EventReader,
    seq: u64,
) -> Result<Option<Value>, AwsError> {
    // Retention may have removed the event before its index rows.
    Ok(reader.get(tx, seq)?.map(|s| s.event))
}

/// Runs a query: the LookupEvents `Events` and the next token.
pub fn run(
    tx: &mut (impl ReadTxn + ?Sized),
    q: &Query,
) -> Result<(Vec<Value>, Option<String>), AwsError> {
    let cursor = match &q.next_token {
        Some(t) => Some(decode_token(q, t)?),
        None => None,
    };
    if let Some((attr, value)) = &q.attribute {
        if attr == "EventId" {
            return lookup_event_id(tx, q, value, cursor.is_some());
        }
    }
    let prefix = match &q.attribute {
        Some((a, v)) => index::attribute_prefix(&q.account, &q.region, a, v),
        None => index::time_prefix(&q.account, &q.region),
    };
    let upper = cursor.map_or(q.end, |(t, _)| t.min(q.end));
    // Rows are keyed by their newest event; one spans at most SPAN seconds, so rows newer than
    // `upper + SPAN` cannot hold an event at or before `upper`.
    let mut after = format!(
        "{prefix}{}~",
        index::time_part(upper.saturating_add(index::SPAN + 1))
    );
    let wanted = |e: (i64, u64)| e.0 >= q.start && e.0 <= q.end && cursor.is_none_or(|c| e < c);
    // Entries seen but not yet safe to return (a later row may hold a newer one).
    let mut pending: BinaryHeap<(i64, u64)> = BinaryHeap::new();
    let mut page_out = Page {
        events: Vec::new(),
        last: None,
        max: q.max_results,
        reader: EventReader::default(),
    };
    loop {
        let rows = tx.scan(&prefix, Some(&after), 64)?;
        let exhausted = rows.len() < 64;
        for (key, record) in rows {
            after.clone_from(&key);
            let Some((row_newest, _)) = index::decode_sort(&key) else {
                continue;
            };
            if drain(tx, &mut pending, Some(row_newest), &mut page_out)? {
                return Ok(page_out.finish(q, true));
            }
            if row_newest < q.start {
                let full = drain(tx, &mut pending, None, &mut page_out)?;
                return Ok(page_out.finish(q, full));
            }
            let entries: Vec<(i64, u64)> =
                serde_json::from_slice(&record.value).unwrap_or_default();
            pending.extend(entries.into_iter().filter(|e| wanted(*e)));
        }
        if exhausted {
            let full = drain(tx, &mut pending, None, &mut page_out)?;
            return Ok(page_out.finish(q, full));
        }
    }
}

struct Page {
    events: Vec<Value>,
    last: Option<(i64, u64)>,
    max: usize,
    reader: EventReader,
}

impl Page {
    fn finish(self, q: &Query, more: bool) -> (Vec<Value>, Option<String>) {
        let token = if more {
            self.last.map(|l| encode_token(q, l))
        } else {
            None
        };
        (self.events, token)
    }
}

/// Returns pending entries newer than `bound` (all for `None`), newest first, until the page is
/// full; `true` when it filled with entries left over.
fn drain(
    tx: &mut (impl ReadTxn + ?Sized),
    pending: &mut BinaryHeap<(i64, u64)>,
    bound: Option<i64>,
    page: &mut Page,
) -> Result<bool, AwsError> {
    while let Some(&top) = pending.peek() {
        if bound.is_some_and(|b| top.0 <= b) {
            break;
        }
        if page.events.len() == page.max {
            return Ok(true);
        }
        pending.pop();
        if let Some(event) = load_event(tx, &mut page.reader, top.1)? {
            page.events.push(lookup_event(&event));
            page.last = Some(top);
        }
    }
    Ok(false)
}

/// EventId: the id carries the sequence number; the event must also be the caller's, in the
/// region and time range.
fn lookup_event_id(
    tx: &mut (impl ReadTxn + ?Sized),
    q: &Query,
    id: &str,
    continued: bool,
) -> Result<(Vec<Value>, Option<String>), AwsError> {
    let Some(seq) = index::seq_of_event_id(id) else {
        return Ok((Vec::new(), None));
    };
    if continued {
        return Ok((Vec::new(), None));
    }
    let Some(event) = load_event(tx, &mut EventReader::default(), seq)? else {
        return Ok((Vec::new(), None));
    };
    let t = index::event_seconds(&event);
    let mine = event.get("eventID").and_then(Value::as_str) == Some(id)
        && event.get("recipientAccountId").and_then(Value::as_str) == Some(q.account.as_str())
        && index::event_region(&event) == q.region
        && t >= q.start
        && t <= q.end;
    Ok((
        if mine {
            vec![lookup_event(&event)]
        } else {
            Vec::new()
        },
        None,
    ))
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
    use crate::stored::{Head, indexed_rows};
    use rampart_store::{Expect, Store, StoreError};

    fn event(i: u64, name: &str, t: i64) -> Value {
        let time = OffsetDateTime::from_unix_timestamp(t).unwrap();
        json!({
            "eventID": format!("id-{i}"), "requestID": format!("id-{i}"), "eventName": name, "readOnly": name.starts_with("Get"),
            "eventSource": "kms.amazonaws.com", "awsRegion": "us-east-1",
            "eventTime": crate::record::format_time(time), "recipientAccountId": "111111111111",
            "userIdentity": {"type": "Root", "accessKeyId": "AKIA1"},
        })
    }

    /// Stores events as the writer does, in batches of `batch` events.
    fn store_events(store: &Store, mut events: Vec<Value>, batch: usize) {
        let mut head = Head::default();
        for (i, e) in events.iter_mut().enumerate() {
            e["eventID"] = index::event_id(i as u64 + 1, [i as u8; 10]).into();
        }
        for chunk in events.chunks(batch) {
            let rows = indexed_rows(&mut head, chunk, "000000000000");
            store
                .write_blocking(move |tx| {
                    for (key, bytes) in &rows {
                        tx.put(key, bytes, Expect::Absent)?;
                    }
                    Ok::<_, StoreError>(())
                })
                .unwrap();
        }
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
        for batch in [1, 4, 7, 30] {
            check_lookups(batch);
        }
    }

    fn check_lookups(batch: usize) {
        let store = Store::open_in_memory().unwrap();
        // Within a batch, times are out of order (a slow request finishes late).
        let events: Vec<Value> = (1..=30)
            .map(|i| {
                let name = if i % 3 == 0 { "GetKey" } else { "CreateKey" };
                let jitter = if i % 2 == 0 { 3 } else { 0 };
                event(i, name, 1_000 + i as i64 * 10 + jitter)
            })
            .collect();
        store_events(&store, events, batch);
        // Test events carry their number in requestID (the writer sets eventID).
        let names = |evs: &[Value]| -> Vec<String> {
            evs.iter()
                .map(|e| {
                    let r: Value =
                        serde_json::from_str(e["CloudTrailEvent"].as_str().unwrap()).unwrap();
                    r["requestID"].as_str().unwrap().to_string()
                })
                .collect()
        };
        // All, newest first.
        let q = query(None, 0, 10_000, 50);
        let (all, next) = store.read_blocking(move |tx| run(tx, &q)).unwrap();
        assert_eq!(all.len(), 30);
        assert!(next.is_none());
        assert_eq!(names(&all)[0], "id-30");
        assert_eq!(names(&all)[29], "id-1");
        // Time range [1100, 1200]: events 10..=19 (event 20 is at 1203).
        let q = query(None, 1_100, 1_200, 50);
        let (range, _) = store.read_blocking(move |tx| run(tx, &q)).unwrap();
        assert_eq!(names(&range).first().unwrap(), "id-19");
        assert_eq!(names(&range).last().unwrap(), "id-10");
        assert_eq!(range.len(), 10);
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
        let id7 = index::event_id(7, [6u8; 10]);
        let q = query(Some(("EventId", &id7)), 0, 10_000, 50);
        let (one, _) = store.read_blocking(move |tx| run(tx, &q)).unwrap();
        assert_eq!(names(&one), vec!["id-7"]);
        let cte: Value = serde_json::from_str(one[0]["CloudTrailEvent"].as_str().unwrap()).unwrap();
        assert_eq!(cte["eventID"], id7);
        assert_eq!(one[0]["Username"], "root");
        // A made-up id with a real sequence number finds nothing.
        let forged = index::event_id(7, [9u8; 10]);
        let q = query(Some(("EventId", &forged)), 0, 10_000, 50);
        assert!(
            store
                .read_blocking(move |tx| run(tx, &q))
                .unwrap()
                .0
                .is_empty()
        );
    }
}
