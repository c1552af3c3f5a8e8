//! The worker: batching, delivery, retries and spooling, on its own thread and runtime.
//!
//! It sleeps until the [`Queue`] asks for it (a batch's first record, a full batch, the
//! high-water mark), a batch's age is up, the spool is due, or the handle sends a flush or
//! shutdown. Then it takes a batch, finishes each record (scrub, limits), writes its
//! envelope line, and sends the batch gzipped; what cannot be delivered is spooled.

use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::time::{sleep_until, Instant};

use super::batch::Batch;
use super::queue::{Queue, Queued};
use super::retry::{classify, unauthorized_hint, RetryPolicy, Verdict, XorShift};
use super::sleep_opt;
use super::spool::{Spool, SpoolWriteError};
use super::stats::{add, Counters};
use super::transport::Transport;

const TARGET: &str = "azsdk_telemetry::export";
/// How long sending pauses after a 402 or 439 (the resource's cap or quota is spent).
const QUOTA_PAUSE: Duration = Duration::from_secs(5 * 60);
/// How long sending pauses after a 401 or 403 (the credentials are refused), and the
/// longest pause after failed token fetches.
const AUTH_PAUSE: Duration = Duration::from_secs(60);
/// Most spool files resent in one request (and, in the background, per batch interval).
const SPOOL_FILES_PER_STEP: usize = 16;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ControlKind {
    Flush,
    Shutdown,
}

/// A request from the handle. `send_deadline` is when network work must stop so that what
/// is left can be spooled before the caller's `deadline`.
pub(crate) struct Control {
    pub kind: ControlKind,
    pub send_deadline: Instant,
    pub deadline: Instant,
    pub reply: Option<std::sync::mpsc::SyncSender<()>>,
}

