//! Reading JSONL files of Application Insights envelopes into typed rows.
//!
//! One line is one envelope, as the JSONL sink and the local collector write
//! them. A line that is not JSON, not a `RemoteDependencyData` envelope, or
//! lacks a field the report needs is skipped and counted by reason; it never
//! stops the report. Blank lines are ignored.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::time::SystemTime;

use serde_json::{Map, Value};

use crate::day::Day;
use crate::error::ReportError;

/// The event name of a tool invocation, the spec's only user event.
pub const TOOL_EXECUTED: &str = "ToolExecuted";

/// The device id value the framework writes when it has none.
pub const NOT_AVAILABLE: &str = "N/A";

/// How many skipped lines are kept as examples in [`LoadStats::examples`].
pub const MAX_EXAMPLES: usize = 10;

/// One envelope as a typed row: the columns the dashboards read.
///
/// ```
/// use azsdk_telemetry_report::load::parse_line;
/// let line = r#"{"time":"2025-10-16T23:44:57.217000Z","sampleRate":50.0,
///   "data":{"baseType":"RemoteDependencyData","baseData":{"name":"ToolExecuted",
///   "duration":"0.00:00:12.450000","success":true,
///   "properties":{"toolName":"azsdk_generate_sdk","devDeviceId":"abc"}}}}"#;
/// let event = parse_line(&line.replace('\n', "")).unwrap();
/// assert_eq!(event.tool_name.as_deref(), Some("azsdk_generate_sdk"));
/// assert_eq!(event.duration_us, 12_450_000);
/// assert_eq!(event.item_count, 2);
/// assert_eq!(event.user.as_deref(), Some("abc"));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// `time`.
    pub time: SystemTime,
    /// The UTC day of `time`.
    pub day: Day,
    /// `baseData.name`: `ToolExecuted`, `SystemStarted`, ...
    pub name: String,
    /// `baseData.success`.
    pub success: bool,
    /// `baseData.duration`, in microseconds.
    pub duration_us: u64,
    /// How many events this item stands for: `round(100 / sampleRate)`, at
    /// least 1; 1 when `sampleRate` is absent. Kusto's `itemCount`.
    pub item_count: u64,
    /// Who: `devDeviceId`, else `mac:` + `macAddressHash`, else `None`
    /// (both absent, empty or `N/A`). See [`user_id`].
    pub user: Option<String>,
    /// `sessionId`.
    pub session_id: Option<String>,
    /// `toolName` (required for `ToolExecuted`).
    pub tool_name: Option<String>,
    /// `toolCategory`.
    pub tool_category: Option<String>,
    /// `platform`.
    pub platform: Option<String>,
    /// `clientName`.
    pub client_name: Option<String>,
    /// `agentName`.
    pub agent_name: Option<String>,
    /// `agentModel`.
    pub agent_model: Option<String>,
    /// `language`.
    pub language: Option<String>,
    /// `planeType`.
    pub plane_type: Option<String>,
    /// `serviceName`.
    pub service_name: Option<String>,
    /// `errorType`.
    pub error_type: Option<String>,
    /// Position in the input (file order, then line order): breaks ties
    /// between events with the same time.
    pub seq: u64,
}

impl Event {
    /// Whether this is a tool invocation.
    pub fn is_tool(&self) -> bool {
        self.name == TOOL_EXECUTED
    }

    /// Duration in milliseconds.
    pub fn duration_ms(&self) -> f64 {
        self.duration_us as f64 / 1000.0
    }
}

/// The identity MAU/MEU/MDU count: `devDeviceId` when it is known; otherwise
/// `macAddressHash`, prefixed with `mac:` so it can never collide with a
/// device id; otherwise none, and the event counts for no user.
///
/// ```
/// use azsdk_telemetry_report::load::user_id;
/// assert_eq!(user_id(Some("d1"), Some("m1")).as_deref(), Some("d1"));
/// assert_eq!(user_id(Some("N/A"), Some("m1")).as_deref(), Some("mac:m1"));
/// assert_eq!(user_id(Some(""), Some("N/A")), None);
/// ```
pub fn user_id(dev_device_id: Option<&str>, mac_address_hash: Option<&str>) -> Option<String> {
    let known = |value: Option<&str>| {
        value
            .map(str::trim)
            .filter(|v| !v.is_empty() && *v != NOT_AVAILABLE)
            .map(str::to_owned)
    };
    known(dev_device_id).or_else(|| known(mac_address_hash).map(|mac| format!("mac:{mac}")))
}

