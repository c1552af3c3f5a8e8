//! The queue in front of [`HttpSink`](super::HttpSink): records packed into chunks of
//! bytes, bounded by memory.
//!
//! A record boxed as a value takes ~500 bytes in a queue (its ~300-byte event and a heap
//! block per string); packed (see [`crate::event::pack`]) a typical tool call takes ~110
//! bytes and no allocation of its own, so the same memory absorbs a burst four to five
//! times longer. Senders append to the open chunk under a short lock; a full chunk is
//! sealed and a new one opened while the budget allows. The worker takes whole chunks
//! (sealed first, else the open one) and unpacks them one record at a time; the chunks it
//! has read come back as spares, so a steady flow allocates nothing.
//!
//! Under a burst the queue would fill long before the worker could send its content, so
//! while it holds more than half its budget the worker deflates the waiting chunks
//! (newest first, outside the lock, ~1.5 GB/s): a chunk of similar calls shrinks ~8-10
//! times, and the same budget holds millions of calls. A chunk is inflated when its turn
//! comes.
//!
//! Events other than tool calls (lifecycle events: a few per process) are kept as values
//! beside the bytes, in order.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::SystemTime;

use std::io::{Read, Write};

use flate2::read::DeflateDecoder;
use flate2::write::DeflateEncoder;
use flate2::Compression;
use tokio::sync::Notify;

use super::queue::{Admission, Queued};
use super::stats::{add, Counters};
use super::worker::Source;
use crate::context::{ContextSnapshot, SharedContext};
use crate::event::pack::{self, Statics, ToolView};
use crate::event::{Event, PendingRecord};

/// Capacity of a chunk: ~600 typical tool calls.
const CHUNK_BYTES: usize = 64 * 1024;

/// Record tag bits.
const OTHER: u8 = 1;
const FULL_RATE: u8 = 1 << 1;

/// One chunk of packed records.
#[derive(Default)]
struct Chunk {
    /// The packed records (empty while the chunk is deflated).
    data: Vec<u8>,
    /// `data` deflated, and its length before (both zero while the chunk is raw).
    deflated: Vec<u8>,
    raw_len: usize,
    statics: Statics,
    contexts: Vec<Arc<ContextSnapshot>>,
    /// Events that are not tool calls, referenced by index from `data`.
    others: Vec<Option<PendingRecord>>,
    /// Heap bytes of `others`.
    others_bytes: usize,
    items: usize,
}

impl Chunk {
    fn with_capacity(bytes: usize) -> Self {
        Chunk {
            data: Vec::with_capacity(bytes),
            ..Chunk::default()
        }
    }

    /// The memory the chunk holds, as the budget counts it.
    fn footprint(&self) -> usize {
        self.data.capacity() + self.deflated.capacity() + self.others_bytes
    }

    /// Whether the worker may deflate it: sealed, raw, not empty.
    fn deflatable(&self) -> bool {
        !self.data.is_empty() && self.deflated.is_empty()
    }

    fn clear(&mut self) {
        self.data.clear();
        self.deflated = Vec::new();
        self.raw_len = 0;
        self.statics.clear();
        self.contexts.clear();
        self.others.clear();
        self.others_bytes = 0;
        self.items = 0;
    }

    /// The index of `context` in this chunk, added when it is not the last one seen.
    fn context_index(&mut self, context: Arc<ContextSnapshot>) -> usize {
        match self.contexts.last() {
            Some(last) if Arc::ptr_eq(last, &context) => {}
            _ => self.contexts.push(context),
        }
        self.contexts.len() - 1
    }

    /// Appends `record`; the caller made sure `data` has room for its
    /// [`Entry::bound`].
    fn push(&mut self, record: PendingRecord, full_rate: bool) {
        if !matches!(record.event(), Event::ToolExecuted(_)) {
            self.items += 1;
            self.data
                .push(OTHER | if full_rate { FULL_RATE } else { 0 });
            pack::put_varint(&mut self.data, self.others.len() as u64);
            self.others_bytes += record.heap_bytes();
            self.others.push(Some(record));
            return;
        }
        let (time, event, context) = record.into_parts();
        if let Event::ToolExecuted(tool) = &*event {
            self.push_tool(&ToolView::of(tool), time, context, full_rate);
        }
    }

