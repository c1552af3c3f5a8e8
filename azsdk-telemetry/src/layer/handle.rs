//! The application's handle on a running layer: flush, context updates, counters.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use super::core::LayerCounters;
use crate::config::OptOut;
use crate::context::{AgentInfo, ClientInfo, SharedContext};
use crate::export::{Sink, SinkStats};

/// How long dropping a handle waits for records to be written or sent.
pub const DEFAULT_SHUTDOWN_DEADLINE: Duration = Duration::from_secs(2);

/// Controls a built [`TelemetryLayer`](crate::TelemetryLayer). Dropping it
/// flushes within [`DEFAULT_SHUTDOWN_DEADLINE`]; call
/// [`flush`](Self::flush) to choose the deadline.
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
    state: State,
    context: Arc<SharedContext>,
}

enum State {
    Enabled {
        sink: Arc<dyn Sink>,
        counters: Arc<LayerCounters>,
    },
    Disabled(OptOut),
}

/// What the layer and its sink did so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TelemetryStats {
    /// Framework events the layer turned into records.
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
            .field("stats", &self.stats())
            .finish()
    }
}

impl TelemetryHandle {
    pub(super) fn enabled(
        sink: Arc<dyn Sink>,
        context: Arc<SharedContext>,
        counters: Arc<LayerCounters>,
    ) -> Self {
        TelemetryHandle {
            state: State::Enabled { sink, counters },
            context,
        }
    }

    pub(super) fn disabled(reason: OptOut, context: Arc<SharedContext>) -> Self {
        TelemetryHandle {
            state: State::Disabled(reason),
            context,
        }
    }

    /// Whether telemetry is being collected.
    pub fn is_enabled(&self) -> bool {
        matches!(self.state, State::Enabled { .. })
    }

    /// Why telemetry is off, when it is.
    pub fn opt_out(&self) -> Option<&OptOut> {
        match &self.state {
            State::Disabled(reason) => Some(reason),
            State::Enabled { .. } => None,
        }
    }

    /// Sets the MCP client for every later event (learned at `initialize`).
    pub fn set_client(&self, client: ClientInfo) {
        self.context.update(|ctx| ctx.client = client);
    }

    /// Sets the AI agent for every later event.
    pub fn set_agent(&self, agent: AgentInfo) {
        self.context.update(|ctx| ctx.agent = agent);
    }

    /// Waits until every record emitted so far is written or sent (or put in
    /// the spool), but never longer than `timeout`. Returns whether everything
    /// was flushed in time.
    pub fn flush(&self, timeout: Duration) -> bool {
        match &self.state {
            State::Enabled { sink, .. } => sink.flush(timeout),
            State::Disabled(_) => true,
        }
    }

    /// Counters so far.
    pub fn stats(&self) -> TelemetryStats {
        match &self.state {
            State::Enabled { sink, counters } => TelemetryStats {
                emitted: counters.emitted.load(Ordering::Relaxed),
                tool_calls: counters.tool_calls.load(Ordering::Relaxed),
                sink: sink.stats(),
            },
            State::Disabled(_) => TelemetryStats::default(),
        }
    }
}

impl Drop for TelemetryHandle {
    fn drop(&mut self) {
        self.flush(DEFAULT_SHUTDOWN_DEADLINE);
    }
}
