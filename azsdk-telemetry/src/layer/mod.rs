//! The `tracing-subscriber` layer that turns framework events into records.

mod builder;
mod core;
mod filter;
mod handle;
mod status;

use std::any::TypeId;

use tracing::level_filters::LevelFilter;
use tracing::subscriber::Interest;
use tracing::{span, Metadata, Subscriber};
use tracing_subscriber::filter::Filtered;
use tracing_subscriber::layer::{Context, Layer};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::Registry;

pub use builder::{BuildError, TelemetryBuilder};
pub use handle::{
    TelemetryHandle, TelemetryStats, CI_EXIT_BUDGET, CLI_EXIT_BUDGET, DEFAULT_SHUTDOWN_DEADLINE,
};
pub use status::{Destination, LastSendStatus, SpoolStatus, StatusCounters, TelemetryStatus};

use self::core::Core;
use self::filter::OwnEvents;

/// The telemetry layer: install it in a `tracing_subscriber` registry beside
/// any other layers. It listens only to the framework's own events (a
/// per-layer filter), enriches them with the process context and hands them
/// to the configured sink.
///
/// ```
/// use std::time::Duration;
/// use tracing_subscriber::prelude::*;
/// use azsdk_telemetry::TelemetryLayer;
/// # let dir = tempfile::tempdir().unwrap();
///
/// let (layer, handle) = TelemetryLayer::builder()
///     .app_name("azsdk")
///     .app_version("1.0.0")
///     .jsonl_path(dir.path().join("telemetry.jsonl"))
///     .build()?;
/// let _guard = tracing_subscriber::registry().with(layer).set_default();
/// // ... run tools ...
/// handle.flush(Duration::from_secs(2));
/// # Ok::<(), azsdk_telemetry::BuildError>(())
/// ```
///
/// `S` is the subscriber the layer is added to; it is inferred from
/// `registry().with(layer)` and needs naming only when the layer is stored.
pub struct TelemetryLayer<S = Registry> {
    inner: Filtered<Core, OwnEvents, S>,
    /// The same switch as the filter's, found by [`layer_active`] through
    /// `Dispatch::downcast_ref`.
    switch: OwnEvents,
}

impl<S> TelemetryLayer<S> {
    fn new(core: Core, switch: OwnEvents) -> Self {
        TelemetryLayer {
            inner: Filtered::new(core, switch.clone()),
            switch,
        }
    }
}

/// Whether the current thread's subscriber holds a telemetry layer that is on.
pub(crate) fn layer_active() -> bool {
    tracing::dispatcher::get_default(|dispatch| {
        dispatch
            .downcast_ref::<OwnEvents>()
            .is_some_and(OwnEvents::is_on)
    })
}

impl TelemetryLayer<Registry> {
    /// Starts configuring a layer.
    pub fn builder() -> TelemetryBuilder {
        TelemetryBuilder::default()
    }
}

impl<S> std::fmt::Debug for TelemetryLayer<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TelemetryLayer").finish_non_exhaustive()
    }
}

impl<S> Layer<S> for TelemetryLayer<S>
where
    S: Subscriber + for<'span> LookupSpan<'span> + 'static,
{
    fn on_register_dispatch(&self, subscriber: &tracing::Dispatch) {
        self.inner.on_register_dispatch(subscriber)
    }

    fn on_layer(&mut self, subscriber: &mut S) {
        self.inner.on_layer(subscriber)
    }

    fn register_callsite(&self, metadata: &'static Metadata<'static>) -> Interest {
        self.inner.register_callsite(metadata)
    }

    fn enabled(&self, metadata: &Metadata<'_>, ctx: Context<'_, S>) -> bool {
        self.inner.enabled(metadata, ctx)
    }

    fn on_new_span(&self, attrs: &span::Attributes<'_>, id: &span::Id, ctx: Context<'_, S>) {
        self.inner.on_new_span(attrs, id, ctx)
    }

    fn max_level_hint(&self) -> Option<LevelFilter> {
        self.inner.max_level_hint()
    }

    fn on_record(&self, span: &span::Id, values: &span::Record<'_>, ctx: Context<'_, S>) {
        self.inner.on_record(span, values, ctx)
    }

    fn on_follows_from(&self, span: &span::Id, follows: &span::Id, ctx: Context<'_, S>) {
        self.inner.on_follows_from(span, follows, ctx)
    }

    fn event_enabled(&self, event: &tracing::Event<'_>, ctx: Context<'_, S>) -> bool {
        self.inner.event_enabled(event, ctx)
    }

    fn on_event(&self, event: &tracing::Event<'_>, ctx: Context<'_, S>) {
        self.inner.on_event(event, ctx)
    }

    fn on_enter(&self, id: &span::Id, ctx: Context<'_, S>) {
        self.inner.on_enter(id, ctx)
    }

    fn on_exit(&self, id: &span::Id, ctx: Context<'_, S>) {
        self.inner.on_exit(id, ctx)
    }

    fn on_close(&self, id: span::Id, ctx: Context<'_, S>) {
        self.inner.on_close(id, ctx)
    }

    fn on_id_change(&self, old: &span::Id, new: &span::Id, ctx: Context<'_, S>) {
        self.inner.on_id_change(old, new, ctx)
    }

    #[doc(hidden)]
    #[allow(unsafe_code)] // the trait demands it
    unsafe fn downcast_raw(&self, id: TypeId) -> Option<*const ()> {
        if id == TypeId::of::<Self>() {
            return Some(self as *const Self as *const ());
        }
        if id == TypeId::of::<OwnEvents>() {
            return Some(&self.switch as *const OwnEvents as *const ());
        }
        // SAFETY: forwarded unchanged to the wrapped `Filtered` layer, which
        // upholds the contract for the ids it answers (this is how the
        // registry discovers the per-layer filter).
        unsafe { self.inner.downcast_raw(id) }
    }
}
