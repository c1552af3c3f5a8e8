//! The application's handle on a running layer: flush, shutdown, context
//! updates, settings, counters.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use super::core::LayerCounters;
use super::filter::OwnEvents;
use crate::config::{self, OptOut, SettingError, Settings};
use crate::context::{AgentInfo, ClientInfo, SharedContext};
use crate::event::{Event, PendingRecord, SystemConfigured};
use crate::lifecycle::Lifecycle;
use crate::sink::{Sink, SinkStats};

/// The exit budget of a service or MCP server (a process with
/// [`SessionKind::Process`](crate::lifecycle::SessionKind) sessions, the default): how long
/// dropping its handle waits for records to be written or sent.
pub const DEFAULT_SHUTDOWN_DEADLINE: Duration = Duration::from_secs(2);
/// The exit budget of an interactive CLI command ([`SessionKind::cli`]): what telemetry may
/// add to a command at exit on any network. What is not acknowledged by then is spooled.
///
/// [`SessionKind::cli`]: crate::lifecycle::SessionKind::cli
pub const CLI_EXIT_BUDGET: Duration = Duration::from_millis(250);
/// The exit budget of a CLI command that runs in CI (the `CI` variable or a known CI system's own):
/// a job can wait a few seconds for its events.
pub const CI_EXIT_BUDGET: Duration = Duration::from_secs(5);

/// Controls a built [`TelemetryLayer`](crate::TelemetryLayer). Dropping it
/// records `SystemStopped` (when lifecycle events are on) and flushes within
/// [`DEFAULT_SHUTDOWN_DEADLINE`]; [`shutdown`](Self::shutdown) chooses the
/// deadline.
///
/// ```
/// use std::time::Duration;
/// use azsdk_telemetry::{AgentInfo, ClientInfo, TelemetryLayer};
/// # let dir = tempfile::tempdir().unwrap();
/// let (_layer, handle) = TelemetryLayer::builder()
///     .jsonl_path(dir.path().join("t.jsonl"))
///     .build::<tracing_subscriber::Registry>()?;
/// // An MCP server learns its client at `initialize`:
/// handle.set_client(ClientInfo::new("Visual Studio Code", "1.100.1"));
/// handle.set_agent(AgentInfo::new("GitHub Copilot").model("gpt-4"));
/// assert!(handle.flush(Duration::from_secs(1)));
/// # Ok::<(), azsdk_telemetry::BuildError>(())
/// ```
pub struct TelemetryHandle {
    context: Arc<SharedContext>,
    state_dir: Option<PathBuf>,
    active: Option<Active>,
    opt_out: Option<OptOut>,
    /// What [`status`](Self::status) reports besides the counters.
    pub(super) status: super::status::StatusInfo,
    /// How long dropping the handle may wait.
    exit_budget: Duration,
}

struct Active {
    sink: Arc<dyn Sink>,
    counters: Arc<LayerCounters>,
    switch: OwnEvents,
    lifecycle: Lifecycle,
    stopped: AtomicBool,
}

/// What the layer and its sink did so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TelemetryStats {
    /// Events turned into records: tool calls, lifecycle events, configuration events.
    pub emitted: u64,
    /// Of those, tool calls.
    pub tool_calls: u64,
    /// What the sink did with them.
    pub sink: SinkStats,
}

impl std::fmt::Debug for TelemetryHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TelemetryHandle")
            .field("enabled", &self.is_enabled())
            .field("opt_out", &self.opt_out)
            .field("stats", &self.stats())
            .finish()
    }
}

impl TelemetryHandle {
    pub(super) fn enabled(
        sink: Arc<dyn Sink>,
        context: Arc<SharedContext>,
        counters: Arc<LayerCounters>,
        switch: OwnEvents,
        lifecycle: Lifecycle,
        state_dir: Option<PathBuf>,
    ) -> Self {
        TelemetryHandle {
            context,
            state_dir,
            active: Some(Active {
                sink,
                counters,
                switch,
                lifecycle,
                stopped: AtomicBool::new(false),
            }),
            opt_out: None,
            status: Default::default(),
            exit_budget: DEFAULT_SHUTDOWN_DEADLINE,
        }
    }

