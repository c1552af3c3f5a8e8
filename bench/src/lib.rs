//! Shared pieces of the benchmarks (see `BENCHMARKS.md` at the repository root).
//!
//! - [`tools`]: the tool under test in each flavour: bare, `#[telemetry_tool]`, and
//!   `#[tracing::instrument(skip_all, fields(...))]`, with 1, 3, 4 and 16 recorded fields.
//! - [`ours`]: our stack installed the documented way, posting to a connection string.
//! - [`Collector`]: the loopback ingestion server (`azsdk_telemetry_testkit::IngestionServer`,
//!   validating every 256th envelope in full and the others cheaply, retaining nothing) in a
//!   child process, so the peak RSS and CPU of the process under test are its own.
//! - [`peak_rss_kib`]: `VmHWM` of this process.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

pub mod ours;
pub mod tools;

/// Peak resident set size of this process (`VmHWM` from `/proc/self/status`), in KiB.
pub fn peak_rss_kib() -> u64 {
    status_field("VmHWM:")
}

/// Current resident set size of this process (`VmRSS`), in KiB.
pub fn rss_kib() -> u64 {
    status_field("VmRSS:")
}

fn status_field(name: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|line| line.starts_with(name))
                .and_then(|line| line.split_whitespace().nth(1))
                .and_then(|kib| kib.parse().ok())
        })
        .unwrap_or(0)
}

/// The loopback ingestion server running in a child process (the `bench-collector`
/// binary of this crate). It validates a sample of the envelopes like the service, checks
/// the others cheaply, and keeps none.
pub struct Collector {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
    connection_string: String,
}

impl Collector {
    /// Starts `program` (the path of the `bench-collector` binary).
    ///
    /// # Panics
    /// When the collector cannot be started: the measurement cannot run without it.
    /// `AZSDK_BENCH_COLLECTOR` overrides the program (to point the benches at another server).
    pub fn spawn(program: &str) -> Collector {
        let program = std::env::var("AZSDK_BENCH_COLLECTOR").unwrap_or_else(|_| program.to_owned());
        let program = program.as_str();
        let mut child = Command::new(program)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("could not start {program}: {e}"));
        let stdin = child.stdin.take().expect("piped stdin");
        let mut stdout = BufReader::new(child.stdout.take().expect("piped stdout"));
        let mut line = String::new();
        stdout.read_line(&mut line).expect("collector greeting");
        let connection_string = line.trim().to_owned();
        assert!(
            connection_string.starts_with("InstrumentationKey="),
            "unexpected collector greeting {connection_string:?}"
        );
        Collector {
            child,
            stdin,
            stdout,
            connection_string,
        }
    }

    /// The connection string pointing at the collector.
    pub fn connection_string(&self) -> &str {
        &self.connection_string
    }

    fn ask(&mut self, question: &str) -> u64 {
        writeln!(self.stdin, "{question}").expect("collector stdin");
        self.stdin.flush().expect("collector stdin");
        let mut line = String::new();
        self.stdout.read_line(&mut line).expect("collector answer");
        line.trim().parse().expect("a number from the collector")
    }

    /// Envelopes accepted so far.
    pub fn accepted(&mut self) -> u64 {
        self.ask("count")
    }

    /// The collector's own peak RSS, in KiB.
    pub fn peak_rss_kib(&mut self) -> u64 {
        self.ask("rss")
    }

    /// Envelopes the collector parsed and validated in full so far.
    pub fn validated(&mut self) -> u64 {
        self.ask("validated")
    }

    /// Envelopes the collector refused as invalid so far (a per-item 400).
    pub fn refused(&mut self) -> u64 {
        self.ask("refused")
    }

    /// Waits until the accepted count stops changing for `quiet`, or `limit` has passed;
    /// returns the count and when it last changed.
    pub fn settle(
        &mut self,
        quiet: std::time::Duration,
        limit: std::time::Duration,
    ) -> (u64, std::time::Instant) {
        let start = std::time::Instant::now();
        let mut last = self.accepted();
        let mut changed = std::time::Instant::now();
        while changed.elapsed() < quiet && start.elapsed() < limit {
            std::thread::sleep(std::time::Duration::from_millis(20));
            let now = self.accepted();
            if now != last {
                last = now;
                changed = std::time::Instant::now();
            }
        }
        (last, changed)
    }
}

impl Drop for Collector {
    fn drop(&mut self) {
        let _ = writeln!(self.stdin, "quit");
        let _ = self.stdin.flush();
        let _ = self.child.wait();
    }
}
