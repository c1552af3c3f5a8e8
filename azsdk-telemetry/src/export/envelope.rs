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
fn format_duration(duration: Duration) -> String {
    const MAX_MICROS: u128 = 1000 * 86_400 * 1_000_000 - 1;
    let micros = duration.as_micros().min(MAX_MICROS);
    let (secs, frac) = (micros / 1_000_000, micros % 1_000_000);
    let (days, of_day) = (secs / 86_400, secs % 86_400);
    let (hours, minutes, seconds) = (of_day / 3_600, of_day / 60 % 60, of_day % 60);
    format!("{days}.{hours:02}:{minutes:02}:{seconds:02}.{frac:06}")
}