/// Why a line was skipped.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum SkipReason {
    /// The line is not valid UTF-8 or not JSON.
    NotJson,
    /// JSON, but not a `RemoteDependencyData` envelope.
    NotAnEnvelope,
    /// A field the report needs is absent.
    MissingField(&'static str),
    /// A field is present but unusable.
    InvalidField(&'static str),
}

impl std::fmt::Display for SkipReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SkipReason::NotJson => f.write_str("not JSON"),
            SkipReason::NotAnEnvelope => f.write_str("not a RemoteDependencyData envelope"),
            SkipReason::MissingField(field) => write!(f, "missing {field}"),
            SkipReason::InvalidField(field) => write!(f, "invalid {field}"),
        }
    }
}

/// A skipped line, kept as an example for the reader of the report.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SkippedLine {
    /// The file it came from.
    pub file: String,
    /// 1-based line number.
    pub line: u64,
    /// Why it was skipped.
    pub reason: String,
}

/// What loading read and what it skipped.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LoadStats {
    /// Files read.
    pub files: u64,
    /// Non-blank lines read.
    pub lines: u64,
    /// Envelopes loaded.
    pub events: u64,
    /// Lines skipped.
    pub skipped: u64,
    /// Skipped lines by reason.
    pub skipped_by_reason: BTreeMap<String, u64>,
    /// The first [`MAX_EXAMPLES`] skipped lines.
    pub examples: Vec<SkippedLine>,
}

/// Accumulates events from any number of files.
///
/// ```
/// use azsdk_telemetry_report::Loader;
/// let mut loader = Loader::default();
/// loader.read("inline", "not json\n\n{}\n".as_bytes()).unwrap();
/// let (events, stats) = loader.finish();
/// assert!(events.is_empty());
/// assert_eq!((stats.lines, stats.skipped), (2, 2));
/// ```
#[derive(Debug, Default)]
pub struct Loader {
    events: Vec<Event>,
    stats: LoadStats,
}

impl Loader {
    /// Reads one JSONL file.
    pub fn read_file(&mut self, path: &Path) -> Result<(), ReportError> {
        let read_error = |source| ReportError::Read {
            path: path.to_owned(),
            source,
        };
        let file = File::open(path).map_err(read_error)?;
        self.read(&path.display().to_string(), BufReader::new(file))
            .map_err(|error| match error {
                ReportError::Read { source, .. } => read_error(source),
                other => other,
            })
    }

    /// Reads JSONL from any reader; `name` labels skipped lines.
    pub fn read(&mut self, name: &str, mut reader: impl BufRead) -> Result<(), ReportError> {
        self.stats.files += 1;
        let mut buffer = Vec::new();
        let mut line_number = 0u64;
        loop {
            buffer.clear();
            let read =
                reader
                    .read_until(b'\n', &mut buffer)
                    .map_err(|source| ReportError::Read {
                        path: name.into(),
                        source,
                    })?;
            if read == 0 {
                return Ok(());
            }
            line_number += 1;
            let parsed = match std::str::from_utf8(&buffer) {
                Ok(text) if text.trim().is_empty() => continue,
                Ok(text) => parse_line(text),
                Err(_) => Err(SkipReason::NotJson),
            };
            self.stats.lines += 1;
            match parsed {
                Ok(mut event) => {
                    event.seq = self.events.len() as u64;
                    self.events.push(event);
                    self.stats.events += 1;
                }
                Err(reason) => self.skip(name, line_number, reason),
            }
        }
    }

    fn skip(&mut self, file: &str, line: u64, reason: SkipReason) {
        self.stats.skipped += 1;
        let reason = reason.to_string();
        if self.stats.examples.len() < MAX_EXAMPLES {
            self.stats.examples.push(SkippedLine {
                file: file.to_owned(),
                line,
                reason: reason.clone(),
            });
        }
        *self.stats.skipped_by_reason.entry(reason).or_default() += 1;
    }

    /// The events in input order, and the counts.
    pub fn finish(self) -> (Vec<Event>, LoadStats) {
        (self.events, self.stats)
    }
}

