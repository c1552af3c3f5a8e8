//! Size limits applied to everything that is recorded.
//!
//! ```
//! use azsdk_telemetry::sanitize::limits;
//! assert_eq!(limits::ERROR_MESSAGE_MAX_BYTES, 1024);
//! assert!(limits::PROPERTY_KEY_MAX_CHARS < limits::PROPERTY_VALUE_MAX_CHARS);
//! ```

/// Error messages, crash reasons and tool responses are cut to this many bytes (on a UTF-8
/// boundary) after scrubbing.
///
/// ```
/// use azsdk_telemetry::sanitize::{limits::ERROR_MESSAGE_MAX_BYTES, scrub_limited};
/// let long = "x".repeat(5000);
/// assert_eq!(scrub_limited(&long, ERROR_MESSAGE_MAX_BYTES).len(), 1024);
/// ```
pub const ERROR_MESSAGE_MAX_BYTES: usize = 1024;

/// Any property value is cut to this many characters (the Application Insights limit).
///
/// ```
/// use azsdk_telemetry::sanitize::{limits::PROPERTY_VALUE_MAX_CHARS, truncate_chars};
/// let v = "é".repeat(9000);
/// assert_eq!(truncate_chars(&v, PROPERTY_VALUE_MAX_CHARS).chars().count(), 8192);
/// ```
pub const PROPERTY_VALUE_MAX_CHARS: usize = 8192;

/// Any property key is cut to this many characters (the Application Insights limit).
///
/// ```
/// use azsdk_telemetry::sanitize::{limits::PROPERTY_KEY_MAX_CHARS, truncate_chars};
/// assert_eq!(truncate_chars(&"k".repeat(200), PROPERTY_KEY_MAX_CHARS).len(), 150);
/// ```
pub const PROPERTY_KEY_MAX_CHARS: usize = 150;

/// Bound on the whole `toolArgs` JSON object string: the
/// [`ArgsRecorder`](crate::ArgsRecorder) leaves out keys that would not fit
/// and adds `"_truncated": true`.
///
/// ```
/// use azsdk_telemetry::{sanitize::limits::TOOL_ARGS_MAX_BYTES, ArgsRecorder};
/// let mut recorder = ArgsRecorder::new();
/// let big = "v".repeat(3000);
/// for key in ["a", "b", "c", "d"] {
///     recorder.allow(key, &big);
/// }
/// assert!(recorder.json().len() <= TOOL_ARGS_MAX_BYTES);
/// ```
pub const TOOL_ARGS_MAX_BYTES: usize = 8192;

/// Deepest nesting of objects in `toolArgs` (a nested `TelemetryArgs` value is one level):
/// deeper values are left out and `"_truncated": true` is added where they would be. Keeps
/// recording's recursion shallow whatever the value (a recursive type of any depth), and the
/// JSON within what common parsers accept (`serde_json` refuses more than 128 levels).
///
/// ```
/// use azsdk_telemetry::{sanitize::limits::TOOL_ARGS_MAX_DEPTH, ArgsRecorder, TelemetryArgs};
/// struct Node(Option<Box<Node>>);
/// impl TelemetryArgs for Node {
///     fn record_args(&self, recorder: &mut ArgsRecorder) {
///         recorder.allow("leaf", &true);
///         if let Some(child) = &self.0 {
///             recorder.nested("child", child);
///         }
///     }
/// }
/// let mut node = Node(None);
/// for _ in 0..1000 {
///     node = Node(Some(Box::new(node)));
/// }
/// let mut recorder = ArgsRecorder::new();
/// node.record_args(&mut recorder);
/// let json: serde_json::Value = serde_json::from_str(&recorder.json()).unwrap();
/// assert!(recorder.json().matches('{').count() <= TOOL_ARGS_MAX_DEPTH + 1);
/// # let _ = json;
/// # let mut node = node; while let Some(child) = node.0.take() { node = *child; }
/// ```
pub const TOOL_ARGS_MAX_DEPTH: usize = 32;
