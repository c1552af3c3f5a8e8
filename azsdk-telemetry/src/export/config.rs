//! Exporter configuration.

use std::path::PathBuf;
use std::time::Duration;

use super::connection_string::ConnectionString;
use super::retry::RetryPolicy;

/// Everything the exporter needs to know. Build it with [`ExportConfig::new`] and the
/// `with_*` methods, or set the public fields directly.
///
/// ```
/// use std::time::Duration;
/// use azsdk_telemetry::ExportConfig;
/// use azsdk_telemetry::ConnectionString;
///
/// let cs = ConnectionString::parse("InstrumentationKey=00000000-0000-0000-0000-000000000000")?;
/// let config = ExportConfig::new(cs)
///     .with_max_batch(256)
///     .with_max_batch_age(Duration::from_secs(2))
///     .with_sample_rate(25.0);
/// assert_eq!(config.queue_max_bytes, 48 * 1024 * 1024);
/// # Ok::<(), azsdk_telemetry::ConnectionStringError>(())
/// ```
#[derive(Debug, Clone)]
pub struct ExportConfig {
    /// Where to send, and the key to stamp on envelopes.
    pub connection_string: ConnectionString,
    /// Items per request (default 512, like the official exporters).
    pub max_batch: usize,
    /// Longest time an item waits for its batch to fill (default 5 s).
    pub max_batch_age: Duration,
    /// Records the queue holds before it starts dropping them (default 1,048,576).
    /// [`queue_max_bytes`](Self::queue_max_bytes) is the bound that usually applies first.
    pub queue_capacity: usize,
    /// Memory the queued records may take (each record's own size and what it owns on the
    /// heap, ~0.4 KB for a typical tool call) before the queue starts dropping them,
    /// counted as `queue_full` (default 48 MiB). Past half of it the worker is woken to
    /// drain the queue. At shutdown, what the deadline leaves no time to send or spool is
    /// counted as [`unsent_at_shutdown`](super::DropStats::unsent_at_shutdown).
    pub queue_max_bytes: usize,
    /// Directory for batches that could not be delivered; `None` disables the spool.
    /// [`ExportConfig::default_spool_dir`] gives a per-user location.
    pub spool_dir: Option<PathBuf>,
    /// Total size of spool files (default 50 MB); batches beyond it are dropped and counted.
    pub spool_max_bytes: u64,
    /// Spool files older than this are removed unsent (default 48 h: the service rejects
    /// events older than that).
    pub spool_max_age: Duration,
    /// First delay before spool files are resent, doubled after each failed pass up to
    /// ten times this value (default 30 s). The spool is also tried right after start.
    /// While the endpoint accepts, the spool drains up to 16 files per request, one
    /// request per [`max_batch_age`](Self::max_batch_age) (and back to back in a
    /// shutdown's spare time).
    pub spool_retry_interval: Duration,
    /// Percentage of successful items kept, in `(0, 100]` (default 100 = keep all).
    /// Failures are always kept.
    pub sample_rate: f64,
    /// Limit for one HTTP request, connect included (default 10 s).
    pub request_timeout: Duration,
    /// Retries of a batch before it is spooled (or dropped without a spool).
    pub retry: RetryPolicy,
    /// Deadline of the stop when an [`HttpSink`](crate::HttpSink) is dropped without being
    /// shut down (default 2 s); the layer's handle shuts its sink down within its own
    /// deadline first.
    pub drop_timeout: Duration,
    /// Log mode: every envelope is also written here, as one JSON line, exactly
    /// as it is sent (default: none; `AZSDK_TELEMETRY_LOG` sets it).
    pub envelope_log: Option<super::EnvelopeLog>,
    /// Where the worker notes the last send's outcome, for the status.
    pub(crate) last_send: std::sync::Arc<super::LastSendCell>,
    /// Entra ID credential (`TelemetryBuilder::credential`): requests carry its tokens.
    #[cfg(feature = "entra")]
    pub(crate) credential: Option<std::sync::Arc<dyn azure_core::credentials::TokenCredential>>,
}

impl ExportConfig {
    /// Defaults for everything but the connection string.
    pub fn new(connection_string: ConnectionString) -> Self {
        Self {
            connection_string,
            max_batch: 512,
            max_batch_age: Duration::from_secs(5),
            queue_capacity: 1 << 20,
            queue_max_bytes: 48 * 1024 * 1024,
            spool_dir: None,
            spool_max_bytes: 50 * 1024 * 1024,
            spool_max_age: Duration::from_secs(48 * 3600),
            spool_retry_interval: Duration::from_secs(30),
            sample_rate: 100.0,
            request_timeout: Duration::from_secs(10),
            retry: RetryPolicy::default(),
            drop_timeout: Duration::from_secs(2),
            envelope_log: None,
            last_send: std::sync::Arc::default(),
            #[cfg(feature = "entra")]
            credential: None,
        }
    }

