//! Typed events and the records that carry them through the pipeline.
//!
//! An event ([`ToolExecuted`], [`SystemStarted`], ...) is what a tool or the
//! lifecycle code reports. [`emit`](ToolExecuted::emit) dispatches it as a
//! `tracing` event and hands the typed event to the
//! [`TelemetryLayer`](crate::TelemetryLayer) that the dispatch reaches, which wraps
//! it in a [`PendingRecord`] with the process context. [`PendingRecord::finish`] is
//! the single gate through which user data leaves the process: it scrubs every
//! user-provided value and gives the [`Record`] that sinks store and envelopes are
//! written from.

mod emit;
pub(crate) mod handoff;
mod packed;
mod record;
mod system;
mod tool;

pub(crate) use emit::{dimensions_json, emit_tool};
pub use record::{PendingRecord, Record};
pub use system::{
    SystemConfigured, SystemCrashed, SystemInstalled, SystemStarted, SystemStopped, SystemUpdated,
};
pub use tool::ToolExecuted;
pub(crate) use tool::ToolFields;

use std::time::Duration;

/// The `tracing` target of every event the framework emits. The
/// [`TelemetryLayer`](crate::TelemetryLayer) listens to this target only.
pub const TARGET: &str = "azsdk_telemetry";

/// Any event of the spec.
// Tool calls are nearly every event: boxing them would cost an allocation per call.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// A tool call.
    ToolExecuted(ToolExecuted),
    /// First run on this machine.
    SystemInstalled(SystemInstalled),
    /// Process start.
    SystemStarted(SystemStarted),
    /// Normal process stop.
    SystemStopped(SystemStopped),
    /// Crash.
    SystemCrashed(SystemCrashed),
    /// A setting changed.
    SystemConfigured(SystemConfigured),
    /// A new version since the last run.
    SystemUpdated(SystemUpdated),
}

impl Event {
    /// The event's name: `baseData.name` and the `name` column in Kusto.
    ///
    /// ```
    /// use azsdk_telemetry::{Event, SystemStarted};
    /// assert_eq!(Event::from(SystemStarted::default()).name(), "SystemStarted");
    /// ```
    pub fn name(&self) -> &'static str {
        match self {
            Event::ToolExecuted(_) => ToolExecuted::NAME,
            Event::SystemInstalled(_) => SystemInstalled::NAME,
            Event::SystemStarted(_) => SystemStarted::NAME,
            Event::SystemStopped(_) => SystemStopped::NAME,
            Event::SystemCrashed(_) => SystemCrashed::NAME,
            Event::SystemConfigured(_) => SystemConfigured::NAME,
            Event::SystemUpdated(_) => SystemUpdated::NAME,
        }
    }

    /// The spec's `eventType` of a system event (`install`, `start`, ...); `None` for tool calls.
    pub fn event_type(&self) -> Option<&'static str> {
        match self {
            Event::ToolExecuted(_) => None,
            Event::SystemInstalled(_) => Some("install"),
            Event::SystemStarted(_) => Some("start"),
            Event::SystemStopped(_) => Some("stop"),
            Event::SystemCrashed(_) => Some("crash"),
            Event::SystemConfigured(_) => Some("configure"),
            Event::SystemUpdated(_) => Some("update"),
        }
    }

    /// `baseData.success`: false for failed tool calls and crashes.
    pub fn success(&self) -> bool {
        match self {
            Event::ToolExecuted(tool) => tool.success,
            Event::SystemCrashed(_) => false,
            _ => true,
        }
    }

    /// `baseData.duration`: the call's duration, the start-up time, or the session's length.
    pub fn duration(&self) -> Duration {
        match self {
            Event::ToolExecuted(tool) => tool.duration,
            Event::SystemStarted(start) => start.startup_duration,
            Event::SystemStopped(stop) => stop.session_duration,
            _ => Duration::ZERO,
        }
    }

    /// The tool call, when this is one.
    pub fn as_tool(&self) -> Option<&ToolExecuted> {
        match self {
            Event::ToolExecuted(tool) => Some(tool),
            _ => None,
        }
    }
}

macro_rules! event_from {
    ($($ty:ident),*) => {$(
        impl From<$ty> for Event {
            fn from(event: $ty) -> Self {
                Event::$ty(event)
            }
        }
    )*};
}
event_from!(
    ToolExecuted,
    SystemInstalled,
    SystemStarted,
    SystemStopped,
    SystemCrashed,
    SystemConfigured,
    SystemUpdated
);
