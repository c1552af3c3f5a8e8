//! The whole report: every dashboard number computed from loaded events.
//!
//! Scope: the MAU/MEU/MDU trend reads every event up to the as-of day; every
//! other section reads the `ToolExecuted` events of the 28-day window
//! `[as_of − 27, as_of]`. The as-of day is given, or the UTC day of the
//! newest event of any kind, or today when there is none. Counts of calls
//! are `sum(itemCount)`, so sampled items weigh what they stand for.

use std::collections::BTreeMap;

use crate::day::Day;
use crate::load::{Event, LoadStats};
use crate::stats::{rate, Latency};
use crate::users::{self, ActiveUsers, TrendPoint, WINDOW_DAYS};
use crate::workflow::{self, DropOff, Sequence, GENERATE_TOOL, TEST_TOOL, TOP_SEQUENCES};

/// The tool that creates release plans (spec: "How many release plans were generated?").
pub const RELEASE_PLAN_TOOL: &str = "azsdk_create_release_plan";
/// The label of a dimension that an event does not carry.
pub const NOT_SET: &str = "(not set)";

/// Per-tool reliability and latency.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ToolStats {
    /// `toolName`.
    pub tool_name: String,
    /// The tool's most frequent `toolCategory`.
    pub category: String,
    /// `sum(itemCount)`.
    pub calls: u64,
    /// Calls that succeeded.
    pub successes: u64,
    /// Calls that failed.
    pub failures: u64,
    /// `100 × successes / calls`, 2 decimals.
    pub success_rate: f64,
    /// Latency, flattened into `avgMs`, `p50Ms`, `p95Ms`.
    #[serde(flatten)]
    pub latency: Latency,
}

/// Calls and latency of one value of a dimension (a category, a platform, ...).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Breakdown {
    /// The dimension's value, or [`NOT_SET`].
    pub name: String,
    /// `sum(itemCount)`.
    pub calls: u64,
    /// Share of all calls in the section, 2 decimals.
    pub share: f64,
    /// `100 × successes / calls`, 2 decimals.
    pub success_rate: f64,
    /// Latency, flattened into `avgMs`, `p50Ms`, `p95Ms`.
    #[serde(flatten)]
    pub latency: Latency,
}

/// Failed calls of one tool with one `errorType`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ErrorCount {
    /// `toolName`.
    pub tool_name: String,
    /// `errorType`, or [`NOT_SET`].
    pub error_type: String,
    /// `sum(itemCount)` of the failures.
    pub count: u64,
}

/// What the report read.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct InputSummary {
    /// Lines, events and skipped lines.
    #[serde(flatten)]
    pub load: LoadStats,
    /// `ToolExecuted` items in the window.
    pub tool_events_in_window: u64,
    /// `ToolExecuted` items in the window without a user id (in no user count).
    pub tool_events_without_user: u64,
    /// Events after the as-of day (left out of everything).
    pub events_after_as_of: u64,
}

/// The report. Its JSON form is the `--format json` output.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    /// The window's last day.
    pub as_of: Day,
    /// The window's first day.
    pub window_start: Day,
    /// Days in the window (28).
    pub window_days: i64,
    /// Users active on ≥ 1 day of the window.
    pub mau: u64,
    /// Users active on ≥ 2 days of the window.
    pub meu: u64,
    /// Users active on ≥ 10 days of the window.
    pub mdu: u64,
    /// What was read.
    pub input: InputSummary,
    /// Per tool, most called first.
    pub tools: Vec<ToolStats>,
    /// Per `toolCategory`, most called first.
    pub categories: Vec<Breakdown>,
    /// Failures per tool and `errorType`, most frequent first.
    pub errors: Vec<ErrorCount>,
    /// Per `platform`.
    pub platforms: Vec<Breakdown>,
    /// Per `clientName`.
    pub clients: Vec<Breakdown>,
    /// Per `agentName`.
    pub agents: Vec<Breakdown>,
    /// Per `agentModel`.
    pub models: Vec<Breakdown>,
    /// Per `language` (calls that name one).
    pub languages: Vec<Breakdown>,
    /// Per `planeType` (calls that name one).
    pub planes: Vec<Breakdown>,
    /// `azsdk_generate_sdk` calls per `language`.
    pub sdk_generations: Vec<Breakdown>,
    /// `azsdk_create_release_plan` calls.
    pub release_plans: u64,
    /// The most common tool sequences per session.
    pub sequences: Vec<Sequence>,
    /// Users who generated but never tested.
    pub drop_off: DropOff,
    /// MAU/MEU/MDU of the window ending on each day.
    pub trend: Vec<TrendPoint>,
}

