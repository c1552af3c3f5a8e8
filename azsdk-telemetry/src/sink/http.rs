//! The sink that sends records to Application Insights through the exporter.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use super::{Sink, SinkStats};
use crate::event::PendingRecord;
use crate::export::{start, ExportConfig, ExportError, ExportHandle, ExportStats, Queue};

/// Sends records to Application Insights: a queue bounded by memory
/// ([`ExportConfig::queue_max_bytes`]) in front of the exporter's worker thread (batching,
/// scrubbing, envelopes, gzip, retries, spool). Accepting never blocks and does not wake
/// the worker per record; a full queue drops and counts.
///
/// ```no_run
/// use azsdk_telemetry::{ExportConfig, HttpSink};
/// use azsdk_telemetry::{ConnectionString, TelemetryLayer};
/// let cs = ConnectionString::parse("InstrumentationKey=00000000-0000-0000-0000-000000000000")?;
/// let sink = HttpSink::start(ExportConfig::new(cs))?;
/// let (layer, handle) = TelemetryLayer::builder().sink(sink).build::<tracing_subscriber::Registry>()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct HttpSink {
    queue: Arc<Queue>,
    handle: Mutex<Option<ExportHandle>>,
    /// The exporter's last counters, kept when it shuts down.
    final_stats: Mutex<Option<ExportStats>>,
    /// Why the configured spool directory could not be used (the sink runs without one).
    spool_unavailable: Option<String>,
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
        let (queue, handle, spool_unavailable) = start(&config)?;
        Ok(HttpSink {
            queue,
            handle: Mutex::new(Some(handle)),
            final_stats: Mutex::new(None),
            spool_unavailable,
        })
    }

    /// Why the configured spool directory could not be used, if it could not.
    pub(crate) fn spool_unavailable(&self) -> Option<&str> {
        self.spool_unavailable.as_deref()
    }

    fn with_handle<T>(&self, f: impl FnOnce(&ExportHandle) -> T) -> Option<T> {
        let guard = self.handle.lock().unwrap_or_else(PoisonError::into_inner);
        guard.as_ref().map(f)
    }
}

impl Sink for HttpSink {
    fn accept(&self, record: PendingRecord) {
        self.queue.send(record);
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
