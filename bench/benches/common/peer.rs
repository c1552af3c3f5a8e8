//! The peer stack, set up the way its documentation shows: `#[tracing::instrument]` spans
//! -> `tracing-opentelemetry` -> `opentelemetry_sdk`'s batch span processor (its own thread;
//! default queue 2048, batch 512, 5 s delay) -> `opentelemetry-application-insights` with a
//! `reqwest` blocking client, posting to the same loopback ingestion server as ours.

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::trace::{BatchConfigBuilder, BatchSpanProcessor, SdkTracerProvider};
use tracing_subscriber::prelude::*;

/// The peer's subscriber and its tracer provider (flush with `force_flush`, stop with
/// `shutdown`). `queue` overrides the batch processor's `max_queue_size` (default 2048).
pub fn dispatch(
    connection_string: &str,
    queue: Option<usize>,
) -> (tracing::Dispatch, SdkTracerProvider) {
    // Built outside any async runtime, as the exporter's documentation asks.
    let client = reqwest_peer::blocking::Client::new();
    // The exporter's connection-string parser rewrites `http://` to `https://` (it assumes
    // the cloud), so the loopback endpoint is given with its (deprecated) `with_endpoint`.
    let cs = azsdk_telemetry::ConnectionString::parse(connection_string).expect("valid");
    #[allow(deprecated)]
    let exporter = opentelemetry_application_insights::Exporter::new(
        cs.instrumentation_key().to_owned(),
        client,
    )
    .with_endpoint(cs.ingestion_endpoint().trim_end_matches('/'))
    .expect("valid endpoint");
    let mut config = BatchConfigBuilder::default();
    if let Some(queue) = queue {
        config = config.with_max_queue_size(queue);
    }
    let processor = BatchSpanProcessor::builder(exporter)
        .with_batch_config(config.build())
        .build();
    let provider = SdkTracerProvider::builder()
        .with_span_processor(processor)
        .build();
    let tracer = provider.tracer("azsdk-bench");
    let subscriber =
        tracing_subscriber::registry().with(tracing_opentelemetry::layer().with_tracer(tracer));
    (tracing::Dispatch::new(subscriber), provider)
}
