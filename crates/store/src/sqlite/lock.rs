//! The lock file that makes one process (one handle) the only owner of an embedded store.
//!
//! An OS file lock (flock on Unix, LockFileEx on Windows) rather than SQLite's
//! `locking_mode=EXCLUSIVE`: the latter would also shut out our own reader connections. The OS
//! drops the lock when the process dies, so a crash never leaves a stale lock behind.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::StoreError;

/// `<database>.lock`, beside the database.
pub(super) fn lock_path(database: &Path) -> PathBuf {
    let mut name = database.as_os_str().to_owned();
    name.push(".lock");
    PathBuf::from(name)
}

/// Takes the lock or fails with `StoreError::Locked`. Holding the returned file holds the lock.
pub(super) fn acquire(database: &Path) -> Result<File, StoreError> {
    let lock_path = lock_path(database);
    let mut file = private_file_options()
        .truncate(false)
        .open(&lock_path)
        .map_err(|error| {
            StoreError::Backend(format!(
                "cannot open lock file {}: {error}",
                lock_path.display()
            ))
        })?;
    match file.try_lock() {
        Ok(()) => {}
        Err(TryLockError::WouldBlock) => {
            return Err(StoreError::Locked {
                path: database.to_path_buf(),
                lock_path,
            });
        }
        Err(TryLockError::Error(error)) => {
            return Err(StoreError::Backend(format!(
                "cannot lock {}: {error}",
                lock_path.display()
            )));
        }
    }
    // The owner's pid, for whoever wonders who holds the store; the lock is what counts.
    let _ = file
        .set_len(0)
        .and_then(|()| writeln!(file, "{}", std::process::id()));
    Ok(file)
}

/// Opens (creating with mode 0600 on Unix) a file only the owner may read.
pub(super) fn private_file_options() -> OpenOptions {
    let mut options = OpenOptions::new();
    options.read(true).write(true).create(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options
}

/// Makes a newly created file's directory entry durable, so a power cut right after the first
/// commits cannot lose the whole database file. (SQLite does the same for the WAL it creates.)
pub(super) fn sync_parent_directory(path: &Path) -> Result<(), StoreError> {
    #[cfg(unix)]
    {
        let parent = match path.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent,
            _ => Path::new("."),
        };
        File::open(parent)
            .and_then(|dir| dir.sync_all())
            .map_err(|error| {
                StoreError::Backend(format!(
                    "cannot sync directory {}: {error}",
                    parent.display()
                ))
            })?;
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}
