//! [`TelemetryHandle::status`]: on or off and why, where data goes, the
//! session, the spool, the last send and the counters.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;

use serde::Serialize;

use super::handle::TelemetryHandle;
use crate::export::{LastSend, LastSendCell};

/// What the builder decided, kept for [`TelemetryHandle::status`].
#[derive(Debug, Clone, Default)]
pub(crate) struct StatusInfo {
    pub(crate) reason: String,
    pub(crate) destination: Destination,
    pub(crate) spool_dir: Option<PathBuf>,
    /// Why the spool directory could not be used: the process keeps records in memory only.
    pub(crate) spool_unavailable: Option<String>,
    pub(crate) last_send: Option<Arc<LastSendCell>>,
}

/// Where telemetry goes: the kind of sink and, for Application Insights, the
/// ingestion endpoint's host (never the key or the connection string).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Destination {
    /// `applicationInsights`, `jsonl`, `custom` (a sink given in code), or
    /// `none` (no destination could be found).
    pub sink: &'static str,
    /// The ingestion endpoint's host (`applicationInsights`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// The file written (`jsonl`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<PathBuf>,
}

/// The spool of envelopes waiting to be resent, as found on disk.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct SpoolStatus {
    /// The spool directory.
    pub dir: PathBuf,
    /// Spool files in it.
    pub files: u64,
    /// Their total size.
    pub bytes: u64,
    /// When the oldest was written (RFC 3339), if any.
    pub oldest: Option<String>,
    /// Why this process cannot use the spool (it keeps records in memory only and counts
    /// what it cannot deliver as dropped); absent when it can.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unavailable: Option<String>,
}

/// The last request to the ingestion endpoint in this process.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct LastSendStatus {
    /// When (RFC 3339).
    pub at: String,
    /// Envelopes sent in it.
    pub items: usize,
    /// The HTTP status, when an answer came.
    pub status: Option<u16>,
    /// Why no answer came.
    pub error: Option<String>,
}

/// Counters of this process so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct StatusCounters {
    /// Events turned into records.
    pub emitted: u64,
    /// Of those, tool calls.
    pub tool_calls: u64,
    /// Delivered (accepted by the service, or written to the file).
    pub delivered: u64,
    /// Put in the spool for a later attempt.
    pub spooled: u64,
    /// Given up (all reasons).
    pub dropped: u64,
}

/// What [`TelemetryHandle::status`] reports. Serializes (and [`to_json`](Self::to_json)
/// prints) with the keys `enabled`, `reason`, `destination`, `session`, `spool`,
/// `lastSend`, `counters`; its `Display` is the same for a person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct TelemetryStatus {
    /// Whether telemetry is collected.
    pub enabled: bool,
    /// The setting that decided: `AZSDK_TELEMETRY_ENABLED=false`,
    /// `DO_NOT_TRACK is set`, `telemetry.enabled is false in the settings`,
    /// `disabled by the application`, or, when on, `default` or the setting
    /// that turned it on.
    pub reason: String,
    /// Where telemetry goes (or would go).
    pub destination: Destination,
    /// The session id of every event (`None` when off: no session is made).
    pub session: Option<String>,
    /// The spool on disk, when there is one (read, never created).
    pub spool: Option<SpoolStatus>,
    /// The last send of this process, if any.
    pub last_send: Option<LastSendStatus>,
    /// The counters of this process.
    pub counters: StatusCounters,
}

impl TelemetryStatus {
    /// One JSON object (no newline).
    ///
    /// ```
    /// use azsdk_telemetry::TelemetryLayer;
    /// let (_layer, handle) = TelemetryLayer::builder()
    ///     .enabled(false)
    ///     .build::<tracing_subscriber::Registry>()?;
    /// let status: serde_json::Value = serde_json::from_str(&handle.status().to_json())?;
    /// assert_eq!(status["enabled"], false);
    /// assert_eq!(status["reason"], "disabled by the application");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn to_json(&self) -> String {
        // Strings, numbers and paths (lossy) only: serializing cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }
}

