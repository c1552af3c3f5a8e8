//! The assertions fail when they should, with messages that show what was
//! expected and what was emitted.

use std::time::Duration;

use azsdk_telemetry::ToolExecuted;
use azsdk_telemetry_testkit::capture;
use serde_json::json;

fn emit_generate() {
    let mut event = ToolExecuted {
        tool_name: "azsdk_generate_sdk".into(),
        tool_category: "generating".into(),
        duration: Duration::from_millis(20),
        success: false,
        tool_args: Some(r#"{"language":".NET","typespecProjectRoot":true}"#.into()),
        error_type: Some("ValidationError".into()),
        error_message: Some("missing parameter apiVersion".into()),
        ..ToolExecuted::default()
    };
    event.set_dimension("language", ".NET");
    event.emit();
}

#[test]
fn a_matching_chain_passes() {
    let capture = capture();
    emit_generate();
    capture
        .tool("azsdk_generate_sdk")
        .category("generating")
        .failed()
        .duration_between(Duration::from_millis(20), Duration::from_millis(20))
        .arg("language", ".NET")
        .arg_present("typespecProjectRoot")
        .arg_absent("apiKey")
        .args_exact(json!({ "language": ".NET", "typespecProjectRoot": true }))
        .dimension("language", ".NET")
        .no_dimension("serviceName")
        .error_type("ValidationError")
        .error_message("missing parameter apiVersion")
        .properties_match(json!({ "toolName": "azsdk_generate_sdk", "language": ".NET" }));
    capture.assert_tool_sequence(&["azsdk_generate_sdk"]);
    capture.assert_event_count("ToolExecuted", 1);
    capture.assert_no_leak("apiVersion=secret");
    capture.assert_no_personal_data();
}

#[test]
#[should_panic(expected = "expected toolArgs.language = \"Go\", emitted \".NET\"")]
fn a_wrong_argument_value_fails_with_both_values() {
    let capture = capture();
    emit_generate();
    capture.tool("azsdk_generate_sdk").arg("language", "Go");
}

#[test]
#[should_panic(
    expected = "expected one `azsdk_run_tests` call, found 0; tools emitted: [\"azsdk_generate_sdk\"]"
)]
fn a_missing_tool_lists_what_was_emitted() {
    let capture = capture();
    emit_generate();
    capture.tool("azsdk_run_tests");
}

#[test]
#[should_panic(expected = "+  \"language\": \".NET\"")]
fn exact_arguments_fail_with_a_diff() {
    let capture = capture();
    emit_generate();
    capture
        .tool("azsdk_generate_sdk")
        .args_exact(json!({ "typespecProjectRoot": true }));
}

#[test]
#[should_panic(expected = "expected success = true")]
fn success_is_checked() {
    let capture = capture();
    emit_generate();
    capture.tool("azsdk_generate_sdk").succeeded();
}

#[test]
#[should_panic(expected = "tool calls differ")]
fn the_sequence_is_checked_in_order() {
    let capture = capture();
    emit_generate();
    ToolExecuted {
        tool_name: "azsdk_run_tests".into(),
        ..Default::default()
    }
    .emit();
    capture.assert_tool_sequence(&["azsdk_run_tests", "azsdk_generate_sdk"]);
}

#[test]
#[should_panic(expected = "`missing parameter` leaked into an emitted ToolExecuted event")]
fn a_leak_is_found_in_any_field() {
    let capture = capture();
    emit_generate();
    capture.assert_no_leaks(&["never-emitted", "missing parameter"]);
}

#[test]
fn an_email_is_personal_data_and_the_scrubber_removes_it_first() {
    let envelope = json!({ "data": { "baseData": { "properties": {
        "toolResponse": "sent to dev@contoso.com"
    } } } });
    let found = azsdk_telemetry_testkit::personal_data_in(&envelope).unwrap();
    assert!(
        found.contains("e-mail address `dev@contoso.com`"),
        "{found}"
    );

    let capture = capture();
    ToolExecuted {
        tool_name: "t".into(),
        tool_response: Some("sent to dev@contoso.com".into()),
        ..Default::default()
    }
    .emit();
    capture.assert_no_personal_data();
    capture.assert_no_leak("dev@contoso.com");
}

#[test]
fn snapshots_are_stable_across_runs() {
    let first = {
        let capture = capture();
        emit_generate();
        capture.snapshot()
    };
    std::thread::sleep(Duration::from_millis(2));
    let second = {
        let capture = capture();
        emit_generate();
        capture.snapshot()
    };
    assert_eq!(first, second);
    assert_eq!(first[0]["data"]["baseData"]["duration"], "[duration]");
}
