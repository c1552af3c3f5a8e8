//! The sink that appends envelopes to a local file, one per line.

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use super::{envelope_line, Sink, SinkStats};
use crate::event::{PendingRecord, Record};

/// Appends one envelope per line to a local file: the default when no
/// connection string is configured, and a log to debug telemetry with.
///
/// Writing happens on a background thread; a full queue drops and counts.
/// The file is created (mode 0600 on Unix) with the first record, so an
/// application that emits nothing leaves nothing behind.
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
    queue: SyncSender<Command>,
    counters: Arc<Counters>,
}

#[derive(Debug, Default)]
struct Counters {
    delivered: AtomicU64,
    dropped: AtomicU64,
}

// Writes are nearly every command: boxing them would cost an allocation per record.
#[allow(clippy::large_enum_variant)]
enum Command {
    Write(PendingRecord),
    Flush(mpsc::Sender<()>),
}

impl JsonlSink {
    /// Records queued beyond this are dropped and counted.
    pub const QUEUE_CAPACITY: usize = 8192;

    /// A sink appending to `path` (its folder is created when needed).
    pub fn new(path: impl Into<PathBuf>) -> Self {
        let path = path.into();
        let (queue, commands) = mpsc::sync_channel(Self::QUEUE_CAPACITY);
        let counters = Arc::new(Counters::default());
        let writer = Writer {
            path: path.clone(),
            file: None,
            counters: Arc::clone(&counters),
        };
        let spawned = thread::Builder::new()
            .name("azsdk-telemetry-jsonl".into())
            .spawn(move || writer.run(commands));
        if let Err(error) = spawned {
            tracing::warn!(target: "azsdk_telemetry::export", %error, "could not start the JSONL writer; records will be dropped");
        }
        JsonlSink {
            path,
            queue,
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
        match self.queue.try_send(Command::Write(record)) {
            Ok(()) => {}
            Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => {
                self.counters.dropped.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    fn flush(&self, timeout: Duration) -> bool {
        let (done, finished) = mpsc::channel();
        let deadline = std::time::Instant::now() + timeout;
        let mut command = Command::Flush(done);
        // The queue may be full: retry until the deadline rather than block.
        loop {
            match self.queue.try_send(command) {
                Ok(()) => break,
                Err(TrySendError::Disconnected(_)) => return false,
                Err(TrySendError::Full(back)) => {
                    if std::time::Instant::now() >= deadline {
                        return false;
                    }
                    command = back;
                    thread::sleep(Duration::from_millis(1));
                }
            }
        }
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        finished.recv_timeout(left).is_ok()
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
            dropped: self.counters.dropped.load(Ordering::Relaxed),
        }
    }
}

struct Writer {
    path: PathBuf,
    file: Option<BufWriter<File>>,
    counters: Arc<Counters>,
}

impl Writer {
    fn run(mut self, commands: Receiver<Command>) {
        while let Ok(command) = commands.recv() {
            match command {
                Command::Write(record) => self.write(record.finish()),
                Command::Flush(done) => {
                    if let Some(file) = self.file.as_mut() {
                        if let Err(error) = file.flush() {
                            tracing::warn!(target: "azsdk_telemetry::export", %error, "could not flush the JSONL file");
                        }
                    }
                    let _ = done.send(());
                }
            }
        }
        if let Some(mut file) = self.file.take() {
            let _ = file.flush();
        }
    }

    fn write(&mut self, record: Record) {
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
