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

use std::hint::black_box;
use std::time::Duration;

use azsdk_telemetry_bench::tools::{self, Args1, Args16, Args4, GenerateArgs};
use azsdk_telemetry_bench::{ours, Collector};
use criterion::{criterion_group, criterion_main, Criterion};

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
    {
        let (dispatch, handle) = ours::dispatch(&cs, "per-call", |c| c);
        tracing::dispatcher::with_default(&dispatch, || {
            g.bench_function("c_ours_on", |b| b.iter(|| tools::ours(black_box(&args))));
        });
        handle.flush(Duration::from_secs(10));
        if let Some(stats) = handle.export_stats() {
            eprintln!("ours: {stats:?}");
        }
    }
    {
        let (dispatch, provider) = peer::dispatch(&cs, None);
        tracing::dispatcher::with_default(&dispatch, || {
            g.bench_function("e_peer", |b| {
                b.iter(|| tools::instrumented(black_box(&args)))
            });
        });
        let _ = provider.shutdown();
    }
    g.finish();
    eprintln!("collector accepted {} envelopes", collector.accepted());
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
criterion_main!(benches);