    pub(super) fn disabled(
        reason: OptOut,
        context: Arc<SharedContext>,
        state_dir: Option<PathBuf>,
    ) -> Self {
        TelemetryHandle {
            context,
            state_dir,
            active: None,
            opt_out: Some(reason),
            status: Default::default(),
            exit_budget: DEFAULT_SHUTDOWN_DEADLINE,
        }
    }

    pub(super) fn with_status(mut self, status: super::status::StatusInfo) -> Self {
        self.status = status;
        self
    }

    pub(super) fn with_exit_budget(mut self, budget: Duration) -> Self {
        self.exit_budget = budget;
        self
    }

    /// How long dropping this handle (or [`close`](Self::close)) waits for its records:
    /// [`TelemetryBuilder::exit_budget`](crate::TelemetryBuilder::exit_budget), or the
    /// default of the process's kind ([`CLI_EXIT_BUDGET`], [`CI_EXIT_BUDGET`],
    /// [`DEFAULT_SHUTDOWN_DEADLINE`]).
    pub fn exit_budget(&self) -> Duration {
        self.exit_budget
    }

    /// Shuts down within the [exit budget](Self::exit_budget), as dropping the handle
    /// does: what the exit is left to do is written to the spool, not waited for. Returns
    /// whether everything was sent or stored in time.
    ///
    /// ```
    /// # let dir = tempfile::tempdir().unwrap();
    /// let (_layer, handle) = azsdk_telemetry::TelemetryLayer::builder()
    ///     .jsonl_path(dir.path().join("t.jsonl"))
    ///     .session(azsdk_telemetry::SessionKind::cli())
    ///     .ignore_environment()
    ///     .build::<tracing_subscriber::Registry>()?;
    /// assert_eq!(handle.exit_budget(), azsdk_telemetry::CLI_EXIT_BUDGET);
    /// assert!(handle.close());
    /// # Ok::<(), azsdk_telemetry::BuildError>(())
    /// ```
    pub fn close(self) -> bool {
        self.stop(self.exit_budget)
    }

    /// Whether telemetry is being collected.
    pub fn is_enabled(&self) -> bool {
        self.active.is_some() && self.opt_out.is_none()
    }

    /// Why telemetry is off, when it is.
    pub fn opt_out(&self) -> Option<&OptOut> {
        self.opt_out.as_ref()
    }

    /// The session id of every event.
    pub fn session_id(&self) -> String {
        self.context.snapshot().session_id.clone()
    }

    /// Sets the MCP client for every later event (learned at `initialize`). When
    /// neither [`TelemetryBuilder::platform`](crate::TelemetryBuilder::platform) nor the
    /// environment named the platform, the client names it ([`Platform::of_client`](crate::Platform::of_client)):
    /// `claude-ai` is `ClaudeDesktop`.
    pub fn set_client(&self, client: ClientInfo) {
        self.context.set_client(client);
    }

    /// Sets the AI agent for every later event.
    pub fn set_agent(&self, agent: AgentInfo) {
        self.context.update(|ctx| ctx.agent = agent);
    }

    /// Records an event directly, without going through `tracing`: for
    /// events the application reports about itself from code that may run
    /// outside the subscriber (start-up, shutdown, settings).
    pub fn record(&self, event: impl Into<Event>) {
        if let (Some(active), None) = (&self.active, &self.opt_out) {
            let record = PendingRecord::new(event.into(), &self.context);
            active.counters.count(&record);
            active.sink.accept(record);
        }
    }

