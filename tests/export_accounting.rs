//! Every emitted event is accounted for, under load, against a faulty server.

mod common;

use std::time::{Duration, Instant};

use azsdk_telemetry::export::Exporter;
use azsdk_telemetry_testkit::server::Fault;
use azsdk_telemetry_testkit::{IngestionServer, Mode};
use common::{config, id_counts, TestItem};

#[test]
fn emitted_equals_sent_plus_spooled_plus_dropped_under_load() {
    let server = IngestionServer::start();
    server.set_mode(Mode::FailEvery {
        n: 3,
        fault: Fault::Status {
            code: 503,
            retry_after: None,
        },
    });
    for fault in [
        Fault::Partial {
            failing: vec![(0, 500), (1, 400), (2, 206), (3, 429)],
        },
        Fault::DropConnection,
        Fault::Status {
            code: 400,
            retry_after: None,
        },
        Fault::InvalidBody,
        Fault::Status {
            code: 429,
            retry_after: Some("0".into()),
        },
    ] {
        server.push_fault(fault);
    }
    let dir = tempfile::tempdir().unwrap();
    let (sender, handle) = Exporter::<TestItem>::start(
        config(&server)
            .with_spool_dir(dir.path())
            .with_spool_max_bytes(200_000)
            .with_queue_capacity(20_000),
    )
    .unwrap();
    let t = Instant::now();
    let threads: Vec<_> = (0..4u64)
        .map(|t| {
            let sender = sender.clone();
            std::thread::spawn(move || {
                for i in 0..100_000u64 {
                    sender.send(TestItem {
                        id: t * 1_000_000 + i,
                        failure: i % 10 == 0,
                    });
                }
            })
        })
        .collect();
    // An outage while the queue is full: batches fail, get spooled, and are resent. It
    // starts at once (the senders may finish in a few milliseconds, the worker works
    // through the full queue long after) and lasts until something was spooled.
    server.set_mode(Mode::Down);
    let outage = Instant::now();
    while handle.stats().spooled == 0 && outage.elapsed() < Duration::from_secs(20) {
        std::thread::sleep(Duration::from_millis(5));
    }
    server.set_mode(Mode::FailEvery {
        n: 3,
        fault: Fault::Status {
            code: 503,
            retry_after: None,
        },
    });
    for th in threads {
        th.join().unwrap();
    }
    let emit_time = t.elapsed();
    let report = handle.shutdown(Duration::from_secs(10));
    assert!(report.completed);
    let s = report.stats;
    eprintln!("emitted 400k in {emit_time:?}: {s:#?}");
    assert_eq!(s.emitted, 400_000);
    assert!(
        s.sent > 0 && s.spooled > 0 && s.dropped.queue_full > 0,
        "{s:#?}"
    );
    assert_eq!(s.emitted, s.sent + s.spooled + s.dropped.total(), "{s:#?}");
    assert!(s.is_balanced());
    // Nothing the server accepted arrived twice.
    let received = server.received();
    assert!(id_counts(&received).values().all(|&n| n == 1));
    assert_eq!(received.len() as u64, s.sent + s.spool.resent);
}

fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Figures for the report: `cargo test --release --test export_accounting -- --ignored --nocapture`.
#[test]
#[ignore = "measurement, run in release"]
fn throughput_and_peak_memory() {
    // First, while the process is small: a 1M-event burst with the default queue (32 MiB).
    let server = IngestionServer::start();
    let (sender, handle) = Exporter::<TestItem>::start(config(&server)).unwrap();
    let before = peak_rss_kib();
    let t = Instant::now();
    for i in 0..1_000_000u64 {
        sender.send(TestItem::ok(i));
    }
    let burst = t.elapsed();
    let report = handle.flush(Duration::from_secs(30));
    eprintln!(
        "1M burst: send loop {burst:?} ({:.0} ns/send), peak RSS before {before:?} KiB, after {:?} KiB, stats {:?}",
        burst.as_nanos() as f64 / 1e6,
        peak_rss_kib(),
        report.stats
    );
    assert!(report.stats.is_balanced());
    drop(handle);
    drop(server);

    // Then sustained delivery: 100k events, queue large enough to hold them all.
    let server = IngestionServer::start();
    let (sender, handle) =
        Exporter::<TestItem>::start(config(&server).with_queue_capacity(200_000)).unwrap();
    let t = Instant::now();
    for i in 0..100_000u64 {
        sender.send(TestItem::ok(i));
    }
    assert!(server.wait_for(100_000, Duration::from_secs(60)));
    let secs = t.elapsed().as_secs_f64();
    eprintln!(
        "100k events delivered to loopback in {secs:.2}s = {:.0} events/s (server included)",
        100_000.0 / secs
    );
    drop(handle);
}

#[derive(azsdk_telemetry::TelemetryArgs)]
struct BurstArgs {
    #[telemetry(allow, dimension = "language")]
    language: String,
}

