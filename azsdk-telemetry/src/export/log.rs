//! Log mode (`AZSDK_TELEMETRY_LOG`): every envelope, as one JSON line, exactly
//! as it is sent; and the outcome of the last send, for the status.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::PathBuf;
use std::sync::{Mutex, PoisonError};
use std::time::SystemTime;

/// `AZSDK_TELEMETRY_LOG`: `stderr`, or a file to append every envelope to.
pub(crate) const ENV_LOG: &str = "AZSDK_TELEMETRY_LOG";

/// Where log mode writes envelopes: never standard output, which belongs to
/// the tool (an MCP server speaks its protocol there).
///
/// ```
/// use azsdk_telemetry::EnvelopeLog;
/// assert_eq!(EnvelopeLog::parse("stderr"), Some(EnvelopeLog::Stderr));
/// assert_eq!(EnvelopeLog::parse("stdout"), Some(EnvelopeLog::Stderr));
/// assert_eq!(EnvelopeLog::parse("/tmp/sent.jsonl"), Some(EnvelopeLog::File("/tmp/sent.jsonl".into())));
/// assert_eq!(EnvelopeLog::parse(" "), None);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EnvelopeLog {
    /// Standard error.
    Stderr,
    /// A file, appended to (created when the first envelope is written).
    File(PathBuf),
}

impl EnvelopeLog {
    /// The value of `AZSDK_TELEMETRY_LOG`: `stderr` (also `stdout` and `-`, which are
    /// written to standard error), else a file path; `None` when empty.
    pub fn parse(value: &str) -> Option<EnvelopeLog> {
        match value.trim() {
            "" => None,
            "stderr" | "stdout" | "-" => Some(EnvelopeLog::Stderr),
            _ => Some(EnvelopeLog::File(PathBuf::from(value))),
        }
    }
}

/// Writes envelope lines where an [`EnvelopeLog`] says (on the worker thread).
#[derive(Debug)]
pub(crate) struct LogWriter {
    target: EnvelopeLog,
    file: Option<File>,
    failed: bool,
}

impl LogWriter {
    pub(crate) fn new(target: EnvelopeLog) -> Self {
        LogWriter {
            target,
            file: None,
            failed: false,
        }
    }

    /// Writes `line` and a newline in one write, so that lines of processes
    /// appending to the same file do not interleave. A log that cannot be
    /// written is given up (once, with a warning): sending goes on.
    pub(crate) fn line(&mut self, line: &[u8]) {
        if self.failed {
            return;
        }
        let mut text = Vec::with_capacity(line.len() + 1);
        text.extend_from_slice(line);
        text.push(b'\n');
        let written = match &self.target {
            EnvelopeLog::Stderr => std::io::stderr().lock().write_all(&text),
            EnvelopeLog::File(path) => {
                if self.file.is_none() {
                    match OpenOptions::new().create(true).append(true).open(path) {
                        Ok(file) => self.file = Some(file),
                        Err(error) => {
                            self.give_up(&error);
                            return;
                        }
                    }
                }
                match &mut self.file {
                    Some(file) => file.write_all(&text),
                    None => Ok(()),
                }
            }
        };
        if let Err(error) = written {
            self.give_up(&error);
        }
    }

    fn give_up(&mut self, error: &std::io::Error) {
        self.failed = true;
        tracing::warn!(target: "azsdk_telemetry::export", error = %error, "the envelope log ({ENV_LOG}) cannot be written; envelopes are still sent");
    }
}

/// The outcome of one request to the ingestion endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LastSend {
    /// When the answer (or the failure) came.
    pub at: SystemTime,
    /// Envelopes in the request.
    pub items: usize,
    /// The HTTP status answered; `None` when no answer came (see `error`).
    pub status: Option<u16>,
    /// Why no answer came: a connection or timeout error, in words.
    pub error: Option<String>,
}

/// The last send, shared between the worker (which writes it) and the handle.
#[derive(Debug, Default)]
pub(crate) struct LastSendCell(Mutex<Option<LastSend>>);

impl LastSendCell {
    pub(crate) fn answered(&self, items: usize, status: u16) {
        self.set(items, Some(status), None);
    }

    pub(crate) fn failed(&self, items: usize, error: &dyn std::fmt::Display) {
        self.set(items, None, Some(error.to_string()));
    }

    fn set(&self, items: usize, status: Option<u16>, error: Option<String>) {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) = Some(LastSend {
            at: SystemTime::now(),
            items,
            status,
            error,
        });
    }

    pub(crate) fn get(&self) -> Option<LastSend> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}
