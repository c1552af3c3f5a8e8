//! A small program the integration tests run as a child process, to observe
//! what only a whole process shows: what it prints where, and what a crash
//! leaves behind.
//!
//! Usage: `telemetry-child MODE STATE_DIR` with MODE one of
//! `notice` (start and stop normally, printing a marker on stdout) or
//! `panic` (panic on the main thread with a message that holds a secret and
//! a path). Records go to `STATE_DIR/telemetry.jsonl`, or to Application
//! Insights when `APPLICATIONINSIGHTS_CONNECTION_STRING` is set.

use std::time::Duration;

use azsdk_telemetry::TelemetryLayer;
use tracing_subscriber::prelude::*;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (Some(mode), Some(state_dir)) = (args.get(1), args.get(2)) else {
        eprintln!("usage: telemetry-child notice|panic STATE_DIR");
        std::process::exit(2);
    };
    let mut builder = TelemetryLayer::builder()
        .app_name("telemetry-child")
        .app_version("1.0.0")
        .state_dir(state_dir);
    if std::env::var_os("APPLICATIONINSIGHTS_CONNECTION_STRING").is_none() {
        builder = builder.jsonl_path(std::path::Path::new(state_dir).join("telemetry.jsonl"));
    }
    let built = builder.build();
    let (layer, handle) = match built {
        Ok(built) => built,
        Err(error) => {
            eprintln!("telemetry-child: {error}");
            std::process::exit(3);
        }
    };
    tracing_subscriber::registry().with(layer).init();
    println!("stdout-marker");
    match mode.as_str() {
        "notice" => {
            handle.shutdown(Duration::from_secs(2));
        }
        "panic" => {
            let home = std::env::var("HOME").unwrap_or_default();
            panic!("could not open {home}/secrets.txt with AccountKey=c2VjcmV0a2V5c2VjcmV0a2V5c2VjcmV0a2V5c2VjcmV0a2V5c2VjcmV0a2V5MTIzNA==");
        }
        other => {
            eprintln!("telemetry-child: unknown mode {other}");
            std::process::exit(2);
        }
    }
}
