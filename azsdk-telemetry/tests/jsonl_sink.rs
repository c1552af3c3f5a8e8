//! The JSONL sink writes a batch at a time: what it accepted is in the file within its
//! batch age without a flush, and a flush writes everything at once.

use std::time::{Duration, Instant};

use azsdk_telemetry::{JsonlSink, Sink, TelemetryLayer, ToolExecuted};
use tracing_subscriber::prelude::*;

fn lines_in(sink: &JsonlSink) -> usize {
    std::fs::read_to_string(sink.path())
        .map(|text| text.lines().count())
        .unwrap_or(0)
}

#[test]
fn records_reach_the_file_within_the_batch_age_and_at_once_on_flush() {
    let dir = tempfile::tempdir().unwrap();
    let sink = std::sync::Arc::new(JsonlSink::new(dir.path().join("t.jsonl")));
    let (layer, handle) = TelemetryLayer::builder()
        .ignore_environment()
        .lifecycle_events(false)
        .crash_reporting(false)
        .sink(std::sync::Arc::clone(&sink))
        .build()
        .unwrap();
    let subscriber = tracing_subscriber::registry().with(layer);
    tracing::subscriber::with_default(subscriber, || {
        for _ in 0..3 {
            ToolExecuted::default().emit();
        }
        let start = Instant::now();
        while lines_in(&sink) < 3 && start.elapsed() < Duration::from_secs(5) {
            std::thread::sleep(Duration::from_millis(20));
        }
        let waited = start.elapsed();
        assert_eq!(lines_in(&sink), 3, "written without a flush");
        assert!(
            waited < Duration::from_secs(3),
            "within the batch age: {waited:?}"
        );

        for _ in 0..1_000 {
            ToolExecuted::default().emit();
        }
        assert!(handle.flush(Duration::from_secs(5)));
        assert_eq!(lines_in(&sink), 1_003, "a flush writes what was accepted");
    });
    let stats = sink.stats();
    assert_eq!((stats.delivered, stats.dropped), (1_003, 0), "{stats:?}");
}
