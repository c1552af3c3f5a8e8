//! The manifest as Markdown.

use std::fmt::Write;

use super::Manifest;

/// `|` would end a table cell.
fn cell(text: &str) -> String {
    text.replace('|', "\\|")
}

pub(super) fn render(manifest: &Manifest) -> String {
    let mut out = String::from("# Telemetry manifest\n\n");
    out.push_str(
        "What each tool records in `toolArgs` (fields without an annotation are never recorded) \
         and the `errorType` values it can give.\n",
    );
    for tool in &manifest.tools {
        let _ = write!(
            out,
            "\n## `{}` ({})\n\n",
            cell(&tool.name),
            cell(&tool.category)
        );
        if tool.fields.is_empty() {
            out.push_str("Records no arguments.\n");
        } else {
            out.push_str("| key | mode | dimension |\n|---|---|---|\n");
            for field in &tool.fields {
                let mode = match field.display {
                    true => format!("{}(display)", field.mode.as_str()),
                    false => field.mode.as_str().to_owned(),
                };
                let dimension = field.dimension.as_deref().map(cell).unwrap_or_default();
                let _ = writeln!(out, "| `{}` | {mode} | {dimension} |", cell(&field.key));
            }
        }
        for name in &tool.undescribed_args {
            let _ = writeln!(
                out,
                "\nAlso records the keys of `{}` (a hand-written `TelemetryArgs`).",
                cell(name)
            );
        }
        let mut types: Vec<String> = tool.error_types.iter().map(|t| format!("`{t}`")).collect();
        if tool.other_error_types {
            types.push("others named after an error's type".to_owned());
        }
        if !types.is_empty() {
            let _ = writeln!(out, "\nerrorType: {}.", types.join(", "));
        }
    }
    out.push_str("\n## Every event\n");
    table(&mut out, &manifest.common_properties);
    out.push_str("\n## Events\n");
    for event in &manifest.events {
        let _ = write!(out, "\n### `{}`\n\n{}.\n", event.name, event.description);
        if !event.properties.is_empty() {
            table(&mut out, &event.properties);
        }
    }
    out
}

fn table(out: &mut String, properties: &[super::PropertyManifest]) {
    out.push_str("\n| property | what |\n|---|---|\n");
    for property in properties {
        let _ = writeln!(
            out,
            "| `{}` | {} |",
            property.key,
            cell(property.description)
        );
    }
}
