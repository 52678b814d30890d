//! LookupEvents latency over a large trail: fills an on-disk SQLite store with N events (as the
//! server's audit writer stores them: hash-chained records plus their index entries, in batches
//! of 2048 per transaction), then times the first page (50 events) of a lookup for every
//! LookupAttributes key, a narrow time window and a deep NextToken page.
//!
//!   cargo run --release -p rampart-cloudtrail --example lookup_bench -- [events] [dir]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
use std::time::Instant;

use rampart_cloudtrail::index;
use rampart_cloudtrail::lookup::{Query, run};
use rampart_cloudtrail::record::format_time;
use rampart_cloudtrail::stored::{Head, indexed_rows};
use rampart_store::{Expect, Store, StoreError};
use serde_json::{Value, json};
use time::OffsetDateTime;

const ACCOUNT: &str = "123456789012";
const NAMES: [&str; 8] = [
    "Encrypt",
    "Decrypt",
    "CreateKey",
    "ListKeys",
    "GetCallerIdentity",
    "AssumeRole",
    "CreateUser",
    "ListTrails",
];

fn event(i: u64, t: i64) -> Value {
    let name = NAMES[(i % 8) as usize];
    let user = format!("user{}", i % 100);
    let key = format!("arn:aws:kms:us-east-1:{ACCOUNT}:key/{:08x}", i % 1000);
    json!({
        "eventVersion": "1.09",
        "userIdentity": {"type": "IAMUser", "principalId": "AIDAX", "arn": format!("arn:aws:iam::{ACCOUNT}:user/{user}"),
                         "accountId": ACCOUNT, "accessKeyId": format!("AKIA{:016}", i % 100), "userName": user},
        "eventTime": format_time(OffsetDateTime::from_unix_timestamp(t).unwrap()),
        "eventSource": if name.contains("Key") || name.contains("crypt") { "kms.amazonaws.com" } else { "sts.amazonaws.com" },
        "eventName": name, "awsRegion": "us-east-1", "sourceIPAddress": "10.0.0.1", "userAgent": "bench",
        "requestParameters": {"keyId": key}, "responseElements": null,
        "requestID": format!("req-{i}"), "eventID": format!("evt-{i}"),
        "readOnly": name.starts_with("List") || name.starts_with("Get") || name == "Decrypt",
        "resources": [{"accountId": ACCOUNT, "type": "AWS::KMS::Key", "ARN": key}],
        "eventType": "AwsApiCall", "managementEvent": true, "recipientAccountId": ACCOUNT, "eventCategory": "Management",
    })
}

fn main() {
    let n: u64 = std::env::args()
        .nth(1)
        .map_or(1_000_000, |s| s.parse().unwrap());
    let dir = std::env::args().nth(2).map_or_else(
        || std::env::temp_dir().join("rampart-lookup-bench"),
        Into::into,
    );
    std::fs::create_dir_all(&dir).unwrap();
    let path = std::path::PathBuf::from(&dir).join("store.db");
    let fresh = !path.exists();
    let store = Store::open_sqlite(&path, Default::default()).unwrap();
    let now = OffsetDateTime::now_utc().unix_timestamp();
    // Events spread over the last 80 days.
    let start = now - 80 * 86_400;
    let step = (80 * 86_400) as f64 / n as f64;
    if fresh {
        let t0 = Instant::now();
        let mut head = Head::default();
        let mut i = 0u64;
        while i < n {
            let batch: Vec<Value> = (i..(i + 2048).min(n))
                .map(|j| event(j, start + (j as f64 * step) as i64))
                .collect();
            let mut batch = batch;
            for (k, e) in batch.iter_mut().enumerate() {
                e["eventID"] = index::event_id(head.seq + 1 + k as u64, [k as u8; 10]).into();
            }
            let rows = indexed_rows(&mut head, &batch, ACCOUNT);
            store
                .write_blocking(move |tx| {
                    for (k, v) in &rows {
                        tx.put(k, v, Expect::Any)?;
                    }
                    Ok::<_, StoreError>(())
                })
                .unwrap();
            i += 2048;
        }
        let secs = t0.elapsed().as_secs_f64();
        println!(
            "stored {n} events with indexes in {secs:.1} s ({:.0} events/s)",
            n as f64 / secs
        );
    }
    let q = |attr: Option<(&str, &str)>, from: i64, to: i64| Query {
        account: ACCOUNT.into(),
        region: "us-east-1".into(),
        attribute: attr.map(|(a, v)| (a.into(), v.into())),
        start: from,
        end: to,
        max_results: 50,
        next_token: None,
    };
    let cases: Vec<(&str, Query)> = vec![
        ("no attribute (newest 50)", q(None, now - 90 * 86_400, now)),
        (
            "EventId",
            q(
                // The writer's id for event n/2 + 1 (random part as the fill loop made it).
                Some((
                    "EventId",
                    &index::event_id(n / 2 + 1, [((n / 2) % 2048) as u8; 10]),
                )),
                now - 90 * 86_400,
                now,
            ),
        ),
        (
            "EventName",
            q(Some(("EventName", "CreateKey")), now - 90 * 86_400, now),
        ),
        (
            "ReadOnly",
            q(Some(("ReadOnly", "false")), now - 90 * 86_400, now),
        ),
        (
            "Username",
            q(Some(("Username", "user42")), now - 90 * 86_400, now),
        ),
        (
            "ResourceType",
            q(
                Some(("ResourceType", "AWS::KMS::Key")),
                now - 90 * 86_400,
                now,
            ),
        ),
        (
            "ResourceName",
            q(Some(("ResourceName", "0000002a")), now - 90 * 86_400, now),
        ),
        (
            "EventSource",
            q(
                Some(("EventSource", "kms.amazonaws.com")),
                now - 90 * 86_400,
                now,
            ),
        ),
        (
            "AccessKeyId",
            q(
                Some(("AccessKeyId", "AKIA0000000000000042")),
                now - 90 * 86_400,
                now,
            ),
        ),
        (
            "Username, 1-hour window 40 days ago",
            q(
                Some(("Username", "user42")),
                now - 40 * 86_400 - 3600,
                now - 40 * 86_400,
            ),
        ),
        (
            "rare value, no match",
            q(Some(("EventName", "NoSuchEvent")), now - 90 * 86_400, now),
        ),
    ];
    println!(
        "{:<40} {:>8} {:>10} {:>10}",
        "lookup (first page, 50)", "events", "p50 ms", "max ms"
    );
    for (label, query) in cases {
        let mut times = Vec::new();
        let mut count = 0;
        for _ in 0..21 {
            let qq = query.clone();
            let t0 = Instant::now();
            let (events, _) = store.read_blocking(move |tx| run(tx, &qq)).unwrap();
            times.push(t0.elapsed().as_secs_f64() * 1000.0);
            count = events.len();
        }
        times.sort_by(f64::total_cmp);
        println!(
            "{label:<40} {count:>8} {:>10.2} {:>10.2}",
            times[10], times[20]
        );
    }
    // A deep page: follow NextToken 200 pages into EventName=Encrypt.
    let mut token = None;
    let t0 = Instant::now();
    for _ in 0..200 {
        let mut qq = q(Some(("EventName", "Encrypt")), now - 90 * 86_400, now);
        qq.next_token = token.clone();
        let (_, next) = store.read_blocking(move |tx| run(tx, &qq)).unwrap();
        token = next;
    }
    println!(
        "200 consecutive NextToken pages: {:.2} ms per page",
        t0.elapsed().as_secs_f64() * 1000.0 / 200.0
    );
    store.close().unwrap();
}
