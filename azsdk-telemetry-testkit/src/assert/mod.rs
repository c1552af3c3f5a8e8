//! Assertions that read like the spec, on what a [`Capture`] holds.

mod diff;
mod privacy;
mod tool;

use serde_json::Value;

pub use privacy::{normalize, personal_data_in};
pub use tool::{ToolAssert, COMMON_PROPERTIES};

use crate::capture::Capture;

fn event_name(envelope: &Value) -> &str {
    envelope["data"]["baseData"]["name"].as_str().unwrap_or("")
}

fn tool_name(envelope: &Value) -> Option<&str> {
    (event_name(envelope) == "ToolExecuted")
        .then(|| envelope["data"]["baseData"]["properties"]["toolName"].as_str())
        .flatten()
}

impl Capture {
    /// The one `ToolExecuted` event of the tool `name`. Panics, listing what
    /// was emitted, when there is none or more than one.
    ///
    /// ```
    /// # let capture = azsdk_telemetry_testkit::capture();
    /// # azsdk_telemetry::ToolExecuted { tool_name: "azsdk_verify_setup".into(), success: true, ..Default::default() }.emit();
    /// capture.tool("azsdk_verify_setup").succeeded();
    /// ```
    #[track_caller]
    pub fn tool(&self, name: &str) -> ToolAssert {
        let mut calls = self.tools(name);
        match calls.len() {
            1 => calls.remove(0),
            n => panic!(
                "expected one `{name}` call, found {n}; tools emitted: {:?}",
                self.tool_names()
            ),
        }
    }

    /// Every `ToolExecuted` event of the tool `name`, in order.
    ///
    /// ```
    /// # let capture = azsdk_telemetry_testkit::capture();
    /// # for _ in 0..2 { azsdk_telemetry::ToolExecuted { tool_name: "t".into(), ..Default::default() }.emit(); }
    /// assert_eq!(capture.tools("t").len(), 2);
    /// ```
    pub fn tools(&self, name: &str) -> Vec<ToolAssert> {
        self.envelopes()
            .into_iter()
            .filter(|envelope| tool_name(envelope) == Some(name))
            .map(|envelope| ToolAssert::new(name, envelope))
            .collect()
    }

    /// The names of the tools called, in order.
    ///
    /// ```
    /// # let capture = azsdk_telemetry_testkit::capture();
    /// # azsdk_telemetry::ToolExecuted { tool_name: "a".into(), ..Default::default() }.emit();
    /// assert_eq!(capture.tool_names(), ["a"]);
    /// ```
    pub fn tool_names(&self) -> Vec<String> {
        self.envelopes()
            .iter()
            .filter_map(|envelope| tool_name(envelope).map(str::to_owned))
            .collect()
    }

    /// The tools called were exactly these, in this order.
    ///
    /// ```
    /// # let capture = azsdk_telemetry_testkit::capture();
    /// # for name in ["azsdk_generate_sdk", "azsdk_run_tests"] {
    /// #     azsdk_telemetry::ToolExecuted { tool_name: name.into(), ..Default::default() }.emit();
    /// # }
    /// capture.assert_tool_sequence(&["azsdk_generate_sdk", "azsdk_run_tests"]);
    /// ```
    #[track_caller]
    pub fn assert_tool_sequence(&self, expected: &[&str]) {
        let actual = self.tool_names();
        if actual != expected {
            panic!(
                "tool calls differ:\n{}",
                diff::json_diff(&Value::from(expected.to_vec()), &Value::from(actual))
            );
        }
    }

    /// The events emitted, by name (`ToolExecuted`, `SystemStarted`, ...), were exactly these, in order.
    ///
    /// ```
    /// # let capture = azsdk_telemetry_testkit::capture();
    /// azsdk_telemetry::SystemStarted::default().emit();
    /// capture.assert_event_names(&["SystemStarted"]);
    /// ```
    #[track_caller]
    pub fn assert_event_names(&self, expected: &[&str]) {
        let actual: Vec<String> = self
            .envelopes()
            .iter()
            .map(|envelope| event_name(envelope).to_owned())
            .collect();
        if actual != expected {
            panic!(
                "events differ:\n{}",
                diff::json_diff(&Value::from(expected.to_vec()), &Value::from(actual))
            );
        }
    }

    /// Exactly `count` events named `name` were emitted.
    ///
    /// ```
    /// # let capture = azsdk_telemetry_testkit::capture();
    /// capture.assert_event_count("ToolExecuted", 0);
    /// ```
    #[track_caller]
    pub fn assert_event_count(&self, name: &str, count: usize) {
        let actual = self
            .envelopes()
            .iter()
            .filter(|envelope| event_name(envelope) == name)
            .count();
        assert_eq!(
            actual, count,
            "expected {count} `{name}` events, found {actual}"
        );
    }

    /// `secret` appears in no emitted byte: not in any envelope's text, any
    /// decoded string, nor inside `toolArgs` or `configChanges`.
    ///
    /// ```
    /// # let capture = azsdk_telemetry_testkit::capture();
    /// # azsdk_telemetry::ToolExecuted { tool_name: "t".into(), ..Default::default() }.emit();
    /// capture.assert_no_leak("hunter2-api-key");
    /// ```
    #[track_caller]
    pub fn assert_no_leak(&self, secret: &str) {
        self.assert_no_leaks(&[secret]);
    }

    /// None of `secrets` appears in any emitted byte.
    ///
    /// ```
    /// # let capture = azsdk_telemetry_testkit::capture();
    /// capture.assert_no_leaks(&["AccountKey=abc", "ghp_0123456789"]);
    /// ```
    #[track_caller]
    pub fn assert_no_leaks(&self, secrets: &[&str]) {
        for envelope in self.envelopes() {
            let texts = privacy::all_texts(&envelope);
            for secret in secrets.iter().filter(|secret| !secret.is_empty()) {
                if let Some(text) = texts.iter().find(|text| text.contains(secret)) {
                    panic!(
                        "`{secret}` leaked into an emitted {} event: {text}",
                        event_name(&envelope)
                    );
                }
            }
        }
    }

    /// No event carries the home directory, the user name, the host name or
    /// an e-mail address.
    ///
    /// ```
    /// # let capture = azsdk_telemetry_testkit::capture();
    /// # azsdk_telemetry::ToolExecuted { tool_name: "t".into(), ..Default::default() }.emit();
    /// capture.assert_no_personal_data();
    /// ```
    #[track_caller]
    pub fn assert_no_personal_data(&self) {
        for envelope in self.envelopes() {
            if let Some(found) = personal_data_in(&envelope) {
                panic!("an emitted {} event carries {found}", event_name(&envelope));
            }
        }
    }

    /// The envelopes with their volatile fields (times, ids, durations, the
    /// OS and SDK versions) replaced by placeholders: stable across runs and
    /// machines, to compare with stored JSON or an `insta` snapshot.
    ///
    /// ```
    /// # let capture = azsdk_telemetry_testkit::capture();
    /// # azsdk_telemetry::ToolExecuted { tool_name: "t".into(), ..Default::default() }.emit();
    /// let snapshot = capture.snapshot();
    /// assert_eq!(snapshot[0]["time"], "[time]");
    /// assert_eq!(snapshot[0]["data"]["baseData"]["properties"]["eventId"], "[id]");
    /// ```
    pub fn snapshot(&self) -> Vec<Value> {
        self.envelopes().into_iter().map(normalize).collect()
    }
}
