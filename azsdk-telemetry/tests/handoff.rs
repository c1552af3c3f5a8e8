//! How an emitted event reaches the layers of a subscriber: every telemetry layer records
//! it, other layers still read its fields, and an event written by hand at the framework's
//! target is not a framework event.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use azsdk_telemetry::{
    telemetry_tool, Event, MemorySink, SystemStarted, TelemetryHandle, TelemetryLayer, ToolExecuted,
};
use tracing::field::{Field, Visit};
use tracing_subscriber::layer::{Context, Layer};
use tracing_subscriber::prelude::*;

/// A telemetry layer with no lifecycle events of its own, recording into the returned sink
/// while its handle lives.
fn layer<S>() -> (TelemetryLayer<S>, TelemetryHandle, MemorySink)
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
{
    let sink = MemorySink::new();
    let (layer, handle) = TelemetryLayer::builder()
        .ignore_environment()
        .first_run_notice(false)
        .crash_reporting(false)
        .lifecycle_events(false)
        .sink(sink.clone())
        .build()
        .unwrap();
    (layer, handle, sink)
}

fn tool_names(sink: &MemorySink) -> Vec<String> {
    sink.records()
        .iter()
        .filter_map(|record| record.event().as_tool())
        .map(|tool| tool.tool_name.to_string())
        .collect()
}

#[telemetry_tool(category = "testing")]
fn run_tests(#[telemetry(allow)] count: u32) -> Result<u32, std::io::Error> {
    Ok(count)
}

#[test]
fn every_telemetry_layer_of_a_subscriber_records_the_call() {
    let (inner, _inner, inner_sink) = layer();
    let (outer, _outer, outer_sink) = layer();
    let subscriber = tracing_subscriber::registry().with(inner).with(outer);
    tracing::subscriber::with_default(subscriber, || {
        run_tests(3).unwrap();
        SystemStarted {
            startup_duration: Duration::from_millis(40),
        }
        .emit();
    });
    for sink in [&inner_sink, &outer_sink] {
        assert_eq!(tool_names(sink), ["run_tests"]);
        let names: Vec<_> = sink.records().iter().map(|r| r.name()).collect();
        assert_eq!(names, ["ToolExecuted", "SystemStarted"]);
    }
    let ids = |sink: &MemorySink| sink.records()[0].event_id();
    assert_ne!(
        ids(&inner_sink),
        ids(&outer_sink),
        "each layer stamps its own record"
    );
}

#[test]
fn layers_joined_with_and_then_both_record() {
    let (first, _first, first_sink) = layer();
    let (second, _second, second_sink) = layer();
    let subscriber = tracing_subscriber::registry().with(first.and_then(second));
    tracing::subscriber::with_default(subscriber, || {
        ToolExecuted {
            tool_name: "azsdk_verify_setup".into(),
            success: true,
            ..ToolExecuted::default()
        }
        .emit();
    });
    assert_eq!(tool_names(&first_sink), ["azsdk_verify_setup"]);
    assert_eq!(tool_names(&second_sink), ["azsdk_verify_setup"]);
}

/// Another layer: the fields it reads, by name.
#[derive(Clone, Default)]
struct Fields(Arc<Mutex<Vec<(String, String)>>>);

impl Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        let mut fields = self.0.lock().unwrap();
        fields.push((field.name().to_owned(), format!("{value:?}")));
    }
}

impl<S: tracing::Subscriber> Layer<S> for Fields {
    fn on_event(&self, event: &tracing::Event<'_>, _: Context<'_, S>) {
        event.record(&mut self.clone());
    }
}

#[test]
fn other_layers_read_the_call_from_its_fields() {
    let (telemetry, _handle, sink) = layer();
    let fields = Fields::default();
    let subscriber = tracing_subscriber::registry()
        .with(telemetry)
        .with(fields.clone());
    tracing::subscriber::with_default(subscriber, || run_tests(7).unwrap());
    let seen = fields.0.lock().unwrap().clone();
    let value = |name: &str| {
        seen.iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.clone())
    };
    assert_eq!(value("toolName").as_deref(), Some("\"run_tests\""));
    assert_eq!(value("toolCategory").as_deref(), Some("\"testing\""));
    assert_eq!(value("success").as_deref(), Some("true"));
    assert_eq!(value("toolArgs").as_deref(), Some(r#""{\"count\":7}""#));
    assert_eq!(tool_names(&sink), ["run_tests"]);
}

#[test]
fn an_event_written_by_hand_at_the_framework_target_is_not_recorded() {
    let (telemetry, _handle, sink) = layer();
    let subscriber = tracing_subscriber::registry().with(telemetry);
    tracing::subscriber::with_default(subscriber, || {
        tracing::info!(
            name: "ToolExecuted",
            target: azsdk_telemetry::TARGET,
            toolName = "spoof",
            success = true,
        );
        // A framework event right after still records exactly itself.
        run_tests(1).unwrap();
    });
    let records = sink.records();
    assert_eq!(records.len(), 1);
    match records[0].event() {
        Event::ToolExecuted(tool) => assert_eq!(tool.tool_name, "run_tests"),
        other => panic!("expected the tool call, got {other:?}"),
    }
}

#[test]
fn an_event_no_telemetry_layer_wanted_leaves_nothing_for_the_next() {
    let (telemetry, _handle, sink) = layer();
    // Only the first subscriber has a telemetry layer that records; the second has one
    // opted out, so the call is emitted to other layers only.
    let (off, _off) = TelemetryLayer::builder()
        .ignore_environment()
        .enabled(false)
        .build()
        .unwrap();
    let quiet = tracing_subscriber::registry()
        .with(off)
        .with(Fields::default());
    tracing::subscriber::with_default(quiet, || run_tests(2).unwrap());
    let subscriber = tracing_subscriber::registry().with(telemetry);
    tracing::subscriber::with_default(subscriber, || {
        tracing::info!(name: "ToolExecuted", target: azsdk_telemetry::TARGET, toolName = "spoof");
    });
    assert!(sink.records().is_empty());
}
