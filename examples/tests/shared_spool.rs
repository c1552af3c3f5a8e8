//! Eight real `azsdk` processes at once, sharing one state directory and so one spool,
//! each running commands one after another against an endpoint that flaps between
//! healthy, 503 to everything, and a refused port; then healthy commands until the spool
//! is empty. Every tool call the processes wrote to their envelope logs arrives exactly
//! once (by `eventId`): none lost, none twice.

mod common;

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering::SeqCst};
use std::sync::Arc;
use std::time::{Duration, Instant};

use azsdk_telemetry_testkit::server::Fault;
use azsdk_telemetry_testkit::{IngestionServer, Mode, TEST_INSTRUMENTATION_KEY};
use common::{logged, spool_files, tool_calls, verify};

const PROCESSES: usize = 8;
const COMMANDS: usize = 50;
const HEALTHY: u8 = 0;
const STORM: u8 = 1;
const REFUSED: u8 = 2;

/// A port that forwards to `upstream` while the phase is healthy or a storm (the server
/// answers 503 then), and refuses connections (nothing listens) while it is refused.
fn flapping_port(upstream: String, phase: Arc<AtomicU8>, stop: Arc<AtomicBool>) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        let mut listener = Some(listener);
        while !stop.load(SeqCst) {
            let refusing = phase.load(SeqCst) == REFUSED;
            if refusing {
                listener = None;
            } else if listener.is_none() {
                // std sets SO_REUSEADDR: the port binds again at once.
                listener = TcpListener::bind(addr).ok();
            }
            let Some(open) = &listener else {
                std::thread::sleep(Duration::from_millis(5));
                continue;
            };
            open.set_nonblocking(true).unwrap();
            match open.accept() {
                Ok((client, _)) => {
                    let upstream = upstream.clone();
                    std::thread::spawn(move || forward(client, &upstream));
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => {
                    std::thread::sleep(Duration::from_millis(2));
                }
                Err(_) => {}
            }
        }
    });
    addr.port()
}

/// Copies bytes both ways until either side closes.
fn forward(client: TcpStream, upstream: &str) {
    let _ = client.set_nonblocking(false);
    let Ok(server) = TcpStream::connect(upstream) else {
        return;
    };
    let pipe = |mut from: TcpStream, mut to: TcpStream| {
        let mut buf = [0u8; 16 * 1024];
        while let Ok(n) = from.read(&mut buf) {
            if n == 0 || to.write_all(&buf[..n]).is_err() {
                break;
            }
        }
        let _ = to.shutdown(Shutdown::Write);
    };
    let (c, s) = (client.try_clone().unwrap(), server.try_clone().unwrap());
    let back = std::thread::spawn(move || pipe(s, c));
    pipe(client, server);
    let _ = back.join();
}

#[test]
fn eight_processes_sharing_a_spool_on_a_flapping_network_deliver_every_call_once() {
    let dir = tempfile::tempdir().unwrap();
    let logs = tempfile::tempdir().unwrap();
    let server = IngestionServer::start();
    let phase = Arc::new(AtomicU8::new(HEALTHY));
    let stop = Arc::new(AtomicBool::new(false));
    let upstream = server.endpoint().trim_start_matches("http://").to_owned();
    let port = flapping_port(upstream, Arc::clone(&phase), Arc::clone(&stop));
    let cs = format!(
        "InstrumentationKey={TEST_INSTRUMENTATION_KEY};IngestionEndpoint=http://127.0.0.1:{port}/"
    );
    let started = Instant::now();
    let done = Arc::new(AtomicBool::new(false));
    let workers: Vec<_> = (0..PROCESSES)
        .map(|k| {
            let (dir, log, cs) = (
                dir.path().to_owned(),
                logs.path().join(format!("{k}.jsonl")),
                cs.clone(),
            );
            std::thread::spawn(move || {
                for _ in 0..COMMANDS {
                    let output = verify(&dir, &log, &cs).output().expect("azsdk runs");
                    assert!(output.status.success(), "{output:?}");
                }
            })
        })
        .collect();
    // The flapping: a phase every 200 ms, in turn.
    let flapper = {
        let (phase, stop_flapping) = (Arc::clone(&phase), Arc::clone(&done));
        let server_mode = move |p: u8| match p {
            STORM => Mode::FailEvery {
                n: 1,
                fault: Fault::Status {
                    code: 503,
                    retry_after: None,
                },
            },
            _ => Mode::Normal,
        };
        let server = &server;
        std::thread::scope(|scope| {
            let flapper = scope.spawn(move || {
                let mut counts = [0u32; 3];
                for p in [HEALTHY, STORM, REFUSED].into_iter().cycle() {
                    if stop_flapping.load(SeqCst) {
                        break;
                    }
                    server.set_mode(server_mode(p));
                    phase.store(p, SeqCst);
                    counts[p as usize] += 1;
                    std::thread::sleep(Duration::from_millis(200));
                }
                counts
            });
            for worker in workers {
                worker.join().expect("a worker's commands succeed");
            }
            done.store(true, SeqCst);
            flapper.join().unwrap()
        })
    };
    let flapped = started.elapsed();
    let statuses = server.requests().iter().filter(|r| r.status == 503).count();
    server.set_mode(Mode::Normal);
    phase.store(HEALTHY, SeqCst);
    let left = spool_files(dir.path());

    // Healthy commands until the spool is empty.
    let drain_log = logs.path().join("drain.jsonl");
    let mut drains = 0;
    while spool_files(dir.path()) > 0 && drains < 20 {
        verify(dir.path(), &drain_log, &cs)
            .output()
            .expect("azsdk runs");
        drains += 1;
    }
    stop.store(true, SeqCst);
    eprintln!(
        "{PROCESSES} processes x {COMMANDS} commands in {flapped:?}; phases healthy/storm/refused {flapper:?}; {statuses} requests answered 503; {left} spool files left, emptied by {drains} healthy commands"
    );
    assert_eq!(spool_files(dir.path()), 0, "the spool was drained");
    assert!(
        flapper.iter().all(|&n| n >= 2),
        "each phase came twice: {flapper:?}"
    );
    assert!(statuses > 0, "the storm was met");

    let mut expected = tool_calls(&logged(&drain_log));
    for k in 0..PROCESSES {
        let calls = tool_calls(&logged(&logs.path().join(format!("{k}.jsonl"))));
        assert_eq!(calls.len(), COMMANDS, "process {k} made {COMMANDS} calls");
        expected.extend(calls);
    }
    assert_eq!(expected.len(), PROCESSES * COMMANDS + drains);
    let delivered = tool_calls(&server.received());
    let twice: Vec<_> = delivered.iter().filter(|(_, &n)| n > 1).collect();
    let lost: Vec<_> = expected
        .keys()
        .filter(|id| !delivered.contains_key(*id))
        .collect();
    // On failure, which requests carried an id that arrived twice, and when.
    for (i, r) in server.requests().iter().enumerate() {
        let ids = tool_calls(&r.items);
        for (id, _) in twice.iter().filter(|(id, _)| ids.contains_key(*id)) {
            let at = r.at.duration_since(started);
            eprintln!(
                "{id}: request {i} at {at:?}, status {}, {} items",
                r.status,
                r.items.len()
            );
        }
    }
    assert!(
        twice.is_empty() && lost.is_empty(),
        "{} twice: {twice:?}; {} lost: {lost:?}",
        twice.len(),
        lost.len()
    );
    assert_eq!(
        delivered.len(),
        expected.len(),
        "nothing but the logged calls arrived"
    );
}