#[azsdk_telemetry::telemetry_tool(category = "testing", name = "azsdk_accounting_burst")]
fn burst_tool(args: BurstArgs) -> Result<usize, std::io::Error> {
    Ok(args.language.len())
}

/// Our layer over an `HttpSink` with `config`, as this thread's default subscriber.
fn layer_over_http_sink(
    config: azsdk_telemetry::export::ExportConfig,
) -> (
    tracing::subscriber::DefaultGuard,
    azsdk_telemetry::TelemetryHandle,
) {
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;

    let sink = azsdk_telemetry::export::HttpSink::start(config).expect("starts");
    let (layer, handle) = azsdk_telemetry::TelemetryLayer::builder()
        .ignore_environment()
        .first_run_notice(false)
        .sink(sink)
        .build::<tracing_subscriber::Registry>()
        .unwrap();
    (
        tracing_subscriber::registry().with(layer).set_default(),
        handle,
    )
}

/// Tool calls that find the queue full are not built, but each is still counted: the
/// exporter's `emitted` and `queue_full` see them exactly as if they had been sent.
#[test]
fn tool_calls_refused_by_a_full_queue_are_counted() {
    let server = IngestionServer::start();
    let (guard, handle) = layer_over_http_sink(config(&server).with_queue_capacity(4));
    const CALLS: u64 = 5_000;
    for i in 0..CALLS {
        let language = if i % 2 == 0 { "Go" } else { "Python" };
        burst_tool(BurstArgs {
            language: language.into(),
        })
        .unwrap();
    }
    drop(guard);
    assert!(handle.shutdown(Duration::from_secs(10)));
    let s = handle.export_stats().expect("an exporter's counters");
    // The calls, with `SystemStarted` and `SystemStopped`.
    assert_eq!(s.emitted, CALLS + 2, "{s:#?}");
    assert!(s.dropped.queue_full > 0, "{s:#?}");
    assert!(s.sent > 0, "{s:#?}");
    assert!(s.is_balanced(), "{s:#?}");
    assert_eq!(server.received().len() as u64, s.sent);
}

/// The queue is bounded by memory as well as by count: with the worker stuck on a slow
/// request and its next batch full, the queue holds what fits in `queue_max_bytes` and
/// counts the rest as `queue_full`.
#[test]
fn the_queue_holds_what_fits_its_memory_budget_and_counts_the_rest() {
    use azsdk_telemetry::export::Exportable;

    let server = IngestionServer::start();
    server.push_fault(Fault::Delay(Duration::from_millis(400)));
    // Queued items are the item plus the queue's slot; ten of them fit.
    let slot = TestItem::ok(0).queued_bytes() + std::mem::size_of::<(TestItem, f64, usize)>();
    let (sender, handle) = Exporter::<TestItem>::start(
        config(&server)
            .with_max_batch(1)
            .with_queue_capacity(1_000_000)
            .with_queue_max_bytes(10 * slot),
    )
    .unwrap();
    sender.send(TestItem::ok(0));
    // The worker takes the first item and waits on the delayed request; meanwhile it
    // writes the next batch (of one item) out of the queue.
    std::thread::sleep(Duration::from_millis(100));
    sender.send(TestItem::ok(1));
    std::thread::sleep(Duration::from_millis(100));
    const MORE: u64 = 1_000;
    for i in 2..MORE + 2 {
        sender.send(TestItem::ok(i));
    }
    let report = handle.flush(Duration::from_secs(10));
    let s = report.stats;
    assert!(report.completed, "{s:#?}");
    assert_eq!(s.emitted, MORE + 2);
    assert_eq!(s.dropped.queue_full, MORE - 10, "{s:#?}");
    assert_eq!(s.sent, 12, "{s:#?}");
    assert!(s.is_balanced(), "{s:#?}");
}

/// A shutdown with a large backlog and a slow endpoint returns by its deadline: what there
/// was no time to send or spool is counted as `unsent_at_shutdown`, and the balance holds.
#[test]
fn shutdown_returns_by_its_deadline_and_counts_the_backlog_it_could_not_send() {
    let server = IngestionServer::start();
    server.set_mode(Mode::FailEvery {
        n: 1,
        fault: Fault::Delay(Duration::from_millis(500)),
    });
    let (guard, handle) = layer_over_http_sink(config(&server));
    const CALLS: u64 = 50_000;
    for _ in 0..CALLS {
        burst_tool(BurstArgs {
            language: "Rust".into(),
        })
        .unwrap();
    }
    drop(guard);
    let t = Instant::now();
    handle.shutdown(Duration::from_millis(400));
    let took = t.elapsed();
    let s = handle.export_stats().expect("an exporter's counters");
    assert!(took < Duration::from_millis(1_500), "took {took:?}");
    assert_eq!(s.emitted, CALLS + 2, "{s:#?}");
    assert!(s.dropped.unsent_at_shutdown > 0, "{s:#?}");
    assert_eq!(
        s.dropped.queue_full, 0,
        "the queue held the whole burst: {s:#?}"
    );
    assert!(s.is_balanced(), "{s:#?}");
}
