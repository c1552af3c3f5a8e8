//! End-to-end delivery to the loopback collector (a child process): bursts, paced rates,
//! emitting threads, and peak RSS. Not a criterion bench: each scenario is one run.
//!
//! ```text
//! cargo bench -p azsdk-telemetry-bench --bench throughput -- burst ours|peer|peer-1m [CALLS] [THREADS]
//! cargo bench -p azsdk-telemetry-bench --bench throughput -- rate ours|peer PER_SECOND [SECONDS]
//! cargo bench -p azsdk-telemetry-bench --bench throughput -- search ours|peer [SECONDS]
//! ```
//!
//! `peer-1m` is the peer with a batch processor queue of 1M spans. Each scenario prints one
//! line of `key=value` pairs, including this process's peak RSS (`VmHWM`) and the
//! collector's, so a run under `/usr/bin/time -v` can be checked against it.

use std::process::Command;
use std::time::{Duration, Instant};

use azsdk_telemetry_bench::tools::{self, GenerateArgs};
use azsdk_telemetry_bench::{ours, peak_rss_kib, Collector};

#[path = "common/peer.rs"]
mod peer;

#[derive(Clone, Copy, PartialEq)]
enum Stack {
    Ours,
    Peer,
    Peer1M,
}

impl Stack {
    fn parse(name: &str) -> Stack {
        match name {
            "ours" => Stack::Ours,
            "peer" => Stack::Peer,
            "peer-1m" => Stack::Peer1M,
            other => panic!("unknown stack {other:?}: ours, peer or peer-1m"),
        }
    }

    fn name(self) -> &'static str {
        match self {
            Stack::Ours => "ours",
            Stack::Peer => "peer",
            Stack::Peer1M => "peer-1m",
        }
    }

    fn call(self, args: &GenerateArgs) {
        let _ = match self {
            Stack::Ours => tools::ours(args),
            Stack::Peer | Stack::Peer1M => tools::instrumented(args),
        };
    }
}

/// A stack installed as the global default, and how to drain it (one per process).
#[allow(clippy::large_enum_variant)]
enum Installed {
    Ours(azsdk_telemetry::TelemetryHandle),
    Peer(opentelemetry_sdk::trace::SdkTracerProvider),
}

fn install(stack: Stack, cs: &str) -> Installed {
    let (dispatch, installed) = match stack {
        Stack::Ours => {
            let (dispatch, handle) = ours::dispatch(cs, "throughput", |c| c);
            (dispatch, Installed::Ours(handle))
        }
        Stack::Peer => {
            let (dispatch, provider) = peer::dispatch(cs, None);
            (dispatch, Installed::Peer(provider))
        }
        Stack::Peer1M => {
            let (dispatch, provider) = peer::dispatch(cs, Some(1_000_000));
            (dispatch, Installed::Peer(provider))
        }
    };
    tracing::dispatcher::set_global_default(dispatch).expect("first subscriber");
    installed
}

/// What the stack itself says it delivered, spooled and dropped (ours counts each; the
/// peer's processor only logs its drops, so they are derived from the collector's count).
struct Accounting {
    /// CPU seconds of our export worker thread, read before it stops.
    worker_cpu_secs: Option<f64>,
    sent: u64,
    spooled: u64,
    counted_drops: Option<u64>,
}

fn drain(installed: Installed) -> Accounting {
    match installed {
        Installed::Ours(handle) => {
            handle.flush(Duration::from_secs(300));
            let stats = handle.export_stats().unwrap_or_default();
            Accounting {
                worker_cpu_secs: thread_cpu_secs("azsdk-telemetry"),
                sent: stats.sent,
                spooled: stats.spooled,
                counted_drops: Some(stats.dropped.total()),
            }
        }
        Installed::Peer(provider) => {
            let _ = provider.force_flush();
            let _ = provider.shutdown();
            Accounting {
                worker_cpu_secs: None,
                sent: 0,
                spooled: 0,
                counted_drops: None,
            }
        }
    }
}

struct Outcome {
    worker_cpu_secs: Option<f64>,
    emitted: u64,
    emit_secs: f64,
    delivered: u64,
    spooled: u64,
    dropped: u64,
    counted_drops: Option<u64>,
    e2e_secs: f64,
}

