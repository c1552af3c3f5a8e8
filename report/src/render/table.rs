//! The terminal form: one aligned text table per section.

use std::fmt::Write;

use super::{human_ms, percent, tool_cells, TOOL_COLUMNS};
use crate::metrics::Breakdown;
use crate::Report;

/// Rows under a header, each column as wide as its widest cell; columns
/// whose header starts with a digit-like measure are right-aligned.
///
/// ```
/// use azsdk_telemetry_report::render::table::Table;
/// let mut table = Table::new(&["tool", "calls"], &[false, true]);
/// table.row(vec!["azsdk_run_tests".into(), "7".into()]);
/// assert_eq!(table.to_string(), "tool             calls\n---------------  -----\nazsdk_run_tests      7\n");
/// ```
#[derive(Debug, Clone)]
pub struct Table {
    header: Vec<String>,
    right: Vec<bool>,
    rows: Vec<Vec<String>>,
}

impl Table {
    /// A table with these column names; `right[i]` right-aligns column `i`.
    pub fn new(header: &[&str], right: &[bool]) -> Table {
        Table {
            header: header.iter().map(|h| (*h).to_owned()).collect(),
            right: right.to_vec(),
            rows: Vec::new(),
        }
    }

    /// Adds a row (missing cells are blank).
    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }
}

impl std::fmt::Display for Table {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let columns = self.header.len();
        let width = |i: usize| {
            self.rows
                .iter()
                .filter_map(|row| row.get(i))
                .chain(std::iter::once(&self.header[i]))
                .map(|cell| cell.chars().count())
                .max()
                .unwrap_or(0)
        };
        let widths: Vec<usize> = (0..columns).map(width).collect();
        let line = |f: &mut std::fmt::Formatter<'_>, cells: &[String]| {
            let mut text = String::new();
            for (i, w) in widths.iter().enumerate() {
                let cell = cells.get(i).map_or("", String::as_str);
                if i > 0 {
                    text.push_str("  ");
                }
                if self.right.get(i).copied().unwrap_or(false) {
                    let _ = write!(text, "{cell:>w$}");
                } else {
                    let _ = write!(text, "{cell:<w$}");
                }
            }
            writeln!(f, "{}", text.trim_end())
        };
        line(f, &self.header)?;
        let rule: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
        line(f, &rule)?;
        for row in &self.rows {
            line(f, row)?;
        }
        Ok(())
    }
}

fn section(out: &mut String, title: &str, table: Option<Table>) {
    let _ = writeln!(out, "\n{title}");
    match table {
        Some(table) if !table.rows.is_empty() => out.push_str(&table.to_string()),
        _ => out.push_str("(no data)\n"),
    }
}

fn breakdown_table(label: &str, rows: &[Breakdown]) -> Table {
    let mut table = Table::new(
        &[label, "calls", "share", "success", "avg", "p50", "p95"],
        &[false, true, true, true, true, true, true],
    );
    for row in rows {
        table.row(vec![
            row.name.clone(),
            row.calls.to_string(),
            percent(row.share),
            percent(row.success_rate),
            human_ms(row.latency.avg_ms),
            human_ms(row.latency.p50_ms),
            human_ms(row.latency.p95_ms),
        ]);
    }
    table
}

/// The report as text tables.
///
/// ```
/// use azsdk_telemetry_report::{render::table, Loader, Report};
/// let (events, stats) = Loader::default().finish();
/// let text = table::render(&Report::build(&events, stats, Some("2025-10-16".parse().unwrap())));
/// assert!(text.contains("MAU  MEU  MDU"));
/// ```
pub fn render(report: &Report) -> String {
    let mut out = String::new();
    let input = &report.input;
    let _ = writeln!(
        out,
        "azsdk telemetry report: {} days, {} to {} (UTC)",
        report.window_days, report.window_start, report.as_of
    );
    let _ = writeln!(
        out,
        "read {} lines in {} file(s): {} events, {} skipped; {} tool calls in the window, {} of them without a user id; {} events after the window left out",
        input.load.lines,
        input.load.files,
        input.load.events,
        input.load.skipped,
        input.tool_events_in_window,
        input.tool_events_without_user,
        input.events_after_as_of
    );
    for (reason, count) in &input.load.skipped_by_reason {
        let _ = writeln!(out, "  skipped {count}: {reason}");
    }
    for example in &input.load.examples {
        let _ = writeln!(
            out,
            "  e.g. {}:{}: {}",
            example.file, example.line, example.reason
        );
    }

    let mut users = Table::new(&["MAU", "MEU", "MDU"], &[true, true, true]);
    users.row(vec![
        report.mau.to_string(),
        report.meu.to_string(),
        report.mdu.to_string(),
    ]);
    section(
        &mut out,
        "Active users (distinct devices active on >=1, >=2, >=10 days of the window)",
        Some(users),
    );

    let mut tools = Table::new(&TOOL_COLUMNS, &[false, false, true, true, true, true, true]);
    for tool in &report.tools {
        tools.row(tool_cells(tool));
    }
    section(&mut out, "Tools", Some(tools));
    section(
        &mut out,
        "Latency by category",
        Some(breakdown_table("category", &report.categories)),
    );

    let mut errors = Table::new(&["tool", "errorType", "failures"], &[false, false, true]);
    for error in &report.errors {
        errors.row(vec![
            error.tool_name.clone(),
            error.error_type.clone(),
            error.count.to_string(),
        ]);
    }
    section(&mut out, "Errors by tool and type", Some(errors));

    for (title, label, rows) in [
        ("Platforms", "platform", &report.platforms),
        ("MCP clients", "client", &report.clients),
        ("Agents", "agent", &report.agents),
        ("Models", "model", &report.models),
        ("Languages", "language", &report.languages),
        ("Planes", "plane", &report.planes),
        (
            "SDK generations by language",
            "language",
            &report.sdk_generations,
        ),
    ] {
        section(&mut out, title, Some(breakdown_table(label, rows)));
    }
    let _ = writeln!(out, "\nRelease plans created: {}", report.release_plans);

    let mut sequences = Table::new(&["sessions", "tool sequence"], &[true, false]);
    for sequence in &report.sequences {
        sequences.row(vec![
            sequence.sessions.to_string(),
            sequence.tools.join(" > "),
        ]);
    }
    section(
        &mut out,
        "Most common tool sequences per session",
        Some(sequences),
    );

    let drop = &report.drop_off;
    let mut drop_table = Table::new(
        &[
            "called first",
            "then",
            "users",
            "continued",
            "dropped",
            "drop-off",
        ],
        &[false, false, true, true, true, true],
    );
    drop_table.row(vec![
        drop.from_tool.clone(),
        drop.to_tool.clone(),
        drop.started.to_string(),
        drop.continued.to_string(),
        drop.dropped.to_string(),
        percent(drop.drop_off_rate),
    ]);
    section(
        &mut out,
        "Generate without test (drop-off)",
        Some(drop_table),
    );
    out
}
