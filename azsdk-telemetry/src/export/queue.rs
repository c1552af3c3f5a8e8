//! The one queue between the application and the worker: bounded by memory (and by a
//! count), every refusal counted by reason, and a hand-off that does not wake the worker
//! per call.
//!
//! Hand-written over `Mutex<VecDeque>` and `tokio::sync::Notify` because the channels of
//! tokio and std wake the receiver on every send: on a current-thread runtime that is an
//! `eventfd` write per tool call. Here a send wakes the worker only when there is work
//! worth waking for: the first record of a batch (its timer starts), a full batch, or the
//! queue past its high-water mark. Flush and shutdown come through the worker's own
//! control channel.

use std::collections::VecDeque;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use tokio::sync::Notify;
use tokio::time::Instant;

use super::sampling::Sampler;
use super::stats::Counters;
use crate::event::PendingRecord;

/// A record in the queue with the `sampleRate` it will be stamped with and the bytes it
/// holds of the queue's budget.
#[derive(Debug)]
pub(crate) struct Queued {
    pub record: PendingRecord,
    pub sample_rate: f64,
    bytes: usize,
}

#[derive(Debug, Default)]
struct State {
    items: VecDeque<Queued>,
    bytes: usize,
    /// When the oldest batch's first record arrived: its timer.
    first_at: Option<Instant>,
    closed: bool,
}

/// The queue's limits.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    /// Records held at most.
    pub max_items: usize,
    /// Bytes held at most (each record's [`PendingRecord::heap_bytes`]).
    pub max_bytes: usize,
    /// Records that make a full batch.
    pub batch: usize,
}

#[derive(Debug)]
pub(crate) struct Queue {
    state: Mutex<State>,
    ready: Notify,
    limits: Limits,
    sampler: Sampler,
    counters: Arc<Counters>,
}

impl Queue {
    pub(crate) fn new(limits: Limits, sampler: Sampler, counters: Arc<Counters>) -> Arc<Self> {
        Arc::new(Queue {
            state: Mutex::new(State::default()),
            ready: Notify::new(),
            limits,
            sampler,
            counters,
        })
    }

    /// A queue that keeps every record (no sampling) and counts on its own: a local sink's.
    pub(crate) fn keeping_all(limits: Limits) -> Arc<Self> {
        Queue::new(limits, Sampler::new(100.0), Arc::default())
    }

