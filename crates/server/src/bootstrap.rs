//! First start and every start after it: the data directory, the master key, the store, the
//! default account and its root credentials.
//!
//! The root secret is shown once (on the first start) and written to `<data-dir>/credentials`
//! (0600) as an AWS CLI credentials file; in the store it exists only sealed.
use std::fs;
use std::io::Write;
use std::path::Path;

use rampart_aws_types::{AwsError, ids};
use rampart_crypto::MasterKey;
use rampart_store::{Expect, Store};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use rampart_services::credentials::{AccessKeyRecord, KeyOwner, seal_context};

use crate::config::Config;

pub const MASTER_KEY_FILE: &str = "master.key";
pub const STORE_FILE: &str = "rampart.db";
pub const CREDENTIALS_FILE: &str = "credentials";
pub const CLI_CONFIG_FILE: &str = "config";

/// Store keys of the node-wide records (not owned by one account).
pub mod keys {
    pub const DEFAULT_ACCOUNT: &str = "sys/default-account";
    pub fn account(id: &str) -> String {
        format!("sys/account/{id}")
    }
    pub use rampart_services::credentials::access_key_store_key as access_key;
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AccountRecord {
    pub account_id: String,
    pub name: String,
    pub created_at: String,
    pub root_access_key_id: String,
}

pub struct Node {
    pub store: Store,
    pub master_key: MasterKey,
    pub default_account: String,
}

/// Opens (or on first start creates) everything under the data directory.
pub fn open(config: &Config) -> Result<Node, String> {
    let dir = &config.data_dir;
    create_private_dir(dir)?;
    let key_path = dir.join(MASTER_KEY_FILE);
    let master_key = if key_path.exists() {
        MasterKey::load_file(&key_path).map_err(|e| format!("master key: {e}"))?
    } else {
        MasterKey::create_file(&key_path).map_err(|e| format!("master key: {e}"))?
    };
    let store = Store::open_sqlite(&dir.join(STORE_FILE), Default::default())
        .map_err(|e| format!("store: {e}"))?;
    let existing = default_account_of(&store)?;
    let default_account = match existing {
        Some(id) => {
            if let Some(wanted) = &config.account_id {
                if wanted != &id {
                    tracing::warn!(existing = %id, requested = %wanted, "--account-id applies on first start only; keeping the existing account");
                }
            }
            id
        }
        None => {
            let id = match &config.account_id {
                Some(id) => id.clone(),
                None => ids::account_id().map_err(|e| e.to_string())?,
            };
            let (akid, secret) = create_account(
                &store,
                &master_key,
                &id,
                "default",
                true,
                OffsetDateTime::now_utc(),
            )?;
            write_cli_files(dir, &akid, &secret, config)?;
            announce_root_credentials(&id, &akid, &secret, dir);
            id
        }
    };
    Ok(Node {
        store,
        master_key,
        default_account,
    })
}

/// Creates an account with fresh root credentials; returns the root key id and its secret.
pub fn create_account(
    store: &Store,
    master_key: &MasterKey,
    account_id: &str,
    name: &str,
    make_default: bool,
    now: OffsetDateTime,
) -> Result<(String, String), String> {
    let akid = ids::access_key_id(account_id).map_err(|e| e.to_string())?;
    let secret = ids::secret_access_key().map_err(|e| e.to_string())?;
    let sealed = master_key
        .seal(&seal_context(&akid), secret.as_bytes())
        .map_err(|e| e.to_string())?;
    let created = now.format(&Rfc3339).map_err(|e| e.to_string())?;
    put_root_key(
        store,
        account_id,
        name,
        &akid,
        &sealed,
        &created,
        make_default,
    )?;
    Ok((akid, secret))
}

/// Writes the account record and its root key, atomically.
fn put_root_key(
    store: &Store,
    account_id: &str,
    name: &str,
    akid: &str,
    sealed: &[u8],
    created: &str,
    make_default: bool,
) -> Result<(), String> {
    use base64::Engine as _;
    let account = AccountRecord {
        account_id: account_id.to_string(),
        name: name.to_string(),
        created_at: created.to_string(),
        root_access_key_id: akid.to_string(),
    };
    let key = AccessKeyRecord {
        access_key_id: akid.to_string(),
        account_id: account_id.to_string(),
        owner: KeyOwner::Root,
        sealed_secret: base64::engine::general_purpose::STANDARD.encode(sealed),
        status: "Active".to_string(),
        create_date: created.to_string(),
    };
    let account_json = serde_json::to_vec(&account).map_err(|e| e.to_string())?;
    let key_json = serde_json::to_vec(&key).map_err(|e| e.to_string())?;
    let account_id = account_id.to_string();
    let akid = akid.to_string();
    store
        .write_blocking(move |tx| {
            tx.put(&keys::account(&account_id), &account_json, Expect::Absent)?;
            tx.put(&keys::access_key(&akid), &key_json, Expect::Absent)?;
            if make_default {
                tx.put(keys::DEFAULT_ACCOUNT, account_id.as_bytes(), Expect::Any)?;
            }
            Ok::<_, rampart_store::StoreError>(())
        })
        .map_err(|e| format!("store: {e}"))
}

/// Wipes every record and recreates the default account with the same id and the same root
/// credentials (so the credentials file stays valid). Used by `POST /_rampart/reset` in dev mode.
/// The node's default account, once created.
pub fn default_account_of(store: &Store) -> Result<Option<String>, String> {
    store
        .read_blocking(|tx| {
            Ok::<_, rampart_store::StoreError>(
                tx.get(keys::DEFAULT_ACCOUNT)?
                    .map(|r| String::from_utf8_lossy(&r.value).into_owned()),
            )
        })
        .map_err(|e| format!("store: {e}"))
}

pub async fn reset(store: &Store, default_account: &str) -> Result<(), AwsError> {
    let account_key = keys::account(default_account);
    let (account, root_key) = store
        .read(move |tx| {
            let account = tx.get(&account_key)?.map(|r| r.value);
            let key = match &account {
                Some(bytes) => {
                    let rec: AccountRecord = serde_json::from_slice(bytes)
                        .map_err(|e| rampart_store::StoreError::Corrupt(e.to_string()))?;
                    tx.get(&keys::access_key(&rec.root_access_key_id))?
                        .map(|r| (rec.root_access_key_id, r.value))
                }
                None => None,
            };
            Ok::<_, rampart_store::StoreError>((account, key))
        })
        .await
        .map_err(|e| AwsError::internal(format!("reset: {e}")))?;
    let (Some(account), Some((akid, key))) = (account, root_key) else {
        return Err(AwsError::internal("reset: the default account is missing"));
    };
    let default_account = default_account.to_string();
    store
        .write(move |tx| {
            // Everything goes: page through the whole key space.
            loop {
                let page = tx.scan("", None, 1000)?;
                if page.is_empty() {
                    break;
                }
                for (key, _) in page {
                    tx.delete(&key, Expect::Any)?;
                }
            }
            tx.put(&keys::account(&default_account), &account, Expect::Absent)?;
            tx.put(&keys::access_key(&akid), &key, Expect::Absent)?;
            tx.put(
                keys::DEFAULT_ACCOUNT,
                default_account.as_bytes(),
                Expect::Any,
            )?;
            Ok::<_, rampart_store::StoreError>(())
        })
        .await
        .map_err(|e| AwsError::internal(format!("reset: {e}")))
}

fn create_private_dir(dir: &Path) -> Result<(), String> {
    if !dir.exists() {
        fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create data dir {}: {e}", dir.display()))?;
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700))
            .map_err(|e| format!("cannot restrict {}: {e}", dir.display()))?;
    }
    Ok(())
}

