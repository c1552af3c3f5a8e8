//! The Application Insights envelope of a record.
//!
//! Every event lands as a `RemoteDependencyData` item, so it appears in the
//! `dependencies` table (`AppDependencies` in a workspace) with `name`,
//! `success`, `duration` and `customDimensions` columns, where the spec's
//! Kusto queries read it.

use std::cell::RefCell;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use serde_json::{json, Map, Value};
use uuid::Uuid;

use super::batch::Marks;
use crate::context::ContextSnapshot;
use crate::event::Record;
use crate::event::{context_properties, PropertyValue};
use crate::sanitize::{limits, truncate_chars};

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
    /// The parts that are the same for every event of a context snapshot (the context's
    /// tags and common properties), of an instrumentation key and of a sample rate are
    /// rendered once per thread and copied; the rest is written in place, with no
    /// allocation beyond `out`'s.
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
        self.write_envelope_marked(instrumentation_key, sample_rate, out, &mut Marks::default())
    }

    /// [`write_envelope`](Record::write_envelope), marking the stretches that repeat from
    /// envelope to envelope (see [`slot`]) for the batch's gzip.
    pub(crate) fn write_envelope_marked(
        &self,
        instrumentation_key: Option<&str>,
        sample_rate: f64,
        out: &mut Vec<u8>,
        marks: &mut Marks,
    ) -> serde_json::Result<()> {
        thread_local! {
            static PARTS: RefCell<Parts> = RefCell::new(Parts::default());
        }
        let cached = PARTS.try_with(|parts| {
            let mut parts = parts.try_borrow_mut().ok()?;
            Some(parts.write_envelope(self, instrumentation_key, sample_rate, out, marks))
        });
        match cached {
            Ok(Some(written)) => written,
            // Without the thread's parts (a destructor running at thread exit), render afresh.
            _ => {
                Parts::default().write_envelope(self, instrumentation_key, sample_rate, out, marks)
            }
        }
    }
}

/// The slots an envelope's stretches are marked with: each stretch is gzipped as a copy of
/// the last stretch with its slot, as far as the two agree.
mod slot {
    /// Random: never a copy.
    pub const NONE: u8 = 0;
    /// The head and the time: a copy up to the digits that changed.
    pub const HEAD_TIME: u8 = 1;
    /// The sample rate and the context's tags.
    pub const CONTEXT_TAGS: u8 = 2;
    /// The operation name, the data's head and the event name.
    pub const NAME: u8 = 3;
    /// The type and the duration: a copy up to the digits that changed.
    pub const MIDDLE_DURATION: u8 = 4;
    pub const SUCCESS: u8 = 5;
    pub const CONTEXT_PROPERTIES: u8 = 6;
    pub const TAIL: u8 = 7;
    /// The event id, once in `baseData.id` and again in the `eventId` property.
    pub const ID: u8 = 8;
    /// The five runs of hex digits of the event id (9..=13): in `ai.operation.id` (without
    /// hyphens) first, then in `baseData.id` as copies of those.
    pub const ID_PIECE: u8 = 9;
    /// The event's own properties, one slot each by position.
    pub const PROPERTY: u8 = 14;
}

/// Where each run of hex digits of an id ends in its hyphen-less form.
const ID_PIECES: [usize; 5] = [8, 12, 16, 20, 32];

/// The rendered envelope text that does not change from event to event, each part with
/// what it was rendered from.
#[derive(Default)]
struct Parts {
    /// The snapshot `context_tags` and `context_properties` were rendered from. Holding
    /// the `Arc` keeps its address from being reused by another snapshot.
    context: Option<Arc<ContextSnapshot>>,
    /// `"ai.session.id":"…",…,"ai.internal.sdkVersion":"…","ai.operation.id":"`: the
    /// context's tags up to the event's operation id.
    context_tags: Vec<u8>,
    /// `"version":"…",…,"agentModel":"…"`: the context's properties (never empty).
    context_properties: Vec<u8>,
    /// The instrumentation key `tail` was rendered for.
    instrumentation_key: Option<Option<String>>,
    /// `,"iKey":"…"}` or `}`: the end of the envelope.
    tail: Vec<u8>,
    /// The bits of the sample rate `sample_rate` was rendered for.
    sample_rate_bits: Option<u64>,
    /// `,"sampleRate":…,"tags":{`.
    sample_rate: Vec<u8>,
}