fn finish(
    collector: &mut Collector,
    installed: Installed,
    emitted: u64,
    start: Instant,
    emit_secs: f64,
) -> Outcome {
    let accounting = drain(installed);
    let (delivered, last) = collector.settle(Duration::from_millis(1500), Duration::from_secs(300));
    let e2e_secs = last.saturating_duration_since(start).as_secs_f64();
    if accounting.sent > 0 && accounting.sent != delivered {
        eprintln!(
            "note: the exporter counted {} sent, the collector {delivered}",
            accounting.sent
        );
    }
    Outcome {
        worker_cpu_secs: accounting.worker_cpu_secs,
        emitted,
        emit_secs,
        delivered,
        spooled: accounting.spooled,
        dropped: emitted.saturating_sub(delivered + accounting.spooled),
        counted_drops: accounting.counted_drops,
        e2e_secs,
    }
}

fn report(scenario: &str, stack: Stack, extra: &str, o: &Outcome, collector: &mut Collector) {
    let counted = o
        .counted_drops
        .map_or_else(|| "n/a".to_owned(), |n| n.to_string());
    println!(
        "{scenario} stack={} {extra} emitted={} emit_s={:.3} ns_per_call={:.0} delivered={} spooled={} \
         dropped={} counted_drops={counted} delivered_or_spooled_pct={:.1} e2e_s={:.3} \
         delivered_per_s={:.0} peak_rss_mib={:.1} collector_peak_rss_mib={:.1} \
         collector_validated={} collector_refused={} worker_cpu_us_per_event={}",
        stack.name(),
        o.emitted,
        o.emit_secs,
        o.emit_secs * 1e9 / o.emitted.max(1) as f64,
        o.delivered,
        o.spooled,
        o.dropped,
        100.0 * (o.delivered + o.spooled) as f64 / o.emitted.max(1) as f64,
        o.e2e_secs,
        o.delivered as f64 / o.e2e_secs.max(1e-9),
        peak_rss_kib() as f64 / 1024.0,
        collector.peak_rss_kib() as f64 / 1024.0,
        collector.validated(),
        collector.refused(),
        o.worker_cpu_secs.map_or_else(
            || "n/a".to_owned(),
            |secs| format!("{:.2}", secs * 1e6 / o.delivered.max(1) as f64)
        ),
    );
}

/// CPU seconds (user + system) of this process's threads whose name starts with `prefix`,
/// from `/proc` (Linux; `None` elsewhere or when none is found).
fn thread_cpu_secs(prefix: &str) -> Option<f64> {
    let ticks_per_s = 100.0; // USER_HZ on Linux
    let mut total = None;
    for task in std::fs::read_dir("/proc/self/task").ok()?.flatten() {
        let comm = std::fs::read_to_string(task.path().join("comm")).unwrap_or_default();
        if !comm.starts_with(prefix) {
            continue;
        }
        let stat = std::fs::read_to_string(task.path().join("stat")).ok()?;
        // Fields after the `(comm)`: state is the 1st, utime the 12th, stime the 13th.
        let rest = stat.rsplit_once(')')?.1;
        let fields: Vec<&str> = rest.split_whitespace().collect();
        let ticks: f64 =
            fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
        *total.get_or_insert(0.0) += ticks / ticks_per_s;
    }
    total
}

fn collector() -> Collector {
    Collector::spawn(env!("CARGO_BIN_EXE_bench-collector"))
}

/// `calls` as fast as `threads` threads can make them.
fn burst(stack: Stack, calls: u64, threads: u64) {
    let mut collector = collector();
    let installed = install(stack, collector.connection_string());
    let start = Instant::now();
    std::thread::scope(|scope| {
        for t in 0..threads {
            let n = calls / threads + u64::from(t < calls % threads);
            scope.spawn(move || {
                let args = GenerateArgs::typical();
                for _ in 0..n {
                    stack.call(&args);
                }
            });
        }
    });
    let emit_secs = start.elapsed().as_secs_f64();
    let o = finish(&mut collector, installed, calls, start, emit_secs);
    let extra = format!("threads={threads}");
    report("burst", stack, &extra, &o, &mut collector);
}

