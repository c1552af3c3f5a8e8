//! Assertions on one `ToolExecuted` event.

use std::time::Duration;

use serde_json::{Map, Value};

use super::diff::{json_diff, pretty};

/// Properties every event carries; [`ToolAssert::properties_exact`] leaves
/// them out, since they describe the process rather than the call.
pub const COMMON_PROPERTIES: [&str; 7] = [
    "version",
    "sessionId",
    "eventId",
    "macAddressHash",
    "devDeviceId",
    "platform",
    "isOptedIn",
];

/// One emitted tool call, to assert on. Every method checks one thing and
/// panics with what was expected and what was emitted; chain them.
///
/// ```
/// use azsdk_telemetry::ToolExecuted;
/// let capture = azsdk_telemetry_testkit::capture();
/// ToolExecuted {
///     tool_name: "azsdk_run_tests".into(),
///     tool_category: "testing".into(),
///     success: false,
///     tool_args: Some(r#"{"language":"Java","testMode":"playback"}"#.into()),
///     error_type: Some("TestFailure".into()),
///     ..Default::default()
/// }
/// .emit();
/// capture
///     .tool("azsdk_run_tests")
///     .category("testing")
///     .failed()
///     .arg("language", "Java")
///     .arg_absent("apiKey")
///     .error_type("TestFailure");
/// ```
#[derive(Debug, Clone)]
pub struct ToolAssert {
    name: String,
    envelope: Value,
}

impl ToolAssert {
    pub(crate) fn new(name: &str, envelope: Value) -> Self {
        ToolAssert {
            name: name.to_owned(),
            envelope,
        }
    }

    /// The envelope as it would be sent.
    pub fn envelope(&self) -> &Value {
        &self.envelope
    }

    /// The event's `customDimensions`.
    pub fn properties(&self) -> &Map<String, Value> {
        static EMPTY: std::sync::OnceLock<Map<String, Value>> = std::sync::OnceLock::new();
        self.envelope["data"]["baseData"]["properties"]
            .as_object()
            .unwrap_or_else(|| EMPTY.get_or_init(Map::new))
    }

    /// `toolArgs` parsed: an empty object when no argument was recorded.
    pub fn args(&self) -> Map<String, Value> {
        self.property("toolArgs")
            .and_then(|text| serde_json::from_str::<Value>(text).ok())
            .and_then(|value| value.as_object().cloned())
            .unwrap_or_default()
    }

    fn property(&self, key: &str) -> Option<&str> {
        self.properties().get(key).and_then(Value::as_str)
    }

    #[track_caller]
    fn fail(&self, what: &str) -> ! {
        panic!(
            "tool `{}`: {what}\nemitted properties:\n{}",
            self.name,
            pretty(&Value::Object(self.properties().clone()))
        )
    }

    #[track_caller]
    fn expect_json(self, what: &str, expected: &Value, actual: &Value) -> Self {
        if actual != expected {
            self.fail(&format!("{what} differ:\n{}", json_diff(expected, actual)));
        }
        self
    }

    #[track_caller]
    fn expect_property(self, key: &str, expected: Option<&str>) -> Self {
        let actual = self.property(key);
        if actual != expected {
            self.fail(&format!(
                "expected {key} = {expected:?}, emitted {actual:?}"
            ));
        }
        self
    }

    /// `toolCategory` is `category`.
    ///
    /// ```
    /// # let capture = azsdk_telemetry_testkit::capture();
    /// # azsdk_telemetry::ToolExecuted { tool_name: "t".into(), tool_category: "testing".into(), ..Default::default() }.emit();
    /// capture.tool("t").category("testing");
    /// ```
    #[track_caller]
    pub fn category(self, category: &str) -> Self {
        self.expect_property("toolCategory", Some(category))
    }

    /// The call succeeded.
    ///
    /// ```
    /// # let capture = azsdk_telemetry_testkit::capture();
    /// # azsdk_telemetry::ToolExecuted { tool_name: "t".into(), success: true, ..Default::default() }.emit();
    /// capture.tool("t").succeeded();
    /// ```
    #[track_caller]
    pub fn succeeded(self) -> Self {
        if self.envelope["data"]["baseData"]["success"] != Value::Bool(true) {
            self.fail("expected success = true");
        }
        self
    }

    /// The call failed.
    ///
    /// ```
    /// # let capture = azsdk_telemetry_testkit::capture();
    /// # azsdk_telemetry::ToolExecuted { tool_name: "t".into(), success: false, ..Default::default() }.emit();
    /// capture.tool("t").failed();
    /// ```
    #[track_caller]
    pub fn failed(self) -> Self {
        if self.envelope["data"]["baseData"]["success"] != Value::Bool(false) {
            self.fail("expected success = false");
        }
        self
    }

    /// The duration, as recorded in the typed event.
    pub fn duration(&self) -> Duration {
        self.envelope["data"]["baseData"]["duration"]
            .as_str()
            .and_then(parse_duration)
            .unwrap_or_default()
    }

