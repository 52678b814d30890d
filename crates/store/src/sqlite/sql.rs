//! The SQL behind `ReadTxn` and `Txn`, and SQLite error mapping.
//!
//! Table `kv(key BLOB, version INTEGER, value BLOB)`: keys are UTF-8 bytes stored as BLOB so
//! that comparisons are plain byte order (see `rules::prefix_end`); a NULL value is a tombstone
//! that keeps the key's last version.

use rusqlite::{Connection, ErrorCode, OptionalExtension, params};

use crate::error::StoreError;
use crate::record::{Expect, Record};
use crate::rules::{self, ScanStart};
use crate::txn::{ReadTxn, Txn};

/// Maps a SQLite failure onto the store's error kinds.
pub(super) fn sql_error(error: rusqlite::Error) -> StoreError {
    let code = match &error {
        rusqlite::Error::SqliteFailure(failure, _) => Some(failure.code),
        _ => None,
    };
    match code {
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => {
            StoreError::Busy(error.to_string())
        }
        Some(ErrorCode::DatabaseCorrupt | ErrorCode::NotADatabase) => {
            StoreError::Corrupt(error.to_string())
        }
        _ => StoreError::Backend(error.to_string()),
    }
}

fn to_version(stored: i64) -> Result<u64, StoreError> {
    u64::try_from(stored).map_err(|_| StoreError::Corrupt(format!("negative version {stored}")))
}

fn from_version(version: u64) -> Result<i64, StoreError> {
    i64::try_from(version).map_err(|_| StoreError::Corrupt(format!("version {version} too large")))
}

fn to_key(stored: Vec<u8>) -> Result<String, StoreError> {
    String::from_utf8(stored)
        .map_err(|_| StoreError::Corrupt("a stored key is not UTF-8".to_owned()))
}

/// Last version of `key` (live or tombstone) and whether it is live.
fn last_version(conn: &Connection, key: &str) -> Result<Option<(u64, bool)>, StoreError> {
    let row = conn
        .prepare_cached("SELECT version, value IS NOT NULL FROM kv WHERE key = ?1")
        .and_then(|mut stmt| {
            stmt.query_row([key.as_bytes()], |row| {
                Ok((row.get::<_, i64>(0)?, row.get::<_, bool>(1)?))
            })
            .optional()
        })
        .map_err(sql_error)?;
    match row {
        Some((version, live)) => Ok(Some((to_version(version)?, live))),
        None => Ok(None),
    }
}

fn get(conn: &Connection, key: &str) -> Result<Option<Record>, StoreError> {
    rules::check_key(key)?;
    let row = conn
        .prepare_cached("SELECT version, value FROM kv WHERE key = ?1 AND value IS NOT NULL")
        .and_then(|mut stmt| {
            stmt.query_row([key.as_bytes()], |row| {
                Ok((row.get::<_, i64>(0)?, row.get::<_, Vec<u8>>(1)?))
            })
            .optional()
        })
        .map_err(sql_error)?;
    match row {
        Some((version, value)) => Ok(Some(Record {
            value,
            version: to_version(version)?,
        })),
        None => Ok(None),
    }
}

// `LIMIT CAST(?n AS INTEGER)`, not `LIMIT ?n`: SQLite (built with STAT4, as the bundled one
// is) re-prepares a statement whose plain LIMIT parameter changes value, so every page of every
// scan was parsed and planned again — measured, 11% of a KMS Encrypt's CPU (the grants scan).
const SCAN_FROM_TO: &str = "SELECT key, version, value FROM kv \
    WHERE value IS NOT NULL AND key >= ?1 AND key < ?2 ORDER BY key LIMIT CAST(?3 AS INTEGER)";
const SCAN_AFTER_TO: &str = "SELECT key, version, value FROM kv \
    WHERE value IS NOT NULL AND key > ?1 AND key < ?2 ORDER BY key LIMIT CAST(?3 AS INTEGER)";
const SCAN_FROM: &str = "SELECT key, version, value FROM kv \
    WHERE value IS NOT NULL AND key >= ?1 ORDER BY key LIMIT CAST(?2 AS INTEGER)";
const SCAN_AFTER: &str = "SELECT key, version, value FROM kv \
    WHERE value IS NOT NULL AND key > ?1 ORDER BY key LIMIT CAST(?2 AS INTEGER)";

fn scan(
    conn: &Connection,
    prefix: &str,
    start_after: Option<&str>,
    limit: usize,
) -> Result<Vec<(String, Record)>, StoreError> {
    if limit == 0 {
        return Ok(Vec::new());
    }
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let end = rules::prefix_end(prefix);
    let (start, inclusive) = match rules::scan_start(prefix, start_after) {
        ScanStart::Inclusive(start) => (start, true),
        ScanStart::Exclusive(start) => (start, false),
    };
    let sql = match (inclusive, end.is_some()) {
        (true, true) => SCAN_FROM_TO,
        (false, true) => SCAN_AFTER_TO,
        (true, false) => SCAN_FROM,
        (false, false) => SCAN_AFTER,
    };
    let mut stmt = conn.prepare_cached(sql).map_err(sql_error)?;
    let mut rows = match &end {
        Some(end) => stmt.query(params![start.as_bytes(), end, limit]),
        None => stmt.query(params![start.as_bytes(), limit]),
    }
    .map_err(sql_error)?;
    let mut page = Vec::new();
    while let Some(row) = rows.next().map_err(sql_error)? {
        let key = to_key(row.get(0).map_err(sql_error)?)?;
        let version = to_version(row.get(1).map_err(sql_error)?)?;
        let value = row.get(2).map_err(sql_error)?;
        page.push((key, Record { value, version }));
    }
    Ok(page)
}

