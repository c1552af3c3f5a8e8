//! The Application Insights envelope of a record: one `Serialize` model of the wire type,
//! written by serde_json for every destination (memory, JSONL, spool, wire).
//!
//! Every event lands as a `RemoteDependencyData` item, so it appears in the
//! `dependencies` table (`AppDependencies` in a workspace) with `name`,
//! `success`, `duration` and `customDimensions` columns, where the spec's
//! Kusto queries read it.
//!
//! Hand-written here: the serializer of the duration, because the schema's
//! `d.hh:mm:ss.ffffff` (a .NET `TimeSpan`) is a format no kept library writes.

use std::time::{Duration, SystemTime};

use serde::ser::{Error as _, SerializeMap, Serializer};
use serde::Serialize;
use serde_json::Value;

use crate::event::Record;

/// `ai.internal.sdkVersion` of every envelope.
pub(crate) const SDK_VERSION: &str = concat!("rsazsdk:", env!("CARGO_PKG_VERSION"));

/// The envelope's `name` for dependency items.
pub(crate) const ENVELOPE_NAME: &str = "Microsoft.ApplicationInsights.RemoteDependency";

/// `baseData.type`: the events are in-process operations, not remote calls.
pub(crate) const DEPENDENCY_TYPE: &str = "InProc";

/// The envelope: keys in the order they are written.
#[derive(Serialize)]
struct Envelope<'a> {
    ver: u8,
    name: &'static str,
    #[serde(serialize_with = "time")]
    time: SystemTime,
    #[serde(rename = "sampleRate")]
    sample_rate: f64,
    tags: Tags<'a>,
    data: Data<'a>,
    #[serde(rename = "iKey", skip_serializing_if = "Option::is_none")]
    instrumentation_key: Option<&'a str>,
}

#[derive(Serialize)]
struct Data<'a> {
    #[serde(rename = "baseType")]
    base_type: &'static str,
    #[serde(rename = "baseData")]
    base_data: BaseData<'a>,
}

#[derive(Serialize)]
struct BaseData<'a> {
    ver: u8,
    name: &'static str,
    #[serde(serialize_with = "serializer_collect_str")]
    id: uuid::Uuid,
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(serialize_with = "duration")]
    duration: Duration,
    success: bool,
    properties: Properties<'a>,
}

/// The context's tags; empty values are left out.
struct Tags<'a>(&'a Record);

impl Serialize for Tags<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let record = self.0;
        let ctx = record.context();
        let operation = record.event_id().simple();
        let mut operation_id = uuid::Uuid::encode_buffer();
        let tags = [
            ("ai.session.id", ctx.session_id.as_str()),
            ("ai.user.id", &ctx.dev_device_id),
            ("ai.device.type", &ctx.device_type),
            ("ai.device.osVersion", &ctx.os_version),
            ("ai.application.ver", &ctx.version),
            ("ai.cloud.role", &ctx.app_name),
            ("ai.internal.sdkVersion", SDK_VERSION),
            ("ai.operation.id", operation.encode_lower(&mut operation_id)),
            ("ai.operation.name", record.name()),
        ];
        let mut map = serializer.serialize_map(None)?;
        for (key, value) in tags.into_iter().filter(|(_, value)| !value.is_empty()) {
            map.serialize_entry(key, value)?;
        }
        map.end()
    }
}

/// The spec's `customDimensions`, as [`Record::properties`] lists them.
struct Properties<'a>(&'a Record);

impl Serialize for Properties<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let properties = self.0.property_list();
        let mut map = serializer.serialize_map(Some(properties.len()))?;
        for (key, value) in &properties {
            map.serialize_entry(key, value)?;
        }
        map.end()
    }
}