impl Report {
    /// Computes the report over `events`; `as_of` ends the window (default:
    /// the newest event's UTC day).
    ///
    /// ```
    /// use azsdk_telemetry_report::{Loader, Report};
    /// let mut loader = Loader::default();
    /// loader.read("inline", r#"{"time":"2025-10-16T23:44:57Z","data":{"baseType":"RemoteDependencyData","baseData":{"name":"ToolExecuted","duration":"0.00:00:02.000000","success":true,"properties":{"toolName":"azsdk_run_tests","devDeviceId":"u1"}}}}"#.as_bytes()).unwrap();
    /// let (events, stats) = loader.finish();
    /// let report = Report::build(&events, stats, None);
    /// assert_eq!(report.as_of.to_string(), "2025-10-16");
    /// assert_eq!((report.mau, report.meu, report.mdu), (1, 0, 0));
    /// assert_eq!(report.tools[0].latency.p95_ms, 2000.0);
    /// ```
    pub fn build(events: &[Event], load: LoadStats, as_of: Option<Day>) -> Report {
        let as_of = as_of
            .or_else(|| events.iter().map(|e| e.day).max())
            .unwrap_or_else(Day::today);
        let window_start = users::window_start(as_of);
        let in_window: Vec<&Event> = events
            .iter()
            .filter(|e| e.is_tool() && e.day >= window_start && e.day <= as_of)
            .collect();
        let ActiveUsers { mau, meu, mdu } = users::active_users(events, as_of);

        let tool_events_in_window = in_window.iter().map(|e| e.item_count).sum();
        let tool_events_without_user = in_window
            .iter()
            .filter(|e| e.user.is_none())
            .map(|e| e.item_count)
            .sum();
        let events_after_as_of = events.iter().filter(|e| e.day > as_of).count() as u64;

        let label = |value: &Option<String>| value.clone().unwrap_or_else(|| NOT_SET.to_owned());
        let generations: Vec<&Event> = in_window
            .iter()
            .copied()
            .filter(|e| e.tool_name.as_deref() == Some(GENERATE_TOOL))
            .collect();

        Report {
            as_of,
            window_start,
            window_days: WINDOW_DAYS,
            mau,
            meu,
            mdu,
            input: InputSummary {
                load,
                tool_events_in_window,
                tool_events_without_user,
                events_after_as_of,
            },
            tools: tool_stats(&in_window),
            categories: breakdown(&in_window, |e| Some(label(&e.tool_category))),
            errors: error_counts(&in_window),
            platforms: breakdown(&in_window, |e| Some(label(&e.platform))),
            clients: breakdown(&in_window, |e| Some(label(&e.client_name))),
            agents: breakdown(&in_window, |e| Some(label(&e.agent_name))),
            models: breakdown(&in_window, |e| Some(label(&e.agent_model))),
            languages: breakdown(&in_window, |e| e.language.clone()),
            planes: breakdown(&in_window, |e| e.plane_type.clone()),
            sdk_generations: breakdown(&generations, |e| Some(label(&e.language))),
            release_plans: in_window
                .iter()
                .filter(|e| e.tool_name.as_deref() == Some(RELEASE_PLAN_TOOL))
                .map(|e| e.item_count)
                .sum(),
            sequences: workflow::sequences(in_window.iter().copied(), TOP_SEQUENCES),
            drop_off: workflow::drop_off(in_window.iter().copied(), GENERATE_TOOL, TEST_TOOL),
            trend: users::trend(events, as_of),
        }
    }

