//! Log-file delivery: a trail's selected events become gzipped `{"Records":[...]}` files under
//! AWS's key layout
//! `[prefix/]AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/<account>_CloudTrail_<region>_<YYYYMMDDTHHmmZ>_<unique>.json.gz`,
//! one file per event region, delivered when the oldest pending event has waited the delivery
//! interval (5 minutes by default) or sooner when many events are pending.
//!
//! Exactly once: a file's name is derived from the trail and the audit sequence numbers it
//! holds, and the trail's cursor advances only after the files are stored, so a crash between
//! the two rewrites the same file rather than adding a second copy.
use std::collections::BTreeMap;
use std::io::Write as _;

use aws_lc_rs::digest;
use flate2::Compression;
use flate2::write::GzEncoder;
use rampart_aws_types::AwsError;
use rampart_services::common::records;
use rampart_store::{Expect, Store};
use serde_json::{Value, json};
use time::OffsetDateTime;

use crate::destination::Destination;
use crate::index;
use crate::record::format_time;
use crate::selectors;
use crate::settings::Settings;
use crate::stored;
use crate::trail::{self, DeliveredFile, DeliveryState, REGISTRY_PREFIX, TrailConfig, TrailRef};

/// Most audit chunks (each a few dozen records) examined per trail per tick.
const SCAN_CHUNKS: usize = 500;
/// Most records in one log file.
const MAX_RECORDS_PER_FILE: usize = 10_000;

/// The destination a node delivers to.
pub fn destination(settings: &Settings) -> Destination {
    match &settings.s3 {
        Some(s3) => Destination::S3(s3.clone()),
        None => Destination::Local(settings.trails_dir.clone()),
    }
}

/// Every registered trail.
pub async fn trails(store: &Store) -> Result<Vec<TrailRef>, AwsError> {
    let keys = store.read(|tx| tx.scan_all(REGISTRY_PREFIX)).await?;
    Ok(keys
        .into_iter()
        .filter_map(|(key, _)| {
            let rest = key.strip_prefix(REGISTRY_PREFIX)?;
            let mut parts = rest.splitn(3, '/');
            Some(TrailRef {
                account: parts.next()?.to_string(),
                region: parts.next()?.to_string(),
                name: rampart_services::common::keys::unescape(parts.next()?),
            })
        })
        .collect())
}

/// `YYYYMMDDTHHmmZ`
fn compact_minute(t: OffsetDateTime) -> String {
    format!(
        "{:04}{:02}{:02}T{:02}{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute()
    )
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(digest::digest(&digest::SHA256, bytes))
}

/// The object key of a log file.
pub fn log_file_key(
    prefix: Option<&str>,
    account: &str,
    region: &str,
    time: OffsetDateTime,
    unique: &str,
) -> String {
    let p = prefix.map(|p| format!("{p}/")).unwrap_or_default();
    format!(
        "{p}AWSLogs/{account}/CloudTrail/{region}/{:04}/{:02}/{:02}/{account}_CloudTrail_{region}_{}_{unique}.json.gz",
        time.year(),
        u8::from(time.month()),
        time.day(),
        compact_minute(time),
    )
}

/// Gzipped `{"Records":[...]}`.
pub fn log_file_body(records: &[Value]) -> Result<Vec<u8>, AwsError> {
    let json = serde_json::to_vec(&json!({ "Records": records }))
        .map_err(|_| AwsError::internal("cannot encode a log file"))?;
    log_file_body_raw(&json)
}

/// Gzips bytes.
pub fn log_file_body_raw(json: &[u8]) -> Result<Vec<u8>, AwsError> {
    let mut gz = GzEncoder::new(Vec::new(), Compression::default());
    gz.write_all(json)
        .map_err(|_| AwsError::internal("cannot compress a log file"))?;
    gz.finish()
        .map_err(|_| AwsError::internal("cannot compress a log file"))
}

/// Whether `event` belongs in this trail: its account, its region (or any, for multi-region
/// trails), and the trail's selectors.
pub fn trail_wants(config: &TrailConfig, event: &Value, default_account: &str) -> bool {
    index::event_account(event, default_account) == config.account
        && (config.is_multi_region_trail || index::event_region(event) == config.home_region)
        && selectors::selects(&config.selection, event)
}

