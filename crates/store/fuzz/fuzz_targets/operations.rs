//! Arbitrary sequences of store operations (bytes pick the operation, keys, prefixes, `Expect`s,
//! limits, commit or rollback) must match the conformance model exactly.
#![no_main]

use std::sync::LazyLock;
use std::sync::atomic::{AtomicU64, Ordering};

use libfuzzer_sys::fuzz_target;
use rampart_store::{Store, conformance};

static STORE: LazyLock<Store> =
    LazyLock::new(|| Store::open_in_memory().expect("temporary store"));
static RUN: AtomicU64 = AtomicU64::new(0);

fuzz_target!(|data: &[u8]| {
    // One shared store (opening one per input would dominate), a fresh namespace per input.
    let namespace = format!("run{}/", RUN.fetch_add(1, Ordering::Relaxed));
    conformance::check_operations(&STORE, &namespace, data, 64);
});
