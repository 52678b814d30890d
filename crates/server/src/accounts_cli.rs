//! `rampart accounts create|list`: more accounts on one node, before Organizations exists.
//! Works on a stopped server's data directory (the embedded store has one owner at a time). Each
//! new account's root credentials are appended to the credentials file as `[rampart-<id>]`.
use std::io::Write;
use std::path::PathBuf;

use clap::Args;
use rampart_crypto::MasterKey;
use rampart_store::{Store, StoreError};
use time::OffsetDateTime;

use crate::bootstrap::{
    AccountRecord, CREDENTIALS_FILE, MASTER_KEY_FILE, STORE_FILE, create_account,
};

#[derive(Debug, Args)]
pub struct CreateArgs {
    /// Account id (12 digits) [default: random]
    #[arg(long)]
    pub id: Option<String>,
    /// Account name
    #[arg(long, default_value = "account")]
    pub name: String,
    /// Data directory of a stopped server
    #[arg(long, env = "RAMPART_DATA_DIR", default_value = "./rampart-data")]
    pub data_dir: PathBuf,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// Data directory of a stopped server
    #[arg(long, env = "RAMPART_DATA_DIR", default_value = "./rampart-data")]
    pub data_dir: PathBuf,
}

pub fn create(args: &CreateArgs) -> Result<(), String> {
    let master_key = MasterKey::load_file(&args.data_dir.join(MASTER_KEY_FILE))
        .map_err(|e| format!("master key: {e}"))?;
    let store = Store::open_sqlite(&args.data_dir.join(STORE_FILE), Default::default())
        .map_err(|e| format!("store: {e}"))?;
    let id = match &args.id {
        Some(id) if rampart_aws_types::is_account_id(id) => id.clone(),
        Some(id) => return Err(format!("--id must be 12 digits, got {id:?}")),
        None => rampart_aws_types::ids::account_id().map_err(|e| e.to_string())?,
    };
    let result = create_account(
        &store,
        &master_key,
        &id,
        &args.name,
        false,
        OffsetDateTime::now_utc(),
    );
    store.close().map_err(|e| format!("store: {e}"))?;
    let (akid, secret) = result.map_err(|e| {
        if e.contains("conflict") {
            format!("account {id} already exists")
        } else {
            e
        }
    })?;
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .open(args.data_dir.join(CREDENTIALS_FILE))
        .map_err(|e| format!("credentials file: {e}"))?;
    writeln!(
        file,
        "\n[rampart-{id}]\naws_access_key_id = {akid}\naws_secret_access_key = {secret}"
    )
    .map_err(|e| format!("credentials file: {e}"))?;
    file.sync_all()
        .map_err(|e| format!("credentials file: {e}"))?;
    println!(
        "created account {id} ({}); root credentials saved as profile rampart-{id}",
        args.name
    );
    Ok(())
}

pub fn list(args: &ListArgs) -> Result<(), String> {
    let store = Store::open_sqlite(&args.data_dir.join(STORE_FILE), Default::default())
        .map_err(|e| format!("store: {e}"))?;
    let records = store
        .read_blocking(|tx| tx.scan_all("sys/account/"))
        .map_err(|e: StoreError| format!("store: {e}"));
    store.close().map_err(|e| format!("store: {e}"))?;
    for (_, record) in records? {
        let account: AccountRecord = serde_json::from_slice(&record.value)
            .map_err(|e| format!("corrupt account record: {e}"))?;
        println!(
            "{}\t{}\t{}",
            account.account_id, account.name, account.created_at
        );
    }
    Ok(())
}
