//! Shared helpers for the export integration tests.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use azsdk_telemetry::export::{ExportConfig, Exportable, RetryPolicy};
use azsdk_telemetry::ConnectionString;
use azsdk_telemetry_testkit::server::format_time;
use azsdk_telemetry_testkit::IngestionServer;
use serde_json::{json, Value};

/// Stands in for the runtime's record: an id and a success flag.
#[derive(Debug, Clone)]
pub struct TestItem {
    pub id: u64,
    pub failure: bool,
}

impl TestItem {
    pub fn ok(id: u64) -> Self {
        Self { id, failure: false }
    }
}

impl Exportable for TestItem {
    fn is_failure(&self) -> bool {
        self.failure
    }
    fn into_envelope(self, instrumentation_key: &str, sample_rate: f64) -> Value {
        json!({
            "name": "Microsoft.ApplicationInsights.RemoteDependency",
            "time": format_time(SystemTime::now()),
            "iKey": instrumentation_key,
            "sampleRate": sample_rate,
            "tags": { "ai.cloud.role": "export-tests" },
            "data": {
                "baseType": "RemoteDependencyData",
                "baseData": {
                    "ver": 2,
                    "name": "azsdk_test_tool",
                    "duration": "00.00:00:00.012000",
                    "success": !self.failure,
                    "type": "Tool",
                    "properties": { "eventId": self.id.to_string() }
                }
            }
        })
    }
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

/// The `eventId` of an envelope.
pub fn event_id(envelope: &Value) -> u64 {
    envelope["data"]["baseData"]["properties"]["eventId"]
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
