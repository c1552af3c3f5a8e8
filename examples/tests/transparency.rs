//! Transparency, through the `azsdk` binary and the example's manifest: what
//! is collected (checked in as `telemetry-manifest.json`), log mode's lines
//! against what a loopback Application Insights receives, and the status
//! while telemetry is off.

use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

use azsdk_telemetry_testkit::IngestionServer;
use serde_json::Value;

/// Variables of the developer's environment that would change the outcome.
const CLEARED: [&str; 8] = [
    "APPLICATIONINSIGHTS_CONNECTION_STRING",
    "AZSDK_TELEMETRY_ENABLED",
    "AZSDK_TELEMETRY_LOG",
    "AZSDK_TELEMETRY_JSONL",
    "DO_NOT_TRACK",
    "AZSDK_SIMULATE",
    "AZSDK_TELEMETRY_EXECUTION_MODE",
    "CI",
];

const CHECKED_IN: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/telemetry-manifest.json");

fn azsdk(args: &[&str], env: &[(&str, &Path)], vars: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_azsdk"));
    command.args(args);
    for name in CLEARED {
        command.env_remove(name);
    }
    for (name, value) in env {
        command.env(name, value);
    }
    for (name, value) in vars {
        command.env(name, value);
    }
    command.output().expect("azsdk runs")
}

/// The tools' manifest is the reviewed, checked-in one (this test binary links
/// the example's tools, as `azsdk` does).
#[test]
fn the_example_manifest_matches_its_checked_in_file() {
    let _ = azsdk_telemetry_examples::tools::Toolbox::new;
    azsdk_telemetry_testkit::assert_manifest(CHECKED_IN);
}

#[test]
fn the_cli_prints_the_manifest_as_json_and_markdown() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let json = azsdk(
        &["telemetry", "manifest"],
        &[("AZSDK_TELEMETRY_DIR", &state)],
        &[],
    );
    assert!(json.status.success(), "{json:?}");
    let printed = String::from_utf8(json.stdout).unwrap();
    assert_eq!(printed, std::fs::read_to_string(CHECKED_IN).unwrap());
    let manifest: Value = serde_json::from_str(&printed).unwrap();
    let generate = manifest["tools"]
        .as_array()
        .unwrap()
        .iter()
        .find(|tool| tool["name"] == "azsdk_generate_sdk")
        .expect("azsdk_generate_sdk is in the manifest");
    assert_eq!(generate["category"], "generating");
    let language = &generate["fields"][1];
    assert_eq!(
        (&language["key"], &language["mode"], &language["dimension"]),
        (
            &Value::from("language"),
            &Value::from("allow"),
            &Value::from("language")
        )
    );
    let markdown = azsdk(
        &["telemetry", "manifest", "--format", "markdown"],
        &[("AZSDK_TELEMETRY_DIR", &state)],
        &[],
    );
    let markdown = String::from_utf8(markdown.stdout).unwrap();
    assert!(
        markdown.contains("## `azsdk_generate_sdk` (generating)"),
        "{markdown}"
    );
    assert!(markdown.contains("| `tenantId` | hash |  |"), "{markdown}");
    // Printing the manifest is not telemetry: nothing was created.
    assert!(!state.exists());
}

/// Every file under `dir`, relative, sorted.
fn tree(dir: &Path) -> Vec<String> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(at) = stack.pop() {
        for entry in std::fs::read_dir(&at).into_iter().flatten().flatten() {
            let path = entry.path();
            found.push(path.strip_prefix(dir).unwrap().display().to_string());
            if path.is_dir() {
                stack.push(path);
            }
        }
    }
    found.sort();
    found
}