impl Control {
    fn handle_gone(drop_timeout: Duration) -> Self {
        let deadline = Instant::now() + drop_timeout;
        Self {
            kind: ControlKind::Shutdown,
            send_deadline: deadline,
            deadline,
            reply: None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Origin {
    Live,
    Spool,
}

pub(crate) struct WorkerSettings {
    pub instrumentation_key: String,
    pub max_batch: usize,
    pub max_batch_age: Duration,
    pub retry: RetryPolicy,
    pub drop_timeout: Duration,
    pub spool_interval: Duration,
    /// Log mode's writer (transparency): every envelope line written to a batch.
    pub log: Option<super::log::LogWriter>,
    pub last_send: Arc<super::LastSendCell>,
}

/// Takes batches from the queue, sends them with retries, spools what could not be sent,
/// and resends the spool. One batch is on its way at a time, so batches arrive in order and
/// retries, `Retry-After` and the spool keep one state.
pub(crate) struct Worker {
    queue: Arc<Queue>,
    settings: WorkerSettings,
    control: mpsc::UnboundedReceiver<Control>,
    /// A control request that arrived while a batch was being sent.
    pending: Option<Control>,
    counters: Arc<Counters>,
    transport: Transport,
    spool: Option<Spool>,
    spool_backoff: Duration,
    next_spool_try: Instant,
    rng: XorShift,
    /// The last live batch ran out of retries: later batches get one try before spooling.
    degraded: bool,
    /// The service asked us (Retry-After, a quota or an auth answer) not to send before this.
    paused_until: Option<Instant>,
    /// A 401/403 was logged: the process says it once.
    auth_logged: bool,
    /// How long the last answered request took: a request is not started with less than
    /// twice that left before its deadline, since an answer lost at the deadline means
    /// items spooled that the service may have accepted (sent twice).
    round_trip: Duration,
    /// Token fetches failed in a row (Entra ID): the pause grows with it, and the first
    /// of a run is logged.
    token_failures: u32,
}

/// Runs `fut` until it finishes or `deadline` passes. A control message arriving meanwhile
/// is parked in `pending` and its deadline shortens ours.
async fn race<F: Future>(
    fut: F,
    control: &mut mpsc::UnboundedReceiver<Control>,
    pending: &mut Option<Control>,
    deadline: &mut Option<Instant>,
    drop_timeout: Duration,
) -> Option<F::Output> {
    tokio::pin!(fut);
    loop {
        let listen = pending.is_none();
        let at = *deadline;
        tokio::select! {
            out = &mut fut => return Some(out),
            _ = sleep_opt(at) => return None,
            c = control.recv(), if listen => {
                let c = c.unwrap_or_else(|| Control::handle_gone(drop_timeout));
                *deadline = Some(at.map_or(c.send_deadline, |d| d.min(c.send_deadline)));
                *pending = Some(c);
            }
        }
    }
}

impl Worker {
    pub(crate) fn new(
        queue: Arc<Queue>,
        control: mpsc::UnboundedReceiver<Control>,
        settings: WorkerSettings,
        counters: Arc<Counters>,
        transport: Transport,
        spool: Option<Spool>,
    ) -> Self {
        Worker {
            queue,
            spool_backoff: settings.spool_interval,
            settings,
            control,
            pending: None,
            counters,
            transport,
            spool,
            next_spool_try: Instant::now(),
            rng: XorShift::seeded(),
            degraded: false,
            paused_until: None,
            auth_logged: false,
            round_trip: Duration::ZERO,
            token_failures: 0,
        }
    }

    pub(crate) async fn run(mut self) {
        loop {
            if let Some(c) = self.pending.take() {
                if self.handle_control(c).await {
                    return;
                }
                continue;
            }
            if self
                .queue
                .is_ready(Instant::now(), self.settings.max_batch_age)
            {
                let (batch, _) = self.take_batch(self.settings.max_batch, None);
                self.send(batch, None).await;
                continue;
            }
            let batch_due = self.queue.due(self.settings.max_batch_age);
            let spool_due = self.spool_due();
            let spool_is_due = tokio::select! {
                c = self.control.recv() => {
                    let drop_timeout = self.settings.drop_timeout;
                    self.pending = Some(c.unwrap_or_else(|| Control::handle_gone(drop_timeout)));
                    false
                }
                () = self.queue.woken() => false,
                () = sleep_opt(batch_due) => false,
                () = sleep_opt(spool_due) => true,
            };
            if spool_is_due {
                self.resend_from_spool(None).await;
            }
        }
    }

    /// Flush or shutdown; returns true when the worker must exit.
    async fn handle_control(&mut self, c: Control) -> bool {
        let deadline = c.send_deadline;
        // After the send deadline, records are spooled instead of sent (a batch fails at
        // once); halfway through the time left for that, whatever is still queued stays
        // queued (a flush) or is counted as unsent (a shutdown): a large queue cannot hold
        // the caller past its deadline.
        let stop = c.send_deadline + (c.deadline.saturating_duration_since(c.send_deadline) / 2);
        // Everything queued before the request, and no more (producers may never pause).
        let mut budget = self.queue.len();
        let mut complete = true;
        while budget > 0 {
            if Instant::now() >= stop {
                complete = false;
                break;
            }
            // Past the send deadline a batch fails at once: the rest of the budget is
            // spooled as one file (as far as the time to `stop` allows) rather than one
            // file per batch.
            let past = Instant::now() >= deadline;
            let n = if past {
                budget
            } else {
                self.settings.max_batch.min(budget)
            };
            let (batch, taken) = self.take_batch(n, past.then_some(stop));
            budget -= taken;
            if taken == 0 {
                break;
            }
            self.send(batch, Some(deadline)).await;
        }
        let exit = c.kind == ControlKind::Shutdown;
        // Persist, then drain: a process that delivered its own records with time left
        // before the send deadline resends spool files of earlier processes in it, so an
        // app run once a day still gets yesterday's events delivered.
        if exit && complete && !self.degraded {
            while Instant::now() < deadline && self.resend_from_spool(Some(deadline)).await {}
        }
        if exit {
            // Whatever raced in after the request is spooled (or counted) in the time left.
            self.queue.close();
            while Instant::now() < stop {
                let (batch, taken) = self.take_batch(self.settings.max_batch, Some(stop));
                if taken == 0 {
                    break;
                }
                self.spool_or_drop(&batch);
            }
            let unsent = self.queue.discard();
            if unsent > 0 {
                complete = false;
                add(&self.counters.unsent_at_shutdown, unsent);
                tracing::warn!(target: TARGET, items = unsent, "shutdown's deadline passed with items still queued; they were dropped");
            }
        }
        // No answer when something was left: the caller's wait ends at its deadline, with
        // `completed: false`.
        if let (true, Some(reply)) = (complete, c.reply) {
            let _ = reply.send(());
        }
        exit
    }

    /// Takes up to `max` queued records (in steps, stopping at `until` if given; what is
    /// not taken stays queued) and writes their envelope lines: the batch and how many
    /// records were taken. A record that panics or cannot be serialized is counted and left
    /// out.
    fn take_batch(&mut self, max: usize, until: Option<Instant>) -> (Batch, usize) {
        const STEP: usize = 64;
        let mut batch = Batch::default();
        let mut taken = 0;
        while taken < max && until.is_none_or(|until| Instant::now() < until) {
            let step = self.queue.take((max - taken).min(STEP));
            if step.is_empty() {
                break;
            }
            taken += step.len();
            for queued in step {
                self.write_line(&mut batch, queued);
            }
        }
        (batch, taken)
    }

    fn write_line(&mut self, batch: &mut Batch, queued: Queued) {
        let Queued {
            record,
            sample_rate,
            ..
        } = queued;
        let ikey = Some(self.settings.instrumentation_key.as_str());
        let kept = batch.push(|text| {
            let written = catch_unwind(AssertUnwindSafe(|| {
                record.finish().write_envelope(ikey, sample_rate, text)
            }));
            matches!(written, Ok(Ok(())))
        });
        if let (true, Some(log), Some(line)) = (kept, &mut self.settings.log, batch.last_line()) {
            log.line(line);
        }
        if !kept {
            add(&self.counters.unserializable, 1);
            tracing::warn!(target: TARGET, "a record could not be turned into an envelope and was dropped");
        }
    }

    /// When the spool is next worth a try (none without a spool).
    fn spool_due(&self) -> Option<Instant> {
        self.spool.as_ref().map(|_| {
            self.next_spool_try
                .max(self.paused_until.unwrap_or(self.next_spool_try))
        })
    }

    /// Sends a live batch (by `deadline`, if any); spools or counts what is left.
    async fn send(&mut self, items: Batch, deadline: Option<Instant>) {
        if items.is_empty() {
            return;
        }
        let left = self.deliver(items, Origin::Live, deadline).await;
        self.spool_or_drop(&left);
    }

    /// Spools `items`, or counts them dropped.
    fn spool_or_drop(&mut self, items: &Batch) {
        let n = items.len();
        if n == 0 {
            return;
        }
        let Some(spool) = self.spool.as_mut() else {
            add(&self.counters.retries_exhausted, n);
            tracing::warn!(target: TARGET, items = n, "dropped items that could not be delivered (no spool configured)");
            return;
        };
        match spool.write(items.lines()) {
            Ok(()) => {
                add(&self.counters.spooled, n);
                tracing::debug!(target: TARGET, items = n, "spooled items for a later attempt");
                let earliest = Instant::now() + self.spool_backoff;
                self.next_spool_try = self.next_spool_try.max(earliest);
            }
            Err(SpoolWriteError::Full) => {
                add(&self.counters.spool_full, n);
                tracing::warn!(target: TARGET, items = n, "spool is full; dropped items");
            }
            Err(SpoolWriteError::Io(e)) => {
                add(&self.counters.retries_exhausted, n);
                tracing::warn!(target: TARGET, items = n, error = %e, "could not write the spool; dropped items");
            }
        }
    }

    /// Sends `items` with retries; returns those still worth sending later.
    async fn deliver(
        &mut self,
        mut items: Batch,
        origin: Origin,
        mut deadline: Option<Instant>,
    ) -> Batch {
        // Attempts in a row that delivered nothing: what `max_attempts` bounds. An answer
        // that accepts items (a 206 with retriable items) proves the endpoint is serving,
        // so the rest is resent in this same flush rather than left to the spool.
        let mut attempt = 0u32;
        let mut fruitless = 0u32;
        loop {
            let max_attempts = if origin == Origin::Spool || self.degraded {
                1
            } else {
                self.settings.retry.max_attempts
            };
            let now = Instant::now();
            let too_late = deadline.is_some_and(|d| d <= now + self.round_trip * 2);
            if self.paused_until.is_some_and(|p| p > now) || too_late {
                break;
            }
            if attempt > 0 {
                add(&self.counters.retried, items.len());
            }
            attempt += 1;
            fruitless += 1;
            let Ok(body) = items.gzip() else {
                break;
            };
            let posted = Instant::now();
            let answer = race(
                self.transport.post(body),
                &mut self.control,
                &mut self.pending,
                &mut deadline,
                self.settings.drop_timeout,
            )
            .await;
            let retry_after = match answer {
                None => break,
                Some(Err(e)) if e.is_token() => {
                    // Nothing was sent: pause (growing up to AUTH_PAUSE) and keep the items.
                    self.settings.last_send.failed(items.len(), &e);
                    let policy = RetryPolicy {
                        max_backoff: AUTH_PAUSE,
                        ..self.settings.retry.clone()
                    };
                    let pause = policy.backoff(self.token_failures, self.rng.unit());
                    self.paused_until = Some(Instant::now() + pause);
                    if self.token_failures == 0 {
                        tracing::warn!(target: TARGET, error = %e, "no Entra ID token: sending pauses and events are kept in the spool until the credential gives one");
                    }
                    self.token_failures = self.token_failures.saturating_add(1);
                    break;
                }
                Some(Err(e)) => {
                    self.settings.last_send.failed(items.len(), &e);
                    tracing::debug!(target: TARGET, error = %e, attempt, "delivery attempt failed");
                    None
                }
                Some(Ok(a)) => {
                    self.round_trip = posted.elapsed();
                    self.token_failures = 0;
                    self.settings.last_send.answered(items.len(), a.status);
                    let o = classify(a.status, &a.body, items.len());
                    let c = &self.counters;
                    match origin {
                        Origin::Live => {
                            add(&c.sent, o.accepted);
                            add(&c.rejected, o.rejected);
                            add(&c.sampled_out, o.sampled_out);
                        }
                        Origin::Spool => {
                            add(&c.spool_resent, o.accepted);
                            add(&c.spool_rejected, o.rejected + o.sampled_out);
                        }
                    }
                    match o.verdict {
                        Verdict::Serving => {}
                        Verdict::OverQuota => {
                            self.paused_until = Some(Instant::now() + QUOTA_PAUSE);
                            tracing::warn!(target: TARGET, status = a.status, items = o.rejected, pause_s = QUOTA_PAUSE.as_secs(), "the Application Insights resource's daily cap or ingestion quota is spent; these items are dropped and sending pauses");
                        }
                        Verdict::Unauthorized => {
                            self.paused_until = Some(Instant::now() + AUTH_PAUSE);
                            if !std::mem::replace(&mut self.auth_logged, true) {
                                let hint =
                                    unauthorized_hint(a.status, self.transport.has_credential());
                                tracing::warn!(target: TARGET, status = a.status, "{hint}; events are kept in the spool");
                            }
                            break;
                        }
                    }
                    if o.rejected > 0 && o.verdict == Verdict::Serving {
                        tracing::warn!(target: TARGET, status = a.status, items = o.rejected, "the ingestion service refused items; they are not retried");
                    }
                    if !o.retry.is_empty() {
                        tracing::debug!(target: TARGET, status = a.status, items = o.retry.len(), attempt, "items to retry");
                    }
                    if o.accepted > 0 {
                        fruitless = 0;
                        if origin == Origin::Live {
                            self.leave_degraded();
                        }
                    }
                    if o.retry.is_empty() {
                        items = Batch::default();
                    } else if !o.retry.iter().copied().eq(0..items.len()) {
                        items = items.select(&o.retry);
                    }
                    a.retry_after
                }
            };
            if items.is_empty() {
                if origin == Origin::Live {
                    self.leave_degraded();
                }
                return items;
            }
            if let Some(ra) = retry_after {
                self.paused_until = Some(Instant::now() + ra);
                if ra > self.settings.retry.max_retry_after {
                    break;
                }
            }
            if fruitless >= max_attempts {
                break;
            }
            let delay = retry_after.unwrap_or_else(|| {
                self.settings
                    .retry
                    .backoff(fruitless.saturating_sub(1), self.rng.unit())
            });
            let wake = Instant::now() + delay;
            if deadline.is_some_and(|d| wake >= d) {
                break;
            }
            let slept = race(
                sleep_until(wake),
                &mut self.control,
                &mut self.pending,
                &mut deadline,
                self.settings.drop_timeout,
            )
            .await;
            if slept.is_none() {
                break;
            }
        }
        if origin == Origin::Live {
            self.degraded = true;
        }
        items
    }

    /// The endpoint serves live batches again: they get their retries back, and the spool
    /// is worth a try at once.
    fn leave_degraded(&mut self) {
        if std::mem::replace(&mut self.degraded, false) {
            self.next_spool_try = Instant::now();
        }
    }

    /// Resends the oldest spool files, up to [`SPOOL_FILES_PER_STEP`] of them and one
    /// batch of items, in one request (by `deadline`, if any). Returns whether they were
    /// delivered whole, so a caller with time left may go on with the next. In the
    /// background the next step waits a batch interval: the drain's rate is bounded and the
    /// process's own batches go first.
    async fn resend_from_spool(&mut self, deadline: Option<Instant>) -> bool {
        let interval = self.settings.spool_interval;
        let max_batch = self.settings.max_batch;
        // No claims and reads for a request `deliver` would not start.
        let too_late = deadline.is_some_and(|d| d <= Instant::now() + self.round_trip * 2);
        let Some(spool) = self.spool.as_mut().filter(|_| !too_late) else {
            return false;
        };
        let (mut files, mut lines) = (Vec::new(), Vec::new());
        while files.len() < SPOOL_FILES_PER_STEP {
            let Some(file) = spool.next_file() else {
                break;
            };
            match spool.read(&file) {
                // Read later: this step's batch is full.
                Some(items) if !lines.is_empty() && lines.len() + items.len() > max_batch => {
                    spool.requeue(file);
                    break;
                }
                Some(items) => {
                    lines.extend(items);
                    files.push(file);
                }
                None if file.path.exists() => {
                    spool.requeue(file);
                    break;
                }
                None => {}
            }
        }
        if files.is_empty() {
            self.next_spool_try = Instant::now() + interval;
            self.spool_backoff = interval;
            return false;
        }
        let total = lines.len();
        let items = Batch::from_lines(lines.iter().map(|line| &line[..]));
        let left = if total == 0 {
            items
        } else {
            self.deliver(items, Origin::Spool, deadline).await
        };
        let Some(spool) = self.spool.as_mut() else {
            return false;
        };
        if left.is_empty() {
            for file in &files {
                spool.remove(file);
            }
            self.next_spool_try = match deadline {
                Some(_) => Instant::now(),
                None => Instant::now() + self.settings.max_batch_age,
            };
            self.spool_backoff = interval;
            return true;
        }
        // What is left goes back into the oldest file; the others, delivered, are removed.
        // If that rewrite fails every file stays: resent twice rather than lost.
        let mut files = files.into_iter();
        let first = files.next();
        let kept = left.len() == total
            || first.as_ref().is_some_and(|first| {
                spool
                    .rewrite(first, left.lines())
                    .inspect_err(|e| tracing::warn!(target: TARGET, error = %e, "could not rewrite a spool file"))
                    .is_err()
            });
        for file in files {
            if kept {
                spool.requeue(file);
            } else {
                spool.remove(&file);
            }
        }
        if let Some(first) = first {
            spool.requeue(first);
        }
        self.next_spool_try = Instant::now() + self.spool_backoff;
        self.spool_backoff = (self.spool_backoff * 2).min(interval * 10);
        false
    }
}
