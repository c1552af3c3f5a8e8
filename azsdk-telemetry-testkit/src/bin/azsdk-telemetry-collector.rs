//! A local Application Insights collector: listens on 127.0.0.1, speaks the
//! ingestion protocol, and appends every accepted envelope to a JSONL file —
//! to see exactly what a tool sends, or to feed `azsdk-telemetry-report`.
//!
//! ```text
//! azsdk-telemetry-collector [--port PORT] [--output FILE]
//! ```
//!
//! It prints the connection string to use on its first line of stdout and
//! runs until stopped (Ctrl-C).

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use azsdk_telemetry_testkit::{IngestionServer, ServerOptions};

const USAGE: &str = "usage: azsdk-telemetry-collector [--port PORT] [--output FILE]
  --port PORT    port on 127.0.0.1 (default 0: any free port)
  --output FILE  JSONL file to append envelopes to (default: telemetry.jsonl)";

fn parse(args: &[String]) -> Result<ServerOptions, String> {
    let mut options = ServerOptions {
        jsonl: Some(PathBuf::from("telemetry.jsonl")),
        retain: false,
        ..ServerOptions::default()
    };
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        let mut value = |name: &str| {
            args.next()
                .cloned()
                .ok_or_else(|| format!("{name} needs a value"))
        };
        match arg.as_str() {
            "--port" => {
                let text = value("--port")?;
                options.port = text
                    .parse()
                    .map_err(|_| format!("--port takes a number from 0 to 65535, not `{text}`"))?;
            }
            "--output" => options.jsonl = Some(PathBuf::from(value("--output")?)),
            "-h" | "--help" => return Err(String::new()),
            other => return Err(format!("unknown argument `{other}`")),
        }
    }
    Ok(options)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let options = match parse(&args) {
        Ok(options) => options,
        Err(message) => {
            if !message.is_empty() {
                eprintln!("azsdk-telemetry-collector: {message}");
            }
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    let output = options.jsonl.clone().unwrap_or_default();
    let server = match IngestionServer::start_with(options) {
        Ok(server) => server,
        Err(error) => {
            eprintln!("azsdk-telemetry-collector: could not start: {error}");
            return ExitCode::FAILURE;
        }
    };
    println!("{}", server.connection_string());
    eprintln!(
        "collecting into {}; set APPLICATIONINSIGHTS_CONNECTION_STRING to the line above; Ctrl-C stops",
        output.display()
    );
    let mut reported = 0;
    loop {
        std::thread::sleep(Duration::from_secs(1));
        let count = server.received_count();
        if count != reported {
            eprintln!("{count} envelopes received");
            reported = count;
        }
    }
}