#[test]
fn status_while_off_says_why_and_touches_no_file() {
    let server = IngestionServer::start();
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    std::fs::create_dir(&home).unwrap();
    let state = dir.path().join("state");
    let before = tree(dir.path());
    let output = azsdk(
        &["telemetry", "status", "--format", "json"],
        &[
            ("AZSDK_TELEMETRY_DIR", &state),
            ("HOME", &home),
            ("XDG_CACHE_HOME", &home.join("cache")),
            ("XDG_DATA_HOME", &home.join("data")),
            ("XDG_CONFIG_HOME", &home.join("config")),
            ("AZSDK_TELEMETRY_LOG", &dir.path().join("log.jsonl")),
        ],
        &[
            ("AZSDK_TELEMETRY_ENABLED", "false"),
            (
                "APPLICATIONINSIGHTS_CONNECTION_STRING",
                &server.connection_string(),
            ),
        ],
    );
    assert!(output.status.success(), "{output:?}");
    let status: Value = serde_json::from_slice(&output.stdout).expect("one JSON object");
    assert_eq!(status["enabled"], false);
    assert_eq!(status["reason"], "AZSDK_TELEMETRY_ENABLED=false");
    let keys: Vec<&str> = status
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "enabled",
            "reason",
            "destination",
            "session",
            "spool",
            "lastSend",
            "counters"
        ]
    );
    assert_eq!(status["destination"]["sink"], "applicationInsights");
    let host = status["destination"]["host"].as_str().unwrap();
    assert!(server.endpoint().contains(host), "{host}");
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        !text.contains(azsdk_telemetry_testkit::TEST_INSTRUMENTATION_KEY),
        "{text}"
    );
    assert_eq!(status["session"], Value::Null);
    assert_eq!(status["lastSend"], Value::Null);
    assert_eq!(status["counters"]["emitted"], 0);
    // Nothing was created, and nothing was sent.
    assert_eq!(tree(dir.path()), before);
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(server.requests().len(), 0);
    // The same for a person.
    let text = azsdk(
        &["telemetry", "status"],
        &[("AZSDK_TELEMETRY_DIR", &state), ("HOME", &home)],
        &[("AZSDK_TELEMETRY_ENABLED", "false")],
    );
    let text = String::from_utf8(text.stdout).unwrap();
    assert!(
        text.starts_with("telemetry: off (AZSDK_TELEMETRY_ENABLED=false)\n"),
        "{text}"
    );
    assert_eq!(tree(dir.path()), before);
}

#[test]
fn status_while_on_names_the_destination_and_the_session() {
    let dir = tempfile::tempdir().unwrap();
    let jsonl = dir.path().join("t.jsonl");
    let output = azsdk(
        &["telemetry", "status", "--format", "json"],
        &[
            ("AZSDK_TELEMETRY_DIR", dir.path()),
            ("AZSDK_TELEMETRY_JSONL", &jsonl),
        ],
        &[],
    );
    assert!(output.status.success(), "{output:?}");
    let status: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(status["enabled"], true);
    assert_eq!(status["reason"], "default");
    assert_eq!(status["destination"]["sink"], "jsonl");
    assert_eq!(status["destination"]["path"], jsonl.display().to_string());
    assert!(status["session"].as_str().is_some_and(|s| !s.is_empty()));
}

#[test]
fn log_mode_lines_are_the_bytes_the_server_receives() {
    let server = IngestionServer::start();
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("sent.jsonl");
    let mut lines_sent = Vec::new();
    for args in [
        &["verify-setup", "--languages", "python"][..],
        &["verify-setup", "--languages", "go", "--verbose"][..],
    ] {
        let output = azsdk(
            args,
            &[
                ("AZSDK_TELEMETRY_DIR", dir.path()),
                ("AZSDK_TELEMETRY_LOG", &log),
            ],
            &[(
                "APPLICATIONINSIGHTS_CONNECTION_STRING",
                &server.connection_string(),
            )],
        );
        assert!(output.status.code().is_some(), "{output:?}");
        // Never on stdout, which is the tool's.
        assert!(!String::from_utf8_lossy(&output.stdout).contains("\"iKey\""));
    }
    for request in server.requests() {
        lines_sent.extend(
            request
                .body
                .split(|&b| b == b'\n')
                .filter(|line| !line.is_empty())
                .map(<[u8]>::to_vec),
        );
    }
    let logged: Vec<Vec<u8>> = std::fs::read(&log)
        .expect("the log was written")
        .split(|&b| b == b'\n')
        .filter(|line| !line.is_empty())
        .map(<[u8]>::to_vec)
        .collect();
    assert!(lines_sent.len() >= 2, "{} lines sent", lines_sent.len());
    assert_eq!(logged.len(), lines_sent.len());
    for (logged, sent) in logged.iter().zip(&lines_sent) {
        assert_eq!(
            String::from_utf8_lossy(logged),
            String::from_utf8_lossy(sent),
            "a logged line differs from the one sent"
        );
    }
    let tools: Vec<Value> = logged
        .iter()
        .map(|line| serde_json::from_slice::<Value>(line).unwrap())
        .filter(|e| e["data"]["baseData"]["name"] == "ToolExecuted")
        .collect();
    assert_eq!(tools.len(), 2);
}
