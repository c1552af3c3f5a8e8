//! Getting records out of the process: envelopes, sinks, and delivery to
//! Azure Application Insights.
//!
//! Records reach a [`Sink`]: [`MemorySink`] (tests), [`JsonlSink`] (a local
//! file, one [envelope](crate::Record::to_envelope) per line) or
//! [`HttpSink`], which hands them to the exporter below.
//!
//! [`Exporter::start`] spawns one worker thread that owns a small current-thread tokio
//! runtime, so the exporter works the same from a synchronous CLI and from inside any async
//! runtime, and keeps running while the application's own runtime shuts down. The
//! application keeps an [`ExportSender`] (never blocks) and an [`ExportHandle`] (flush,
//! shutdown, counters).
//!
//! The worker batches envelopes (512 items or 5 s by default), gzips them as line-delimited
//! JSON and POSTs them to `{IngestionEndpoint}/v2.1/track`:
//!
//! * 200: done. 206 (and 400/500 with a per-item body): only items with a retriable status
//!   (408, 429, 500, 502, 503, 504) are resent, by index; items refused (400, 402, 403, ...)
//!   or sampled out by the service (206) are counted, not retried.
//! * 408, 429, 500, 502, 503, 504 and network failures: retried with exponential backoff and
//!   jitter, or after `Retry-After` (seconds or HTTP date) when the service sends it.
//! * 307/308: followed to Azure Monitor hosts (and loopback) only, at most 10 hops; the new
//!   location is used for later batches.
//! * What still cannot be sent goes to the disk spool (if configured) and is resent in the
//!   background and by the next process using the same spool directory.
//!
//! Logs go through `tracing` with target `azsdk_telemetry::export` (debug/warn) and never
//! contain the instrumentation key or envelope content.
//!
//! ```no_run
//! use std::time::Duration;
//! use azsdk_telemetry::export::{ExportConfig, Exportable, Exporter};
//! use azsdk_telemetry::ConnectionString;
//! use serde_json::json;
//!
//! struct Ping(u64);
//! impl Exportable for Ping {
//!     fn is_failure(&self) -> bool { false }
//!     fn into_envelope(self, ikey: &str, sample_rate: f64) -> serde_json::Value {
//!         json!({
//!             "name": "Microsoft.ApplicationInsights.RemoteDependency",
//!             "time": "2024-01-01T00:00:00.000Z",
//!             "iKey": ikey,
//!             "sampleRate": sample_rate,
//!             "data": { "baseType": "RemoteDependencyData", "baseData": {
//!                 "ver": 2, "name": "ping", "duration": "00.00:00:00.001000", "success": true,
//!                 "properties": { "n": self.0.to_string() } } }
//!         })
//!     }
//! }
//!
//! let cs = ConnectionString::from_env().ok_or("APPLICATIONINSIGHTS_CONNECTION_STRING is not set")??;
//! let spool = ExportConfig::default_spool_dir(&cs);
//! let mut config = ExportConfig::new(cs);
//! config.spool_dir = spool;
//! let (sender, handle) = Exporter::<Ping>::start(config)?;
//! sender.send(Ping(1));
//! let report = handle.flush(Duration::from_secs(2));
//! assert!(report.stats.is_balanced());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod config;
mod connection_string;
mod envelope;
mod http_sink;
mod queue;
mod response;
mod retry;
mod sampling;
mod sink;
mod spool;
mod stats;
mod transport;
mod worker;

use std::marker::PhantomData;
use std::path::PathBuf;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use tokio::sync::mpsc;

pub use config::ExportConfig;
pub use connection_string::{
    ConnectionString, ConnectionStringError, CONNECTION_STRING_ENV, DEFAULT_INGESTION_ENDPOINT,
    MAX_CONNECTION_STRING_LEN,
};
pub use envelope::{format_duration, format_time, DEPENDENCY_TYPE, ENVELOPE_NAME, SDK_VERSION};
pub use http_sink::HttpSink;
pub use queue::ExportSender;
pub use response::{classify, is_retriable_status, ItemError, Outcome, TrackResponse};
pub use retry::{parse_retry_after, RetryPolicy};
pub use sink::{JsonlSink, MemorySink, Sink, SinkStats};
pub use stats::{DropStats, ExportStats, SpoolStats};
pub use transport::{MAX_REDIRECTS, REDIRECT_ALLOWED_SUFFIXES};

