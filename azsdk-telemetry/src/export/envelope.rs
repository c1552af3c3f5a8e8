//! The Application Insights envelope of a record.
//!
//! Every event lands as a `RemoteDependencyData` item, so it appears in the
//! `dependencies` table (`AppDependencies` in a workspace) with `name`,
//! `success`, `duration` and `customDimensions` columns, where the spec's
//! Kusto queries read it.

use std::time::{Duration, SystemTime};

use serde_json::{json, Map, Value};
use uuid::Uuid;

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

impl Record {
    /// Writes the JSON text of [`to_envelope`](Record::to_envelope) to `out`, the same
    /// keys in the same order with the same values, without building a `Value` tree:
    /// what the exporter's worker sends.
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
    /// What `out` returns (never, for a `Vec`).
    pub fn write_envelope(
        &self,
        instrumentation_key: Option<&str>,
        sample_rate: f64,
        out: &mut Vec<u8>,
    ) -> serde_json::Result<()> {
        let ctx = self.context();
        let event_id = self.event_id();
        out.extend_from_slice(b"{\"ver\":1,\"name\":");
        write_str(out, ENVELOPE_NAME);
        out.extend_from_slice(b",\"time\":");
        write_str(out, &format_time(self.time()));
        out.extend_from_slice(b",\"sampleRate\":");
        serde_json::to_writer(&mut *out, &sample_rate)?;
        out.extend_from_slice(b",\"tags\":{");
        let mut operation_id = Uuid::encode_buffer();
        let operation_id = event_id.simple().encode_lower(&mut operation_id);
        let tags: [(&str, &str); 9] = [
            ("ai.session.id", &ctx.session_id),
            ("ai.user.id", &ctx.dev_device_id),
            ("ai.device.type", &ctx.device_type),
            ("ai.device.osVersion", &ctx.os_version),
            ("ai.application.ver", &ctx.version),
            ("ai.cloud.role", &ctx.app_name),
            ("ai.internal.sdkVersion", SDK_VERSION),
            ("ai.operation.id", operation_id),
            ("ai.operation.name", self.name()),
        ];
        let mut first = true;
        for (key, value) in tags {
            if !value.is_empty() {
                write_entry(out, &mut first, key, value);
            }
        }
        out.extend_from_slice(
            b"},\"data\":{\"baseType\":\"RemoteDependencyData\",\"baseData\":{\"ver\":2,\"name\":",
        );
        write_str(out, self.name());
        out.extend_from_slice(b",\"id\":");
        let mut id = Uuid::encode_buffer();
        write_str(out, event_id.hyphenated().encode_lower(&mut id));
        out.extend_from_slice(b",\"type\":");
        write_str(out, DEPENDENCY_TYPE);
        out.extend_from_slice(b",\"duration\":");
        write_str(out, &format_duration(self.event().duration()));
        out.extend_from_slice(if self.event().success() {
            b",\"success\":true,\"properties\":{"
        } else {
            b",\"success\":false,\"properties\":{"
        });
        let mut first = true;
        for (key, value) in self.property_list() {
            write_entry(out, &mut first, key, &value);
        }
        out.extend_from_slice(b"}}}");
        if let Some(ikey) = instrumentation_key {
            out.extend_from_slice(b",\"iKey\":");
            write_str(out, ikey);
        }
        out.push(b'}');
        Ok(())
    }
}

/// `"key":"value"`, after a comma unless it is the first entry.
fn write_entry(out: &mut Vec<u8>, first: &mut bool, key: &str, value: &str) {
    if !std::mem::take(first) {
        out.push(b',');
    }
    write_str(out, key);
    out.push(b':');
    write_str(out, value);
}

/// serde_json's escape of `byte` (a control character, `"` or `\\`).
fn write_escape(out: &mut Vec<u8>, byte: u8) {
    let escape: &[u8] = match byte {
        b'"' => b"\\\"",
        b'\\' => b"\\\\",
        0x08 => b"\\b",
        0x0c => b"\\f",
        b'\n' => b"\\n",
        b'\r' => b"\\r",
        b'\t' => b"\\t",
        _ => {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            out.extend_from_slice(b"\\u00");
            out.push(HEX[usize::from(byte >> 4)]);
            out.push(HEX[usize::from(byte & 0xf)]);
            return;
        }
    };
    out.extend_from_slice(escape);
}

