//! Fuzz target: arbitrary event and context values through the record's scrubbing gate, the
//! envelope writer and the request encoder, as the worker runs them.
//! Run with `cargo +nightly fuzz run envelope_encoder` from `fuzz/`.
//!
//! Checks: no panic; the envelope line is written (the clock is the system's, so always in
//! range), holds no raw newline, and parses as JSON with the envelope's shape: the wire
//! names and constants, `iKey` and `sampleRate` as given, string tags and properties within
//! the key and value limits, `toolArgs` within `TOOL_ARGS_MAX_BYTES` (a JSON object when
//! recorded), error messages within theirs. And the gzipped request body of the line
//! decodes back to exactly its bytes.
#![no_main]

use std::collections::BTreeMap;
use std::io::Read;
use std::time::Duration;

use arbitrary::Arbitrary;
use azsdk_telemetry::fuzzing::{
    encode_batch, envelope, ERROR_MESSAGE_MAX_BYTES, PROPERTY_KEY_MAX_CHARS,
    PROPERTY_VALUE_MAX_CHARS, TOOL_ARGS_MAX_BYTES,
};
use azsdk_telemetry::{ArgsRecorder, ClientInfo, ContextSnapshot, ToolExecuted};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

const IKEY: &str = "00000000-0000-0000-0000-000000000000";

#[derive(Debug, Arbitrary)]
struct Input {
    tool_name: String,
    tool_category: String,
    duration_us: u64,
    success: bool,
    /// `toolArgs` as a raw string (any text, as a hand-written emitter could pass) ...
    raw_args: Option<String>,
    /// ... or recorded through the recorder.
    args: Vec<(String, String)>,
    nested: Vec<(String, Vec<(String, String)>)>,
    tool_response: Option<String>,
    language: Option<String>,
    error_type: Option<String>,
    error_message: Option<String>,
    dimensions: BTreeMap<String, String>,
    session_id: String,
    app_name: String,
    version: String,
    client: (Option<String>, Option<String>),
    sample_rate: f64,
}

struct Pairs<'a>(&'a [(String, String)]);

impl azsdk_telemetry::TelemetryArgs for Pairs<'_> {
    fn record_args(&self, recorder: &mut ArgsRecorder) {
        for (k, v) in self.0 {
            recorder.allow(k, v.as_str());
        }
    }
}

fn gunzip(body: &[u8]) -> Vec<u8> {
    let mut text = Vec::new();
    flate2::read::GzDecoder::new(body)
        .read_to_end(&mut text)
        .expect("valid gzip");
    text
}

/// `d.hh:mm:ss.ffffff`, days without padding.
fn is_schema_duration(text: &str) -> bool {
    let Some((days, rest)) = text.split_once('.') else {
        return false;
    };
    let digits = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_digit());
    let parts: Vec<&str> = rest.split([':', '.']).collect();
    !days.is_empty()
        && days.bytes().all(|b| b.is_ascii_digit())
        && parts.len() == 4
        && digits(parts[0], 2)
        && digits(parts[1], 2)
        && digits(parts[2], 2)
        && digits(parts[3], 6)
}

fn string_map(value: &Value, what: &str) -> Vec<(String, String)> {
    let map = value
        .as_object()
        .unwrap_or_else(|| panic!("{what} is an object"));
    map.iter()
        .map(|(key, value)| {
            let value = value
                .as_str()
                .unwrap_or_else(|| panic!("{what}: {key} is a string on the wire"));
            (key.clone(), value.to_owned())
        })
        .collect()
}

