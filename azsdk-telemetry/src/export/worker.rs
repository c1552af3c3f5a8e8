//! The worker: batching, delivery, retries and spooling, on its own thread and runtime.
//!
//! The [`Intake`] writes queued items as envelope lines into a [`Batch`]; a full (or old
//! enough) batch goes to the [`Outbox`], which gzips it, posts it, retries and spools,
//! while the intake writes the next batch beside it on the same thread.

use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::time::{sleep_until, Instant};

use super::batch::Batch;
use super::queue::{ByteBudget, Queued};
use super::response::classify;
use super::retry::{RetryPolicy, XorShift};
use super::spool::{Spool, SpoolWriteError};
use super::stats::{add, Counters};
use super::transport::Transport;
use super::Exportable;

/// Most items written into a batch between two looks at the request on its way: about
/// 15 µs of work, so that its answer is read soon after it arrives. (8, 32 and 64 held
/// lower rates in the throughput bench.)
const INTAKE_STEP: usize = 16;

/// Largest batch text kept for reuse after a batch is sent (about 1,000 typical envelopes).
const BATCH_TEXT_KEPT: usize = 1 << 20;

const TARGET: &str = "azsdk_telemetry::export";

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

enum Event<T> {
    /// A control request, parked in the outbox's `pending`.
    Control,
    Item(Option<Queued<T>>),
    BatchDue,
    SpoolDue,
    /// The outbox is back: the batch on its way was sent or spooled.
    Returned(Box<Outbox>),
}

pub(crate) struct WorkerSettings {
    pub instrumentation_key: String,
    pub max_batch: usize,
    pub max_batch_age: Duration,
    pub retry: RetryPolicy,
    pub drop_timeout: Duration,
    pub spool_interval: Duration,
}

/// Where the worker takes items from: the queue's receiving end.
pub(crate) trait Source<T>: Send + 'static {
    /// The next item, waiting for one; `None` once the queue is closed and empty.
    async fn recv(&mut self) -> Option<Queued<T>>;
    /// The next item if one is queued now.
    fn try_recv(&mut self) -> Option<Queued<T>>;
    /// Items queued now.
    fn len(&self) -> usize;
    /// Refuses new items from now on (senders count them as `closed`).
    fn close(&mut self);
    /// Drops every queued item; returns how many there were.
    fn discard(&mut self) -> usize;
}

/// The queue of [`ExportSender`](super::ExportSender): items as values in a channel;
/// taking one gives its bytes back to the budget.
pub(crate) struct ChannelSource<T> {
    pub rx: mpsc::Receiver<Queued<T>>,
    pub budget: Arc<ByteBudget>,
}

impl<T: Send + 'static> Source<T> for ChannelSource<T> {
    async fn recv(&mut self) -> Option<Queued<T>> {
        let q = self.rx.recv().await?;
        self.budget.release(q.bytes);
        Some(q)
    }

    fn try_recv(&mut self) -> Option<Queued<T>> {
        let q = self.rx.try_recv().ok()?;
        self.budget.release(q.bytes);
        Some(q)
    }

    fn len(&self) -> usize {
        self.rx.len()
    }

    fn close(&mut self) {
        self.rx.close();
    }

    fn discard(&mut self) -> usize {
        std::iter::from_fn(|| self.try_recv()).count()
    }
}

/// The worker: an [`Intake`] that writes queued items into the next batch while the
/// [`Outbox`] sends the last one. One batch is on its way at a time, so batches arrive in
/// order and retries, `Retry-After` and the spool keep one state; writing the next batch
/// no longer waits for the service's answer to the last.
pub(crate) struct Worker<T, S> {
    intake: Intake<T, S>,
    /// Home when no batch is on its way; otherwise inside `sending`, which gives it back.
    outbox: Option<Box<Outbox>>,
    sending: Option<Pin<Box<dyn Future<Output = Box<Outbox>>>>>,
}

/// Takes items from the queue and writes their envelopes into the next batch.
struct Intake<T, S> {
    rx: S,
    rx_open: bool,
    batch: Batch,
    batch_started: Option<Instant>,
    instrumentation_key: String,
    max_batch: usize,
    max_batch_age: Duration,
    counters: Arc<Counters>,
    item: std::marker::PhantomData<fn(T)>,
}

