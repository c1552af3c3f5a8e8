//! What the real-process tests of the `azsdk` binary share: a command with a clean
//! environment, its envelope log, and the tool calls in a list of envelopes.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use serde_json::Value;

/// Variables of the developer's environment that would change where telemetry goes.
pub const CLEARED: [&str; 7] = [
    "APPLICATIONINSIGHTS_CONNECTION_STRING",
    "AZSDK_TELEMETRY_ENABLED",
    "AZSDK_TELEMETRY_JSONL",
    "AZSDK_TELEMETRY_LOG",
    "DO_NOT_TRACK",
    "AZSDK_SIMULATE",
    "CI",
];

/// The command every run times: one tool call.
pub const VERIFY: [&str; 3] = ["verify-setup", "--languages", "Python"];

/// `azsdk verify-setup` with its state in `dir`, sending to `connection_string`, and
/// appending each envelope it writes to `log`.
pub fn verify(dir: &Path, log: &Path, connection_string: &str) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_azsdk"));
    command.args(VERIFY);
    for name in CLEARED {
        command.env_remove(name);
    }
    command
        .env("AZSDK_TELEMETRY_DIR", dir)
        .env("APPLICATIONINSIGHTS_CONNECTION_STRING", connection_string)
        .env("AZSDK_TELEMETRY_LOG", log);
    command
}

/// The envelopes in a log file (none if it does not exist).
pub fn logged(log: &Path) -> Vec<Value> {
    std::fs::read_to_string(log)
        .unwrap_or_default()
        .lines()
        .map(|line| serde_json::from_str(line).expect("a log line is an envelope"))
        .collect()
}

/// How many times each `ToolExecuted` in `envelopes` appears, by its `eventId`.
pub fn tool_calls<'a>(envelopes: impl IntoIterator<Item = &'a Value>) -> BTreeMap<String, usize> {
    let mut calls = BTreeMap::new();
    for envelope in envelopes {
        if envelope["data"]["baseData"]["name"] == "ToolExecuted" {
            let id = envelope["data"]["baseData"]["properties"]["eventId"].to_string();
            *calls.entry(id).or_default() += 1;
        }
    }
    calls
}

/// Spool files waiting in the state directory `dir` (claimed ones included).
pub fn spool_files(dir: &Path) -> usize {
    std::fs::read_dir(dir.join("spool"))
        .map(|entries| {
            entries
                .flatten()
                .filter(|e| e.file_name().to_string_lossy().ends_with(".aispool"))
                .count()
        })
        .unwrap_or(0)
}