    /// Appends a tool call; the caller made sure `data` has room for its bound.
    fn push_tool(
        &mut self,
        tool: &ToolView<'_>,
        time: SystemTime,
        context: Arc<ContextSnapshot>,
        full_rate: bool,
    ) {
        self.items += 1;
        self.data.push(if full_rate { FULL_RATE } else { 0 });
        let index = self.context_index(context);
        pack::put_varint(&mut self.data, index as u64);
        pack::put_time(&mut self.data, time);
        pack::pack_tool(tool, &mut self.statics, &mut self.data);
    }
}

/// What a sender puts in the queue: a record, or a tool call's borrowed parts.
enum Entry<'a> {
    Record(PendingRecord),
    Tool(ToolView<'a>, SystemTime, Arc<ContextSnapshot>),
}

impl Entry<'_> {
    fn is_failure(&self) -> bool {
        match self {
            Entry::Record(record) => record.is_failure(),
            Entry::Tool(tool, ..) => !tool.fields.success,
        }
    }

    /// An upper bound of the bytes the entry takes packed in a chunk (a record's `others`
    /// entry aside).
    fn bound(&self) -> usize {
        match self {
            Entry::Record(record) => match record.event() {
                Event::ToolExecuted(tool) => ToolView::of(tool).packed_bound(),
                _ => pack::ENTRY_BOUND,
            },
            Entry::Tool(tool, ..) => tool.packed_bound(),
        }
    }

    fn push_into(self, chunk: &mut Chunk, full_rate: bool) {
        match self {
            Entry::Record(record) => chunk.push(record, full_rate),
            Entry::Tool(tool, time, context) => chunk.push_tool(&tool, time, context, full_rate),
        }
    }
}

/// `data` deflated at the fastest level, shrunk to fit; `None` if it does not get smaller.
fn deflate(data: &[u8]) -> Option<Vec<u8>> {
    let mut encoder = DeflateEncoder::new(Vec::with_capacity(data.len() / 4), Compression::fast());
    encoder.write_all(data).ok()?;
    let mut deflated = encoder.finish().ok()?;
    deflated.shrink_to_fit();
    (deflated.len() < data.len()).then_some(deflated)
}

struct State {
    open: Chunk,
    sealed: VecDeque<Chunk>,
    /// A chunk the worker has read, kept to be the next open one.
    spare: Option<Chunk>,
    /// Footprint of `open` and `sealed`.
    bytes: usize,
    /// Records in `open` and `sealed`.
    items: usize,
}

/// The shared queue. See the [module documentation](self).
pub(crate) struct Arena {
    state: Mutex<State>,
    wake: Notify,
    /// No record is taken any more (set under the lock, read without it).
    closed: AtomicBool,
    /// The last record did not fit (set by a sender, cleared when the worker takes a
    /// chunk): lets a caller skip building the next one.
    full: AtomicBool,
    max_bytes: usize,
    max_items: usize,
    sample_rate: f64,
}

impl State {
    /// Keeps `chunk`'s buffer as the next open chunk, if none is kept yet and it is a
    /// standard one.
    fn keep_spare(&mut self, mut chunk: Chunk) {
        if self.spare.is_none() && chunk.data.capacity() == CHUNK_BYTES {
            chunk.clear();
            self.spare = Some(chunk);
        }
    }
}

