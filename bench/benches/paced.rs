//! Per-call cost where users are: calls paced at a steady rate that every stack accepts
//! (1,000/s and 10,000/s), each call timed on the calling thread, p50 and p99, ours and the
//! peer stack in the same sitting, both posting to one loopback collector. Then the refused
//! path (our queue full) on its own, in a saturated loop: what a call costs when telemetry
//! drops it, which no user at these rates sees.
//!
//! Beside them, the floor of any stack that emits one `tracing` event per call and reads it
//! back in a layer: our tool-call event dispatched to a layer that visits its fields and
//! keeps nothing. A target below the floor cannot be met by tuning the stack. Then ours
//! with every record dropped on the calling thread, by a sink that keeps nothing: ours
//! minus the hand-off to the worker (the queue, and the record's memory, which the calling
//! thread writes and the worker frees). And ours with no connection string, where records
//! go to the default JSONL sink.
//!
//! ```text
//! cargo bench -p azsdk-telemetry-bench --bench paced               # 1,000/s and 10,000/s, 3 sittings
//! cargo bench -p azsdk-telemetry-bench --bench paced -- 5000 4     # one rate, 4 sittings
//! ```
//!
//! In a sitting the five stacks are installed side by side and take turns in blocks of
//! 0.1 s of calls at the rate (the order rotating from block to block), so they share the
//! host's state: on this shared 2-vCPU machine a call's absolute time moves 2-6x between
//! minutes, and turns keep that drift out of the ratios. Each stack gets 0.5 s of warm-up
//! whose calls are not counted, then 3 s of timed calls, as the thread's default
//! subscriber for its block. Pacing sleeps until each call is due; a call is timed from
//! just before it starts to just after it returns.

use std::hint::black_box;
use std::time::{Duration, Instant};

use azsdk_telemetry::ToolExecuted;
use azsdk_telemetry_bench::tools::{self, GenerateArgs};
use azsdk_telemetry_bench::{ours, Collector};
use tracing::field::{Field, Visit};
use tracing_subscriber::layer::{Context, Layer};
use tracing_subscriber::prelude::*;

#[path = "common/peer.rs"]
mod peer;

/// Blocks of each stack's turn: 0.1 s of calls; 5 blocks of warm-up, 30 timed.
const BLOCKS_PER_SECOND: u64 = 10;
const WARM_BLOCKS: u64 = 5;
const TIMED_BLOCKS: u64 = 30;

/// A stack under test: where its calls are dispatched, the call, and its timed calls.
struct Stack<'a> {
    dispatch: tracing::Dispatch,
    call: Box<dyn FnMut() + 'a>,
    times: Vec<u64>,
}

impl<'a> Stack<'a> {
    fn new(dispatch: tracing::Dispatch, call: impl FnMut() + 'a) -> Self {
        Stack {
            dispatch,
            call: Box::new(call),
            times: Vec::new(),
        }
    }

    fn figures(&mut self) -> Figures {
        self.times.sort_unstable();
        figures(&self.times)
    }
}

/// One sitting at `per_second`: the stacks take turns, a block of calls each, until each
/// has its warm-up and its timed blocks. Times are nanoseconds.
fn sitting(per_second: u64, stacks: &mut [Stack<'_>]) {
    let interval = Duration::from_secs_f64(1.0 / per_second as f64);
    let block = (per_second / BLOCKS_PER_SECOND).max(1);
    let mut due = Instant::now();
    for round in 0..WARM_BLOCKS + TIMED_BLOCKS {
        let first = round as usize % stacks.len();
        for turn in 0..stacks.len() {
            let stack = &mut stacks[(first + turn) % stacks.len()];
            let timed = round >= WARM_BLOCKS;
            let Stack {
                dispatch,
                call,
                times,
            } = stack;
            tracing::dispatcher::with_default(dispatch, || {
                for _ in 0..block {
                    due += interval;
                    let now = Instant::now();
                    if due > now {
                        std::thread::sleep(due - now);
                    }
                    let before = Instant::now();
                    call();
                    let took = before.elapsed();
                    if timed {
                        times.push(took.as_nanos() as u64);
                    }
                }
            });
        }
    }
}

fn percentile(sorted: &[u64], p: f64) -> u64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted.get(i).copied().unwrap_or(0)
}

struct Figures {
    p50: u64,
    p99: u64,
}

fn figures(times: &[u64]) -> Figures {
    Figures {
        p50: percentile(times, 0.50),
        p99: percentile(times, 0.99),
    }
}

/// A sink that drops each record where it gets it, on the calling thread.
struct Discard;

impl azsdk_telemetry::Sink for Discard {
    fn accept(&self, record: azsdk_telemetry::PendingRecord) {
        drop(black_box(record));
    }
}

/// Visits every field of an event and keeps nothing.
struct VisitOnly;

impl Visit for VisitOnly {
    fn record_str(&mut self, _: &Field, value: &str) {
        black_box(value);
    }
    fn record_debug(&mut self, _: &Field, value: &dyn std::fmt::Debug) {
        black_box(value);
    }
}

impl<S: tracing::Subscriber> Layer<S> for VisitOnly {
    fn on_event(&self, event: &tracing::Event<'_>, _: Context<'_, S>) {
        event.record(&mut VisitOnly);
    }
}

