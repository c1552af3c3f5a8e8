//! Delivery to Azure Application Insights, behind [`HttpSink`](crate::HttpSink).
//!
//! The exporter is one queue and one worker thread that owns a small current-thread
//! tokio runtime, so it works the same from a synchronous CLI and from inside any async
//! runtime, and keeps running while the application's own runtime shuts down. Handing a
//! record to the queue never blocks and does not wake the worker per call.
//!
//! The worker batches envelopes (512 items or 5 s by default), gzips them as line-delimited
//! JSON and POSTs them to `{IngestionEndpoint}/v2.1/track`:
//!
//! * 200: done. 206 (and 400/500 with a per-item body): only items with a retriable status
//!   (408, 429, 500, 502, 503, 504) are resent, by index; items refused (400, 404, ...)
//!   or sampled out by the service (206) are counted, not retried. While answers accept
//!   items the rest is resent within the same flush: `max_attempts` bounds the attempts in
//!   a row that deliver nothing.
//! * 402 and 439 (the resource's cap or quota is spent): refused and counted; sending pauses
//!   5 minutes. 401, 403 and 400 "Authentication not supported" (credentials refused, or
//!   none for a resource that takes only Entra ID tokens): kept for the spool, one warning
//!   per process, sending pauses a minute. With an Entra ID credential (feature `entra`)
//!   each request carries `Authorization: Bearer`; no token means the same: kept, a pause.
//! * 408, 429, 500, 502, 503, 504 and network failures: retried with exponential backoff and
//!   jitter, or after `Retry-After` (seconds or HTTP date) when the service sends it.
//! * 307/308: followed to Azure Monitor hosts (and loopback) only, at most 10 hops; the new
//!   location is used for later batches.
//! * What still cannot be sent goes to the disk spool (if configured) and is resent in the
//!   background (16 files per request, a batch interval apart) and by the next process
//!   using the same spool directory. No request starts with less than twice the last
//!   round trip before its deadline.
//!
//! Logs go through `tracing` with target `azsdk_telemetry::export` (debug/warn) and never
//! contain the instrumentation key or envelope content.

mod batch;
mod config;
mod connection_string;
#[cfg(feature = "entra")]
mod entra;
mod envelope;
mod log;
mod queue;
mod retry;
mod sampling;
mod spool;
mod stats;
mod transport;
mod worker;

use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use tokio::sync::mpsc;

pub use config::ExportConfig;
pub use connection_string::{ConnectionString, ConnectionStringError};
pub(crate) use log::LastSendCell;
pub(crate) use log::ENV_LOG;
pub use log::{EnvelopeLog, LastSend};
pub use retry::RetryPolicy;
pub(crate) use spool::summary as spool_summary;
pub use stats::{DropStats, ExportStats, SpoolStats};

pub(crate) use queue::{Limits, Queue};
use stats::Counters;
use worker::{Control, ControlKind, Worker, WorkerSettings};

/// What `crate::fuzzing` reaches of the export stage.
#[cfg(fuzzing)]
pub(crate) use {batch::Batch, spool::decode_items, spool::encode as encode_spool_items};

/// Sleeps until `at`, or for ever without a deadline: the arm of a `select!` for a timer
/// that may not be set (a batch's age, the spool's next try).
pub(crate) async fn sleep_opt(at: Option<tokio::time::Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// Why the exporter could not start. Messages never contain the instrumentation key.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ExportError {
    /// A configuration value is out of range.
    #[error("invalid export configuration: {0}")]
    InvalidConfig(String),
    /// The worker thread or its runtime could not be created.
    #[error("could not start the export worker: {0}")]
    Worker(#[source] std::io::Error),
    /// The HTTP client could not be built (TLS setup).
    #[error("could not set up the HTTP client: {0}")]
    HttpClient(String),
}

/// The result of [`ExportHandle::flush`] or [`ExportHandle::shutdown`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FlushReport {
    /// Everything queued before the call was sent, refused, or spooled before the deadline.
    /// `false` when the deadline came first (the worker then spools what is left as soon as
    /// it can) or the worker is gone.
    pub(crate) completed: bool,
    /// Counters when the call returned.
    pub(crate) stats: ExportStats,
}

/// An exporter just started: the queue to send records into, the handle that flushes and
/// stops it, and why the configured spool directory could not be used, if it could not.
pub(crate) type Started = (Arc<Queue>, ExportHandle, Option<String>);

/// Validates `config`, opens the spool, and starts the worker thread.
pub(crate) fn start(config: &ExportConfig) -> Result<Started, ExportError> {
    config.validate().map_err(ExportError::InvalidConfig)?;
    let counters = Arc::new(Counters::default());
    let limits = queue::Limits {
        max_items: config.queue_capacity,
        max_bytes: config.queue_max_bytes,
        batch: config.max_batch,
    };
    let sampler = sampling::Sampler::new(config.sample_rate);
    let queue = Queue::new(limits, sampler, Arc::clone(&counters));
    let (handle, spool_unavailable) = spawn_worker(config, Arc::clone(&queue), counters)?;
    Ok((queue, handle, spool_unavailable))
}