impl Arena {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Starts a queue of at most `max_items` records and `max_bytes` of chunks, stamping kept
/// successes with `admission`'s sample rate.
pub(crate) fn channel(
    max_items: usize,
    max_bytes: usize,
    admission: Admission,
    counters: Arc<Counters>,
) -> (ArenaSender, ArenaSource) {
    let arena = Arc::new(Arena {
        state: Mutex::new(State {
            open: Chunk::default(),
            sealed: VecDeque::new(),
            spare: None,
            bytes: 0,
            items: 0,
        }),
        wake: Notify::new(),
        closed: AtomicBool::new(false),
        full: AtomicBool::new(false),
        max_bytes,
        max_items,
        sample_rate: admission.sample_rate(),
    });
    let sender = ArenaSender {
        arena: Arc::clone(&arena),
        admission,
    };
    let source = ArenaSource {
        arena,
        reading: Chunk::default(),
        at: 0,
        left: 0,
        counters,
    };
    (sender, source)
}

/// The senders' side: never blocks; a record that does not fit is dropped and counted.
pub(crate) struct ArenaSender {
    arena: Arc<Arena>,
    admission: Admission,
}

impl std::fmt::Debug for ArenaSender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ArenaSender")
            .field("bytes_queued", &self.arena.lock().bytes)
            .field("max_bytes", &self.arena.max_bytes)
            .finish()
    }
}

impl ArenaSender {
    /// Packs `record` into the queue, or counts why it could not.
    pub(crate) fn send(&self, record: PendingRecord) {
        self.enqueue(Entry::Record(record));
    }

    /// Packs a tool call straight from its borrowed parts (no owned event, no box), at
    /// `context`'s time and snapshot, or counts why it could not.
    pub(crate) fn send_tool(&self, tool: ToolView<'_>, context: &SharedContext) {
        self.enqueue(Entry::Tool(tool, context.now(), context.snapshot()));
    }

    fn enqueue(&self, entry: Entry<'_>) {
        let Some(sample_rate) = self.admission.admit(|| entry.is_failure()) else {
            return;
        };
        let bound = entry.bound();
        let arena = &*self.arena;
        let mut state = arena.lock();
        if arena.closed.load(Relaxed) {
            drop(state);
            self.admission.count_drop(true);
            return;
        }
        if state.items >= arena.max_items {
            arena.full.store(true, Relaxed);
            drop(state);
            self.admission.count_drop(false);
            return;
        }
        let open = &state.open;
        if open.data.capacity() - open.data.len() < bound {
            // A new chunk: the open one is sealed (or replaced, when empty).
            let capacity = bound.max(CHUNK_BYTES);
            let freed = if open.items == 0 { open.footprint() } else { 0 };
            if state.bytes - freed + capacity > arena.max_bytes {
                arena.full.store(true, Relaxed);
                drop(state);
                self.admission.count_drop(false);
                return;
            }
            let fresh = match state.spare.take() {
                Some(spare) if spare.data.capacity() >= capacity => spare,
                _ => Chunk::with_capacity(capacity),
            };
            let full = std::mem::replace(&mut state.open, fresh);
            state.bytes = state.bytes - full.footprint() + state.open.footprint();
            if full.items > 0 {
                state.bytes += full.footprint();
                state.sealed.push_back(full);
            }
        }
        let before = state.open.footprint();
        entry.push_into(&mut state.open, sample_rate >= 100.0);
        state.bytes = state.bytes + state.open.footprint() - before;
        state.items += 1;
        let first = state.items == 1;
        drop(state);
        self.admission.count_queued();
        if first {
            arena.wake.notify_one();
        }
    }

    /// Whether a record would find room now (a hint, read without the lock): `false` from
    /// the moment one did not fit until the worker takes a chunk, and once closed.
    pub(crate) fn has_room(&self) -> bool {
        !self.arena.full.load(Relaxed) && !self.arena.closed.load(Relaxed)
    }

    /// Counts a record that was not built because [`has_room`](Self::has_room) said no.
    pub(crate) fn count_refused(&self, is_failure: bool) {
        let closed = self.arena.closed.load(Relaxed);
        self.admission.count_refused(|| is_failure, closed);
    }
}

/// The worker's side: whole chunks out of the queue, records out of the chunk.
pub(crate) struct ArenaSource {
    arena: Arc<Arena>,
    /// The chunk being read, and where.
    reading: Chunk,
    at: usize,
    /// Records of `reading` not read yet.
    left: usize,
    counters: Arc<Counters>,
}