/// The floor: the tool call's event (as ours emits it for `args`), to be dispatched to
/// [`VisitOnly`], filtered to the framework's target like our layer.
fn floor(args: &GenerateArgs) -> (tracing::Dispatch, ToolExecuted) {
    let event = ToolExecuted {
        tool_name: "azsdk_generate_sdk".into(),
        tool_category: "generating".into(),
        success: true,
        tool_args: Some(format!(
            r#"{{"service":"{}","language":"{}","apiVersion":"{}"}}"#,
            args.service,
            args.language,
            args.api_version.as_deref().unwrap_or_default()
        )),
        language: Some(args.language.clone()),
        service_name: Some(args.service.clone()),
        ..ToolExecuted::default()
    };
    let own = tracing_subscriber::filter::filter_fn(|m| m.target() == azsdk_telemetry::TARGET);
    let subscriber = tracing_subscriber::registry().with(VisitOnly.with_filter(own));
    (tracing::Dispatch::new(subscriber), event)
}

/// Our refused path: a queue that holds one record and an endpoint slow to answer, so
/// nearly every call in a tight loop finds the queue full.
fn ours_refused(cs: &str, args: &GenerateArgs) -> Figures {
    let (dispatch, handle) = ours::dispatch(cs, "refused", |c| c.with_queue_capacity(1));
    let mut times = Vec::with_capacity(200_000);
    tracing::dispatcher::with_default(&dispatch, || {
        for _ in 0..200_000 {
            let before = Instant::now();
            let _ = black_box(tools::ours(black_box(args)));
            times.push(before.elapsed().as_nanos() as u64);
        }
    });
    let stats = handle.export_stats().unwrap_or_default();
    eprintln!(
        "refused path: {} of {} calls refused (queue full)",
        stats.dropped.queue_full, stats.emitted
    );
    times.sort_unstable();
    figures(&times)
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let rates: Vec<u64> = match args.first().and_then(|r| r.parse().ok()) {
        Some(rate) => vec![rate],
        None => vec![1_000, 10_000],
    };
    let sittings: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(3);
    let mut collector = Collector::spawn(env!("CARGO_BIN_EXE_bench-collector"));
    let cs = collector.connection_string().to_owned();
    let call = GenerateArgs::typical();
    println!(
        "| rate | sitting | ours p50 | peer p50 | p50 ratio | ours p99 | peer p99 | p99 ratio | floor p50 / p99 | floor / peer p50, p99 | ours, no hand-off p50 / p99 | hand-off / peer p50 | ours, JSONL sink p50 / p99 |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    for &rate in &rates {
        for sitting_number in 1..=sittings {
            let (ours_dispatch, ours_handle) = ours::dispatch(&cs, "paced", |c| c);
            let (peer_dispatch, provider) = peer::dispatch(&cs, None);
            let (floor_dispatch, event) = floor(&call);
            let (discard_dispatch, _discard_handle) = ours::dispatch_sink("paced-discard", Discard);
            let (jsonl_dispatch, jsonl_handle) = ours::dispatch_jsonl("paced-jsonl");
            let mut stacks = [
                Stack::new(ours_dispatch, || {
                    let _ = black_box(tools::ours(black_box(&call)));
                }),
                Stack::new(peer_dispatch, || {
                    let _ = black_box(tools::instrumented(black_box(&call)));
                }),
                Stack::new(floor_dispatch, || black_box(&event).emit()),
                Stack::new(discard_dispatch, || {
                    let _ = black_box(tools::ours(black_box(&call)));
                }),
                Stack::new(jsonl_dispatch, || {
                    let _ = black_box(tools::ours(black_box(&call)));
                }),
            ];
            sitting(rate, &mut stacks);
            ours_handle.flush(Duration::from_secs(10));
            let stats = ours_handle.export_stats().unwrap_or_default();
            assert_eq!(
                stats.dropped.total(),
                0,
                "ours dropped at {rate}/s: the run is not on the accepted path: {stats:?}"
            );
            jsonl_handle.flush(Duration::from_secs(10));
            let dropped = jsonl_handle.stats().sink.dropped;
            assert_eq!(dropped, 0, "the JSONL sink dropped at {rate}/s");
            let _ = provider.force_flush();
            let _ = provider.shutdown();
            let [ours, peer, floor, discard, jsonl] = stacks.each_mut().map(Stack::figures);
            let ratio = |a: u64, b: u64| a as f64 / b.max(1) as f64;
            let us = |ns: u64| ns as f64 / 1e3;
            println!(
                "| {rate}/s | {sitting_number} | {:.2} µs | {:.2} µs | {:.2}× | {:.2} µs | {:.2} µs | {:.2}× | {:.2} / {:.2} µs | {:.2}×, {:.2}× | {:.2} / {:.2} µs | {:.2}× | {:.2} / {:.2} µs |",
                us(ours.p50),
                us(peer.p50),
                ratio(ours.p50, peer.p50),
                us(ours.p99),
                us(peer.p99),
                ratio(ours.p99, peer.p99),
                us(floor.p50),
                us(floor.p99),
                ratio(floor.p50, peer.p50),
                ratio(floor.p99, peer.p99),
                us(discard.p50),
                us(discard.p99),
                ratio(ours.p50.saturating_sub(discard.p50), peer.p50),
                us(jsonl.p50),
                us(jsonl.p99),
            );
        }
    }
    let refused = ours_refused(&cs, &call);
    println!(
        "refused path (ours, queue full, saturated loop): p50 {:.2} µs, p99 {:.2} µs",
        refused.p50 as f64 / 1e3,
        refused.p99 as f64 / 1e3
    );
    eprintln!("collector accepted {} envelopes", collector.accepted());
}
