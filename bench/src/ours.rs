//! Our stack, installed as the README says.

use std::path::PathBuf;

use azsdk_telemetry::ExportConfig;
use azsdk_telemetry::{TelemetryBuilder, TelemetryHandle, TelemetryLayer};
use tracing_subscriber::prelude::*;

/// A fresh state directory for one run (lifecycle state and the spool).
pub fn state_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "azsdk-telemetry-bench-{tag}-{}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// Our layer as a tool installs it, in a fresh state directory named for `tag`.
fn product(tag: &str) -> TelemetryBuilder {
    TelemetryLayer::builder()
        .app_name("azsdk-bench")
        .app_version("1.0.0")
        .state_dir(state_dir(tag))
        .first_run_notice(false)
        .ignore_environment()
}

/// `builder`'s layer in a registry, with its handle.
fn installed(builder: TelemetryBuilder) -> (tracing::Dispatch, TelemetryHandle) {
    let (layer, handle) = builder.build().expect("our layer builds");
    let subscriber = tracing_subscriber::registry().with(layer);
    (tracing::Dispatch::new(subscriber), handle)
}

/// Our layer posting to `connection_string`, in a registry, with its handle.
/// `configure` adjusts the exporter (the defaults are the product's defaults).
///
/// # Panics
/// When the layer cannot be built: the measurement cannot run without it.
pub fn dispatch(
    connection_string: &str,
    tag: &str,
    configure: impl FnOnce(ExportConfig) -> ExportConfig + Send + 'static,
) -> (tracing::Dispatch, TelemetryHandle) {
    installed(
        product(tag)
            .connection_string(connection_string)
            .configure_export(configure),
    )
}

/// Our layer with no connection string: the default JSONL sink, in a state directory of
/// its own.
///
/// # Panics
/// When the layer cannot be built (the temporary directory is unusable).
pub fn dispatch_jsonl(tag: &str) -> (tracing::Dispatch, TelemetryHandle) {
    installed(product(tag))
}

/// Our layer handing its records to `sink` instead of an exporter, in a state directory
/// of its own.
///
/// # Panics
/// When the layer cannot be built (the temporary directory is unusable).
pub fn dispatch_sink(
    tag: &str,
    sink: impl azsdk_telemetry::Sink,
) -> (tracing::Dispatch, TelemetryHandle) {
    installed(product(tag).sink(sink))
}

/// Our layer opted out (`enabled(false)`), in a registry: (b).
///
/// # Panics
/// Never in practice: an opted-out build does not fail.
pub fn dispatch_off() -> (tracing::Dispatch, TelemetryHandle) {
    installed(
        TelemetryLayer::builder()
            .enabled(false)
            .ignore_environment(),
    )
}
