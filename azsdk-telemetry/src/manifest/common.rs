//! What every event carries, and the events with their own properties, as the
//! envelope writer (`export/envelope.rs`, `event/record.rs`) writes them.

use serde::Serialize;

/// One property (a `customDimensions` key) or envelope tag.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct PropertyManifest {
    /// The key: a property name, or `tags.<name>` for an envelope tag.
    pub key: &'static str,
    /// What it holds.
    pub description: &'static str,
}

/// One event and the properties it adds to the common ones.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct EventManifest {
    /// `baseData.name`.
    pub name: &'static str,
    /// When it is sent.
    pub description: &'static str,
    /// Its own properties.
    pub properties: Vec<PropertyManifest>,
}

const fn p(key: &'static str, description: &'static str) -> PropertyManifest {
    PropertyManifest { key, description }
}

pub(super) fn properties() -> Vec<PropertyManifest> {
    vec![
        p("version", "the application's version"),
        p("sessionId", "a random id per session (an MCP server process, or CLI invocations less than 30 minutes apart)"),
        p("macAddressHash", "SHA-256 of a MAC address (upper-case hex, no separators), as the Azure tools hash it"),
        p("devDeviceId", "a random per-user device id, stored in the per-user state directory"),
        p(
            "platform",
            "where the tool runs: VSCode, GitHub, JetBrains, ClaudeDesktop, CLI, ... (else the MCP client's name)",
        ),
        p("isOptedIn", "true (nothing is sent when telemetry is off)"),
        p("clientName", "the MCP client's name, when known"),
        p("clientVersion", "the MCP client's version, when known"),
        p("agentName", "the AI agent's name, when known"),
        p("agentVersion", "the AI agent's version, when known"),
        p("agentModel", "the AI agent's model, when known"),
        p("eventId", "a random id per event"),
        p("eventType", "the event's kind"),
        p("tags.ai.session.id", "sessionId"),
        p("tags.ai.user.id", "devDeviceId"),
        p("tags.ai.device.type", "PC"),
        p("tags.ai.device.osVersion", "the operating system and its version"),
        p("tags.ai.application.ver", "version"),
        p("tags.ai.cloud.role", "the application's name"),
        p("tags.ai.internal.sdkVersion", "this library's version"),
        p("tags.ai.operation.id", "eventId"),
        p("tags.ai.operation.name", "the event's name"),
    ]
}

pub(super) fn events() -> Vec<EventManifest> {
    let event = |name, description, properties| EventManifest {
        name,
        description,
        properties,
    };
    vec![
        event(
            "ToolExecuted",
            "each call of a #[telemetry_tool], and each MCP tools/call refused before one ran; success and duration in baseData",
            vec![
                p("toolName", "the tool's name"),
                p("toolCategory", "the tool's category"),
                p(
                    "toolArgs",
                    "JSON of the tool's recorded fields (see each tool)",
                ),
                p(
                    "toolResponse",
                    "a short summary of the result, when the return type gives one",
                ),
                p(
                    "language",
                    "promoted from an argument with dimension = \"language\"",
                ),
                p(
                    "planeType",
                    "promoted from an argument with dimension = \"planeType\"",
                ),
                p(
                    "serviceName",
                    "promoted from an argument with dimension = \"serviceName\"",
                ),
                p(
                    "isCustomSdk",
                    "promoted from an argument with dimension = \"isCustomSdk\"",
                ),
                p(
                    "errorType",
                    "the error's class (see each tool), or Panic, or Cancelled; for MCP arguments refused before the tool ran, their kind: MissingField, InvalidType, UnknownVariant, ...",
                ),
                p(
                    "errorMessage",
                    "the error's message, scrubbed and truncated; for refused MCP arguments, the annotated argument's name, never its value",
                ),
                p("executionMode", "direct (CLI) or agent-invoked (MCP)"),
                p(
                    "<dimension>",
                    "any other dimension = \"...\" a tool's fields name",
                ),
            ],
        ),
        event(
            "SystemInstalled",
            "the first run on a device",
            vec![p("installMethod", "how the tool was installed")],
        ),
        event(
            "SystemStarted",
            "each start; the start-up time as duration",
            Vec::new(),
        ),
        event(
            "SystemStopped",
            "each orderly stop",
            vec![
                p("sessionDuration", "milliseconds since the start"),
                p("toolCallsInSession", "tool calls since the start"),
            ],
        ),
        event(
            "SystemCrashed",
            "a panic that ends the process",
            vec![
                p("crashReason", "the panic's class"),
                p("errorMessage", "the panic's message, scrubbed"),
                p("stackTrace", "the stack, scrubbed of paths"),
            ],
        ),
        event(
            "SystemConfigured",
            "a setting changed through the tool",
            vec![p(
                "configChanges",
                "JSON of the changed setting and its new value",
            )],
        ),
        event(
            "SystemUpdated",
            "the first run of a new version",
            vec![
                p("previousVersion", "the version before"),
                p("updateMethod", "how the tool was updated"),
            ],
        ),
    ]
}
