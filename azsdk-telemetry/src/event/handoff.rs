//! The hand-off: how an emitted event reaches the layer, typed, beside its `tracing` event.
//!
//! `tracing` fields carry primitive values, `dyn Debug` and `dyn Error`, so reading a
//! typed event back out of them meant a visit and a name match per field and a copy of
//! every text: about a fifth of an instrumented call. Instead an emitter builds the event
//! in the form a record keeps it ([`Body`]), puts it in this thread's slot, dispatches the
//! `tracing` event that announces it, and clears the slot. Each telemetry layer that the
//! dispatch reaches takes its own share of the event (a subscriber may hold several, each
//! with its own sink and context: the demo's local and remote layers). So `tracing` still decides whether and
//! where an event goes (filters, per-thread subscribers, `capture()`), and the readable
//! fields stay for other layers (an `fmt` layer shows them); the layer reads none of them.
//!
//! Dispatch does not nest (an event emitted while `tracing` dispatches is not delivered),
//! so the slot holds at most the one event being dispatched. An event at the framework's
//! target that no emitter announced (one written by hand with `tracing::info!`) finds the
//! slot empty and is not recorded.

use std::cell::Cell;

use super::record::Body;

thread_local! {
    /// The event being dispatched on this thread.
    static SLOT: Cell<Option<Body>> = const { Cell::new(None) };
}

/// Puts `body` in the slot while `dispatch` emits the `tracing` event that announces it,
/// then drops the slot's share (all of it when no telemetry layer wanted the event).
pub(crate) fn announce(body: Body, dispatch: impl FnOnce()) {
    /// Clears the slot however `dispatch` ends.
    struct Clear;
    impl Drop for Clear {
        fn drop(&mut self) {
            drop(SLOT.take());
        }
    }
    SLOT.set(Some(body));
    let _clear = Clear;
    dispatch();
}

/// A share of the announced event, for a layer: `None` when the event being dispatched was
/// not announced.
pub(crate) fn announced() -> Option<Body> {
    let body = SLOT.take();
    SLOT.set(body.clone());
    body
}
