//! Envelope checks modelled on the ingestion schema (required fields and limits).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::Value;

/// Oldest accepted `time`: the service refuses events older than 48 h.
pub const MAX_AGE: Duration = Duration::from_secs(48 * 3600);
/// Furthest accepted `time` in the future: 2 h.
pub const MAX_FUTURE: Duration = Duration::from_secs(2 * 3600);
/// Longest property key.
pub const MAX_PROPERTY_KEY: usize = 150;
/// Longest property value.
pub const MAX_PROPERTY_VALUE: usize = 8192;

/// The per-item message for an item that is not a JSON object.
pub(crate) const NOT_AN_OBJECT: &str = "100: the telemetry item is not a JSON object";

/// Checks one envelope; the error reads like the service's per-item message.
///
/// ```
/// use azsdk_telemetry_testkit::server::{format_time, validate_envelope};
/// let now = std::time::SystemTime::now();
/// let env = serde_json::json!({
///     "name": "Microsoft.ApplicationInsights.RemoteDependency",
///     "time": format_time(now),
///     "data": {"baseType": "RemoteDependencyData",
///              "baseData": {"ver": 2, "name": "x", "duration": "00.00:00:01.000000"}}
/// });
/// assert!(validate_envelope(&env, now).is_ok());
/// ```
pub fn validate_envelope(envelope: &Value, now: SystemTime) -> Result<(), String> {
    let obj = envelope.as_object().ok_or(NOT_AN_OBJECT)?;
    let name = str_field(obj.get("name"), "name", "Envelope")?;
    if name.is_empty() || name.len() > 1024 {
        return Err("Field 'name' on type 'Envelope' must have 1 to 1024 characters".into());
    }
    let time = str_field(obj.get("time"), "time", "Envelope")?;
    let at = parse_time(time).ok_or_else(|| {
        format!("Field 'time' on type 'Envelope' is not a valid ISO 8601 UTC date: {time:?}")
    })?;
    if at + MAX_AGE < now {
        return Err(
            "103: Field 'time' on type 'Envelope' is older than the allowed min date".into(),
        );
    }
    if at > now + MAX_FUTURE {
        return Err(
            "104: Field 'time' on type 'Envelope' is later than the allowed max date".into(),
        );
    }
    if let Some(ikey) = obj.get("iKey") {
        let ikey = ikey
            .as_str()
            .ok_or("Field 'iKey' on type 'Envelope' is not a string")?;
        if ikey.len() > 40 {
            return Err("Field 'iKey' on type 'Envelope' is too long".into());
        }
    }
    if let Some(rate) = obj.get("sampleRate") {
        let rate = rate
            .as_f64()
            .ok_or("Field 'sampleRate' on type 'Envelope' is not a number")?;
        if !(rate > 0.0 && rate <= 100.0) {
            return Err("Field 'sampleRate' on type 'Envelope' must be in (0, 100]".into());
        }
    }
    if let Some(tags) = obj.get("tags") {
        string_map(tags, "tags", usize::MAX, usize::MAX)?;
    }
    let data = obj
        .get("data")
        .and_then(Value::as_object)
        .ok_or("Field 'data' on type 'Envelope' is required")?;
    let base_type = str_field(data.get("baseType"), "baseType", "Data")?;
    let base = data
        .get("baseData")
        .and_then(Value::as_object)
        .ok_or("Field 'baseData' on type 'Data' is required")?;
    if base_type == "RemoteDependencyData" || base_type == "RequestData" {
        let n = str_field(base.get("name"), "name", base_type)?;
        if n.len() > 1024 {
            return Err(format!("Field 'name' on type '{base_type}' is too long"));
        }
        let d = str_field(base.get("duration"), "duration", base_type)?;
        if !is_timespan(d) {
            return Err(format!(
                "Field 'duration' on type '{base_type}' is not a valid timespan (d.hh:mm:ss.ffffff): {d:?}"
            ));
        }
    }
    if let Some(props) = base.get("properties") {
        string_map(props, "properties", MAX_PROPERTY_KEY, MAX_PROPERTY_VALUE)?;
    }
    if let Some(m) = base.get("measurements") {
        let m = m
            .as_object()
            .ok_or("Field 'measurements' is not an object")?;
        for (k, v) in m {
            if k.chars().count() > MAX_PROPERTY_KEY {
                return Err("a key of 'measurements' is longer than 150 characters".into());
            }
            if !v.is_number() {
                return Err("a value of 'measurements' is not a number".into());
            }
        }
    }
    Ok(())
}

