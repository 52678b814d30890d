//! CloudTrail Lake: event data stores and SQL queries over the account's events.
//!
//! Engine: SQLite (rusqlite, already linked for the store, so no extra build cost). A query runs
//! in a private in-memory database holding only the event data store's events — the newest
//! [`LAKE_WINDOW`] audit records, filtered to the store's account, regions and selectors — as
//! one `events` table (top-level fields as columns, `userIdentity.arn`-style dotted names as
//! quoted columns, nested objects as JSON text usable with SQLite's `json_extract`). The SQL is
//! SQLite's dialect, not Trino's: e.g. `eventTime > datetime('now', '-1 hour')` (eventTime is
//! `YYYY-MM-DD HH:MM:SS`, as in Lake). Only one SELECT/WITH statement is accepted; the database
//! holds nothing else, and a query is interrupted after [`QUERY_TIMEOUT`].
//!
//! Queries run to completion inside StartQuery (status FINISHED, FAILED or TIMED_OUT); results
//! are kept with the query record (at most [`MAX_ROWS`] rows).
use std::sync::Arc;
use std::time::{Duration, Instant};

use rampart_aws_types::{AwsError, PARTITION, ids};
use rampart_services::common::{input, keys, records};
use rampart_services::{Ctx, HandlerFuture};
use rampart_store::{Expect, ReadTxn};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::errors::error;
use crate::index;
use crate::selectors::{self, AdvancedSelector, FieldSelector, Selection};
use crate::stored::{self, HEAD_KEY, Head};

