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
