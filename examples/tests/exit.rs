//! The exit of a real `azsdk` process on bad networks: what telemetry adds to a command
//! against an endpoint that accepts TCP and never answers, and against a refused port,
//! next to the same command opted out; then one healthy run delivers every tool call of
//! the earlier runs exactly once.

use std::net::TcpListener;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use azsdk_telemetry_testkit::{IngestionServer, TEST_INSTRUMENTATION_KEY};

const CLEARED: [&str; 7] = [
    "APPLICATIONINSIGHTS_CONNECTION_STRING",
    "AZSDK_TELEMETRY_ENABLED",
    "AZSDK_TELEMETRY_JSONL",
    "AZSDK_TELEMETRY_LOG",
    "DO_NOT_TRACK",
    "AZSDK_SIMULATE",
    "CI",
];

const VERIFY: [&str; 3] = ["verify-setup", "--languages", "Python"];

/// Runs one command with its state in `dir`, sending to `connection_string`: how long it took.
fn timed_run(dir: &Path, connection_string: &str, opted_out: bool) -> Duration {
    let mut command = Command::new(env!("CARGO_BIN_EXE_azsdk"));
    command.args(VERIFY).env("AZSDK_TELEMETRY_DIR", dir);
    for name in CLEARED {
        command.env_remove(name);
    }
    command.env("APPLICATIONINSIGHTS_CONNECTION_STRING", connection_string);
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

#[test]
fn a_command_exits_within_its_budget_on_a_bad_network_and_a_healthy_run_delivers_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let off = median(
        (0..3)
            .map(|_| timed_run(dir.path(), &refused(), true))
            .collect(),
    );
    let hole = black_hole();
    let black_holed = median(
        (0..3)
            .map(|_| timed_run(dir.path(), &hole, false))
            .collect(),
    );
    let refused_port = median(
        (0..3)
            .map(|_| timed_run(dir.path(), &refused(), false))
            .collect(),
    );
    eprintln!("opted out {off:?}, black-holed {black_holed:?}, refused {refused_port:?}");
    // The CLI budget is 250 ms; a debug build starting its worker takes some more.
    let allowed = off + azsdk_telemetry::CLI_EXIT_BUDGET + Duration::from_millis(400);
    assert!(
        black_holed <= allowed,
        "black-holed: {black_holed:?} > {allowed:?}"
    );
    assert!(
        refused_port <= allowed,
        "refused: {refused_port:?} > {allowed:?}"
    );

    // One healthy run sends its own call and drains the spool in what its budget leaves:
    // every call of the earlier runs arrives, none twice.
    let server = IngestionServer::start();
    timed_run(dir.path(), &server.connection_string(), false);
    let calls: Vec<String> = server
        .received()
        .iter()
        .filter(|envelope| envelope["data"]["baseData"]["name"] == "ToolExecuted")
        .map(|envelope| envelope["data"]["baseData"]["properties"]["eventId"].to_string())
        .collect();
    eprintln!("delivered by one healthy run: {} of 7 calls", calls.len());
    let mut unique = calls.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(
        unique.len(),
        calls.len(),
        "each call delivered once: {calls:?}"
    );
}
