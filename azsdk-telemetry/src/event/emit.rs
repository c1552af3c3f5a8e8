//! Emission: each event kind is one `tracing` callsite with readable, typed fields, and
//! the typed event itself goes to the layer through the [hand-off](super::handoff).
//!
//! Field names are the spec's camelCase keys, so an `fmt` layer shows
//! `toolName="azsdk_run_tests" success=false durationMs=8234.0`.

use std::collections::BTreeMap;
use std::time::Duration;

use tracing::Level;

use super::handoff;
use super::record::Body;
use super::tool::{tool_schema, ToolFields};
use super::{
    Event, SystemConfigured, SystemCrashed, SystemInstalled, SystemStarted, SystemStopped,
    SystemUpdated, ToolExecuted, TARGET,
};

impl ToolExecuted {
    /// Emits this event as a `tracing` event on the framework's target.
    ///
    /// With no [`TelemetryLayer`](crate::TelemetryLayer) installed this costs
    /// what any disabled `tracing` event costs.
    pub fn emit(&self) {
        if !tracing::enabled!(target: TARGET, Level::INFO) {
            return;
        }
        let fields = self.fields();
        let dimensions = dimensions_json(&self.dimensions);
        let dimensions = dimensions.as_deref();
        emit_with(
            || Body::tool(&fields, dimensions),
            || tool_event(&fields, dimensions),
        );
    }
}

/// Dispatches an event: announced with its typed body when this thread's subscriber holds
/// a telemetry layer that is on, otherwise only its `tracing` event, for other layers.
fn emit_with(body: impl FnOnce() -> Body, dispatch: impl FnOnce()) {
    if crate::tool_call::enabled() {
        handoff::announce(body(), dispatch);
    } else {
        dispatch();
    }
}

/// A lifecycle event, announced as itself when a telemetry layer is on.
fn emit_lifecycle<E: Clone + Into<Event>>(event: &E, dispatch: impl FnOnce()) {
    emit_with(|| Body::from(event.clone().into()), dispatch);
}

/// A tool call the calling thread finished (telemetry is on): announced, packed from its
/// borrowed fields. `dimensions` is the custom dimensions' JSON.
pub(crate) fn emit_tool(fields: &ToolFields<'_>, dimensions: Option<&str>) {
    handoff::announce(Body::tool(fields, dimensions), || {
        tool_event(fields, dimensions)
    });
}

/// A duration as fractional milliseconds, exact to the microsecond: how an `fmt` layer
/// shows it.
fn duration_ms(duration: Duration) -> f64 {
    duration.as_micros() as f64 / 1000.0
}

/// Custom dimensions (a map of names to values) as the JSON object the `dimensions` field
/// of a tool call carries; `None` when there are none.
pub(crate) fn dimensions_json<K: AsRef<str>, V: AsRef<str>>(
    dimensions: &BTreeMap<K, V>,
) -> Option<String> {
    let mut json = serde_json::Map::new();
    for (key, value) in dimensions {
        json.insert(key.as_ref().to_owned(), value.as_ref().into());
    }
    (!json.is_empty()).then(|| serde_json::Value::Object(json).to_string())
}

macro_rules! tool_callsite {
    (
        texts { $($text:ident $text_key:literal $scrub:ident,)* }
        flags { $($flag:ident $flag_key:literal,)* }
    ) => {
        /// The one `tracing` callsite of tool calls. `dimensions` is the custom
        /// dimensions' JSON.
        fn tool_event(f: &ToolFields<'_>, dimensions: Option<&str>) {
            tracing::event!(
                name: "ToolExecuted",
                target: TARGET,
                Level::INFO,
                toolName = f.tool_name,
                toolCategory = f.tool_category,
                durationMs = duration_ms(f.duration),
                success = f.success,
                $($text_key = f.$text,)*
                $($flag_key = f.$flag,)*
                dimensions = dimensions,
                "ToolExecuted"
            );
        }
    };
}
tool_schema!(tool_callsite);

impl SystemInstalled {
    /// Emits this event as a `tracing` event on the framework's target.
    pub fn emit(&self) {
        emit_lifecycle(self, || {
            tracing::event!(
                name: "SystemInstalled",
                target: TARGET,
                Level::INFO,
                installMethod = self.install_method.as_deref(),
                "SystemInstalled"
            );
        });
    }
}

impl SystemStarted {
    /// Emits this event as a `tracing` event on the framework's target.
    pub fn emit(&self) {
        emit_lifecycle(self, || {
            tracing::event!(
                name: "SystemStarted",
                target: TARGET,
                Level::INFO,
                durationMs = duration_ms(self.startup_duration),
                "SystemStarted"
            );
        });
    }
}

impl SystemStopped {
    /// Emits this event as a `tracing` event on the framework's target.
    pub fn emit(&self) {
        emit_lifecycle(self, || {
            tracing::event!(
                name: "SystemStopped",
                target: TARGET,
                Level::INFO,
                sessionDuration = duration_ms(self.session_duration),
                toolCallsInSession = self.tool_calls_in_session,
                "SystemStopped"
            );
        });
    }
}

impl SystemCrashed {
    /// Emits this event as a `tracing` event on the framework's target.
    pub fn emit(&self) {
        emit_lifecycle(self, || {
            tracing::event!(
                name: "SystemCrashed",
                target: TARGET,
                Level::INFO,
                crashReason = self.crash_reason.as_str(),
                errorMessage = self.error_message.as_deref(),
                stackTrace = self.stack_trace.as_deref(),
                "SystemCrashed"
            );
        });
    }
}

impl SystemConfigured {
    /// Emits this event as a `tracing` event on the framework's target.
    pub fn emit(&self) {
        emit_lifecycle(self, || {
            tracing::event!(
                name: "SystemConfigured",
                target: TARGET,
                Level::INFO,
                configChanges = self.config_changes.as_str(),
                "SystemConfigured"
            );
        });
    }
}

impl SystemUpdated {
    /// Emits this event as a `tracing` event on the framework's target.
    pub fn emit(&self) {
        emit_lifecycle(self, || {
            tracing::event!(
                name: "SystemUpdated",
                target: TARGET,
                Level::INFO,
                previousVersion = self.previous_version.as_str(),
                updateMethod = self.update_method.as_deref(),
                "SystemUpdated"
            );
        });
    }
}
