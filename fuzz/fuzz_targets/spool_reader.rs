//! Fuzz target: any bytes as the content of a spool file.
//! Run with `cargo +nightly fuzz run spool_reader` from `fuzz/` (cargo-fuzz sets
//! `--cfg fuzzing`, which `azsdk_telemetry::fuzzing` needs).
//!
//! Checks: no panic and bounded work on any input (corrupt files are errors, never a crash or a
//! hang); what is read back is one JSON value per item; and encoding what was read gives a file
//! that reads back the same (the round trip the exporter relies on when it rewrites a file with
//! the envelope lines a partial resend left).
#![no_main]

use azsdk_telemetry::fuzzing::{decode_spool, encode_spool};
use libfuzzer_sys::fuzz_target;

fn check_items(items: &[Box<[u8]>]) {
    for item in items {
        assert!(!item.contains(&b'\n'), "an item never holds a newline");
        serde_json::from_slice::<serde::de::IgnoredAny>(item).expect("each item is JSON");
    }
    let again = encode_spool(items).expect("encoding in memory");
    assert_eq!(decode_spool(&again).expect("round trip"), items);
}

fuzz_target!(|data: &[u8]| {
    // The bytes as a file on disk (usually not gzip: exercises the error paths).
    if let Ok(items) = decode_spool(data) {
        check_items(&items);
    }
    // The bytes as the decompressed content: exercises header, count and line parsing.
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut gz, data).unwrap();
    let file = gz.finish().unwrap();
    if let Ok(items) = decode_spool(&file) {
        check_items(&items);
    }
});