fn write_private_file(path: &Path, contents: &str) -> Result<(), String> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut f = options
        .open(path)
        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    f.write_all(contents.as_bytes())
        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    f.sync_all()
        .map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// The AWS CLI credentials file (profile `rampart`) and a CLI config file that points the
/// profile at this server, so `AWS_CONFIG_FILE`/`AWS_SHARED_CREDENTIALS_FILE` are all a user sets.
fn write_cli_files(dir: &Path, akid: &str, secret: &str, config: &Config) -> Result<(), String> {
    write_private_file(
        &dir.join(CREDENTIALS_FILE),
        &format!("[rampart]\naws_access_key_id = {akid}\naws_secret_access_key = {secret}\n"),
    )?;
    write_private_file(
        &dir.join(CLI_CONFIG_FILE),
        &format!(
            "[profile rampart]\nregion = {}\nendpoint_url = http://{}\n",
            config.region, config.listen
        ),
    )
}

/// Prints the root credentials once, on the first start.
fn announce_root_credentials(account: &str, akid: &str, secret: &str, dir: &Path) {
    println!("Rampart first start: created account {account}.");
    println!(
        "Root credentials (shown only now; also saved to {}):",
        dir.join(CREDENTIALS_FILE).display()
    );
    println!("  aws_access_key_id     = {akid}");
    println!("  aws_secret_access_key = {secret}");
    println!(
        "Use them with: AWS_SHARED_CREDENTIALS_FILE={0} AWS_CONFIG_FILE={1} aws --profile rampart sts get-caller-identity",
        dir.join(CREDENTIALS_FILE).display(),
        dir.join(CLI_CONFIG_FILE).display()
    );
}
