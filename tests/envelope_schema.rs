//! Every event kind, emitted through `tracing`, lands as the envelope the
//! spec and the ingestion schema expect: names, JSON types, camelCase keys,
//! duration format and tags, checked field by field.

use std::time::Duration;

use azsdk_telemetry::{
    AgentInfo, ClientInfo, SystemConfigured, SystemCrashed, SystemInstalled, SystemStarted,
    SystemStopped, SystemUpdated, ToolExecuted,
};
use azsdk_telemetry_testkit::{
    capture, CAPTURE_APP_VERSION, CAPTURE_SESSION_ID, COMMON_PROPERTIES,
};
use serde_json::{json, Value};

fn only_envelope(envelopes: Vec<Value>) -> Value {
    assert_eq!(envelopes.len(), 1, "expected one envelope: {envelopes:#?}");
    envelopes.into_iter().next().unwrap()
}

fn properties(envelope: &Value) -> &serde_json::Map<String, Value> {
    envelope["data"]["baseData"]["properties"]
        .as_object()
        .expect("properties is an object")
}

/// What every envelope shares, whatever the event.
fn assert_common_shape(
    envelope: &Value,
    name: &str,
    success: bool,
    duration: &str,
    platform: &str,
) {
    assert_eq!(
        envelope["name"],
        "Microsoft.ApplicationInsights.RemoteDependency"
    );
    assert_eq!(envelope["ver"], 1);
    assert_eq!(envelope["sampleRate"], 100.0);
    let time = envelope["time"].as_str().expect("time is a string");
    assert!(
        time.ends_with('Z') && time.len() == 27,
        "UTC ISO 8601: {time}"
    );
    assert!(humantime::parse_rfc3339(time).is_ok(), "{time}");

    let data = &envelope["data"];
    assert_eq!(data["baseType"], "RemoteDependencyData");
    let base = &data["baseData"];
    assert_eq!(base["ver"], 2);
    assert_eq!(base["name"], name);
    assert_eq!(base["type"], "InProc");
    assert_eq!(base["success"], Value::Bool(success));
    assert_eq!(base["duration"], duration);

    let props = properties(envelope);
    for value in props.values() {
        assert!(
            value.is_string(),
            "property values are strings on the wire: {value}"
        );
    }
    assert_eq!(props["version"], CAPTURE_APP_VERSION);
    assert_eq!(props["sessionId"], CAPTURE_SESSION_ID);
    let event_id = props["eventId"].as_str().unwrap();
    assert!(uuid::Uuid::parse_str(event_id).is_ok(), "{event_id}");
    assert_eq!(base["id"], event_id);
    assert_eq!(props["macAddressHash"], "N/A");
    assert_eq!(props["devDeviceId"], "N/A");
    assert_eq!(props["platform"], platform);
    assert_eq!(props["isOptedIn"], "true");

    let tags = envelope["tags"].as_object().expect("tags");
    assert_eq!(tags["ai.session.id"], CAPTURE_SESSION_ID);
    assert_eq!(tags["ai.device.type"], "PC");
    assert!(tags["ai.device.osVersion"]
        .as_str()
        .is_some_and(|os| !os.is_empty()));
    assert_eq!(tags["ai.application.ver"], CAPTURE_APP_VERSION);
    assert_eq!(tags["ai.cloud.role"], "azsdk-telemetry-testkit");
    assert!(tags["ai.internal.sdkVersion"]
        .as_str()
        .is_some_and(|v| v.starts_with("rsazsdk:")));
    assert_eq!(tags["ai.operation.id"], event_id.replace('-', ""));
    assert_eq!(tags["ai.operation.name"], name);
    assert!(
        !tags.contains_key("ai.cloud.roleInstance"),
        "the host name is personal data"
    );
}

/// Keys that must be present, with exactly these values, and no other event-specific keys.
fn assert_event_properties(envelope: &Value, expected: Value) {
    let own: serde_json::Map<String, Value> = properties(envelope)
        .iter()
        .filter(|(key, _)| !COMMON_PROPERTIES.contains(&key.as_str()))
        .map(|(key, value)| (key.clone(), value.clone()))
        .collect();
    assert_eq!(Value::Object(own), expected);
}

