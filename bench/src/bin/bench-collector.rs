//! The loopback ingestion server in its own process, for the throughput benches.
//!
//! Prints the connection string, then answers one number per line read from stdin:
//! `count` (envelopes accepted), `rss` (its own peak RSS in KiB); `quit` or
//! end of input stops it. Every envelope is validated like the service does; none is kept.

use std::io::{BufRead, Write};

use azsdk_telemetry_testkit::server::{IngestionServer, ServerOptions};

fn main() -> std::io::Result<()> {
    let server = IngestionServer::start_with(ServerOptions {
        retain: false,
        ..ServerOptions::default()
    })?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "{}", server.connection_string())?;
    out.flush()?;
    for line in std::io::stdin().lock().lines() {
        let answer = match line?.trim() {
            "count" => server.received_count() as u64,
            "rss" => azsdk_telemetry_bench::peak_rss_kib(),
            "quit" => break,
            _ => u64::MAX,
        };
        writeln!(out, "{answer}")?;
        out.flush()?;
    }
    Ok(())
}
