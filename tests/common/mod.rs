//! Shared helpers for the export integration tests.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use azsdk_telemetry::{
    ConnectionString, TelemetryBuilder, TelemetryHandle, TelemetryLayer, ToolExecuted,
};
use azsdk_telemetry::{ExportConfig, ExportStats, HttpSink, RetryPolicy, Sink};
use azsdk_telemetry_testkit::IngestionServer;
use serde_json::Value;
use tracing_subscriber::layer::SubscriberExt;

/// A tool call the tests follow by its id (the `testId` dimension) and success flag.
#[derive(Debug, Clone)]
pub struct TestItem {
    pub id: u64,
    pub failure: bool,
}

impl TestItem {
    pub fn ok(id: u64) -> Self {
        Self { id, failure: false }
    }

    fn event(&self) -> ToolExecuted {
        let mut event = ToolExecuted {
            tool_name: "azsdk_test_tool".into(),
            tool_category: "testing".into(),
            duration: Duration::from_millis(12),
            success: !self.failure,
            error_type: self.failure.then(|| "TestFailure".to_owned()),
            ..ToolExecuted::default()
        };
        event.set_dimension("testId", self.id.to_string());
        event
    }
}

/// The application's side: emits test items as tool calls through the telemetry layer,
/// from any thread.
#[derive(Clone)]
pub struct Sender {
    dispatch: tracing::Dispatch,
}

impl Sender {
    pub fn send(&self, item: TestItem) {
        tracing::dispatcher::with_default(&self.dispatch, || item.event().emit());
    }
}

/// What a flush or shutdown returned, with the exporter's counters then.
#[derive(Debug, Clone, Copy)]
pub struct FlushReport {
    pub completed: bool,
    pub elapsed: Duration,
    pub stats: ExportStats,
}

/// The layer's handle over the production sink.
pub struct Handle {
    sink: Arc<HttpSink>,
    handle: TelemetryHandle,
}

impl Handle {
    pub fn flush(&self, timeout: Duration) -> FlushReport {
        let start = Instant::now();
        let completed = self.handle.flush(timeout);
        self.report(completed, start)
    }

    pub fn shutdown(self, timeout: Duration) -> FlushReport {
        let start = Instant::now();
        let completed = self.handle.shutdown(timeout);
        self.report(completed, start)
    }

    pub fn stats(&self) -> ExportStats {
        self.sink.export_stats().unwrap_or_default()
    }

    fn report(&self, completed: bool, start: Instant) -> FlushReport {
        FlushReport {
            completed,
            elapsed: start.elapsed(),
            stats: self.stats(),
        }
    }
}

/// The production path: a `TelemetryLayer` over an `HttpSink` started with `config`, no
/// lifecycle events, nothing read from the environment.
pub fn start(config: ExportConfig) -> (Sender, Handle) {
    try_start(config, |builder| builder).expect("the exporter starts")
}

/// [`start`], with the builder changed by `change` (a clock, say), or the sink's error.
pub fn try_start(
    config: ExportConfig,
    change: impl FnOnce(TelemetryBuilder) -> TelemetryBuilder,
) -> Result<(Sender, Handle), azsdk_telemetry::ExportError> {
    let sink = Arc::new(HttpSink::start(config)?);
    let builder = TelemetryLayer::builder()
        .ignore_environment()
        .lifecycle_events(false)
        .crash_reporting(false)
        .app_name("export-tests")
        .sink(Arc::clone(&sink));
    let (layer, handle) = change(builder)
        .build::<tracing_subscriber::Registry>()
        .expect("the layer builds");
    let dispatch = tracing::Dispatch::new(tracing_subscriber::registry().with(layer));
    Ok((Sender { dispatch }, Handle { sink, handle }))
}

/// Fast settings for tests: 50 ms batches, millisecond backoffs, no spool.
pub fn config(server: &IngestionServer) -> ExportConfig {
    config_for(&server.connection_string())
}

/// [`config`] for any connection string (a proxy, a closed port).
pub fn config_for(connection_string: &str) -> ExportConfig {
    let cs = ConnectionString::parse(connection_string).expect("test connection string");
    ExportConfig::new(cs)
        .with_max_batch_age(Duration::from_millis(50))
        .with_request_timeout(Duration::from_secs(2))
        .with_spool_retry_interval(Duration::from_millis(50))
        .with_retry(RetryPolicy {
            max_attempts: 3,
            base_backoff: Duration::from_millis(10),
            max_backoff: Duration::from_millis(40),
            max_retry_after: Duration::from_secs(5),
        })
}

/// The `testId` of an envelope.
pub fn event_id(envelope: &Value) -> u64 {
    envelope["data"]["baseData"]["properties"]["testId"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .expect("envelope has an eventId")
}

/// How many times each id was received.
pub fn id_counts(envelopes: &[Value]) -> BTreeMap<u64, usize> {
    let mut m = BTreeMap::new();
    for e in envelopes {
        *m.entry(event_id(e)).or_default() += 1;
    }
    m
}

/// Asserts every id in `ids` arrived exactly once and nothing else arrived.
pub fn assert_exactly_once(envelopes: &[Value], ids: impl IntoIterator<Item = u64>) {
    let counts = id_counts(envelopes);
    let expected: Vec<u64> = ids.into_iter().collect();
    for id in &expected {
        assert_eq!(
            counts.get(id),
            Some(&1),
            "event {id} should arrive exactly once"
        );
    }
    assert_eq!(
        counts.len(),
        expected.len(),
        "unexpected extra events: {counts:?}"
    );
}

pub const WAIT: Duration = Duration::from_secs(5);

/// Re-runs this test binary as a child that plays the test named `role`
/// (a test that does its part only when its environment variables are set),
/// and returns it once it printed `SPOOLED n`, with that `n`.
pub fn spawn_spooling_child(
    role: &str,
    env: &[(&str, String)],
) -> (std::process::Child, Option<u64>) {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};
    let mut child = Command::new(std::env::current_exe().expect("the test binary"))
        .args(["--exact", role, "--nocapture", "--test-threads=1"])
        .envs(env.iter().map(|(key, value)| (*key, value.as_str())))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn the child process");
    let stdout = child.stdout.take().expect("piped stdout");
    let spooled = BufReader::new(stdout)
        .lines()
        .map_while(Result::ok)
        .find_map(|line| {
            // The harness prints "test ROLE ... " on the same line.
            let (_, n) = line.split_once("SPOOLED ")?;
            n.trim().parse::<u64>().ok()
        });
    (child, spooled)
}
