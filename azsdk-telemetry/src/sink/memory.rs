//! The sink that keeps finished records in memory.

use std::sync::{Arc, Mutex, PoisonError};

use serde_json::Value;

use super::{envelope_line, Sink, SinkStats};
use crate::event::{PendingRecord, Record};

/// Keeps finished records in memory: for tests and for inspecting telemetry.
///
/// ```
/// use azsdk_telemetry::MemorySink;
/// let sink = MemorySink::new();
/// assert!(sink.records().is_empty());
/// ```
#[derive(Debug, Clone, Default)]
pub struct MemorySink {
    records: Arc<Mutex<Vec<Record>>>,
}

impl MemorySink {
    /// An empty sink. Clones share the same records.
    pub fn new() -> Self {
        MemorySink::default()
    }

    /// The records received so far, in order.
    pub fn records(&self) -> Vec<Record> {
        self.lock().clone()
    }

    /// The envelopes of the records received so far, as they would be sent: the lines
    /// [`Record::write_envelope`] writes (without an instrumentation key, at a 100 %
    /// sample rate), read back.
    pub fn envelopes(&self) -> Vec<Value> {
        self.lines()
            .iter()
            .filter_map(|line| serde_json::from_slice(line).ok())
            .collect()
    }

    /// The envelope lines of the records received so far, byte for byte as the JSONL
    /// sink writes them and the exporter sends them (without an instrumentation key).
    pub fn lines(&self) -> Vec<Vec<u8>> {
        self.lock().iter().filter_map(envelope_line).collect()
    }

    /// Forgets every record received so far.
    pub fn clear(&self) {
        self.lock().clear();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Record>> {
        self.records.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Sink for MemorySink {
    fn accept(&self, record: PendingRecord) {
        let record = record.finish();
        self.lock().push(record);
    }

    fn stats(&self) -> SinkStats {
        SinkStats {
            delivered: self.lock().len() as u64,
            ..SinkStats::default()
        }
    }
}
