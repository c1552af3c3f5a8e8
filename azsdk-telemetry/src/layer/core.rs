//! The layer proper: framework events in, enriched records out to the sink.
//!
//! The one route of every event: its `tracing` fields are read back (a tool call into a
//! [`PackedTool`], a lifecycle event into its typed [`Event`](crate::Event)), which becomes
//! a [`PendingRecord`] with the context, handed to the sink's [`accept`](Sink::accept).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use tracing::Subscriber;
use tracing_subscriber::layer::{Context, Layer};

use crate::context::SharedContext;
use crate::event::{fields, PackedTool, PendingRecord, ToolExecuted};
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
    fn on_event(&self, event: &tracing::Event<'_>, _: Context<'_, S>) {
        let record = if event.metadata().name() == ToolExecuted::NAME {
            PendingRecord::tool(PackedTool::read(event), &self.context)
        } else {
            let Some(event) = fields::read(event) else {
                return;
            };
            PendingRecord::new(event, &self.context)
        };
        self.counters.count(&record);
        self.sink.accept(record);
    }
}
