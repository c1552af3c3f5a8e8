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
}