impl ArenaSource {
    /// Takes the next chunk to read: the oldest sealed one, else the open one.
    fn next_chunk(&mut self) -> bool {
        let arena = &*self.arena;
        let mut state = arena.lock();
        let chunk = match state.sealed.pop_front() {
            Some(chunk) => chunk,
            None if state.open.items > 0 => {
                let fresh = state.spare.take().unwrap_or_default();
                let open = std::mem::replace(&mut state.open, fresh);
                state.bytes += state.open.footprint();
                open
            }
            None => return false,
        };
        state.bytes -= chunk.footprint();
        state.items -= chunk.items;
        arena.full.store(false, Relaxed);
        let read = std::mem::replace(&mut self.reading, chunk);
        state.keep_spare(read);
        drop(state);
        self.at = 0;
        self.left = self.reading.items;
        if !self.reading.deflated.is_empty() {
            self.inflate_reading();
        }
        self.compact();
        true
    }

    /// Puts the chunk being read back in its packed form.
    fn inflate_reading(&mut self) {
        let chunk = &mut self.reading;
        let mut data = Vec::with_capacity(chunk.raw_len);
        let inflated = DeflateDecoder::new(&chunk.deflated[..]).read_to_end(&mut data);
        chunk.deflated = Vec::new();
        if inflated.is_ok() && data.len() == chunk.raw_len {
            chunk.data = data;
        } else {
            self.drop_rest("queued records could not be inflated and were dropped");
        }
    }

    /// Counts the records left in the chunk being read as unserializable and skips them
    /// (their bytes cannot be read: a bug of the packer, never expected).
    fn drop_rest(&mut self, why: &'static str) {
        add(&self.counters.unserializable, self.left);
        tracing::warn!(target: "azsdk_telemetry::export", items = self.left, "{why}");
        self.left = 0;
    }

    /// While the queue holds more than half its budget, deflates waiting chunks, newest
    /// first (the oldest is read soonest). Each is deflated outside the lock: senders
    /// only add chunks at the back and only this thread removes them, so its place in
    /// the queue stays the same meanwhile.
    fn compact(&mut self) {
        let arena = &*self.arena;
        loop {
            let (index, data) = {
                let mut state = arena.lock();
                if state.bytes <= arena.max_bytes / 2 {
                    return;
                }
                let Some(index) = state.sealed.iter().rposition(Chunk::deflatable) else {
                    return;
                };
                (index, std::mem::take(&mut state.sealed[index].data))
            };
            let deflated = deflate(&data);
            let mut state = arena.lock();
            let Some(chunk) = state.sealed.get_mut(index) else {
                return;
            };
            let Some(deflated) = deflated else {
                chunk.data = data;
                return;
            };
            chunk.raw_len = data.len();
            chunk.deflated = deflated;
            let saved = data.capacity() - chunk.deflated.capacity();
            state.bytes -= saved;
            arena.full.store(false, Relaxed);
            state.keep_spare(Chunk {
                data,
                ..Chunk::default()
            });
        }
    }

    /// Unpacks the record at `at`; `None` (after counting the rest of the chunk as
    /// unserializable) when the bytes are not one, which would be a bug of the packer.
    fn unpack(&mut self) -> Option<Queued<PendingRecord>> {
        let chunk = &mut self.reading;
        let mut input = chunk.data.get(self.at..).unwrap_or_default();
        let record = (|| {
            let (&tag, rest) = input.split_first()?;
            input = rest;
            let sample_rate = if tag & FULL_RATE != 0 {
                100.0
            } else {
                self.arena.sample_rate
            };
            let item = if tag & OTHER != 0 {
                let index = usize::try_from(pack::get_varint(&mut input)?).ok()?;
                chunk.others.get_mut(index)?.take()?
            } else {
                let index = usize::try_from(pack::get_varint(&mut input)?).ok()?;
                let context = Arc::clone(chunk.contexts.get(index)?);
                let time = pack::get_time(&mut input)?;
                let tool = pack::unpack_tool(&mut input, &chunk.statics)?;
                PendingRecord::from_parts(time, Box::new(Event::ToolExecuted(tool)), context)
            };
            Some(Queued {
                item,
                sample_rate,
                bytes: 0,
            })
        })();
        match record {
            Some(record) => {
                self.at = chunk.data.len() - input.len();
                self.left -= 1;
                Some(record)
            }
            None => {
                self.drop_rest("queued records could not be read back and were dropped");
                None
            }
        }
    }
}

