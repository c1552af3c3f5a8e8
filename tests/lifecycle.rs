//! The lifecycle a service gets with no further code: install, update,
//! start, stop, crash and configuration events; the first-run notice; opting
//! out through the settings.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use azsdk_telemetry::MemorySink;
use azsdk_telemetry::SessionKind;
use azsdk_telemetry::{Record, TelemetryLayer, ToolExecuted};
use serde_json::Value;
use tracing_subscriber::prelude::*;

/// Builds, runs `work` under the layer, and drops the handle: one process's life.
fn run(state: &Path, version: &str, work: impl FnOnce()) -> Vec<Record> {
    let sink = MemorySink::new();
    let (layer, handle) = TelemetryLayer::builder()
        .ignore_environment()
        .state_dir(state)
        .app_name("lifecycle-test")
        .app_version(version)
        .install_method("cargo")
        .update_method("manual")
        .first_run_notice(false)
        .crash_reporting(false)
        .session(SessionKind::cli())
        .sink(sink.clone())
        .build()
        .unwrap();
    let guard = tracing_subscriber::registry().with(layer).set_default();
    work();
    drop(guard);
    drop(handle);
    sink.records()
}

fn names(records: &[Record]) -> Vec<&'static str> {
    records.iter().map(Record::name).collect()
}

fn props(record: &Record) -> serde_json::Map<String, Value> {
    record.to_envelope(None, 100.0)["data"]["baseData"]["properties"]
        .as_object()
        .unwrap()
        .clone()
}

#[test]
fn install_then_restart_then_update_with_their_properties() {
    let state = tempfile::tempdir().unwrap();
    let tool = || {
        ToolExecuted {
            tool_name: "azsdk_verify_setup".into(),
            success: true,
            ..ToolExecuted::default()
        }
        .emit()
    };

    let first = run(state.path(), "1.0.0", || {
        tool();
        tool();
    });
    assert_eq!(
        names(&first),
        [
            "SystemInstalled",
            "SystemStarted",
            "ToolExecuted",
            "ToolExecuted",
            "SystemStopped"
        ]
    );
    assert_eq!(props(&first[0])["eventType"], "install");
    assert_eq!(props(&first[0])["installMethod"], "cargo");
    assert_eq!(props(&first[1])["eventType"], "start");
    let stopped = props(&first[4]);
    assert_eq!(stopped["eventType"], "stop");
    assert_eq!(stopped["toolCallsInSession"], "2");
    assert!(stopped["sessionDuration"]
        .as_str()
        .unwrap()
        .parse::<u64>()
        .is_ok());

    let second = run(state.path(), "1.0.0", || {});
    assert_eq!(names(&second), ["SystemStarted", "SystemStopped"]);
    assert_eq!(props(&second[1])["toolCallsInSession"], "0");

    let third = run(state.path(), "1.1.0", || {});
    assert_eq!(
        names(&third),
        ["SystemUpdated", "SystemStarted", "SystemStopped"]
    );
    let updated = props(&third[0]);
    assert_eq!(updated["eventType"], "update");
    assert_eq!(updated["previousVersion"], "1.0.0");
    assert_eq!(updated["updateMethod"], "manual");
    assert_eq!(updated["version"], "1.1.0");

    // A CLI session spans invocations within 30 minutes: one session id throughout.
    let sessions: std::collections::BTreeSet<_> = first
        .iter()
        .chain(&second)
        .chain(&third)
        .map(|record| record.context().session_id.clone())
        .collect();
    assert_eq!(sessions.len(), 1, "{sessions:?}");
}

