//! The Application Insights envelope of a record.
//!
//! Every event lands as a `RemoteDependencyData` item, so it appears in the
//! `dependencies` table (`AppDependencies` in a workspace) with `name`,
//! `success`, `duration` and `customDimensions` columns, where the spec's
//! Kusto queries read it.

use std::time::{Duration, SystemTime};

use serde_json::{json, Map, Value};

use crate::event::Record;

/// `ai.internal.sdkVersion` of every envelope.
pub const SDK_VERSION: &str = concat!("rsazsdk:", env!("CARGO_PKG_VERSION"));

/// The envelope's `name` for dependency items.
pub const ENVELOPE_NAME: &str = "Microsoft.ApplicationInsights.RemoteDependency";

/// `baseData.type`: the events are in-process operations, not remote calls.
pub const DEPENDENCY_TYPE: &str = "InProc";

impl Record {
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
        let ctx = self.context();
        let event_id = self.event_id();
        let mut tags = Map::new();
        let mut tag = |key: &str, value: &str| {
            if !value.is_empty() {
                tags.insert(key.to_owned(), Value::String(value.to_owned()));
            }
        };
        tag("ai.session.id", &ctx.session_id);
        tag("ai.user.id", &ctx.dev_device_id);
        tag("ai.device.type", &ctx.device_type);
        tag("ai.device.osVersion", &ctx.os_version);
        tag("ai.application.ver", &ctx.version);
        tag("ai.cloud.role", &ctx.app_name);
        tag("ai.internal.sdkVersion", SDK_VERSION);
        tag("ai.operation.id", &event_id.simple().to_string());
        tag("ai.operation.name", self.name());

        let properties: Map<String, Value> = self
            .properties()
            .into_iter()
            .map(|(key, value)| (key, Value::String(value)))
            .collect();
        let mut envelope = json!({
            "ver": 1,
            "name": ENVELOPE_NAME,
            "time": format_time(self.time()),
            "sampleRate": sample_rate,
            "tags": tags,
            "data": {
                "baseType": "RemoteDependencyData",
                "baseData": {
                    "ver": 2,
                    "name": self.name(),
                    "id": event_id.to_string(),
                    "type": DEPENDENCY_TYPE,
                    "duration": format_duration(self.event().duration()),
                    "success": self.event().success(),
                    "properties": properties,
                }
            }
        });
        if let (Some(ikey), Some(fields)) = (instrumentation_key, envelope.as_object_mut()) {
            fields.insert("iKey".to_owned(), Value::String(ikey.to_owned()));
        }
        envelope
    }
}

/// `time`: UTC ISO 8601 with a trailing `Z`, to the microsecond.
pub fn format_time(time: SystemTime) -> String {
    humantime::format_rfc3339_micros(time).to_string()
}

/// `duration` in the ingestion schema's `d.hh:mm:ss.ffffff` form.
///
/// ```
/// use std::time::Duration;
/// use azsdk_telemetry::export::format_duration;
/// assert_eq!(format_duration(Duration::from_millis(12_450)), "0.00:00:12.450000");
/// assert_eq!(format_duration(Duration::from_secs(90_061)), "1.01:01:01.000000");
/// ```
pub fn format_duration(duration: Duration) -> String {
    // The schema allows less than 1000 days.
    const MAX_MICROS: u128 = 1000 * 86_400 * 1_000_000 - 1;
    let micros = duration.as_micros().min(MAX_MICROS);
    let (secs, frac) = (micros / 1_000_000, micros % 1_000_000);
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (hours, rem) = (rem / 3_600, rem % 3_600);
    let (minutes, seconds) = (rem / 60, rem % 60);
    format!("{days}.{hours:02}:{minutes:02}:{seconds:02}.{frac:06}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_follow_the_schema_format() {
        assert_eq!(format_duration(Duration::ZERO), "0.00:00:00.000000");
        assert_eq!(
            format_duration(Duration::from_micros(1)),
            "0.00:00:00.000001"
        );
        assert_eq!(
            format_duration(Duration::from_secs(3_600_000)),
            "41.16:00:00.000000"
        );
        assert_eq!(
            format_duration(Duration::from_secs(u64::MAX)),
            "999.23:59:59.999999"
        );
    }

    #[test]
    fn times_are_utc_with_a_trailing_z() {
        let time = SystemTime::UNIX_EPOCH + Duration::from_millis(1_760_658_297_217);
        assert_eq!(format_time(time), "2025-10-16T23:44:57.217000Z");
    }
}
