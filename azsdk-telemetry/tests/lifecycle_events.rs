//! The lifecycle events a layer records by itself: install, update and start at build,
//! stop at shutdown, and CLI sessions that span invocations in the state directory.

use std::path::Path;
use std::time::{Duration, Instant, SystemTime};

use azsdk_telemetry::{
    Event, MemorySink, Record, SessionKind, SystemInstalled, SystemUpdated, TelemetryBuilder,
    TelemetryHandle, TelemetryLayer, ToolExecuted,
};

/// A handle whose records go to the returned sink, with the state in `state` (if any),
/// built by `configure` with nothing read from the environment, no notice and no panic hook.
fn start(
    state: Option<&Path>,
    configure: impl FnOnce(TelemetryBuilder) -> TelemetryBuilder,
) -> (TelemetryHandle, MemorySink) {
    let sink = MemorySink::new();
    let mut builder = TelemetryLayer::builder()
        .ignore_environment()
        .first_run_notice(false)
        .crash_reporting(false)
        .sink(sink.clone());
    if let Some(state) = state {
        builder = builder.state_dir(state);
    }
    let (_layer, handle) = configure(builder)
        .build::<tracing_subscriber::Registry>()
        .unwrap();
    (handle, sink)
}

fn names(records: &[Record]) -> Vec<&'static str> {
    records.iter().map(Record::name).collect()
}

#[test]
fn first_run_installs_then_same_version_only_starts_then_new_version_updates() {
    let dir = tempfile::tempdir().unwrap();
    // The events recorded at build, before the handle goes.
    let startup = |version: &str| {
        let (_handle, sink) = start(Some(dir.path()), |b| {
            b.app_version(version)
                .install_method("cargo")
                .update_method("manual")
        });
        sink.records()
    };

    let first = startup("1.0.0");
    assert_eq!(names(&first), ["SystemInstalled", "SystemStarted"]);
    assert_eq!(
        *first[0].event(),
        Event::SystemInstalled(SystemInstalled {
            install_method: Some("cargo".into())
        })
    );

    let second = startup("1.0.0");
    assert_eq!(names(&second), ["SystemStarted"]);

    let third = startup("1.1.0");
    assert_eq!(names(&third), ["SystemUpdated", "SystemStarted"]);
    assert_eq!(
        *third[0].event(),
        Event::SystemUpdated(SystemUpdated {
            previous_version: "1.0.0".into(),
            update_method: Some("manual".into())
        })
    );
}

#[test]
fn cli_sessions_span_invocations_in_the_state_directory() {
    let dir = tempfile::tempdir().unwrap();
    let session_at = |now: SystemTime| {
        let (handle, _sink) = start(Some(dir.path()), |b| {
            b.session(SessionKind::cli()).clock(move || now)
        });
        handle.session_id()
    };
    let t0 = SystemTime::now();
    let id = session_at(t0);
    let ten_minutes = t0 + Duration::from_secs(600);
    assert_eq!(session_at(ten_minutes), id);
    let much_later = ten_minutes + Duration::from_secs(31 * 60);
    assert_ne!(session_at(much_later), id);
}

#[test]
fn stopping_reports_session_length_and_calls() {
    let began = Instant::now() - Duration::from_secs(5);
    let (handle, sink) = start(None, |b| b.startup_began(began));
    for _ in 0..12 {
        handle.record(ToolExecuted::default());
    }
    handle.shutdown(Duration::from_secs(5));
    let records = sink.records();
    let stop = records.last().unwrap().event();
    let Event::SystemStopped(stopped) = stop else {
        panic!("{stop:?}")
    };
    assert_eq!(stopped.tool_calls_in_session, 12);
    assert!(stopped.session_duration >= Duration::from_secs(5));
}