#[test]
fn tool_executed_matches_spec_example_1() {
    let capture = capture();
    capture
        .handle()
        .set_client(ClientInfo::new("Visual Studio Code", "1.100.1"));
    capture.handle().set_agent(
        AgentInfo::new("GitHub Copilot")
            .version("1.234.0")
            .model("gpt-4"),
    );
    let mut event = ToolExecuted {
        tool_name: "azsdk_generate_sdk".into(),
        tool_category: "generating".into(),
        duration: Duration::from_millis(12_450),
        success: true,
        tool_args: Some(r#"{"typespecProjectRoot":"specification/healthdataaiservices","language":".NET","apiVersion":"2025-09-01","sdkReleaseType":"preview"}"#.into()),
        tool_response: Some("SDK generated successfully".into()),
        ..ToolExecuted::default()
    };
    event.set_dimension("language", ".NET");
    event.set_dimension("planeType", "data");
    event.set_dimension("serviceName", "healthdataaiservices");
    event.set_dimension("isCustomSdk", "false");
    event.emit();

    let envelope = only_envelope(capture.envelopes());
    // No platform configured, none in the environment: the client names it, as in the spec.
    assert_common_shape(
        &envelope,
        "ToolExecuted",
        true,
        "0.00:00:12.450000",
        "VSCode",
    );
    assert_event_properties(
        &envelope,
        json!({
            "clientName": "Visual Studio Code",
            "clientVersion": "1.100.1",
            "agentName": "GitHub Copilot",
            "agentVersion": "1.234.0",
            "agentModel": "gpt-4",
            "toolName": "azsdk_generate_sdk",
            "toolCategory": "generating",
            "toolArgs": "{\"typespecProjectRoot\":\"specification/healthdataaiservices\",\"language\":\".NET\",\"apiVersion\":\"2025-09-01\",\"sdkReleaseType\":\"preview\"}",
            "toolResponse": "SDK generated successfully",
            "language": ".NET",
            "planeType": "data",
            "serviceName": "healthdataaiservices",
            "isCustomSdk": "false",
        }),
    );

    // The typed record keeps the types: a bool stays a bool, a duration a duration.
    let records = capture.events();
    let tool = records[0].event().as_tool().unwrap();
    assert_eq!(tool.is_custom_sdk, Some(false));
    assert_eq!(tool.duration, Duration::from_millis(12_450));
    assert!(tool.success);
}

#[test]
fn failed_tool_matches_spec_example_2() {
    let capture = capture();
    ToolExecuted {
        tool_name: "azsdk_run_tests".into(),
        tool_category: "testing".into(),
        duration: Duration::from_millis(8_234),
        success: false,
        tool_args: Some(
            r#"{"serviceName":"healthdataaiservices","language":"Java","testMode":"playback"}"#
                .into(),
        ),
        error_type: Some("TestFailure".into()),
        error_message: Some(
            "3 tests failed: test_authentication_failure, test_invalid_request, test_timeout"
                .into(),
        ),
        execution_mode: Some("agent-invoked".into()),
        ..ToolExecuted::default()
    }
    .emit();
    let envelope = only_envelope(capture.envelopes());
    assert_common_shape(&envelope, "ToolExecuted", false, "0.00:00:08.234000", "CLI");
    assert_event_properties(
        &envelope,
        json!({
            "toolName": "azsdk_run_tests",
            "toolCategory": "testing",
            "toolArgs": "{\"serviceName\":\"healthdataaiservices\",\"language\":\"Java\",\"testMode\":\"playback\"}",
            "errorType": "TestFailure",
            "errorMessage": "3 tests failed: test_authentication_failure, test_invalid_request, test_timeout",
            "executionMode": "agent-invoked",
        }),
    );
}

#[test]
fn system_started_carries_startup_time() {
    let capture = capture();
    SystemStarted {
        startup_duration: Duration::from_millis(450),
    }
    .emit();
    let envelope = only_envelope(capture.envelopes());
    assert_common_shape(&envelope, "SystemStarted", true, "0.00:00:00.450000", "CLI");
    assert_event_properties(&envelope, json!({ "eventType": "start" }));
}

#[test]
fn system_stopped_carries_session_length_and_tool_calls() {
    let capture = capture();
    SystemStopped {
        session_duration: Duration::from_secs(3_600),
        tool_calls_in_session: 12,
    }
    .emit();
    let envelope = only_envelope(capture.envelopes());
    assert_common_shape(&envelope, "SystemStopped", true, "0.01:00:00.000000", "CLI");
    assert_event_properties(
        &envelope,
        json!({ "eventType": "stop", "sessionDuration": "3600000", "toolCallsInSession": "12" }),
    );
}

#[test]
fn system_installed_carries_install_method() {
    let capture = capture();
    SystemInstalled {
        install_method: Some("npm".into()),
    }
    .emit();
    let envelope = only_envelope(capture.envelopes());
    assert_common_shape(
        &envelope,
        "SystemInstalled",
        true,
        "0.00:00:00.000000",
        "CLI",
    );
    assert_event_properties(
        &envelope,
        json!({ "eventType": "install", "installMethod": "npm" }),
    );
}

#[test]
fn system_crashed_is_a_failure_with_reason_message_and_stack() {
    let capture = capture();
    SystemCrashed {
        crash_reason: "UnhandledException".into(),
        error_message: Some("Cannot read property 'path' of undefined".into()),
        stack_trace: Some("at generate_sdk\nat main".into()),
    }
    .emit();
    let envelope = only_envelope(capture.envelopes());
    assert_common_shape(
        &envelope,
        "SystemCrashed",
        false,
        "0.00:00:00.000000",
        "CLI",
    );
    assert_event_properties(
        &envelope,
        json!({
            "eventType": "crash",
            "crashReason": "UnhandledException",
            "errorMessage": "Cannot read property 'path' of undefined",
            "stackTrace": "at generate_sdk\nat main",
        }),
    );
}

#[test]
fn system_configured_carries_changes_as_a_json_string() {
    let capture = capture();
    SystemConfigured {
        config_changes: r#"{"telemetryEnabled":false,"logLevel":"debug"}"#.into(),
    }
    .emit();
    let envelope = only_envelope(capture.envelopes());
    assert_common_shape(
        &envelope,
        "SystemConfigured",
        true,
        "0.00:00:00.000000",
        "CLI",
    );
    assert_event_properties(
        &envelope,
        json!({ "eventType": "configure", "configChanges": "{\"telemetryEnabled\":false,\"logLevel\":\"debug\"}" }),
    );
}

#[test]
fn system_updated_carries_previous_version_and_method() {
    let capture = capture();
    SystemUpdated {
        previous_version: "0.5.6.0".into(),
        update_method: Some("automatic".into()),
    }
    .emit();
    let envelope = only_envelope(capture.envelopes());
    assert_common_shape(&envelope, "SystemUpdated", true, "0.00:00:00.000000", "CLI");
    assert_event_properties(
        &envelope,
        json!({ "eventType": "update", "previousVersion": "0.5.6.0", "updateMethod": "automatic" }),
    );
}

#[test]
fn long_values_are_cut_to_the_schema_limits_on_char_boundaries() {
    let capture = capture();
    let mut event = ToolExecuted {
        tool_name: "t".into(),
        error_message: Some("é".repeat(5_000)),
        tool_response: Some("ü".repeat(9_000)),
        ..ToolExecuted::default()
    };
    event.set_dimension(&"k".repeat(200), "v");
    event.emit();
    let envelope = only_envelope(capture.envelopes());
    let props = properties(&envelope);
    assert!(props["errorMessage"].as_str().unwrap().len() <= 1024);
    assert_eq!(
        props["toolResponse"].as_str().unwrap().chars().count(),
        8192
    );
    assert!(props.keys().all(|key| key.chars().count() <= 150));
}
