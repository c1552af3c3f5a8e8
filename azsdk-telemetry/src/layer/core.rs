//! The layer proper: framework events in, enriched records out to the sink.
//!
//! The one route of every event: the typed event its emitter
//! [handed off](crate::event::handoff) beside the `tracing` event becomes a
//! [`PendingRecord`] with the context, handed to the sink's [`accept`](Sink::accept).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use tracing::Subscriber;
use tracing_subscriber::layer::{Context, Layer};

use crate::context::SharedContext;
use crate::event::{handoff, PendingRecord};
use crate::sink::Sink;

/// Counts of what the layer saw: one counter per kind, so an event touches one.
#[derive(Debug, Default)]
pub(crate) struct LayerCounters {
    pub(crate) tool_calls: AtomicU64,
    /// Lifecycle and configuration events.
    pub(crate) others: AtomicU64,
}

impl LayerCounters {
    /// Counts one record.
    pub(crate) fn count(&self, record: &PendingRecord) {
        let counter = if record.is_tool() {
            &self.tool_calls
        } else {
            &self.others
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// Every event counted.
    pub(crate) fn emitted(&self) -> u64 {
        self.tool_calls.load(Ordering::Relaxed) + self.others.load(Ordering::Relaxed)
    }
}

pub(crate) struct Core {
    pub(crate) sink: Arc<dyn Sink>,
    pub(crate) context: Arc<SharedContext>,
    pub(crate) counters: Arc<LayerCounters>,
}

impl<S: Subscriber> Layer<S> for Core {
    fn on_event(&self, _: &tracing::Event<'_>, _: Context<'_, S>) {
        // An event at the framework's target that no emitter announced is not recorded.
        let Some(body) = handoff::announced() else {
            return;
        };
        let record = PendingRecord::of(body, &self.context);
        self.counters.count(&record);
        self.sink.accept(record);
    }
}