    /// The duration lies within `min..=max`.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # let capture = azsdk_telemetry_testkit::capture();
    /// # azsdk_telemetry::ToolExecuted { tool_name: "t".into(), duration: Duration::from_millis(5), ..Default::default() }.emit();
    /// capture.tool("t").duration_between(Duration::from_millis(1), Duration::from_secs(1));
    /// ```
    #[track_caller]
    pub fn duration_between(self, min: Duration, max: Duration) -> Self {
        let duration = self.duration();
        if duration < min || duration > max {
            self.fail(&format!(
                "expected a duration in {min:?}..={max:?}, emitted {duration:?}"
            ));
        }
        self
    }

    /// `toolArgs` holds `key` with exactly this value.
    ///
    /// ```
    /// # let capture = azsdk_telemetry_testkit::capture();
    /// # azsdk_telemetry::ToolExecuted { tool_name: "t".into(), tool_args: Some(r#"{"language":"Go","count":3}"#.into()), ..Default::default() }.emit();
    /// capture.tool("t").arg("language", "Go").arg("count", 3);
    /// ```
    #[track_caller]
    pub fn arg(self, key: &str, value: impl Into<Value>) -> Self {
        let expected = value.into();
        match self.args().get(key) {
            Some(actual) if *actual == expected => self,
            Some(actual) => self.fail(&format!(
                "expected toolArgs.{key} = {expected}, emitted {actual}"
            )),
            None => self.fail(&format!(
                "expected toolArgs.{key} = {expected}, but the key is absent"
            )),
        }
    }

    /// `toolArgs` holds `key`, whatever its value (for `presence` fields).
    ///
    /// ```
    /// # let capture = azsdk_telemetry_testkit::capture();
    /// # azsdk_telemetry::ToolExecuted { tool_name: "t".into(), tool_args: Some(r#"{"typespecProjectRoot":true}"#.into()), ..Default::default() }.emit();
    /// capture.tool("t").arg_present("typespecProjectRoot");
    /// ```
    #[track_caller]
    pub fn arg_present(self, key: &str) -> Self {
        if !self.args().contains_key(key) {
            self.fail(&format!("expected toolArgs to hold `{key}`"));
        }
        self
    }

    /// `toolArgs` does not hold `key`.
    ///
    /// ```
    /// # let capture = azsdk_telemetry_testkit::capture();
    /// # azsdk_telemetry::ToolExecuted { tool_name: "t".into(), tool_args: Some("{}".into()), ..Default::default() }.emit();
    /// capture.tool("t").arg_absent("apiKey");
    /// ```
    #[track_caller]
    pub fn arg_absent(self, key: &str) -> Self {
        if let Some(value) = self.args().get(key) {
            self.fail(&format!(
                "expected toolArgs not to hold `{key}`, emitted {value}"
            ));
        }
        self
    }

    /// `toolArgs` is exactly this object (keys and values; order aside).
    ///
    /// ```
    /// # use serde_json::json;
    /// # let capture = azsdk_telemetry_testkit::capture();
    /// # azsdk_telemetry::ToolExecuted { tool_name: "t".into(), tool_args: Some(r#"{"language":"Go"}"#.into()), ..Default::default() }.emit();
    /// capture.tool("t").args_exact(json!({ "language": "Go" }));
    /// ```
    #[track_caller]
    pub fn args_exact(self, expected: Value) -> Self {
        let actual = Value::Object(self.args());
        self.expect_json("toolArgs", &expected, &actual)
    }

    /// The top-level dimension `key` (`language`, `serviceName`, ...) is `value`.
    ///
    /// ```
    /// # let capture = azsdk_telemetry_testkit::capture();
    /// # let mut event = azsdk_telemetry::ToolExecuted { tool_name: "t".into(), ..Default::default() };
    /// # event.set_dimension("language", "Python"); event.emit();
    /// capture.tool("t").dimension("language", "Python");
    /// ```
    #[track_caller]
    pub fn dimension(self, key: &str, value: &str) -> Self {
        self.expect_property(key, Some(value))
    }

    /// The top-level dimension `key` is absent.
    ///
    /// ```
    /// # let capture = azsdk_telemetry_testkit::capture();
    /// # azsdk_telemetry::ToolExecuted { tool_name: "t".into(), ..Default::default() }.emit();
    /// capture.tool("t").no_dimension("planeType");
    /// ```
    #[track_caller]
    pub fn no_dimension(self, key: &str) -> Self {
        self.expect_property(key, None)
    }

    /// `errorType` is `error_type`.
    ///
    /// ```
    /// # let capture = azsdk_telemetry_testkit::capture();
    /// # azsdk_telemetry::ToolExecuted { tool_name: "t".into(), error_type: Some("NetworkError".into()), ..Default::default() }.emit();
    /// capture.tool("t").error_type("NetworkError");
    /// ```
    #[track_caller]
    pub fn error_type(self, error_type: &str) -> Self {
        self.expect_property("errorType", Some(error_type))
    }

