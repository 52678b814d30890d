//! `rampart audit export`: prints the stored audit trail as JSON lines and checks its hash chain.
//! Runs against a stopped server's data directory (the embedded store has one owner at a time).
//! After retention removed old events, the chain is checked from the recorded tail.
use std::io::Write;
use std::path::PathBuf;

use clap::Args;
use rampart_cloudtrail::stored::{self, Head, LinkError, TAIL_KEY, Tail};
use rampart_store::{Store, StoreError};

use crate::bootstrap::STORE_FILE;

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Data directory of a stopped server [default: ./rampart-data]
    #[arg(long, env = "RAMPART_DATA_DIR", default_value = "./rampart-data")]
    pub data_dir: PathBuf,
}

/// Prints every event in order; fails if the chain is broken.
pub fn export(args: &ExportArgs) -> Result<(), String> {
    let store = Store::open_sqlite(&args.data_dir.join(STORE_FILE), Default::default())
        .map_err(|e| format!("store: {e}"))?;
    // A killed server's last events may still be only in its journal: index them first, as
    // the server's next start would.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let default_account = crate::bootstrap::default_account_of(&store)?.unwrap_or_default();
    runtime.block_on(crate::audit::recover(
        &store,
        &args.data_dir.join(crate::audit::JOURNAL_DIR),
        &default_account,
    ))?;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let tail: Tail = store
        .read_blocking(|tx| tx.get(TAIL_KEY))
        .map_err(|e: StoreError| format!("store: {e}"))?
        .and_then(|r| serde_json::from_slice(&r.value).ok())
        .unwrap_or(Tail {
            first_seq: 1,
            prev_hash: String::new(),
        });
    let mut chain = Head {
        seq: tail.first_seq.max(1) - 1,
        hash: tail.prev_hash,
    };
    let mut after: Option<String> = None;
    loop {
        let start = after.clone();
        let page = store
            .read_blocking(move |tx| stored::scan_chunks(tx, start.as_deref(), 64))
            .map_err(|e: StoreError| format!("store: {e}"))?;
        let Some((last, _)) = page.last() else { break };
        after = Some(last.clone());
        for (key, lines) in page {
            for line in lines {
                let expected_seq = chain.seq + 1;
                let record = stored::verify_next(&line, &chain).map_err(|e| match e {
                    LinkError::Unreadable(e) => format!("{key}: corrupt record: {e}"),
                    LinkError::Gap { found } => {
                        format!("{key}: sequence gap: expected {expected_seq}, found {found}")
                    }
                    LinkError::Broken => format!("{key}: hash chain broken at {expected_seq}"),
                })?;
                chain = Head {
                    seq: record.seq,
                    hash: record.hash,
                };
                // The hash covers the event's exact stored bytes: those are what is printed.
                let bytes = stored::event_bytes(&line).unwrap_or_default();
                writeln!(out, "{}", String::from_utf8_lossy(bytes)).map_err(|e| e.to_string())?;
            }
        }
    }
    store.close().map_err(|e| format!("store: {e}"))?;
    Ok(())
}

#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// ARN of the trail whose delivered files to validate
    #[arg(long)]
    pub trail_arn: String,
    /// Start of the period, e.g. 2024-01-02T03:04:05Z
    #[arg(long)]
    pub start_time: String,
    /// End of the period [default: now]
    #[arg(long)]
    pub end_time: Option<String>,
    /// Also print the valid files
    #[arg(long)]
    pub verbose: bool,
    /// Data directory of a stopped server [default: ./rampart-data]
    #[arg(long, env = "RAMPART_DATA_DIR", default_value = "./rampart-data")]
    pub data_dir: PathBuf,
}

/// `rampart trail validate`: checks a trail's locally delivered log and digest files the way
/// `aws cloudtrail validate-logs` does. `Ok(false)` when something is invalid.
pub fn validate(args: &ValidateArgs) -> Result<bool, String> {
    use rampart_cloudtrail::{digest, trail, validate};
    let parse = |s: &str| {
        rampart_cloudtrail::record::parse_time(s)
            .map(|t| t.unix_timestamp())
            .ok_or_else(|| format!("not a time (use 2024-01-02T03:04:05Z): {s}"))
    };
    let start = parse(&args.start_time)?;
    let now = time::OffsetDateTime::now_utc();
    let end = match &args.end_time {
        Some(e) => parse(e)?,
        None => now.unix_timestamp(),
    };
    let r = trail::resolve(&args.trail_arn, "", "").map_err(|e| e.message)?;
    if r.account.is_empty() {
        return Err("--trail-arn must be a trail ARN".into());
    }
    let store = Store::open_sqlite(&args.data_dir.join(STORE_FILE), Default::default())
        .map_err(|e| format!("store: {e}"))?;
    let ck = trail::config_key(&r.account, &r.region, &r.name);
    let loaded = store.read_blocking(move |tx| {
        let config = tx.get(&ck)?;
        let keys = tx.scan_all("sys/cloudtrail/signing-key/")?;
        Ok::<_, StoreError>((config, keys))
    });
    store.close().map_err(|e| format!("store: {e}"))?;
    let (config, keys) = loaded.map_err(|e| format!("store: {e}"))?;
    let config: trail::TrailConfig = config
        .and_then(|r| serde_json::from_slice(&r.value).ok())
        .ok_or_else(|| format!("trail not found: {}", args.trail_arn))?;
    let mut public_keys = std::collections::BTreeMap::new();
    for (key, record) in keys {
        let Ok(k) = serde_json::from_slice::<digest::SigningKeyRecord>(&record.value) else {
            continue;
        };
        use base64::Engine as _;
        if let (Some(region), Ok(der)) = (
            key.rsplit('/').next(),
            base64::engine::general_purpose::STANDARD.decode(&k.public_key),
        ) {
            public_keys.insert(region.to_string(), der);
        }
    }
    let trails_dir = args.data_dir.join("trails");
    let report = validate::validate(&validate::Request {
        trails_dir: &trails_dir,
        bucket: &config.s3_bucket_name,
        prefix: config.s3_key_prefix.as_deref(),
        account: &config.account,
        home_region: &config.home_region,
        trail_name: &config.name,
        public_keys: &public_keys,
        start,
        end,
    });
    let fmt = |t: i64| {
        time::OffsetDateTime::from_unix_timestamp(t)
            .map(rampart_cloudtrail::record::format_time)
            .unwrap_or_default()
    };
    println!(
        "Validating log files for trail {} between {} and {}\n",
        config.arn,
        fmt(start),
        fmt(end)
    );
    for f in &report.findings {
        if args.verbose || !f.is_valid() {
            println!("{}", f.line());
        }
    }
    println!(
        "\nResults requested for {} to {}\n{}",
        fmt(start),
        fmt(end),
        report.summary()
    );
    Ok(report.all_valid())
}
