//! `rampart audit export`: prints the stored audit trail as JSON lines and checks its hash chain.
//! Runs against a stopped server's data directory (the embedded store has one owner at a time).
//! After retention removed old events, the chain is checked from the recorded tail.
use std::io::Write;
use std::path::PathBuf;

use clap::Args;
use rampart_cloudtrail::stored::{
    EVENTS_PREFIX, StoredEvent, TAIL_KEY, Tail, event_key, link_hash,
};
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
    let mut prev_hash = tail.prev_hash;
    let mut expected_seq = tail.first_seq.max(1);
    let mut after: Option<String> = None;
    loop {
        let start = after.clone();
        let page = store
            .read_blocking(move |tx| tx.scan(EVENTS_PREFIX, start.as_deref(), 1000))
            .map_err(|e: StoreError| format!("store: {e}"))?;
        let Some((last, _)) = page.last() else { break };
        after = Some(last.clone());
        for (key, record) in page {
            let stored: StoredEvent = serde_json::from_slice(&record.value)
                .map_err(|e| format!("{key}: corrupt record: {e}"))?;
            if key != event_key(stored.seq) || stored.seq != expected_seq {
                return Err(format!(
                    "{key}: sequence gap: expected {expected_seq}, found {}",
                    stored.seq
                ));
            }
            let bytes = serde_json::to_vec(&stored.event).map_err(|e| e.to_string())?;
            let hash = link_hash(&prev_hash, &bytes);
            if stored.prev_hash != prev_hash || stored.hash != hash {
                return Err(format!("{key}: hash chain broken"));
            }
            prev_hash = hash;
            expected_seq += 1;
            writeln!(out, "{}", String::from_utf8_lossy(&bytes)).map_err(|e| e.to_string())?;
        }
    }
    store.close().map_err(|e| format!("store: {e}"))?;
    Ok(())
}