use stats::Counters;
use worker::{Control, ControlKind, Worker, WorkerSettings};

/// One telemetry item the worker can turn into an Application Insights envelope.
pub trait Exportable: Send + 'static {
    /// Failures are always kept by the sampler.
    fn is_failure(&self) -> bool;
    /// The envelope exactly as POSTed (already sanitized by the caller's type), with `iKey`
    /// and `sampleRate` filled in by this call.
    fn into_envelope(self, instrumentation_key: &str, sample_rate: f64) -> serde_json::Value;
}

/// Why the exporter could not start. Messages never contain the instrumentation key.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ExportError {
    /// A configuration value is out of range.
    #[error("invalid export configuration: {0}")]
    InvalidConfig(String),
    /// The spool directory could not be created or secured.
    #[error("could not prepare the spool directory {path}: {source}; choose a writable spool_dir or set it to None")]
    Spool {
        /// The directory.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The worker thread or its runtime could not be created.
    #[error("could not start the export worker: {0}")]
    Worker(#[source] std::io::Error),
    /// The HTTP client could not be built (TLS setup).
    #[error("could not set up the HTTP client: {0}")]
    HttpClient(String),
}

/// The result of [`ExportHandle::flush`] or [`ExportHandle::shutdown`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FlushReport {
    /// Everything queued before the call was sent, refused, or spooled before the deadline.
    /// `false` when the deadline came first (the worker then spools what is left as soon as
    /// it can) or the worker is gone.
    pub completed: bool,
    /// Time spent in the call (never much beyond the timeout).
    pub elapsed: Duration,
    /// Counters when the call returned.
    pub stats: ExportStats,
}

/// Starts exporters. See the [module documentation](self).
#[derive(Debug)]
pub struct Exporter<T>(PhantomData<fn(T)>);

impl<T: Exportable> Exporter<T> {
    /// Validates `config`, opens the spool, and starts the worker thread.
    ///
    /// ```no_run
    /// # use azsdk_telemetry::export::{ExportConfig, Exporter, Exportable};
    /// # fn demo<T: Exportable>(cs: azsdk_telemetry::ConnectionString) -> Result<(), azsdk_telemetry::export::ExportError> {
    /// let (sender, handle) = Exporter::<T>::start(ExportConfig::new(cs))?;
    /// # Ok(()) }
    /// ```
    pub fn start(config: ExportConfig) -> Result<(ExportSender<T>, ExportHandle), ExportError> {
        config.validate().map_err(ExportError::InvalidConfig)?;
        let counters = Arc::new(Counters::default());
        let spool = match &config.spool_dir {
            Some(dir) => Some(
                spool::Spool::open(
                    dir.clone(),
                    config.spool_max_bytes,
                    config.spool_max_age,
                    Arc::clone(&counters),
                )
                .map_err(|source| ExportError::Spool {
                    path: dir.clone(),
                    source,
                })?,
            ),
            None => None,
        };
        let (tx, rx) = mpsc::channel(config.queue_capacity);
        let (control_tx, control_rx) = mpsc::unbounded_channel();
        let (ready_tx, ready_rx) = std::sync::mpsc::sync_channel::<Result<(), ExportError>>(1);
        let settings = WorkerSettings {
            instrumentation_key: config.connection_string.instrumentation_key().to_owned(),
            max_batch: config.max_batch,
            max_batch_age: config.max_batch_age,
            retry: config.retry.clone(),
            drop_timeout: config.drop_timeout,
            spool_interval: config.spool_retry_interval,
        };
        let track_url = config.connection_string.track_url();
        let request_timeout = config.request_timeout;
        let worker_counters = Arc::clone(&counters);
        let thread = std::thread::Builder::new()
            .name("azsdk-telemetry-export".into())
            .spawn(move || {
                let runtime = match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(rt) => rt,
                    Err(e) => {
                        let _ = ready_tx.send(Err(ExportError::Worker(e)));
                        return;
                    }
                };
                let transport = match runtime
                    .block_on(async { transport::Transport::new(&track_url, request_timeout) })
                {
                    Ok(t) => t,
                    Err(e) => {
                        let _ = ready_tx.send(Err(ExportError::HttpClient(e)));
                        return;
                    }
                };
                let _ = ready_tx.send(Ok(()));
                let worker =
                    Worker::new(rx, control_rx, settings, worker_counters, transport, spool);
                runtime.block_on(worker.run());
            })
            .map_err(ExportError::Worker)?;
        match ready_rx.recv() {
            Ok(Ok(())) => {}
            Ok(Err(e)) => return Err(e),
            Err(_) => {
                return Err(ExportError::Worker(std::io::Error::other(
                    "the export worker stopped while starting",
                )))
            }
        }
        let sender = ExportSender::new(
            tx,
            Arc::clone(&counters),
            sampling::Sampler::new(config.sample_rate),
        );
        let handle = ExportHandle {
            control: control_tx,
            counters,
            thread: Some(thread),
            drop_timeout: config.drop_timeout,
        };
        Ok((sender, handle))
    }
}

