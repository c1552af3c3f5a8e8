//! Opted out means nothing collected, nothing stored, nothing sent.
//!
//! This file is its own test binary with a single test, because it changes
//! the process environment.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use azsdk_telemetry::Sink;
use azsdk_telemetry::{
    PendingRecord, SystemConfigured, SystemCrashed, SystemInstalled, SystemStarted, SystemStopped,
    SystemUpdated, TelemetryLayer, ToolExecuted,
};
use tracing_subscriber::prelude::*;

#[derive(Clone, Default)]
struct CountingSink(Arc<AtomicU64>);

impl Sink for CountingSink {
    fn accept(&self, _record: PendingRecord) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

fn emit_every_kind() {
    ToolExecuted::default().emit();
    SystemInstalled::default().emit();
    SystemStarted::default().emit();
    SystemStopped::default().emit();
    SystemCrashed::default().emit();
    SystemConfigured::default().emit();
    SystemUpdated::default().emit();
}

fn files_under(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                pending.push(path.clone());
            }
            found.push(path);
        }
    }
    found
}

#[test]
fn opted_out_collects_stores_and_sends_nothing() {
    let state = tempfile::tempdir().unwrap();
    std::env::set_var("AZSDK_TELEMETRY_DIR", state.path());
    std::env::remove_var("DO_NOT_TRACK");
    std::env::remove_var("APPLICATIONINSIGHTS_CONNECTION_STRING");

    // Control: with telemetry on, the default JSONL file appears in the state dir.
    std::env::remove_var("AZSDK_TELEMETRY_ENABLED");
    {
        let (layer, handle) = TelemetryLayer::builder()
            .app_name("control")
            .lifecycle_events(false)
            .first_run_notice(false)
            .build()
            .unwrap();
        let _guard = tracing_subscriber::registry().with(layer).set_default();
        emit_every_kind();
        assert!(handle.flush(Duration::from_secs(5)));
        assert_eq!(handle.stats().sink.delivered, 7);
    }
    assert!(
        state.path().join("telemetry.jsonl").is_file(),
        "the control run writes the JSONL log: {:?}",
        files_under(state.path())
    );
    std::fs::remove_dir_all(state.path()).unwrap();
    std::fs::create_dir_all(state.path()).unwrap();

    let settings: [(&str, &str); 4] = [
        ("AZSDK_TELEMETRY_ENABLED", "false"),
        ("AZSDK_TELEMETRY_ENABLED", "0"),
        ("AZSDK_TELEMETRY_ENABLED", "off"),
        ("DO_NOT_TRACK", "1"),
    ];
    for (name, value) in settings {
        std::env::remove_var("AZSDK_TELEMETRY_ENABLED");
        std::env::remove_var("DO_NOT_TRACK");
        std::env::set_var(name, value);

        // Default sink (a JSONL file in the state directory): no file appears.
        let (layer, handle) = TelemetryLayer::builder()
            .app_name("optout")
            .build()
            .unwrap();
        assert!(!handle.is_enabled(), "{name}={value}");
        assert!(handle.opt_out().is_some());
        let guard = tracing_subscriber::registry().with(layer).set_default();
        emit_every_kind();
        assert!(handle.flush(Duration::from_secs(1)));
        assert_eq!(handle.stats().emitted, 0);
        drop(guard);
        drop(handle);
        assert!(
            files_under(state.path()).is_empty(),
            "{name}={value} created {:?}",
            files_under(state.path())
        );

        // An explicit sink receives nothing either.
        let sink = CountingSink::default();
        let (layer, _handle) = TelemetryLayer::builder()
            .sink(sink.clone())
            .build()
            .unwrap();
        let _guard = tracing_subscriber::registry().with(layer).set_default();
        emit_every_kind();
        assert_eq!(sink.0.load(Ordering::SeqCst), 0, "{name}={value}");

        // Even a connection string is never looked at.
        std::env::set_var("APPLICATIONINSIGHTS_CONNECTION_STRING", "InstrumentationKey=00000000-0000-0000-0000-000000000000;IngestionEndpoint=http://127.0.0.1:9/");
        let built = TelemetryLayer::builder().build::<tracing_subscriber::Registry>();
        assert!(built.is_ok_and(|(_, handle)| !handle.is_enabled()));
        std::env::remove_var("APPLICATIONINSIGHTS_CONNECTION_STRING");
    }
    assert!(files_under(state.path()).is_empty());
}
