//! Fuzz target: any text through the connection string parser.
//! Run with `cargo +nightly fuzz run connection_string` from `fuzz/`.
//!
//! Checks: no panic; an accepted string has an http(s) endpoint, https unless loopback, with
//! no credentials, query or fragment; and the instrumentation key never appears in an error,
//! `Display` or `Debug`, whether it is the fuzzer's own or a known key put in front.
#![no_main]

use azsdk_telemetry::ConnectionString;
use libfuzzer_sys::fuzz_target;

const KEY: &str = "0badc0de-5ec2-4e7a-9c1d-0123456789ab";

fn leaks(text: &str, key: &str) -> bool {
    let (text, key) = (text.to_ascii_lowercase(), key.to_ascii_lowercase());
    text.contains(&key) || text.contains(&key.replace('-', ""))
}

fn check(input: &str, key: Option<&str>) {
    match ConnectionString::parse(input) {
        Ok(cs) => {
            let endpoint = cs.ingestion_endpoint();
            let url = url::Url::parse(endpoint).expect("an accepted endpoint is a URL");
            assert!(matches!(url.scheme(), "https" | "http"), "{endpoint}");
            if url.scheme() == "http" {
                let host = url.host_str().unwrap_or_default();
                assert!(
                    host == "localhost"
                        || host == "localhost."
                        || host == "[::1]"
                        || host.starts_with("127."),
                    "plain http off loopback: {endpoint}"
                );
            }
            assert!(url.username().is_empty() && url.password().is_none());
            assert!(url.query().is_none() && url.fragment().is_none());
            assert!(!endpoint.ends_with('/'));
            assert!(cs.track_url().ends_with("/v2.1/track"));
            let key = cs.instrumentation_key();
            assert!(!leaks(&cs.to_string(), key), "{cs}");
            // `Debug` escapes the endpoint; `\0` + "badc0de..." is not the key.
            let escaped = format!("{:?}", cs.ingestion_endpoint());
            if !(leaks(&escaped, key) && !leaks(cs.ingestion_endpoint(), key)) {
                assert!(!leaks(&format!("{cs:?}"), key), "{cs:?}");
            }
            // Parsing is stable: the same input gives the same result.
            assert_eq!(ConnectionString::parse(input).ok(), Some(cs));
        }
        Err(e) => {
            if let Some(key) = key {
                for text in [e.to_string(), format!("{e:?}")] {
                    assert!(!leaks(&text, key), "{input:?} -> {text}");
                }
            }
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    check(&text, None);
    // The known key in front; unless the input names another key, the known one is the key.
    let prefixed = format!("InstrumentationKey={KEY};{text}");
    // Messages quote endpoints with `{:?}`: escapes such as `\0` can spell the key out of
    // input that does not hold it (a harness artefact, not a leak).
    let escapes_spell_it = leaks(&format!("{text:?}"), KEY) && !leaks(&text, KEY);
    let names_a_key =
        text.to_ascii_lowercase().contains("instrumentationkey") || escapes_spell_it;
    check(&prefixed, (!names_a_key).then_some(KEY));
    // And behind (a later key wins, so only check when the input names none).
    let suffixed = format!("{text};InstrumentationKey={KEY}");
    check(&suffixed, (!names_a_key).then_some(KEY));
});
