//! The JSON form: the [`Report`] serialized with camelCase keys.

use crate::Report;

/// Pretty-printed JSON of the report, ending with a newline.
///
/// ```
/// use azsdk_telemetry_report::{render::json, Loader, Report};
/// let (events, stats) = Loader::default().finish();
/// let report = Report::build(&events, stats, Some("2025-10-16".parse().unwrap()));
/// let value: serde_json::Value = serde_json::from_str(&json::render(&report)).unwrap();
/// assert_eq!(value["mau"], 0);
/// assert_eq!(value["asOf"], "2025-10-16");
/// assert!(value["tools"].as_array().unwrap().is_empty());
/// ```
pub fn render(report: &Report) -> String {
    // Serializing plain structs of strings and numbers cannot fail.
    let mut text = serde_json::to_string_pretty(report)
        .unwrap_or_else(|error| serde_json::json!({ "error": error.to_string() }).to_string());
    text.push('\n');
    text
}