    /// `errorMessage` is exactly `message`.
    ///
    /// ```
    /// # let capture = azsdk_telemetry_testkit::capture();
    /// # azsdk_telemetry::ToolExecuted { tool_name: "t".into(), error_message: Some("3 tests failed".into()), ..Default::default() }.emit();
    /// capture.tool("t").error_message("3 tests failed");
    /// ```
    #[track_caller]
    pub fn error_message(self, message: &str) -> Self {
        self.expect_property("errorMessage", Some(message))
    }

    /// `errorMessage` contains `part`.
    ///
    /// ```
    /// # let capture = azsdk_telemetry_testkit::capture();
    /// # azsdk_telemetry::ToolExecuted { tool_name: "t".into(), error_message: Some("3 tests failed".into()), ..Default::default() }.emit();
    /// capture.tool("t").error_message_contains("failed");
    /// ```
    #[track_caller]
    pub fn error_message_contains(self, part: &str) -> Self {
        match self.property("errorMessage") {
            Some(message) if message.contains(part) => self,
            other => self.fail(&format!(
                "expected errorMessage to contain {part:?}, emitted {other:?}"
            )),
        }
    }

    /// Neither `errorType` nor `errorMessage` is present.
    ///
    /// ```
    /// # let capture = azsdk_telemetry_testkit::capture();
    /// # azsdk_telemetry::ToolExecuted { tool_name: "t".into(), success: true, ..Default::default() }.emit();
    /// capture.tool("t").no_error();
    /// ```
    #[track_caller]
    pub fn no_error(self) -> Self {
        self.expect_property("errorType", None)
            .expect_property("errorMessage", None)
    }

    /// `toolResponse` is `response`.
    ///
    /// ```
    /// # let capture = azsdk_telemetry_testkit::capture();
    /// # azsdk_telemetry::ToolExecuted { tool_name: "t".into(), tool_response: Some("done".into()), ..Default::default() }.emit();
    /// capture.tool("t").response("done");
    /// ```
    #[track_caller]
    pub fn response(self, response: &str) -> Self {
        self.expect_property("toolResponse", Some(response))
    }

    /// Each key of `expected` is a property with that (string) value; other
    /// properties are not checked.
    ///
    /// ```
    /// # use serde_json::json;
    /// # let capture = azsdk_telemetry_testkit::capture();
    /// # azsdk_telemetry::ToolExecuted { tool_name: "t".into(), tool_category: "testing".into(), ..Default::default() }.emit();
    /// capture.tool("t").properties_match(json!({ "toolName": "t", "toolCategory": "testing" }));
    /// ```
    #[track_caller]
    pub fn properties_match(self, expected: Value) -> Self {
        let Some(wanted) = expected.as_object() else {
            panic!("properties_match takes a JSON object, got {expected}");
        };
        let actual: Map<String, Value> = wanted
            .keys()
            .filter_map(|key| Some((key.clone(), self.properties().get(key)?.clone())))
            .collect();
        self.expect_json("properties", &expected, &Value::Object(actual))
    }

    /// The properties, less [`COMMON_PROPERTIES`], are exactly `expected`.
    ///
    /// ```
    /// # use serde_json::json;
    /// # let capture = azsdk_telemetry_testkit::capture();
    /// # azsdk_telemetry::ToolExecuted { tool_name: "t".into(), tool_category: "c".into(), ..Default::default() }.emit();
    /// capture.tool("t").properties_exact(json!({ "toolName": "t", "toolCategory": "c" }));
    /// ```
    #[track_caller]
    pub fn properties_exact(self, expected: Value) -> Self {
        let actual: Map<String, Value> = self
            .properties()
            .iter()
            .filter(|(key, _)| !COMMON_PROPERTIES.contains(&key.as_str()))
            .map(|(key, value)| (key.clone(), value.clone()))
            .collect();
        self.expect_json("properties", &expected, &Value::Object(actual))
    }
}

/// Parses `d.hh:mm:ss.ffffff`.
pub(crate) fn parse_duration(text: &str) -> Option<Duration> {
    let (days, rest) = text.split_once('.')?;
    let (clock, micros) = rest.rsplit_once('.')?;
    let mut parts = clock.split(':');
    let hours: u64 = parts.next()?.parse().ok()?;
    let minutes: u64 = parts.next()?.parse().ok()?;
    let seconds: u64 = parts.next()?.parse().ok()?;
    let days: u64 = days.parse().ok()?;
    let micros: u64 = micros.parse().ok()?;
    let secs = ((days * 24 + hours) * 60 + minutes) * 60 + seconds;
    Some(Duration::from_secs(secs) + Duration::from_micros(micros))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_back() {
        assert_eq!(
            parse_duration("0.00:00:12.450000"),
            Some(Duration::from_millis(12_450))
        );
        assert_eq!(
            parse_duration("1.01:01:01.000001"),
            Some(Duration::from_micros(90_061_000_001))
        );
        assert_eq!(parse_duration("nonsense"), None);
    }
}