impl Parts {
    /// [`Record::write_envelope`] with these parts.
    fn write_envelope(
        &mut self,
        record: &Record,
        instrumentation_key: Option<&str>,
        sample_rate: f64,
        out: &mut Vec<u8>,
        marks: &mut Marks,
    ) -> serde_json::Result<()> {
        self.prepare(record, instrumentation_key, sample_rate)?;
        self.write(record, out, marks);
        Ok(())
    }

    /// Renders what `record`, `instrumentation_key` and `sample_rate` need and the parts do
    /// not hold yet.
    fn prepare(
        &mut self,
        record: &Record,
        instrumentation_key: Option<&str>,
        sample_rate: f64,
    ) -> serde_json::Result<()> {
        let context = record.context_arc();
        if !self
            .context
            .as_ref()
            .is_some_and(|held| Arc::ptr_eq(held, context))
        {
            // Forgotten first: a part rendered halfway (a panic) is never used.
            self.context = None;
            let ctx = &**context;
            self.context_tags.clear();
            let tags: [(&str, &str); 7] = [
                ("ai.session.id", &ctx.session_id),
                ("ai.user.id", &ctx.dev_device_id),
                ("ai.device.type", &ctx.device_type),
                ("ai.device.osVersion", &ctx.os_version),
                ("ai.application.ver", &ctx.version),
                ("ai.cloud.role", &ctx.app_name),
                ("ai.internal.sdkVersion", SDK_VERSION),
            ];
            let mut first = true;
            for (key, value) in tags {
                if !value.is_empty() {
                    write_entry(&mut self.context_tags, &mut first, key, value);
                }
            }
            // The SDK version is never empty: the operation id follows a comma.
            self.context_tags
                .extend_from_slice(b",\"ai.operation.id\":\"");
            self.context_properties.clear();
            let mut first = true;
            context_properties(ctx, |key, value| {
                write_property(&mut self.context_properties, &mut first, key, value);
            });
            self.context = Some(Arc::clone(context));
        }
        if self.instrumentation_key.as_ref().map(Option::as_deref) != Some(instrumentation_key) {
            self.instrumentation_key = None;
            self.tail.clear();
            if let Some(ikey) = instrumentation_key {
                self.tail.extend_from_slice(b",\"iKey\":");
                write_str(&mut self.tail, ikey);
            }
            self.tail.push(b'}');
            self.instrumentation_key = Some(instrumentation_key.map(str::to_owned));
        }
        if self.sample_rate_bits != Some(sample_rate.to_bits()) {
            self.sample_rate_bits = None;
            self.sample_rate.clear();
            self.sample_rate.extend_from_slice(b"\",\"sampleRate\":");
            serde_json::to_writer(&mut self.sample_rate, &sample_rate)?;
            self.sample_rate.extend_from_slice(b",\"tags\":{");
            self.sample_rate_bits = Some(sample_rate.to_bits());
        }
        Ok(())
    }

