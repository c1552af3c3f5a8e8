//! Readable failure messages: what was expected beside what was emitted.

use serde_json::Value;

/// A unified diff of two JSON values, pretty-printed, `-` expected and `+` emitted.
pub(crate) fn json_diff(expected: &Value, actual: &Value) -> String {
    let expected = pretty(expected);
    let actual = pretty(actual);
    similar::TextDiff::from_lines(&expected, &actual)
        .unified_diff()
        .context_radius(3)
        .header("expected", "emitted")
        .to_string()
}

pub(crate) fn pretty(value: &Value) -> String {
    let mut text = serde_json::to_string_pretty(value).unwrap_or_else(|_| value.to_string());
    text.push('\n');
    text
}
