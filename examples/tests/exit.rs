//! The exit of a real `azsdk` process on bad networks: what telemetry adds to a command
//! against an endpoint that accepts TCP and never answers, a refused port, a 503 storm and
//! a host name that does not resolve, next to the same command opted out; then one healthy
//! run delivers every tool call of the earlier runs exactly once (by id, as the envelope
//! log of each run wrote them).

mod common;

use std::net::TcpListener;
use std::path::Path;
use std::time::{Duration, Instant};

use azsdk_telemetry_testkit::server::Fault;
use azsdk_telemetry_testkit::{IngestionServer, Mode, TEST_INSTRUMENTATION_KEY};
use common::{logged, tool_calls, verify};

/// Runs one command with its state in `dir`, sending to `connection_string` and appending
/// each envelope it writes to `log`: how long it took.
fn timed_run(dir: &Path, log: &Path, connection_string: &str, opted_out: bool) -> Duration {
    let mut command = verify(dir, log, connection_string);
    if opted_out {
        command.env("AZSDK_TELEMETRY_ENABLED", "false");
    }
    let started = Instant::now();
    let output = command.output().expect("azsdk runs");
    let took = started.elapsed();
    assert!(output.status.code().is_some(), "{output:?}");
    took
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

/// An endpoint that accepts connections and never answers (holds them open).
fn black_hole() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().flatten() {
            held.push(stream);
        }
    });
    format!(
        "InstrumentationKey={TEST_INSTRUMENTATION_KEY};IngestionEndpoint=http://127.0.0.1:{port}/"
    )
}

fn refused() -> String {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    format!(
        "InstrumentationKey={TEST_INSTRUMENTATION_KEY};IngestionEndpoint=http://127.0.0.1:{port}/"
    )
}

/// A loopback server answering 503 to every request.
fn storm() -> IngestionServer {
    let server = IngestionServer::start();
    server.set_mode(Mode::FailEvery {
        n: 1,
        fault: Fault::Status {
            code: 503,
            retry_after: None,
        },
    });
    server
}

/// A host name that never resolves (`.invalid` is reserved for that).
fn unresolvable() -> String {
    format!(
        "InstrumentationKey={TEST_INSTRUMENTATION_KEY};IngestionEndpoint=https://nonexistent.invalid/"
    )
}

#[test]
fn a_command_exits_within_its_budget_on_a_bad_network_and_a_healthy_run_delivers_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let logs = tempfile::tempdir().unwrap();
    let log = logs.path().join("envelopes.jsonl");
    let run = |cs: &str, opted_out: bool| timed_run(dir.path(), &log, cs, opted_out);
    let median_of_3 = |cs: &dyn Fn() -> String, opted_out: bool| {
        median((0..3).map(|_| run(&cs(), opted_out)).collect())
    };
    let off = median_of_3(&refused, true);
    let hole = black_hole();
    let storm = storm();
    let cases = [
        ("black-holed", median_of_3(&|| hole.clone(), false)),
        ("refused", median_of_3(&refused, false)),
        (
            "503 storm",
            median_of_3(&|| storm.connection_string(), false),
        ),
        ("DNS failure", median_of_3(&unresolvable, false)),
    ];
    eprintln!("opted out {off:?}, {cases:?}");
    // The CLI budget is 250 ms; a debug build starting its worker on a loaded machine
    // takes some more.
    let allowed = off + azsdk_telemetry::CLI_EXIT_BUDGET + Duration::from_millis(400);
    for (name, took) in cases {
        assert!(took <= allowed, "{name}: {took:?} > {allowed:?}");
    }
    assert!(
        storm.requests().iter().all(|r| r.status == 503),
        "the storm answered only 503"
    );

    // One healthy run sends its own call and drains the spool in what its budget leaves:
    // every call of the earlier runs arrives, none twice.
    let server = IngestionServer::start();
    run(&server.connection_string(), false);
    let expected = tool_calls(&logged(&log));
    assert_eq!(
        expected.len(),
        13,
        "12 bad-network runs and the healthy one"
    );
    assert!(expected.values().all(|&n| n == 1), "{expected:?}");
    let delivered = tool_calls(&server.received());
    eprintln!(
        "delivered by one healthy run: {} of {} calls",
        delivered.len(),
        expected.len()
    );
    assert_eq!(delivered, expected, "every call delivered exactly once");
}
