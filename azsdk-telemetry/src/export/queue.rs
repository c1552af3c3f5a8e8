//! The non-blocking hand-off from the application to the worker, bounded by item count
//! and by memory.

use std::sync::atomic::AtomicUsize;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;

use tokio::sync::mpsc::{self, error::TrySendError};

use super::sampling::Sampler;
use super::stats::Counters;
use super::Exportable;

/// An item in the queue with the `sampleRate` it will be stamped with, and the bytes it
/// holds of the queue's budget (given back when the worker takes it).
pub(crate) struct Queued<T> {
    pub item: T,
    pub sample_rate: f64,
    pub bytes: usize,
}

/// The memory budget of the queue, shared by the senders (which reserve) and the worker
/// (which releases what it takes).
#[derive(Debug)]
pub(crate) struct ByteBudget {
    used: AtomicUsize,
    max: usize,
}

impl ByteBudget {
    pub(crate) fn new(max: usize) -> Self {
        Self {
            used: AtomicUsize::new(0),
            max,
        }
    }

    /// Takes `n` bytes of the budget, or nothing and `false` when they do not fit.
    fn try_reserve(&self, n: usize) -> bool {
        let before = self.used.fetch_add(n, Relaxed);
        if before.saturating_add(n) <= self.max {
            return true;
        }
        self.used.fetch_sub(n, Relaxed);
        false
    }

    /// Gives back `n` bytes taken by [`try_reserve`](Self::try_reserve).
    pub(crate) fn release(&self, n: usize) {
        self.used.fetch_sub(n, Relaxed);
    }

    fn has_room(&self) -> bool {
        self.used.load(Relaxed) < self.max
    }
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
    budget: Arc<ByteBudget>,
    admission: Admission,
}

impl<T> Clone for ExportSender<T> {
    fn clone(&self) -> Self {
        Self {
            tx: self.tx.clone(),
            budget: Arc::clone(&self.budget),
            admission: self.admission.clone(),
        }
    }
}

impl<T> std::fmt::Debug for ExportSender<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExportSender")
            .field("capacity_left", &self.tx.capacity())
            .field("bytes_queued", &self.budget.used.load(Relaxed))
            .finish()
    }
}

impl<T: Exportable> ExportSender<T> {
    pub(crate) fn new(
        tx: mpsc::Sender<Queued<T>>,
        budget: Arc<ByteBudget>,
        admission: Admission,
    ) -> Self {
        Self {
            tx,
            budget,
            admission,
        }
    }

    /// Hands an item to the worker. Never blocks: when the queue is full (by count or by
    /// memory), or the exporter has shut down, the item is dropped and counted. Client-side
    /// sampling happens here, so sampled-out items cost no queue space.
    pub fn send(&self, item: T) {
        let Some(sample_rate) = self.admission.admit(|| item.is_failure()) else {
            return;
        };
        let bytes = item.queued_bytes() + std::mem::size_of::<Queued<T>>();
        if !self.budget.try_reserve(bytes) {
            self.admission.count_drop(self.tx.is_closed());
            return;
        }
        let queued = Queued {
            item,
            sample_rate,
            bytes,
        };
        match self.tx.try_send(queued) {
            Ok(()) => self.admission.count_queued(),
            Err(e) => {
                self.budget.release(bytes);
                self.admission
                    .count_drop(matches!(e, TrySendError::Closed(_)));
            }
        }
    }

    /// Whether the queue has room now, by count and by memory (a hint: another thread may
    /// take it first). Lets a caller skip building an item that
    /// [`send`](ExportSender::send) would drop.
    pub fn has_room(&self) -> bool {
        self.tx.capacity() > 0 && self.budget.has_room()
    }

    /// Counts an item that was not built because [`has_room`](ExportSender::has_room) said
    /// no, as [`send`](ExportSender::send) counts one it cannot queue: emitted, then sampled
    /// out (the same draw `send` makes) or dropped for a full (or closed) queue.
    pub fn count_refused(&self, is_failure: impl FnOnce() -> bool) {
        self.admission
            .count_refused(is_failure, self.tx.is_closed());
    }
}

/// What every queue does with an item before it holds it, and how it counts it: the
/// client-side sampling draw, then one of queued, sampled, or dropped for a full or closed
/// queue.
#[derive(Debug, Clone)]
pub(crate) struct Admission {
    counters: Arc<Counters>,
    sampler: Sampler,
}

impl Admission {
    pub(crate) fn new(counters: Arc<Counters>, sampler: Sampler) -> Self {
        Self { counters, sampler }
    }

    /// The `sampleRate` kept successes are stamped with.
    pub(crate) fn sample_rate(&self) -> f64 {
        self.sampler.rate()
    }

    /// Draws whether an item is kept: its `sampleRate`, or `None` (counted as sampled out).
    /// The item then ends up counted once: queued, sampled, or dropped (`emitted` is their
    /// sum).
    pub(crate) fn admit(&self, is_failure: impl FnOnce() -> bool) -> Option<f64> {
        let kept = self.sampler.decide(is_failure);
        if kept.is_none() {
            self.counters.sampled.fetch_add(1, Relaxed);
        }
        kept
    }

    /// Counts an admitted item the queue took.
    pub(crate) fn count_queued(&self) {
        self.counters.queued.fetch_add(1, Relaxed);
    }

    /// Counts an admitted item the queue could not take.
    pub(crate) fn count_drop(&self, closed: bool) {
        let counter = if closed {
            &self.counters.closed
        } else {
            &self.counters.queue_full
        };
        counter.fetch_add(1, Relaxed);
    }

    /// Counts an item that was never built because the queue had no room: as if it had
    /// been admitted and then dropped.
    pub(crate) fn count_refused(&self, is_failure: impl FnOnce() -> bool, closed: bool) {
        if self.admit(is_failure).is_some() {
            self.count_drop(closed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::ByteBudget;

    #[test]
    fn the_budget_refuses_what_does_not_fit_and_takes_back_what_is_released() {
        let budget = ByteBudget::new(100);
        assert!(budget.try_reserve(60));
        assert!(!budget.try_reserve(41), "61..=101 is over the budget");
        assert!(budget.try_reserve(40), "a refused reservation took nothing");
        assert!(!budget.has_room());
        budget.release(60);
        assert!(budget.has_room());
        assert!(budget.try_reserve(60));
        assert!(
            !budget.try_reserve(usize::MAX),
            "no overflow past usize::MAX"
        );
    }
}
