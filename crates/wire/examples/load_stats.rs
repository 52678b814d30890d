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
    // Patterns compile on first use; this compiles every one to show the worst case.
    for name in rampart_wire::service_names() {
        let svc = rampart_wire::service(name).unwrap();
        let t = Instant::now();
        let unchecked = svc.unchecked_patterns().len();
        println!(
            "{name}: all patterns compiled in {:?} ({unchecked} unchecked)",
            t.elapsed()
        );
    }
    let mut slowest = (std::time::Duration::ZERO, String::new());
    for pattern in [
        r"[\p{L}\p{Z}\p{N}_.:/=+\-@]+",
        r"^.{1,256}$",
        r"[\u0009\u000A\u000D\u0020-\u007E\u0085\u00A0-\uD7FF\uE000-\uFFFD\u10000-\u10FFFF]+",
    ] {
        let t = Instant::now();
        let _ = rampart_wire::pattern::compile(pattern);
        if t.elapsed() > slowest.0 {
            slowest = (t.elapsed(), pattern.to_owned());
        }
    }
    println!("slowest sample pattern: {:?} for {}", slowest.0, slowest.1);
    println!("rss after compiling every pattern: {} KiB", rss_kib());
}
