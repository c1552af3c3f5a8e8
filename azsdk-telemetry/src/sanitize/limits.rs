//! Size limits applied to everything that is recorded.

/// Error messages, crash reasons and tool responses are cut to this many bytes (on a UTF-8
/// boundary) after scrubbing.
pub(crate) const ERROR_MESSAGE_MAX_BYTES: usize = 1024;

/// Any property value is cut to this many characters (the Application Insights limit).
pub(crate) const PROPERTY_VALUE_MAX_CHARS: usize = 8192;

/// Any property key is cut to this many characters (the Application Insights limit).
pub(crate) const PROPERTY_KEY_MAX_CHARS: usize = 150;

/// Bound on the whole `toolArgs` JSON object string: the
/// [`ArgsRecorder`](crate::ArgsRecorder) leaves out keys that would not fit
/// and adds `"_truncated": true`.
pub(crate) const TOOL_ARGS_MAX_BYTES: usize = 8192;

/// Deepest nesting of objects in `toolArgs` (a nested `TelemetryArgs` value is one level):
/// deeper values are left out and `"_truncated": true` is added where they would be. Keeps
/// recording's recursion shallow whatever the value (a recursive type of any depth), and the
/// JSON within what common parsers accept (`serde_json` refuses more than 128 levels).
pub(crate) const TOOL_ARGS_MAX_DEPTH: usize = 32;
