//! Connection settings, the schema, and its version.

use std::time::Duration;

use rusqlite::{Connection, OptionalExtension};

use super::sql::sql_error;
use crate::error::StoreError;

/// The schema version this build writes and understands.
pub(super) const SCHEMA_VERSION: u32 = 2;

/// `PRAGMA application_id` of a Rampart store ("RMPT"): tells our file from any other SQLite file.
const APPLICATION_ID: i32 = 0x524D_5054;

/// Upgrade steps: `MIGRATIONS[n]` takes schema version `n + 1` to `n + 2`. Append, never edit.
///
/// 1 → 2: `kv` becomes a rowid table (its key a unique index) instead of `WITHOUT ROWID`. In a
/// WITHOUT ROWID table the whole row is the b-tree's key, so a large value (an audit chunk, a
/// 64 KiB secret) sits in interior pages too and every seek that compares against it copies it
/// in full (SQLite's `accessPayload`): measured, ListTrails next to the audit chunks spent more
/// time copying chunks than answering. A rowid table keeps values in the table b-tree, reached
/// only once a key is found.
const MIGRATIONS: &[&str] = &["
    CREATE TABLE kv_v2 (key BLOB PRIMARY KEY, version INTEGER NOT NULL, value BLOB);
    INSERT INTO kv_v2 (key, version, value) SELECT key, version, value FROM kv ORDER BY key;
    DROP TABLE kv;
    ALTER TABLE kv_v2 RENAME TO kv;
"];

const CREATE_V1: &str = "
    CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
    CREATE TABLE kv (key BLOB PRIMARY KEY, version INTEGER NOT NULL, value BLOB) WITHOUT ROWID;
";

/// Settings of the single writer connection. `durable` selects fsync on every commit.
pub(super) fn configure_writer(
    conn: &Connection,
    durable: bool,
    busy_timeout: Duration,
) -> Result<(), StoreError> {
    conn.busy_timeout(busy_timeout).map_err(sql_error)?;
    let mode: String = conn
        .query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0))
        .map_err(sql_error)?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(StoreError::Backend(format!(
            "SQLite refused WAL journal mode (got {mode})"
        )));
    }
    // FULL: the WAL is fsynced at every commit, so an acknowledged write survives power loss.
    let synchronous = if durable { "FULL" } else { "OFF" };
    conn.execute_batch(&format!(
        "PRAGMA synchronous = {synchronous};
         PRAGMA journal_size_limit = 67108864;
         PRAGMA cache_size = -32768;
         PRAGMA trusted_schema = OFF;"
    ))
    .map_err(sql_error)?;
    conn.set_prepared_statement_cache_capacity(32);
    Ok(())
}

/// Settings of a reader connection: it can never write.
pub(super) fn configure_reader(
    conn: &Connection,
    busy_timeout: Duration,
) -> Result<(), StoreError> {
    conn.busy_timeout(busy_timeout).map_err(sql_error)?;
    conn.execute_batch(
        // Memory-mapped reads: a page another connection's commit made stale is re-read from
        // the map instead of copied in with pread (measured: with the audit trail committing
        // every 100 ms, pread copies were 5% of a KMS Encrypt's CPU).
        "PRAGMA query_only = ON;
         PRAGMA cache_size = -8192;
         PRAGMA mmap_size = 1073741824;
         PRAGMA trusted_schema = OFF;",
    )
    .map_err(sql_error)?;
    conn.set_prepared_statement_cache_capacity(32);
    Ok(())
}

/// Creates the schema in a new file, or checks and upgrades the one found.
pub(super) fn prepare(conn: &Connection) -> Result<(), StoreError> {
    conn.execute_batch("BEGIN IMMEDIATE").map_err(sql_error)?;
    let prepared = prepare_inside_transaction(conn);
    let end = if prepared.is_ok() {
        "COMMIT"
    } else {
        "ROLLBACK"
    };
    let ended = conn.execute_batch(end).map_err(sql_error);
    prepared.and(ended)
}

fn prepare_inside_transaction(conn: &Connection) -> Result<(), StoreError> {
    let application_id: i32 = conn
        .query_row("PRAGMA application_id", [], |row| row.get(0))
        .map_err(sql_error)?;
    let objects: i64 = conn
        .query_row("SELECT count(*) FROM sqlite_schema", [], |row| row.get(0))
        .map_err(sql_error)?;
    if application_id == 0 && objects == 0 {
        conn.execute_batch(&format!("PRAGMA application_id = {APPLICATION_ID};"))
            .map_err(sql_error)?;
        conn.execute_batch(CREATE_V1).map_err(sql_error)?;
        return set_version(conn, 1).and_then(|()| migrate(conn, 1));
    }
    if application_id != APPLICATION_ID {
        return Err(StoreError::Corrupt(format!(
            "not a Rampart store (SQLite application_id {application_id:#x})"
        )));
    }
    let stored: Option<String> = conn
        .query_row(
            "SELECT value FROM meta WHERE name = 'schema_version'",
            [],
            |row| row.get(0),
        )
        .optional()
        .map_err(sql_error)?;
    let found = stored
        .and_then(|text| text.parse::<u32>().ok())
        .ok_or_else(|| StoreError::Corrupt("missing or unreadable schema_version".to_owned()))?;
    if found > SCHEMA_VERSION {
        return Err(StoreError::UnsupportedSchema {
            found,
            supported: SCHEMA_VERSION,
        });
    }
    migrate(conn, found)
}

fn migrate(conn: &Connection, from: u32) -> Result<(), StoreError> {
    for version in from..SCHEMA_VERSION {
        let step = usize::try_from(version - 1)
            .ok()
            .and_then(|index| MIGRATIONS.get(index))
            .ok_or_else(|| StoreError::Backend(format!("no migration from schema {version}")))?;
        conn.execute_batch(step).map_err(sql_error)?;
        set_version(conn, version + 1)?;
    }
    Ok(())
}

fn set_version(conn: &Connection, version: u32) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO meta (name, value) VALUES ('schema_version', ?1) \
         ON CONFLICT (name) DO UPDATE SET value = excluded.value",
        [version.to_string()],
    )
    .map_err(sql_error)?;
    Ok(())
}
