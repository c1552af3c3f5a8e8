//! Fuzz target: any bytes, as (lossy) UTF-8, through the scrubber and the limits.
//! Run with `cargo +nightly fuzz run scrub` from the crate root.
#![no_main]

use std::sync::OnceLock;

use azsdk_telemetry::sanitize::{scrub_limited, truncate_bytes, truncate_chars, Scrubber};
use libfuzzer_sys::fuzz_target;

fn scrubber() -> &'static Scrubber {
    static S: OnceLock<Scrubber> = OnceLock::new();
    S.get_or_init(|| {
        Scrubber::builder()
            .detect_identity(false)
            .user_name("alice")
            .host_name("alice-laptop.contoso.com")
            .home_dir("/home/alice")
            .build()
    })
}

fuzz_target!(|data: &[u8]| {
    let max = data.first().map_or(0, |&b| usize::from(b) * 8);
    let text = String::from_utf8_lossy(data);
    let out = scrubber().scrub(&text);
    // Scrubbing twice changes nothing more.
    let again = scrubber().scrub(&out);
    assert_eq!(out, again, "not idempotent");
    assert!(scrubber().scrub_limited(&text, max).len() <= max);
    assert!(scrub_limited(&text, max).len() <= max);
    assert!(truncate_bytes(&text, max).len() <= max);
    assert!(truncate_chars(&text, max).chars().count() <= max);
});