/// Sends batches with retries, spools what could not be sent, and resends the spool.
struct Outbox {
    control: mpsc::UnboundedReceiver<Control>,
    /// A control request that arrived while a batch was being sent.
    pending: Option<Control>,
    retry: RetryPolicy,
    /// How long a shutdown by a dropped handle may take.
    drop_timeout: Duration,
    spool_interval: Duration,
    counters: Arc<Counters>,
    transport: Transport,
    spool: Option<Spool>,
    spool_backoff: Duration,
    next_spool_try: Instant,
    rng: XorShift,
    /// A sent batch's buffers, kept for the next one.
    spare: Option<Batch>,
    /// The last live batch ran out of retries: later batches get one try before spooling.
    degraded: bool,
    /// The service asked us (Retry-After) not to send before this.
    paused_until: Option<Instant>,
}

async fn sleep_opt(at: Option<Instant>) {
    match at {
        Some(at) => sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// Waits for the next control request and parks it in the outbox's `pending`, when the
/// outbox is home to take it.
async fn next_control(outbox: Option<&mut Outbox>) {
    match outbox {
        Some(outbox) => {
            let c = outbox.control.recv().await;
            let drop_timeout = outbox.drop_timeout;
            outbox.pending = Some(c.unwrap_or_else(|| Control::handle_gone(drop_timeout)));
        }
        None => std::future::pending().await,
    }
}

/// The outbox, when the batch on its way has been sent (or spooled).
async fn returning(
    sending: &mut Option<Pin<Box<dyn Future<Output = Box<Outbox>>>>>,
) -> Box<Outbox> {
    match sending {
        Some(fut) => fut.as_mut().await,
        None => std::future::pending().await,
    }
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

impl<T: Exportable, S: Source<T>> Worker<T, S> {
    pub(crate) fn new(
        rx: S,
        control: mpsc::UnboundedReceiver<Control>,
        settings: WorkerSettings,
        counters: Arc<Counters>,
        transport: Transport,
        spool: Option<Spool>,
    ) -> Self {
        let WorkerSettings {
            instrumentation_key,
            max_batch,
            max_batch_age,
            retry,
            drop_timeout,
            spool_interval,
        } = settings;
        let intake = Intake {
            rx,
            rx_open: true,
            batch: Batch::default(),
            batch_started: None,
            instrumentation_key,
            max_batch,
            max_batch_age,
            counters: Arc::clone(&counters),
            item: std::marker::PhantomData,
        };
        let outbox = Outbox {
            control,
            pending: None,
            retry,
            drop_timeout,
            spool_interval,
            spool_backoff: spool_interval,
            counters,
            transport,
            spool,
            next_spool_try: Instant::now(),
            rng: XorShift::seeded(),
            spare: None,
            degraded: false,
            paused_until: None,
        };
        Self {
            intake,
            outbox: Some(Box::new(outbox)),
            sending: None,
        }
    }

    pub(crate) async fn run(mut self) {
        loop {
            if let Some(outbox) = self.outbox.as_deref_mut() {
                if let Some(c) = outbox.pending.take() {
                    if self.intake.handle_control(outbox, c).await {
                        return;
                    }
                    continue;
                }
                if self.intake.is_ready(Instant::now()) {
                    self.start_sending();
                }
            }
            let home = self.outbox.is_some();
            let batch_due = self.intake.due().filter(|_| home);
            let spool_due = self.outbox.as_deref().and_then(Outbox::spool_due);
            let event = tokio::select! {
                () = next_control(self.outbox.as_deref_mut()) => Event::Control,
                q = self.intake.rx.recv(), if self.intake.wants_more() => Event::Item(q),
                _ = sleep_opt(batch_due), if batch_due.is_some() => Event::BatchDue,
                _ = sleep_opt(spool_due), if spool_due.is_some() => Event::SpoolDue,
                outbox = returning(&mut self.sending) => Event::Returned(outbox),
            };
            match event {
                // Handled at the top of the loop.
                Event::Control | Event::BatchDue => {}
                Event::Item(None) => self.intake.rx_open = false,
                Event::Item(Some(q)) => {
                    self.intake.push(q);
                    self.intake.top_up();
                    if self.sending.is_some() {
                        // Let the request on its way make progress (its connection is a
                        // task of this runtime): a queue that always has items would
                        // otherwise keep the runtime from running it until the batch is full.
                        tokio::task::yield_now().await;
                    }
                }
                Event::SpoolDue => {
                    if let Some(outbox) = self.outbox.as_mut() {
                        outbox.resend_from_spool().await;
                    }
                }
                Event::Returned(outbox) => {
                    self.sending = None;
                    self.outbox = Some(outbox);
                }
            }
        }
    }

    /// Hands the batch to the outbox, which sends it while the intake writes the next.
    fn start_sending(&mut self) {
        let Some(mut outbox) = self.outbox.take() else {
            return;
        };
        let batch = self.intake.take_batch(outbox.spare.take());
        self.sending = Some(Box::pin(async move {
            outbox.send(batch, None).await;
            outbox
        }));
    }
}

impl<T: Exportable, S: Source<T>> Intake<T, S> {
    /// Flush or shutdown, with the outbox home; returns true when the worker must exit.
    async fn handle_control(&mut self, outbox: &mut Outbox, c: Control) -> bool {
        let deadline = c.send_deadline;
        // After the send deadline, items are spooled instead of sent (a batch fails at once);
        // halfway through the time left for that, whatever is still queued stays queued
        // (a flush) or is counted as unsent (a shutdown): a large queue cannot hold the
        // caller past its deadline.
        let stop = c.send_deadline + (c.deadline.saturating_duration_since(c.send_deadline) / 2);
        // Everything queued before the request, and no more (producers may never pause).
        let mut budget = self.rx.len();
        let mut complete = true;
        loop {
            if budget > 0 && Instant::now() >= stop {
                budget = 0;
                complete = false;
            }
            while self.batch.len() < self.max_batch && budget > 0 {
                match self.rx.try_recv() {
                    Some(q) => {
                        budget -= 1;
                        self.push(q);
                    }
                    None => budget = 0,
                }
            }
            if self.batch.is_empty() {
                break;
            }
            let batch = self.take_batch(outbox.spare.take());
            outbox.send(batch, Some(deadline)).await;
        }
        let exit = c.kind == ControlKind::Shutdown;
        if exit {
            // Whatever raced in after the request is spooled (or counted) in the time left.
            self.rx.close();
            while Instant::now() < stop {
                let Some(q) = self.rx.try_recv() else { break };
                self.push(q);
                if self.batch.len() >= self.max_batch {
                    let full = self.take_batch(None);
                    outbox.spool_or_drop(full);
                }
            }
            let rest = self.take_batch(None);
            outbox.spool_or_drop(rest);
            let unsent = self.rx.discard();
            if unsent > 0 {
                complete = false;
                add(&outbox.counters.unsent_at_shutdown, unsent);
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

    /// Whether to take more items: the queue is open and the batch has room.
    fn wants_more(&self) -> bool {
        self.rx_open && self.batch.len() < self.max_batch
    }

    /// When the batch's age will call for sending it.
    fn due(&self) -> Option<Instant> {
        self.batch_started.map(|t| t + self.max_batch_age)
    }

    /// Whether the batch is full, or old enough, to send.
    fn is_ready(&self, now: Instant) -> bool {
        !self.batch.is_empty()
            && (self.batch.len() >= self.max_batch || self.due().is_some_and(|d| d <= now))
    }

    /// The batch so far, replaced by `next` (empty) or a new one.
    fn take_batch(&mut self, next: Option<Batch>) -> Batch {
        self.batch_started = None;
        std::mem::replace(&mut self.batch, next.unwrap_or_default())
    }

    /// Takes what is queued now, up to a full batch and at most [`INTAKE_STEP`] items.
    fn top_up(&mut self) {
        let until = self.max_batch.min(self.batch.len() + INTAKE_STEP);
        while self.batch.len() < until {
            match self.rx.try_recv() {
                Some(q) => self.push(q),
                None => break,
            }
        }
    }

    /// Turns an item into its envelope line. A panicking or unserializable item is counted.
    fn push(&mut self, q: Queued<T>) {
        let ikey = &self.instrumentation_key;
        let was_empty = self.batch.is_empty();
        let kept = self.batch.push(|text, marks| {
            let written = catch_unwind(AssertUnwindSafe(|| {
                q.item
                    .write_envelope_marked(ikey, q.sample_rate, text, marks)
            }));
            matches!(written, Ok(Ok(())))
        });
        if !kept {
            add(&self.counters.unserializable, 1);
            tracing::warn!(target: TARGET, "an item could not be turned into an envelope and was dropped");
        } else if was_empty {
            self.batch_started = Some(Instant::now());
        }
    }
}

impl Outbox {
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
            self.keep_spare(items);
            return;
        }
        let left = self.deliver(items, Origin::Live, deadline).await;
        self.spool_or_drop(left);
    }

    /// Spools `items` (or counts them dropped), then keeps their buffers for a next batch.
    fn spool_or_drop(&mut self, items: Batch) {
        self.spool_or_drop_lines(&items);
        self.keep_spare(items);
    }

    fn keep_spare(&mut self, mut items: Batch) {
        if items.text_capacity() <= BATCH_TEXT_KEPT {
            items.clear();
            self.spare = Some(items);
        }
    }

    fn spool_or_drop_lines(&mut self, items: &Batch) {
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
        let max_attempts = if origin == Origin::Spool || self.degraded {
            1
        } else {
            self.retry.max_attempts
        };
        let mut attempt = 0u32;
        loop {
            let now = Instant::now();
            if self.paused_until.is_some_and(|p| p > now) || deadline.is_some_and(|d| d <= now) {
                break;
            }
            if attempt > 0 {
                add(&self.counters.retried, items.len());
            }
            attempt += 1;
            let Ok(body) = items.gzip() else {
                break;
            };
            let answer = race(
                self.transport.post(body),
                &mut self.control,
                &mut self.pending,
                &mut deadline,
                self.drop_timeout,
            )
            .await;
            let retry_after = match answer {
                None => break,
                Some(Err(e)) => {
                    tracing::debug!(target: TARGET, error = %e, attempt, "delivery attempt failed");
                    None
                }
                Some(Ok(a)) => {
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
                    if o.rejected > 0 {
                        tracing::warn!(target: TARGET, status = a.status, items = o.rejected, "the ingestion service refused items; they are not retried");
                    }
                    if !o.retry.is_empty() {
                        tracing::debug!(target: TARGET, status = a.status, items = o.retry.len(), attempt, "items to retry");
                    }
                    if o.retry.is_empty() {
                        // Kept empty, with its buffers, for the next batch.
                        items.clear();
                    } else if !o.retry.iter().copied().eq(0..items.len()) {
                        items = items.select(&o.retry);
                    }
                    a.retry_after
                }
            };
            if items.is_empty() {
                if origin == Origin::Live && self.degraded {
                    self.degraded = false;
                    self.next_spool_try = Instant::now();
                }
                return items;
            }
            if let Some(ra) = retry_after {
                self.paused_until = Some(Instant::now() + ra);
                if ra > self.retry.max_retry_after {
                    break;
                }
            }
            if attempt >= max_attempts {
                break;
            }
            let delay =
                retry_after.unwrap_or_else(|| self.retry.backoff(attempt - 1, self.rng.unit()));
            let wake = Instant::now() + delay;
            if deadline.is_some_and(|d| wake >= d) {
                break;
            }
            let slept = race(
                sleep_until(wake),
                &mut self.control,
                &mut self.pending,
                &mut deadline,
                self.drop_timeout,
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

    async fn resend_from_spool(&mut self) {
        let interval = self.spool_interval;
        let now = Instant::now();
        let Some(spool) = self.spool.as_mut() else {
            return;
        };
        let Some(file) = spool.next_file() else {
            self.next_spool_try = now + interval;
            self.spool_backoff = interval;
            return;
        };
        let Some(items) = spool.read(&file) else {
            self.next_spool_try = if file.path.exists() {
                now + self.spool_backoff
            } else {
                now
            };
            return;
        };
        if items.is_empty() {
            spool.remove(&file);
            return;
        }
        let total = items.len();
        let items = Batch::from_lines(items.iter().map(|line| &line[..]));
        let left = self.deliver(items, Origin::Spool, None).await;
        let Some(spool) = self.spool.as_mut() else {
            return;
        };
        if left.is_empty() {
            spool.remove(&file);
            self.next_spool_try = Instant::now();
            self.spool_backoff = interval;
        } else {
            if left.len() < total {
                if let Err(e) = spool.rewrite(&file, left.lines()) {
                    tracing::warn!(target: TARGET, error = %e, "could not rewrite a spool file");
                }
            }
            spool.requeue(file);
            self.next_spool_try = Instant::now() + self.spool_backoff;
            self.spool_backoff = (self.spool_backoff * 2).min(interval * 10);
        }
    }
}
