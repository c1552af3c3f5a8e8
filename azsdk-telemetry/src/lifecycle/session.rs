//! Sessions: one per process for servers; for CLIs, one that spans
//! invocations until a stretch of inactivity.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::state::StoredSession;

/// How a session is delimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SessionKind {
    /// One session per process: MCP servers and services.
    #[default]
    Process,
    /// One session across invocations until `inactivity` passes without one:
    /// CLIs (the spec's 30 minutes: [`SessionKind::cli`]).
    Cli {
        /// The inactivity that ends a session.
        inactivity: Duration,
    },
}

impl SessionKind {
    /// The spec's CLI session: 30 minutes of inactivity end it.
    pub const fn cli() -> Self {
        SessionKind::Cli {
            inactivity: Duration::from_secs(30 * 60),
        }
    }
}

/// Milliseconds since the Unix epoch (0 for times before it).
pub(crate) fn epoch_ms(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// The session an invocation at `now` belongs to: the stored one when its
/// last activity is at most `inactivity` ago, else a new one. A stored
/// activity in the future (a clock set back) is trusted only within the
/// same window. Either way the returned session's activity is `now`.
pub(crate) fn next_session(
    stored: Option<&StoredSession>,
    now: SystemTime,
    inactivity: Duration,
) -> StoredSession {
    let now_ms = epoch_ms(now);
    let window = u64::try_from(inactivity.as_millis()).unwrap_or(u64::MAX);
    let continues = stored.is_some_and(|session| {
        now_ms.abs_diff(session.last_activity_ms) <= window && !session.id.is_empty()
    });
    let id = match stored {
        Some(session) if continues => session.id.clone(),
        _ => uuid::Uuid::new_v4().to_string(),
    };
    StoredSession {
        id,
        last_activity_ms: now_ms,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const WINDOW: Duration = Duration::from_secs(30 * 60);

    #[test]
    fn a_session_continues_within_the_window_and_ends_after_it() {
        let start = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let first = next_session(None, start, WINDOW);
        let at = |offset: Duration| start + offset;

        let within = next_session(Some(&first), at(WINDOW), WINDOW);
        assert_eq!(
            within.id, first.id,
            "exactly 30 minutes later still continues"
        );
        assert_eq!(within.last_activity_ms, epoch_ms(at(WINDOW)));

        // Activity moves the window: 29 minutes after each call, forever the same session.
        let mut session = first.clone();
        for step in 1..=5u32 {
            let now = at(Duration::from_secs(29 * 60) * step);
            session = next_session(Some(&session), now, WINDOW);
            assert_eq!(session.id, first.id);
        }

        let after = next_session(Some(&first), at(WINDOW + Duration::from_millis(1)), WINDOW);
        assert_ne!(
            after.id, first.id,
            "one millisecond past the window starts a new session"
        );
    }

    #[test]
    fn a_clock_set_far_back_starts_a_new_session() {
        let start = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let first = next_session(None, start, WINDOW);
        let earlier = start - Duration::from_secs(3 * 3600);
        assert_ne!(next_session(Some(&first), earlier, WINDOW).id, first.id);
    }
}
