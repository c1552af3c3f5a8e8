//! The envelope of a record as the layer hands it to a sink: wire keys in wire order,
//! the schema's duration and time text, empty tags left out, unwritable times refused.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use azsdk_telemetry::{
    AgentInfo, ClientInfo, Event, JsonlSink, MemorySink, PendingRecord, Record, Sink,
    SystemCrashed, SystemStarted, SystemStopped, TelemetryBuilder, TelemetryHandle, TelemetryLayer,
    ToolExecuted,
};
use serde_json::Value;

/// The first second of the year 10000, which RFC 3339 cannot write.
const YEAR_10000: Duration = Duration::from_secs(253_402_300_800);

/// A layer from `builder` that reads nothing from the machine and records only what
/// the test hands it, into `sink`.
fn start(builder: TelemetryBuilder, sink: impl Sink) -> TelemetryHandle {
    let (_layer, handle) = builder
        .ignore_environment()
        .lifecycle_events(false)
        .crash_reporting(false)
        .sink(sink)
        .build::<tracing_subscriber::Registry>()
        .unwrap();
    handle
}

/// The one record `event` makes through a layer configured by `builder`.
fn record(builder: TelemetryBuilder, event: impl Into<Event>) -> Record {
    let memory = MemorySink::new();
    start(builder, memory.clone()).record(event);
    let mut records = memory.records();
    assert_eq!(records.len(), 1, "{records:#?}");
    records.remove(0)
}

#[test]
fn durations_follow_the_schema_format() {
    for (duration, text) in [
        (Duration::ZERO, "0.00:00:00.000000"),
        (Duration::from_nanos(999), "0.00:00:00.000000"),
        (Duration::from_micros(1), "0.00:00:00.000001"),
        (Duration::from_millis(12_450), "0.00:00:12.450000"),
        (Duration::from_secs(90_061), "1.01:01:01.000000"),
        (Duration::from_secs(3_600_000), "41.16:00:00.000000"),
        (Duration::MAX, "999.23:59:59.999999"),
    ] {
        let tool = ToolExecuted {
            duration,
            ..ToolExecuted::default()
        };
        let envelope = record(TelemetryLayer::builder(), tool).to_envelope(None, 100.0);
        assert_eq!(
            envelope["data"]["baseData"]["duration"], text,
            "{duration:?}"
        );
    }
}

#[test]
fn the_envelope_has_the_wire_shape_in_the_wire_order() {
    let builder = TelemetryLayer::builder()
        .client(ClientInfo::new("Visual \"Studio\" Code", "1.100.1"))
        .agent(AgentInfo::new("GitHub Copilot").model("é\nmodel"));
    let tool = ToolExecuted {
        tool_name: "azsdk_generate_sdk".into(),
        tool_category: "generating".into(),
        duration: Duration::from_micros(1_234),
        success: true,
        language: Some("Python".into()),
        ..ToolExecuted::default()
    };
    let record = record(builder, tool);
    let envelope = record.to_envelope(Some("k\"ey"), 12.5);
    let keys: Vec<&str> = envelope.as_object().unwrap().keys().map(|k| &**k).collect();
    assert_eq!(
        keys,
        ["ver", "name", "time", "sampleRate", "tags", "data", "iKey"]
    );
    assert_eq!(envelope["iKey"], "k\"ey");
    let base = &envelope["data"]["baseData"];
    assert_eq!(base["duration"], "0.00:00:00.001234");
    assert_eq!(base["id"], record.event_id().hyphenated().to_string());
    assert_eq!(base["properties"]["clientName"], "Visual \"Studio\" Code");
    assert_eq!(base["properties"]["agentModel"], "é\nmodel");
    assert_eq!(
        envelope["tags"]["ai.operation.id"],
        record.event_id().simple().to_string()
    );
    // Without a key, no `iKey`; the written text is the value's text.
    let mut line = Vec::new();
    record.write_envelope(None, f64::NAN, &mut line).unwrap();
    let value = record.to_envelope(None, f64::NAN);
    assert_eq!(line, serde_json::to_vec(&value).unwrap());
    assert!(value.get("iKey").is_none());
    assert!(value["sampleRate"].is_null(), "NaN is written as null");
}