    /// The tool named `name`, if it was called in the window.
    pub fn tool(&self, name: &str) -> Option<&ToolStats> {
        self.tools.iter().find(|t| t.tool_name == name)
    }
}

/// Calls, successes and `(ms, itemCount)` durations of a group.
#[derive(Default)]
struct Group {
    calls: u64,
    successes: u64,
    durations: Vec<(f64, u64)>,
}

impl Group {
    fn add(&mut self, event: &Event) {
        self.calls += event.item_count;
        if event.success {
            self.successes += event.item_count;
        }
        self.durations.push((event.duration_ms(), event.item_count));
    }
}

/// Most calls first, then by name.
fn by_calls_then_name<T>(list: &mut [T], key: impl Fn(&T) -> (u64, &str)) {
    list.sort_by(|a, b| {
        let (a, b) = (key(a), key(b));
        b.0.cmp(&a.0).then_with(|| a.1.cmp(b.1))
    });
}

fn tool_stats(events: &[&Event]) -> Vec<ToolStats> {
    let mut groups: BTreeMap<&str, (Group, BTreeMap<&str, u64>)> = BTreeMap::new();
    for event in events {
        let Some(tool) = event.tool_name.as_deref() else {
            continue;
        };
        let (group, categories) = groups.entry(tool).or_default();
        group.add(event);
        let category = event.tool_category.as_deref().unwrap_or(NOT_SET);
        *categories.entry(category).or_default() += event.item_count;
    }
    let mut list: Vec<ToolStats> = groups
        .into_iter()
        .map(|(tool, (group, categories))| {
            let category = categories
                .iter()
                .max_by(|a, b| a.1.cmp(b.1).then_with(|| b.0.cmp(a.0)))
                .map_or(NOT_SET, |(name, _)| name);
            ToolStats {
                tool_name: tool.to_owned(),
                category: category.to_owned(),
                calls: group.calls,
                successes: group.successes,
                failures: group.calls - group.successes,
                success_rate: rate(group.successes, group.calls),
                latency: Latency::of(&group.durations),
            }
        })
        .collect();
    by_calls_then_name(&mut list, |t| (t.calls, &t.tool_name));
    list
}

/// Groups by `key` (events where it is `None` are left out).
fn breakdown(events: &[&Event], key: impl Fn(&Event) -> Option<String>) -> Vec<Breakdown> {
    let mut groups: BTreeMap<String, Group> = BTreeMap::new();
    for event in events {
        if let Some(name) = key(event) {
            groups.entry(name).or_default().add(event);
        }
    }
    let total: u64 = groups.values().map(|g| g.calls).sum();
    let mut list: Vec<Breakdown> = groups
        .into_iter()
        .map(|(name, group)| Breakdown {
            name,
            calls: group.calls,
            share: rate(group.calls, total),
            success_rate: rate(group.successes, group.calls),
            latency: Latency::of(&group.durations),
        })
        .collect();
    by_calls_then_name(&mut list, |b| (b.calls, &b.name));
    list
}

fn error_counts(events: &[&Event]) -> Vec<ErrorCount> {
    let mut counts: BTreeMap<(&str, &str), u64> = BTreeMap::new();
    for event in events.iter().filter(|e| !e.success) {
        let tool = event.tool_name.as_deref().unwrap_or(NOT_SET);
        let error = event.error_type.as_deref().unwrap_or(NOT_SET);
        *counts.entry((tool, error)).or_default() += event.item_count;
    }
    let mut list: Vec<ErrorCount> = counts
        .into_iter()
        .map(|((tool, error), count)| ErrorCount {
            tool_name: tool.to_owned(),
            error_type: error.to_owned(),
            count,
        })
        .collect();
    list.sort_by(|a, b| {
        b.count
            .cmp(&a.count)
            .then_with(|| (&a.tool_name, &a.error_type).cmp(&(&b.tool_name, &b.error_type)))
    });
    list
}
