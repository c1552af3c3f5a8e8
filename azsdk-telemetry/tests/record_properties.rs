//! A record's `customDimensions` (`Record::properties`): every fixed key, the context's
//! first, then the event id, counts as decimal text.

use std::time::Duration;

use azsdk_telemetry::{
    AgentInfo, ClientInfo, Event, MemorySink, Record, SystemConfigured, SystemCrashed,
    SystemInstalled, SystemStarted, SystemStopped, SystemUpdated, TelemetryLayer, ToolExecuted,
};

/// Every key a record's properties can have besides promoted dimensions, whatever the
/// event, in wire order from the context's: a promoted dimension with one of these names
/// replaces a value in place.
const RESERVED_KEYS: &[&str] = &[
    "version",
    "sessionId",
    "macAddressHash",
    "devDeviceId",
    "platform",
    "isOptedIn",
    "clientName",
    "clientVersion",
    "agentName",
    "agentVersion",
    "agentModel",
    "eventId",
    "eventType",
    "toolName",
    "toolCategory",
    "toolArgs",
    "toolResponse",
    "language",
    "planeType",
    "serviceName",
    "isCustomSdk",
    "errorType",
    "errorMessage",
    "executionMode",
    "installMethod",
    "sessionDuration",
    "toolCallsInSession",
    "crashReason",
    "stackTrace",
    "configChanges",
    "previousVersion",
    "updateMethod",
];

/// Every kind of event with every optional value set, recorded through a layer whose
/// context has a client, an agent and an execution mode.
fn full_records() -> Vec<Record> {
    let sink = MemorySink::new();
    let (_layer, handle) = TelemetryLayer::builder()
        .ignore_environment()
        .lifecycle_events(false)
        .crash_reporting(false)
        .client(ClientInfo::new("client", "1"))
        .agent(AgentInfo::new("agent").version("2").model("model"))
        .execution_mode("direct")
        .sink(sink.clone())
        .build::<tracing_subscriber::Registry>()
        .unwrap();
    let tool = ToolExecuted {
        tool_name: "t".into(),
        tool_category: "c".into(),
        tool_args: Some("{}".into()),
        tool_response: Some("r".into()),
        language: Some("l".into()),
        plane_type: Some("p".into()),
        service_name: Some("s".into()),
        is_custom_sdk: Some(false),
        error_type: Some("e".into()),
        error_message: Some("m".into()),
        execution_mode: Some("x".into()),
        ..ToolExecuted::default()
    };
    let events: Vec<Event> = vec![
        tool.into(),
        SystemInstalled {
            install_method: Some("i".into()),
        }
        .into(),
        SystemStarted {
            startup_duration: Duration::ZERO,
        }
        .into(),
        SystemStopped {
            session_duration: Duration::from_millis(1_500),
            tool_calls_in_session: 3,
        }
        .into(),
        SystemCrashed {
            crash_reason: "c".into(),
            error_message: Some("m".into()),
            stack_trace: Some("s".into()),
        }
        .into(),
        SystemConfigured {
            config_changes: "{}".into(),
        }
        .into(),
        SystemUpdated {
            previous_version: "v".into(),
            update_method: Some("u".into()),
        }
        .into(),
    ];
    for event in events {
        handle.record(event);
    }
    sink.records()
}

#[test]
fn the_reserved_keys_are_every_fixed_key() {
    let mut seen: Vec<String> = full_records()
        .iter()
        .flat_map(Record::properties)
        .map(|(key, _)| key)
        .collect();
    seen.sort_unstable();
    seen.dedup();
    let mut reserved: Vec<String> = RESERVED_KEYS.iter().map(|&k| k.to_owned()).collect();
    reserved.sort_unstable();
    assert_eq!(seen, reserved);
}

#[test]
fn context_properties_come_first_then_the_event_id() {
    for record in full_records() {
        let keys: Vec<String> = record.properties().into_iter().map(|(k, _)| k).collect();
        assert_eq!(keys[..12], RESERVED_KEYS[..12], "{keys:?}");
        let id = record.properties()[11].1.clone();
        assert_eq!(id, record.event_id().hyphenated().to_string());
    }
}

#[test]
fn counts_are_decimal_text() {
    let stopped = &full_records()[3];
    let properties = stopped.properties();
    let get = |key: &str| properties.iter().find(|(k, _)| k == key).unwrap().1.clone();
    assert_eq!(get("sessionDuration"), "1500");
    assert_eq!(get("toolCallsInSession"), "3");
}
