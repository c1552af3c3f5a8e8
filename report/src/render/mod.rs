//! The report's three forms: a terminal table, JSON, and a self-contained HTML page.

pub mod html;
pub mod json;
pub mod table;

/// An output format, as chosen by `--format`.
///
/// ```
/// use azsdk_telemetry_report::render::Format;
/// assert_eq!(Format::Json.extension(), "json");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Format {
    /// Aligned text tables for a terminal.
    #[default]
    Table,
    /// One JSON object (`mau`, `meu`, `mdu`, `tools`, ...).
    Json,
    /// One HTML file with inline CSS and SVG charts; no external references.
    Html,
}

impl Format {
    /// The usual file extension.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Table => "txt",
            Format::Json => "json",
            Format::Html => "html",
        }
    }

    /// Renders `report` in this format.
    pub fn render(self, report: &crate::Report) -> String {
        match self {
            Format::Table => table::render(report),
            Format::Json => json::render(report),
            Format::Html => html::render(report),
        }
    }
}

/// The columns both the table and the page show for a tool.
pub const TOOL_COLUMNS: [&str; 7] = ["tool", "category", "calls", "success", "avg", "p50", "p95"];

/// A tool's cells under [`TOOL_COLUMNS`], formatted for people.
pub fn tool_cells(tool: &crate::metrics::ToolStats) -> Vec<String> {
    vec![
        tool.tool_name.clone(),
        tool.category.clone(),
        tool.calls.to_string(),
        percent(tool.success_rate),
        human_ms(tool.latency.avg_ms),
        human_ms(tool.latency.p50_ms),
        human_ms(tool.latency.p95_ms),
    ]
}

/// Milliseconds for people: `850 ms`, `12.45 s`, `2.5 min`.
///
/// ```
/// use azsdk_telemetry_report::render::human_ms;
/// assert_eq!(human_ms(850.0), "850 ms");
/// assert_eq!(human_ms(12_450.0), "12.45 s");
/// assert_eq!(human_ms(150_000.0), "2.5 min");
/// ```
pub fn human_ms(ms: f64) -> String {
    if ms < 1000.0 {
        format!("{} ms", trim(format!("{ms:.1}")))
    } else if ms < 60_000.0 {
        format!("{} s", trim(format!("{:.2}", ms / 1000.0)))
    } else {
        format!("{} min", trim(format!("{:.1}", ms / 60_000.0)))
    }
}

/// A percentage with at most 2 decimals: `100%`, `66.67%`.
pub fn percent(value: f64) -> String {
    format!("{}%", trim(format!("{value:.2}")))
}

fn trim(text: String) -> String {
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        text
    }
}