impl Record {
    fn envelope<'a>(
        &'a self,
        instrumentation_key: Option<&'a str>,
        sample_rate: f64,
    ) -> Envelope<'a> {
        Envelope {
            ver: 1,
            name: ENVELOPE_NAME,
            time: self.time(),
            sample_rate,
            tags: Tags(self),
            data: Data {
                base_type: "RemoteDependencyData",
                base_data: BaseData {
                    ver: 2,
                    name: self.name(),
                    id: self.event_id(),
                    kind: DEPENDENCY_TYPE,
                    duration: self.event().duration(),
                    success: self.event().success(),
                    properties: Properties(self),
                },
            },
            instrumentation_key,
        }
    }

    /// The envelope exactly as it is sent: `iKey` is set when an
    /// instrumentation key is known, and `sampleRate` is the percentage of
    /// events kept (100 when nothing is sampled).
    ///
    /// ```
    /// # fn show(record: &azsdk_telemetry::Record) {
    /// let envelope = record.to_envelope(None, 100.0);
    /// assert_eq!(envelope["data"]["baseType"], "RemoteDependencyData");
    /// assert_eq!(envelope["data"]["baseData"]["name"], record.name());
    /// # }
    /// ```
    pub fn to_envelope(&self, instrumentation_key: Option<&str>, sample_rate: f64) -> Value {
        serde_json::to_value(self.envelope(instrumentation_key, sample_rate)).unwrap_or(Value::Null)
    }

    /// Writes the JSON text of [`to_envelope`](Record::to_envelope) to `out`: the bytes
    /// every sink stores or sends.
    ///
    /// ```
    /// # fn show(record: &azsdk_telemetry::Record) {
    /// let mut line = Vec::new();
    /// record.write_envelope(Some("ikey"), 100.0, &mut line).unwrap();
    /// assert_eq!(line, serde_json::to_vec(&record.to_envelope(Some("ikey"), 100.0)).unwrap());
    /// # }
    /// ```
    ///
    /// # Errors
    /// When the record's time is before 1970 or after 9999 (a clock the builder was given
    /// may say so): such a record cannot be sent and is counted as unserializable.
    pub fn write_envelope(
        &self,
        instrumentation_key: Option<&str>,
        sample_rate: f64,
        out: &mut Vec<u8>,
    ) -> serde_json::Result<()> {
        serde_json::to_writer(out, &self.envelope(instrumentation_key, sample_rate))
    }
}

/// The first second of the year 10000, which RFC 3339 cannot write.
const YEAR_10000: Duration = Duration::from_secs(253_402_300_800);

/// `2025-10-16T23:44:57.217000Z`: UTC, microseconds, by humantime.
fn time<S: Serializer>(time: &SystemTime, serializer: S) -> Result<S::Ok, S::Error> {
    match time.duration_since(SystemTime::UNIX_EPOCH) {
        Ok(since) if since < YEAR_10000 => {
            serializer.collect_str(&humantime::format_rfc3339_micros(*time))
        }
        _ => Err(S::Error::custom(
            "the record's time is outside 1970..=9999; check the clock given to the builder",
        )),
    }
}

/// A value as its `Display` text (an id: hyphenated, lower-case).
fn serializer_collect_str<S: Serializer>(
    value: &impl std::fmt::Display,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.collect_str(value)
}

/// `d.hh:mm:ss.ffffff`, days without padding, at most 999 days (the schema's limit).
fn duration<S: Serializer>(duration: &Duration, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_str(&format_duration(*duration))
}