/// Parses one line into an [`Event`], or says why it cannot be used.
pub fn parse_line(line: &str) -> Result<Event, SkipReason> {
    let envelope: Value = serde_json::from_str(line).map_err(|_| SkipReason::NotJson)?;
    let envelope = envelope.as_object().ok_or(SkipReason::NotAnEnvelope)?;
    let data = envelope
        .get("data")
        .and_then(Value::as_object)
        .ok_or(SkipReason::NotAnEnvelope)?;
    if data.get("baseType").and_then(Value::as_str) != Some("RemoteDependencyData") {
        return Err(SkipReason::NotAnEnvelope);
    }
    let base = data
        .get("baseData")
        .and_then(Value::as_object)
        .ok_or(SkipReason::MissingField("baseData"))?;

    let time = envelope
        .get("time")
        .ok_or(SkipReason::MissingField("time"))?;
    let time = time
        .as_str()
        .and_then(parse_time)
        .ok_or(SkipReason::InvalidField("time"))?;
    let name = base
        .get("name")
        .and_then(Value::as_str)
        .filter(|name| !name.is_empty())
        .ok_or(SkipReason::MissingField("baseData.name"))?;
    let success = match base.get("success") {
        None => return Err(SkipReason::MissingField("baseData.success")),
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) if s.eq_ignore_ascii_case("true") => true,
        Some(Value::String(s)) if s.eq_ignore_ascii_case("false") => false,
        Some(_) => return Err(SkipReason::InvalidField("baseData.success")),
    };
    let duration_us = match base.get("duration") {
        None => return Err(SkipReason::MissingField("baseData.duration")),
        Some(Value::String(text)) => parse_duration_us(text),
        // The spec's flattened examples give milliseconds as a number.
        Some(Value::Number(ms)) => ms
            .as_f64()
            .filter(|ms| ms.is_finite() && *ms >= 0.0)
            .map(|ms| (ms * 1000.0).round() as u64),
        Some(_) => None,
    }
    .ok_or(SkipReason::InvalidField("baseData.duration"))?;
    let item_count = match envelope.get("sampleRate") {
        None | Some(Value::Null) => 1,
        Some(rate) => rate
            .as_f64()
            .and_then(item_count)
            .ok_or(SkipReason::InvalidField("sampleRate"))?,
    };
    let empty = Map::new();
    let properties = match base.get("properties") {
        None | Some(Value::Null) => &empty,
        Some(Value::Object(map)) => map,
        Some(_) => return Err(SkipReason::InvalidField("baseData.properties")),
    };
    let prop = |key: &str| {
        properties
            .get(key)
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|value| !value.is_empty())
            .map(str::to_owned)
    };
    let tool_name = prop("toolName");
    if name == TOOL_EXECUTED && tool_name.is_none() {
        return Err(SkipReason::MissingField("properties.toolName"));
    }
    Ok(Event {
        time,
        day: Day::of(time),
        name: name.to_owned(),
        success,
        duration_us,
        item_count,
        user: user_id(
            prop("devDeviceId").as_deref(),
            prop("macAddressHash").as_deref(),
        ),
        session_id: prop("sessionId"),
        tool_name,
        tool_category: prop("toolCategory"),
        platform: prop("platform"),
        client_name: prop("clientName"),
        agent_name: prop("agentName"),
        agent_model: prop("agentModel"),
        language: prop("language"),
        plane_type: prop("planeType"),
        service_name: prop("serviceName"),
        error_type: prop("errorType"),
        seq: 0,
    })
}

/// `itemCount` for a `sampleRate` (percent of events kept, in (0, 100]).
///
/// ```
/// use azsdk_telemetry_report::load::item_count;
/// assert_eq!(item_count(100.0), Some(1));
/// assert_eq!(item_count(25.0), Some(4));
/// assert_eq!(item_count(33.3), Some(3));
/// assert_eq!(item_count(0.0), None);
/// assert_eq!(item_count(150.0), None);
/// ```
pub fn item_count(sample_rate: f64) -> Option<u64> {
    if sample_rate.is_finite() && sample_rate > 0.0 && sample_rate <= 100.0 {
        Some(((100.0 / sample_rate).round() as u64).max(1))
    } else {
        None
    }
}

/// Parses the envelope's `time`: RFC 3339 in UTC (`Z` or `+00:00`).
fn parse_time(text: &str) -> Option<SystemTime> {
    let utc = text
        .strip_suffix("+00:00")
        .map_or_else(|| text.to_owned(), |rest| format!("{rest}Z"));
    humantime::parse_rfc3339(&utc).ok()
}

/// Parses `[d.]hh:mm:ss[.fraction]` into microseconds (fraction digits past
/// the sixth are dropped).
///
/// ```
/// use azsdk_telemetry_report::load::parse_duration_us;
/// assert_eq!(parse_duration_us("0.00:00:12.450000"), Some(12_450_000));
/// assert_eq!(parse_duration_us("1.01:01:01"), Some(90_061_000_000));
/// assert_eq!(parse_duration_us("00:00:00.0000015"), Some(1));
/// assert_eq!(parse_duration_us("12.45"), None);
/// ```
pub fn parse_duration_us(text: &str) -> Option<u64> {
    let (clock, fraction) = match text.split_once('.') {
        // `d.hh:mm:ss...`: a dot before the first colon separates the days.
        Some((days, rest)) if !days.contains(':') => {
            let days: u64 = digits(days)?;
            let (clock, fraction) = rest.split_once('.').unwrap_or((rest, ""));
            return Some(days * 86_400_000_000 + clock_us(clock)? + fraction_us(fraction)?);
        }
        Some((clock, fraction)) => (clock, fraction),
        None => (text, ""),
    };
    Some(clock_us(clock)? + fraction_us(fraction)?)
}