/// Runs delivery for every trail once.
pub async fn deliver_all(
    store: &Store,
    master_key: &rampart_crypto::MasterKey,
    settings: &Settings,
    now: OffsetDateTime,
) -> Result<(), AwsError> {
    let dest = destination(settings);
    for r in trails(store).await? {
        if let Err(e) = deliver_trail(store, settings, &dest, &r, now).await {
            tracing::error!(trail = %r.arn(), code = %e.code, message = %e.message, "trail delivery failed");
        }
        if let Err(e) =
            crate::digest::maybe_digest(store, master_key, settings, &dest, &r, now).await
        {
            tracing::error!(trail = %r.arn(), code = %e.code, message = %e.message, "digest delivery failed");
        }
    }
    Ok(())
}

/// Delivers one trail's pending events if they are due.
pub async fn deliver_trail(
    store: &Store,
    settings: &Settings,
    dest: &Destination,
    r: &TrailRef,
    now: OffsetDateTime,
) -> Result<(), AwsError> {
    let (ck, sk) = (
        trail::config_key(&r.account, &r.region, &r.name),
        trail::state_key(&r.account, &r.region, &r.name),
    );
    let loaded = store
        .read(move |tx| {
            let c = records::get::<TrailConfig>(tx, &ck)?;
            let s = records::get::<DeliveryState>(tx, &sk)?;
            Ok::<_, AwsError>((c, s))
        })
        .await?;
    let (Some((config, _)), Some((state, state_version))) = loaded else {
        return Ok(());
    };
    let upper = match (config.is_logging, state.stop_seq) {
        (_, Some(stop)) if state.cursor_seq < stop => stop,
        (true, _) => u64::MAX,
        _ => return Ok(()),
    };
    let flushing = !config.is_logging;
    let cursor = state.cursor_seq;
    let page = store
        .read_offloaded(move |tx| stored::scan_events(tx, cursor, SCAN_CHUNKS))
        .await?;
    let mut last_seq = state.cursor_seq;
    let mut selected: Vec<(u64, Value)> = Vec::new();
    for stored in page {
        if stored.seq > upper {
            break;
        }
        last_seq = stored.seq;
        if trail_wants(&config, &stored.event, &settings.default_account) {
            selected.push((stored.seq, stored.event));
        }
    }
    if last_seq == state.cursor_seq {
        return Ok(());
    }
    let oldest = selected
        .iter()
        .map(|(_, e)| index::event_seconds(e))
        .min()
        .unwrap_or(i64::MAX);
    let waited = now.unix_timestamp().saturating_sub(oldest);
    let interval = i64::try_from(settings.delivery_interval.as_secs()).unwrap_or(300);
    let due = flushing || selected.len() >= settings.delivery_volume || waited >= interval;
    if !selected.is_empty() && !due {
        return Ok(());
    }

    // One file per event region (and per MAX_RECORDS_PER_FILE).
    let mut by_region: BTreeMap<String, Vec<(u64, Value)>> = BTreeMap::new();
    for (seq, e) in selected {
        by_region
            .entry(index::event_region(&e).to_string())
            .or_default()
            .push((seq, e));
    }
    let mut delivered: Vec<DeliveredFile> = Vec::new();
    let mut failure: Option<String> = None;
    'regions: for (region, events) in &by_region {
        for chunk in events.chunks(MAX_RECORDS_PER_FILE) {
            let (Some((first_seq, _)), Some((last, newest_event))) = (chunk.first(), chunk.last())
            else {
                continue;
            };
            let records: Vec<Value> = chunk.iter().map(|(_, e)| e.clone()).collect();
            let times: Vec<i64> = records.iter().map(index::event_seconds).collect();
            let newest = times.iter().copied().max().unwrap_or(0);
            let oldest = times.iter().copied().min().unwrap_or(0);
            let file_time =
                OffsetDateTime::from_unix_timestamp(newest.max(index::event_seconds(newest_event)))
                    .unwrap_or(now);
            let unique =
                sha256_hex(format!("{}/{region}/{first_seq}-{last}", config.arn).as_bytes());
            let key = log_file_key(
                config.s3_key_prefix.as_deref(),
                &config.account,
                region,
                file_time,
                unique.get(..16).unwrap_or_default(),
            );
            let body = log_file_body(&records)?;
            let hash = sha256_hex(&body);
            match dest.put(&config.s3_bucket_name, &key, body, &[], now).await {
                Ok(()) => delivered.push(DeliveredFile {
                    bucket: config.s3_bucket_name.clone(),
                    key,
                    sha256: hash,
                    oldest_event_time: OffsetDateTime::from_unix_timestamp(oldest)
                        .map(format_time)
                        .unwrap_or_default(),
                    newest_event_time: format_time(file_time),
                }),
                Err(e) => {
                    failure = Some(e);
                    break 'regions;
                }
            }
        }
    }

    let sk = trail::state_key(&r.account, &r.region, &r.name);
    let validation = config.log_file_validation_enabled;
    let now_s = now.unix_timestamp();
    let wrote_files = !delivered.is_empty();
    store
        .write(move |tx| {
            let mut s = state.clone();
            s.latest_delivery_attempt_time = Some(now_s);
            match &failure {
                None => {
                    s.cursor_seq = last_seq;
                    if wrote_files {
                        s.latest_delivery_time = Some(now_s);
                        s.latest_delivery_attempt_succeeded = Some(true);
                        s.latest_delivery_error = None;
                    }
                    if validation {
                        s.undigested.extend(delivered.iter().cloned());
                    }
                }
                Some(e) => {
                    s.latest_delivery_attempt_succeeded = Some(false);
                    s.latest_delivery_error = Some(e.clone());
                }
            }
            // Lost a race with StartLogging/StopLogging: the next tick redoes this (same names).
            records::put(tx, &sk, &s, Expect::Version(state_version))?;
            Ok::<_, AwsError>(())
        })
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn keys_follow_aws_layout() {
        let k = log_file_key(
            Some("team/prod"),
            "123456789012",
            "eu-west-1",
            datetime!(2024-03-04 05:06:07 UTC),
            "abcdef0123456789",
        );
        assert_eq!(
            k,
            "team/prod/AWSLogs/123456789012/CloudTrail/eu-west-1/2024/03/04/123456789012_CloudTrail_eu-west-1_20240304T0506Z_abcdef0123456789.json.gz"
        );
    }

    fn settings(dir: &std::path::Path) -> Settings {
        Settings {
            default_account: "000000000000".into(),
            trails_dir: dir.to_path_buf(),
            delivery_interval: std::time::Duration::from_secs(300),
            delivery_volume: 1_000,
            digest_interval: std::time::Duration::from_secs(3600),
            s3: None,
        }
    }

    fn ev(i: u64, account: &str, region: &str, read_only: bool, t: OffsetDateTime) -> Value {
        json!({"eventID": format!("e{i}"), "eventName": if read_only { "ListKeys" } else { "CreateKey" },
               "readOnly": read_only, "eventSource": "kms.amazonaws.com", "awsRegion": region,
               "eventTime": format_time(t), "recipientAccountId": account, "eventCategory": "Management"})
    }

    fn append(store: &Store, head: &mut crate::stored::Head, events: &[Value]) {
        let records = crate::stored::chain(head, events);
        let head_json = serde_json::to_vec(&*head).unwrap();
        store
            .write_blocking(move |tx| {
                for (k, v) in &records {
                    tx.put(k, v, Expect::Absent)?;
                }
                tx.put(crate::stored::HEAD_KEY, &head_json, Expect::Any)?;
                Ok::<_, rampart_store::StoreError>(())
            })
            .unwrap();
    }

    fn delivered(dir: &std::path::Path) -> Vec<(String, Value)> {
        fn walk(d: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
            for e in std::fs::read_dir(d).into_iter().flatten().flatten() {
                if e.path().is_dir() {
                    walk(&e.path(), out);
                } else {
                    out.push(e.path());
                }
            }
        }
        let mut files = Vec::new();
        walk(dir, &mut files);
        let mut out = Vec::new();
        for f in files {
            let mut text = String::new();
            std::io::Read::read_to_string(
                &mut flate2::read::GzDecoder::new(&std::fs::read(&f).unwrap()[..]),
                &mut text,
            )
            .unwrap();
            let v: Value = serde_json::from_str(&text).unwrap();
            for r in v["Records"].as_array().unwrap() {
                out.push((f.to_string_lossy().into_owned(), r.clone()));
            }
        }
        out
    }

    async fn create(store: &Store, config: &TrailConfig, cursor: u64) {
        let (c, st) = (
            config.clone(),
            DeliveryState {
                cursor_seq: cursor,
                ..Default::default()
            },
        );
        store
            .write(move |tx| {
                records::put(
                    tx,
                    &trail::config_key(&c.account, &c.home_region, &c.name),
                    &c,
                    Expect::Any,
                )?;
                records::put(
                    tx,
                    &trail::state_key(&c.account, &c.home_region, &c.name),
                    &st,
                    Expect::Any,
                )?;
                tx.put(
                    &trail::registry_key(&c.account, &c.home_region, &c.name),
                    b"",
                    Expect::Any,
                )?;
                Ok::<_, AwsError>(())
            })
            .await
            .unwrap();
    }

    fn config(
        name: &str,
        multi_region: bool,
        selection: crate::selectors::Selection,
    ) -> TrailConfig {
        TrailConfig {
            name: name.into(),
            account: "111111111111".into(),
            home_region: "us-east-1".into(),
            arn: trail::trail_arn("111111111111", "us-east-1", name),
            s3_bucket_name: format!("bucket-{name}"),
            s3_key_prefix: None,
            sns_topic_name: None,
            include_global_service_events: true,
            is_multi_region_trail: multi_region,
            log_file_validation_enabled: false,
            kms_key_id: None,
            cloud_watch_logs_log_group_arn: None,
            cloud_watch_logs_role_arn: None,
            selection,
            has_custom_event_selectors: false,
            tags: Default::default(),
            is_logging: true,
            start_logging_time: None,
            stop_logging_time: None,
        }
    }

    #[tokio::test]
    async fn delivers_each_selected_event_once_when_due() {
        let dir = tempfile::tempdir().unwrap();
        let s = settings(dir.path());
        let master = rampart_crypto::MasterKey::from_bytes(&[7u8; 32]).unwrap();
        let store = Store::open_in_memory().unwrap();
        let mut head = crate::stored::Head::default();
        let t0 = datetime!(2024-03-04 05:00:00 UTC);
        append(
            &store,
            &mut head,
            &[ev(0, "111111111111", "us-east-1", false, t0)],
        );
        // Trails start after event 1: it is never delivered.
        create(&store, &config("all", true, Default::default()), 1).await;
        let writes = crate::selectors::Selection::Basic(vec![crate::selectors::EventSelector {
            read_write_type: Some("WriteOnly".into()),
            ..Default::default()
        }]);
        create(&store, &config("writes", false, writes), 1).await;
        append(
            &store,
            &mut head,
            &[
                ev(1, "111111111111", "us-east-1", false, t0),
                ev(2, "111111111111", "eu-west-1", true, t0),
                ev(3, "222222222222", "us-east-1", false, t0),
                ev(4, "111111111111", "us-east-1", true, t0),
            ],
        );
        // Not due yet (1 minute old, interval 5 minutes): nothing written.
        deliver_all(&store, &master, &s, t0 + time::Duration::minutes(1))
            .await
            .unwrap();
        assert!(delivered(dir.path()).is_empty());
        let later = t0 + time::Duration::minutes(6);
        deliver_all(&store, &master, &s, later).await.unwrap();
        deliver_all(&store, &master, &s, later + time::Duration::seconds(1))
            .await
            .unwrap();
        let got = delivered(dir.path());
        let ids = |bucket: &str| {
            let mut v: Vec<String> = got
                .iter()
                .filter(|(p, _)| p.contains(bucket))
                .map(|(_, r)| r["eventID"].as_str().unwrap().to_string())
                .collect();
            v.sort();
            v
        };
        // Multi-region: both regions of account 1, each once; never account 2, never event 0.
        assert_eq!(ids("bucket-all/"), vec!["e1", "e2", "e4"]);
        assert!(
            got.iter()
                .any(|(p, r)| r["eventID"] == "e2" && p.contains("/CloudTrail/eu-west-1/"))
        );
        // Single-region, write-only.
        assert_eq!(ids("bucket-writes/"), vec!["e1"]);
        let sk = trail::state_key("111111111111", "us-east-1", "all");
        let st: DeliveryState = store
            .read_blocking(move |tx| records::get(tx, &sk))
            .unwrap()
            .unwrap()
            .0;
        assert_eq!(st.cursor_seq, 5);
        assert_eq!(st.latest_delivery_time, Some(later.unix_timestamp()));
    }

    #[test]
    fn bodies_are_gzipped_records() {
        let body = log_file_body(&[json!({"eventName": "X"})]).unwrap();
        let mut text = String::new();
        std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&body[..]), &mut text)
            .unwrap();
        assert_eq!(text, r#"{"Records":[{"eventName":"X"}]}"#);
    }
}
