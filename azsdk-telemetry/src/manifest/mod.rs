//! What a tool collects, read from its annotations: the manifest.
//!
//! Every `#[telemetry_tool]` linked into the binary registers itself at link
//! time (through `inventory`) with what its arguments record and which
//! `errorType` values it can produce. [`manifest()`] gathers them, sorted,
//! beside the properties every event carries and the lifecycle events. A
//! field without an annotation is never recorded, so it appears nowhere, not
//! even by name.
//!
//! ```
//! use azsdk_telemetry::{telemetry_tool, TelemetryArgs};
//!
//! #[derive(TelemetryArgs)]
//! struct Args {
//!     #[telemetry(allow, dimension = "language")]
//!     language: String,
//!     api_key: String, // not annotated: not in the manifest either
//! }
//!
//! #[telemetry_tool(category = "generating", name = "doc_generate")]
//! fn generate(args: Args) -> Result<(), String> {
//!     let _ = (args.language, args.api_key);
//!     Ok(())
//! }
//!
//! let manifest = azsdk_telemetry::manifest();
//! let tool = manifest.tool("doc_generate").unwrap();
//! assert_eq!(tool.category, "generating");
//! assert_eq!(tool.fields[0].key, "language");
//! assert!(!manifest.to_json().contains("apiKey"));
//! ```

mod common;
mod describe;
#[doc(hidden)]
pub use describe::{probe as __probe, ToolEntry as __ToolEntry};
mod markdown;

use serde::Serialize;

pub use common::{EventManifest, PropertyManifest};
pub use describe::{ArgsDescriber, DescribeArgs, DescribeErrors, ErrorTypes};

/// What the binary's tools collect: [`manifest()`] builds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Manifest {
    /// Every tool, by name.
    pub tools: Vec<ToolManifest>,
    /// The properties every event carries, whatever the tool.
    pub common_properties: Vec<PropertyManifest>,
    /// The events: `ToolExecuted` and the lifecycle events, with their own properties.
    pub events: Vec<EventManifest>,
}

/// What one tool records in `toolArgs` and which `errorType` values it can give.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ToolManifest {
    /// `toolName`.
    pub name: String,
    /// `toolCategory`.
    pub category: String,
    /// The recorded keys of `toolArgs`, in the order they are written. A nested
    /// object's keys are joined with `.` (`options.retries`).
    pub fields: Vec<FieldManifest>,
    /// The `errorType` values its error type's derive names, sorted.
    pub error_types: Vec<String>,
    /// Whether it can also give `errorType` values that are not listed: from an
    /// error type without `#[derive(TelemetryError)]` (named after its type,
    /// `IoNotFound`), or a `transparent` variant over one.
    pub other_error_types: bool,
    /// Argument types whose `TelemetryArgs` is written by hand without a
    /// [`DescribeArgs`]: they record keys this manifest cannot list.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub undescribed_args: Vec<String>,
}

/// One recorded key of `toolArgs`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct FieldManifest {
    /// The key as it appears in `toolArgs` (camelCase unless renamed).
    pub key: String,
    /// How its value is recorded.
    pub mode: FieldMode,
    /// The top-level property the value is also promoted to (`allow` only).
    pub dimension: Option<String>,
    /// Whether the value is recorded as its `Display` text
    /// (`allow(display)`, `hash(display)`).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub display: bool,
}

/// How a field is recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FieldMode {
    /// `allow`: the value, scrubbed.
    Allow,
    /// `presence`: `true` when given, never the value.
    Presence,
    /// `hash`: the SHA-256 hex of the value.
    Hash,
}

impl FieldMode {
    /// The annotation's word: `allow`, `presence` or `hash`.
    ///
    /// ```
    /// assert_eq!(azsdk_telemetry::manifest::FieldMode::Hash.as_str(), "hash");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            FieldMode::Allow => "allow",
            FieldMode::Presence => "presence",
            FieldMode::Hash => "hash",
        }
    }
}

/// The manifest of every `#[telemetry_tool]` linked into this binary, sorted
/// by tool name (then category), with the common properties and the events.
/// The same binary gives the same manifest every time.
///
/// ```
/// let manifest = azsdk_telemetry::manifest();
/// assert!(manifest.common_properties.iter().any(|p| p.key == "sessionId"));
/// assert!(manifest.events.iter().any(|e| e.name == "ToolExecuted"));
/// ```
pub fn manifest() -> Manifest {
    let mut tools: Vec<ToolManifest> = inventory::iter::<describe::ToolEntry>
        .into_iter()
        .map(describe::ToolEntry::manifest)
        .collect();
    tools.sort_by(|a, b| (&a.name, &a.category).cmp(&(&b.name, &b.category)));
    // A tool registered twice the same way (a function in a macro, say) is listed once.
    tools.dedup();
    Manifest {
        tools,
        common_properties: common::properties(),
        events: common::events(),
    }
}

/// A `#[telemetry_tool]` linked into the binary, as the MCP front door needs it: its
/// names (static, as every call records them) and the top-level argument keys its
/// annotations record.
#[cfg(feature = "rmcp")]
#[derive(Debug)]
pub(crate) struct Registered {
    pub(crate) name: &'static str,
    pub(crate) category: &'static str,
    /// The annotated top-level keys (`options` for `options.retries`), in recording order.
    pub(crate) keys: Vec<String>,
}

/// The registered tool named `name`, if a `#[telemetry_tool]` of that name is linked in.
#[cfg(feature = "rmcp")]
pub(crate) fn registered(name: &str) -> Option<Registered> {
    let entry = inventory::iter::<describe::ToolEntry>
        .into_iter()
        .find(|entry| entry.name == name)?;
    let mut keys: Vec<String> = Vec::new();
    for field in entry.manifest().fields {
        let top = field.key.split('.').next().unwrap_or_default();
        if !keys.iter().any(|key| key == top) {
            keys.push(top.to_owned());
        }
    }
    Some(Registered {
        name: entry.name,
        category: entry.category,
        keys,
    })
}

impl Manifest {
    /// The tool named `name`.
    ///
    /// ```
    /// assert!(azsdk_telemetry::manifest().tool("no_such_tool").is_none());
    /// ```
    pub fn tool(&self, name: &str) -> Option<&ToolManifest> {
        self.tools.iter().find(|tool| tool.name == name)
    }

    /// The manifest as pretty-printed JSON, ending in a newline: the text to
    /// check into a repository and review.
    ///
    /// ```
    /// let json = azsdk_telemetry::manifest().to_json();
    /// assert!(json.starts_with("{\n  \"tools\": ["));
    /// ```
    pub fn to_json(&self) -> String {
        // Serializing strings, bools and vectors of them cannot fail.
        let mut text = serde_json::to_string_pretty(self).unwrap_or_default();
        text.push('\n');
        text
    }

    /// The manifest as Markdown: one table per tool, then the common
    /// properties and the events.
    ///
    /// ```
    /// let markdown = azsdk_telemetry::manifest().to_markdown();
    /// assert!(markdown.contains("## Every event"));
    /// ```
    pub fn to_markdown(&self) -> String {
        markdown::render(self)
    }
}