/// Controls a running exporter. Dropping it shuts the exporter down within
/// [`ExportConfig::drop_timeout`].
///
/// `flush`, `shutdown` and `drop` block the calling thread for at most their deadline;
/// from async code, call them where blocking is acceptable (e.g. `spawn_blocking`, or at
/// the very end of `main`).
#[derive(Debug)]
pub struct ExportHandle {
    control: mpsc::UnboundedSender<Control>,
    counters: Arc<Counters>,
    thread: Option<JoinHandle<()>>,
    drop_timeout: Duration,
}

/// Part of the caller's deadline kept for spooling what could not be sent.
fn spool_margin(timeout: Duration) -> Duration {
    (timeout / 4).min(Duration::from_millis(250))
}

impl ExportHandle {
    /// Sends or spools everything queued before this call, returning by `timeout`.
    ///
    /// ```no_run
    /// # fn demo(handle: &azsdk_telemetry::export::ExportHandle) {
    /// let report = handle.flush(std::time::Duration::from_secs(2));
    /// if !report.completed {
    ///     eprintln!("telemetry flush timed out");
    /// }
    /// # }
    /// ```
    pub fn flush(&self, timeout: Duration) -> FlushReport {
        self.request(ControlKind::Flush, timeout)
    }

    /// Flushes like [`flush`](Self::flush), then stops the worker; later `send`s are dropped
    /// and counted as `closed`.
    pub fn shutdown(mut self, timeout: Duration) -> FlushReport {
        self.shutdown_inner(timeout)
    }

    /// Current counters. See [`ExportStats`] for the balance they obey.
    pub fn stats(&self) -> ExportStats {
        self.counters.snapshot()
    }

    fn request(&self, kind: ControlKind, timeout: Duration) -> FlushReport {
        let start = Instant::now();
        let deadline = start + timeout;
        let (reply_tx, reply_rx) = std::sync::mpsc::sync_channel(1);
        let control = Control {
            kind,
            send_deadline: tokio::time::Instant::from_std(deadline - spool_margin(timeout)),
            reply: Some(reply_tx),
        };
        let completed = self.control.send(control).is_ok()
            && reply_rx
                .recv_timeout(deadline.saturating_duration_since(Instant::now()))
                .is_ok();
        FlushReport {
            completed,
            elapsed: start.elapsed(),
            stats: self.stats(),
        }
    }

    fn shutdown_inner(&mut self, timeout: Duration) -> FlushReport {
        let Some(thread) = self.thread.take() else {
            return FlushReport {
                completed: true,
                elapsed: Duration::ZERO,
                stats: self.stats(),
            };
        };
        let report = self.request(ControlKind::Shutdown, timeout);
        if report.completed {
            // The worker has replied and is returning; joining is immediate.
            let _ = thread.join();
        }
        FlushReport {
            stats: self.stats(),
            ..report
        }
    }
}

impl Drop for ExportHandle {
    fn drop(&mut self) {
        let _ = self.shutdown_inner(self.drop_timeout);
    }
}
