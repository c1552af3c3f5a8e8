//! # azsdk-telemetry
//!
//! Exact, privacy-safe usage telemetry for tools (MCP servers, CLIs,
//! services), delivered to Azure Application Insights.
//!
//! A tool author annotates functions; each call emits one typed
//! [`ToolExecuted`] event through `tracing`. The [`TelemetryLayer`] enriches
//! events with the process context (session, device, platform, MCP client
//! and agent) and hands them to a sink: Application Insights, a JSONL file,
//! or memory in tests. Nothing is recorded unless an annotation allows it,
//! every recorded value is scrubbed, and opting out
//! (`AZSDK_TELEMETRY_ENABLED=false`, `DO_NOT_TRACK=1`) stops everything
//! before it is collected.
//!
//! The flow, one direction: tool fn → typed event → `tracing` event →
//! [`TelemetryLayer`] → [`PendingRecord`] → sink → [`Record`] → envelope.

#![deny(missing_docs, unreachable_pub, unsafe_code)]

mod args;
mod classify;
mod config;
mod context;
mod event;
mod export;
mod files;
#[cfg(fuzzing)]
pub mod fuzzing;
mod layer;
mod lifecycle;
pub mod manifest;
#[cfg(feature = "rmcp")]
pub mod mcp;
mod response;
mod sanitize;
mod sink;
mod tool_call;

#[doc(hidden)]
#[path = "private.rs"]
pub mod __private;

pub use args::{ArgInteger, ArgValue, ArgWriter, ArgsRecorder, TelemetryArgs};
pub use azsdk_telemetry_macros::{telemetry_tool, TelemetryArgs, TelemetryError};
pub use classify::{Classification, TelemetryError};
pub use config::{OptOut, SettingError, ENV_CONNECTION_STRING};
pub use context::{
    mac_address_hash, sha256_hex, AgentInfo, ClientInfo, ContextSnapshot, Platform,
    EXECUTION_AGENT_INVOKED, EXECUTION_DIRECT,
};
pub use event::{
    Event, PendingRecord, Record, SystemConfigured, SystemCrashed, SystemInstalled, SystemStarted,
    SystemStopped, SystemUpdated, ToolExecuted, TARGET,
};
pub use export::{
    ConnectionString, ConnectionStringError, DropStats, EnvelopeLog, ExportConfig, ExportError,
    ExportStats, LastSend, RetryPolicy, SpoolStats,
};
pub use layer::{
    BuildError, Destination, LastSendStatus, SpoolStatus, StatusCounters, TelemetryBuilder,
    TelemetryHandle, TelemetryLayer, TelemetryStats, TelemetryStatus, CI_EXIT_BUDGET,
    CLI_EXIT_BUDGET, DEFAULT_SHUTDOWN_DEADLINE,
};
pub use lifecycle::SessionKind;
pub use manifest::manifest;
pub use response::ToolResponse;
#[cfg(feature = "rmcp")]
pub use response::MCP_TOOL_ERROR;
pub use sink::{HttpSink, JsonlSink, MemorySink, Sink, SinkStats};

/// A variable lookup over fixed pairs, for tests of environment-driven decisions.
#[cfg(test)]
pub(crate) fn test_env(
    pairs: &'static [(&'static str, &'static str)],
) -> impl Fn(&str) -> Option<String> {
    move |name| {
        pairs
            .iter()
            .find(|(key, _)| *key == name)
            .map(|(_, value)| (*value).to_owned())
    }
}
