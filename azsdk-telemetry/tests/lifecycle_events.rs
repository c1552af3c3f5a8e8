//! The lifecycle events a layer records by itself: install, update and start at build,
//! stop at shutdown, and CLI sessions that span invocations in the state directory until
//! 30 minutes pass without one (a clock set back starts a new one).

use std::path::Path;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

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
    let session_at = |now: SystemTime| cli_session_at(dir.path(), now);
    let t0 = SystemTime::now();
    let id = session_at(t0);
    let ten_minutes = t0 + Duration::from_secs(600);
    assert_eq!(session_at(ten_minutes), id);
    let much_later = ten_minutes + Duration::from_secs(31 * 60);
    assert_ne!(session_at(much_later), id);
}

/// The session id of a CLI invocation at `now` with its state in `dir`.
fn cli_session_at(dir: &Path, now: SystemTime) -> String {
    let (handle, _sink) = start(Some(dir), |b| {
        b.session(SessionKind::cli()).clock(move || now)
    });
    handle.session_id()
}

const WINDOW: Duration = Duration::from_secs(30 * 60);

#[test]
fn a_session_continues_within_the_window_and_ends_after_it() {
    let t0 = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    let at = |offset: Duration| t0 + offset;
    // Each history in a state directory of its own.
    let history = || tempfile::tempdir().unwrap();

    let dir = history();
    let first = cli_session_at(dir.path(), t0);
    let within = cli_session_at(dir.path(), at(WINDOW));
    assert_eq!(within, first, "exactly 30 minutes later still continues");
    let state: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("state.json")).unwrap()).unwrap();
    let activity = at(WINDOW).duration_since(UNIX_EPOCH).unwrap().as_millis() as u64;
    assert_eq!(state["session"]["lastActivityMs"], activity);

    // Activity moves the window: 29 minutes after each call, forever the same session.
    let dir = history();
    let first = cli_session_at(dir.path(), t0);
    for step in 1..=5u32 {
        let now = at(Duration::from_secs(29 * 60) * step);
        assert_eq!(cli_session_at(dir.path(), now), first);
    }

    let dir = history();
    let first = cli_session_at(dir.path(), t0);
    let after = cli_session_at(dir.path(), at(WINDOW + Duration::from_millis(1)));
    assert_ne!(
        after, first,
        "one millisecond past the window starts a new session"
    );
}

#[test]
fn a_clock_set_far_back_starts_a_new_session() {
    let dir = tempfile::tempdir().unwrap();
    let t0 = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    let first = cli_session_at(dir.path(), t0);
    let earlier = t0 - Duration::from_secs(3 * 3600);
    assert_ne!(cli_session_at(dir.path(), earlier), first);
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
