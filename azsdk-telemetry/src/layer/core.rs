//! The layer proper: framework events in, enriched records out to the sink.

use std::cell::{Cell, RefCell};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use tracing::Subscriber;
use tracing_subscriber::layer::{Context, Layer};

use crate::context::SharedContext;
use crate::event::fields::FieldCollector;
use crate::event::{Event, PendingRecord, ToolExecuted};
use crate::export::Sink;

thread_local! {
    /// Set while [`emit_tool_call`] dispatches a typed `ToolExecuted` on this thread.
    static TYPED: Cell<bool> = const { Cell::new(false) };
    /// The telemetry layers that received that event, waiting for the typed value.
    static CLAIMS: RefCell<Vec<Claim>> = const { RefCell::new(Vec::new()) };
}

/// A telemetry layer's claim on the typed event being emitted.
struct Claim {
    sink: Arc<dyn Sink>,
    context: Arc<SharedContext>,
}

/// Emits a tool call as a `tracing` event (every layer sees its fields, as with
/// [`ToolExecuted::emit`]), then hands the typed value itself to each telemetry layer
/// that received it: the layers do not read the fields back into new strings, and the
/// last one takes the value without a copy. This is the calling thread's hand-off of
/// `#[telemetry_tool]`.
pub(crate) fn emit_tool_call(event: ToolExecuted) {
    struct Restore(bool);
    impl Drop for Restore {
        fn drop(&mut self) {
            TYPED.set(self.0);
        }
    }
    let first = CLAIMS.with_borrow(Vec::len);
    {
        let _restore = Restore(TYPED.replace(true));
        event.emit();
    }
    while let Some((claim, more)) = CLAIMS.with_borrow_mut(|claims| {
        (claims.len() > first).then(|| {
            let claim = claims.pop();
            (claim, claims.len() > first)
        })
    }) {
        let Some(claim) = claim else {
            break;
        };
        if !claim.sink.would_accept() {
            // A full queue would drop the record: count it without building it.
            claim.sink.count_refused(!event.success);
            continue;
        }
        if more {
            let tool = Box::new(Event::ToolExecuted(event.clone()));
            claim
                .sink
                .accept(PendingRecord::boxed(tool, &claim.context));
        } else {
            // The last claimer takes the value: one move, into the record's box.
            let tool = Box::new(Event::ToolExecuted(event));
            claim
                .sink
                .accept(PendingRecord::boxed(tool, &claim.context));
            return;
        }
    }
}

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
        if TYPED.get() && event.metadata().name() == ToolExecuted::NAME {
            // `emit_tool_call` hands over the typed value once dispatch returns.
            self.counters.tool_calls.fetch_add(1, Ordering::Relaxed);
            self.counters.emitted.fetch_add(1, Ordering::Relaxed);
            CLAIMS.with_borrow_mut(|claims| {
                claims.push(Claim {
                    sink: Arc::clone(&self.sink),
                    context: Arc::clone(&self.context),
                })
            });
            return;
        }
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