    /// Log mode: also writes every envelope to `log` as it is sent.
    pub fn with_envelope_log(mut self, log: super::EnvelopeLog) -> Self {
        self.envelope_log = Some(log);
        self
    }

    /// A per-user spool directory for this resource: `<cache dir>/azsdk-telemetry/spool/<id>`,
    /// where `<id>` is a hash of the endpoint and key (the key itself never appears in a path).
    /// `None` when the platform has no cache directory (e.g. `HOME` unset).
    pub fn default_spool_dir(connection_string: &ConnectionString) -> Option<PathBuf> {
        let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
        for b in connection_string
            .instrumentation_key()
            .to_ascii_lowercase()
            .bytes()
            .chain([0u8])
            .chain(connection_string.ingestion_endpoint().bytes())
        {
            hash ^= u64::from(b);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
        Some(
            dirs::cache_dir()?
                .join("azsdk-telemetry")
                .join("spool")
                .join(format!("{hash:016x}")),
        )
    }

    /// Sets [`ExportConfig::max_batch`].
    pub fn with_max_batch(mut self, n: usize) -> Self {
        self.max_batch = n;
        self
    }
    /// Sets [`ExportConfig::max_batch_age`].
    pub fn with_max_batch_age(mut self, age: Duration) -> Self {
        self.max_batch_age = age;
        self
    }
    /// Sets [`ExportConfig::queue_capacity`].
    pub fn with_queue_capacity(mut self, n: usize) -> Self {
        self.queue_capacity = n;
        self
    }
    /// Sets [`ExportConfig::queue_max_bytes`].
    pub fn with_queue_max_bytes(mut self, bytes: usize) -> Self {
        self.queue_max_bytes = bytes;
        self
    }
    /// Sets [`ExportConfig::spool_dir`].
    pub fn with_spool_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.spool_dir = Some(dir.into());
        self
    }
    /// Sets [`ExportConfig::spool_max_bytes`].
    pub fn with_spool_max_bytes(mut self, bytes: u64) -> Self {
        self.spool_max_bytes = bytes;
        self
    }
    /// Sets [`ExportConfig::spool_max_age`].
    pub fn with_spool_max_age(mut self, age: Duration) -> Self {
        self.spool_max_age = age;
        self
    }
    /// Sets [`ExportConfig::spool_retry_interval`].
    pub fn with_spool_retry_interval(mut self, interval: Duration) -> Self {
        self.spool_retry_interval = interval;
        self
    }
    /// Sets [`ExportConfig::sample_rate`].
    pub fn with_sample_rate(mut self, percent: f64) -> Self {
        self.sample_rate = percent;
        self
    }
    /// Sets [`ExportConfig::request_timeout`].
    pub fn with_request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout;
        self
    }
    /// Sets [`ExportConfig::retry`].
    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }
    /// Sets [`ExportConfig::drop_timeout`].
    pub fn with_drop_timeout(mut self, timeout: Duration) -> Self {
        self.drop_timeout = timeout;
        self
    }

    /// Checks the values that have a valid range.
    pub(crate) fn validate(&self) -> Result<(), String> {
        if self.max_batch == 0 {
            return Err("max_batch must be at least 1".into());
        }
        if self.queue_capacity == 0 {
            return Err("queue_capacity must be at least 1".into());
        }
        if self.queue_capacity > usize::MAX >> 3 {
            return Err(format!(
                "queue_capacity must be at most {}, got {}",
                usize::MAX >> 3,
                self.queue_capacity
            ));
        }
        if self.queue_max_bytes == 0 {
            return Err("queue_max_bytes must be at least 1".into());
        }
        if self.max_batch_age.is_zero() {
            return Err("max_batch_age must be greater than zero".into());
        }
        if !(self.sample_rate > 0.0 && self.sample_rate <= 100.0) {
            return Err(format!(
                "sample_rate must be in (0, 100], got {}",
                self.sample_rate
            ));
        }
        if self.retry.max_attempts == 0 {
            return Err("retry.max_attempts must be at least 1".into());
        }
        if self.request_timeout.is_zero() {
            return Err("request_timeout must be greater than zero".into());
        }
        Ok(())
    }
}
