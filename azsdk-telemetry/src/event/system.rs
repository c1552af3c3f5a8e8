//! The lifecycle events of the spec: install, start, stop, crash, configure, update.

use std::time::Duration;

/// `SystemInstalled`: the first run of this application on this machine.
///
/// ```
/// let event = azsdk_telemetry::SystemInstalled { install_method: Some("cargo".into()) };
/// event.emit();
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SystemInstalled {
    /// `installMethod`: `npm`, `brew`, `cargo`, `vscode-extension`, `manual`, ...
    pub install_method: Option<String>,
}

/// `SystemStarted`: the process started; `duration` is the start-up time.
///
/// ```
/// use std::time::Duration;
/// azsdk_telemetry::SystemStarted { startup_duration: Duration::from_millis(450) }.emit();
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SystemStarted {
    /// Time from process start to ready.
    pub startup_duration: Duration,
}

/// `SystemStopped`: the process stopped normally.
///
/// ```
/// use std::time::Duration;
/// azsdk_telemetry::SystemStopped {
///     session_duration: Duration::from_secs(3600),
///     tool_calls_in_session: 12,
/// }
/// .emit();
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SystemStopped {
    /// `sessionDuration` (milliseconds on the wire) and the envelope's `duration`.
    pub session_duration: Duration,
    /// `toolCallsInSession`: tool calls made during this session.
    pub tool_calls_in_session: u64,
}

/// `SystemCrashed`: the process crashed (recorded from the panic hook).
///
/// ```
/// let event = azsdk_telemetry::SystemCrashed {
///     crash_reason: "Panic".into(),
///     error_message: Some("index out of bounds".into()),
///     stack_trace: None,
/// };
/// event.emit();
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SystemCrashed {
    /// `crashReason`: low-cardinality reason, `Panic` or `UnhandledException`.
    pub crash_reason: String,
    /// `errorMessage`: scrubbed, truncated panic message.
    pub error_message: Option<String>,
    /// `stackTrace`: a short, scrubbed stack summary.
    pub stack_trace: Option<String>,
}

/// `SystemConfigured`: the user changed a setting.
///
/// ```
/// let event = azsdk_telemetry::SystemConfigured {
///     config_changes: r#"{"telemetryEnabled":false}"#.into(),
/// };
/// event.emit();
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SystemConfigured {
    /// `configChanges`: a JSON object string of the changed settings.
    pub config_changes: String,
}

/// `SystemUpdated`: this version differs from the one of the last run.
///
/// ```
/// let event = azsdk_telemetry::SystemUpdated {
///     previous_version: "0.5.6.0".into(),
///     update_method: Some("manual".into()),
/// };
/// event.emit();
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SystemUpdated {
    /// `previousVersion`: the version of the last run.
    pub previous_version: String,
    /// `updateMethod`: `automatic` or `manual`.
    pub update_method: Option<String>,
}

impl SystemInstalled {
    /// The event's name on the wire.
    pub const NAME: &'static str = "SystemInstalled";
}
impl SystemStarted {
    /// The event's name on the wire.
    pub const NAME: &'static str = "SystemStarted";
}
impl SystemStopped {
    /// The event's name on the wire.
    pub const NAME: &'static str = "SystemStopped";
}
impl SystemCrashed {
    /// The event's name on the wire.
    pub const NAME: &'static str = "SystemCrashed";
}
impl SystemConfigured {
    /// The event's name on the wire.
    pub const NAME: &'static str = "SystemConfigured";
}
impl SystemUpdated {
    /// The event's name on the wire.
    pub const NAME: &'static str = "SystemUpdated";
}
