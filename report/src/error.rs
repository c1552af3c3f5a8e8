//! What can stop a report. Bad input lines never do: they are skipped and
//! counted in [`LoadStats`](crate::LoadStats).

use std::io;
use std::path::PathBuf;

/// An error that stops the report, with a message that says what to change.
///
/// ```
/// use azsdk_telemetry_report::Day;
/// let error = Day::parse("yesterday").unwrap_err();
/// assert!(error.to_string().contains("YYYY-MM-DD"));
/// ```
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// An input file could not be opened or read.
    #[error("cannot read {path}: {source}; pass JSONL files written by the JSONL sink or the local collector")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// The output could not be written.
    #[error("cannot write {path}: {source}; choose a writable --output path, or omit --output to print to standard output")]
    Write {
        /// The file, or `-` for standard output.
        path: PathBuf,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// A date that is not a valid `YYYY-MM-DD` calendar day.
    #[error("`{value}` is not a date; give the last day of the window as YYYY-MM-DD in UTC, e.g. --as-of 2025-10-16")]
    InvalidDay {
        /// What was given.
        value: String,
    },
}
