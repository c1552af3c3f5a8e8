//! Fuzz target: any bytes, as (lossy) UTF-8, through the scrubber and the limits.
//! Run with `cargo +nightly fuzz run scrub` from the crate root.
#![no_main]

use azsdk_telemetry::fuzzing::{
    scrub, scrub_limited, scrub_limited_detected, truncate_bytes, truncate_chars,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let max = data.first().map_or(0, |&b| usize::from(b) * 8);
    let text = String::from_utf8_lossy(data);
    let out = scrub(&text);
    // Scrubbing twice changes nothing more.
    let again = scrub(&out);
    assert_eq!(out, again, "not idempotent");
    assert!(scrub_limited(&text, max).len() <= max);
    assert!(scrub_limited_detected(&text, max).len() <= max);
    assert!(truncate_bytes(&text, max).len() <= max);
    assert!(truncate_chars(&text, max).chars().count() <= max);
});
