//! Delivery counters.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// A snapshot of the exporter's counters, from
/// [`TelemetryHandle::export_stats`](crate::TelemetryHandle::export_stats).
///
/// Records emitted in this process obey, once a flush or shutdown has returned with
/// nothing left in flight:
///
/// `emitted == sent + spooled + dropped.total()`
///
/// ([`ExportStats::is_balanced`]). `retried` counts extra attempts and is not part of it.
/// Items read back from the spool (this run's or an earlier process's) are counted apart,
/// in [`SpoolStats`], because they were already counted as `spooled` when written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ExportStats {
    /// Records the sink was given.
    pub emitted: u64,
    /// Items the service accepted (HTTP 200, or accepted inside a 206).
    pub sent: u64,
    /// Item resends (one per item per extra attempt); not part of the balance.
    pub retried: u64,
    /// Items written to the spool.
    pub spooled: u64,
    /// Items given up, by reason.
    pub dropped: DropStats,
    /// What happened to spooled items.
    pub spool: SpoolStats,
}

/// Items that were neither sent nor spooled, by reason.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DropStats {
    /// The hand-off queue was full.
    pub queue_full: u64,
    /// Sent after shutdown.
    pub closed: u64,
    /// Not kept by client-side sampling.
    pub sampled: u64,
    /// Accepted but sampled out by the service (item status 206).
    pub sampled_out: u64,
    /// Refused by the service (400, 402, 439 or another non-retriable code).
    pub rejected: u64,
    /// Retries used up and no spool configured (or the spool could not be written).
    pub retries_exhausted: u64,
    /// The spool was at its size cap.
    pub spool_full: u64,
    /// The envelope could not be serialized.
    pub unserializable: u64,
    /// Still queued when shutdown's deadline passed: neither sent nor spooled in time.
    pub unsent_at_shutdown: u64,
}

impl DropStats {
    /// Sum of all reasons.
    pub fn total(&self) -> u64 {
        self.queue_full
            + self.closed
            + self.sampled
            + self.sampled_out
            + self.rejected
            + self.retries_exhausted
            + self.spool_full
            + self.unserializable
            + self.unsent_at_shutdown
    }
}

/// Fate of items read back from the spool.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SpoolStats {
    /// Spooled items the service accepted.
    pub resent: u64,
    /// Spooled items refused by the service or sampled out (not retried).
    pub rejected: u64,
    /// Items in spool files removed for age (older than `spool_max_age`).
    pub too_old: u64,
    /// Corrupt or partial spool files removed.
    pub corrupt_files: u64,
}

impl ExportStats {
    /// `emitted == sent + spooled + dropped.total()`.
    pub fn is_balanced(&self) -> bool {
        self.emitted == self.sent + self.spooled + self.dropped.total()
    }
}

/// One counter per fate, so that each item touches one: `emitted` is derived (what
/// entered the queue plus what was refused before it).
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub queued: AtomicU64,
    pub sent: AtomicU64,
    pub retried: AtomicU64,
    pub spooled: AtomicU64,
    pub queue_full: AtomicU64,
    pub closed: AtomicU64,
    pub sampled: AtomicU64,
    pub sampled_out: AtomicU64,
    pub rejected: AtomicU64,
    pub retries_exhausted: AtomicU64,
    pub spool_full: AtomicU64,
    pub unserializable: AtomicU64,
    pub unsent_at_shutdown: AtomicU64,
    pub spool_resent: AtomicU64,
    pub spool_rejected: AtomicU64,
    pub spool_too_old: AtomicU64,
    pub spool_corrupt_files: AtomicU64,
}

pub(crate) fn add(counter: &AtomicU64, n: usize) {
    if n > 0 {
        counter.fetch_add(n as u64, Relaxed);
    }
}

impl Counters {
    pub(crate) fn snapshot(&self) -> ExportStats {
        let g = |c: &AtomicU64| c.load(Relaxed);
        ExportStats {
            emitted: g(&self.queued) + g(&self.sampled) + g(&self.queue_full) + g(&self.closed),
            sent: g(&self.sent),
            retried: g(&self.retried),
            spooled: g(&self.spooled),
            dropped: DropStats {
                queue_full: g(&self.queue_full),
                closed: g(&self.closed),
                sampled: g(&self.sampled),
                sampled_out: g(&self.sampled_out),
                rejected: g(&self.rejected),
                retries_exhausted: g(&self.retries_exhausted),
                spool_full: g(&self.spool_full),
                unserializable: g(&self.unserializable),
                unsent_at_shutdown: g(&self.unsent_at_shutdown),
            },
            spool: SpoolStats {
                resent: g(&self.spool_resent),
                rejected: g(&self.spool_rejected),
                too_old: g(&self.spool_too_old),
                corrupt_files: g(&self.spool_corrupt_files),
            },
        }
    }
}