    /// Records refused so far: the queue was full or closed.
    pub(crate) fn refused(&self) -> u64 {
        self.counters.queue_full.load(Relaxed) + self.counters.closed.load(Relaxed)
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Past this many bytes the worker is woken without waiting for a full batch.
    fn high_water(&self) -> usize {
        self.limits.max_bytes / 2
    }

    /// Takes a record, or counts why not (sampled out, full, closed). Never blocks beyond
    /// the queue's lock, which the worker holds only to take a batch.
    pub(crate) fn send(&self, record: PendingRecord) {
        let Some(sample_rate) = self.sampler.decide(|| record.is_failure()) else {
            self.counters.sampled.fetch_add(1, Relaxed);
            return;
        };
        let bytes = record.heap_bytes() + std::mem::size_of::<Queued>();
        let queued = Queued {
            record,
            sample_rate,
            bytes,
        };
        let mut state = self.lock();
        let refused = if state.closed {
            Some(&self.counters.closed)
        } else if state.items.len() >= self.limits.max_items
            || state.bytes + bytes > self.limits.max_bytes
        {
            Some(&self.counters.queue_full)
        } else {
            None
        };
        if let Some(counter) = refused {
            drop(state);
            counter.fetch_add(1, Relaxed);
            return;
        }
        let was_below = state.bytes < self.high_water();
        state.bytes += bytes;
        state.items.push_back(queued);
        let len = state.items.len();
        if len == 1 {
            state.first_at = Some(Instant::now());
        }
        let wake =
            len == 1 || len == self.limits.batch || (was_below && state.bytes >= self.high_water());
        drop(state);
        self.counters.queued.fetch_add(1, Relaxed);
        if wake {
            self.ready.notify_one();
        }
    }

    /// Waits until a send asks for the worker (or returns at once if one did since the
    /// last wait).
    pub(crate) async fn woken(&self) {
        self.ready.notified().await;
    }

    /// When the oldest batch is due by age `max_age`, if anything is queued.
    pub(crate) fn due(&self, max_age: std::time::Duration) -> Option<Instant> {
        self.lock().first_at.map(|at| at + max_age)
    }

    /// Whether a batch should go now: a full one, one old enough, or a queue past its
    /// high-water mark.
    pub(crate) fn is_ready(&self, now: Instant, max_age: std::time::Duration) -> bool {
        let state = self.lock();
        !state.items.is_empty()
            && (state.items.len() >= self.limits.batch
                || state.bytes >= self.high_water()
                || state.first_at.is_some_and(|at| at + max_age <= now))
    }

    /// Records queued now.
    pub(crate) fn len(&self) -> usize {
        self.lock().items.len()
    }

    /// Takes up to `max` records, oldest first. What stays keeps its timer.
    pub(crate) fn take(&self, max: usize) -> Vec<Queued> {
        let mut state = self.lock();
        let n = max.min(state.items.len());
        let taken: Vec<Queued> = state.items.drain(..n).collect();
        state.bytes -= taken.iter().map(|q| q.bytes).sum::<usize>();
        if state.items.is_empty() {
            state.first_at = None;
        }
        taken
    }

    /// Refuses records from now on (they are counted as `closed`).
    pub(crate) fn close(&self) {
        self.lock().closed = true;
    }

    /// Drops every queued record; returns how many there were.
    pub(crate) fn discard(&self) -> usize {
        let taken = self.take(usize::MAX);
        taken.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::{ContextSnapshot, SharedContext};
    use crate::event::ToolExecuted;
    use std::time::Duration;

    fn record(success: bool) -> PendingRecord {
        let context = SharedContext::new(ContextSnapshot::default());
        let tool = ToolExecuted {
            success,
            ..ToolExecuted::default()
        };
        PendingRecord::new(tool.into(), &context)
    }

    fn queue(max_items: usize, max_bytes: usize, batch: usize) -> (Arc<Queue>, Arc<Counters>) {
        let counters = Arc::new(Counters::default());
        let limits = Limits {
            max_items,
            max_bytes,
            batch,
        };
        let queue = Queue::new(limits, Sampler::new(100.0), Arc::clone(&counters));
        (queue, counters)
    }

    fn one_record_bytes() -> usize {
        record(true).heap_bytes() + std::mem::size_of::<Queued>()
    }

    #[test]
    fn the_budget_refuses_what_does_not_fit_and_takes_again_once_taken() {
        let size = one_record_bytes();
        let (queue, counters) = queue(100, size * 2, 100);
        for _ in 0..3 {
            queue.send(record(true));
        }
        let stats = counters.snapshot();
        assert_eq!((stats.emitted, stats.dropped.queue_full), (3, 1));
        assert_eq!(queue.take(1).len(), 1);
        queue.send(record(true));
        assert_eq!(queue.len(), 2);
        assert_eq!(counters.snapshot().dropped.queue_full, 1);
    }

    #[test]
    fn the_item_cap_applies_too() {
        let (queue, counters) = queue(2, usize::MAX, 100);
        for _ in 0..5 {
            queue.send(record(true));
        }
        assert_eq!(queue.len(), 2);
        assert_eq!(counters.snapshot().dropped.queue_full, 3);
    }

    #[test]
    fn after_close_records_are_counted_closed_and_discard_counts_what_was_left() {
        let (queue, counters) = queue(100, usize::MAX, 100);
        queue.send(record(true));
        queue.close();
        queue.send(record(false));
        assert_eq!(counters.snapshot().dropped.closed, 1);
        assert_eq!(queue.discard(), 1);
        assert_eq!(queue.len(), 0);
        assert_eq!(counters.snapshot().emitted, 2);
    }

    #[test]
    fn a_batch_is_ready_when_full_when_old_or_past_the_high_water_mark() {
        let age = Duration::from_secs(60);
        let (full, _) = queue(100, usize::MAX, 3);
        let queue = full;
        let now = Instant::now();
        assert!(!queue.is_ready(now, age), "empty");
        queue.send(record(true));
        queue.send(record(true));
        assert!(!queue.is_ready(Instant::now(), age));
        assert!(queue.is_ready(Instant::now() + age, age), "old enough");
        queue.send(record(true));
        assert!(queue.is_ready(Instant::now(), age), "full");
        assert_eq!(queue.take(2).len(), 2);
        assert!(queue.due(age).is_some(), "what stays keeps its timer");
        queue.take(5);
        assert!(queue.due(age).is_none());

        let size = one_record_bytes();
        let (small, _) = tests::queue(100, size * 4, 100);
        small.send(record(true));
        assert!(!small.is_ready(Instant::now(), age));
        small.send(record(true));
        assert!(small.is_ready(Instant::now(), age), "half the budget");
    }

    #[test]
    fn sends_wake_the_worker_for_a_batch_not_per_record() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let (queue, _) = queue(1000, usize::MAX, 4);
        let woken = |queue: &Queue| {
            runtime.block_on(async {
                tokio::time::timeout(Duration::from_millis(20), queue.woken())
                    .await
                    .is_ok()
            })
        };
        queue.send(record(true));
        assert!(woken(&queue), "the first record starts the batch's timer");
        queue.send(record(true));
        queue.send(record(true));
        assert!(!woken(&queue), "the 2nd and 3rd records wake no one");
        queue.send(record(true));
        assert!(woken(&queue), "the 4th fills the batch");
        queue.send(record(true));
        assert!(!woken(&queue));
    }

    #[test]
    fn kept_successes_carry_the_sample_rate_and_failures_a_full_one() {
        let counters = Arc::new(Counters::default());
        let limits = Limits {
            max_items: 10_000,
            max_bytes: usize::MAX,
            batch: 512,
        };
        let queue = Queue::new(limits, Sampler::new(25.0), Arc::clone(&counters));
        for n in 0..2_000 {
            queue.send(record(n % 2 == 0));
        }
        let taken = queue.take(usize::MAX);
        let failures = taken.iter().filter(|q| q.record.is_failure()).count();
        assert_eq!(failures, 1_000, "every failure is kept");
        for q in &taken {
            let expected = if q.record.is_failure() { 100.0 } else { 25.0 };
            assert_eq!(q.sample_rate, expected);
        }
        let stats = counters.snapshot();
        assert_eq!(stats.emitted, 2_000);
        assert_eq!(stats.dropped.sampled as usize + taken.len(), 2_000);
    }
}
