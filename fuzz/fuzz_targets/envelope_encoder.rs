//! Fuzz target: arbitrary event and context values through the record's scrubbing gate, the
//! envelope writer and the request encoder.
//! Run with `cargo +nightly fuzz run envelope_encoder` from `fuzz/`.
//!
//! Checks: no panic; the envelope serializes and passes the ingestion schema's required fields
//! and limits (the `toolArgs` property is a JSON object within `TOOL_ARGS_MAX_BYTES`, error
//! messages within theirs); and the gzipped request body decodes back to the same lines.
#![no_main]

use std::collections::BTreeMap;
use std::io::Read;
use std::time::Duration;

use arbitrary::Arbitrary;
use azsdk_telemetry::export::fuzzing::{encode_batch, envelope};
use azsdk_telemetry::sanitize::limits::{ERROR_MESSAGE_MAX_BYTES, TOOL_ARGS_MAX_BYTES};
use azsdk_telemetry::{ArgsRecorder, ContextSnapshot, ToolExecuted};
use libfuzzer_sys::fuzz_target;

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
    let mut context = ContextSnapshot::default();
    context.session_id = input.session_id;
    context.app_name = input.app_name;
    context.version = input.version;
    context.client.name = input.client.0;
    context.client.version = input.client.1;
    // Rates are validated to (0, 100] when configured.
    let rate = if input.sample_rate.is_finite() && input.sample_rate >= 0.001 {
        input.sample_rate.min(100.0)
    } else {
        100.0
    };
    let envelope = envelope(event, context, Some("00000000-0000-0000-0000-000000000000"), rate);
    let line = serde_json::to_vec(&envelope).expect("an envelope serializes");
    let props = &envelope["data"]["baseData"]["properties"];
    assert!(props.is_object());
    for (_, value) in props.as_object().unwrap() {
        assert!(value.is_string(), "properties are strings on the wire");
    }
    if let Some(args) = props.get("toolArgs").and_then(|v| v.as_str()) {
        if input.raw_args.is_none() {
            assert!(args.len() <= TOOL_ARGS_MAX_BYTES, "{}", args.len());
            let parsed: serde_json::Value = serde_json::from_str(args).expect("toolArgs is JSON");
            assert!(parsed.is_object());
        } else {
            assert!(args.len() <= TOOL_ARGS_MAX_BYTES, "{}", args.len());
        }
    }
    if let Some(message) = props.get("errorMessage").and_then(|v| v.as_str()) {
        assert!(message.len() <= ERROR_MESSAGE_MAX_BYTES);
    }
    // The request body: gzip of JSON lines, decoding to exactly the envelopes.
    let body = encode_batch(&[&line, &line]).expect("gzip in memory");
    let mut text = Vec::new();
    flate2::read::GzDecoder::new(&body[..])
        .read_to_end(&mut text)
        .expect("valid gzip");
    let lines: Vec<&[u8]> = text.split(|&b| b == b'\n').collect();
    assert_eq!(lines, vec![&line[..], &line[..]]);
    // The lines are byte-exact (above); read back, everything but floats is equal (serde_json's
    // default float parser may differ from the writer by one ulp, e.g. on `sampleRate`).
    let back: serde_json::Value = serde_json::from_slice(lines[0]).expect("a line is JSON");
    assert_eq!(back["data"], envelope["data"]);
    assert_eq!(back["tags"], envelope["tags"]);
});
