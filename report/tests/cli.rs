//! The `azsdk-telemetry-report` binary on a temporary JSONL file, in every format.

mod common;

use std::path::Path;
use std::process::{Command, Output};

use common::{call_on, jsonl};
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_azsdk-telemetry-report");

fn fixture(dir: &Path) -> std::path::PathBuf {
    let mut events = vec![
        call_on("2025-10-01", "a")
            .tool("azsdk_generate_sdk", "generating")
            .ms(12_000),
        call_on("2025-10-02", "a").ms(3000),
        call_on("2025-10-02", "b").ms(1000).failed("TestFailure"),
        call_on("2025-10-02", "b")
            .tool("azsdk_generate_sdk", "generating")
            .ms(10_000)
            .prop("language", "<script>alert(1)</script>"),
    ];
    events.push(call_on("2025-10-02", "c").tool("azsdk_generate_sdk", "generating"));
    let path = dir.join("events.jsonl");
    std::fs::write(&path, jsonl(&events) + "this line is not JSON\n").unwrap();
    path
}

fn run(args: &[&str]) -> Output {
    let output = Command::new(BIN).args(args).output().unwrap();
    assert!(
        output.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

#[test]
fn json_has_the_documented_keys_and_values() {
    let dir = tempfile::tempdir().unwrap();
    let file = fixture(dir.path());
    let output = run(&["--format", "json", file.to_str().unwrap()]);
    let json: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(json["asOf"], "2025-10-02");
    assert_eq!(
        (
            json["mau"].as_u64(),
            json["meu"].as_u64(),
            json["mdu"].as_u64()
        ),
        (Some(3), Some(1), Some(0))
    );
    assert_eq!(json["input"]["skipped"], 1);
    let tools = json["tools"].as_array().unwrap();
    assert_eq!(tools.len(), 2);
    for tool in tools {
        for key in [
            "toolName",
            "calls",
            "successRate",
            "avgMs",
            "p50Ms",
            "p95Ms",
        ] {
            assert!(tool.get(key).is_some(), "{key} in {tool}");
        }
    }
    let generate = &tools[0];
    assert_eq!(generate["toolName"], "azsdk_generate_sdk");
    assert_eq!(generate["calls"], 3);
    assert_eq!(generate["successRate"], 100.0);
    assert_eq!(generate["avgMs"], 7666.667);
    assert_eq!(generate["p50Ms"], 10_000.0);
    assert_eq!(generate["p95Ms"], 12_000.0);
    let tests = &tools[1];
    assert_eq!(
        (tests["calls"].as_u64(), tests["successRate"].as_f64()),
        (Some(2), Some(50.0))
    );

    // --as-of moves the window: on 2025-10-01 only `a` was active.
    let earlier = run(&[
        "--format=json",
        "--as-of",
        "2025-10-01",
        file.to_str().unwrap(),
    ]);
    let json: Value = serde_json::from_slice(&earlier.stdout).unwrap();
    assert_eq!(json["mau"], 1);
    assert_eq!(json["windowStart"], "2025-09-04");
}

#[test]
fn table_is_the_default_format() {
    let dir = tempfile::tempdir().unwrap();
    let file = fixture(dir.path());
    let text = String::from_utf8(run(&[file.to_str().unwrap()]).stdout).unwrap();
    assert!(text.contains("2025-09-05 to 2025-10-02"), "{text}");
    assert!(text.contains("azsdk_generate_sdk"));
    assert!(text.contains("skipped 1: not JSON"));
}

#[test]
fn html_is_self_contained_with_svg_charts() {
    let dir = tempfile::tempdir().unwrap();
    let file = fixture(dir.path());
    let out = dir.path().join("report.html");
    run(&[
        "--format",
        "html",
        "--output",
        out.to_str().unwrap(),
        file.to_str().unwrap(),
    ]);
    let page = std::fs::read_to_string(out).unwrap();
    assert!(page.starts_with("<!DOCTYPE html>"));
    assert!(page.contains("<svg"));
    assert!(!page.contains("http://") && !page.contains("https://"));
    assert!(!page.contains("<script"), "values are escaped");
    assert!(page.contains("&lt;script&gt;"));
}

#[test]
fn errors_say_what_to_do() {
    let missing = Command::new(BIN)
        .arg("/nonexistent/events.jsonl")
        .output()
        .unwrap();
    assert!(!missing.status.success());
    let stderr = String::from_utf8_lossy(&missing.stderr);
    assert!(
        stderr.contains("cannot read /nonexistent/events.jsonl"),
        "{stderr}"
    );

    let dir = tempfile::tempdir().unwrap();
    let file = fixture(dir.path());
    let bad_day = Command::new(BIN)
        .args(["--as-of", "10/02/2025", file.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(!bad_day.status.success());
    assert!(String::from_utf8_lossy(&bad_day.stderr).contains("YYYY-MM-DD"));

    let no_files = Command::new(BIN).output().unwrap();
    assert!(!no_files.status.success());
}