/// `per_second` calls a second for `seconds`, paced every millisecond, on one thread.
/// Returns whether the stack sustained the rate: every event delivered (none dropped, none
/// spooled), the calls never more than 0.25 s behind their schedule, and the last event
/// delivered within `max(0.25 s, 5 % of the run)` of the last call (the delivery kept at
/// least ~95 % of the pace). A
/// queue that only absorbs a deficit until the run ends does not pass: 48 MiB of ours (~127k
/// queued calls at ~395 bytes each) would hide a worker ~64k events/s too slow in a 2 s run.
fn rate(stack: Stack, per_second: u64, seconds: f64) -> bool {
    let mut collector = collector();
    let installed = install(stack, collector.connection_string());
    let args = GenerateArgs::typical();
    let total = (per_second as f64 * seconds) as u64;
    let start = Instant::now();
    let mut emitted = 0u64;
    let mut behind = Duration::ZERO;
    while emitted < total {
        let due = ((start.elapsed().as_secs_f64() * per_second as f64) as u64).min(total);
        if due > emitted {
            for _ in emitted..due {
                stack.call(&args);
            }
            emitted = due;
        } else {
            std::thread::sleep(Duration::from_micros(500));
        }
        let lag = start.elapsed().as_secs_f64() - emitted as f64 / per_second as f64;
        behind = behind.max(Duration::from_secs_f64(lag.max(0.0)));
    }
    let emit_secs = start.elapsed().as_secs_f64();
    let o = finish(&mut collector, installed, emitted, start, emit_secs);
    // The calls themselves must keep the pace too (the calling thread's own cost).
    let lag = o.e2e_secs - o.emit_secs;
    let behind = behind.as_secs_f64();
    let kept_up =
        o.dropped == 0 && o.spooled == 0 && lag <= (0.05 * seconds).max(0.25) && behind <= 0.25;
    let extra = format!(
        "target_per_s={per_second} seconds={seconds} lag_s={lag:.3} behind_s={behind:.3} kept_up={kept_up}"
    );
    report("rate", stack, &extra, &o, &mut collector);
    kept_up
}

/// The highest paced rate with zero drops: doubling, then bisection; each trial is a
/// fresh process.
fn search(stack: Stack, seconds: f64) {
    let exe = std::env::current_exe().expect("own path");
    let trial = |per_second: u64| -> bool {
        let status = Command::new(&exe)
            .args([
                "rate",
                stack.name(),
                &per_second.to_string(),
                &seconds.to_string(),
            ])
            .status()
            .expect("trial runs");
        status.success()
    };
    let (mut pass, mut fail) = (0u64, 0u64);
    let mut r = 10_000u64;
    while r <= 20_000_000 {
        if trial(r) {
            pass = r;
            r *= 2;
        } else {
            fail = r;
            break;
        }
    }
    if pass == 0 {
        let mut r = fail / 2;
        while r >= 100 {
            if trial(r) {
                pass = r;
                break;
            }
            fail = r;
            r /= 2;
        }
    }
    if fail > 0 && pass > 0 {
        for _ in 0..4 {
            let mid = (pass + fail) / 2;
            if trial(mid) {
                pass = mid;
            } else {
                fail = mid;
            }
        }
    }
    println!(
        "search stack={} highest_zero_drop_per_s={pass} first_failing_per_s={fail} seconds={seconds}",
        stack.name()
    );
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let arg = |i: usize| args.get(i).map(String::as_str);
    match arg(0) {
        Some("burst") => burst(
            Stack::parse(arg(1).unwrap_or("ours")),
            arg(2).map_or(1_000_000, |n| n.parse().expect("CALLS")),
            arg(3).map_or(1, |n| n.parse().expect("THREADS")),
        ),
        Some("rate") => {
            let ok = rate(
                Stack::parse(arg(1).unwrap_or("ours")),
                arg(2).map_or(10_000, |n| n.parse().expect("PER_SECOND")),
                arg(3).map_or(3.0, |n| n.parse().expect("SECONDS")),
            );
            std::process::exit(if ok { 0 } else { 1 });
        }
        Some("search") => search(
            Stack::parse(arg(1).unwrap_or("ours")),
            arg(2).map_or(3.0, |n| n.parse().expect("SECONDS")),
        ),
        _ => eprintln!(
            "throughput: no scenario given, nothing run. Scenarios (see BENCHMARKS.md): \
             burst ours|peer|peer-1m [CALLS] [THREADS]; rate ours|peer PER_SECOND [SECONDS]; \
             search ours|peer [SECONDS]"
        ),
    }
}
