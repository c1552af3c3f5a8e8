//! The layer proper: framework events in, enriched records out to the sink.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use tracing::Subscriber;
use tracing_subscriber::layer::{Context, Layer};

use crate::context::SharedContext;
use crate::event::fields::FieldCollector;
use crate::event::{Event, PendingRecord};
use crate::export::Sink;

/// Counts of what the layer saw.
#[derive(Debug, Default)]
pub(crate) struct LayerCounters {
    pub(crate) emitted: AtomicU64,
    pub(crate) tool_calls: AtomicU64,
}

pub(crate) struct Core {
    pub(crate) sink: Arc<dyn Sink>,
    pub(crate) context: Arc<SharedContext>,
    pub(crate) counters: Arc<LayerCounters>,
}

impl<S: Subscriber> Layer<S> for Core {
    fn on_event(&self, event: &tracing::Event<'_>, _: Context<'_, S>) {
        let mut fields = FieldCollector::default();
        event.record(&mut fields);
        let Some(event) = fields.into_event(event.metadata().name()) else {
            return;
        };
        if matches!(event, Event::ToolExecuted(_)) {
            self.counters.tool_calls.fetch_add(1, Ordering::Relaxed);
        }
        self.counters.emitted.fetch_add(1, Ordering::Relaxed);
        self.sink.accept(PendingRecord::new(event, &self.context));
    }
}
