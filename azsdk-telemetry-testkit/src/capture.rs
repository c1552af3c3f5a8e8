//! Scoped capture of the telemetry a test emits.

use std::time::Duration;

use azsdk_telemetry::MemorySink;
use azsdk_telemetry::{Record, TelemetryHandle, TelemetryLayer};
use serde_json::Value;
use tracing::dispatcher::{self, DefaultGuard, Dispatch};
use tracing_subscriber::layer::SubscriberExt;

/// Session id of every captured record, so snapshots are stable.
pub const CAPTURE_SESSION_ID: &str = "00000000-0000-4000-8000-000000000000";
/// `version` of every captured record.
pub const CAPTURE_APP_VERSION: &str = "0.0.0-test";

/// Starts capturing the telemetry emitted on this thread, and in futures
/// polled on it, until the returned guard is dropped.
///
/// Each capture has its own subscriber, set as this thread's default, so
/// tests running in parallel never see each other's events. Capture reads
/// nothing from the environment (a developer's `DO_NOT_TRACK=1` does not
/// empty it) and writes nothing anywhere: records stay in memory. It records
/// no lifecycle events of its own and installs no panic hook, so what it
/// holds is exactly what the code under test emitted.
///
/// ```
/// use azsdk_telemetry::ToolExecuted;
///
/// let capture = azsdk_telemetry_testkit::capture();
/// ToolExecuted { tool_name: "azsdk_verify_setup".into(), success: true, ..Default::default() }.emit();
/// let events = capture.events();
/// assert_eq!(events.len(), 1);
/// assert_eq!(events[0].name(), "ToolExecuted");
/// let envelope = &capture.envelopes()[0];
/// assert_eq!(envelope["data"]["baseData"]["properties"]["toolName"], "azsdk_verify_setup");
/// ```
///
/// # Under `#[tokio::test]`
///
/// Both flavours run the test's body on the test's own thread
/// (`block_on`), so everything awaited in the body is captured:
///
/// ```
/// # use azsdk_telemetry::ToolExecuted;
/// # async fn my_tool() { ToolExecuted::default().emit() }
/// #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
/// async fn my_tool_reports_itself() {
///     let capture = azsdk_telemetry_testkit::capture();
///     my_tool().await;
///     assert_eq!(capture.events().len(), 1);
/// }
/// ```
///
/// A task handed to `tokio::spawn` runs on a worker thread; carry the
/// capture's subscriber into it with [`Capture::dispatch`] and
/// `tracing::instrument::WithSubscriber`:
///
/// ```
/// # use azsdk_telemetry::ToolExecuted;
/// use tracing::instrument::WithSubscriber;
/// # #[tokio::main(flavor = "multi_thread", worker_threads = 2)]
/// # async fn main() {
/// let capture = azsdk_telemetry_testkit::capture();
/// let task = async { ToolExecuted::default().emit() };
/// tokio::spawn(task.with_subscriber(capture.dispatch().clone())).await.unwrap();
/// assert_eq!(capture.events().len(), 1);
/// # }
/// ```
pub fn capture() -> Capture {
    let sink = MemorySink::new();
    let (layer, handle) = TelemetryLayer::builder()
        .ignore_environment()
        .lifecycle_events(false)
        .crash_reporting(false)
        .first_run_notice(false)
        .app_name("azsdk-telemetry-testkit")
        .app_version(CAPTURE_APP_VERSION)
        .session_id(CAPTURE_SESSION_ID)
        .sink(sink.clone())
        .build()
        .expect("an in-memory capture needs nothing from the environment");
    let dispatch = Dispatch::new(tracing_subscriber::registry().with(layer));
    let guard = dispatcher::set_default(&dispatch);
    Capture {
        sink,
        handle,
        dispatch,
        _guard: guard,
    }
}

/// The guard returned by [`capture`]: read what was emitted while it lives.
#[must_use = "capturing stops when the guard is dropped"]
pub struct Capture {
    sink: MemorySink,
    handle: TelemetryHandle,
    dispatch: Dispatch,
    _guard: DefaultGuard,
}

impl std::fmt::Debug for Capture {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Capture")
            .field("records", &self.sink.records().len())
            .finish_non_exhaustive()
    }
}

impl Capture {
    /// The typed records emitted so far, scrubbed, in order.
    pub fn events(&self) -> Vec<Record> {
        self.sink.records()
    }

    /// The envelopes emitted so far, exactly as they would be sent.
    pub fn envelopes(&self) -> Vec<Value> {
        self.sink.envelopes()
    }

    /// Forgets what was captured so far.
    pub fn clear(&self) {
        self.sink.clear();
    }

    /// The capture's subscriber, to carry into spawned tasks or other threads.
    pub fn dispatch(&self) -> &Dispatch {
        &self.dispatch
    }

    /// The handle of the capture's layer: set the MCP client or agent as an
    /// application would.
    pub fn handle(&self) -> &TelemetryHandle {
        &self.handle
    }
}

/// Runs `f` while capturing on this thread, then returns its result and what was captured.
///
/// ```
/// let (value, events) = azsdk_telemetry_testkit::captured(|| 40 + 2);
/// assert_eq!(value, 42);
/// assert!(events.is_empty());
/// ```
pub fn captured<T>(f: impl FnOnce() -> T) -> (T, Vec<Record>) {
    let capture = capture();
    let value = f();
    capture.handle.flush(Duration::from_secs(1));
    (value, capture.events())
}
