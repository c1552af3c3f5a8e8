//! The sink that sends records to Application Insights through the exporter.

use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use super::arena::ArenaSender;
use super::{start_packed, ExportConfig, ExportError, ExportHandle, ExportStats, Exportable};
use super::{Marks, Sink, SinkStats, ToolCallParts};
use crate::event::PendingRecord;

/// A record becomes an envelope on the exporter's worker thread: scrubbing,
/// event ids and serialization all happen there, off the instrumented call.
impl Exportable for PendingRecord {
    fn is_failure(&self) -> bool {
        PendingRecord::is_failure(self)
    }

    fn queued_bytes(&self) -> usize {
        self.heap_bytes()
    }

    fn into_envelope(self, instrumentation_key: &str, sample_rate: f64) -> serde_json::Value {
        self.finish()
            .to_envelope(Some(instrumentation_key), sample_rate)
    }

    fn write_envelope(
        self,
        instrumentation_key: &str,
        sample_rate: f64,
        out: &mut Vec<u8>,
    ) -> serde_json::Result<()> {
        self.finish()
            .write_envelope(Some(instrumentation_key), sample_rate, out)
    }

    fn write_envelope_marked(
        self,
        instrumentation_key: &str,
        sample_rate: f64,
        out: &mut Vec<u8>,
        marks: &mut Marks,
    ) -> serde_json::Result<()> {
        self.finish()
            .write_envelope_marked(Some(instrumentation_key), sample_rate, out, marks)
    }
}

/// Sends records to Application Insights: a queue bounded by memory
/// ([`ExportConfig::queue_max_bytes`]), where records wait packed into chunks of bytes
/// (~110 bytes for a typical tool call, deflated while a burst keeps the queue more than
/// half full), in front of the exporter's worker (batching,
/// gzip, retries, spool). Accepting never blocks; a full queue drops and counts.
///
/// ```no_run
/// use azsdk_telemetry::export::{ExportConfig, HttpSink};
/// use azsdk_telemetry::{ConnectionString, TelemetryLayer};
/// let cs = ConnectionString::parse("InstrumentationKey=00000000-0000-0000-0000-000000000000")?;
/// let sink = HttpSink::start(ExportConfig::new(cs))?;
/// let (layer, handle) = TelemetryLayer::builder().sink(sink).build::<tracing_subscriber::Registry>()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct HttpSink {
    sender: ArenaSender,
    handle: Mutex<Option<ExportHandle>>,
    /// The exporter's last counters, kept when it shuts down.
    final_stats: Mutex<Option<ExportStats>>,
}

impl HttpSink {
    /// Starts the exporter's worker thread.
    ///
    /// A spool directory that cannot be created or secured (a read-only or
    /// full disk, a file in its place) is not a reason for the application
    /// to fail: the sink then starts without a spool, logs a warning, and
    /// counts what it cannot deliver as dropped.
    ///
    /// # Errors
    /// [`ExportError`] when the configuration cannot work (an `http://`
    /// endpoint off loopback, a value out of range) or the worker cannot
    /// start.
    pub fn start(config: ExportConfig) -> Result<Self, ExportError> {
        let (sender, handle) = match start_packed(&config) {
            Err(ExportError::Spool { path, source }) => {
                tracing::warn!(
                    target: "azsdk_telemetry::export",
                    path = %path.display(),
                    error = %source,
                    "the spool directory cannot be used; sending without a spool"
                );
                start_packed(&ExportConfig {
                    spool_dir: None,
                    ..config
                })?
            }
            started => started?,
        };
        Ok(HttpSink {
            sender,
            handle: Mutex::new(Some(handle)),
            final_stats: Mutex::new(None),
        })
    }

    fn with_handle<T>(&self, f: impl FnOnce(&ExportHandle) -> T) -> Option<T> {
        let guard = self.handle.lock().unwrap_or_else(PoisonError::into_inner);
        guard.as_ref().map(f)
    }
}

impl Sink for HttpSink {
    fn accept(&self, record: PendingRecord) {
        self.sender.send(record);
    }

    fn accept_tool_call(&self, call: &ToolCallParts<'_>) -> bool {
        self.sender.send_tool(call.tool, call.context);
        true
    }

    fn would_accept(&self) -> bool {
        self.sender.has_room()
    }

    fn count_refused(&self, is_failure: bool) {
        self.sender.count_refused(is_failure);
    }

    fn flush(&self, timeout: Duration) -> bool {
        self.with_handle(|handle| handle.flush(timeout).completed)
            .unwrap_or(true)
    }

    fn shutdown(&self, timeout: Duration) -> bool {
        let handle = self
            .handle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        let Some(handle) = handle else {
            return true;
        };
        let report = handle.shutdown(timeout);
        *self
            .final_stats
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(report.stats);
        report.completed
    }

    fn stats(&self) -> SinkStats {
        let stats = self.export_stats().unwrap_or_default();
        SinkStats {
            delivered: stats.sent,
            spooled: stats.spooled,
            dropped: stats.dropped.total(),
        }
    }

    fn export_stats(&self) -> Option<ExportStats> {
        self.with_handle(ExportHandle::stats).or_else(|| {
            *self
                .final_stats
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
        })
    }
}