fn str_field<'a>(v: Option<&'a Value>, field: &str, ty: &str) -> Result<&'a str, String> {
    match v {
        Some(Value::String(s)) => Ok(s),
        Some(_) => Err(format!("Field '{field}' on type '{ty}' is not a string")),
        None => Err(format!(
            "Field '{field}' on type '{ty}' is required but missing"
        )),
    }
}

fn string_map(v: &Value, field: &str, max_key: usize, max_value: usize) -> Result<(), String> {
    let m = v
        .as_object()
        .ok_or_else(|| format!("Field '{field}' is not an object"))?;
    for (k, v) in m {
        if k.chars().count() > max_key {
            return Err(format!(
                "a key of '{field}' is longer than {max_key} characters"
            ));
        }
        let s = v
            .as_str()
            .ok_or_else(|| format!("a value of '{field}' is not a string"))?;
        if s.chars().count() > max_value {
            return Err(format!(
                "a value of '{field}' is longer than {max_value} characters"
            ));
        }
    }
    Ok(())
}

/// `[d.]hh:mm:ss[.fffffff]`, days below 1000.
fn is_timespan(s: &str) -> bool {
    let (days, rest) = match s.split_once('.') {
        Some((d, r)) if !d.contains(':') => (Some(d), r),
        _ => (None, s),
    };
    if let Some(d) = days {
        if d.is_empty() || d.len() > 3 || !d.bytes().all(|b| b.is_ascii_digit()) {
            return false;
        }
    }
    let (hms, frac) = match rest.split_once('.') {
        Some((h, f)) => (h, Some(f)),
        None => (rest, None),
    };
    if let Some(f) = frac {
        if f.is_empty() || f.len() > 7 || !f.bytes().all(|b| b.is_ascii_digit()) {
            return false;
        }
    }
    let parts: Vec<&str> = hms.split(':').collect();
    parts.len() == 3
        && parts
            .iter()
            .zip([24u32, 60, 60])
            .all(|(p, max)| p.len() == 2 && p.parse::<u32>().is_ok_and(|v| v < max))
}

fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let doy = (153 * (m + if m > 2 { -3 } else { 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// Parses `YYYY-MM-DDTHH:MM:SS[.f+]Z`.
pub fn parse_time(s: &str) -> Option<SystemTime> {
    let s = s.strip_suffix('Z')?;
    let (date, time) = s.split_once('T')?;
    let mut d = date.split('-').map(|p| p.parse::<i64>().ok());
    let (y, mo, da) = (d.next()??, d.next()??, d.next()??);
    if d.next().is_some() || !(1..=12).contains(&mo) || !(1..=31).contains(&da) {
        return None;
    }
    let (hms, frac) = time.split_once('.').unwrap_or((time, ""));
    let mut t = hms.split(':').map(|p| p.parse::<i64>().ok());
    let (h, mi, se) = (t.next()??, t.next()??, t.next()??);
    if t.next().is_some() || h > 23 || mi > 59 || se > 60 || h < 0 || mi < 0 || se < 0 {
        return None;
    }
    if !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let nanos = format!("{frac:0<9}").get(..9)?.parse::<u32>().ok()?;
    let secs = days_from_civil(y, mo, da) * 86_400 + h * 3600 + mi * 60 + se;
    let secs = u64::try_from(secs).ok()?;
    Some(UNIX_EPOCH + Duration::new(secs, nanos))
}

/// Formats a time the way envelopes carry it: `2024-05-01T12:34:56.789000Z`.
pub fn format_time(t: SystemTime) -> String {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = d.as_secs() as i64;
    let (y, m, day) = civil_from_days(secs / 86_400);
    let rem = secs % 86_400;
    format!(
        "{y:04}-{m:02}-{day:02}T{:02}:{:02}:{:02}.{:06}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        d.subsec_micros()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_round_trip() {
        let t = UNIX_EPOCH + Duration::new(1_714_566_896, 789_000_000);
        let s = format_time(t);
        assert_eq!(s, "2024-05-01T12:34:56.789000Z");
        assert_eq!(parse_time(&s), Some(t));
        assert_eq!(
            parse_time("2024-05-01T12:34:56Z"),
            Some(UNIX_EPOCH + Duration::from_secs(1_714_566_896))
        );
        assert_eq!(parse_time("2024-05-01 12:34:56"), None);
    }

    #[test]
    fn timespans() {
        for ok in [
            "00:00:01",
            "00.00:00:00.001000",
            "1.02:03:04.1234567",
            "999.23:59:59",
        ] {
            assert!(is_timespan(ok), "{ok}");
        }
        for bad in [
            "1000.00:00:00",
            "24:00:00",
            "0:0:1",
            "00:00:01.",
            "abc",
            "00:60:00",
        ] {
            assert!(!is_timespan(bad), "{bad}");
        }
    }
}