    /// Changes a setting the way `azsdk config set KEY VALUE` would: stores
    /// it in the per-user settings file and records one `SystemConfigured`
    /// with the change (`{"telemetryEnabled":false}`; a setting not declared safe in
    /// the framework's list of safe settings is recorded without its value: `{"githubToken":"[CHANGED]"}`).
    /// Turning telemetry off
    /// records that event, flushes it, and then goes silent for good: later
    /// runs read the setting and collect nothing. Turning it back on takes
    /// effect at the next start.
    ///
    /// ```
    /// use azsdk_telemetry::TelemetryLayer;
    /// # let dir = tempfile::tempdir().unwrap();
    /// let (_layer, mut handle) = TelemetryLayer::builder()
    ///     .state_dir(dir.path())
    ///     .first_run_notice(false)
    ///     .build::<tracing_subscriber::Registry>()?;
    /// handle.configure("telemetry.enabled", "false")?;
    /// assert!(!handle.is_enabled());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// [`SettingError`] for an unknown key shape, a bad value, no state
    /// directory, or a settings file that cannot be written.
    pub fn configure(&mut self, key: &str, value: &str) -> Result<(), SettingError> {
        let dir = self
            .state_dir
            .as_ref()
            .ok_or(SettingError::NoStateDirectory)?;
        let mut settings = Settings::load(dir);
        let parsed = settings.set(key, value)?;
        let turning_off =
            key == config::SETTING_TELEMETRY_ENABLED && parsed == serde_json::Value::Bool(false);
        if turning_off {
            self.context.update(|ctx| ctx.is_opted_in = false);
        }
        // The key is the user's text too: scrubbed like any; the value only for a safe setting.
        let mut changes = serde_json::Map::new();
        let name = crate::sanitize::scrub(&config::camel_key(key)).into_owned();
        changes.insert(name, config::recorded_value(key, &parsed));
        self.record(SystemConfigured {
            config_changes: serde_json::Value::Object(changes).to_string(),
        });
        settings.save()?;
        if turning_off {
            if let Some(active) = &self.active {
                active.sink.flush(self.exit_budget);
                active.switch.turn_off();
            }
            self.opt_out = Some(OptOut::Settings);
        }
        Ok(())
    }

    /// Waits until every record emitted so far is written or sent (or put in
    /// the spool), but never longer than `timeout`. Returns whether everything
    /// was flushed in time.
    pub fn flush(&self, timeout: Duration) -> bool {
        match &self.active {
            Some(active) => active.sink.flush(timeout),
            None => true,
        }
    }

    /// Records `SystemStopped` (once), flushes within `timeout` and stops
    /// the sink. Returns whether everything was flushed in time. The
    /// counters ([`stats`](Self::stats), [`export_stats`](Self::export_stats))
    /// stay readable afterwards; dropping the handle then does nothing more.
    pub fn shutdown(&self, timeout: Duration) -> bool {
        self.stop(timeout)
    }

    fn stop(&self, timeout: Duration) -> bool {
        let Some(active) = &self.active else {
            return true;
        };
        if active.stopped.swap(true, Ordering::SeqCst) {
            return true;
        }
        if self.opt_out.is_none() {
            let calls = active.counters.tool_calls.load(Ordering::Relaxed);
            if let Some(stopped) = active.lifecycle.stop(calls, self.context.now()) {
                self.record(stopped);
            }
        }
        active.sink.shutdown(timeout)
    }

    /// The exporter's detailed counters (sent, retried, spooled, dropped by
    /// reason) when telemetry goes to Application Insights.
    pub fn export_stats(&self) -> Option<crate::export::ExportStats> {
        self.active.as_ref()?.sink.export_stats()
    }

    /// Counters so far.
    pub fn stats(&self) -> TelemetryStats {
        match &self.active {
            Some(active) => TelemetryStats {
                emitted: active.counters.emitted(),
                tool_calls: active.counters.tool_calls.load(Ordering::Relaxed),
                sink: active.sink.stats(),
            },
            None => TelemetryStats::default(),
        }
    }
}

impl Drop for TelemetryHandle {
    fn drop(&mut self) {
        self.stop(self.exit_budget);
    }
}
