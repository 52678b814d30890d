//! The backend conformance suite, run against both flavours of the SQLite backend.

use rampart_store::{SqliteOptions, Store};

/// A durable store in its own temporary directory.
pub struct OnDisk {
    store: Store,
    _dir: tempfile::TempDir,
}

impl AsRef<Store> for OnDisk {
    fn as_ref(&self) -> &Store {
        &self.store
    }
}

pub fn on_disk() -> OnDisk {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_sqlite(&dir.path().join("store.db"), SqliteOptions::default()).unwrap();
    OnDisk { store, _dir: dir }
}

fn case_names() -> Vec<&'static str> {
    rampart_store::conformance::CASES
        .iter()
        .map(|(name, _)| *name)
        .collect()
}

/// `Store::open_in_memory`: what other crates' tests use.
mod in_memory {
    rampart_store::conformance_tests!(|| rampart_store::Store::open_in_memory().unwrap());

    #[test]
    fn macro_covers_every_case() {
        assert_eq!(CONFORMANCE_CASE_NAMES, super::case_names().as_slice());
    }
}

/// `Store::open_sqlite` with fsync on every commit: what the server runs.
mod durable {
    rampart_store::conformance_tests!(super::on_disk);
}
