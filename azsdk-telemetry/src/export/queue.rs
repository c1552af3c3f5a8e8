//! The non-blocking hand-off from the application to the worker.

use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;

use tokio::sync::mpsc::{self, error::TrySendError};

use super::sampling::Sampler;
use super::stats::Counters;
use super::Exportable;

/// An item in the queue with the `sampleRate` it will be stamped with.
pub(crate) struct Queued<T> {
    pub item: T,
    pub sample_rate: f64,
}

/// The application's side of the exporter: cheap to clone, usable from any thread or
/// runtime, and [`send`](ExportSender::send) never blocks.
///
/// ```no_run
/// # use azsdk_telemetry::export::{Exportable, ExportSender};
/// fn record<T: Exportable>(sender: &ExportSender<T>, item: T) {
///     sender.send(item); // dropped and counted if the queue is full or closed
/// }
/// ```
pub struct ExportSender<T> {
    tx: mpsc::Sender<Queued<T>>,
    counters: Arc<Counters>,
    sampler: Sampler,
}

impl<T> Clone for ExportSender<T> {
    fn clone(&self) -> Self {
        Self {
            tx: self.tx.clone(),
            counters: Arc::clone(&self.counters),
            sampler: self.sampler,
        }
    }
}

impl<T> std::fmt::Debug for ExportSender<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExportSender")
            .field("capacity_left", &self.tx.capacity())
            .finish()
    }
}

impl<T: Exportable> ExportSender<T> {
    pub(crate) fn new(
        tx: mpsc::Sender<Queued<T>>,
        counters: Arc<Counters>,
        sampler: Sampler,
    ) -> Self {
        Self {
            tx,
            counters,
            sampler,
        }
    }

    /// Hands an item to the worker. Never blocks: when the queue is full, or the exporter
    /// has shut down, the item is dropped and counted. Client-side sampling happens here, so
    /// sampled-out items cost no queue space.
    pub fn send(&self, item: T) {
        self.counters.emitted.fetch_add(1, Relaxed);
        let Some(sample_rate) = self.sampler.decide(|| item.is_failure()) else {
            self.counters.sampled.fetch_add(1, Relaxed);
            return;
        };
        match self.tx.try_send(Queued { item, sample_rate }) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => {
                self.counters.queue_full.fetch_add(1, Relaxed);
            }
            Err(TrySendError::Closed(_)) => {
                self.counters.closed.fetch_add(1, Relaxed);
            }
        }
    }

    /// Whether the queue has a free slot now (a hint: another thread may take it first).
    /// Lets a caller skip building an item that [`send`](ExportSender::send) would drop.
    pub fn has_room(&self) -> bool {
        self.tx.capacity() > 0
    }

    /// Counts an item that was not built because [`has_room`](ExportSender::has_room) said
    /// no, as [`send`](ExportSender::send) counts one it cannot queue: emitted, then sampled
    /// out (the same draw `send` makes) or dropped for a full (or closed) queue.
    pub fn count_refused(&self, is_failure: impl FnOnce() -> bool) {
        self.counters.emitted.fetch_add(1, Relaxed);
        if self.sampler.decide(is_failure).is_none() {
            self.counters.sampled.fetch_add(1, Relaxed);
        } else if self.tx.is_closed() {
            self.counters.closed.fetch_add(1, Relaxed);
        } else {
            self.counters.queue_full.fetch_add(1, Relaxed);
        }
    }
}
