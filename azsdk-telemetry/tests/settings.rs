//! The user's settings (`TelemetryHandle::configure`): keys and values are validated, typed,
//! stored in the state directory, and a corrupt settings file means no settings.

use std::path::Path;

use azsdk_telemetry::{Event, MemorySink, OptOut, SettingError, TelemetryHandle, TelemetryLayer};
use serde_json::Value;

/// A handle with its settings in `state`, whose records go to the returned sink.
fn start(state: &Path) -> (TelemetryHandle, MemorySink) {
    let sink = MemorySink::new();
    let (_layer, handle) = TelemetryLayer::builder()
        .ignore_environment()
        .state_dir(state)
        .lifecycle_events(false)
        .first_run_notice(false)
        .crash_reporting(false)
        .sink(sink.clone())
        .build::<tracing_subscriber::Registry>()
        .unwrap();
    (handle, sink)
}

#[test]
fn settings_validate_keys_and_values() {
    let dir = tempfile::tempdir().unwrap();
    let (mut handle, sink) = start(dir.path());
    assert!(matches!(
        handle.configure("Telemetry..x", "1"),
        Err(SettingError::InvalidKey(_))
    ));
    assert!(matches!(
        handle.configure("telemetry.enabled", "maybe"),
        Err(SettingError::InvalidValue { .. })
    ));
    handle.configure("log.level", "debug").unwrap();
    handle.configure("retries", "3").unwrap();
    handle.configure("telemetry.enabled", "off").unwrap();
    // The typed values: as `configChanges` shows those of safe settings, and as stored.
    let changes: Vec<Value> = sink
        .records()
        .iter()
        .filter_map(|record| match record.event() {
            Event::SystemConfigured(configured) => {
                Some(serde_json::from_str(&configured.config_changes).unwrap())
            }
            _ => None,
        })
        .collect();
    assert_eq!(changes[0]["logLevel"], Value::from("debug"));
    assert_eq!(changes[2]["telemetryEnabled"], Value::Bool(false));
    let stored: Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("config.json")).unwrap()).unwrap();
    assert_eq!(stored["retries"], Value::from(3));
    let next_run = TelemetryLayer::builder()
        .ignore_environment()
        .state_dir(dir.path());
    assert_eq!(next_run.opt_out(), Some(OptOut::Settings));
    assert_eq!(stored["log.level"], Value::from("debug"));
}

#[test]
fn a_corrupt_settings_file_means_no_settings() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("config.json"), b"[1,2").unwrap();
    let (handle, _sink) = start(dir.path());
    // Neither `telemetry.enabled: false` (off) nor `true` (the reason it is on).
    assert_eq!(handle.opt_out(), None);
    assert_eq!(handle.status().reason, "default");
}