/// `text` as a JSON string, escaped exactly as serde_json escapes it (`\"`, `\\`,
/// `\b \f \n \r \t`, other control characters as `\u00XX`), copying the runs between
/// escapes whole and skipping eight clean bytes at a time.
fn write_str(out: &mut Vec<u8>, text: &str) {
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGHS: u64 = u64::from_ne_bytes([0x80; 8]);
    let below = |word: u64, n: u8| word.wrapping_sub(ONES * u64::from(n)) & !word & HIGHS;
    let dirty = |word: u64| {
        below(word, 0x20)
            | below(word ^ (ONES * u64::from(b'"')), 1)
            | below(word ^ (ONES * u64::from(b'\\')), 1)
            != 0
    };
    let bytes = text.as_bytes();
    out.reserve(bytes.len() + 2);
    out.push(b'"');
    let mut start = 0;
    let mut at = 0;
    while at < bytes.len() {
        // Clean words are skipped whole; a word with something to escape is gone
        // through byte by byte.
        let end = match bytes.get(at..at + 8) {
            Some(chunk) => {
                let mut word = [0; 8];
                word.copy_from_slice(chunk);
                if !dirty(u64::from_ne_bytes(word)) {
                    at += 8;
                    continue;
                }
                at + 8
            }
            None => bytes.len(),
        };
        while at < end {
            let byte = bytes[at];
            if byte < 0x20 || byte == b'"' || byte == b'\\' {
                out.extend_from_slice(&bytes[start..at]);
                write_escape(out, byte);
                start = at + 1;
            }
            at += 1;
        }
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
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

    fn records() -> Vec<Record> {
        use crate::context::{ContextSnapshot, SharedContext};
        use crate::event::{Event, PendingRecord, SystemStopped, ToolExecuted};
        let mut tool = ToolExecuted {
            tool_name: "azsdk_\"quoted\"".into(),
            tool_category: "testing".into(),
            duration: Duration::from_micros(1_234_567),
            tool_args: Some(r#"{"a":"x\\y","b":[1,2],"c":"password=hunter2"}"#.into()),
            tool_response: Some("ok\n".into()),
            language: Some("Python".into()),
            error_type: Some("E".into()),
            error_message: Some("é".repeat(2000)),
            ..ToolExecuted::default()
        };
        tool.set_dimension("team", "x".repeat(9000));
        tool.set_dimension("version", "shadows the common property");
        let context = ContextSnapshot {
            app_name: "app".into(),
            version: "1.2.3".into(),
            session_id: "s".into(),
            device_type: String::new(),
            ..ContextSnapshot::default()
        };
        let events: Vec<Event> = vec![
            tool.into(),
            SystemStopped {
                session_duration: Duration::from_secs(3),
                tool_calls_in_session: 7,
            }
            .into(),
        ];
        events
            .into_iter()
            .map(|event| PendingRecord::new(event, &SharedContext::new(context.clone())).finish())
            .collect()
    }

    #[test]
    fn the_written_envelope_is_the_value_envelope_byte_for_byte() {
        for record in records() {
            for (ikey, rate) in [(Some("k\"ey"), 100.0), (None, 12.5), (None, f64::NAN)] {
                let mut line = Vec::new();
                record.write_envelope(ikey, rate, &mut line).unwrap();
                let expected = serde_json::to_vec(&record.to_envelope(ikey, rate)).unwrap();
                assert_eq!(
                    String::from_utf8(line).unwrap(),
                    String::from_utf8(expected).unwrap()
                );
            }
        }
    }

    #[test]
    fn strings_are_escaped_as_serde_json_escapes_them() {
        let mut samples: Vec<String> = (0u8..=0x7f)
            .map(|byte| char::from(byte).to_string())
            .collect();
        samples.push("plain ascii text, long enough for words".into());
        samples.push("é€😀\"\\\u{7f}\u{1f}\n\tabcdefgh\"ijklmnop\\".into());
        samples.push(String::new());
        for sample in samples {
            for prefix in ["", "abc", "abcdefghij"] {
                let text = format!("{prefix}{sample}{prefix}");
                let mut out = Vec::new();
                write_str(&mut out, &text);
                assert_eq!(out, serde_json::to_vec(&text).unwrap(), "{text:?}");
            }
        }
    }

    #[test]
    fn times_are_utc_with_a_trailing_z() {
        let time = SystemTime::UNIX_EPOCH + Duration::from_millis(1_760_658_297_217);
        assert_eq!(format_time(time), "2025-10-16T23:44:57.217000Z");
    }
}