fn count(conn: &Connection, prefix: &str) -> Result<u64, StoreError> {
    let counted: i64 = match rules::prefix_end(prefix) {
        Some(end) => conn
            .prepare_cached(
                "SELECT count(*) FROM kv WHERE key >= ?1 AND key < ?2 AND value IS NOT NULL",
            )
            .and_then(|mut stmt| stmt.query_row(params![prefix.as_bytes(), end], |row| row.get(0))),
        None => conn
            .prepare_cached("SELECT count(*) FROM kv WHERE value IS NOT NULL")
            .and_then(|mut stmt| stmt.query_row([], |row| row.get(0))),
    }
    .map_err(sql_error)?;
    to_version(counted)
}

fn put(conn: &Connection, key: &str, value: &[u8], expect: Expect) -> Result<u64, StoreError> {
    rules::check_key(key)?;
    rules::check_value(value)?;
    let last = last_version(conn, key)?;
    let live = last.and_then(|(version, live)| live.then_some(version));
    rules::check_expect(key, expect, live)?;
    let version = rules::next_version(last.map(|(version, _)| version))?;
    let stored_version = from_version(version)?;
    conn.prepare_cached(
        "INSERT INTO kv (key, version, value) VALUES (?1, ?2, ?3) \
         ON CONFLICT (key) DO UPDATE SET version = excluded.version, value = excluded.value",
    )
    .and_then(|mut stmt| stmt.execute(params![key.as_bytes(), stored_version, value]))
    .map_err(sql_error)?;
    Ok(version)
}

fn delete(conn: &Connection, key: &str, expect: Expect) -> Result<bool, StoreError> {
    rules::check_key(key)?;
    let live = last_version(conn, key)?.and_then(|(version, live)| live.then_some(version));
    rules::check_expect(key, expect, live)?;
    if live.is_none() {
        return Ok(false);
    }
    // Keep a tombstone with the last version, so a re-created key continues after it.
    conn.prepare_cached("UPDATE kv SET value = NULL WHERE key = ?1")
        .and_then(|mut stmt| stmt.execute([key.as_bytes()]))
        .map_err(sql_error)?;
    Ok(true)
}

fn delete_prefix(conn: &Connection, prefix: &str) -> Result<u64, StoreError> {
    let Some(end) = rules::prefix_end(prefix) else {
        return Err(StoreError::InvalidArgument(
            "delete_prefix refuses an empty prefix".to_owned(),
        ));
    };
    let deleted = conn
        .prepare_cached(
            "UPDATE kv SET value = NULL \
             WHERE key >= ?1 AND key < ?2 AND value IS NOT NULL",
        )
        .and_then(|mut stmt| stmt.execute(params![prefix.as_bytes(), end]))
        .map_err(sql_error)?;
    Ok(deleted as u64)
}

/// A read transaction on a reader connection (the caller has begun it).
pub(super) struct ReadView<'c> {
    pub(super) conn: &'c Connection,
}

impl ReadTxn for ReadView<'_> {
    fn get(&mut self, key: &str) -> Result<Option<Record>, StoreError> {
        get(self.conn, key)
    }
    fn scan(
        &mut self,
        prefix: &str,
        start_after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<(String, Record)>, StoreError> {
        scan(self.conn, prefix, start_after, limit)
    }
    fn count(&mut self, prefix: &str) -> Result<u64, StoreError> {
        count(self.conn, prefix)
    }
}

/// A write job's view of the writer connection, inside the job's savepoint.
pub(super) struct WriteView<'c> {
    pub(super) conn: &'c Connection,
}

impl ReadTxn for WriteView<'_> {
    fn get(&mut self, key: &str) -> Result<Option<Record>, StoreError> {
        get(self.conn, key)
    }
    fn scan(
        &mut self,
        prefix: &str,
        start_after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<(String, Record)>, StoreError> {
        scan(self.conn, prefix, start_after, limit)
    }
    fn count(&mut self, prefix: &str) -> Result<u64, StoreError> {
        count(self.conn, prefix)
    }
}

impl Txn for WriteView<'_> {
    fn put(&mut self, key: &str, value: &[u8], expect: Expect) -> Result<u64, StoreError> {
        put(self.conn, key, value, expect)
    }
    fn delete(&mut self, key: &str, expect: Expect) -> Result<bool, StoreError> {
        delete(self.conn, key, expect)
    }
    fn delete_prefix(&mut self, prefix: &str) -> Result<u64, StoreError> {
        delete_prefix(self.conn, prefix)
    }
    fn as_read(&mut self) -> &mut dyn ReadTxn {
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rusqlite::StatementStatus;

    #[test]
    fn scans_with_new_bounds_and_limits_reuse_their_prepared_statement() {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(
            "CREATE TABLE kv (key BLOB PRIMARY KEY, version INTEGER NOT NULL, value BLOB);",
        )
        .unwrap();
        for i in 0..50 {
            conn.execute(
                "INSERT INTO kv VALUES (?1, 1, x'00')",
                params![format!("p/{i:02}").into_bytes()],
            )
            .unwrap();
        }
        for i in 0..40usize {
            let after = format!("p/{i:02}");
            let page = scan(&conn, "p/", Some(&after), 1 + i % 3).unwrap();
            assert_eq!(page.len(), 1 + i % 3);
            let page = scan(&conn, "p/", None, 1 + i % 5).unwrap();
            assert_eq!(page.len(), 1 + i % 5);
        }
        for sql in [SCAN_AFTER_TO, SCAN_FROM_TO] {
            let stmt = conn.prepare_cached(sql).unwrap();
            assert_eq!(stmt.get_status(StatementStatus::RePrepare), 0, "{sql}");
        }
    }
}
