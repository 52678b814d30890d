//! Prints what loading the embedded models costs: time to the first routing lookup, time to
//! parse each model, and resident memory. `cargo run --release -p rampart-wire --example load_stats`
#![allow(clippy::unwrap_used)]

use std::time::Instant;

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|n| n.parse().ok())
        })
        .unwrap_or(0)
}

fn main() {
    println!("rss at start: {} KiB", rss_kib());
    let t = Instant::now();
    let kms = rampart_wire::service_by_target_prefix("TrentService").unwrap();
    println!("first lookup (all metadata + kms model): {:?}", t.elapsed());
    println!("  kms: {} shapes", kms.shape_count());
    for name in rampart_wire::service_names() {
        let t = Instant::now();
        let svc = rampart_wire::service(name).unwrap();
        println!(
            "{name}: {:?} ({} ops, {} shapes)",
            t.elapsed(),
            svc.operation_names().count(),
            svc.shape_count()
        );
    }
    println!("rss with every model loaded: {} KiB", rss_kib());
}
