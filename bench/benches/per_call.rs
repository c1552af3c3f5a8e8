//! Per-call cost on the calling thread: (a)-(e), and its growth with the number of fields.
//!
//! (a) a bare tool fn with a 3-field argument struct; (b) ours with telemetry off (the
//! layer installed, opted out) and with no subscriber at all; (c) ours on, the full
//! pipeline posting to the loopback collector; (d) `#[tracing::instrument(skip_all,
//! fields(...))]` with no subscriber; (e) the peer stack (tracing-opentelemetry, the
//! OpenTelemetry batch span processor and the Application Insights exporter) posting to
//! the same collector.
//!
//! (c) and (e) run in steady state: their export threads work (and their queues may fill
//! and drop, which each counts) while the calling thread is measured, as in a busy service.
//! (d) runs before any subscriber exists in the process, so it is tracing's true
//! no-subscriber cost.
//!
//! `per_call_cpu` measures (c) and (e) again by the calling thread's own CPU time
//! (`CLOCK_THREAD_CPUTIME_ID`) instead of wall time: on two cores shared with the stacks'
//! export threads, the collector and anything else running, wall time also counts the
//! time the calling thread spends descheduled, which grows with how much work the export
//! thread does (ours delivers several times more events per second than the peer's).

use std::hint::black_box;
use std::time::Duration;

use azsdk_telemetry_bench::tools::{self, Args1, Args16, Args4, GenerateArgs};
use azsdk_telemetry_bench::{ours, Collector};
use criterion::measurement::{Measurement, ValueFormatter};
use criterion::{criterion_group, criterion_main, BenchmarkGroup, Criterion, Throughput};

#[path = "common/peer.rs"]
mod peer;

fn collector() -> Collector {
    Collector::spawn(env!("CARGO_BIN_EXE_bench-collector"))
}

fn per_call(c: &mut Criterion) {
    let args = GenerateArgs::typical();
    let mut collector = collector();
    let cs = collector.connection_string().to_owned();
    let mut g = c.benchmark_group("per_call");

    g.bench_function("a_bare", |b| b.iter(|| tools::bare(black_box(&args))));
    // Before any subscriber is created: tracing's own no-subscriber cost.
    g.bench_function("d_instrument_no_subscriber", |b| {
        b.iter(|| tools::instrumented(black_box(&args)))
    });
    g.bench_function("b_ours_no_subscriber", |b| {
        b.iter(|| tools::ours(black_box(&args)))
    });
    {
        let (dispatch, _handle) = ours::dispatch_off();
        tracing::dispatcher::with_default(&dispatch, || {
            g.bench_function("b_ours_off", |b| b.iter(|| tools::ours(black_box(&args))));
        });
    }
    ours_then_peer(&mut g, &cs, "per-call", &args);
    g.finish();
    eprintln!("collector accepted {} envelopes", collector.accepted());
}

/// (c) then (e) in `g`: ours on, the full pipeline, then the peer stack, both posting to
/// `cs` (`tag` names our state directory).
fn ours_then_peer<M: Measurement>(
    g: &mut BenchmarkGroup<'_, M>,
    cs: &str,
    tag: &str,
    args: &GenerateArgs,
) {
    {
        let (dispatch, handle) = ours::dispatch(cs, tag, |c| c);
        tracing::dispatcher::with_default(&dispatch, || {
            g.bench_function("c_ours_on", |b| b.iter(|| tools::ours(black_box(args))));
        });
        handle.flush(Duration::from_secs(10));
        if let Some(stats) = handle.export_stats() {
            eprintln!("ours: {stats:?}");
        }
    }
    {
        let (dispatch, provider) = peer::dispatch(cs, None);
        tracing::dispatcher::with_default(&dispatch, || {
            g.bench_function("e_peer", |b| {
                b.iter(|| tools::instrumented(black_box(args)))
            });
        });
        let _ = provider.shutdown();
    }
}