/// Opens the spool and starts the worker thread reading `queue`.
fn spawn_worker(
    config: &ExportConfig,
    queue: Arc<Queue>,
    counters: Arc<Counters>,
) -> Result<(ExportHandle, Option<String>), ExportError> {
    // A spool directory that cannot be created or secured (a read-only or full disk, a
    // file in its place) is no reason for the application to fail: the exporter runs
    // without a spool, says so once, and counts what it cannot deliver as dropped.
    let (spool, spool_unavailable) = match &config.spool_dir {
        None => (None, None),
        Some(dir) => match spool::Spool::open(
            dir.clone(),
            config.spool_max_bytes,
            config.spool_max_age,
            Arc::clone(&counters),
        ) {
            Ok(spool) => (Some(spool), None),
            Err(error) => {
                tracing::warn!(
                    target: "azsdk_telemetry::export",
                    path = %dir.display(),
                    %error,
                    "the spool directory cannot be used; sending without a spool"
                );
                (None, Some(error.to_string()))
            }
        },
    };
    let (control_tx, control_rx) = mpsc::unbounded_channel();
    let (ready_tx, ready_rx) = std::sync::mpsc::sync_channel::<Result<(), ExportError>>(1);
    let settings = WorkerSettings {
        instrumentation_key: config.connection_string.instrumentation_key().to_owned(),
        max_batch: config.max_batch,
        max_batch_age: config.max_batch_age,
        retry: config.retry.clone(),
        drop_timeout: config.drop_timeout,
        spool_interval: config.spool_retry_interval,
        log: config.envelope_log.clone().map(log::LogWriter::new),
        last_send: Arc::clone(&config.last_send),
    };
    let track_url = config.connection_string.track_url();
    #[cfg(feature = "entra")]
    let credential = config.credential.clone().map(|credential| {
        let scope = entra::scope(config.connection_string.aad_audience());
        (credential, scope)
    });
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
            let transport = match runtime.block_on(async {
                #[allow(unused_mut)]
                let mut transport = transport::Transport::new(&track_url, request_timeout);
                #[cfg(feature = "entra")]
                if let (Ok(transport), Some((credential, scope))) = (&mut transport, credential) {
                    // The first fetch starts now, off every calling thread.
                    transport.token = Some(entra::TokenCache::start(credential, scope));
                }
                transport
            }) {
                Ok(t) => t,
                Err(e) => {
                    let _ = ready_tx.send(Err(ExportError::HttpClient(e)));
                    return;
                }
            };
            let _ = ready_tx.send(Ok(()));
            // Off the first batch's deadline and off every calling thread.
            crate::sanitize::prepare();
            let worker = Worker::new(
                queue,
                control_rx,
                settings,
                worker_counters,
                transport,
                spool,
            );
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
    let handle = ExportHandle {
        control: control_tx,
        counters,
        thread: Some(thread),
        drop_timeout: config.drop_timeout,
    };
    Ok((handle, spool_unavailable))
}

/// Controls a running exporter. Dropping it shuts the exporter down within
/// [`ExportConfig::drop_timeout`].
///
/// `flush`, `shutdown` and `drop` block the calling thread for at most their deadline;
/// from async code, call them where blocking is acceptable (e.g. `spawn_blocking`, or at
/// the very end of `main`).
#[derive(Debug)]
pub(crate) struct ExportHandle {
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
    pub(crate) fn flush(&self, timeout: Duration) -> FlushReport {
        self.request(ControlKind::Flush, timeout)
    }

    /// Flushes like [`flush`](Self::flush), then stops the worker; later `send`s are dropped
    /// and counted as `closed`.
    pub(crate) fn shutdown(mut self, timeout: Duration) -> FlushReport {
        self.shutdown_inner(timeout)
    }

    /// Current counters. See [`ExportStats`] for the balance they obey.
    pub(crate) fn stats(&self) -> ExportStats {
        self.counters.snapshot()
    }

    fn request(&self, kind: ControlKind, timeout: Duration) -> FlushReport {
        let start = Instant::now();
        let deadline = start + timeout;
        let (reply_tx, reply_rx) = std::sync::mpsc::sync_channel(1);
        let control = Control {
            kind,
            send_deadline: tokio::time::Instant::from_std(deadline - spool_margin(timeout)),
            deadline: tokio::time::Instant::from_std(deadline),
            reply: Some(reply_tx),
        };
        let completed = self.control.send(control).is_ok()
            && reply_rx
                .recv_timeout(deadline.saturating_duration_since(Instant::now()))
                .is_ok();
        FlushReport {
            completed,
            stats: self.stats(),
        }
    }

    fn shutdown_inner(&mut self, timeout: Duration) -> FlushReport {
        let Some(thread) = self.thread.take() else {
            return FlushReport {
                completed: true,
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