fuzz_target!(|input: Input| {
    let tool_args = input.raw_args.clone().or_else(|| {
        let mut recorder = ArgsRecorder::new();
        for (k, v) in &input.args {
            recorder.allow(k, v.as_str());
        }
        for (k, pairs) in &input.nested {
            recorder.nested(k, &Pairs(pairs));
        }
        (!recorder.is_empty()).then(|| recorder.json())
    });
    // A dimension may take a fixed key's place (an argument promoted as `errorMessage`):
    // the value is then the dimension's, held to the property limit only.
    let own_args = !input.dimensions.contains_key("toolArgs");
    let own_message = !input.dimensions.contains_key("errorMessage");
    let event = ToolExecuted {
        tool_name: input.tool_name.into(),
        tool_category: input.tool_category.into(),
        duration: Duration::from_micros(input.duration_us),
        success: input.success,
        tool_args,
        tool_response: input.tool_response,
        language: input.language,
        error_type: input.error_type,
        error_message: input.error_message,
        dimensions: input.dimensions,
        ..ToolExecuted::default()
    };
    let context = ContextSnapshot {
        session_id: input.session_id,
        app_name: input.app_name,
        version: input.version,
        client: ClientInfo {
            name: input.client.0,
            version: input.client.1,
        },
        ..ContextSnapshot::default()
    };
    // Rates are validated to (0, 100] when configured.
    let rate = if input.sample_rate.is_finite() && input.sample_rate >= 0.001 {
        input.sample_rate.min(100.0)
    } else {
        100.0
    };

    // The line the worker writes.
    let line = envelope(event, context, Some(IKEY), rate).expect("the envelope line is written");
    assert!(!line.contains(&b'\n'), "one envelope is one line");
    let envelope: Value = serde_json::from_slice(&line).expect("the line is JSON");

    // Its shape.
    let object = envelope.as_object().expect("the envelope is an object");
    let mut keys: Vec<&str> = object.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        ["data", "iKey", "name", "sampleRate", "tags", "time", "ver"]
    );
    assert_eq!(envelope["ver"], 1);
    assert_eq!(
        envelope["name"],
        "Microsoft.ApplicationInsights.RemoteDependency"
    );
    assert_eq!(envelope["iKey"], IKEY);
    assert!(envelope["time"].is_string(), "{}", envelope["time"]);
    // The bytes are exact; serde_json's default float parser may read them back one ulp off.
    let read_rate = envelope["sampleRate"]
        .as_f64()
        .expect("sampleRate is a number");
    assert!(
        (read_rate - rate).abs() <= rate * f64::EPSILON,
        "{read_rate} != {rate}"
    );
    let tags = string_map(&envelope["tags"], "tags");
    assert!(tags
        .iter()
        .any(|(key, value)| key == "ai.operation.name" && value == "ToolExecuted"));
    assert!(tags.iter().all(|(_, value)| !value.is_empty()), "{tags:?}");
    let data = &envelope["data"];
    assert_eq!(data["baseType"], "RemoteDependencyData");
    let base = &data["baseData"];
    assert_eq!(base["ver"], 2);
    assert_eq!(base["name"], "ToolExecuted");
    assert_eq!(base["type"], "InProc");
    assert_eq!(base["success"], input.success);
    assert!(base["id"].as_str().is_some_and(|id| id.len() == 36));
    let duration = base["duration"].as_str().expect("duration is text");
    assert!(is_schema_duration(duration), "{duration}");

    // Properties: strings, within the limits.
    let props = string_map(&base["properties"], "properties");
    for (key, value) in &props {
        assert!(key.chars().count() <= PROPERTY_KEY_MAX_CHARS, "{key}");
        assert!(value.chars().count() <= PROPERTY_VALUE_MAX_CHARS, "{key}");
    }
    let prop = |name: &str| {
        props
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    };
    if let Some(args) = prop("toolArgs").filter(|_| own_args) {
        assert!(args.len() <= TOOL_ARGS_MAX_BYTES, "{}", args.len());
        if input.raw_args.is_none() {
            let parsed: Value = serde_json::from_str(args).expect("recorded toolArgs is JSON");
            assert!(parsed.is_object());
        }
    }
    if let Some(message) = prop("errorMessage").filter(|_| own_message) {
        assert!(message.len() <= ERROR_MESSAGE_MAX_BYTES);
    }

    // The request body: gzip of the lines joined by newlines, decoding to exactly the bytes.
    let body = encode_batch(&[&line]).expect("gzip in memory");
    assert_eq!(gunzip(&body), line);
    let body = encode_batch(&[&line, &line]).expect("gzip in memory");
    assert_eq!(gunzip(&body), [&line[..], b"\n", &line[..]].concat());
});
