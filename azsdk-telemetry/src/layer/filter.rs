//! The per-layer filter: the telemetry layer sees the framework's own
//! callsites and nothing else, so the rest of the application's tracing is
//! neither slowed down nor captured.

use tracing::level_filters::LevelFilter;
use tracing::subscriber::Interest;
use tracing::Metadata;
use tracing_subscriber::layer::{Context, Filter};

use crate::event::TARGET;

/// Interest in framework events only; none at all when telemetry is off.
#[derive(Debug, Clone, Copy)]
pub(crate) struct OwnEvents {
    pub(crate) on: bool,
}

impl OwnEvents {
    fn wants(&self, metadata: &Metadata<'_>) -> bool {
        self.on && metadata.target() == TARGET
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
        Some(if self.on {
            LevelFilter::INFO
        } else {
            LevelFilter::OFF
        })
    }
}
