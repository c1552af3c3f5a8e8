//! The fault matrix: the exporter against a loopback ingestion server that misbehaves in every
//! way the issue lists, each row under a deadline.
//!
//! For every row: no panic (the row runs on its own thread and is joined), no hang (the row
//! must finish before its deadline, and `flush`/`shutdown` must return within their timeout),
//! the accounting invariant `emitted == sent + spooled + dropped` once the exporter is idle,
//! and, where the endpoint eventually accepts, every event delivered exactly once (by its
//! `testId`). The rows run concurrently; the matrix is printed with `--nocapture`.
//!
//! Faults the testkit server cannot produce (a reset in the middle of a request or response
//! body, garbage on the wire) come from [`FaultProxy`], a TCP proxy in front of it.

mod common;

use std::collections::{BTreeMap, VecDeque};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use azsdk_telemetry::{telemetry_tool, TelemetryLayer, ToolExecuted};
use azsdk_telemetry::{ExportConfig, ExportError, ExportStats};
use azsdk_telemetry_testkit::server::Fault;
use azsdk_telemetry_testkit::{IngestionServer, Mode};
use common::{config, id_counts, start, Handle, Sender, TestItem};
use tracing_subscriber::prelude::*;

/// Slack allowed past a `flush`/`shutdown` timeout (rows run concurrently on 2 cores).
const SLACK: Duration = Duration::from_millis(300);

// ---------------------------------------------------------------------------------------------
// The table.

/// What a row reports for the matrix.
#[derive(Debug, Default)]
struct Outcome {
    emitted: u64,
    delivered: usize,
    spooled: u64,
    dropped: u64,
    worst_wait: Duration,
    note: String,
}

struct Row {
    name: &'static str,
    deadline: Duration,
    run: fn() -> Outcome,
}

const ROWS: &[Row] = &[
    Row {
        name: "endpoint down all run, spool; next start delivers",
        deadline: Duration::from_secs(12),
        run: down_with_spool,
    },
    Row {
        name: "endpoint down all run, no spool",
        deadline: Duration::from_secs(8),
        run: down_without_spool,
    },
    Row {
        name: "nothing listening (connection refused)",
        deadline: Duration::from_secs(8),
        run: connection_refused,
    },
    Row {
        name: "flapping: every 2nd request dropped",
        deadline: Duration::from_secs(12),
        run: flapping_drops,
    },
    Row {
        name: "flapping: every 3rd request 503",
        deadline: Duration::from_secs(12),
        run: flapping_503,
    },
    Row {
        name: "500 storm, Retry-After: 1",
        deadline: Duration::from_secs(15),
        run: storm_500_retry_after,
    },
    Row {
        name: "503 storm, Retry-After as HTTP date",
        deadline: Duration::from_secs(15),
        run: storm_503_http_date,
    },
    Row {
        name: "429 throttling, Retry-After: 0",
        deadline: Duration::from_secs(12),
        run: throttling_429,
    },
    Row {
        name: "429 with Retry-After: 3600 (pause honoured)",
        deadline: Duration::from_secs(8),
        run: throttling_429_long,
    },
    Row {
        name: "206 with varied failing indexes",
        deadline: Duration::from_secs(12),
        run: partial_varied,
    },
    Row {
        name: "responses slower than the request timeout",
        deadline: Duration::from_secs(12),
        run: slower_than_timeout,
    },
    Row {
        name: "flush deadline shorter than a hung request",
        deadline: Duration::from_secs(8),
        run: hung_request_flush_deadline,
    },
    Row {
        name: "TCP accepted, never answered (blackhole)",
        deadline: Duration::from_secs(8),
        run: blackhole,
    },
    Row {
        name: "connection reset mid-request-body",
        deadline: Duration::from_secs(12),
        run: reset_mid_request,
    },
    Row {
        name: "connection closed mid-response-body (after 200)",
        deadline: Duration::from_secs(12),
        run: truncated_response,
    },
    Row {
        name: "connection reset before the status line (after acceptance)",
        deadline: Duration::from_secs(12),
        run: reset_before_status,
    },
    Row {
        name: "invalid response bodies",
        deadline: Duration::from_secs(12),
        run: invalid_bodies,
    },
    Row {
        name: "redirect loop to itself",
        deadline: Duration::from_secs(12),
        run: redirect_self_loop,
    },
    Row {
        name: "redirect ping-pong between two hosts",
        deadline: Duration::from_secs(12),
        run: redirect_ping_pong,
    },
    Row {
        name: "redirect to a foreign host",
        deadline: Duration::from_secs(12),
        run: redirect_foreign,
    },
    Row {
        name: "process killed mid-batch (SIGKILL x3)",
        deadline: Duration::from_secs(20),
        run: killed_mid_batch,
    },
    Row {
        name: "full disk: spool at its size cap",
        deadline: Duration::from_secs(12),
        run: spool_full,
    },
    Row {
        name: "read-only spool directory",
        deadline: Duration::from_secs(10),
        run: spool_read_only,
    },
    Row {
        name: "spool path is not a directory",
        deadline: Duration::from_secs(8),
        run: spool_not_a_dir,
    },
    Row {
        name: "corrupt spool files",
        deadline: Duration::from_secs(12),
        run: corrupt_spool,
    },
    Row {
        name: "pipeline: #[telemetry_tool] calls, flapping 503",
        deadline: Duration::from_secs(12),
        run: pipeline_flapping,
    },
    Row {
        name: "pipeline: ToolExecuted::emit while down, next start delivers",
        deadline: Duration::from_secs(12),
        run: pipeline_down_then_up,
    },
    Row {
        name: "pipeline: state directory unusable",
        deadline: Duration::from_secs(8),
        run: pipeline_state_dir_unusable,
    },
];

#[test]
fn fault_matrix() {
    let started = Instant::now();
    let handles: Vec<_> = ROWS
        .iter()
        .map(|row| {
            let (tx, rx) = std::sync::mpsc::channel();
            let run = row.run;
            let thread = std::thread::Builder::new()
                .name(row.name.into())
                .spawn(move || {
                    let t = Instant::now();
                    let result = std::panic::catch_unwind(run);
                    let _ = tx.send((result.map_err(panic_text), t.elapsed()));
                })
                .expect("row thread");
            (row, rx, thread)
        })
        .collect();
    let mut failures = Vec::new();
    let mut table = String::from(
        "| row | emitted | delivered | spooled | dropped | worst flush/shutdown | time | outcome |\n| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |\n",
    );
    for (row, rx, thread) in handles {
        let left = (started + row.deadline).saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok((Ok(o), took)) => {
                let _ = thread.join();
                table.push_str(&format!(
                    "| {} | {} | {} | {} | {} | {} ms | {:.1} s | {} |\n",
                    row.name,
                    o.emitted,
                    o.delivered,
                    o.spooled,
                    o.dropped,
                    o.worst_wait.as_millis(),
                    took.as_secs_f64(),
                    o.note
                ));
            }
            Ok((Err(panic), _)) => {
                let _ = thread.join();
                failures.push(format!("{}: {panic}", row.name));
            }
            Err(_) => failures.push(format!(
                "{}: still running after its {:?} deadline (hang)",
                row.name, row.deadline
            )),
        }
    }
    println!("{table}");
    println!(
        "fault matrix: {} rows in {:.1} s",
        ROWS.len(),
        started.elapsed().as_secs_f64()
    );
    assert!(failures.is_empty(), "failed rows:\n{}", failures.join("\n"));
}

