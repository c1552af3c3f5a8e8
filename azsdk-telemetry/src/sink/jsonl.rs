//! The sink that appends envelopes to a local file, one per line.
//!
//! Records go through the exporter's one [`Queue`], so a tool call costs the same here as
//! with Application Insights: the writer thread is woken for a batch's first record (its
//! timer starts), a full batch or a flush, never per record, and writes each batch at once.

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc as sync_mpsc, Arc};
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::time::Instant;

use super::{envelope_line, Sink, SinkStats};
use crate::event::{PendingRecord, Record};
use crate::export::{sleep_opt, Limits, Queue};

/// Appends one envelope per line to a local file: the default when no
/// connection string is configured, and a log to debug telemetry with.
///
/// Writing happens on a background thread, a batch at a time (512 records, or what
/// arrived within a second); a full queue drops and counts. The file is created
/// (mode 0600 on Unix) with the first record, so an application that emits nothing
/// leaves nothing behind.
///
/// ```
/// use std::time::Duration;
/// use azsdk_telemetry::{JsonlSink, Sink};
/// # let dir = tempfile::tempdir().unwrap();
/// let sink = JsonlSink::new(dir.path().join("telemetry.jsonl"));
/// assert!(sink.flush(Duration::from_secs(1)));
/// ```
#[derive(Debug)]
pub struct JsonlSink {
    path: PathBuf,
    queue: Arc<Queue>,
    /// Flush requests; dropping it stops the writer once it has written what is queued.
    flushes: mpsc::UnboundedSender<sync_mpsc::SyncSender<()>>,
    counters: Arc<Counters>,
}

/// What the writer did with the records it took.
#[derive(Debug, Default)]
struct Counters {
    delivered: AtomicU64,
    dropped: AtomicU64,
}

/// Records written in one go.
const BATCH: usize = 512;
/// The longest a record waits in the queue before it is written.
const BATCH_AGE: Duration = Duration::from_secs(1);

impl JsonlSink {
    /// Records queued beyond this are dropped and counted.
    pub const QUEUE_CAPACITY: usize = 8192;
    /// Memory the queued records may take before they are dropped and counted (records
    /// with huge texts, which are cut only when written).
    pub const QUEUE_MAX_BYTES: usize = 16 * 1024 * 1024;

    /// A sink appending to `path` (its folder is created when needed).
    pub fn new(path: impl Into<PathBuf>) -> Self {
        let path = path.into();
        let queue = Queue::keeping_all(Limits {
            max_items: Self::QUEUE_CAPACITY,
            max_bytes: Self::QUEUE_MAX_BYTES,
            batch: BATCH,
        });
        let (flushes, requests) = mpsc::unbounded_channel();
        let counters = Arc::new(Counters::default());
        let writer = Writer {
            path: path.clone(),
            file: None,
            queue: Arc::clone(&queue),
            counters: Arc::clone(&counters),
        };
        let started = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .and_then(|runtime| {
                std::thread::Builder::new()
                    .name("azsdk-telemetry-jsonl".into())
                    .spawn(move || runtime.block_on(writer.run(requests)))
            });
        if let Err(error) = started {
            tracing::warn!(target: "azsdk_telemetry::export", %error, "could not start the JSONL writer; records will be dropped");
            queue.close();
        }
        JsonlSink {
            path,
            queue,
            flushes,
            counters,
        }
    }

    /// The file written to.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// The least time the JSONL sink gets at shutdown to write what it holds.
const PERSIST_AT_LEAST: Duration = Duration::from_secs(2);

impl Sink for JsonlSink {
    fn accept(&self, record: PendingRecord) {
        self.queue.send(record);
    }

    fn flush(&self, timeout: Duration) -> bool {
        let (done, finished) = sync_mpsc::sync_channel(1);
        self.flushes.send(done).is_ok() && finished.recv_timeout(timeout).is_ok()
    }

    /// A local file is where records persist, so at exit it gets at least 2 s whatever
    /// the exit budget (which bounds waiting on a network).
    fn shutdown(&self, timeout: Duration) -> bool {
        self.flush(timeout.max(PERSIST_AT_LEAST))
    }

    fn stats(&self) -> SinkStats {
        SinkStats {
            delivered: self.counters.delivered.load(Ordering::Relaxed),
            spooled: 0,
            dropped: self.counters.dropped.load(Ordering::Relaxed) + self.queue.refused(),
        }
    }
}

struct Writer {
    path: PathBuf,
    file: Option<BufWriter<File>>,
    queue: Arc<Queue>,
    counters: Arc<Counters>,
}

impl Writer {
    async fn run(mut self, mut flushes: mpsc::UnboundedReceiver<sync_mpsc::SyncSender<()>>) {
        loop {
            if self.queue.is_ready(Instant::now(), BATCH_AGE) {
                self.write(BATCH);
                continue;
            }
            let due = self.queue.due(BATCH_AGE);
            tokio::select! {
                request = flushes.recv() => {
                    self.write(usize::MAX);
                    match request {
                        Some(done) => {
                            let _ = done.send(());
                        }
                        None => return,
                    }
                }
                () = self.queue.woken() => {}
                () = sleep_opt(due) => {}
            }
        }
    }

    /// Writes up to `max` queued records, then hands them to the file.
    fn write(&mut self, max: usize) {
        for queued in self.queue.take(max) {
            self.write_record(queued.record.finish());
        }
        if let Some(file) = self.file.as_mut() {
            if let Err(error) = file.flush() {
                tracing::warn!(target: "azsdk_telemetry::export", %error, "could not flush the JSONL file");
            }
        }
    }

    fn write_record(&mut self, record: Record) {
        let Some(line) = envelope_line(&record) else {
            self.counters.dropped.fetch_add(1, Ordering::Relaxed);
            return;
        };
        let written = self.file().and_then(|file| {
            file.write_all(&line)?;
            file.write_all(b"\n")
        });
        match written {
            Ok(()) => self.counters.delivered.fetch_add(1, Ordering::Relaxed),
            Err(error) => {
                tracing::warn!(target: "azsdk_telemetry::export", %error, path = %self.path.display(), "could not write a telemetry record");
                self.counters.dropped.fetch_add(1, Ordering::Relaxed)
            }
        };
    }

    fn file(&mut self) -> std::io::Result<&mut BufWriter<File>> {
        if self.file.is_none() {
            if let Some(parent) = self.path.parent().filter(|p| !p.as_os_str().is_empty()) {
                std::fs::create_dir_all(parent)?;
            }
            let mut options = OpenOptions::new();
            options.create(true).append(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            return Ok(self.file.insert(BufWriter::new(options.open(&self.path)?)));
        }
        Ok(self.file.as_mut().expect("checked above"))
    }
}
