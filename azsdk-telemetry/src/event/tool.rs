//! The `ToolExecuted` event: one per call of an instrumented tool.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::time::Duration;

/// One execution of a tool, as the `#[telemetry_tool]` macro records it.
///
/// Every field maps to a `customDimensions` key of the spec (`tool_name` is
/// `toolName`, and so on). Optional fields that are `None` are absent on the
/// wire. Values typed here (booleans, durations) stay typed until the envelope
/// is written, where Application Insights wants strings.
///
/// Tool authors normally never build this by hand; the macro does. It can be
/// emitted directly when a tool is dispatched dynamically:
///
/// ```
/// use std::time::Duration;
/// use azsdk_telemetry::ToolExecuted;
///
/// let event = ToolExecuted {
///     tool_name: "azsdk_run_tests".into(),
///     tool_category: "testing".into(),
///     duration: Duration::from_millis(8234),
///     success: false,
///     error_type: Some("TestFailure".into()),
///     ..ToolExecuted::default()
/// };
/// event.emit(); // a tracing event; reaches Application Insights when a TelemetryLayer is installed
/// ```
// Adding an optional property touches two places: its field here and its line in
// `tool_schema!` below, which every stage that handles properties one by one is generated
// from. A dimension that arguments can promote also takes an arm in `Slot::of`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ToolExecuted {
    /// `toolName`: the tool's name, `azsdk_generate_sdk`. Borrowed when it is a literal
    /// (the macro's case: no allocation per call); `"name".into()` and
    /// `String::into()` both build it.
    pub tool_name: Cow<'static, str>,
    /// `toolCategory`: `generating`, `testing`, `validating`, ... Borrowed like `tool_name`.
    pub tool_category: Cow<'static, str>,
    /// The call's duration, measured on a monotonic clock.
    pub duration: Duration,
    /// Whether the call succeeded.
    pub success: bool,
    /// `toolArgs`: the allowlisted arguments as a JSON object string.
    pub tool_args: Option<String>,
    /// `toolResponse`: a short summary of the result, when the return type opts in.
    pub tool_response: Option<String>,
    /// `language`: SDK language, promoted from the arguments.
    pub language: Option<String>,
    /// `planeType`: `data` or `mgmt`.
    pub plane_type: Option<String>,
    /// `serviceName`: the Azure service, `storage`.
    pub service_name: Option<String>,
    /// `isCustomSdk`: whether the SDK has hand-written customizations.
    pub is_custom_sdk: Option<bool>,
    /// `errorType`: low-cardinality error class, `ValidationError`.
    pub error_type: Option<String>,
    /// `errorMessage`: scrubbed and truncated error message.
    pub error_message: Option<String>,
    /// `executionMode`: `direct` (CLI) or `agent-invoked` (MCP).
    pub execution_mode: Option<String>,
    /// Further top-level dimensions promoted from the arguments
    /// (`#[telemetry(allow, dimension = "name")]` with a name the spec does not list).
    pub dimensions: BTreeMap<String, String>,
}

impl ToolExecuted {
    /// The event's name: `baseData.name` on the wire.
    pub const NAME: &'static str = "ToolExecuted";

    /// Sets a promoted dimension by its wire name: the spec's own dimensions
    /// (`language`, `planeType`, `serviceName`, `isCustomSdk`, `executionMode`)
    /// land in their typed fields, any other name in [`ToolExecuted::dimensions`].
    ///
    /// ```
    /// let mut event = azsdk_telemetry::ToolExecuted::default();
    /// event.set_dimension("language", ".NET");
    /// event.set_dimension("isCustomSdk", "true");
    /// event.set_dimension("team", "storage-sdk");
    /// assert_eq!(event.language.as_deref(), Some(".NET"));
    /// assert_eq!(event.is_custom_sdk, Some(true));
    /// assert_eq!(event.dimensions["team"], "storage-sdk");
    /// ```
    pub fn set_dimension(&mut self, name: &str, value: impl Into<String>) {
        let value = value.into();
        match Slot::of(name, &value) {
            Slot::Language => self.language = Some(value),
            Slot::PlaneType => self.plane_type = Some(value),
            Slot::ServiceName => self.service_name = Some(value),
            Slot::ExecutionMode => self.execution_mode = Some(value),
            Slot::IsCustomSdk(flag) => self.is_custom_sdk = Some(flag),
            Slot::Custom => {
                self.dimensions.insert(name.to_owned(), value);
            }
        }
    }
}