    /// Writes `record`'s envelope with the parts [`prepare`](Parts::prepare) rendered.
    fn write(&self, record: &Record, out: &mut Vec<u8>, marks: &mut Marks) {
        let name = record.name();
        let event_id = record.event_id();
        out.extend_from_slice(HEAD.as_bytes());
        write_time(out, record.time());
        marks.mark(out.len(), slot::HEAD_TIME);
        out.extend_from_slice(&self.sample_rate);
        out.extend_from_slice(&self.context_tags);
        marks.mark(out.len(), slot::CONTEXT_TAGS);
        let mut id = Uuid::encode_buffer();
        let start = out.len();
        out.extend_from_slice(event_id.simple().encode_lower(&mut id).as_bytes());
        marks.mark(out.len(), slot::NONE);
        let mut from = start;
        for (piece, end) in ID_PIECES.into_iter().enumerate() {
            marks.remember(from, start + end, slot::ID_PIECE + piece as u8);
            from = start + end;
        }
        out.push(b'"');
        if !name.is_empty() {
            out.extend_from_slice(b",\"ai.operation.name\":");
            write_str(out, name);
        }
        out.extend_from_slice(
            b"},\"data\":{\"baseType\":\"RemoteDependencyData\",\"baseData\":{\"ver\":2,\"name\":",
        );
        write_str(out, name);
        out.extend_from_slice(b",\"id\":\"");
        marks.mark(out.len(), slot::NAME);
        let start = out.len();
        out.extend_from_slice(event_id.hyphenated().encode_lower(&mut id).as_bytes());
        // The same hex digits as the operation id's, each run with the hyphen after it
        // (a copy, then one literal).
        for (piece, end) in ID_PIECES.into_iter().enumerate() {
            let end = (start + end + piece + 1).min(out.len());
            marks.mark(end, slot::ID_PIECE + piece as u8);
        }
        marks.remember(start, out.len(), slot::ID);
        out.extend_from_slice(MIDDLE.as_bytes());
        write_duration(out, record.event().duration());
        marks.mark(out.len(), slot::MIDDLE_DURATION);
        out.extend_from_slice(if record.event().success() {
            b"\",\"success\":true,\"properties\":{"
        } else {
            b"\",\"success\":false,\"properties\":{"
        });
        marks.mark(out.len(), slot::SUCCESS);
        if record.own_keys_are_distinct() {
            // The context's properties, then the event's: no key can come twice.
            out.extend_from_slice(&self.context_properties);
            marks.mark(out.len(), slot::CONTEXT_PROPERTIES);
            let mut first = false;
            let mut property = slot::PROPERTY;
            record.event_properties(|key, value| {
                if let PropertyValue::Id(value) = value {
                    // `eventId`, the same id as `baseData.id`: `,"eventId":"` (an empty
                    // value without its closing quote), then the id as a copy of that one.
                    write_property(out, &mut first, key, "");
                    out.pop();
                    marks.mark(out.len(), property);
                    out.extend_from_slice(value.hyphenated().encode_lower(&mut id).as_bytes());
                    marks.mark(out.len(), slot::ID);
                    out.push(b'"');
                } else {
                    write_property(out, &mut first, key, value);
                    marks.mark(out.len(), property);
                }
                property = property.saturating_add(1);
            });
        } else {
            let mut first = true;
            for (key, value) in record.property_list() {
                write_entry(out, &mut first, key, &value);
            }
        }
        out.extend_from_slice(b"}}}");
        out.extend_from_slice(&self.tail);
        marks.mark(out.len(), slot::TAIL);
    }
}

/// The envelope up to the opening quote of its time. A test checks it against the constants.
const HEAD: &str =
    "{\"ver\":1,\"name\":\"Microsoft.ApplicationInsights.RemoteDependency\",\"time\":\"";

/// From the closing quote of `baseData.id` to the opening quote of the duration.
const MIDDLE: &str = "\",\"type\":\"InProc\",\"duration\":\"";

/// A property as [`Record::property_list`] would give it: the key cut to its limit, the
/// value cut to its limit and turned into text, written as `"key":"value"`.
fn write_property<'a>(
    out: &mut Vec<u8>,
    first: &mut bool,
    key: &str,
    value: impl Into<PropertyValue<'a>>,
) {
    let key = truncate_chars(key, limits::PROPERTY_KEY_MAX_CHARS);
    match value.into() {
        PropertyValue::Str(text) => {
            write_entry(
                out,
                first,
                key,
                truncate_chars(text, limits::PROPERTY_VALUE_MAX_CHARS),
            );
        }
        PropertyValue::Id(id) => {
            let mut buffer = Uuid::encode_buffer();
            write_entry(out, first, key, id.hyphenated().encode_lower(&mut buffer));
        }
        // Short (at most 39 digits): never cut.
        count @ PropertyValue::Count(_) => write_entry(out, first, key, &count.to_string()),
    }
}

