//! rampart-policy vs cedar-policy on the same authorization model, in one run.
//! `cargo bench` from this directory (see README.md).
#![allow(clippy::unwrap_used)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::LazyLock;
use std::sync::atomic::{AtomicUsize, Ordering};

use divan::{Bencher, black_box};
use policy_vs_cedar::Model;

/// Counts heap allocations, to prove `decide` allocates nothing.
struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards every call unchanged to the system allocator.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn main() {
    let m = &*REALISTIC;
    m.check_agreement();
    let before = ALLOCATIONS.load(Ordering::Relaxed);
    for _ in 0..100 {
        for ctx in &m.iam_requests {
            black_box(rampart_policy::decide(&m.iam_set, ctx));
        }
    }
    let allocs = ALLOCATIONS.load(Ordering::Relaxed) - before;
    assert_eq!(allocs, 0, "decide() allocated {allocs} times");
    eprintln!("decide(): 0 allocations over 800 decisions");
    eprintln!(
        "realistic model: {} identity statements, {} requests; scaled models checked too",
        m.statements,
        m.requests.len()
    );
    for n in SIZES {
        Model::scaled(n).check_agreement();
    }
    divan::main();
}

static REALISTIC: LazyLock<Model> = LazyLock::new(Model::realistic);
const SIZES: [usize; 3] = [10, 100, 1000];

/// One decision per iteration, cycling through the eight requests (half allowed, half denied).
#[divan::bench]
fn realistic_rampart_decide(b: Bencher) {
    let m = &*REALISTIC;
    let mut i = 0usize;
    b.bench_local(|| {
        i = (i + 1) % m.iam_requests.len();
        rampart_policy::decide(black_box(&m.iam_set), black_box(&m.iam_requests[i]))
    });
}

/// Same, with the full trace (every matching statement recorded).
#[divan::bench]
fn realistic_rampart_evaluate_with_trace(b: Bencher) {
    let m = &*REALISTIC;
    let mut i = 0usize;
    b.bench_local(|| {
        i = (i + 1) % m.iam_requests.len();
        rampart_policy::evaluate(black_box(&m.iam_set), black_box(&m.iam_requests[i]))
    });
}

#[divan::bench]
fn realistic_cedar(b: Bencher) {
    let m = &*REALISTIC;
    let authorizer = cedar_policy::Authorizer::new();
    let mut i = 0usize;
    b.bench_local(|| {
        i = (i + 1) % m.cedar_requests.len();
        authorizer
            .is_authorized(
                black_box(&m.cedar_requests[i]),
                &m.cedar_policies,
                &m.cedar_entities,
            )
            .decision()
    });
}

#[divan::bench(args = SIZES)]
fn scaled_rampart_decide(b: Bencher, n: usize) {
    let m = Model::scaled(n);
    b.bench_local(|| rampart_policy::decide(black_box(&m.iam_set), black_box(&m.iam_requests[0])));
}

#[divan::bench(args = SIZES)]
fn scaled_cedar(b: Bencher, n: usize) {
    let m = Model::scaled(n);
    let authorizer = cedar_policy::Authorizer::new();
    b.bench_local(|| {
        authorizer
            .is_authorized(
                black_box(&m.cedar_requests[0]),
                &m.cedar_policies,
                &m.cedar_entities,
            )
            .decision()
    });
}

/// Building the per-request context (done once per API call by the server).
#[divan::bench]
fn realistic_rampart_build_context(b: Bencher) {
    b.bench_local(|| {
        rampart_policy::RequestContext::new(
            black_box(rampart_policy::Principal::user(
                "arn:aws:iam::111122223333:user/alice",
                "111122223333",
                "alice",
                "AIDA",
            )),
            black_box("s3:GetObject"),
            black_box("arn:aws:s3:::bucket/key"),
        )
    });
}
