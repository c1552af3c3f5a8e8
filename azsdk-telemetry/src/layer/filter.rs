//! The per-layer filter: the telemetry layer sees the framework's own
//! callsites and nothing else, so the rest of the application's tracing is
//! neither slowed down nor captured.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use tracing::level_filters::LevelFilter;
use tracing::subscriber::Interest;
use tracing::Metadata;
use tracing_subscriber::layer::{Context, Filter};

use crate::event::TARGET;

/// Interest in framework events only; none at all when telemetry is off.
///
/// The switch can be turned off at run time (the user opted out through the
/// application); [`OwnEvents::turn_off`] then has `tracing` ask every
/// callsite again, so instrumented calls go back to costing one check.
#[derive(Debug, Clone)]
pub(crate) struct OwnEvents {
    on: Arc<AtomicBool>,
}

impl OwnEvents {
    pub(crate) fn new(on: bool) -> Self {
        OwnEvents {
            on: Arc::new(AtomicBool::new(on)),
        }
    }

    pub(crate) fn turn_off(&self) {
        if self.on.swap(false, Ordering::SeqCst) {
            tracing::callsite::rebuild_interest_cache();
        }
    }

    pub(crate) fn is_on(&self) -> bool {
        self.on.load(Ordering::Relaxed)
    }

    fn wants(&self, metadata: &Metadata<'_>) -> bool {
        self.is_on() && metadata.target() == TARGET
    }
}

impl<S> Filter<S> for OwnEvents {
    fn enabled(&self, metadata: &Metadata<'_>, _: &Context<'_, S>) -> bool {
        self.wants(metadata)
    }

    fn callsite_enabled(&self, metadata: &'static Metadata<'static>) -> Interest {
        if self.wants(metadata) {
            Interest::always()
        } else {
            Interest::never()
        }
    }

    fn max_level_hint(&self) -> Option<LevelFilter> {
        Some(if self.is_on() {
            LevelFilter::INFO
        } else {
            LevelFilter::OFF
        })
    }
}
