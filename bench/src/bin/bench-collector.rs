//! The loopback ingestion server in its own process, for the throughput benches.
//!
//! Prints the connection string, then answers one number per line read from stdin:
//! `count` (envelopes accepted), `rss` (its own peak RSS in KiB), `validated` (envelopes
//! parsed and checked in full), `refused` (envelopes refused as invalid); `quit` or end of
//! input stops it. None is kept.
//!
//! Every 256th envelope is parsed and validated like the service does; the others are only
//! checked to be a UTF-8 `{...}` ([`Validation::Sample`]), so that the collector costs far
//! less CPU than the exporters it measures (both stacks post to it, so it stays fair).

use std::io::{BufRead, Write};

use azsdk_telemetry_testkit::server::{IngestionServer, ServerOptions, Validation};

/// One envelope in this many is parsed and validated in full.
const SAMPLE_EVERY: u64 = 256;

fn main() -> std::io::Result<()> {
    let server = IngestionServer::start_with(ServerOptions {
        retain: false,
        validation: Validation::Sample(SAMPLE_EVERY),
        ..ServerOptions::default()
    })?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "{}", server.connection_string())?;
    out.flush()?;
    for line in std::io::stdin().lock().lines() {
        let answer = match line?.trim() {
            "count" => server.received_count() as u64,
            "rss" => azsdk_telemetry_bench::peak_rss_kib(),
            "validated" => server.validated_count() as u64,
            "refused" => server.refused_count() as u64,
            "quit" => break,
            _ => u64::MAX,
        };
        writeln!(out, "{answer}")?;
        out.flush()?;
    }
    Ok(())
}
