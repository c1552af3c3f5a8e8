//! `azsdk-telemetry-report`: the local dashboard's command line.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use azsdk_telemetry_report::render::Format;
use azsdk_telemetry_report::{Day, Loader, Report, ReportError};
use clap::Parser;

/// Dashboards over JSONL files of azsdk-telemetry envelopes: rolling 28-day
/// MAU/MEU/MDU, tool reliability and latency, errors, breakdowns, tool
/// sequences and the generate-without-test drop-off.
#[derive(Debug, Parser)]
#[command(name = "azsdk-telemetry-report", version)]
struct Cli {
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
    /// Last day (UTC, YYYY-MM-DD) of the 28-day window; default: the newest event's day.
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = parse_day)]
    as_of: Option<Day>,
    /// Write the report to FILE instead of standard output.
    #[arg(long, short, value_name = "FILE")]
    output: Option<PathBuf>,
    /// JSONL files of envelopes, one per line (as the JSONL sink writes them).
    #[arg(required = true, value_name = "FILE")]
    files: Vec<PathBuf>,
}

fn parse_day(text: &str) -> Result<Day, String> {
    Day::parse(text).map_err(|error| error.to_string())
}

fn run(cli: Cli) -> Result<(), ReportError> {
    let mut loader = Loader::default();
    for file in &cli.files {
        loader.read_file(file)?;
    }
    let (events, stats) = loader.finish();
    let report = Report::build(&events, stats, cli.as_of);
    let text = cli.format.render(&report);
    match &cli.output {
        Some(path) => std::fs::write(path, text).map_err(|source| ReportError::Write {
            path: path.clone(),
            source,
        }),
        None => std::io::stdout()
            .lock()
            .write_all(text.as_bytes())
            .map_err(|source| ReportError::Write {
                path: "-".into(),
                source,
            }),
    }
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("azsdk-telemetry-report: {error}");
            ExitCode::FAILURE
        }
    }
}
