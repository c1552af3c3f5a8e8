//! Where finished records go: the [`Sink`] trait, and the sinks the crate ships: memory
//! (tests), a JSONL file (local), and HTTP to Application Insights (through the exporter).

mod http;
mod jsonl;
mod memory;

pub use http::HttpSink;
pub use jsonl::JsonlSink;
pub use memory::MemorySink;

use std::sync::Arc;
use std::time::Duration;

use crate::event::{PendingRecord, Record};
use crate::export::ExportStats;

/// A destination for records. The layer calls [`Sink::accept`] on the thread
/// that emitted the event, so an implementation must return at once: queue
/// the record and do I/O elsewhere, or count it as dropped.
///
/// Every record of the layer arrives here, and only here: the built-in sinks and a
/// sink of your own see the same records. They arrive unscrubbed;
/// [`PendingRecord::finish`] is the only way to read them, so every sink stores and
/// sends scrubbed data, and [`Record::write_envelope`] gives the bytes the built-in
/// sinks store and send.
///
/// ```
/// use azsdk_telemetry::{Sink, SinkStats};
/// use azsdk_telemetry::PendingRecord;
///
/// /// Counts events by name and keeps nothing else.
/// #[derive(Default)]
/// struct Counter(std::sync::atomic::AtomicU64);
///
/// impl Sink for Counter {
///     fn accept(&self, _record: PendingRecord) {
///         self.0.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
///     }
/// }
/// ```
pub trait Sink: Send + Sync + 'static {
    /// Takes one record. Must not block.
    fn accept(&self, record: PendingRecord);

    /// Waits until every record accepted so far is stored or sent, or until
    /// `timeout` has passed. Returns whether everything was flushed.
    fn flush(&self, timeout: Duration) -> bool {
        let _ = timeout;
        true
    }

    /// What happened to the records accepted so far.
    fn stats(&self) -> SinkStats {
        SinkStats::default()
    }

    /// Flushes within `timeout`, then stops: records accepted later may be
    /// dropped (and counted). Returns whether everything was flushed.
    fn shutdown(&self, timeout: Duration) -> bool {
        self.flush(timeout)
    }

    /// The exporter's detailed counters, for sinks that send to Application Insights.
    fn export_stats(&self) -> Option<ExportStats> {
        None
    }

    /// Takes a record the process may not outlive (a crash): it must be on
    /// disk or sent when this returns, within `deadline`. The default
    /// accepts and flushes; an exporter writes it to its spool.
    fn persist_before_exit(&self, record: PendingRecord, deadline: Duration) {
        self.accept(record);
        self.flush(deadline);
    }
}

/// A sink's delivery counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SinkStats {
    /// Records written or sent.
    pub delivered: u64,
    /// Records put aside on disk to be sent later.
    pub spooled: u64,
    /// Records lost, for any reason (full queue, I/O error, rejected by the service).
    pub dropped: u64,
}

impl<T: Sink + ?Sized> Sink for Arc<T> {
    fn accept(&self, record: PendingRecord) {
        (**self).accept(record)
    }
    fn flush(&self, timeout: Duration) -> bool {
        (**self).flush(timeout)
    }
    fn stats(&self) -> SinkStats {
        (**self).stats()
    }
    fn persist_before_exit(&self, record: PendingRecord, deadline: Duration) {
        (**self).persist_before_exit(record, deadline)
    }
    fn shutdown(&self, timeout: Duration) -> bool {
        (**self).shutdown(timeout)
    }
    fn export_stats(&self) -> Option<ExportStats> {
        (**self).export_stats()
    }
}

/// The envelope line of a local sink: no instrumentation key, nothing sampled. `None` (and
/// a warning) for a record whose time cannot be written.
fn envelope_line(record: &Record) -> Option<Vec<u8>> {
    let mut line = Vec::with_capacity(1024);
    match record.write_envelope(None, 100.0, &mut line) {
        Ok(()) => Some(line),
        Err(error) => {
            tracing::warn!(target: "azsdk_telemetry::export", %error, "a record could not be written");
            None
        }
    }
}
