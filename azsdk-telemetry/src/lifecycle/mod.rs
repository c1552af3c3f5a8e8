//! The application's lifecycle: install, update, start, stop, crash and
//! configuration events, CLI sessions, and the first-run notice.
//!
//! A layer built with a state directory gets all of this with no further
//! code: `SystemInstalled` on the first run (or `SystemUpdated` when the
//! version changed), `SystemStarted` at build, `SystemStopped` when the
//! handle is shut down or dropped, and `SystemCrashed` from a panic hook.

mod crash;
mod notice;
mod session;
mod state;

use std::time::{Duration, Instant, SystemTime};

pub(crate) use notice::default_notice;
pub(crate) use session::next_session;
pub use session::SessionKind;
pub(crate) use state::StateStore;

pub(crate) use crash::watch as watch_crashes;
pub(crate) use notice::show as show_notice;

use crate::event::{Event, SystemInstalled, SystemStarted, SystemStopped, SystemUpdated};

/// What the application asks of its lifecycle (set through the builder).
#[derive(Debug, Clone)]
pub(crate) struct LifecycleOptions {
    pub(crate) events: bool,
    pub(crate) crash_reporting: bool,
    /// `None`: no notice; an empty text: the default notice.
    pub(crate) notice: Option<String>,
    pub(crate) install_method: Option<String>,
    pub(crate) update_method: Option<String>,
    pub(crate) session: SessionKind,
    pub(crate) started_at: Option<Instant>,
}

impl Default for LifecycleOptions {
    fn default() -> Self {
        LifecycleOptions {
            events: true,
            crash_reporting: true,
            notice: Some(String::new()),
            install_method: None,
            update_method: None,
            session: SessionKind::Process,
            started_at: None,
        }
    }
}

/// What starting up decided.
#[derive(Debug, Default)]
pub(crate) struct Startup {
    /// The CLI session continued or started, when sessions span invocations.
    pub(crate) session_id: Option<String>,
    /// Lifecycle events to record, in order.
    pub(crate) events: Vec<Event>,
    /// Whether this is the first run that shows the notice.
    pub(crate) show_notice: bool,
}

/// The running application's lifecycle, kept by the handle.
#[derive(Debug)]
pub(crate) struct Lifecycle {
    store: Option<StateStore>,
    options: LifecycleOptions,
    began: Instant,
}

impl Lifecycle {
    pub(crate) fn new(store: Option<StateStore>, options: LifecycleOptions) -> Self {
        let began = options.started_at.unwrap_or_else(process_start);
        Lifecycle {
            store,
            options,
            began,
        }
    }

    pub(crate) fn options(&self) -> &LifecycleOptions {
        &self.options
    }

    /// Reads and updates the state for this run. Without a state directory,
    /// or when it cannot be written, nothing is inferred: no install or
    /// update event, a process session, no notice (better silent than wrong).
    pub(crate) fn start(&self, version: &str, now: SystemTime) -> Startup {
        let Some(store) = &self.store else {
            return Startup {
                events: self.started_event().into_iter().collect(),
                ..Startup::default()
            };
        };
        let options = &self.options;
        let updated = store.update(|state| {
            let mut startup = Startup::default();
            if options.events {
                match state.last_version.as_deref() {
                    None => startup.events.push(Event::SystemInstalled(SystemInstalled {
                        install_method: options.install_method.clone(),
                    })),
                    Some(previous) if previous != version => {
                        startup.events.push(Event::SystemUpdated(SystemUpdated {
                            previous_version: previous.to_owned(),
                            update_method: options.update_method.clone(),
                        }))
                    }
                    Some(_) => {}
                }
            }
            state.last_version = Some(version.to_owned());
            if let SessionKind::Cli { inactivity } = options.session {
                let session = next_session(state.session.as_ref(), now, inactivity);
                startup.session_id = Some(session.id.clone());
                state.session = Some(session);
            }
            if !state.notice_shown {
                state.notice_shown = true;
                startup.show_notice = true;
            }
            startup
        });
        let mut startup = updated.unwrap_or_else(|error| {
            tracing::debug!(target: "azsdk_telemetry::lifecycle", %error, "telemetry state not available");
            Startup::default()
        });
        startup.events.extend(self.started_event());
        startup
    }

    fn started_event(&self) -> Option<Event> {
        self.options.events.then(|| {
            Event::SystemStarted(SystemStarted {
                startup_duration: self.began.elapsed(),
            })
        })
    }

    /// The stop event (when lifecycle events are on), and the CLI session's
    /// activity moved to now.
    pub(crate) fn stop(&self, tool_calls: u64, now: SystemTime) -> Option<Event> {
        if let (Some(store), SessionKind::Cli { .. }) = (&self.store, self.options.session) {
            let touched = store.update(|state| {
                if let Some(session) = state.session.as_mut() {
                    session.last_activity_ms = session::epoch_ms(now);
                }
            });
            if let Err(error) = touched {
                tracing::debug!(target: "azsdk_telemetry::lifecycle", %error, "could not record session activity");
            }
        }
        self.options.events.then(|| {
            Event::SystemStopped(SystemStopped {
                session_duration: self.began.elapsed(),
                tool_calls_in_session: tool_calls,
            })
        })
    }
}

/// When this process started, as well as the platform tells: on Linux from
/// `/proc`, elsewhere (or if that fails) now.
fn process_start() -> Instant {
    let now = Instant::now();
    process_age()
        .and_then(|age| now.checked_sub(age))
        .unwrap_or(now)
}

#[cfg(target_os = "linux")]
fn process_age() -> Option<Duration> {
    // /proc reports times in USER_HZ, which the kernel ABI fixes at 100.
    const TICKS_PER_SECOND: f64 = 100.0;
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // The command name may hold spaces and parentheses: fields follow the last ')'.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let start_ticks: f64 = fields.get(19)?.parse().ok()?;
    let uptime: f64 = std::fs::read_to_string("/proc/uptime")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()?;
    let age = uptime - start_ticks / TICKS_PER_SECOND;
    (age.is_finite() && age >= 0.0).then(|| Duration::from_secs_f64(age))
}

#[cfg(not(target_os = "linux"))]
fn process_age() -> Option<Duration> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_notice_is_shown_on_the_first_run_only() {
        let dir = tempfile::tempdir().unwrap();
        let start = || {
            Lifecycle::new(
                Some(StateStore::new(dir.path())),
                LifecycleOptions::default(),
            )
            .start("1.0.0", SystemTime::now())
        };
        assert!(start().show_notice);
        assert!(!start().show_notice, "the notice is shown once");
    }

    #[test]
    fn without_a_state_directory_nothing_is_inferred() {
        let startup =
            Lifecycle::new(None, LifecycleOptions::default()).start("1.0.0", SystemTime::now());
        let names: Vec<_> = startup.events.iter().map(Event::name).collect();
        assert_eq!(names, ["SystemStarted"]);
        assert!(!startup.show_notice);
        assert!(startup.session_id.is_none());
    }

    #[test]
    fn the_process_started_before_now() {
        assert!(process_start() <= Instant::now());
    }
}
