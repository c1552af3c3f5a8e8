//! The local collector command: start it, point a tool at it, read the JSONL.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use azsdk_telemetry::{TelemetryLayer, ToolExecuted};
use tracing_subscriber::prelude::*;

struct Killed(std::process::Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn the_collector_appends_what_a_tool_sends_to_a_jsonl_file() {
    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("collected.jsonl");
    let mut child = Command::new(env!("CARGO_BIN_EXE_azsdk-telemetry-collector"))
        .args(["--output", output.to_str().unwrap()])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let collector = Killed(child);
    let mut first_line = String::new();
    BufReader::new(stdout).read_line(&mut first_line).unwrap();
    let connection_string = first_line.trim().to_owned();
    assert!(
        connection_string.starts_with("InstrumentationKey="),
        "{connection_string}"
    );

    let (layer, handle) = TelemetryLayer::builder()
        .ignore_environment()
        .lifecycle_events(false)
        .connection_string(connection_string)
        .build()
        .unwrap();
    let guard = tracing_subscriber::registry().with(layer).set_default();
    for tool in [
        "azsdk_verify_setup",
        "azsdk_generate_sdk",
        "azsdk_run_tests",
    ] {
        ToolExecuted {
            tool_name: tool.into(),
            success: true,
            ..ToolExecuted::default()
        }
        .emit();
    }
    drop(guard);
    assert!(handle.shutdown(Duration::from_secs(5)));

    let deadline = Instant::now() + Duration::from_secs(5);
    let lines = loop {
        let text = std::fs::read_to_string(&output).unwrap_or_default();
        let lines: Vec<serde_json::Value> = text
            .lines()
            .map(|line| serde_json::from_str(line).unwrap())
            .collect();
        if lines.len() >= 3 || Instant::now() > deadline {
            break lines;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let tools: Vec<&str> = lines
        .iter()
        .map(|e| {
            e["data"]["baseData"]["properties"]["toolName"]
                .as_str()
                .unwrap()
        })
        .collect();
    assert_eq!(
        tools,
        [
            "azsdk_verify_setup",
            "azsdk_generate_sdk",
            "azsdk_run_tests"
        ]
    );
    drop(collector);
}

#[test]
fn bad_arguments_get_the_usage_and_exit_code_2() {
    let output = Command::new(env!("CARGO_BIN_EXE_azsdk-telemetry-collector"))
        .args(["--port", "seventy"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("--port takes a number"), "{stderr}");
    assert!(stderr.contains("usage:"), "{stderr}");
}