#[test]
fn empty_tags_are_left_out() {
    let builder = TelemetryLayer::builder().app_name("").session_id("");
    let envelope = record(builder, SystemStopped::default()).to_envelope(None, 100.0);
    let tags = envelope["tags"].as_object().unwrap();
    assert!(!tags.contains_key("ai.session.id") && !tags.contains_key("ai.cloud.role"));
    assert_eq!(tags["ai.operation.name"], "SystemStopped");
}

#[test]
fn a_key_the_event_sets_again_is_written_once_with_the_events_value() {
    let mut tool = ToolExecuted::default();
    tool.set_dimension("platform", "platform from the tool");
    tool.set_dimension("team", "storage-sdk");
    let record = record(TelemetryLayer::builder(), tool);
    let mut line = Vec::new();
    record.write_envelope(None, 100.0, &mut line).unwrap();
    let text = String::from_utf8(line).unwrap();
    assert_eq!(text.matches("\"platform\":").count(), 1, "{text}");
    let envelope: Value = serde_json::from_str(&text).unwrap();
    let properties = &envelope["data"]["baseData"]["properties"];
    assert_eq!(properties["platform"], "platform from the tool");
    assert_eq!(properties["team"], "storage-sdk");
}

#[test]
fn times_are_utc_microseconds_and_out_of_range_times_are_an_error_not_a_panic() {
    let at = |time: SystemTime| {
        let record = record(
            TelemetryLayer::builder().clock(move || time),
            SystemCrashed::default(),
        );
        let mut line = Vec::new();
        record
            .write_envelope(None, 100.0, &mut line)
            .map(|()| record.to_envelope(None, 100.0))
    };
    let time = SystemTime::UNIX_EPOCH + Duration::from_millis(1_760_658_297_217);
    assert_eq!(at(time).unwrap()["time"], "2025-10-16T23:44:57.217000Z");
    for time in [
        SystemTime::UNIX_EPOCH - Duration::from_secs(1),
        SystemTime::UNIX_EPOCH + YEAR_10000,
    ] {
        let error = at(time).unwrap_err();
        assert!(error.to_string().contains("clock"), "{error}");
    }
}

/// Hands every record to the JSONL sink and a copy to a memory sink.
struct Tee(MemorySink, Arc<JsonlSink>);

impl Sink for Tee {
    fn accept(&self, record: PendingRecord) {
        self.0.accept(record.clone());
        self.1.accept(record);
    }
}

#[test]
fn a_record_that_cannot_be_written_is_counted_dropped_and_leaves_no_line() {
    let dir = tempfile::tempdir().unwrap();
    let sink = Arc::new(JsonlSink::new(dir.path().join("t.jsonl")));
    let memory = MemorySink::new();
    let before_1970 = SystemTime::UNIX_EPOCH - Duration::from_secs(1);
    let bad = start(
        TelemetryLayer::builder().clock(move || before_1970),
        Tee(memory.clone(), Arc::clone(&sink)),
    );
    let good = start(TelemetryLayer::builder(), Arc::clone(&sink));
    bad.record(SystemStarted::default());
    good.record(SystemStarted::default());
    assert!(sink.flush(Duration::from_secs(5)));
    let text = std::fs::read_to_string(sink.path()).unwrap();
    assert_eq!(text.lines().count(), 1, "{text}");
    assert!(text.lines().all(|line| !line.is_empty()));
    assert_eq!((sink.stats().delivered, sink.stats().dropped), (1, 1));
    assert_eq!(memory.records().len(), 1, "the memory sink kept the record");
    assert!(memory.lines().is_empty() && memory.envelopes().is_empty());
}