/// Where a promoted dimension lands: one of the spec's typed fields, or the custom map.
enum Slot {
    Language,
    PlaneType,
    ServiceName,
    ExecutionMode,
    IsCustomSdk(bool),
    Custom,
}

impl Slot {
    fn of(name: &str, value: &str) -> Slot {
        match name {
            "language" => Slot::Language,
            "planeType" => Slot::PlaneType,
            "serviceName" => Slot::ServiceName,
            "executionMode" => Slot::ExecutionMode,
            "isCustomSdk" => {
                crate::config::parse_bool(value).map_or(Slot::Custom, Slot::IsCustomSdk)
            }
            _ => Slot::Custom,
        }
    }
}

/// The schema of [`ToolExecuted`]'s optional properties, in wire order, one line each:
/// the field, its `customDimensions` key and how [`PendingRecord::finish`] scrubs it:
/// `json` (the string values of a JSON object), `message` (cut to 1 KB), `plain`, or
/// `kept` (a value the framework sets, never the user's text). Texts are `Option<String>`,
/// flags `Option<bool>`.
///
/// It calls `$then!` with the lists; each stage that handles properties one by one is
/// generated from it: [`ToolFields`] and [`ToolExecuted::fields`] (here), the `tracing`
/// callsite (`emit.rs`), the packed record the layer is handed (`packed.rs`), the
/// properties and the scrub (`record.rs`).
///
/// [`PendingRecord::finish`]: crate::PendingRecord::finish
macro_rules! tool_schema {
    ($then:ident) => {
        $then! {
            texts {
                tool_args "toolArgs" json,
                tool_response "toolResponse" plain,
                language "language" plain,
                plane_type "planeType" plain,
                service_name "serviceName" plain,
                error_type "errorType" kept,
                error_message "errorMessage" message,
                execution_mode "executionMode" kept,
            }
            flags {
                is_custom_sdk "isCustomSdk",
            }
        }
    };
}
pub(crate) use tool_schema;

macro_rules! borrowed_fields {
    (
        texts { $($text:ident $text_key:literal $scrub:ident,)* }
        flags { $($flag:ident $flag_key:literal,)* }
    ) => {
        /// A tool call's fields, borrowed: what its `tracing` event and its packed record
        /// are made from. The calling thread fills it from the recorder without
        /// allocating.
        #[derive(Debug, Default, Clone, Copy)]
        pub(crate) struct ToolFields<'a> {
            pub tool_name: &'a str,
            pub tool_category: &'a str,
            pub duration: Duration,
            pub success: bool,
            $(pub $text: Option<&'a str>,)*
            $(pub $flag: Option<bool>,)*
        }

        impl ToolExecuted {
            /// This event's fields, borrowed.
            pub(crate) fn fields(&self) -> ToolFields<'_> {
                ToolFields {
                    tool_name: &self.tool_name,
                    tool_category: &self.tool_category,
                    duration: self.duration,
                    success: self.success,
                    $($text: self.$text.as_deref(),)*
                    $($flag: self.$flag,)*
                }
            }
        }
    };
}
tool_schema!(borrowed_fields);

impl<'a> ToolFields<'a> {
    /// Sets a promoted dimension as [`ToolExecuted::set_dimension`] does; returns `false`
    /// (and sets nothing) for a custom dimension, which has no borrowed slot.
    pub(crate) fn set_dimension(&mut self, name: &str, value: &'a str) -> bool {
        match Slot::of(name, value) {
            Slot::Language => self.language = Some(value),
            Slot::PlaneType => self.plane_type = Some(value),
            Slot::ServiceName => self.service_name = Some(value),
            Slot::ExecutionMode => self.execution_mode = Some(value),
            Slot::IsCustomSdk(flag) => self.is_custom_sdk = Some(flag),
            Slot::Custom => return false,
        }
        true
    }
}