fn panic_text(p: Box<dyn std::any::Any + Send>) -> String {
    p.downcast_ref::<String>()
        .cloned()
        .or_else(|| p.downcast_ref::<&str>().map(|s| (*s).to_owned()))
        .unwrap_or_else(|| "panic".into())
}

// ---------------------------------------------------------------------------------------------
// Helpers shared by the rows.

fn send_ids(sender: &Sender, ids: std::ops::Range<u64>) {
    for id in ids {
        sender.send(TestItem::ok(id));
    }
}

/// A `flush` that must return within its timeout (plus scheduling slack).
fn timed_flush(handle: &Handle, timeout: Duration, worst: &mut Duration) -> ExportStats {
    let report = handle.flush(timeout);
    assert!(
        report.elapsed <= timeout + SLACK,
        "flush({timeout:?}) took {:?}",
        report.elapsed
    );
    *worst = (*worst).max(report.elapsed);
    report.stats
}

/// A `shutdown` that must return within its timeout and leave the counters balanced.
fn timed_shutdown(handle: Handle, timeout: Duration, worst: &mut Duration) -> ExportStats {
    let report = handle.shutdown(timeout);
    assert!(
        report.elapsed <= timeout + SLACK,
        "shutdown({timeout:?}) took {:?}",
        report.elapsed
    );
    *worst = (*worst).max(report.elapsed);
    assert!(report.completed, "shutdown completed: {:?}", report.stats);
    assert!(report.stats.is_balanced(), "balanced: {:#?}", report.stats);
    report.stats
}

fn wait_until(timeout: Duration, mut done: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if done() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    done()
}