impl Source<PendingRecord> for ArenaSource {
    async fn recv(&mut self) -> Option<Queued<PendingRecord>> {
        loop {
            if let Some(record) = self.try_recv() {
                return Some(record);
            }
            if self.arena.closed.load(Relaxed) {
                return None;
            }
            self.arena.wake.notified().await;
        }
    }

    fn try_recv(&mut self) -> Option<Queued<PendingRecord>> {
        loop {
            if self.left > 0 {
                if let Some(record) = self.unpack() {
                    return Some(record);
                }
            }
            if !self.next_chunk() {
                return None;
            }
        }
    }

    fn len(&self) -> usize {
        self.left + self.arena.lock().items
    }

    fn close(&mut self) {
        // Under the lock: a sender that holds it either queued its record before, or sees
        // the flag after.
        let _state = self.arena.lock();
        self.arena.closed.store(true, Relaxed);
    }

    fn discard(&mut self) -> usize {
        let mut state = self.arena.lock();
        let dropped = self.left + state.items;
        self.left = 0;
        self.reading.clear();
        state.sealed.clear();
        state.open.clear();
        state.bytes = state.open.footprint();
        state.items = 0;
        self.arena.full.store(false, Relaxed);
        dropped
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::context::SharedContext;
    use crate::event::{SystemStarted, ToolExecuted};
    use crate::export::sampling::Sampler;

    fn queue(max_items: usize, max_bytes: usize, rate: f64) -> (ArenaSender, ArenaSource) {
        let counters = Arc::new(Counters::default());
        let admission = Admission::new(Arc::clone(&counters), Sampler::new(rate));
        channel(max_items, max_bytes, admission, counters)
    }

    fn call(i: u64, success: bool) -> ToolExecuted {
        ToolExecuted {
            tool_name: "azsdk_tool".into(),
            tool_category: "testing".into(),
            duration: Duration::from_micros(i),
            success,
            tool_args: Some(format!(r#"{{"i":{i}}}"#)),
            ..ToolExecuted::default()
        }
    }

    fn stats(source: &ArenaSource) -> crate::export::ExportStats {
        source.counters.snapshot()
    }

    #[test]
    fn records_come_out_in_order_with_their_event_context_and_time() {
        let (sender, mut source) = queue(10_000, 1 << 20, 100.0);
        let first = SharedContext::new(ContextSnapshot::default());
        let second = SharedContext::new(ContextSnapshot {
            app_name: "other".into(),
            ..ContextSnapshot::default()
        });
        let mut expected = Vec::new();
        let mut received = Vec::new();
        for i in 0..5_000u64 {
            let context = if i % 700 < 350 { &first } else { &second };
            let event: Event = if i % 500 == 7 {
                SystemStarted::default().into()
            } else {
                call(i, i % 3 != 0).into()
            };
            let (time, boxed, snapshot) = PendingRecord::new(event, context).into_parts();
            expected.push(((*boxed).clone(), Arc::clone(&snapshot), time));
            sender.send(PendingRecord::from_parts(time, boxed, snapshot));
            if i % 301 == 0 {
                // The worker takes records while senders go on (the open chunk too).
                received.extend(std::iter::from_fn(|| source.try_recv()).take(200));
            }
        }
        assert_eq!(source.len(), 5_000 - received.len());
        received.extend(std::iter::from_fn(|| source.try_recv()));
        assert_eq!(received.len(), expected.len());
        for (q, (event, context, time)) in received.into_iter().zip(expected) {
            assert_eq!(q.sample_rate, 100.0);
            let record = q.item.finish();
            assert_eq!(record.event(), &event);
            assert_eq!(record.context(), &*context);
            assert_eq!(record.time(), time);
        }
        assert_eq!(source.len(), 0);
        let s = stats(&source);
        assert_eq!((s.emitted, s.dropped.total()), (5_000, 0));
    }

    #[test]
    fn a_call_sent_from_borrowed_parts_comes_out_as_its_owned_event_would() {
        let (sender, mut source) = queue(10_000, 1 << 20, 50.0);
        let context = SharedContext::new(ContextSnapshot {
            app_name: "parts".into(),
            ..ContextSnapshot::default()
        });
        let mut expected = Vec::new();
        for i in 0..200u64 {
            let mut event = call(i, i % 2 == 0);
            event.language = Some("python".into());
            event.is_custom_sdk = (i % 3 == 0).then_some(i % 6 == 0);
            // Literal names are interned, others copied: both ways.
            if i % 5 == 0 {
                event.tool_name = format!("dynamic_{i}").into();
            }
            let before = context.now();
            sender.send_tool(ToolView::of(&event), &context);
            expected.push((event, before));
        }
        let mut seen = 0;
        while let Some(q) = source.try_recv() {
            let record = q.item.finish();
            let Event::ToolExecuted(tool) = record.event() else {
                panic!("a tool call");
            };
            let (event, before) = expected
                .iter()
                .find(|(e, _)| e.duration == tool.duration)
                .expect("sent");
            assert_eq!(tool, event);
            assert_eq!(record.context().app_name, "parts");
            assert!(record.time() >= *before);
            assert_eq!(q.sample_rate, if tool.success { 50.0 } else { 100.0 });
            seen += 1;
        }
        let s = stats(&source);
        assert_eq!(s.emitted, 200);
        assert_eq!(seen as u64 + s.dropped.sampled, 200, "{s:?}");
        assert!(seen >= 100, "every failure is kept");
    }

    #[test]
    fn kept_successes_carry_the_sample_rate_and_failures_a_full_one() {
        let (sender, mut source) = queue(10_000, 1 << 20, 50.0);
        let context = SharedContext::new(ContextSnapshot::default());
        for i in 0..1_000 {
            sender.send(PendingRecord::new(call(i, i % 2 == 0).into(), &context));
        }
        let mut failures = 0;
        while let Some(q) = source.try_recv() {
            let failed = q.item.is_failure();
            failures += usize::from(failed);
            assert_eq!(q.sample_rate, if failed { 100.0 } else { 50.0 });
        }
        assert_eq!(failures, 500, "every failure is kept");
        let s = stats(&source);
        assert_eq!(s.emitted, 1_000);
        assert!(s.dropped.sampled > 100 && s.dropped.sampled < 400, "{s:?}");
    }

    #[test]
    fn the_memory_budget_refuses_and_counts_then_takes_again_once_read() {
        let (sender, mut source) = queue(1_000_000, 3 * CHUNK_BYTES, 100.0);
        let context = SharedContext::new(ContextSnapshot::default());
        let mut queued = 0u64;
        for i in 0..100_000 {
            let before = stats(&source).dropped.queue_full;
            sender.send(PendingRecord::new(call(i, true).into(), &context));
            queued += u64::from(stats(&source).dropped.queue_full == before);
        }
        let s = stats(&source);
        assert!(s.dropped.queue_full > 90_000, "{s:?}");
        assert!(!sender.has_room());
        assert!(sender.arena.lock().bytes <= 3 * CHUNK_BYTES);
        // Three chunks of ~30-byte records.
        assert!((3 * CHUNK_BYTES / 40..=3 * CHUNK_BYTES / 20).contains(&(queued as usize)));
        assert_eq!(source.len() as u64, queued);
        let read = std::iter::from_fn(|| source.try_recv()).count() as u64;
        assert_eq!(read, queued);
        assert!(sender.has_room());
        sender.send(PendingRecord::new(call(0, true).into(), &context));
        assert!(source.try_recv().is_some());
        assert_eq!(stats(&source).emitted, 100_001);
    }

    #[test]
    fn under_a_burst_waiting_chunks_are_deflated_and_read_back_in_order() {
        const BUDGET: usize = 16 * CHUNK_BYTES;
        let (sender, mut source) = queue(10_000_000, BUDGET, 100.0);
        let context = SharedContext::new(ContextSnapshot::default());
        let mut read = Vec::new();
        for i in 0..300_000 {
            sender.send(PendingRecord::new(call(i, true).into(), &context));
            if i % 5_000 == 4_999 {
                read.extend(std::iter::from_fn(|| source.try_recv()).take(1_000));
            }
            assert!(sender.arena.lock().bytes <= BUDGET + CHUNK_BYTES);
        }
        read.extend(std::iter::from_fn(|| source.try_recv()));
        let s = stats(&source);
        // Raw, the budget holds ~35k of these ~30-byte records; deflated, many times more.
        let raw_capacity = BUDGET / 30;
        assert!(read.len() > 4 * raw_capacity, "{} read, {s:?}", read.len());
        assert_eq!(read.len() as u64 + s.dropped.queue_full, 300_000, "{s:?}");
        let durations: Vec<_> = read
            .into_iter()
            .map(|q| match q.item.finish().event() {
                Event::ToolExecuted(tool) => tool.duration,
                other => panic!("{other:?}"),
            })
            .collect();
        assert!(
            durations.windows(2).all(|w| w[0] < w[1]),
            "in order, none twice"
        );
        assert_eq!(s.dropped.unserializable, 0);
    }

    #[test]
    fn a_chunk_that_does_not_deflate_stays_raw() {
        let mut state = 0x2545_F491_4F6C_DD1Du64;
        let random: Vec<u8> = (0..CHUNK_BYTES)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                (state >> 32) as u8
            })
            .collect();
        assert!(deflate(&random).is_none());
        assert!(deflate(&[b'a'; 4096]).is_some_and(|d| d.len() < 100));
    }

    #[test]
    fn a_steady_flow_reuses_its_chunks() {
        let (sender, mut source) = queue(1_000_000, 1 << 20, 100.0);
        let context = SharedContext::new(ContextSnapshot::default());
        for i in 0..50_000 {
            sender.send(PendingRecord::new(call(i, true).into(), &context));
            if i % 1_000 == 999 {
                while source.try_recv().is_some() {}
                assert!(sender.arena.lock().bytes <= 2 * CHUNK_BYTES);
            }
        }
        assert_eq!(stats(&source).dropped.total(), 0);
    }

    #[test]
    fn the_item_cap_applies_too() {
        let (sender, source) = queue(10, 1 << 20, 100.0);
        let context = SharedContext::new(ContextSnapshot::default());
        for i in 0..25 {
            sender.send(PendingRecord::new(call(i, true).into(), &context));
        }
        assert_eq!(source.len(), 10);
        assert_eq!(stats(&source).dropped.queue_full, 15);
    }

    #[test]
    fn after_close_records_are_counted_closed_and_discard_counts_what_was_left() {
        let (sender, mut source) = queue(1_000, 1 << 20, 100.0);
        let context = SharedContext::new(ContextSnapshot::default());
        for i in 0..5 {
            sender.send(PendingRecord::new(call(i, true).into(), &context));
        }
        assert!(source.try_recv().is_some());
        source.close();
        sender.send(PendingRecord::new(call(9, true).into(), &context));
        sender.count_refused(false);
        let s = stats(&source);
        assert_eq!((s.emitted, s.dropped.closed), (7, 2));
        assert_eq!(source.discard(), 4);
        assert_eq!(source.len(), 0);
        assert!(source.try_recv().is_none());
    }

    #[test]
    fn recv_waits_for_a_record_from_another_thread() {
        let (sender, mut source) = queue(1_000, 1 << 20, 100.0);
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let sending = std::thread::spawn(move || {
            let context = SharedContext::new(ContextSnapshot::default());
            for i in 0..3 {
                std::thread::sleep(Duration::from_millis(20));
                sender.send(PendingRecord::new(call(i, true).into(), &context));
            }
            sender
        });
        let got = runtime.block_on(async {
            let mut got = Vec::new();
            for _ in 0..3 {
                let q = tokio::time::timeout(Duration::from_secs(5), source.recv()).await;
                got.push(q.expect("woken").expect("a record"));
            }
            got
        });
        assert_eq!(got.len(), 3);
        drop(sending.join());
        source.close();
        assert!(
            runtime.block_on(source.recv()).is_none(),
            "closed and empty"
        );
    }
}
