//! Rolling 28-day MAU, MEU and MDU.
//!
//! - **Activity** is a `ToolExecuted` event: the spec's only user event.
//!   `SystemStarted` does not count: an editor starts the MCP server on its
//!   own, so a start says nothing about use.
//! - **A user** is a [`user_id`](crate::load::user_id): `devDeviceId`, else
//!   the MAC address hash, else the event counts for nobody.
//! - **The window** is the 28 UTC days ending at the as-of day, both ends
//!   included: `[as_of − 27, as_of]`.
//! - **MAU** counts users active on at least 1 distinct day in the window,
//!   **MEU** on at least 2, **MDU** on at least 10. Several events on one
//!   day are one active day. Users are distinct ids, not weighted by
//!   `itemCount`: sampling can hide a user but never multiply one.

use std::collections::{BTreeMap, BTreeSet};

use crate::day::Day;
use crate::load::Event;

/// Days in the rolling window.
pub const WINDOW_DAYS: i64 = 28;
/// Active days that make a user engaged (MEU).
pub const ENGAGED_DAYS: usize = 2;
/// Active days that make a user dedicated (MDU).
pub const DEDICATED_DAYS: usize = 10;
/// How many days the trend goes back at most.
pub const TREND_DAYS: i64 = 90;

/// The three counts for one window.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ActiveUsers {
    /// Users active on ≥ 1 day.
    pub mau: u64,
    /// Users active on ≥ 2 days.
    pub meu: u64,
    /// Users active on ≥ 10 days.
    pub mdu: u64,
}

/// One point of the MAU/MEU/MDU trend: the window ending at `day`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TrendPoint {
    /// The window's last day.
    pub day: Day,
    /// The counts for that window.
    #[serde(flatten)]
    pub users: ActiveUsers,
}

/// The first day of the window that ends at `as_of`.
///
/// ```
/// use azsdk_telemetry_report::{users::window_start, Day};
/// let end = Day::parse("2025-10-28").unwrap();
/// assert_eq!(window_start(end).to_string(), "2025-10-01");
/// ```
pub fn window_start(as_of: Day) -> Day {
    as_of.minus(WINDOW_DAYS - 1)
}

/// Each user's distinct active days, up to and including `until`.
pub fn active_days(events: &[Event], until: Day) -> BTreeMap<&str, BTreeSet<Day>> {
    let mut days: BTreeMap<&str, BTreeSet<Day>> = BTreeMap::new();
    for event in events.iter().filter(|e| e.is_tool() && e.day <= until) {
        if let Some(user) = event.user.as_deref() {
            days.entry(user).or_default().insert(event.day);
        }
    }
    days
}

/// MAU, MEU and MDU for the window ending at `as_of`.
///
/// ```
/// use azsdk_telemetry_report::{load::parse_line, users::active_users, Day};
/// let line = |time: &str| parse_line(&format!(
///     r#"{{"time":"{time}","data":{{"baseType":"RemoteDependencyData","baseData":{{
///     "name":"ToolExecuted","duration":"00:00:01","success":true,
///     "properties":{{"toolName":"t","devDeviceId":"u1"}}}}}}}}"#)).unwrap();
/// let events = [line("2025-10-01T10:00:00Z"), line("2025-10-02T10:00:00Z")];
/// let counts = active_users(&events, Day::parse("2025-10-28").unwrap());
/// assert_eq!((counts.mau, counts.meu, counts.mdu), (1, 1, 0));
/// ```
pub fn active_users(events: &[Event], as_of: Day) -> ActiveUsers {
    count_in_window(&active_days(events, as_of), as_of)
}

fn count_in_window(days: &BTreeMap<&str, BTreeSet<Day>>, as_of: Day) -> ActiveUsers {
    let start = window_start(as_of);
    let mut counts = ActiveUsers::default();
    for user_days in days.values() {
        let active = user_days.range(start..=as_of).count();
        counts.mau += u64::from(active >= 1);
        counts.meu += u64::from(active >= ENGAGED_DAYS);
        counts.mdu += u64::from(active >= DEDICATED_DAYS);
    }
    counts
}

/// The counts for every window ending on a day from the first active day
/// (at most [`TREND_DAYS`] back) to `as_of`: the spec's daily line chart.
pub fn trend(events: &[Event], as_of: Day) -> Vec<TrendPoint> {
    let days = active_days(events, as_of);
    let Some(first) = days.values().filter_map(|d| d.first()).min().copied() else {
        return Vec::new();
    };
    let start = first.max(as_of.minus(TREND_DAYS - 1));
    (0..=(as_of.index() - start.index()))
        .map(|offset| {
            let day = start.plus(offset);
            TrendPoint {
                day,
                users: count_in_window(&days, day),
            }
        })
        .collect()
}
