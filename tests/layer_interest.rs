//! The telemetry layer registers interest in the framework's own callsites
//! only. `tracing` caches a callsite's interest across every live
//! subscriber, so this check lives alone in its own test binary: no other
//! test's subscriber can turn the same callsites on.

use azsdk_telemetry::MemorySink;
use azsdk_telemetry::TelemetryLayer;
use tracing_subscriber::prelude::*;

#[test]
fn interest_is_limited_to_framework_callsites_and_follows_opt_out() {
    other_events_and_spans_are_neither_recorded_nor_enabled();
    turned_off_at_run_time_the_callsites_go_quiet();
}

fn other_events_and_spans_are_neither_recorded_nor_enabled() {
    let sink = MemorySink::new();
    let (layer, _handle) = TelemetryLayer::builder()
        .ignore_environment()
        .lifecycle_events(false)
        .sink(sink.clone())
        .build()
        .unwrap();
    let subscriber = tracing_subscriber::registry().with(layer);
    tracing::subscriber::with_default(subscriber, || {
        // No other layer wants these: the telemetry layer must not turn them on.
        assert!(!tracing::enabled!(tracing::Level::INFO));
        assert!(!tracing::enabled!(target: "my_app", tracing::Level::ERROR));
        tracing::info!(toolName = "spoof", "not a framework event");
        let span = tracing::info_span!("work");
        assert!(span.is_disabled());
        // Framework events are enabled.
        assert!(tracing::enabled!(
            target: azsdk_telemetry::TARGET,
            tracing::Level::INFO
        ));
    });
    assert!(sink.records().is_empty());
}

fn turned_off_at_run_time_the_callsites_go_quiet() {
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
    let subscriber = tracing_subscriber::registry().with(layer);
    tracing::subscriber::with_default(subscriber, || {
        let on = || tracing::enabled!(target: azsdk_telemetry::TARGET, tracing::Level::INFO);
        assert!(on());
        handle.configure("telemetry.enabled", "false").unwrap();
        assert!(!on(), "one check per call again once the user opted out");
    });
}
