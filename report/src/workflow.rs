//! Workflow analysis: tool sequences per session and where users drop off.

use std::collections::{BTreeMap, BTreeSet};

use crate::load::Event;
use crate::stats::rate;

/// The tool whose users the drop-off starts from.
pub const GENERATE_TOOL: &str = "azsdk_generate_sdk";
/// The tool whose absence is the drop-off.
pub const TEST_TOOL: &str = "azsdk_run_tests";
/// How many sequences the report lists.
pub const TOP_SEQUENCES: usize = 20;

/// A sequence of tools and how many sessions called exactly it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Sequence {
    /// Tool names in call order.
    pub tools: Vec<String>,
    /// Sessions whose whole sequence this is.
    pub sessions: u64,
}

/// The most common tool sequences per session, most common first (ties by
/// sequence, alphabetically), at most `top`.
///
/// A session's sequence is its `ToolExecuted` events ordered by time (events
/// with the same time keep their input order). Events without a `sessionId`
/// belong to no session. Sessions are counted once each, not weighted by
/// `itemCount`: a sampled item cannot restore the calls that were dropped.
///
/// ```
/// use azsdk_telemetry_report::{load::parse_line, workflow::sequences};
/// let call = |time: &str, tool: &str| parse_line(&format!(
///     r#"{{"time":"{time}","data":{{"baseType":"RemoteDependencyData","baseData":{{
///     "name":"ToolExecuted","duration":"00:00:01","success":true,
///     "properties":{{"toolName":"{tool}","sessionId":"s1"}}}}}}}}"#)).unwrap();
/// let events = [call("2025-10-01T10:05:00Z", "test"), call("2025-10-01T10:00:00Z", "generate")];
/// let top = sequences(&events, 20);
/// assert_eq!(top[0].tools, ["generate", "test"]);
/// ```
pub fn sequences<'a>(events: impl IntoIterator<Item = &'a Event>, top: usize) -> Vec<Sequence> {
    let mut sessions: BTreeMap<&str, Vec<&Event>> = BTreeMap::new();
    for event in events.into_iter().filter(|e| e.is_tool()) {
        if let Some(session) = event.session_id.as_deref() {
            sessions.entry(session).or_default().push(event);
        }
    }
    let mut counts: BTreeMap<Vec<String>, u64> = BTreeMap::new();
    for calls in sessions.values_mut() {
        calls.sort_by_key(|e| (e.time, e.seq));
        let tools = calls
            .iter()
            .filter_map(|e| e.tool_name.clone())
            .collect::<Vec<_>>();
        *counts.entry(tools).or_default() += 1;
    }
    let mut list: Vec<Sequence> = counts
        .into_iter()
        .map(|(tools, sessions)| Sequence { tools, sessions })
        .collect();
    list.sort_by(|a, b| {
        b.sessions
            .cmp(&a.sessions)
            .then_with(|| a.tools.cmp(&b.tools))
    });
    list.truncate(top);
    list
}

/// Users who generated an SDK but never ran its tests.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DropOff {
    /// The first step's tool.
    pub from_tool: String,
    /// The step users may skip.
    pub to_tool: String,
    /// Users who called `from_tool`.
    pub started: u64,
    /// Of those, users who also called `to_tool`.
    pub continued: u64,
    /// Of those, users who never called `to_tool`.
    pub dropped: u64,
    /// `100 × dropped / started`, 2 decimals.
    pub drop_off_rate: f64,
}

/// The spec's drop-off: distinct users who called `from_tool`, and how many
/// of them never called `to_tool` (before or after). Events without a user
/// id count for nobody.
///
/// ```
/// use azsdk_telemetry_report::workflow::drop_off;
/// let none = drop_off(&[], "azsdk_generate_sdk", "azsdk_run_tests");
/// assert_eq!((none.started, none.dropped, none.drop_off_rate), (0, 0, 0.0));
/// ```
pub fn drop_off<'a>(
    events: impl IntoIterator<Item = &'a Event>,
    from_tool: &str,
    to_tool: &str,
) -> DropOff {
    let mut from: BTreeSet<&str> = BTreeSet::new();
    let mut to: BTreeSet<&str> = BTreeSet::new();
    for event in events.into_iter().filter(|e| e.is_tool()) {
        let (Some(user), Some(tool)) = (event.user.as_deref(), event.tool_name.as_deref()) else {
            continue;
        };
        if tool == from_tool {
            from.insert(user);
        }
        if tool == to_tool {
            to.insert(user);
        }
    }
    let started = from.len() as u64;
    let continued = from.intersection(&to).count() as u64;
    let dropped = started - continued;
    DropOff {
        from_tool: from_tool.to_owned(),
        to_tool: to_tool.to_owned(),
        started,
        continued,
        dropped,
        drop_off_rate: rate(dropped, started),
    }
}
