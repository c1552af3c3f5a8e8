//! What telemetry costs a real `azsdk verify-setup --languages Python` command at its start
//! and at its exit, on and off, against a healthy loopback endpoint, one that accepts TCP
//! and never answers, and a refused port. A plain program (no harness):
//!
//! ```sh
//! cargo bench -p azsdk-telemetry-examples --bench exit            # 30 runs per row
//! cargo bench -p azsdk-telemetry-examples --bench exit -- 100     # 100 runs per row
//! ```
//!
//! Each run is a fresh process. `start` is the time `install(cli_builder())` takes in it
//! (building the layer, the exporter and its worker, installing the subscriber); `exit` is
//! `handle.close()` after the tool call; both are timed inside a copy of this program
//! that runs the command the way `azsdk` does. `process` is the whole `azsdk` binary's
//! wall time as a shell sees it. Each row keeps one state directory (a user repeating the
//! command); a first run per row is discarded (first-run notice, install event).

#[path = "../tests/common/mod.rs"]
mod common;

use std::net::TcpListener;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use azsdk_telemetry_examples::cli::{Cli, Command as Sub};
use azsdk_telemetry_examples::telemetry;
use azsdk_telemetry_examples::tools::Toolbox;
use azsdk_telemetry_testkit::{IngestionServer, TEST_INSTRUMENTATION_KEY};
use clap::Parser;

const CHILD: &str = "AZSDK_BENCH_EXIT_CHILD";
const ARGS: [&str; 4] = ["azsdk", "verify-setup", "--languages", "Python"];

/// The command as `azsdk` runs it, timing telemetry's start and exit: prints both in µs.
fn child() {
    let begun = Instant::now();
    let handle = telemetry::install(telemetry::cli_builder()).expect("telemetry builds");
    let start = begun.elapsed();
    let cli = Cli::parse_from(ARGS);
    let Sub::VerifySetup(args) = &cli.command else {
        unreachable!("verify-setup")
    };
    let tools = Toolbox::new(cli.simulation());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let _ = runtime.block_on(tools.verify_setup(args.clone()));
    let closing = Instant::now();
    handle.close();
    let exit = closing.elapsed();
    println!("{} {}", start.as_micros(), exit.as_micros());
}

fn command(program: &Path, dir: &Path, connection_string: &str, on: bool) -> Command {
    let mut command = Command::new(program);
    for name in common::CLEARED {
        command.env_remove(name);
    }
    command
        .env("AZSDK_TELEMETRY_DIR", dir)
        .env("APPLICATIONINSIGHTS_CONNECTION_STRING", connection_string);
    if !on {
        command.env("AZSDK_TELEMETRY_ENABLED", "false");
    }
    command
}

/// p50 and worst, in ms.
fn summary(mut values: Vec<Duration>) -> String {
    values.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    format!(
        "{:.2} / {:.2}",
        ms(values[values.len() / 2]),
        ms(*values.last().unwrap())
    )
}

fn row(kind: &str, connection_string: &str, on: bool, runs: usize) {
    let me = std::env::current_exe().expect("this program");
    let dir = tempfile::tempdir().unwrap();
    let (mut start, mut exit, mut process) = (Vec::new(), Vec::new(), Vec::new());
    for run in 0..=runs {
        let output = command(&me, dir.path(), connection_string, on)
            .env(CHILD, "1")
            .output()
            .expect("the child runs");
        let text = String::from_utf8_lossy(&output.stdout);
        let mut times = text
            .split_whitespace()
            .map(|n| Duration::from_micros(n.parse().expect("µs")));
        let (s, e) = (times.next().expect("start"), times.next().expect("exit"));
        let began = Instant::now();
        let status = command(
            Path::new(env!("CARGO_BIN_EXE_azsdk")),
            dir.path(),
            connection_string,
            on,
        )
        .args(&ARGS[1..])
        .output()
        .expect("azsdk runs")
        .status;
        let took = began.elapsed();
        assert!(status.success(), "{status:?}");
        if run > 0 {
            start.push(s);
            exit.push(e);
            process.push(took);
        }
    }
    let state = if on { "on" } else { "off" };
    println!(
        "| {kind} | {state} | {} | {} | {} |",
        summary(start),
        summary(exit),
        summary(process)
    );
}

fn main() {
    if std::env::var_os(CHILD).is_some() {
        return child();
    }
    let runs = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(30);
    let server = IngestionServer::start();
    let hole = TcpListener::bind("127.0.0.1:0").unwrap();
    let hole_port = hole.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in hole.incoming().flatten() {
            held.push(stream);
        }
    });
    let refused_port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let at = |port: u16| {
        format!("InstrumentationKey={TEST_INSTRUMENTATION_KEY};IngestionEndpoint=http://127.0.0.1:{port}/")
    };
    println!("{runs} runs per row; ms, p50 / worst");
    println!("| endpoint | telemetry | start | exit | whole process |");
    println!("| --- | --- | ---: | ---: | ---: |");
    for (kind, cs) in [
        ("healthy loopback", server.connection_string()),
        ("black-holed", at(hole_port)),
        ("refused port", at(refused_port)),
    ] {
        for on in [false, true] {
            row(kind, &cs, on, runs);
        }
    }
}