fn fields(c: &mut Criterion) {
    let mut collector = collector();
    let cs = collector.connection_string().to_owned();
    let (a1, a4, a16) = (Args1::typical(), Args4::typical(), Args16::typical());
    let mut g = c.benchmark_group("fields");
    {
        let (dispatch, handle) = ours::dispatch(&cs, "fields", |c| c);
        tracing::dispatcher::with_default(&dispatch, || {
            g.bench_function("ours_1", |b| b.iter(|| tools::ours_1(black_box(&a1))));
            g.bench_function("ours_4", |b| b.iter(|| tools::ours_4(black_box(&a4))));
            g.bench_function("ours_16", |b| b.iter(|| tools::ours_16(black_box(&a16))));
        });
        handle.flush(Duration::from_secs(10));
    }
    {
        let (dispatch, provider) = peer::dispatch(&cs, None);
        tracing::dispatcher::with_default(&dispatch, || {
            g.bench_function("peer_1", |b| {
                b.iter(|| tools::instrumented_1(black_box(&a1)))
            });
            g.bench_function("peer_4", |b| {
                b.iter(|| tools::instrumented_4(black_box(&a4)))
            });
            g.bench_function("peer_16", |b| {
                b.iter(|| tools::instrumented_16(black_box(&a16)))
            });
        });
        let _ = provider.shutdown();
    }
    g.finish();
    eprintln!("collector accepted {} envelopes", collector.accepted());
}

/// (c) and (e) by the calling thread's CPU time.
fn per_call_cpu(c: &mut Criterion<ThreadCpu>) {
    let args = GenerateArgs::typical();
    let mut collector = collector();
    let cs = collector.connection_string().to_owned();
    let mut g = c.benchmark_group("per_call_cpu");
    ours_then_peer(&mut g, &cs, "per-call-cpu", &args);
    g.finish();
    eprintln!("collector accepted {} envelopes", collector.accepted());
}

/// CPU time consumed by the measuring thread, in nanoseconds.
struct ThreadCpu;

fn thread_cpu_nanos() -> u64 {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `now` is a valid timespec for the call to fill in.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut now) };
    assert_eq!(rc, 0, "CLOCK_THREAD_CPUTIME_ID is available");
    now.tv_sec as u64 * 1_000_000_000 + now.tv_nsec as u64
}

impl Measurement for ThreadCpu {
    type Intermediate = u64;
    type Value = u64;

    fn start(&self) -> u64 {
        thread_cpu_nanos()
    }
    fn end(&self, start: u64) -> u64 {
        thread_cpu_nanos().saturating_sub(start)
    }
    fn add(&self, a: &u64, b: &u64) -> u64 {
        a + b
    }
    fn zero(&self) -> u64 {
        0
    }
    fn to_f64(&self, value: &u64) -> f64 {
        *value as f64
    }
    fn formatter(&self) -> &dyn ValueFormatter {
        &CpuNanos
    }
}

/// Values in nanoseconds of CPU time, shown as such.
struct CpuNanos;

impl ValueFormatter for CpuNanos {
    fn scale_values(&self, _typical: f64, _values: &mut [f64]) -> &'static str {
        "ns (thread CPU)"
    }
    fn scale_throughputs(
        &self,
        _typical: f64,
        throughput: &Throughput,
        values: &mut [f64],
    ) -> &'static str {
        let mut per_second = |n: u64| {
            for value in values.iter_mut() {
                *value = n as f64 * 1e9 / *value;
            }
        };
        match *throughput {
            Throughput::Bytes(n) | Throughput::BytesDecimal(n) => {
                per_second(n);
                "B/s (thread CPU)"
            }
            Throughput::Elements(n) => {
                per_second(n);
                "elem/s (thread CPU)"
            }
        }
    }
    fn scale_for_machines(&self, _values: &mut [f64]) -> &'static str {
        "ns"
    }
}

fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .sample_size(40)
}

criterion_group! {
    name = benches;
    config = config();
    targets = per_call, fields
}
criterion_group! {
    name = cpu;
    config = config().with_measurement(ThreadCpu);
    targets = per_call_cpu
}
criterion_main!(benches, cpu);
