//! The layer lives beside the application's own tracing: other layers show
//! framework events with readable fields, and the telemetry layer neither
//! records nor enables anything that is not a framework event.

use std::io::Write;
use std::sync::{Arc, Mutex};

use azsdk_telemetry::MemorySink;
use azsdk_telemetry::{TelemetryLayer, ToolExecuted};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::prelude::*;

#[derive(Clone, Default)]
struct Buffer(Arc<Mutex<Vec<u8>>>);

impl Write for Buffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Buffer {
    type Writer = Buffer;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

fn telemetry(sink: &MemorySink) -> TelemetryLayer {
    TelemetryLayer::builder()
        .ignore_environment()
        .lifecycle_events(false)
        .sink(sink.clone())
        .build()
        .unwrap()
        .0
}

/// Runs `work` under the telemetry layer beside an `fmt` layer; returns what
/// `fmt` printed and how many records the telemetry layer kept.
fn beside_fmt(work: impl FnOnce()) -> (String, usize) {
    let out = Buffer::default();
    let sink = MemorySink::new();
    let subscriber = tracing_subscriber::registry().with(telemetry(&sink)).with(
        tracing_subscriber::fmt::layer()
            .with_writer(out.clone())
            .with_ansi(false),
    );
    tracing::subscriber::with_default(subscriber, work);
    let text = String::from_utf8(out.0.lock().unwrap().clone()).unwrap();
    (text, sink.records().len())
}

#[test]
fn fmt_shows_framework_events_with_readable_fields() {
    let (text, records) = beside_fmt(|| {
        ToolExecuted {
            tool_name: "azsdk_run_tests".into(),
            tool_category: "testing".into(),
            duration: std::time::Duration::from_millis(8234),
            success: false,
            error_type: Some("TestFailure".into()),
            ..ToolExecuted::default()
        }
        .emit();
    });
    for expected in [
        "toolName=\"azsdk_run_tests\"",
        "toolCategory=\"testing\"",
        "durationMs=8234",
        "success=false",
        "errorType=\"TestFailure\"",
    ] {
        assert!(text.contains(expected), "{expected} missing from {text}");
    }
    assert_eq!(records, 1);
}

#[test]
fn other_layers_still_see_their_own_events() {
    let (text, records) = beside_fmt(|| {
        tracing::warn!(answer = 42, "the application's own log line");
    });
    assert!(text.contains("the application's own log line"), "{text}");
    assert_eq!(records, 0);
}