impl fmt::Display for TelemetryStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = if self.enabled { "on" } else { "off" };
        writeln!(f, "telemetry: {state} ({})", self.reason)?;
        let d = &self.destination;
        match (&d.host, &d.path) {
            (Some(host), _) => writeln!(f, "destination: {} ({host})", d.sink)?,
            (None, Some(path)) => writeln!(f, "destination: {} ({})", d.sink, path.display())?,
            (None, None) => writeln!(f, "destination: {}", d.sink)?,
        }
        writeln!(f, "session: {}", self.session.as_deref().unwrap_or("none"))?;
        match &self.spool {
            Some(SpoolStatus {
                dir,
                unavailable: Some(why),
                ..
            }) => writeln!(
                f,
                "spool: unavailable, memory only ({}: {why})",
                dir.display()
            )?,
            Some(spool) => writeln!(
                f,
                "spool: {} files, {} bytes, oldest {} ({})",
                spool.files,
                spool.bytes,
                spool.oldest.as_deref().unwrap_or("none"),
                spool.dir.display()
            )?,
            None => writeln!(f, "spool: none")?,
        }
        match &self.last_send {
            Some(last) => match (&last.status, &last.error) {
                (Some(status), _) => writeln!(
                    f,
                    "last send: HTTP {status} for {} items at {}",
                    last.items, last.at
                )?,
                (None, error) => writeln!(
                    f,
                    "last send: failed ({}) for {} items at {}",
                    error.as_deref().unwrap_or("no answer"),
                    last.items,
                    last.at
                )?,
            },
            None => writeln!(f, "last send: none in this process")?,
        }
        let c = &self.counters;
        writeln!(
            f,
            "counters: {} emitted ({} tool calls), {} delivered, {} spooled, {} dropped",
            c.emitted, c.tool_calls, c.delivered, c.spooled, c.dropped
        )
    }
}

fn rfc3339(time: SystemTime) -> String {
    humantime::format_rfc3339_seconds(time).to_string()
}

/// The spool files in `dir` (read only; nothing is created).
fn read_spool(dir: &Path) -> SpoolStatus {
    let (files, bytes, oldest) = crate::export::spool_summary(dir);
    SpoolStatus {
        dir: dir.to_owned(),
        files,
        bytes,
        oldest: oldest.map(rfc3339),
        unavailable: None,
    }
}

impl TelemetryHandle {
    /// On or off and which setting decided, where telemetry goes, the
    /// session, the spool, the last send and the counters. Works while
    /// telemetry is off, and then creates, reads from the network and sends
    /// nothing.
    ///
    /// ```
    /// use azsdk_telemetry::TelemetryLayer;
    /// # let dir = tempfile::tempdir().unwrap();
    /// let (_layer, handle) = TelemetryLayer::builder()
    ///     .jsonl_path(dir.path().join("t.jsonl"))
    ///     .build::<tracing_subscriber::Registry>()?;
    /// let status = handle.status();
    /// assert!(status.enabled);
    /// assert_eq!(status.destination.sink, "jsonl");
    /// assert_eq!(status.session, Some(handle.session_id()));
    /// # Ok::<(), azsdk_telemetry::BuildError>(())
    /// ```
    pub fn status(&self) -> TelemetryStatus {
        let info = &self.status;
        let stats = self.stats();
        let enabled = self.is_enabled();
        let reason = match self.opt_out() {
            Some(reason) => reason.to_string(),
            None => info.reason.clone(),
        };
        TelemetryStatus {
            enabled,
            reason,
            destination: info.destination.clone(),
            session: enabled.then(|| self.session_id()),
            spool: info.spool_dir.as_deref().map(|dir| SpoolStatus {
                unavailable: info.spool_unavailable.clone(),
                ..read_spool(dir)
            }),
            last_send: info
                .last_send
                .as_ref()
                .and_then(|cell| cell.get())
                .map(|last: LastSend| LastSendStatus {
                    at: rfc3339(last.at),
                    items: last.items,
                    status: last.status,
                    error: last.error,
                }),
            counters: StatusCounters {
                emitted: stats.emitted,
                tool_calls: stats.tool_calls,
                delivered: stats.sink.delivered,
                spooled: stats.sink.spooled,
                dropped: stats.sink.dropped,
            },
        }
    }
}