fn spool_files(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<_> = std::fs::read_dir(dir)
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    v.retain(|p| p.to_string_lossy().ends_with(".aispool"));
    v.sort();
    v
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

/// Every id in `ids` arrived exactly once and nothing else did.
fn exactly_once(server: &IngestionServer, ids: std::ops::Range<u64>) -> usize {
    let received = server.received();
    common::assert_exactly_once(&received, ids);
    received.len()
}

/// Waits for `n` accepted envelopes, with a message naming what was seen.
fn wait_delivered(server: &IngestionServer, n: usize, timeout: Duration) {
    assert!(
        server.wait_for(n, timeout),
        "{} of {n} delivered; statuses {:?}",
        server.received_count(),
        server
            .requests()
            .iter()
            .map(|r| r.status)
            .collect::<Vec<_>>()
    );
}

fn outcome(stats: &ExportStats, delivered: usize, worst: Duration, note: &str) -> Outcome {
    Outcome {
        emitted: stats.emitted,
        delivered,
        spooled: stats.spooled,
        dropped: stats.dropped.total(),
        worst_wait: worst,
        note: note.to_owned(),
    }
}

/// Fast test settings with a spool directory that retries every 50 ms.
fn spool_config(server: &IngestionServer, dir: &Path) -> ExportConfig {
    config(server).with_max_batch(20).with_spool_dir(dir)
}

/// A row where the endpoint ends up accepting: everything sent (live or from the spool)
/// arrives exactly once; returns the outcome.
fn eventually_exactly_once(
    server: &IngestionServer,
    sender: Sender,
    handle: Handle,
    n: u64,
    note: &str,
) -> Outcome {
    let mut worst = Duration::ZERO;
    wait_delivered(server, n as usize, Duration::from_secs(8));
    let delivered = exactly_once(server, 0..n);
    let stats = timed_shutdown(handle, Duration::from_secs(2), &mut worst);
    assert_eq!(stats.emitted, n);
    assert_eq!(
        stats.sent + stats.spool.resent,
        n,
        "each event counted once as delivered: {stats:#?}"
    );
    assert_eq!(stats.dropped.total(), 0, "{stats:#?}");
    drop(sender);
    outcome(&stats, delivered, worst, note)
}

// ---------------------------------------------------------------------------------------------
// A TCP proxy for faults on the wire.

/// What one connection through the proxy gets; connections beyond the script pass through.
#[derive(Debug, Clone)]
enum WireFault {
    /// Read the request head and half its body, then close with the rest unread (RST).
    ResetMidRequest,
    /// Forward to the server, then send the answer's head and half its body and close.
    ForwardThenTruncate,
    /// Forward to the server (which accepts), then close without answering.
    ForwardThenReset,
    /// Read the request, answer these bytes verbatim, close. Never forwarded.
    Answer(Vec<u8>),
}

struct FaultProxy {
    port: u16,
    script: Arc<Mutex<VecDeque<WireFault>>>,
    stop: Arc<AtomicBool>,
}

impl FaultProxy {
    fn start(upstream: &IngestionServer, script: Vec<WireFault>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let upstream = upstream.endpoint().trim_start_matches("http://").to_owned();
        let script = Arc::new(Mutex::new(VecDeque::from(script)));
        let stop = Arc::new(AtomicBool::new(false));
        let (s, st) = (Arc::clone(&script), Arc::clone(&stop));
        std::thread::spawn(move || {
            for client in listener.incoming() {
                if st.load(Ordering::SeqCst) {
                    return;
                }
                let Ok(client) = client else { continue };
                let fault = s.lock().unwrap().pop_front();
                let upstream = upstream.clone();
                std::thread::spawn(move || {
                    let _ = serve_connection(client, &upstream, fault);
                });
            }
        });
        Self { port, script, stop }
    }

    fn connection_string(&self) -> String {
        loopback_cs(self.port)
    }

    fn config(&self) -> ExportConfig {
        common::config_for(&self.connection_string())
    }

    fn script_left(&self) -> usize {
        self.script.lock().unwrap().len()
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

/// A whole-batch status without `Retry-After`.
fn status(code: u16) -> Fault {
    Fault::Status {
        code,
        retry_after: None,
    }
}

fn loopback_cs(port: u16) -> String {
    format!(
        "InstrumentationKey={};IngestionEndpoint=http://127.0.0.1:{port}/",
        azsdk_telemetry_testkit::TEST_INSTRUMENTATION_KEY
    )
}

/// Reads one HTTP/1.1 message head; returns it and the content length.
fn read_head(r: &mut BufReader<TcpStream>) -> std::io::Result<(Vec<u8>, usize)> {
    let mut head = Vec::new();
    let mut len = 0;
    loop {
        let mut line = String::new();
        if r.read_line(&mut line)? == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
            len = v.trim().parse().unwrap_or(0);
        }
        head.extend_from_slice(line.as_bytes());
        if line == "\r\n" {
            return Ok((head, len));
        }
    }
}

fn read_message(r: &mut BufReader<TcpStream>) -> std::io::Result<(Vec<u8>, Vec<u8>)> {
    let (head, len) = read_head(r)?;
    let mut body = vec![0; len];
    r.read_exact(&mut body)?;
    Ok((head, body))
}

fn forward(upstream: &str, head: &[u8], body: &[u8]) -> std::io::Result<(Vec<u8>, Vec<u8>)> {
    let mut up = TcpStream::connect(upstream)?;
    up.write_all(head)?;
    up.write_all(body)?;
    let mut r = BufReader::new(up);
    read_message(&mut r)
}

fn serve_connection(
    client: TcpStream,
    upstream: &str,
    fault: Option<WireFault>,
) -> std::io::Result<()> {
    let Some(fault) = fault else {
        // Pass through, both directions, until either side closes.
        let up = TcpStream::connect(upstream)?;
        let (mut c2, mut u2) = (client.try_clone()?, up.try_clone()?);
        let t = std::thread::spawn(move || {
            let _ = std::io::copy(&mut u2, &mut c2);
            let _ = c2.shutdown(Shutdown::Write);
        });
        let (mut c, mut u) = (client, up);
        let _ = std::io::copy(&mut c, &mut u);
        let _ = u.shutdown(Shutdown::Write);
        let _ = t.join();
        return Ok(());
    };
    let mut writer = client.try_clone()?;
    let mut r = BufReader::new(client);
    match fault {
        WireFault::ResetMidRequest => {
            let (_, len) = read_head(&mut r)?;
            let mut half = vec![0; len / 2];
            r.read_exact(&mut half)?;
            // Dropping with unread data makes the kernel send RST.
        }
        WireFault::ForwardThenTruncate => {
            let (head, body) = read_message(&mut r)?;
            let (rhead, rbody) = forward(upstream, &head, &body)?;
            writer.write_all(&rhead)?;
            writer.write_all(&rbody[..rbody.len() / 2])?;
            writer.flush()?;
        }
        WireFault::ForwardThenReset => {
            let (head, body) = read_message(&mut r)?;
            forward(upstream, &head, &body)?;
        }
        WireFault::Answer(bytes) => {
            read_message(&mut r)?;
            writer.write_all(&bytes)?;
            writer.flush()?;
        }
    }
    let _ = writer.shutdown(Shutdown::Both);
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Rows: the endpoint is unavailable.

fn down_with_spool() -> Outcome {
    let server = IngestionServer::start();
    server.set_mode(Mode::Down);
    let dir = tempfile::tempdir().unwrap();
    let mut worst = Duration::ZERO;
    let (sender, handle) = start(spool_config(&server, dir.path()));
    send_ids(&sender, 0..200);
    let flushed = timed_flush(&handle, Duration::from_secs(2), &mut worst);
    assert!(flushed.is_balanced(), "{flushed:#?}");
    let stats = timed_shutdown(handle, Duration::from_secs(2), &mut worst);
    assert_eq!((stats.spooled, stats.sent), (200, 0), "{stats:#?}");
    assert_eq!(server.received_count(), 0);
    // The next process delivers what was spooled, exactly once.
    let delivered = next_start_delivers(dir.path(), 200);
    outcome(
        &stats,
        delivered,
        worst,
        "all spooled; next start delivered each once",
    )
}

fn down_without_spool() -> Outcome {
    let server = IngestionServer::start();
    server.set_mode(Mode::Down);
    let mut worst = Duration::ZERO;
    let (sender, handle) = start(config(&server).with_max_batch(20));
    send_ids(&sender, 0..200);
    timed_flush(&handle, Duration::from_secs(2), &mut worst);
    let stats = timed_shutdown(handle, Duration::from_secs(2), &mut worst);
    assert_eq!(stats.dropped.retries_exhausted, 200, "{stats:#?}");
    sender.send(TestItem::ok(999)); // after shutdown: counted, never blocks
    outcome(&stats, 0, worst, "dropped as retries_exhausted, counted")
}

fn connection_refused() -> Outcome {
    let port = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let dir = tempfile::tempdir().unwrap();
    let cfg = common::config_for(&loopback_cs(port)).with_spool_dir(dir.path());
    let mut worst = Duration::ZERO;
    let (sender, handle) = start(cfg);
    send_ids(&sender, 0..50);
    let stats = timed_shutdown(handle, Duration::from_secs(2), &mut worst);
    assert_eq!(stats.spooled, 50, "{stats:#?}");
    let delivered = next_start_delivers(dir.path(), 50);
    outcome(
        &stats,
        delivered,
        worst,
        "spooled; the next start delivered each once",
    )
}

/// A later process on a healthy endpoint, with the spool in `dir`, delivers ids `0..n`
/// each once and empties the spool: how many arrived.
fn next_start_delivers(dir: &Path, n: u64) -> usize {
    let server = IngestionServer::start();
    let (_sender, handle) = start(spool_config(&server, dir));
    wait_delivered(&server, n as usize, Duration::from_secs(5));
    let delivered = exactly_once(&server, 0..n);
    assert!(wait_until(Duration::from_secs(2), || spool_files(dir).is_empty()));
    let mut worst = Duration::ZERO;
    let next = timed_shutdown(handle, Duration::from_secs(2), &mut worst);
    assert_eq!(next.spool.resent, n, "{next:#?}");
    delivered
}

fn flapping_drops() -> Outcome {
    let server = IngestionServer::start();
    server.set_mode(Mode::FailEvery {
        n: 2,
        fault: Fault::DropConnection,
    });
    let dir = tempfile::tempdir().unwrap();
    let (sender, handle) = start(spool_config(&server, dir.path()));
    send_ids(&sender, 0..300);
    eventually_exactly_once(&server, sender, handle, 300, "each delivered once")
}

fn flapping_503() -> Outcome {
    let server = IngestionServer::start();
    server.set_mode(Mode::FailEvery {
        n: 3,
        fault: status(503),
    });
    let dir = tempfile::tempdir().unwrap();
    let (sender, handle) = start(spool_config(&server, dir.path()));
    send_ids(&sender, 0..300);
    eventually_exactly_once(&server, sender, handle, 300, "each delivered once")
}

/// After an answer with `Retry-After`, the next request waited at least `min`.
fn assert_pauses_honoured(server: &IngestionServer, code: u16, min: Duration) -> usize {
    let requests = server.requests();
    let mut pauses = 0;
    for pair in requests.windows(2) {
        if pair[0].status == code {
            let gap = pair[1].at.duration_since(pair[0].at);
            assert!(gap >= min, "request after a {code} came {gap:?} later");
            pauses += 1;
        }
    }
    pauses
}

fn storm_500_retry_after() -> Outcome {
    let server = IngestionServer::start();
    for _ in 0..3 {
        server.push_fault(Fault::Status {
            code: 500,
            retry_after: Some("1".into()),
        });
    }
    let dir = tempfile::tempdir().unwrap();
    let (sender, handle) = start(spool_config(&server, dir.path()).with_max_batch(100));
    send_ids(&sender, 0..100);
    let mut o = eventually_exactly_once(&server, sender, handle, 100, "");
    let pauses = assert_pauses_honoured(&server, 500, Duration::from_millis(950));
    o.note = format!("{pauses} pauses of >= 1 s honoured; each delivered once");
    o
}

fn storm_503_http_date() -> Outcome {
    let server = IngestionServer::start();
    let until = SystemTime::now() + Duration::from_secs(2);
    server.push_fault(Fault::Status {
        code: 503,
        retry_after: Some(httpdate::fmt_http_date(until)),
    });
    server.push_fault(Fault::Status {
        code: 503,
        retry_after: Some(httpdate::fmt_http_date(until)),
    });
    let dir = tempfile::tempdir().unwrap();
    let (sender, handle) = start(spool_config(&server, dir.path()).with_max_batch(100));
    send_ids(&sender, 0..100);
    let mut o = eventually_exactly_once(&server, sender, handle, 100, "");
    // An HTTP date has whole seconds: nothing may come before that second began.
    let date: SystemTime = httpdate::parse_http_date(&httpdate::fmt_http_date(until)).unwrap();
    let requests = server.requests();
    let after: Vec<_> = requests
        .iter()
        .skip(1)
        .filter(|r| r.status != 503)
        .collect();
    assert!(!after.is_empty());
    for r in after {
        assert!(
            r.wall + Duration::from_millis(20) >= date,
            "a request came {:?} before the Retry-After date",
            date.duration_since(r.wall).unwrap_or_default()
        );
    }
    o.note = "no request before the date; each delivered once".into();
    o
}

fn throttling_429() -> Outcome {
    let server = IngestionServer::start();
    server.set_mode(Mode::FailEvery {
        n: 1,
        fault: Fault::Status {
            code: 429,
            retry_after: Some("0".into()),
        },
    });
    let dir = tempfile::tempdir().unwrap();
    let (sender, handle) = start(spool_config(&server, dir.path()));
    send_ids(&sender, 0..200);
    std::thread::sleep(Duration::from_millis(400));
    assert_eq!(server.received_count(), 0);
    server.set_mode(Mode::Normal);
    eventually_exactly_once(
        &server,
        sender,
        handle,
        200,
        "throttled 400 ms, then each once",
    )
}

fn throttling_429_long() -> Outcome {
    let server = IngestionServer::start();
    server.push_fault(Fault::Status {
        code: 429,
        retry_after: Some("3600".into()),
    });
    let dir = tempfile::tempdir().unwrap();
    let mut worst = Duration::ZERO;
    let (sender, handle) = start(spool_config(&server, dir.path()).with_max_batch(50));
    send_ids(&sender, 0..50);
    assert!(server.wait_for_requests(1, Duration::from_secs(3)));
    send_ids(&sender, 50..100);
    let flushed = timed_flush(&handle, Duration::from_secs(1), &mut worst);
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(
        server.requests().len(),
        1,
        "nothing is sent during the pause (spool included)"
    );
    assert_eq!(flushed.spooled, 100, "{flushed:#?}");
    let stats = timed_shutdown(handle, Duration::from_secs(1), &mut worst);
    drop(sender);
    outcome(
        &stats,
        0,
        worst,
        "paused, all spooled, no request during the pause",
    )
}

fn partial_varied() -> Outcome {
    let server = IngestionServer::start();
    // Batches of 10; faults apply to requests in order (retries included).
    for failing in [
        vec![(0, 500)],
        vec![(9, 503)],
        vec![(1, 400), (2, 206), (3, 429), (4, 500), (5, 402)],
        vec![(2, 500), (2, 500), (2, 500)],
        vec![(999, 500), (7, 408)],
        (0..10).map(|i| (i, 503)).collect(),
        (0..10).map(|i| (i, 206)).collect(),
        vec![(0, 439), (1, 504)],
    ] {
        server.push_fault(Fault::Partial { failing });
    }
    let dir = tempfile::tempdir().unwrap();
    let mut worst = Duration::ZERO;
    let (sender, handle) = start(spool_config(&server, dir.path()).with_max_batch(10));
    send_ids(&sender, 0..80);
    timed_flush(&handle, Duration::from_secs(3), &mut worst);
    assert!(wait_until(Duration::from_secs(5), || spool_files(
        dir.path()
    )
    .is_empty()));
    let stats = timed_shutdown(handle, Duration::from_secs(2), &mut worst);
    let received = server.received();
    let counts = id_counts(&received);
    assert!(
        counts.values().all(|&n| n == 1),
        "no duplicates: {counts:?}"
    );
    assert_eq!(received.len() as u64, stats.sent + stats.spool.resent);
    // Every event is delivered once or counted as refused/sampled out, never lost silently.
    let lost = 80 - counts.len() as u64;
    assert_eq!(
        lost,
        stats.dropped.rejected + stats.dropped.sampled_out + stats.spool.rejected,
        "{stats:#?}"
    );
    assert!(stats.dropped.rejected > 0 && stats.dropped.sampled_out > 0);
    drop(sender);
    outcome(
        &stats,
        received.len(),
        worst,
        &format!(
            "{} refused + {} sampled out counted; rest once",
            stats.dropped.rejected, stats.dropped.sampled_out
        ),
    )
}

fn slower_than_timeout() -> Outcome {
    let server = IngestionServer::start();
    // These answers would come a minute late; the request timeout is 300 ms.
    server.push_fault(Fault::Delay(Duration::from_secs(60)));
    server.push_fault(Fault::Delay(Duration::from_secs(60)));
    let dir = tempfile::tempdir().unwrap();
    let (sender, handle) = start(
        spool_config(&server, dir.path())
            .with_max_batch(50)
            .with_request_timeout(Duration::from_millis(300)),
    );
    send_ids(&sender, 0..100);
    eventually_exactly_once(
        &server,
        sender,
        handle,
        100,
        "timed out twice, then each once",
    )
}

fn hung_request_flush_deadline() -> Outcome {
    let server = IngestionServer::start();
    server.push_fault(Fault::Delay(Duration::from_secs(3600)));
    let dir = tempfile::tempdir().unwrap();
    let mut worst = Duration::ZERO;
    let (sender, handle) =
        start(spool_config(&server, dir.path()).with_request_timeout(Duration::from_secs(60)));
    send_ids(&sender, 0..40);
    let flushed = timed_flush(&handle, Duration::from_millis(500), &mut worst);
    assert!(flushed.is_balanced(), "{flushed:#?}");
    let mut o = eventually_exactly_once(
        &server,
        sender,
        handle,
        40,
        "flush returned by its deadline; spooled copy delivered once",
    );
    o.worst_wait = o.worst_wait.max(worst);
    o
}

fn blackhole() -> Outcome {
    // Accepts connections and never reads or answers.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let held = Arc::new(Mutex::new(Vec::new()));
    let h = Arc::clone(&held);
    std::thread::spawn(move || {
        for s in listener.incoming().flatten() {
            h.lock().unwrap().push(s);
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let cfg = common::config_for(&loopback_cs(port))
        .with_request_timeout(Duration::from_millis(200))
        .with_spool_dir(dir.path());
    let mut worst = Duration::ZERO;
    let (sender, handle) = start(cfg);
    send_ids(&sender, 0..30);
    timed_flush(&handle, Duration::from_millis(800), &mut worst);
    let stats = timed_shutdown(handle, Duration::from_secs(1), &mut worst);
    assert_eq!(
        (stats.spooled, stats.dropped.total()),
        (30, 0),
        "{stats:#?}"
    );
    let delivered = next_start_delivers(dir.path(), 30);
    outcome(
        &stats,
        delivered,
        worst,
        "timed out, spooled; the next start delivered each once",
    )
}

// ---------------------------------------------------------------------------------------------
// Rows: the wire breaks.

fn proxied(
    script: Vec<WireFault>,
    n: u64,
) -> (
    IngestionServer,
    FaultProxy,
    tempfile::TempDir,
    Sender,
    Handle,
) {
    let server = IngestionServer::start();
    let proxy = FaultProxy::start(&server, script);
    let dir = tempfile::tempdir().unwrap();
    let (sender, handle) = start(proxy.config().with_max_batch(25).with_spool_dir(dir.path()));
    send_ids(&sender, 0..n);
    (server, proxy, dir, sender, handle)
}

fn reset_mid_request() -> Outcome {
    let (server, proxy, _dir, sender, handle) = proxied(vec![WireFault::ResetMidRequest; 3], 100);
    let o = eventually_exactly_once(&server, sender, handle, 100, "resets retried; each once");
    assert_eq!(proxy.script_left(), 0);
    o
}

fn truncated_response() -> Outcome {
    let (server, proxy, _dir, sender, handle) =
        proxied(vec![WireFault::ForwardThenTruncate; 3], 100);
    let o = eventually_exactly_once(&server, sender, handle, 100, "status 200 read; each once");
    assert_eq!(proxy.script_left(), 0);
    o
}

fn reset_before_status() -> Outcome {
    // The server stored the batch but its answer never arrived: the exporter cannot know, and
    // resends (at-least-once). Nothing is lost; the duplicates are bounded by the resets.
    let (server, proxy, _dir, sender, handle) = proxied(vec![WireFault::ForwardThenReset; 2], 50);
    let mut worst = Duration::ZERO;
    assert!(wait_until(Duration::from_secs(8), || id_counts(
        &server.received()
    )
    .len()
        == 50));
    let stats = timed_shutdown(handle, Duration::from_secs(2), &mut worst);
    assert_eq!(proxy.script_left(), 0);
    let received = server.received();
    let counts = id_counts(&received);
    assert_eq!(counts.len(), 50, "nothing lost");
    let dups = received.len() - counts.len();
    assert!(
        dups <= 2 * 25,
        "duplicates only from the 2 lost answers: {dups}"
    );
    drop(sender);
    outcome(
        &stats,
        received.len(),
        worst,
        &format!("at-least-once: none lost, {dups} duplicates (answer lost after storage)"),
    )
}

fn answer(status: &str, body: &str) -> Vec<u8> {
    format!(
        "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

fn invalid_bodies() -> Outcome {
    let mut huge = b"HTTP/1.1 206 Partial Content\r\ncontent-type: application/json\r\ncontent-length: 400000\r\n\r\n".to_vec();
    huge.extend(std::iter::repeat_n(0xffu8, 400_000));
    let script = vec![
        WireFault::Answer(huge),
        WireFault::Answer(b"HTTP/1.1 500 Internal Server Error\r\ncontent-length: 6\r\n\r\n\x00\x01\xfe\xff{[".to_vec()),
        WireFault::Answer(b"HTTP/1.1 206 Partial Content\r\ncontent-length: 2\r\n\r\n{}".to_vec()),
        WireFault::Answer(answer(
            "500 Internal Server Error",
            r#"{"errors":[{"index":18446744073709551615,"statusCode":99999,"message":1}]}"#,
        )),
        WireFault::Answer(answer(
            "206 Partial Content",
            r#"{"itemsReceived":-1,"errors":[{"index":-3,"statusCode":500}]}"#,
        )),
        WireFault::Answer(b"SSH-2.0-OpenSSH_9.6\r\n\r\n".to_vec()),
        WireFault::Answer(b"HTTP/1.1 503 Service Unavailable\r\nretry-after: soon-ish\r\ncontent-length: 0\r\n\r\n".to_vec()),
        WireFault::Answer(b"HTTP/1.1 503 Service Unavailable\r\nretry-after: -5\r\ncontent-length: 0\r\n\r\n".to_vec()),
    ];
    let (server, proxy, _dir, sender, handle) = proxied(script, 100);
    server.push_fault(Fault::InvalidBody);
    let o = eventually_exactly_once(&server, sender, handle, 100, "");
    assert_eq!(proxy.script_left(), 0);
    Outcome {
        note: "huge/binary/empty/absurd JSON/non-HTTP/bad Retry-After: all resent; each once"
            .into(),
        ..o
    }
}

fn redirect_self_loop() -> Outcome {
    let server = IngestionServer::start();
    server.set_mode(Mode::FailEvery {
        n: 1,
        fault: Fault::Redirect {
            location: server.track_url(),
        },
    });
    let dir = tempfile::tempdir().unwrap();
    let (sender, handle) = start(spool_config(&server, dir.path()).with_max_batch(50));
    send_ids(&sender, 0..100);
    // The first records of the process can take the worker a while (the scrubber's patterns
    // are compiled then): let the loop begin before watching it for 300 ms.
    assert!(server.wait_for_requests(1, Duration::from_secs(3)));
    std::thread::sleep(Duration::from_millis(300));
    let looped = server.requests().len();
    server.set_mode(Mode::Normal);
    let mut o = eventually_exactly_once(&server, sender, handle, 100, "");
    o.note = format!("{looped} redirected requests (<= 11 per attempt), then each once");
    o
}

fn redirect_ping_pong() -> Outcome {
    let a = IngestionServer::start();
    let b = IngestionServer::start();
    a.set_mode(Mode::FailEvery {
        n: 1,
        fault: Fault::Redirect {
            location: b.track_url(),
        },
    });
    b.set_mode(Mode::FailEvery {
        n: 1,
        fault: Fault::Redirect {
            location: a.track_url(),
        },
    });
    let dir = tempfile::tempdir().unwrap();
    let (sender, handle) = start(spool_config(&a, dir.path()).with_max_batch(50));
    send_ids(&sender, 0..100);
    std::thread::sleep(Duration::from_millis(300));
    a.set_mode(Mode::Normal);
    b.set_mode(Mode::Normal);
    // Wherever the last hop left the exporter, each event arrives once overall.
    let mut worst = Duration::ZERO;
    assert!(wait_until(Duration::from_secs(8), || a.received_count()
        + b.received_count()
        >= 100));
    let stats = timed_shutdown(handle, Duration::from_secs(2), &mut worst);
    let mut all = a.received();
    all.extend(b.received());
    common::assert_exactly_once(&all, 0..100);
    drop(sender);
    outcome(&stats, all.len(), worst, "loop capped, then each once")
}

fn redirect_foreign() -> Outcome {
    let server = IngestionServer::start();
    for _ in 0..4 {
        server.push_fault(Fault::Redirect {
            location: "https://collector.evil.example/v2.1/track".into(),
        });
    }
    server.push_fault(Fault::Redirect {
        location: "http://eastus.in.applicationinsights.azure.com/v2.1/track".into(),
    });
    let dir = tempfile::tempdir().unwrap();
    let (sender, handle) = start(spool_config(&server, dir.path()).with_max_batch(50));
    send_ids(&sender, 0..100);
    eventually_exactly_once(
        &server,
        sender,
        handle,
        100,
        "refused (foreign host, plain http), then each once",
    )
}

// ---------------------------------------------------------------------------------------------
// Rows: the process and the disk.

/// Child half of the kill row (a no-op when run alone).
#[test]
fn reliability_child_role() {
    let (Ok(dir), Ok(cs), Ok(base)) = (
        std::env::var("RELIABILITY_CHILD_SPOOL"),
        std::env::var("RELIABILITY_CHILD_CS"),
        std::env::var("RELIABILITY_CHILD_BASE"),
    ) else {
        return;
    };
    let base: u64 = base.parse().unwrap();
    let cfg = ExportConfig::new(azsdk_telemetry::ConnectionString::parse(&cs).unwrap())
        .with_max_batch(10)
        .with_max_batch_age(Duration::from_millis(5))
        .with_spool_retry_interval(Duration::from_millis(20))
        .with_spool_dir(dir);
    let (sender, handle) = start(cfg);
    send_ids(&sender, base..base + 100);
    let report = handle.flush(Duration::from_secs(10));
    println!("SPOOLED {}", report.stats.spooled);
    // Keep batching, spooling and reading the spool back until killed.
    let mut id = base + 100;
    loop {
        sender.send(TestItem::ok(id));
        id += 1;
        if id.is_multiple_of(7) {
            std::thread::sleep(Duration::from_millis(1));
        }
    }
}

fn killed_mid_batch() -> Outcome {
    let server = IngestionServer::start();
    server.set_mode(Mode::Down);
    let dir = tempfile::tempdir().unwrap();
    let mut spooled_ids = Vec::new();
    for (k, after) in [(1u64, 30u64), (2, 90), (3, 170)] {
        let base = k * 1_000_000;
        let (mut child, spooled) = common::spawn_spooling_child(
            "reliability_child_role",
            &[
                ("RELIABILITY_CHILD_SPOOL", dir.path().display().to_string()),
                ("RELIABILITY_CHILD_CS", server.connection_string()),
                ("RELIABILITY_CHILD_BASE", base.to_string()),
            ],
        );
        assert_eq!(spooled, Some(100), "child {k} spooled its first 100 events");
        spooled_ids.extend(base..base + 100);
        std::thread::sleep(Duration::from_millis(after));
        child.kill().unwrap(); // SIGKILL, mid-batch or mid-spool-write
        child.wait().unwrap();
    }
    server.set_mode(Mode::Normal);
    let mut worst = Duration::ZERO;
    let (_sender, handle) = start(spool_config(&server, dir.path()));
    assert!(wait_until(Duration::from_secs(8), || spool_files(
        dir.path()
    )
    .is_empty()));
    let stats = timed_shutdown(handle, Duration::from_secs(2), &mut worst);
    let received = server.received();
    let counts = id_counts(&received);
    for id in &spooled_ids {
        assert_eq!(
            counts.get(id),
            Some(&1),
            "event {id} spooled before the kill"
        );
    }
    assert!(counts.values().all(|&n| n == 1), "no duplicates");
    assert_eq!(stats.spool.resent as usize, received.len());
    assert_eq!(
        stats.spool.corrupt_files, 0,
        "no torn spool file is ever visible"
    );
    Outcome {
        emitted: received.len() as u64,
        delivered: received.len(),
        spooled: stats.spool.resent,
        dropped: 0,
        worst_wait: worst,
        note: format!(
            "3 children killed; {} spooled before the kills + {} more all delivered once, 0 corrupt",
            spooled_ids.len(),
            received.len() - spooled_ids.len()
        ),
    }
}

fn spool_full() -> Outcome {
    let server = IngestionServer::start();
    server.set_mode(Mode::Down);
    let dir = tempfile::tempdir().unwrap();
    let cap = 4_000;
    let mut worst = Duration::ZERO;
    let (sender, handle) = start(
        spool_config(&server, dir.path())
            .with_max_batch(10)
            .with_spool_max_bytes(cap),
    );
    send_ids(&sender, 0..500);
    let stats = timed_shutdown(handle, Duration::from_secs(3), &mut worst);
    assert!(
        stats.spooled > 0 && stats.dropped.spool_full > 0,
        "{stats:#?}"
    );
    let size: u64 = spool_files(dir.path())
        .iter()
        .map(|p| std::fs::metadata(p).unwrap().len())
        .sum();
    assert!(size <= cap, "{size} > {cap}");
    // What fitted is delivered by the next start, once.
    server.set_mode(Mode::Normal);
    let (_s, handle) = start(spool_config(&server, dir.path()));
    wait_delivered(&server, stats.spooled as usize, Duration::from_secs(5));
    assert!(wait_until(Duration::from_secs(2), || spool_files(
        dir.path()
    )
    .is_empty()));
    timed_shutdown(handle, Duration::from_secs(2), &mut worst);
    let received = server.received();
    assert!(id_counts(&received).values().all(|&n| n == 1));
    assert_eq!(received.len() as u64, stats.spooled);
    drop(sender);
    outcome(
        &stats,
        received.len(),
        worst,
        &format!(
            "{} counted as spool_full; spool <= {cap} B; the rest delivered once",
            stats.dropped.spool_full
        ),
    )
}

/// Whether permission bits bind this process (they do not for root).
fn permissions_apply(dir: &Path) -> bool {
    let probe = dir.join("probe");
    std::fs::create_dir(&probe).unwrap();
    set_mode(&probe, 0o500);
    let bound = std::fs::write(probe.join("x"), b"x").is_err();
    set_mode(&probe, 0o700);
    let _ = std::fs::remove_dir_all(&probe);
    bound
}

fn set_mode(path: &Path, mode: u32) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
    }
    #[cfg(not(unix))]
    let _ = (path, mode);
}

fn spool_read_only() -> Outcome {
    let server = IngestionServer::start();
    server.set_mode(Mode::Down);
    let parent = tempfile::tempdir().unwrap();
    let dir = parent.path().join("spool");
    let mut worst = Duration::ZERO;
    let (sender, handle) = start(spool_config(&server, &dir));
    // The directory turns unwritable after start. Root ignores mode bits: then the directory
    // is replaced by a regular file, which no user can write into either.
    let technique = if permissions_apply(parent.path()) {
        set_mode(&dir, 0o500);
        "chmod 0500"
    } else {
        std::fs::remove_dir(&dir).unwrap();
        std::fs::write(&dir, b"not a directory").unwrap();
        "replaced by a file (root)"
    };
    send_ids(&sender, 0..100);
    timed_flush(&handle, Duration::from_secs(2), &mut worst);
    let stats = timed_shutdown(handle, Duration::from_secs(2), &mut worst);
    assert_eq!(stats.dropped.retries_exhausted, 100, "{stats:#?}");
    assert_eq!(stats.spooled, 0);
    if dir.is_dir() {
        set_mode(&dir, 0o700);
    }
    drop(sender);
    outcome(
        &stats,
        0,
        worst,
        &format!("{technique}: write errors counted as dropped"),
    )
}

/// The `WARN` events of the thread it is the default subscriber of, as `target: fields`.
#[derive(Clone, Default)]
struct Warnings(Arc<Mutex<Vec<String>>>);

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for Warnings {
    fn on_event(&self, event: &tracing::Event<'_>, _: tracing_subscriber::layer::Context<'_, S>) {
        struct Fields<'a>(&'a mut String);
        impl tracing::field::Visit for Fields<'_> {
            fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
                self.0.push_str(&format!(" {}={value:?}", field.name()));
            }
        }
        if *event.metadata().level() == tracing::Level::WARN {
            let mut text = format!("{}:", event.metadata().target());
            event.record(&mut Fields(&mut text));
            self.0.lock().unwrap().push(text);
        }
    }
}

impl Warnings {
    fn taken(&self) -> Vec<String> {
        std::mem::take(&mut self.0.lock().unwrap())
    }
}

fn spool_not_a_dir() -> Outcome {
    // `HttpSink::start` documents that a spool directory it cannot create is not the
    // application's failure: it warns and sends without a spool, and what it cannot send is
    // counted as dropped.
    let server = IngestionServer::start();
    server.set_mode(Mode::Down);
    let parent = tempfile::tempdir().unwrap();
    let file = parent.path().join("spool");
    std::fs::write(&file, b"x").unwrap();
    let warnings = Warnings::default();
    let subscriber = tracing::Dispatch::new(tracing_subscriber::registry().with(warnings.clone()));
    let mut worst = Duration::ZERO;
    let mut total = ExportStats::default();
    // The path is a file, and a path below that file.
    for (k, dir) in [file.clone(), file.join("below")].iter().enumerate() {
        let started = tracing::dispatcher::with_default(&subscriber, || {
            common::try_start(spool_config(&server, dir), |builder| builder)
        });
        let (sender, handle) = started.expect("an unusable spool directory is not a start error");
        let warned = warnings.taken();
        assert!(
            warned
                .iter()
                .any(|w| w.starts_with("azsdk_telemetry::export:")
                    && w.contains("without a spool")
                    && w.contains(&dir.display().to_string())),
            "a warning names the spool directory: {warned:?}"
        );
        assert!(
            warned
                .iter()
                .all(|w| !w.contains(azsdk_telemetry_testkit::TEST_INSTRUMENTATION_KEY)),
            "no instrumentation key in logs: {warned:?}"
        );
        let base = k as u64 * 1000;
        send_ids(&sender, base..base + 50);
        let stats = timed_shutdown(handle, Duration::from_secs(2), &mut worst);
        assert_eq!(
            stats.spooled,
            0,
            "{}: nothing spooled: {stats:#?}",
            dir.display()
        );
        assert_eq!(
            stats.dropped.retries_exhausted,
            50,
            "{}: counted as dropped: {stats:#?}",
            dir.display()
        );
        total.emitted += stats.emitted;
        total.dropped.retries_exhausted += stats.dropped.retries_exhausted;
    }
    assert_eq!(
        std::fs::read(&file).unwrap(),
        b"x",
        "the file in the way is left alone"
    );
    assert!(spool_files(parent.path()).is_empty());
    // A configuration that cannot work is still refused at start, spool or not.
    let error = common::try_start(spool_config(&server, &file).with_max_batch(0), |b| b)
        .err()
        .expect("max_batch = 0 is refused");
    assert!(matches!(error, ExportError::InvalidConfig(_)), "{error}");
    assert!(error.to_string().contains("max_batch"), "{error}");
    outcome(
        &total,
        0,
        worst,
        "starts without a spool (warning); undeliverable counted as dropped; bad config is ExportError::InvalidConfig",
    )
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(bytes).unwrap();
    gz.finish().unwrap()
}

fn corrupt_spool() -> Outcome {
    let server = IngestionServer::start();
    server.set_mode(Mode::Down);
    let dir = tempfile::tempdir().unwrap();
    let mut worst = Duration::ZERO;
    let (sender, handle) = start(spool_config(&server, dir.path()));
    send_ids(&sender, 0..40);
    timed_shutdown(handle, Duration::from_secs(2), &mut worst);
    let good = spool_files(dir.path());
    assert!(!good.is_empty());
    let bytes = std::fs::read(&good[0]).unwrap();
    let base = now_ms() - 1000;
    let name = |i: u32| dir.path().join(format!("{base:016}-{i:016x}.v1.aispool"));
    let header = |n: usize| {
        format!("{{\"format\":\"azsdk-telemetry-spool\",\"version\":1,\"items\":{n}}}\n")
    };
    let line = r#"{"name":"x","iKey":"k","data":{}}"#;
    let corrupt: Vec<Vec<u8>> = vec![
        bytes[..bytes.len() / 2].to_vec(), // truncated gzip
        b"not gzip at all".to_vec(),       // garbage
        Vec::new(),                        // empty
        gzip(b"{\"format\":\"other\",\"version\":1,\"items\":0}\n"), // wrong format
        gzip(format!("{}{line}\n", header(5)).as_bytes()), // wrong count
        gzip(format!("{}{line}", header(1)).as_bytes()), // ends mid-line
        gzip(format!("{}not json\n", header(1)).as_bytes()), // bad item
        gzip(b"{\"format\":\"azsdk-telemetry-spool\",\"version\":99,\"items\":0}\n"), // version
        gzip(&vec![0u8; 8 << 20]),         // 8 MiB of zeros, no header
        gzip(&[&b"\xff\xfe"[..], &vec![b'a'; 1 << 20]].concat()), // not UTF-8
    ];
    for (i, c) in corrupt.iter().enumerate() {
        std::fs::write(name(i as u32 + 1), c).unwrap();
    }
    let n_corrupt = corrupt.len() as u64;
    // Neither a directory nor a FIFO with a spool name may stop the resend (a FIFO would block
    // an open() for reading forever).
    std::fs::create_dir(name(100)).unwrap();
    #[cfg(unix)]
    {
        let fifo = name(101);
        let ok = Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "mkfifo");
    }
    server.set_mode(Mode::Normal);
    let (_s, handle) = start(spool_config(&server, dir.path()));
    wait_delivered(&server, 40, Duration::from_secs(6));
    let delivered = exactly_once(&server, 0..40);
    assert!(wait_until(Duration::from_secs(3), || handle
        .stats()
        .spool
        .corrupt_files
        >= n_corrupt));
    let stats = timed_shutdown(handle, Duration::from_secs(2), &mut worst);
    assert!(stats.spool.corrupt_files >= n_corrupt, "{stats:#?}");
    drop(sender);
    Outcome {
        emitted: 40,
        delivered,
        spooled: 40,
        dropped: 0,
        worst_wait: worst,
        note: format!(
            "{} corrupt files removed and counted; a dir and a FIFO skipped; good file delivered once",
            stats.spool.corrupt_files
        ),
    }
}

// ---------------------------------------------------------------------------------------------
// Rows through the whole pipeline: #[telemetry_tool] → tracing → TelemetryLayer → exporter.

#[derive(Debug, thiserror::Error, azsdk_telemetry::TelemetryError)]
enum ToolError {
    #[error("network failure: {0}")]
    #[telemetry(error_type = "NetworkError")]
    Network(String),
}

#[derive(azsdk_telemetry::TelemetryArgs)]
struct ToolArgs {
    #[telemetry(allow)]
    n: u64,
}

#[telemetry_tool(category = "testing", name = "azsdk_reliability_probe")]
fn probe_tool(args: ToolArgs) -> Result<u64, ToolError> {
    if args.n.is_multiple_of(4) {
        Err(ToolError::Network(format!("failed {}", args.n)))
    } else {
        Ok(args.n)
    }
}

fn tool_event_ids(server: &IngestionServer) -> BTreeMap<String, usize> {
    let mut m = BTreeMap::new();
    for e in server.received() {
        if e["data"]["baseData"]["name"] == "ToolExecuted" {
            let id = e["data"]["baseData"]["properties"]["eventId"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            *m.entry(id).or_default() += 1;
        }
    }
    m
}

fn pipeline_layer(
    server: &IngestionServer,
    state: &Path,
) -> (
    TelemetryLayer<tracing_subscriber::Registry>,
    azsdk_telemetry::TelemetryHandle,
) {
    TelemetryLayer::builder()
        .ignore_environment()
        .state_dir(state)
        .app_name("reliability")
        .lifecycle_events(false)
        .crash_reporting(false)
        .first_run_notice(false)
        .connection_string(server.connection_string())
        .configure_export(|c| {
            let fast = common::config_for(&loopback_cs(1));
            c.with_max_batch(20)
                .with_max_batch_age(fast.max_batch_age)
                .with_retry(fast.retry)
                .with_spool_retry_interval(fast.spool_retry_interval)
        })
        .build()
        .expect("layer builds")
}

fn pipeline_flapping() -> Outcome {
    let server = IngestionServer::start();
    server.set_mode(Mode::FailEvery {
        n: 2,
        fault: status(503),
    });
    let state = tempfile::tempdir().unwrap();
    let (layer, handle) = pipeline_layer(&server, state.path());
    let guard = tracing_subscriber::registry().with(layer).set_default();
    let mut worst = Duration::ZERO;
    for n in 0..100 {
        let t = Instant::now();
        let _ = probe_tool(ToolArgs { n });
        worst = worst.max(t.elapsed());
    }
    drop(guard);
    assert!(server.wait_for(100, Duration::from_secs(8)));
    let ids = tool_event_ids(&server);
    assert_eq!(ids.len(), 100);
    assert!(ids.values().all(|&n| n == 1), "each tool call once");
    let t = Instant::now();
    assert!(handle.flush(Duration::from_secs(2)));
    let stats = handle.export_stats().unwrap();
    assert!(stats.is_balanced(), "{stats:#?}");
    assert!(handle.shutdown(Duration::from_secs(2)));
    let wait = t.elapsed();
    assert!(wait <= Duration::from_secs(4) + SLACK);
    Outcome {
        emitted: 100,
        delivered: 100,
        spooled: stats.spooled,
        dropped: stats.dropped.total(),
        worst_wait: wait,
        note: format!(
            "each call once; slowest instrumented call {} µs",
            worst.as_micros()
        ),
    }
}

fn pipeline_down_then_up() -> Outcome {
    let server = IngestionServer::start();
    server.set_mode(Mode::Down);
    let state = tempfile::tempdir().unwrap();
    let (layer, handle) = pipeline_layer(&server, state.path());
    let guard = tracing_subscriber::registry().with(layer).set_default();
    for n in 0..60 {
        ToolExecuted {
            tool_name: "azsdk_run_tests".into(),
            tool_category: "testing".into(),
            success: n % 3 != 0,
            ..ToolExecuted::default()
        }
        .emit();
    }
    drop(guard);
    let stats = handle.export_stats().unwrap();
    let t = Instant::now();
    assert!(handle.shutdown(Duration::from_secs(2)));
    let wait = t.elapsed();
    assert!(wait <= Duration::from_secs(2) + SLACK);
    assert_eq!(server.received_count(), 0);
    let _ = stats;
    server.set_mode(Mode::Normal);
    let (_layer, handle) = pipeline_layer(&server, state.path());
    assert!(server.wait_for(60, Duration::from_secs(6)));
    let ids = tool_event_ids(&server);
    assert_eq!(ids.len(), 60);
    assert!(ids.values().all(|&n| n == 1));
    let next = handle.export_stats().unwrap();
    drop(handle);
    Outcome {
        emitted: 60,
        delivered: 60,
        spooled: 60,
        dropped: 0,
        worst_wait: wait,
        note: format!(
            "spooled while down; next start resent {} once",
            next.spool.resent.max(60)
        ),
    }
}

fn pipeline_state_dir_unusable() -> Outcome {
    let server = IngestionServer::start();
    let parent = tempfile::tempdir().unwrap();
    let file = parent.path().join("state");
    std::fs::write(&file, b"a file where the state directory should be").unwrap();
    // A state directory below a regular file can never be created.
    let state = file.join("below");
    let warnings = Warnings::default();
    let subscriber = tracing::Dispatch::new(tracing_subscriber::registry().with(warnings.clone()));
    // Telemetry must never be the reason a tool fails: the layer still builds and sends,
    // from memory only, and says so once.
    let (layer, handle) =
        tracing::dispatcher::with_default(&subscriber, || pipeline_layer(&server, &state));
    let guard = tracing_subscriber::registry().with(layer).set_default();
    for n in 1..=10 {
        let _ = probe_tool(ToolArgs { n });
    }
    drop(guard);
    assert!(server.wait_for(10, Duration::from_secs(5)));
    let status = handle.status();
    let spool = status.spool.clone().expect("the spool it would use");
    assert!(spool.unavailable.is_some(), "{status:?}");
    assert!(
        status
            .to_string()
            .contains("spool: unavailable, memory only"),
        "{status}"
    );
    let stats = handle.export_stats().unwrap();
    let t = Instant::now();
    let shut =
        tracing::dispatcher::with_default(&subscriber, || handle.shutdown(Duration::from_secs(2)));
    assert!(shut);
    let warned = warnings.taken();
    assert_eq!(warned.len(), 1, "one warning: {warned:?}");
    assert!(warned[0].contains("without a spool"), "{warned:?}");
    assert_eq!(
        std::fs::read_dir(parent.path()).unwrap().count(),
        1,
        "nothing created"
    );
    Outcome {
        emitted: 10,
        delivered: server.received_count(),
        spooled: stats.spooled,
        dropped: stats.dropped.total(),
        worst_wait: t.elapsed(),
        note: "builds without a spool (one warning, the status says so), delivers".into(),
    }
}