/// [`duration`]'s text.
pub(crate) fn format_duration(duration: Duration) -> String {
    const MAX_MICROS: u128 = 1000 * 86_400 * 1_000_000 - 1;
    let micros = duration.as_micros().min(MAX_MICROS);
    let (secs, frac) = (micros / 1_000_000, micros % 1_000_000);
    let (days, of_day) = (secs / 86_400, secs % 86_400);
    let (hours, minutes, seconds) = (of_day / 3_600, of_day / 60 % 60, of_day % 60);
    format!("{days}.{hours:02}:{minutes:02}:{seconds:02}.{frac:06}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::{AgentInfo, ClientInfo, ContextSnapshot, SharedContext};
    use crate::event::{Event, PendingRecord, SystemCrashed, SystemStopped, ToolExecuted};

    fn record(event: impl Into<Event>, context: ContextSnapshot) -> Record {
        PendingRecord::new(event.into(), &SharedContext::new(context)).finish()
    }

    #[test]
    fn durations_follow_the_schema_format() {
        for (duration, text) in [
            (Duration::ZERO, "0.00:00:00.000000"),
            (Duration::from_nanos(999), "0.00:00:00.000000"),
            (Duration::from_micros(1), "0.00:00:00.000001"),
            (Duration::from_millis(12_450), "0.00:00:12.450000"),
            (Duration::from_secs(90_061), "1.01:01:01.000000"),
            (Duration::from_secs(3_600_000), "41.16:00:00.000000"),
            (Duration::MAX, "999.23:59:59.999999"),
        ] {
            assert_eq!(format_duration(duration), text);
        }
    }

    #[test]
    fn the_envelope_has_the_wire_shape_in_the_wire_order() {
        let context = ContextSnapshot {
            client: ClientInfo::new("Visual \"Studio\" Code", "1.100.1"),
            agent: AgentInfo::new("GitHub Copilot").model("é\nmodel"),
            ..ContextSnapshot::default()
        };
        let tool = ToolExecuted {
            tool_name: "azsdk_generate_sdk".into(),
            tool_category: "generating".into(),
            duration: Duration::from_micros(1_234),
            success: true,
            language: Some("Python".into()),
            ..ToolExecuted::default()
        };
        let record = record(tool, context);
        let envelope = record.to_envelope(Some("k\"ey"), 12.5);
        let keys: Vec<&str> = envelope.as_object().unwrap().keys().map(|k| &**k).collect();
        assert_eq!(
            keys,
            ["ver", "name", "time", "sampleRate", "tags", "data", "iKey"]
        );
        assert_eq!(envelope["iKey"], "k\"ey");
        let base = &envelope["data"]["baseData"];
        assert_eq!(base["duration"], "0.00:00:00.001234");
        assert_eq!(base["id"], record.event_id().hyphenated().to_string());
        assert_eq!(base["properties"]["clientName"], "Visual \"Studio\" Code");
        assert_eq!(base["properties"]["agentModel"], "é\nmodel");
        assert_eq!(
            envelope["tags"]["ai.operation.id"],
            record.event_id().simple().to_string()
        );
        // Without a key, no `iKey`; the written text is the value's text.
        let mut line = Vec::new();
        record.write_envelope(None, f64::NAN, &mut line).unwrap();
        let value = record.to_envelope(None, f64::NAN);
        assert_eq!(line, serde_json::to_vec(&value).unwrap());
        assert!(value.get("iKey").is_none());
        assert!(value["sampleRate"].is_null(), "NaN is written as null");
    }

    #[test]
    fn empty_tags_are_left_out() {
        let context = ContextSnapshot {
            app_name: String::new(),
            session_id: String::new(),
            ..ContextSnapshot::default()
        };
        let envelope = record(SystemStopped::default(), context).to_envelope(None, 100.0);
        let tags = envelope["tags"].as_object().unwrap();
        assert!(!tags.contains_key("ai.session.id") && !tags.contains_key("ai.cloud.role"));
        assert_eq!(tags["ai.operation.name"], "SystemStopped");
    }

    #[test]
    fn a_key_the_event_sets_again_is_written_once_with_the_events_value() {
        let mut tool = ToolExecuted::default();
        tool.set_dimension("platform", "platform from the tool");
        tool.set_dimension("team", "storage-sdk");
        let record = record(tool, ContextSnapshot::default());
        let mut line = Vec::new();
        record.write_envelope(None, 100.0, &mut line).unwrap();
        let text = String::from_utf8(line).unwrap();
        assert_eq!(text.matches("\"platform\":").count(), 1, "{text}");
        let envelope: Value = serde_json::from_str(&text).unwrap();
        let properties = &envelope["data"]["baseData"]["properties"];
        assert_eq!(properties["platform"], "platform from the tool");
        assert_eq!(properties["team"], "storage-sdk");
    }

    #[test]
    fn times_are_utc_microseconds_and_out_of_range_times_are_an_error_not_a_panic() {
        let at = |time: SystemTime| {
            let context = SharedContext::new(ContextSnapshot::default());
            let mut record = PendingRecord::new(SystemCrashed::default().into(), &context);
            record.set_time(time);
            let record = record.finish();
            let mut line = Vec::new();
            record
                .write_envelope(None, 100.0, &mut line)
                .map(|()| record.to_envelope(None, 100.0))
        };
        let time = SystemTime::UNIX_EPOCH + Duration::from_millis(1_760_658_297_217);
        assert_eq!(at(time).unwrap()["time"], "2025-10-16T23:44:57.217000Z");
        for time in [
            SystemTime::UNIX_EPOCH - Duration::from_secs(1),
            SystemTime::UNIX_EPOCH + YEAR_10000,
        ] {
            let error = at(time).unwrap_err();
            assert!(error.to_string().contains("clock"), "{error}");
        }
    }
}