fn digits(text: &str) -> Option<u64> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

fn clock_us(clock: &str) -> Option<u64> {
    let mut parts = clock.split(':');
    let (h, m, s) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let (h, m, s) = (digits(h)?, digits(m)?, digits(s)?);
    if m >= 60 || s >= 60 {
        return None;
    }
    Some(((h * 60 + m) * 60 + s) * 1_000_000)
}

fn fraction_us(fraction: &str) -> Option<u64> {
    if fraction.is_empty() {
        return Some(0);
    }
    if !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let six: String = fraction.chars().chain("000000".chars()).take(6).collect();
    six.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn envelope() -> Value {
        json!({
            "ver": 1, "name": "Microsoft.ApplicationInsights.RemoteDependency",
            "time": "2025-10-16T23:44:57.217000Z", "sampleRate": 100.0,
            "data": {"baseType": "RemoteDependencyData", "baseData": {
                "ver": 2, "name": "ToolExecuted", "duration": "0.00:00:01.500000",
                "success": false,
                "properties": {"toolName": "t", "devDeviceId": "N/A", "macAddressHash": "m",
                               "errorType": "NetworkError", "language": ""}}}
        })
    }

    #[test]
    fn a_full_envelope_becomes_a_row() {
        let event = parse_line(&envelope().to_string()).unwrap();
        assert_eq!(event.day.to_string(), "2025-10-16");
        assert!(!event.success);
        assert_eq!(event.duration_ms(), 1500.0);
        assert_eq!(event.user.as_deref(), Some("mac:m"));
        assert_eq!(event.error_type.as_deref(), Some("NetworkError"));
        assert_eq!(event.language, None, "empty values are absent");
    }

    #[test]
    fn each_missing_or_bad_field_has_its_reason() {
        type Change = fn(&mut Value);
        let cases: Vec<(Change, SkipReason)> = vec![
            (
                |e| e["data"]["baseType"] = json!("EventData"),
                SkipReason::NotAnEnvelope,
            ),
            (
                |e| e["time"] = json!("yesterday"),
                SkipReason::InvalidField("time"),
            ),
            (
                |e| {
                    e.as_object_mut().unwrap().remove("time");
                },
                SkipReason::MissingField("time"),
            ),
            (
                |e| e["data"]["baseData"]["duration"] = json!("soon"),
                SkipReason::InvalidField("baseData.duration"),
            ),
            (
                |e| e["data"]["baseData"]["success"] = json!(1),
                SkipReason::InvalidField("baseData.success"),
            ),
            (
                |e| e["sampleRate"] = json!(0),
                SkipReason::InvalidField("sampleRate"),
            ),
            (
                |e| {
                    e["data"]["baseData"]["properties"]
                        .as_object_mut()
                        .unwrap()
                        .remove("toolName");
                },
                SkipReason::MissingField("properties.toolName"),
            ),
        ];
        for (change, reason) in cases {
            let mut line = envelope();
            change(&mut line);
            assert_eq!(parse_line(&line.to_string()), Err(reason));
        }
        assert_eq!(parse_line("[1,2]"), Err(SkipReason::NotAnEnvelope));
        assert_eq!(parse_line("{\"time\""), Err(SkipReason::NotJson));
    }

    #[test]
    fn durations_in_every_accepted_form() {
        assert_eq!(parse_duration_us("00:01:00"), Some(60_000_000));
        assert_eq!(parse_duration_us("0.00:00:00.000001"), Some(1));
        assert_eq!(
            parse_duration_us("999.23:59:59.999999"),
            Some(86_399_999_999_999)
        );
        assert_eq!(parse_duration_us("0.00:60:00"), None);
        assert_eq!(parse_duration_us("-1.00:00:00"), None);
        assert_eq!(parse_duration_us(""), None);
    }

    #[test]
    fn invalid_utf8_and_blank_lines() {
        let mut loader = Loader::default();
        let mut input = b"\n   \n".to_vec();
        input.extend_from_slice(&[0xff, 0xfe, b'\n']);
        input.extend_from_slice(envelope().to_string().as_bytes());
        loader.read("bytes", &input[..]).unwrap();
        let (events, stats) = loader.finish();
        assert_eq!(events.len(), 1);
        assert_eq!((stats.lines, stats.skipped), (2, 1));
        assert_eq!(stats.examples[0].line, 3);
        assert_eq!(stats.skipped_by_reason["not JSON"], 1);
    }
}
