//! The HTML form: one self-contained page, inline CSS and inline SVG charts,
//! with no scripts, fonts or references to anything outside the file.

use std::fmt::Write;

use super::{human_ms, percent, tool_cells, TOOL_COLUMNS};
use crate::metrics::Breakdown;
use crate::users::TrendPoint;
use crate::Report;

const CSS: &str = "
body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:0;background:#f5f6f8;color:#1b1f24}
header{background:#0b3d6e;color:#fff;padding:18px 32px}
header h1{margin:0 0 4px;font-size:22px}
header p{margin:2px 0;font-size:13px;opacity:.9}
main{padding:16px 32px;display:grid;grid-template-columns:repeat(auto-fill,minmax(540px,1fr));gap:16px}
section{background:#fff;border-radius:8px;padding:14px 18px;box-shadow:0 1px 3px rgba(0,0,0,.12)}
section.wide{grid-column:1/-1}
h2{font-size:16px;margin:0 0 10px}
.kpis{display:flex;gap:16px}
.kpi{flex:1;background:#eef3f9;border-radius:6px;padding:10px 14px}
.kpi b{display:block;font-size:30px}
.kpi span{font-size:12px;color:#4a5562}
table{border-collapse:collapse;width:100%;font-size:13px;margin-top:8px}
th,td{padding:4px 8px;border-bottom:1px solid #e3e6ea;text-align:left}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
svg text{font-size:11px;fill:#1b1f24}
.legend span{display:inline-block;margin-right:14px;font-size:12px}
.legend i{display:inline-block;width:10px;height:10px;margin-right:4px;border-radius:2px}
.empty{color:#6b7480;font-style:italic}
.note{font-size:12px;color:#4a5562}
";

const BLUE: &str = "#2f6fb5";
const GREEN: &str = "#2e9d5b";
const ORANGE: &str = "#e08a1e";
const RED: &str = "#c8423b";

/// Escapes text for HTML content and attribute values.
///
/// ```
/// use azsdk_telemetry_report::render::html::escape;
/// assert_eq!(escape(r#"<a href="x">&'"#), "&lt;a href=&quot;x&quot;&gt;&amp;&#39;");
/// ```
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A horizontal bar per row: `(label, value, text shown after the bar)`.
///
/// ```
/// use azsdk_telemetry_report::render::html::bar_chart;
/// let svg = bar_chart(&[("VSCode".into(), 3.0, "3".into())], "#2f6fb5");
/// assert!(svg.starts_with("<svg") && svg.contains("VSCode"));
/// ```
pub fn bar_chart(rows: &[(String, f64, String)], color: &str) -> String {
    if rows.is_empty() {
        return "<p class=\"empty\">No data in the window.</p>".to_owned();
    }
    let (width, label_width, row_height) = (520.0, 190.0, 22.0);
    // Room after the bars for the longest value text (about 6.5 px a character at 11 px).
    let text_room = rows
        .iter()
        .map(|r| r.2.chars().count() as f64 * 6.5 + 10.0)
        .fold(40.0, f64::max);
    let bar_space = (width - label_width - text_room).max(60.0);
    let max = rows.iter().map(|r| r.1).fold(0.0, f64::max);
    let height = rows.len() as f64 * row_height + 6.0;
    let mut svg = format!(
        "<svg width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\" role=\"img\">"
    );
    for (i, (label, value, text)) in rows.iter().enumerate() {
        let y = i as f64 * row_height + 3.0;
        let bar = if max > 0.0 {
            (value / max * bar_space).max(1.0)
        } else {
            1.0
        };
        let short: String = if label.chars().count() > 30 {
            label.chars().take(29).chain(std::iter::once('…')).collect()
        } else {
            label.clone()
        };
        let _ = write!(
            svg,
            "<g><title>{title}</title><text x=\"{lx}\" y=\"{ty}\" text-anchor=\"end\">{short}</text>\
             <rect x=\"{label_width}\" y=\"{y}\" width=\"{bar:.1}\" height=\"{h}\" fill=\"{color}\" rx=\"2\"/>\
             <text x=\"{vx:.1}\" y=\"{ty}\">{text}</text></g>",
            title = escape(label),
            lx = label_width - 6.0,
            ty = y + 13.0,
            short = escape(&short),
            h = row_height - 6.0,
            vx = label_width + bar + 5.0,
            text = escape(text),
        );
    }
    svg.push_str("</svg>");
    svg
}

/// Latency bars: for each row, avg, p50 and p95 side by side.
fn latency_chart(rows: &[(String, [f64; 3])]) -> String {
    if rows.is_empty() {
        return "<p class=\"empty\">No data in the window.</p>".to_owned();
    }
    let colors = [BLUE, GREEN, ORANGE];
    let (width, label_width, group_height) = (520.0, 190.0, 40.0);
    let bar_space = width - label_width - 80.0;
    let max = rows.iter().flat_map(|r| r.1).fold(0.0, f64::max);
    let height = rows.len() as f64 * group_height + 6.0;
    let mut svg = format!(
        "<svg width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\" role=\"img\">"
    );
    for (i, (label, values)) in rows.iter().enumerate() {
        let y0 = i as f64 * group_height + 3.0;
        let _ = write!(
            svg,
            "<text x=\"{lx}\" y=\"{ty}\" text-anchor=\"end\">{label}</text>",
            lx = label_width - 6.0,
            ty = y0 + 20.0,
            label = escape(label)
        );
        for (j, value) in values.iter().enumerate() {
            let y = y0 + j as f64 * 11.0;
            let bar = if max > 0.0 {
                (value / max * bar_space).max(1.0)
            } else {
                1.0
            };
            let _ = write!(
                svg,
                "<rect x=\"{label_width}\" y=\"{y}\" width=\"{bar:.1}\" height=\"9\" fill=\"{c}\" rx=\"1\"/>\
                 <text x=\"{vx:.1}\" y=\"{ty}\">{text}</text>",
                c = colors[j],
                vx = label_width + bar + 4.0,
                ty = y + 8.5,
                text = escape(&human_ms(*value)),
            );
        }
    }
    svg.push_str("</svg>");
    svg
}

/// MAU, MEU and MDU over time: one line each.
fn trend_chart(points: &[TrendPoint]) -> String {
    if points.is_empty() {
        return "<p class=\"empty\">No activity.</p>".to_owned();
    }
    let (width, height, left, bottom, top) = (1000.0, 220.0, 44.0, 24.0, 10.0);
    let max = points.iter().map(|p| p.users.mau).max().unwrap_or(0).max(1) as f64;
    let plot_w = width - left - 16.0;
    let plot_h = height - bottom - top;
    let x = |i: usize| {
        if points.len() == 1 {
            left + plot_w / 2.0
        } else {
            left + plot_w * i as f64 / (points.len() - 1) as f64
        }
    };
    let y = |v: u64| top + plot_h * (1.0 - v as f64 / max);
    let mut svg = format!(
        "<svg width=\"100%\" height=\"{height}\" viewBox=\"0 0 {width} {height}\" preserveAspectRatio=\"none\" role=\"img\">"
    );
    let _ = write!(
        svg,
        "<line x1=\"{left}\" y1=\"{base}\" x2=\"{right}\" y2=\"{base}\" stroke=\"#9aa3ad\"/>\
         <line x1=\"{left}\" y1=\"{top}\" x2=\"{left}\" y2=\"{base}\" stroke=\"#9aa3ad\"/>\
         <text x=\"{lx}\" y=\"{ty}\" text-anchor=\"end\">{max}</text>\
         <text x=\"{lx}\" y=\"{base}\" text-anchor=\"end\">0</text>\
         <text x=\"{left}\" y=\"{dy}\">{first}</text>\
         <text x=\"{right}\" y=\"{dy}\" text-anchor=\"end\">{last}</text>",
        base = top + plot_h,
        right = left + plot_w,
        lx = left - 6.0,
        ty = top + 8.0,
        dy = height - 6.0,
        first = points[0].day,
        last = points[points.len() - 1].day,
    );
    for (color, value) in [
        (
            BLUE,
            (|p: &TrendPoint| p.users.mau) as fn(&TrendPoint) -> u64,
        ),
        (GREEN, |p: &TrendPoint| p.users.meu),
        (ORANGE, |p: &TrendPoint| p.users.mdu),
    ] {
        let coords: Vec<String> = points
            .iter()
            .enumerate()
            .map(|(i, p)| format!("{:.1},{:.1}", x(i), y(value(p))))
            .collect();
        if points.len() == 1 {
            let _ = write!(
                svg,
                "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"4\" fill=\"{color}\"/>",
                x(0),
                y(value(&points[0]))
            );
        } else {
            let _ = write!(
                svg,
                "<polyline points=\"{}\" fill=\"none\" stroke=\"{color}\" stroke-width=\"2\"/>",
                coords.join(" ")
            );
        }
    }
    svg.push_str("</svg>");
    svg
}

fn legend(items: &[(&str, &str)]) -> String {
    let mut out = String::from("<div class=\"legend\">");
    for (color, name) in items {
        let _ = write!(
            out,
            "<span><i style=\"background:{color}\"></i>{}</span>",
            escape(name)
        );
    }
    out.push_str("</div>");
    out
}

/// A table from a header (`n` suffix on a name right-aligns the column) and rows.
fn html_table(header: &[(&str, bool)], rows: Vec<Vec<String>>) -> String {
    if rows.is_empty() {
        return "<p class=\"empty\">No data in the window.</p>".to_owned();
    }
    let mut out = String::from("<table><thead><tr>");
    for (name, numeric) in header {
        let class = if *numeric { " class=\"n\"" } else { "" };
        let _ = write!(out, "<th{class}>{}</th>", escape(name));
    }
    out.push_str("</tr></thead><tbody>");
    for row in rows {
        out.push_str("<tr>");
        for (i, cell) in row.iter().enumerate() {
            let class = if header.get(i).is_some_and(|h| h.1) {
                " class=\"n\""
            } else {
                ""
            };
            let _ = write!(out, "<td{class}>{}</td>", escape(cell));
        }
        out.push_str("</tr>");
    }
    out.push_str("</tbody></table>");
    out
}

fn breakdown_section(out: &mut String, title: &str, rows: &[Breakdown], color: &str) {
    let bars: Vec<(String, f64, String)> = rows
        .iter()
        .map(|b| {
            (
                b.name.clone(),
                b.calls as f64,
                format!(
                    "{} ({}, {} ok)",
                    b.calls,
                    percent(b.share),
                    percent(b.success_rate)
                ),
            )
        })
        .collect();
    let _ = write!(
        out,
        "<section><h2>{}</h2>{}</section>",
        escape(title),
        bar_chart(&bars, color)
    );
}

/// The whole page.
///
/// ```
/// use azsdk_telemetry_report::{render::html, Loader, Report};
/// let (events, stats) = Loader::default().finish();
/// let page = html::render(&Report::build(&events, stats, Some("2025-10-16".parse().unwrap())));
/// assert!(page.starts_with("<!DOCTYPE html>"));
/// assert!(!page.contains("http://") && !page.contains("https://"));
/// ```
pub fn render(report: &Report) -> String {
    let mut out = String::new();
    let input = &report.input;
    let _ = write!(
        out,
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>azsdk telemetry report {as_of}</title><style>{CSS}</style></head><body>\
         <header><h1>azsdk telemetry report</h1>\
         <p>{days} days, {start} to {as_of} (UTC)</p>\
         <p>{lines} lines in {files} file(s): {events} events, {skipped} skipped · \
         {calls} tool calls in the window, {no_user} without a user id · {after} events after the window left out</p></header><main>",
        as_of = report.as_of,
        days = report.window_days,
        start = report.window_start,
        lines = input.load.lines,
        files = input.load.files,
        events = input.load.events,
        skipped = input.load.skipped,
        calls = input.tool_events_in_window,
        no_user = input.tool_events_without_user,
        after = input.events_after_as_of,
    );

    let _ = write!(
        out,
        "<section class=\"wide\"><h2>Active users</h2><div class=\"kpis\">\
         <div class=\"kpi\"><b>{}</b><span>MAU: active on ≥1 day</span></div>\
         <div class=\"kpi\"><b>{}</b><span>MEU: active on ≥2 days</span></div>\
         <div class=\"kpi\"><b>{}</b><span>MDU: active on ≥10 days</span></div></div>\
         <h2 style=\"margin-top:14px\">Rolling 28-day trend</h2>{}{}\
         <p class=\"note\">A user is a devDeviceId (else the MAC address hash); a day is active when the user ran a tool (ToolExecuted) that UTC day.</p></section>",
        report.mau,
        report.meu,
        report.mdu,
        legend(&[(BLUE, "MAU"), (GREEN, "MEU"), (ORANGE, "MDU")]),
        trend_chart(&report.trend),
    );

    let numeric = [false, false, true, true, true, true, true];
    let header: Vec<(&str, bool)> = TOOL_COLUMNS.into_iter().zip(numeric).collect();
    let _ = write!(
        out,
        "<section class=\"wide\"><h2>Tool reliability and latency</h2>{}</section>",
        html_table(&header, report.tools.iter().map(tool_cells).collect())
    );
    let calls: Vec<_> = report
        .tools
        .iter()
        .map(|t| (t.tool_name.clone(), t.calls as f64, t.calls.to_string()))
        .collect();
    let success: Vec<_> = report
        .tools
        .iter()
        .map(|t| (t.tool_name.clone(), t.success_rate, percent(t.success_rate)))
        .collect();
    let latency: Vec<_> = report
        .tools
        .iter()
        .map(|t| {
            let l = t.latency;
            (t.tool_name.clone(), [l.avg_ms, l.p50_ms, l.p95_ms])
        })
        .collect();
    let category_latency: Vec<_> = report
        .categories
        .iter()
        .map(|c| {
            let l = c.latency;
            (c.name.clone(), [l.avg_ms, l.p50_ms, l.p95_ms])
        })
        .collect();
    let latency_legend = legend(&[(BLUE, "avg"), (GREEN, "p50"), (ORANGE, "p95")]);
    let _ = write!(
        out,
        "<section><h2>Most called tools</h2>{}</section>\
         <section><h2>Success rate by tool</h2>{}</section>\
         <section><h2>Latency by tool</h2>{latency_legend}{}</section>\
         <section><h2>Latency by category</h2>{latency_legend}{}</section>",
        bar_chart(&calls, BLUE),
        bar_chart(&success, GREEN),
        latency_chart(&latency),
        latency_chart(&category_latency),
    );

    let errors: Vec<_> = report
        .errors
        .iter()
        .map(|e| {
            (
                format!("{} · {}", e.tool_name, e.error_type),
                e.count as f64,
                e.count.to_string(),
            )
        })
        .collect();
    let _ = write!(
        out,
        "<section><h2>Errors by tool and type</h2>{}</section>",
        bar_chart(&errors, RED)
    );
    breakdown_section(&mut out, "Calls by category", &report.categories, BLUE);
    breakdown_section(&mut out, "Platforms", &report.platforms, BLUE);
    breakdown_section(&mut out, "MCP clients", &report.clients, BLUE);
    breakdown_section(&mut out, "Agents", &report.agents, BLUE);
    breakdown_section(&mut out, "Models", &report.models, BLUE);
    breakdown_section(&mut out, "Languages", &report.languages, GREEN);
    breakdown_section(&mut out, "Data vs. management plane", &report.planes, GREEN);

    let generation_rows = report
        .sdk_generations
        .iter()
        .map(|g| {
            vec![
                g.name.clone(),
                g.calls.to_string(),
                percent(g.success_rate),
                human_ms(g.latency.avg_ms),
                human_ms(g.latency.p95_ms),
            ]
        })
        .collect();
    let _ = write!(
        out,
        "<section><h2>SDK generations by language</h2>{}<p class=\"note\">Release plans created: {}</p></section>",
        html_table(
            &[
                ("language", false),
                ("generations", true),
                ("success", true),
                ("avg", true),
                ("p95", true),
            ],
            generation_rows
        ),
        report.release_plans
    );

    let sequence_rows = report
        .sequences
        .iter()
        .map(|s| vec![s.sessions.to_string(), s.tools.join(" → ")])
        .collect();
    let _ = write!(
        out,
        "<section class=\"wide\"><h2>Most common tool sequences per session</h2>{}</section>",
        html_table(
            &[("sessions", true), ("tool sequence", false)],
            sequence_rows
        )
    );

    let drop = &report.drop_off;
    let funnel = [
        (
            format!("called {}", drop.from_tool),
            drop.started as f64,
            drop.started.to_string(),
        ),
        (
            format!("then {}", drop.to_tool),
            drop.continued as f64,
            drop.continued.to_string(),
        ),
        (
            "never tested".to_owned(),
            drop.dropped as f64,
            format!("{} ({})", drop.dropped, percent(drop.drop_off_rate)),
        ),
    ];
    let _ = write!(
        out,
        "<section><h2>Generate without test (users)</h2>{}</section>",
        bar_chart(&funnel, ORANGE)
    );

    if input.load.skipped > 0 {
        let skipped_rows = input
            .load
            .skipped_by_reason
            .iter()
            .map(|(reason, count)| vec![reason.clone(), count.to_string()])
            .collect();
        let _ = write!(
            out,
            "<section><h2>Skipped lines</h2>{}</section>",
            html_table(&[("reason", false), ("lines", true)], skipped_rows)
        );
    }
    out.push_str("</main></body></html>\n");
    out
}
