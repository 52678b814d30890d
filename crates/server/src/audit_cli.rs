//! `rampart audit export`: prints the stored audit trail as JSON lines and checks its hash chain.
//! Runs against a stopped server's data directory (the embedded store has one owner at a time).
use std::io::Write;
use std::path::PathBuf;

use aws_lc_rs::digest;
use clap::Args;
use rampart_store::{Store, StoreError};

use crate::audit::{StoredEvent, event_key};
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
    let mut prev_hash = String::new();
    let mut expected_seq = 1u64;
    let mut after: Option<String> = None;
    loop {
        let start = after.clone();
        let page = store
            .read_blocking(move |tx| tx.scan("sys/audit/", start.as_deref(), 1000))
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
            let mut ctx = digest::Context::new(&digest::SHA256);
            ctx.update(prev_hash.as_bytes());
            ctx.update(&bytes);
            let hash = hex::encode(ctx.finish());
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