impl<'a> From<&'a str> for PropertyValue<'a> {
    fn from(text: &'a str) -> Self {
        PropertyValue::Str(text)
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

/// Whether serde_json escapes `byte` in a string: a control character, `"` or `\\`.
fn needs_escape(byte: u8) -> bool {
    byte < 0x20 || byte == b'"' || byte == b'\\'
}

/// serde_json's escape of `byte` (a control character, `"` or `\\`).
fn write_escape(out: &mut Vec<u8>, byte: u8) {
    let escape: &[u8] = match byte {
        b'"' | b'\\' => {
            out.push(b'\\');
            out.push(byte);
            return;
        }
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
/// escapes whole. Eight bytes are looked at a time: a word with nothing to escape is
/// skipped, and in one with something the first such byte is found from the word's mask.
fn write_str(out: &mut Vec<u8>, text: &str) {
    const ONES: u64 = u64::from_le_bytes([0x01; 8]);
    const HIGHS: u64 = u64::from_le_bytes([0x80; 8]);
    // The high bit of each byte of `word` below `n`. A borrow can also mark the byte
    // after a marked one, but the lowest marked byte is always a true one.
    let below = |word: u64, n: u8| word.wrapping_sub(ONES * u64::from(n)) & !word & HIGHS;
    let dirty = |word: u64| {
        below(word, 0x20)
            | below(word ^ (ONES * u64::from(b'"')), 1)
            | below(word ^ (ONES * u64::from(b'\\')), 1)
    };
    let bytes = text.as_bytes();
    out.reserve(bytes.len() + 2);
    out.push(b'"');
    // `bytes[start..at]` is clean and not written yet.
    let mut start = 0;
    let mut at = 0;
    while at < bytes.len() {
        let found = match bytes.get(at..at + 8) {
            Some(chunk) => {
                let mut word = [0; 8];
                word.copy_from_slice(chunk);
                let mask = dirty(u64::from_le_bytes(word));
                if mask == 0 {
                    at += 8;
                    continue;
                }
                // Lowest marked byte: little-endian, so the lowest set bit.
                at + (mask.trailing_zeros() / 8) as usize
            }
            None => match bytes[at..].iter().position(|&byte| needs_escape(byte)) {
                Some(offset) => at + offset,
                None => break,
            },
        };
        let byte = bytes[found];
        if needs_escape(byte) {
            out.extend_from_slice(&bytes[start..found]);
            write_escape(out, byte);
            start = found + 1;
        }
        at = found + 1;
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

/// `time`: UTC ISO 8601 with a trailing `Z`, to the microsecond.
///
/// ```
/// use std::time::{Duration, UNIX_EPOCH};
/// use azsdk_telemetry::export::format_time;
/// let time = UNIX_EPOCH + Duration::from_micros(1_760_658_297_217_001);
/// assert_eq!(format_time(time), "2025-10-16T23:44:57.217001Z");
/// ```
///
/// # Panics
/// For a time before 1970 or after 9999, as `humantime` does.
pub fn format_time(time: SystemTime) -> String {
    let mut out = Vec::with_capacity(TIME_LEN);
    write_time(&mut out, time);
    String::from_utf8(out).expect("the time is ASCII")
}

/// `2025-10-16T23:44:57.217000Z`.
const TIME_LEN: usize = 27;

/// The first second of the year 10000, which `humantime` does not format.
const YEAR_10000: u64 = 253_402_300_800;

/// Writes [`format_time`]'s text to `out`.
fn write_time(out: &mut Vec<u8>, time: SystemTime) {
    let since_epoch = time
        .duration_since(SystemTime::UNIX_EPOCH)
        .ok()
        .filter(|since| since.as_secs() < YEAR_10000);
    let Some(since_epoch) = since_epoch else {
        // Out of range: `humantime` decides (it panics, and the worker counts the record
        // as unserializable).
        out.extend_from_slice(
            humantime::format_rfc3339_micros(time)
                .to_string()
                .as_bytes(),
        );
        return;
    };
    let secs = since_epoch.as_secs();
    let (year, month, day) = civil_from_days(secs / 86_400);
    let of_day = secs % 86_400;
    let mut text = *b"0000-00-00T00:00:00.000000Z";
    put_digits(&mut text[0..4], u64::from(year));
    put_digits(&mut text[5..7], u64::from(month));
    put_digits(&mut text[8..10], u64::from(day));
    put_digits(&mut text[11..13], of_day / 3_600);
    put_digits(&mut text[14..16], of_day / 60 % 60);
    put_digits(&mut text[17..19], of_day % 60);
    put_digits(&mut text[20..26], u64::from(since_epoch.subsec_micros()));
    out.extend_from_slice(&text);
}

/// The proleptic Gregorian date `days` days after 1970-01-01 (days before year 10000).
fn civil_from_days(days: u64) -> (u32, u32, u32) {
    // Counted from 0000-03-01, so that a leap day is the last day of its year; eras of
    // 400 years have 146,097 days each.
    let days = days + 719_468;
    let era = days / 146_097;
    let day_of_era = days % 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1_460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let march_based_month = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * march_based_month + 2) / 5 + 1;
    let month = if march_based_month < 10 {
        march_based_month + 3
    } else {
        march_based_month - 9
    };
    let year = year_of_era + era * 400 + u64::from(month <= 2);
    // Below 10000, a month and a day: all fit.
    let narrow = |n: u64| u32::try_from(n).unwrap_or(u32::MAX);
    (narrow(year), narrow(month), narrow(day))
}

/// Writes `value`'s last `digits.len()` decimal digits into `digits`, zero-padded.
fn put_digits(digits: &mut [u8], mut value: u64) {
    for digit in digits.iter_mut().rev() {
        *digit = b'0' + (value % 10) as u8;
        value /= 10;
    }
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
    let mut out = Vec::with_capacity(18);
    write_duration(&mut out, duration);
    String::from_utf8(out).expect("the duration is ASCII")
}

/// Writes [`format_duration`]'s text to `out`.
fn write_duration(out: &mut Vec<u8>, duration: Duration) {
    // The schema allows less than 1000 days.
    const MAX_MICROS: u64 = 1000 * 86_400 * 1_000_000 - 1;
    let micros = u64::try_from(duration.as_micros()).map_or(MAX_MICROS, |m| m.min(MAX_MICROS));
    let (secs, frac) = (micros / 1_000_000, micros % 1_000_000);
    let (days, of_day) = (secs / 86_400, secs % 86_400);
    // Days have no padding: 1 to 3 digits.
    let mut text = *b"000.00:00:00.000000";
    put_digits(&mut text[0..3], days);
    put_digits(&mut text[4..6], of_day / 3_600);
    put_digits(&mut text[7..9], of_day / 60 % 60);
    put_digits(&mut text[10..12], of_day % 60);
    put_digits(&mut text[13..19], frac);
    let skip = if days >= 100 {
        0
    } else if days >= 10 {
        1
    } else {
        2
    };
    out.extend_from_slice(&text[skip..]);
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

    /// Contexts: the default, every tag empty, client and agent set (with an execution mode).
    fn contexts() -> Vec<crate::context::ContextSnapshot> {
        use crate::context::{AgentInfo, ClientInfo, ContextSnapshot};
        let plain = ContextSnapshot {
            app_name: "app".into(),
            version: "1.2.3".into(),
            session_id: "s".into(),
            device_type: String::new(),
            ..ContextSnapshot::default()
        };
        let empty = ContextSnapshot {
            app_name: String::new(),
            version: String::new(),
            session_id: String::new(),
            mac_address_hash: String::new(),
            dev_device_id: String::new(),
            platform: String::new(),
            os_version: String::new(),
            device_type: String::new(),
            ..ContextSnapshot::default()
        };
        let with_client = ContextSnapshot {
            client: ClientInfo::new("Visual \"Studio\" Code", "1.100.1"),
            agent: AgentInfo::new("GitHub Copilot")
                .version("2")
                .model("é\nmodel"),
            execution_mode: Some("agent-invoked".into()),
            is_opted_in: false,
            ..plain.clone()
        };
        vec![plain, empty, with_client]
    }

    /// Events: tool calls without and with promoted dimensions, some of them reusing a
    /// context key, a fixed key, or a key longer than the limit, and every system event.
    fn events() -> Vec<crate::event::Event> {
        use crate::event::{
            Event, SystemConfigured, SystemCrashed, SystemInstalled, SystemStarted, SystemStopped,
            SystemUpdated, ToolExecuted,
        };
        let typical = ToolExecuted {
            tool_name: "azsdk_generate_sdk".into(),
            tool_category: "generating".into(),
            duration: Duration::from_micros(1_234),
            success: true,
            tool_args: Some(r#"{"service":"storage","language":"python"}"#.into()),
            language: Some("python".into()),
            service_name: Some("storage".into()),
            ..ToolExecuted::default()
        };
        let mut full = ToolExecuted {
            tool_name: "azsdk_\"quoted\"".into(),
            tool_category: "testing".into(),
            duration: Duration::from_micros(1_234_567),
            tool_args: Some(r#"{"a":"x\\y","b":[1,2],"c":"password=hunter2"}"#.into()),
            tool_response: Some("ok\n".into()),
            language: Some("Python".into()),
            plane_type: Some("data".into()),
            is_custom_sdk: Some(true),
            error_type: Some("E".into()),
            error_message: Some("é".repeat(2000)),
            execution_mode: Some("direct".into()),
            ..ToolExecuted::default()
        };
        full.set_dimension("team", "x".repeat(9000));
        let mut events: Vec<Event> = vec![typical.clone().into(), full.clone().into()];
        for key in [
            "platform",
            "version",
            "agentModel",
            "clientName",
            "eventId",
            "toolName",
        ] {
            let mut tool = typical.clone();
            tool.set_dimension(key, format!("{key} from the tool"));
            tool.set_dimension("team", "storage-sdk");
            events.push(tool.into());
        }
        let mut long = typical.clone();
        long.set_dimension(&"k".repeat(200), "long");
        events.push(long.into());
        let mut merged = typical;
        merged.set_dimension(&format!("{}a", "k".repeat(150)), "first");
        merged.set_dimension(&format!("{}b", "k".repeat(150)), "second");
        events.push(merged.into());
        events.extend([
            SystemInstalled {
                install_method: Some("cargo".into()),
            }
            .into(),
            SystemStarted {
                startup_duration: Duration::from_millis(20),
            }
            .into(),
            SystemStopped {
                session_duration: Duration::from_secs(3),
                tool_calls_in_session: 7,
            }
            .into(),
            SystemCrashed {
                crash_reason: "panic".into(),
                error_message: Some("boom".into()),
                stack_trace: Some("at main".into()),
            }
            .into(),
            SystemConfigured {
                config_changes: r#"{"optOut":true}"#.into(),
            }
            .into(),
            SystemUpdated {
                previous_version: "0.9.0".into(),
                update_method: None,
            }
            .into(),
        ]);
        events
    }

    /// Every event with every context, records of one context sharing its snapshot.
    fn records() -> Vec<Record> {
        use crate::context::SharedContext;
        use crate::event::PendingRecord;
        let mut records = Vec::new();
        for context in contexts() {
            let shared = SharedContext::new(context);
            for event in events() {
                records.push(PendingRecord::new(event, &shared).finish());
            }
        }
        records
    }

    fn assert_same_envelope(record: &Record, ikey: Option<&str>, rate: f64) {
        let mut line = Vec::new();
        record.write_envelope(ikey, rate, &mut line).unwrap();
        let expected = serde_json::to_vec(&record.to_envelope(ikey, rate)).unwrap();
        assert_eq!(
            String::from_utf8(line).unwrap(),
            String::from_utf8(expected).unwrap()
        );
    }

    #[test]
    fn the_written_envelope_is_the_value_envelope_byte_for_byte() {
        let settings = [
            (Some("k\"ey"), 100.0),
            (None, 12.5),
            (None, f64::NAN),
            (Some("other"), 100.0),
        ];
        for record in records() {
            for (ikey, rate) in settings {
                assert_same_envelope(&record, ikey, rate);
            }
        }
        // The same records again, now interleaved: every part is rendered anew as the
        // context, key or rate changes from one record to the next.
        let records = records();
        for (n, record) in records.iter().enumerate() {
            let (ikey, rate) = settings[n % settings.len()];
            assert_same_envelope(record, ikey, rate);
            assert_same_envelope(&records[records.len() - 1 - n], ikey, rate);
        }
    }

    #[test]
    fn marked_envelopes_gzip_to_exactly_their_text_and_small() {
        use crate::export::batch::Batch;
        // Every kind of record, each context in turn, then a run of one typical call.
        let mut records = records();
        let typical = records.remove(0);
        let mut batch = Batch::default();
        let mut plain = Vec::new();
        for (n, record) in records
            .iter()
            .chain(std::iter::repeat_n(&typical, 200))
            .enumerate()
        {
            let rate = if n % 7 == 0 { 12.5 } else { 100.0 };
            let mut line = Vec::new();
            record
                .write_envelope(Some("ikey"), rate, &mut line)
                .unwrap();
            assert!(batch.push(|text, marks| {
                record
                    .write_envelope_marked(Some("ikey"), rate, text, marks)
                    .is_ok()
            }));
            assert_eq!(batch.lines().last(), Some(&line[..]), "record {n}");
            plain.push(line);
        }
        let text = crate::export::gzip::tests::gunzip(&batch.gzip().unwrap());
        assert_eq!(text, plain.join(&b'\n'));
        // A run of one tool's calls (each its own id): ids and times are literals, the
        // rest copies.
        let shared = crate::context::SharedContext::new(contexts().remove(0));
        let mut run = Batch::default();
        for _ in 0..200 {
            let record = crate::event::PendingRecord::new(events().remove(0), &shared).finish();
            run.push(|text, marks| {
                record
                    .write_envelope_marked(Some("ikey"), 100.0, text, marks)
                    .is_ok()
            });
        }
        let per_line = run.gzip().unwrap().len() / run.len();
        let line = plain.last().unwrap().len();
        assert!(per_line * 8 < line, "{per_line} bytes a line of {line}");
    }

    #[test]
    fn a_key_the_event_sets_again_keeps_its_place_and_takes_the_events_value() {
        let record = records()
            .into_iter()
            .find(|record| {
                record
                    .event()
                    .as_tool()
                    .is_some_and(|tool| tool.dimensions.contains_key("platform"))
            })
            .unwrap();
        assert!(!record.own_keys_are_distinct());
        let mut line = Vec::new();
        record.write_envelope(None, 100.0, &mut line).unwrap();
        let text = String::from_utf8(line).unwrap();
        assert_eq!(text.matches("\"platform\":").count(), 1, "{text}");
        let keys: Vec<String> = record.properties().into_iter().map(|(k, _)| k).collect();
        assert_eq!(
            keys[..5],
            [
                "version",
                "sessionId",
                "macAddressHash",
                "devDeviceId",
                "platform"
            ]
        );
        let envelope: Value = serde_json::from_str(&text).unwrap();
        let properties = &envelope["data"]["baseData"]["properties"];
        assert_eq!(properties["platform"], "platform from the tool");
        assert_eq!(properties["team"], "storage-sdk");
    }

    #[test]
    fn the_fast_path_is_taken_for_a_typical_tool_call() {
        let records = records();
        assert!(records[0].own_keys_are_distinct());
        let distinct = records.iter().filter(|r| r.own_keys_are_distinct()).count();
        // Per context: 6 reused keys, one long key and two merged long keys fall back.
        assert_eq!(distinct, records.len() - 3 * 8);
    }

    #[test]
    fn the_constant_pieces_are_what_the_constants_say() {
        let mut head = b"{\"ver\":1,\"name\":".to_vec();
        write_str(&mut head, ENVELOPE_NAME);
        head.extend_from_slice(b",\"time\":\"");
        assert_eq!(HEAD.as_bytes(), head);
        let mut middle = b"\",\"type\":".to_vec();
        write_str(&mut middle, DEPENDENCY_TYPE);
        middle.extend_from_slice(b",\"duration\":\"");
        assert_eq!(MIDDLE.as_bytes(), middle);
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
    fn strings_mixing_escapes_and_their_neighbours_are_escaped_as_serde_json_does() {
        // Bytes next to those escaped (`#` and `]` after `"` and `\` can be marked by a
        // borrow), escaped bytes back to back, and multi-byte characters.
        let pieces = [
            "\"", "\\", "#", "]", "\u{1}", "\u{1f}", " ", "a", "é", "😀", "\n",
        ];
        let mut x = 0x9e37_79b9_7f4a_7c15_u64;
        for _ in 0..5_000 {
            let mut text = String::new();
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            for n in 0..(x % 40) {
                text.push_str(pieces[((x >> (n % 60)) % pieces.len() as u64) as usize]);
            }
            let mut out = Vec::new();
            write_str(&mut out, &text);
            assert_eq!(out, serde_json::to_vec(&text).unwrap(), "{text:?}");
        }
    }

    #[test]
    fn times_are_utc_with_a_trailing_z() {
        let time = SystemTime::UNIX_EPOCH + Duration::from_millis(1_760_658_297_217);
        assert_eq!(format_time(time), "2025-10-16T23:44:57.217000Z");
    }

    #[test]
    fn times_are_formatted_as_humantime_formats_them() {
        let humantime = |time| humantime::format_rfc3339_micros(time).to_string();
        let mut secs: Vec<u64> = vec![0, 1, 59, 86_399, 86_400, YEAR_10000 - 1];
        // Around every leap day and year end from 1970 to 2500, and a spread beyond.
        for year in 1970u64..2500 {
            let approx = (year - 1970) * 31_556_952;
            secs.extend([
                approx.saturating_sub(86_400 * 320),
                approx,
                approx + 86_400 * 59,
            ]);
        }
        let mut x = 0x9e37_79b9_7f4a_7c15_u64;
        for _ in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            secs.push(x % YEAR_10000);
        }
        for (n, secs) in secs.into_iter().enumerate() {
            let micros = (n as u64 * 7_919) % 1_000_000;
            let time =
                SystemTime::UNIX_EPOCH + Duration::from_secs(secs) + Duration::from_micros(micros);
            assert_eq!(format_time(time), humantime(time), "{secs}");
            // Nanoseconds are cut, not rounded.
            let time = time + Duration::from_nanos(999);
            assert_eq!(format_time(time), humantime(time), "{secs}");
        }
    }

    #[test]
    fn times_out_of_range_fail_as_before() {
        for time in [
            SystemTime::UNIX_EPOCH - Duration::from_secs(1),
            SystemTime::UNIX_EPOCH + Duration::from_secs(YEAR_10000),
        ] {
            assert!(std::panic::catch_unwind(|| format_time(time)).is_err());
        }
    }

    #[test]
    fn durations_are_formatted_as_before() {
        // The earlier `format!` text, as the reference.
        let reference = |duration: Duration| {
            const MAX_MICROS: u128 = 1000 * 86_400 * 1_000_000 - 1;
            let micros = duration.as_micros().min(MAX_MICROS);
            let (secs, frac) = (micros / 1_000_000, micros % 1_000_000);
            let (days, rem) = (secs / 86_400, secs % 86_400);
            let (hours, rem) = (rem / 3_600, rem % 3_600);
            let (minutes, seconds) = (rem / 60, rem % 60);
            format!("{days}.{hours:02}:{minutes:02}:{seconds:02}.{frac:06}")
        };
        let mut x = 0x2545_f491_4f6c_dd1d_u64;
        let mut samples = vec![
            Duration::ZERO,
            Duration::from_nanos(999),
            Duration::from_secs(9 * 86_400 + 86_399),
            Duration::from_secs(10 * 86_400),
            Duration::from_secs(99 * 86_400 + 86_399),
            Duration::from_secs(100 * 86_400),
            Duration::from_secs(999 * 86_400 + 86_399),
            Duration::from_secs(1000 * 86_400),
            Duration::MAX,
        ];
        for _ in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            samples.push(Duration::from_nanos(x >> (x % 40)));
        }
        for duration in samples {
            assert_eq!(
                format_duration(duration),
                reference(duration),
                "{duration:?}"
            );
        }
    }
}
