//! The worker: batching, delivery, retries and spooling, on its own thread and runtime.

use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::time::{sleep_until, Instant};

use super::queue::{ByteBudget, Queued};
use super::response::classify;
use super::retry::{RetryPolicy, XorShift};
use super::spool::{Spool, SpoolWriteError};
use super::stats::{add, Counters};
use super::transport::{encode, Transport};
use super::Exportable;

/// Starting capacity of the envelope buffer: a typical tool call's envelope fits.
const LINE_CAPACITY: usize = 1536;
/// Largest envelope buffer kept between items (an unusually long one is not kept).
const LINE_KEPT: usize = 64 * 1024;

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
    Control(Control),
    Item(Option<Queued<T>>),
    BatchDue,
    SpoolDue,
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

pub(crate) struct Worker<T, S> {
    rx: S,
    rx_open: bool,
    control: mpsc::UnboundedReceiver<Control>,
    pending: Option<Control>,
    settings: WorkerSettings,
    counters: Arc<Counters>,
    transport: Transport,
    spool: Option<Spool>,
    spool_backoff: Duration,
    next_spool_try: Instant,
    rng: XorShift,
    item: std::marker::PhantomData<fn(T)>,
    batch: Vec<Box<[u8]>>,
    /// Where each envelope is written before it is copied, at its exact size, into `batch`.
    line: Vec<u8>,
    batch_started: Option<Instant>,
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
        let spool_backoff = settings.spool_interval;
        Self {
            rx,
            rx_open: true,
            control,
            pending: None,
            batch: Vec::with_capacity(settings.max_batch.min(4096)),
            settings,
            counters,
            transport,
            spool,
            spool_backoff,
            next_spool_try: Instant::now(),
            rng: XorShift::seeded(),
            item: std::marker::PhantomData,
            line: Vec::with_capacity(LINE_CAPACITY),
            batch_started: None,
            degraded: false,
            paused_until: None,
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
            let batch_due = self.batch_started.map(|t| t + self.settings.max_batch_age);
            let spool_due = self.spool.as_ref().map(|_| {
                self.next_spool_try
                    .max(self.paused_until.unwrap_or(self.next_spool_try))
            });
            let event = tokio::select! {
                c = self.control.recv() => Event::Control(
                    c.unwrap_or_else(|| Control::handle_gone(self.settings.drop_timeout)),
                ),
                q = self.rx.recv(), if self.rx_open => Event::Item(q),
                _ = sleep_opt(batch_due), if batch_due.is_some() => Event::BatchDue,
                _ = sleep_opt(spool_due), if spool_due.is_some() => Event::SpoolDue,
            };
            match event {
                Event::Control(c) => self.pending = Some(c),
                Event::Item(None) => self.rx_open = false,
                Event::Item(Some(q)) => {
                    self.push(q);
                    while self.batch.len() < self.settings.max_batch {
                        match self.rx.try_recv() {
                            Some(q) => self.push(q),
                            None => break,
                        }
                    }
                    if self.batch.len() >= self.settings.max_batch {
                        self.send_batch(None).await;
                    }
                }
                Event::BatchDue => self.send_batch(None).await,
                Event::SpoolDue => self.resend_from_spool().await,
            }
        }
    }

    /// Turns an item into its envelope line. A panicking or unserializable item is counted.
    fn push(&mut self, q: Queued<T>) {
        let ikey = &self.settings.instrumentation_key;
        let line = &mut self.line;
        line.clear();
        if line.capacity() > LINE_KEPT {
            *line = Vec::with_capacity(LINE_CAPACITY);
        }
        let written = catch_unwind(AssertUnwindSafe(|| {
            q.item.write_envelope(ikey, q.sample_rate, line)
        }));
        match written {
            Ok(Ok(())) => {
                if self.batch.is_empty() {
                    self.batch_started = Some(Instant::now());
                }
                self.batch.push(Box::from(&self.line[..]));
            }
            _ => {
                add(&self.counters.unserializable, 1);
                tracing::warn!(target: TARGET, "an item could not be turned into an envelope and was dropped");
            }
        }
    }

    /// Flush or shutdown; returns true when the worker must exit.
    async fn handle_control(&mut self, c: Control) -> bool {
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
            while self.batch.len() < self.settings.max_batch && budget > 0 {
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
            self.send_batch(Some(deadline)).await;
        }
        let exit = c.kind == ControlKind::Shutdown;
        if exit {
            // Whatever raced in after the request is spooled (or counted) in the time left.
            self.rx.close();
            while Instant::now() < stop {
                let Some(q) = self.rx.try_recv() else { break };
                self.push(q);
                if self.batch.len() >= self.settings.max_batch {
                    let full = std::mem::take(&mut self.batch);
                    self.spool_or_drop(full);
                }
            }
            let rest = std::mem::take(&mut self.batch);
            self.spool_or_drop(rest);
            let unsent = self.rx.discard();
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

    async fn send_batch(&mut self, deadline: Option<Instant>) {
        self.batch_started = None;
        if self.batch.is_empty() {
            return;
        }
        let items = std::mem::replace(
            &mut self.batch,
            Vec::with_capacity(self.settings.max_batch.min(4096)),
        );
        let left = self.deliver(items, Origin::Live, deadline).await;
        self.spool_or_drop(left);
    }

    fn spool_or_drop(&mut self, items: Vec<Box<[u8]>>) {
        let n = items.len();
        if n == 0 {
            return;
        }
        let Some(spool) = self.spool.as_mut() else {
            add(&self.counters.retries_exhausted, n);
            tracing::warn!(target: TARGET, items = n, "dropped items that could not be delivered (no spool configured)");
            return;
        };
        match spool.write(&items) {
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
        mut items: Vec<Box<[u8]>>,
        origin: Origin,
        mut deadline: Option<Instant>,
    ) -> Vec<Box<[u8]>> {
        let max_attempts = if origin == Origin::Spool || self.degraded {
            1
        } else {
            self.settings.retry.max_attempts
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
            let Ok(body) = encode(items.iter().map(|b| &b[..])) else {
                break;
            };
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
                    items = o
                        .retry
                        .iter()
                        .filter_map(|&i| items.get_mut(i).map(std::mem::take))
                        .collect();
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
                if ra > self.settings.retry.max_retry_after {
                    break;
                }
            }
            if attempt >= max_attempts {
                break;
            }
            let delay = retry_after
                .unwrap_or_else(|| self.settings.retry.backoff(attempt - 1, self.rng.unit()));
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

    async fn resend_from_spool(&mut self) {
        let interval = self.settings.spool_interval;
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
                if let Err(e) = spool.rewrite(&file, &left) {
                    tracing::warn!(target: TARGET, error = %e, "could not rewrite a spool file");
                }
            }
            spool.requeue(file);
            self.next_spool_try = Instant::now() + self.spool_backoff;
            self.spool_backoff = (self.spool_backoff * 2).min(interval * 10);
        }
    }
}
