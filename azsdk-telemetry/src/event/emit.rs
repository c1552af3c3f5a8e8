//! Emission: each event kind is one `tracing` callsite with readable, typed fields.
//!
//! Field names are the spec's camelCase keys, so an `fmt` layer shows
//! `toolName="azsdk_run_tests" success=false durationMs=8234.0`, and
//! [`fields`](super::fields) reads them back without losing types.

use std::collections::BTreeMap;

use tracing::Level;

use super::tool::{tool_schema, ToolFields};
use super::{
    SystemConfigured, SystemCrashed, SystemInstalled, SystemStarted, SystemStopped, SystemUpdated,
    ToolExecuted, TARGET,
};
use crate::event::fields::duration_ms;

impl ToolExecuted {
    /// Emits this event as a `tracing` event on the framework's target.
    ///
    /// With no [`TelemetryLayer`](crate::TelemetryLayer) installed this costs
    /// what any disabled `tracing` event costs.
    pub fn emit(&self) {
        emit_tool(&self.fields(), self.custom_dimensions_json().as_deref());
    }

    /// The custom dimensions as the JSON object the `dimensions` field carries, if any.
    fn custom_dimensions_json(&self) -> Option<String> {
        dimensions_json(&self.dimensions)
    }
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
        pub(crate) fn emit_tool(f: &ToolFields<'_>, dimensions: Option<&str>) {
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
        tracing::event!(
            name: "SystemInstalled",
            target: TARGET,
            Level::INFO,
            installMethod = self.install_method.as_deref(),
            "SystemInstalled"
        );
    }
}

impl SystemStarted {
    /// Emits this event as a `tracing` event on the framework's target.
    pub fn emit(&self) {
        tracing::event!(
            name: "SystemStarted",
            target: TARGET,
            Level::INFO,
            durationMs = duration_ms(self.startup_duration),
            "SystemStarted"
        );
    }
}

impl SystemStopped {
    /// Emits this event as a `tracing` event on the framework's target.
    pub fn emit(&self) {
        tracing::event!(
            name: "SystemStopped",
            target: TARGET,
            Level::INFO,
            sessionDuration = duration_ms(self.session_duration),
            toolCallsInSession = self.tool_calls_in_session,
            "SystemStopped"
        );
    }
}

impl SystemCrashed {
    /// Emits this event as a `tracing` event on the framework's target.
    pub fn emit(&self) {
        tracing::event!(
            name: "SystemCrashed",
            target: TARGET,
            Level::INFO,
            crashReason = self.crash_reason.as_str(),
            errorMessage = self.error_message.as_deref(),
            stackTrace = self.stack_trace.as_deref(),
            "SystemCrashed"
        );
    }
}

impl SystemConfigured {
    /// Emits this event as a `tracing` event on the framework's target.
    pub fn emit(&self) {
        tracing::event!(
            name: "SystemConfigured",
            target: TARGET,
            Level::INFO,
            configChanges = self.config_changes.as_str(),
            "SystemConfigured"
        );
    }
}

impl SystemUpdated {
    /// Emits this event as a `tracing` event on the framework's target.
    pub fn emit(&self) {
        tracing::event!(
            name: "SystemUpdated",
            target: TARGET,
            Level::INFO,
            previousVersion = self.previous_version.as_str(),
            updateMethod = self.update_method.as_deref(),
            "SystemUpdated"
        );
    }
}
