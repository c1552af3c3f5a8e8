//! The layer proper: framework events in, enriched records out to the sink.

use std::cell::{Cell, RefCell};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use tracing::Subscriber;
use tracing_subscriber::layer::{Context, Layer};

use crate::context::SharedContext;
use crate::event::fields::FieldCollector;
use crate::event::pack::ToolView;
use crate::event::{emit_tool, Event, PendingRecord, ToolExecuted, ToolFields};
use crate::export::{Sink, ToolCallParts};

thread_local! {
    /// Set while [`dispatch_tool_call`] dispatches a tool call on this thread: to whether
    /// the call failed (what a full queue needs to count it).
    static TYPED: Cell<Option<bool>> = const { Cell::new(None) };
    /// The telemetry layers that received that event, waiting for the typed value.
    static CLAIMS: RefCell<Vec<Claim>> = const { RefCell::new(Vec::new()) };
}

/// A telemetry layer's claim on the typed event being emitted.
struct Claim {
    sink: Arc<dyn Sink>,
    context: Arc<SharedContext>,
}

/// Emits a tool call as a `tracing` event from its borrowed fields (every layer sees them,
/// as with [`ToolExecuted::emit`]); the telemetry layers that receive it only claim it.
/// [`Claimed::hand_off`] then gives them the typed value: they do not read the fields back
/// into new strings, the value is built only if one of them takes it (a full queue takes
/// nothing), and the last one takes it without a copy. This is the calling thread's
/// hand-off of `#[telemetry_tool]`. `dimensions` is the custom dimensions' JSON.
pub(crate) fn dispatch_tool_call(fields: &ToolFields<'_>, dimensions: Option<&str>) -> Claimed {
    struct Restore(Option<bool>);
    impl Drop for Restore {
        fn drop(&mut self) {
            TYPED.set(self.0);
        }
    }
    let first = CLAIMS.with_borrow(Vec::len);
    let _restore = Restore(TYPED.replace(Some(!fields.success)));
    emit_tool(fields, dimensions);
    Claimed {
        first,
        is_failure: !fields.success,
    }
}

/// The claims on a tool call just dispatched on this thread. Dropped without
/// [`hand_off`](Claimed::hand_off), the claims are given up.
#[must_use]
pub(crate) struct Claimed {
    first: usize,
    is_failure: bool,
}

impl Claimed {
    /// Gives the call to every layer that claimed it: as `tool`'s borrowed parts to a sink
    /// that takes them, else built with `build` (once, and only if one of them has room).
    pub(crate) fn hand_off(self, tool: Option<ToolView<'_>>, build: impl FnOnce() -> ToolExecuted) {
        let mut build = Some(build);
        let mut built: Option<ToolExecuted> = None;
        while let Some((claim, more)) = CLAIMS.with_borrow_mut(|claims| {
            (claims.len() > self.first).then(|| {
                let claim = claims.pop();
                (claim, claims.len() > self.first)
            })
        }) {
            let Some(claim) = claim else {
                break;
            };
            if !claim.sink.would_accept() {
                // The queue filled up since the layer looked: count the call without
                // building it.
                claim.sink.count_refused(self.is_failure);
                continue;
            }
            if let Some(tool) = tool {
                let parts = ToolCallParts {
                    tool,
                    context: &claim.context,
                };
                if claim.sink.accept_tool_call(&parts) {
                    continue;
                }
            }
            let event = match (built.take(), build.take()) {
                (Some(event), _) => event,
                (None, Some(build)) => build(),
                (None, None) => break,
            };
            if more {
                let tool = Box::new(Event::ToolExecuted(event.clone()));
                claim
                    .sink
                    .accept(PendingRecord::boxed(tool, &claim.context));
                built = Some(event);
            } else {
                // The last claimer takes the value: one move, into the record's box.
                let tool = Box::new(Event::ToolExecuted(event));
                claim
                    .sink
                    .accept(PendingRecord::boxed(tool, &claim.context));
            }
        }
    }
}

impl Drop for Claimed {
    fn drop(&mut self) {
        let first = self.first;
        let _ = CLAIMS.try_with(|claims| {
            if let Ok(mut claims) = claims.try_borrow_mut() {
                claims.truncate(first);
            }
        });
    }
}

/// Emits an owned tool call and hands it to the layers that claim it.
pub(crate) fn emit_tool_call(event: ToolExecuted) {
    let dimensions = event.custom_dimensions_json();
    let claimed = dispatch_tool_call(&event.fields(), dimensions.as_deref());
    claimed.hand_off(None, || event);
}

/// Counts of what the layer saw: one counter per kind, so an event touches one.
#[derive(Debug, Default)]
pub(crate) struct LayerCounters {
    pub(crate) tool_calls: AtomicU64,
    /// Lifecycle and configuration events.
    pub(crate) others: AtomicU64,
}

impl LayerCounters {
    /// Counts one event.
    pub(crate) fn count(&self, event: &Event) {
        let counter = if matches!(event, Event::ToolExecuted(_)) {
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
        if let (Some(failed), ToolExecuted::NAME) = (TYPED.get(), event.metadata().name()) {
            self.counters.tool_calls.fetch_add(1, Ordering::Relaxed);
            if !self.sink.would_accept() {
                // A full queue would drop the record: count it now, without a claim (no
                // handle on the sink or context to take and give back per call).
                self.sink.count_refused(failed);
                return;
            }
            // `emit_tool_call` hands over the typed value once dispatch returns.
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
        self.counters.count(&event);
        self.sink.accept(PendingRecord::new(event, &self.context));
    }
}
