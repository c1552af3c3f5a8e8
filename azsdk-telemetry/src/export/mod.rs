//! Getting records out of the process: envelopes and sinks.

mod envelope;
mod sink;

pub use envelope::{format_duration, format_time, DEPENDENCY_TYPE, ENVELOPE_NAME, SDK_VERSION};
pub use sink::{JsonlSink, MemorySink, Sink, SinkStats};
