//! One record, every destination, the same bytes: what `capture()` and `MemorySink` show,
//! the JSONL file, and what reaches the wire live and through the disk spool are one
//! envelope line, the wire's with the instrumentation key as its last member.

mod common;

use std::sync::Arc;
use std::time::Duration;

use azsdk_telemetry::{
    HttpSink, JsonlSink, MemorySink, PendingRecord, Sink, TelemetryLayer, ToolExecuted,
};
use azsdk_telemetry_testkit::{IngestionServer, Mode, TEST_INSTRUMENTATION_KEY};
use common::{config, WAIT};
use tracing_subscriber::prelude::*;

/// Hands each record to every sink it holds, as a user's fan-out sink would.
struct FanOut(Vec<Arc<dyn Sink>>);

impl Sink for FanOut {
    fn accept(&self, record: PendingRecord) {
        for sink in &self.0 {
            sink.accept(record.clone());
        }
    }

    fn flush(&self, timeout: Duration) -> bool {
        self.0.iter().all(|sink| sink.flush(timeout))
    }
}

fn call(name: &'static str) -> ToolExecuted {
    ToolExecuted {
        tool_name: name.into(),
        tool_category: "testing".into(),
        success: false,
        tool_args: Some(r#"{"path":"/home/alice/secret.txt","quote":"\"é\""}"#.into()),
        error_type: Some("IoError".into()),
        error_message: Some(
            "could not read /home/alice/secret.txt: token=ghp_R7dKq2Lm9XvB4nT8wZ1cY6pH3sF0aJ5eU2gQ"
                .into(),
        ),
        language: Some("python".into()),
        ..ToolExecuted::default()
    }
}

/// The lines of a file or request body, without their line ends.
fn lines(bytes: &[u8]) -> Vec<Vec<u8>> {
    bytes
        .split(|&b| b == b'\n')
        .filter(|line| !line.is_empty())
        .map(<[u8]>::to_vec)
        .collect()
}

/// A local line as the wire carries it: the instrumentation key added as the last member.
fn with_key(local: &[u8]) -> Vec<u8> {
    let open = &local[..local.len() - 1];
    [
        open,
        format!(r#","iKey":"{TEST_INSTRUMENTATION_KEY}"}}"#).as_bytes(),
    ]
    .concat()
}

#[test]
fn memory_jsonl_spool_and_wire_carry_the_same_envelope_bytes() {
    let server = IngestionServer::start();
    server.set_mode(Mode::Down);
    let dir = tempfile::tempdir().unwrap();
    let memory = MemorySink::new();
    let jsonl = Arc::new(JsonlSink::new(dir.path().join("telemetry.jsonl")));
    let http = Arc::new(
        HttpSink::start(config(&server).with_spool_dir(dir.path().join("spool"))).unwrap(),
    );
    let fan_out = FanOut(vec![
        Arc::new(memory.clone()),
        Arc::clone(&jsonl) as Arc<dyn Sink>,
        Arc::clone(&http) as Arc<dyn Sink>,
    ]);
    let (layer, handle) = TelemetryLayer::builder()
        .ignore_environment()
        .lifecycle_events(false)
        .crash_reporting(false)
        .sink(fan_out)
        .build()
        .unwrap();
    let subscriber = tracing_subscriber::registry().with(layer);
    tracing::subscriber::with_default(subscriber, || {
        // Down: this one is spooled, and resent once the endpoint is back.
        call("spooled_tool").emit();
        assert!(handle.flush(WAIT));
        assert_eq!(http.stats().spooled, 1, "{:?}", http.export_stats());
        server.set_mode(Mode::Normal);
        assert!(server.wait_for(1, WAIT), "the spool is resent");
        // Up: this one goes live.
        call("live_tool").emit();
        assert!(handle.flush(WAIT));
    });
    assert!(server.wait_for(2, WAIT));

    let local = memory.lines();
    assert_eq!(local.len(), 2);
    let written = lines(&std::fs::read(jsonl.path()).unwrap());
    assert_eq!(
        written, local,
        "the JSONL file holds the memory sink's lines"
    );
    let sent: Vec<Vec<u8>> = server
        .requests()
        .iter()
        .filter(|request| request.status == 200)
        .flat_map(|request| lines(&request.body))
        .collect();
    let expected: Vec<Vec<u8>> = local.iter().map(|line| with_key(line)).collect();
    assert_eq!(
        sent.iter()
            .map(|l| String::from_utf8_lossy(l))
            .collect::<Vec<_>>(),
        expected
            .iter()
            .map(|l| String::from_utf8_lossy(l))
            .collect::<Vec<_>>(),
        "the spooled line and the live one reach the wire as the local lines, with the key"
    );
    // The line is scrubbed before any destination sees it.
    let text = String::from_utf8_lossy(&local[0]);
    assert!(!text.contains("alice") && !text.contains("ghp_"), "{text}");
}
