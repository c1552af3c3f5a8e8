//! A local dashboard over azsdk-telemetry envelopes.
//!
//! Reads JSONL files of Application Insights envelopes (one per line, as the
//! JSONL sink and the local collector write them) and computes what the
//! spec's dashboards show: rolling 28-day MAU, MEU and MDU; per tool calls,
//! success rate, average, p50 and p95 latency; latency per category; errors
//! by tool and `errorType`; platform, client, agent, model, language and
//! plane breakdowns; SDK generations by language; the most common tool
//! sequences per session; and the generate-without-test drop-off. It renders
//! them as a terminal table, JSON, or a self-contained HTML page.
//!
//! Definitions (the same as the Kusto queries in `queries/`):
//!
//! - **Activity**: `ToolExecuted` events only ([`users`]).
//! - **User**: `devDeviceId`, else `macAddressHash`, else nobody ([`load::user_id`]).
//! - **Window**: the 28 UTC days ending at the as-of day, inclusive ([`users::window_start`]).
//! - **Counts**: `sum(itemCount)`, `itemCount = round(100 / sampleRate)` ([`load::item_count`]).
//! - **Percentiles**: weighted nearest rank, no interpolation ([`stats::percentile`]).
//!
//! ```
//! use azsdk_telemetry_report::{render::Format, Loader, Report};
//! let mut loader = Loader::default();
//! loader.read("events.jsonl", "not an envelope\n".as_bytes()).unwrap();
//! let (events, stats) = loader.finish();
//! let report = Report::build(&events, stats, None);
//! assert_eq!(report.input.load.skipped, 1);
//! let json = Format::Json.render(&report);
//! assert!(json.contains("\"mau\": 0"));
//! ```

pub mod day;
pub mod error;
pub mod load;
pub mod metrics;
pub mod render;
pub mod stats;
pub mod users;
pub mod workflow;

pub use day::Day;
pub use error::ReportError;
pub use load::{Event, LoadStats, Loader};
pub use metrics::Report;