#[test]
fn turning_telemetry_off_sends_one_configured_event_then_nothing() {
    let state = tempfile::tempdir().unwrap();
    let sink = MemorySink::new();
    let (layer, mut handle) = TelemetryLayer::builder()
        .ignore_environment()
        .state_dir(state.path())
        .lifecycle_events(false)
        .first_run_notice(false)
        .sink(sink.clone())
        .build()
        .unwrap();
    let _guard = tracing_subscriber::registry().with(layer).set_default();
    handle.configure("log.level", "debug").unwrap();
    handle.configure("telemetry.enabled", "false").unwrap();
    assert!(!handle.is_enabled());
    ToolExecuted::default().emit();
    handle.record(azsdk_telemetry::SystemStarted::default());

    let records = sink.records();
    assert_eq!(names(&records), ["SystemConfigured", "SystemConfigured"]);
    assert_eq!(
        props(&records[0])["configChanges"],
        r#"{"logLevel":"debug"}"#
    );
    let last = props(&records[1]);
    assert_eq!(last["configChanges"], r#"{"telemetryEnabled":false}"#);
    assert_eq!(last["isOptedIn"], "false");

    // The next start reads the setting and collects nothing.
    let later = MemorySink::new();
    let (_layer, handle) = TelemetryLayer::builder()
        .ignore_environment()
        .state_dir(state.path())
        .sink(later.clone())
        .build::<tracing_subscriber::Registry>()
        .unwrap();
    assert!(!handle.is_enabled());
    assert_eq!(handle.opt_out(), Some(&azsdk_telemetry::OptOut::Settings));
    drop(handle);
    assert!(later.records().is_empty());
}

fn child(mode: &str, state: &Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_telemetry-child"))
        .args([mode, state.to_str().unwrap()])
        .env_remove("AZSDK_TELEMETRY_ENABLED")
        .env_remove("DO_NOT_TRACK")
        .env_remove("APPLICATIONINSIGHTS_CONNECTION_STRING")
        .output()
        .unwrap()
}

fn jsonl(state: &Path) -> Vec<Value> {
    std::fs::read_to_string(state.join("telemetry.jsonl"))
        .unwrap_or_default()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

fn envelope_names(envelopes: &[Value]) -> Vec<String> {
    envelopes
        .iter()
        .map(|e| e["data"]["baseData"]["name"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn the_first_run_notice_goes_to_stderr_once_and_never_to_stdout() {
    let state = tempfile::tempdir().unwrap();
    let first = child("notice", state.path());
    assert!(first.status.success(), "{first:?}");
    let stdout = String::from_utf8(first.stdout).unwrap();
    let stderr = String::from_utf8(first.stderr).unwrap();
    assert_eq!(
        stdout, "stdout-marker\n",
        "stdout holds only the program's own output"
    );
    assert!(stderr.contains("AZSDK_TELEMETRY_ENABLED=false"), "{stderr}");
    assert!(
        stderr.contains("telemetry-child config set telemetry.enabled false"),
        "{stderr}"
    );

    let second = child("notice", state.path());
    assert!(second.status.success());
    assert_eq!(String::from_utf8(second.stdout).unwrap(), "stdout-marker\n");
    assert!(
        second.stderr.is_empty(),
        "shown once: {:?}",
        String::from_utf8_lossy(&second.stderr)
    );

    assert_eq!(
        envelope_names(&jsonl(state.path())),
        [
            "SystemInstalled",
            "SystemStarted",
            "SystemStopped",
            "SystemStarted",
            "SystemStopped"
        ]
    );
}

#[test]
fn a_panicking_process_leaves_a_scrubbed_crash_record_behind() {
    let state = tempfile::tempdir().unwrap();
    let output = child("panic", state.path());
    assert!(!output.status.success(), "the panic still ends the process");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("panicked"),
        "the previous hook still runs: {stderr}"
    );

    let envelopes = jsonl(state.path());
    let crash = envelopes
        .iter()
        .find(|e| e["data"]["baseData"]["name"] == "SystemCrashed")
        .unwrap_or_else(|| panic!("no crash recorded: {envelopes:#?}"));
    assert_eq!(crash["data"]["baseData"]["success"], false);
    let props = &crash["data"]["baseData"]["properties"];
    assert_eq!(props["eventType"], "crash");
    assert_eq!(props["crashReason"], "Panic");
    let message = props["errorMessage"].as_str().unwrap();
    assert!(message.starts_with("could not open"), "{message}");
    assert!(
        !message.contains("c2VjcmV0a2V5"),
        "the key is scrubbed: {message}"
    );
    assert!(props["stackTrace"]
        .as_str()
        .unwrap()
        .contains("telemetry-child.rs"));
    let raw = std::fs::read_to_string(state.path().join("telemetry.jsonl")).unwrap();
    let home = std::env::var("HOME").unwrap_or_default();
    if home.len() > 1 {
        assert!(
            !raw.contains(&format!("{home}/secrets.txt")),
            "the home path is scrubbed"
        );
    }
}

#[test]
fn process_sessions_are_new_for_every_process() {
    let state = tempfile::tempdir().unwrap();
    let session = |state: &Path| {
        let (_layer, handle) = TelemetryLayer::builder()
            .ignore_environment()
            .state_dir(state)
            .lifecycle_events(false)
            .first_run_notice(false)
            .sink(MemorySink::new())
            .build::<tracing_subscriber::Registry>()
            .unwrap();
        handle.session_id()
    };
    assert_ne!(session(state.path()), session(state.path()));
    let _ = Duration::ZERO;
}