/// Most recent audit records a query looks at.
pub const LAKE_WINDOW: u64 = 200_000;
pub const QUERY_TIMEOUT: Duration = Duration::from_secs(10);
pub const MAX_ROWS: usize = 10_000;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EventDataStore {
    pub id: String,
    pub arn: String,
    pub name: String,
    pub account: String,
    pub region: String,
    pub selectors: Vec<AdvancedSelector>,
    pub multi_region: bool,
    pub retention_period: i64,
    pub termination_protection: bool,
    pub created: i64,
    pub updated: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QueryRecord {
    pub id: String,
    pub event_data_store_arn: String,
    pub statement: String,
    pub status: String,
    pub error: Option<String>,
    pub columns: Vec<String>,
    pub rows: Vec<Vec<String>>,
    pub events_scanned: u64,
    pub bytes_scanned: u64,
    pub millis: u64,
    pub created: i64,
}

fn eds_key(account: &str, region: &str, id: &str) -> String {
    keys::key(account, region, "cloudtrail", "eventdatastore", id)
}

fn query_key(account: &str, region: &str, id: &str) -> String {
    keys::key(account, region, "cloudtrail", "query", id)
}

fn default_selectors() -> Vec<AdvancedSelector> {
    vec![AdvancedSelector {
        name: Some("Default management events".into()),
        field_selectors: vec![FieldSelector {
            field: "eventCategory".into(),
            equals: Some(vec!["Management".into()]),
            ..Default::default()
        }],
    }]
}

fn eds_json(e: &EventDataStore) -> Value {
    json!({
        "EventDataStoreArn": e.arn, "Name": e.name, "Status": "ENABLED",
        "AdvancedEventSelectors": e.selectors, "MultiRegionEnabled": e.multi_region,
        "OrganizationEnabled": false, "RetentionPeriod": e.retention_period,
        "TerminationProtectionEnabled": e.termination_protection,
        "CreatedTimestamp": e.created, "UpdatedTimestamp": e.updated,
        "BillingMode": "EXTENDABLE_RETENTION_PRICING",
    })
}

/// The event data store named by ARN or id, in the caller's account and region.
fn eds_id(name: &str) -> String {
    name.rsplit('/').next().unwrap_or(name).to_string()
}

async fn load_eds(ctx: &Ctx, name: &str, action: &str) -> Result<EventDataStore, AwsError> {
    let id = eds_id(name);
    let arn = format!(
        "arn:{PARTITION}:cloudtrail:{}:{}:eventdatastore/{id}",
        ctx.region(),
        ctx.account()
    );
    ctx.record_resource(&arn, "AWS::CloudTrail::EventDataStore");
    ctx.authorize(action, &arn, &[])?;
    let key = eds_key(ctx.account(), ctx.region(), &id);
    ctx.store()
        .read(move |tx| records::get::<EventDataStore>(tx, &key))
        .await?
        .map(|(e, _)| e)
        .ok_or_else(|| {
            error(
                "EventDataStoreNotFoundException",
                format!("The specified event data store {arn} was not found."),
            )
        })
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct CreateInput {
    name: String,
    advanced_event_selectors: Option<Vec<AdvancedSelector>>,
    multi_region_enabled: Option<bool>,
    organization_enabled: Option<bool>,
    retention_period: Option<i64>,
    termination_protection_enabled: Option<bool>,
}

pub fn create_event_data_store(ctx: Arc<Ctx>, input: Value) -> HandlerFuture {
    Box::pin(async move {
        let i: CreateInput = input::parse(input)?;
        let id = ids::request_id()?;
        let arn = format!(
            "arn:{PARTITION}:cloudtrail:{}:{}:eventdatastore/{id}",
            ctx.region(),
            ctx.account()
        );
        ctx.record_resource(&arn, "AWS::CloudTrail::EventDataStore");
        ctx.authorize("cloudtrail:CreateEventDataStore", &arn, &[])?;
        if i.organization_enabled == Some(true) {
            return Err(error(
                "OrganizationsNotInUseException",
                "This account is not a member of an organization.",
            ));
        }
        let selectors = i.advanced_event_selectors.unwrap_or_else(default_selectors);
        selectors::validate(&Selection::Advanced(selectors.clone()))?;
        let now = ctx.now().unix_timestamp();
        let eds = EventDataStore {
            id: id.clone(),
            arn,
            name: i.name.clone(),
            account: ctx.account().to_string(),
            region: ctx.region().to_string(),
            selectors,
            multi_region: i.multi_region_enabled.unwrap_or(true),
            retention_period: i.retention_period.unwrap_or(2557),
            termination_protection: i.termination_protection_enabled.unwrap_or(true),
            created: now,
            updated: now,
        };
        let stored = eds.clone();
        let (account, region) = (ctx.account().to_string(), ctx.region().to_string());
        ctx.store()
            .write(move |tx| {
                let prefix = keys::prefix(&account, &region, "cloudtrail", "eventdatastore");
                for (_, r) in tx.scan_all(&prefix)? {
                    let other: EventDataStore = records::decode(&prefix, &r.value)?;
                    if other.name == stored.name {
                        return Err(error(
                            "EventDataStoreAlreadyExistsException",
                            format!("An event data store named {} already exists.", stored.name),
                        ));
                    }
                }
                records::put(
                    tx,
                    &eds_key(&account, &region, &stored.id),
                    &stored,
                    Expect::Absent,
                )?;
                Ok(())
            })
            .await?;
        Ok(eds_json(&eds))
    })
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct EdsInput {
    event_data_store: String,
}

pub fn get_event_data_store(ctx: Arc<Ctx>, input: Value) -> HandlerFuture {
    Box::pin(async move {
        let i: EdsInput = input::parse(input)?;
        let e = load_eds(&ctx, &i.event_data_store, "cloudtrail:GetEventDataStore").await?;
        Ok(eds_json(&e))
    })
}

pub fn list_event_data_stores(ctx: Arc<Ctx>, _input: Value) -> HandlerFuture {
    Box::pin(async move {
        ctx.authorize("cloudtrail:ListEventDataStores", "*", &[])?;
        let prefix = keys::prefix(ctx.account(), ctx.region(), "cloudtrail", "eventdatastore");
        let all = ctx
            .store()
            .read_offloaded(move |tx| {
                tx.scan_all(&prefix)?
                    .into_iter()
                    .map(|(k, r)| records::decode::<EventDataStore>(&k, &r.value))
                    .collect::<Result<Vec<_>, AwsError>>()
            })
            .await?;
        let list: Vec<Value> = all
            .iter()
            .map(|e| {
                json!({ "EventDataStoreArn": e.arn, "Name": e.name,
                        "CreatedTimestamp": e.created, "UpdatedTimestamp": e.updated })
            })
            .collect();
        Ok(json!({ "EventDataStores": list }))
    })
}

pub fn delete_event_data_store(ctx: Arc<Ctx>, input: Value) -> HandlerFuture {
    Box::pin(async move {
        let i: EdsInput = input::parse(input)?;
        let e = load_eds(&ctx, &i.event_data_store, "cloudtrail:DeleteEventDataStore").await?;
        if e.termination_protection {
            return Err(error(
                "EventDataStoreTerminationProtectedException",
                "Event data store termination protection is enabled.",
            ));
        }
        let key = eds_key(&e.account, &e.region, &e.id);
        ctx.store()
            .write(move |tx| Ok::<_, AwsError>(tx.delete(&key, Expect::Any).map(|_| ())?))
            .await?;
        Ok(json!({}))
    })
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct UpdateInput {
    event_data_store: String,
    name: Option<String>,
    advanced_event_selectors: Option<Vec<AdvancedSelector>>,
    multi_region_enabled: Option<bool>,
    retention_period: Option<i64>,
    termination_protection_enabled: Option<bool>,
}

pub fn update_event_data_store(ctx: Arc<Ctx>, input: Value) -> HandlerFuture {
    Box::pin(async move {
        let i: UpdateInput = input::parse(input)?;
        let mut e = load_eds(&ctx, &i.event_data_store, "cloudtrail:UpdateEventDataStore").await?;
        if let Some(n) = i.name {
            e.name = n;
        }
        if let Some(s) = i.advanced_event_selectors {
            selectors::validate(&Selection::Advanced(s.clone()))?;
            e.selectors = s;
        }
        if let Some(m) = i.multi_region_enabled {
            e.multi_region = m;
        }
        if let Some(r) = i.retention_period {
            e.retention_period = r;
        }
        if let Some(t) = i.termination_protection_enabled {
            e.termination_protection = t;
        }
        e.updated = ctx.now().unix_timestamp();
        let stored = e.clone();
        ctx.store()
            .write(move |tx| {
                records::put(
                    tx,
                    &eds_key(&stored.account, &stored.region, &stored.id),
                    &stored,
                    Expect::Any,
                )
                .map(|_| ())
            })
            .await?;
        Ok(eds_json(&e))
    })
}

/// Flattened columns: (column name, path in the record).
const COLUMNS: [(&str, &str); 32] = [
    ("eventVersion", "eventVersion"),
    ("eventTime", "eventTime"),
    ("eventSource", "eventSource"),
    ("eventName", "eventName"),
    ("awsRegion", "awsRegion"),
    ("sourceIPAddress", "sourceIPAddress"),
    ("userAgent", "userAgent"),
    ("errorCode", "errorCode"),
    ("errorMessage", "errorMessage"),
    ("requestID", "requestID"),
    ("eventID", "eventID"),
    ("readOnly", "readOnly"),
    ("eventType", "eventType"),
    ("managementEvent", "managementEvent"),
    ("recipientAccountId", "recipientAccountId"),
    ("eventCategory", "eventCategory"),
    ("requestParameters", "requestParameters"),
    ("responseElements", "responseElements"),
    ("resources", "resources"),
    ("userIdentity", "userIdentity"),
    ("tlsDetails", "tlsDetails"),
    ("serviceEventDetails", "serviceEventDetails"),
    ("userIdentity.type", "userIdentity/type"),
    ("userIdentity.principalId", "userIdentity/principalId"),
    ("userIdentity.arn", "userIdentity/arn"),
    ("userIdentity.accountId", "userIdentity/accountId"),
    ("userIdentity.accessKeyId", "userIdentity/accessKeyId"),
    ("userIdentity.userName", "userIdentity/userName"),
    ("userIdentity.invokedBy", "userIdentity/invokedBy"),
    (
        "userIdentity.sessionContext.sessionIssuer.arn",
        "userIdentity/sessionContext/sessionIssuer/arn",
    ),
    (
        "userIdentity.sessionContext.sessionIssuer.userName",
        "userIdentity/sessionContext/sessionIssuer/userName",
    ),
    ("tlsDetails.tlsVersion", "tlsDetails/tlsVersion"),
];

fn column_value(event: &Value, path: &str) -> rusqlite::types::Value {
    use rusqlite::types::Value as V;
    let mut v = event;
    for part in path.split('/') {
        match v.get(part) {
            Some(x) => v = x,
            None => return V::Null,
        }
    }
    match v {
        Value::Null => V::Null,
        Value::Bool(b) => V::Integer(i64::from(*b)),
        Value::Number(n) => n
            .as_i64()
            .map_or_else(|| V::Real(n.as_f64().unwrap_or(0.0)), V::Integer),
        Value::String(s) if path == "eventTime" => {
            V::Text(s.replace('T', " ").trim_end_matches('Z').to_string())
        }
        Value::String(s) => V::Text(s.clone()),
        other => V::Text(other.to_string()),
    }
}

/// Rewrites Lake SQL for SQLite: the event data store's id becomes `events`, dotted field names
/// become quoted columns. `None` when the statement does not name this store.
pub fn rewrite(sql: &str, eds_id: &str) -> Option<String> {
    if !sql.contains(eds_id) {
        return None;
    }
    let mut out = sql.replace(eds_id, "events");
    let mut dotted: Vec<&str> = COLUMNS
        .iter()
        .map(|(c, _)| *c)
        .filter(|c| c.contains('.'))
        .collect();
    dotted.sort_by_key(|c| std::cmp::Reverse(c.len()));
    for name in dotted {
        let mut result = String::with_capacity(out.len());
        let mut rest = out.as_str();
        while let Some(pos) = rest.find(name) {
            let before = rest.get(..pos).unwrap_or_default();
            let after = rest.get(pos + name.len()..).unwrap_or_default();
            let prev_ok = !before
                .ends_with(|c: char| c.is_alphanumeric() || c == '.' || c == '"' || c == '_');
            let next_ok = !after
                .starts_with(|c: char| c.is_alphanumeric() || c == '.' || c == '"' || c == '_');
            result.push_str(before);
            if prev_ok && next_ok {
                result.push('"');
                result.push_str(name);
                result.push('"');
            } else {
                result.push_str(name);
            }
            rest = after;
        }
        result.push_str(rest);
        out = result;
    }
    Some(out)
}

/// Only one read-only SELECT (or WITH) statement.
fn check_statement(sql: &str) -> Result<(), String> {
    let head: String = sql
        .trim_start()
        .chars()
        .take(6)
        .collect::<String>()
        .to_ascii_uppercase();
    if head.starts_with("SELECT") || head.starts_with("WITH") {
        Ok(())
    } else {
        Err("Only SELECT statements are supported.".into())
    }
}

struct Outcome {
    status: &'static str,
    error: Option<String>,
    columns: Vec<String>,
    rows: Vec<Vec<String>>,
}

/// Runs `sql` over `events` in a private in-memory database.
fn execute(sql: &str, events: &[Value], timeout: Duration) -> Outcome {
    let fail = |status: &'static str, e: String| Outcome {
        status,
        error: Some(e),
        columns: Vec::new(),
        rows: Vec::new(),
    };
    if let Err(e) = check_statement(sql) {
        return fail("FAILED", e);
    }
    let conn = match rusqlite::Connection::open_in_memory() {
        Ok(c) => c,
        Err(e) => return fail("FAILED", e.to_string()),
    };
    let cols: Vec<String> = COLUMNS.iter().map(|(c, _)| format!("\"{c}\"")).collect();
    let create = format!("CREATE TABLE events ({})", cols.join(", "));
    let insert = format!(
        "INSERT INTO events VALUES ({})",
        vec!["?"; COLUMNS.len()].join(", ")
    );
    let load = || -> rusqlite::Result<()> {
        conn.execute_batch(&create)?;
        conn.execute_batch("BEGIN")?;
        {
            let mut stmt = conn.prepare(&insert)?;
            for e in events {
                let values: Vec<rusqlite::types::Value> =
                    COLUMNS.iter().map(|(_, p)| column_value(e, p)).collect();
                stmt.execute(rusqlite::params_from_iter(values))?;
            }
        }
        conn.execute_batch("COMMIT; PRAGMA query_only = ON;")
    };
    if let Err(e) = load() {
        return fail("FAILED", e.to_string());
    }
    let interrupt = conn.get_interrupt_handle();
    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let done2 = done.clone();
    let timer = std::thread::spawn(move || {
        let start = Instant::now();
        while start.elapsed() < timeout {
            if done2.load(std::sync::atomic::Ordering::Relaxed) {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        interrupt.interrupt();
    });
    let result = (|| -> rusqlite::Result<(Vec<String>, Vec<Vec<String>>)> {
        let mut stmt = conn.prepare(sql)?;
        let columns: Vec<String> = stmt.column_names().map(str::to_string).collect();
        let n = columns.len();
        let mut rows = Vec::new();
        let mut q = stmt.query([])?;
        while let Some(row) = q.next()? {
            if rows.len() >= MAX_ROWS {
                break;
            }
            let mut r = Vec::with_capacity(n);
            for i in 0..n {
                let v: rusqlite::types::Value = row.get(i)?;
                r.push(match v {
                    rusqlite::types::Value::Null => String::new(),
                    rusqlite::types::Value::Integer(x) => x.to_string(),
                    rusqlite::types::Value::Real(x) => x.to_string(),
                    rusqlite::types::Value::Text(t) => t,
                    rusqlite::types::Value::Blob(b) => hex::encode(b),
                });
            }
            rows.push(r);
        }
        Ok((columns, rows))
    })();
    done.store(true, std::sync::atomic::Ordering::Relaxed);
    let _ = timer.join();
    match result {
        Ok((columns, rows)) => Outcome {
            status: "FINISHED",
            error: None,
            columns,
            rows,
        },
        Err(rusqlite::Error::SqliteFailure(e, _))
            if e.code == rusqlite::ErrorCode::OperationInterrupted =>
        {
            fail(
                "TIMED_OUT",
                "The query ran longer than its time limit.".into(),
            )
        }
        Err(e) => fail("FAILED", e.to_string()),
    }
}

/// The event data store's events among the newest [`LAKE_WINDOW`] audit records.
fn eds_events(
    tx: &mut (impl ReadTxn + ?Sized),
    eds: &EventDataStore,
    default_account: &str,
    now: i64,
) -> Result<(Vec<Value>, u64, u64), AwsError> {
    let head: u64 = tx
        .get(HEAD_KEY)?
        .and_then(|r| serde_json::from_slice::<Head>(&r.value).ok())
        .map_or(0, |h| h.seq);
    let mut after = head.saturating_sub(LAKE_WINDOW);
    let selection = Selection::Advanced(eds.selectors.clone());
    let floor = now - eds.retention_period.saturating_mul(86_400);
    let (mut out, mut scanned, mut bytes) = (Vec::new(), 0u64, 0u64);
    loop {
        let page = stored::scan_events(tx, after, 64)?;
        let Some(last) = page.last() else {
            return Ok((out, scanned, bytes));
        };
        after = last.seq;
        for stored in page {
            scanned += 1;
            let e = stored.event;
            bytes += serde_json::to_vec(&e).map_or(0, |b| b.len() as u64);
            if index::event_account(&e, default_account) == eds.account
                && (eds.multi_region || index::event_region(&e) == eds.region)
                && index::event_seconds(&e) >= floor
                && selectors::selects(&selection, &e)
            {
                out.push(e);
            }
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct StartQueryInput {
    query_statement: Option<String>,
    delivery_s3_uri: Option<String>,
}

pub fn start_query(ctx: Arc<Ctx>, input: Value) -> HandlerFuture {
    Box::pin(async move {
        let i: StartQueryInput = input::parse(input)?;
        let Some(sql) = i.query_statement else {
            return Err(error(
                "InvalidParameterException",
                "QueryStatement is required.",
            ));
        };
        if i.delivery_s3_uri.is_some() {
            return Err(error(
                "UnsupportedOperationException",
                "Delivering query results to S3 is not supported.",
            ));
        }
        // Which of the caller's event data stores the statement names.
        let prefix = keys::prefix(ctx.account(), ctx.region(), "cloudtrail", "eventdatastore");
        let all = ctx
            .store()
            .read_offloaded(move |tx| {
                tx.scan_all(&prefix)?
                    .into_iter()
                    .map(|(k, r)| records::decode::<EventDataStore>(&k, &r.value))
                    .collect::<Result<Vec<_>, AwsError>>()
            })
            .await?;
        let found = all
            .into_iter()
            .find_map(|e| rewrite(&sql, &e.id).map(|s| (e, s)));
        let Some((eds, rewritten)) = found else {
            ctx.authorize("cloudtrail:StartQuery", "*", &[])?;
            return Err(error(
                "InvalidQueryStatementException",
                "The query statement does not name an event data store of this account and region.",
            ));
        };
        ctx.record_resource(&eds.arn, "AWS::CloudTrail::EventDataStore");
        ctx.authorize("cloudtrail:StartQuery", &eds.arn, &[])?;
        let started = Instant::now();
        let default_account = crate::settings::get()
            .map(|s| s.default_account.clone())
            .unwrap_or_default();
        let now = ctx.now().unix_timestamp();
        let eds2 = eds.clone();
        // Every event answered before the query is in the store.
        ctx.node.service_events.flush().await;
        let (events, scanned, bytes) = ctx
            .store()
            .read_offloaded(move |tx| eds_events(tx, &eds2, &default_account, now))
            .await?;
        let outcome =
            tokio::task::spawn_blocking(move || execute(&rewritten, &events, QUERY_TIMEOUT))
                .await
                .map_err(|_| AwsError::internal("the query could not run"))?;
        let id = ids::request_id()?;
        let record = QueryRecord {
            id: id.clone(),
            event_data_store_arn: eds.arn.clone(),
            statement: sql,
            status: outcome.status.to_string(),
            error: outcome.error,
            columns: outcome.columns,
            rows: outcome.rows,
            events_scanned: scanned,
            bytes_scanned: bytes,
            millis: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
            created: now,
        };
        let key = query_key(ctx.account(), ctx.region(), &id);
        ctx.store()
            .write(move |tx| records::put(tx, &key, &record, Expect::Absent).map(|_| ()))
            .await?;
        Ok(json!({ "QueryId": id }))
    })
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct QueryInput {
    query_id: Option<String>,
    next_token: Option<String>,
    max_query_results: Option<usize>,
}

async fn load_query(ctx: &Ctx, id: Option<String>, action: &str) -> Result<QueryRecord, AwsError> {
    ctx.authorize(action, "*", &[])?;
    let id = id.ok_or_else(|| error("InvalidParameterException", "QueryId is required."))?;
    let key = query_key(ctx.account(), ctx.region(), &id);
    ctx.store()
        .read(move |tx| records::get::<QueryRecord>(tx, &key))
        .await?
        .map(|(q, _)| q)
        .ok_or_else(|| {
            error(
                "QueryIdNotFoundException",
                format!("The query ID {id} does not exist."),
            )
        })
}

fn statistics(q: &QueryRecord) -> Value {
    json!({ "ResultsCount": q.rows.len(), "TotalResultsCount": q.rows.len(), "BytesScanned": q.bytes_scanned })
}

pub fn describe_query(ctx: Arc<Ctx>, input: Value) -> HandlerFuture {
    Box::pin(async move {
        let i: QueryInput = input::parse(input)?;
        let q = load_query(&ctx, i.query_id, "cloudtrail:DescribeQuery").await?;
        let mut out = json!({
            "QueryId": q.id, "QueryString": q.statement, "QueryStatus": q.status,
            "QueryStatistics": {
                "EventsMatched": q.rows.len(), "EventsScanned": q.events_scanned,
                "BytesScanned": q.bytes_scanned, "ExecutionTimeInMillis": q.millis,
                "CreationTime": q.created,
            },
        });
        if let (Some(e), Some(m)) = (&q.error, out.as_object_mut()) {
            m.insert("ErrorMessage".into(), e.clone().into());
        }
        Ok(out)
    })
}

pub fn get_query_results(ctx: Arc<Ctx>, input: Value) -> HandlerFuture {
    Box::pin(async move {
        let i: QueryInput = input::parse(input)?;
        let q = load_query(&ctx, i.query_id, "cloudtrail:GetQueryResults").await?;
        let start: usize = match &i.next_token {
            Some(t) => t
                .parse()
                .map_err(|_| error("InvalidNextTokenException", "Invalid NextToken."))?,
            None => 0,
        };
        let max = i.max_query_results.unwrap_or(1000).clamp(1, 1000);
        let rows: Vec<Value> = q
            .rows
            .iter()
            .skip(start)
            .take(max)
            .map(|r| {
                Value::Array(
                    q.columns
                        .iter()
                        .zip(r)
                        .map(|(c, v)| {
                            let mut m = Map::new();
                            m.insert(c.clone(), v.clone().into());
                            Value::Object(m)
                        })
                        .collect(),
                )
            })
            .collect();
        let mut out = json!({
            "QueryStatus": q.status, "QueryStatistics": statistics(&q), "QueryResultRows": rows,
        });
        if let Some(m) = out.as_object_mut() {
            if start + max < q.rows.len() {
                m.insert("NextToken".into(), (start + max).to_string().into());
            }
            if let Some(e) = &q.error {
                m.insert("ErrorMessage".into(), e.clone().into());
            }
        }
        Ok(out)
    })
}

pub fn cancel_query(ctx: Arc<Ctx>, input: Value) -> HandlerFuture {
    Box::pin(async move {
        let i: QueryInput = input::parse(input)?;
        let q = load_query(&ctx, i.query_id, "cloudtrail:CancelQuery").await?;
        // Queries finish inside StartQuery, so there is never one left to cancel.
        Err(error(
            "InactiveQueryException",
            format!(
                "The query {} is in status {} and cannot be cancelled.",
                q.id, q.status
            ),
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rewrites_dotted_names_and_the_store_id() {
        let sql = "SELECT userIdentity.arn, count(*) FROM abc-123 WHERE userIdentity.arn <> '' AND \"userIdentity.type\" = 'Root'";
        let out = rewrite(sql, "abc-123").unwrap();
        assert_eq!(
            out,
            "SELECT \"userIdentity.arn\", count(*) FROM events WHERE \"userIdentity.arn\" <> '' AND \"userIdentity.type\" = 'Root'"
        );
        assert!(rewrite(sql, "other").is_none());
    }

    #[test]
    fn top_denied_principals() {
        let ev = |arn: &str, code: Option<&str>| {
            json!({"eventName": "X", "eventTime": "2024-01-01T00:00:00Z", "userIdentity": {"arn": arn},
                   "errorCode": code, "readOnly": false})
        };
        let mut events = Vec::new();
        for _ in 0..3 {
            events.push(ev("arn:a", Some("AccessDenied")));
        }
        events.push(ev("arn:b", Some("AccessDeniedException")));
        events.push(ev("arn:b", None));
        let sql = rewrite(
            "SELECT userIdentity.arn AS who, COUNT(*) AS n FROM eds1 WHERE errorCode IN ('AccessDenied','AccessDeniedException') AND eventTime >= '2024-01-01 00:00:00' GROUP BY userIdentity.arn ORDER BY n DESC LIMIT 10",
            "eds1",
        )
        .unwrap();
        let out = execute(&sql, &events, QUERY_TIMEOUT);
        assert_eq!(out.status, "FINISHED", "{:?}", out.error);
        assert_eq!(out.columns, vec!["who", "n"]);
        assert_eq!(
            out.rows,
            vec![
                vec!["arn:a".to_string(), "3".into()],
                vec!["arn:b".into(), "1".into()]
            ]
        );
    }

    #[test]
    fn only_selects_run() {
        for bad in [
            "ATTACH DATABASE '/tmp/x' AS x",
            "DELETE FROM events",
            "SELECT 1; DROP TABLE events",
        ] {
            assert_eq!(execute(bad, &[], QUERY_TIMEOUT).status, "FAILED", "{bad}");
        }
        let slow =
            "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c) SELECT count(*) FROM c";
        assert_eq!(
            execute(slow, &[], Duration::from_millis(200)).status,
            "TIMED_OUT"
        );
    }
}
