//! The audit journal and stored chunks as read back from disk: any bytes (a torn write, a
//! damaged disk, a forged file) give events that chain, a "torn" or "broken" verdict — never a
//! panic. `cargo +nightly fuzz run journal` in crates/cloudtrail.
#![no_main]
use libfuzzer_sys::fuzz_target;
use rampart_cloudtrail::{journal, stored};

fuzz_target!(|data: &[u8]| {
    // A chunk row as the store returns it: plain, or claiming to be compressed.
    let _ = stored::find_in_chunk(data, 1);
    let claimed = [stored::COMPRESSED, data].concat();
    let _ = stored::decode_chunk(&claimed);
    // Compression gives back exactly what it was given.
    let encoded = stored::encode_chunk(data);
    let round_trip = stored::decode_chunk(&encoded).unwrap();
    assert_eq!(&*round_trip, data);
    let _ = stored::line_seq(data);
    let _ = stored::event_bytes(data);
    // A journal segment with these bytes, recovered from the start of the chain.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("journal-00000000000000000001.log"), data).unwrap();
    let found = journal::recover(dir.path(), &stored::Head::default(), 10_000).unwrap();
    let mut expected = 1;
    for (event, line) in &found.events {
        // Whatever is returned continues the chain and is its own line.
        assert_eq!(event.seq, expected);
        assert_eq!(stored::line_seq(line), Some(event.seq));
        expected += 1;
    }
});
