//! Helpers shared by the `macros_*` tests.
#![allow(dead_code)]

use azsdk_telemetry::ToolExecuted;
use azsdk_telemetry_testkit::{Capture, COMMON_PROPERTIES};
use serde_json::{Map, Value};

/// The properties of the one envelope captured, exactly as sent.
pub fn only_properties(capture: &Capture) -> Map<String, Value> {
    let envelopes = capture.envelopes();
    assert_eq!(envelopes.len(), 1, "expected one envelope: {envelopes:#?}");
    envelopes[0]["data"]["baseData"]["properties"]
        .as_object()
        .expect("properties")
        .clone()
}

/// The one tool call captured.
pub fn only_tool(capture: &Capture) -> ToolExecuted {
    let events = capture.events();
    assert_eq!(events.len(), 1, "expected one event: {events:#?}");
    events[0].event().as_tool().expect("a ToolExecuted").clone()
}

/// `toolArgs` of the one envelope, parsed.
pub fn tool_args(capture: &Capture) -> Value {
    let properties = only_properties(capture);
    serde_json::from_str(properties["toolArgs"].as_str().expect("toolArgs")).expect("JSON")
}

/// The properties the tool call itself sets (the context's are left out).
pub fn tool_properties(capture: &Capture) -> Map<String, Value> {
    const CLIENT: [&str; 6] = [
        "clientName",
        "clientVersion",
        "agentName",
        "agentVersion",
        "agentModel",
        "executionMode",
    ];
    only_properties(capture)
        .into_iter()
        .filter(|(key, _)| {
            !COMMON_PROPERTIES.contains(&key.as_str()) && !CLIENT.contains(&key.as_str())
        })
        .collect()
}
