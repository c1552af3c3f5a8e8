//! The `azsdk` binary run as a process: exit codes, stdout holding the
//! tool's output only, the telemetry it wrote, `config set`, opt-out, and
//! `azsdk demo` to a JSONL file and to a loopback Application Insights.

use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

use azsdk_telemetry_testkit::IngestionServer;
use serde_json::Value;

/// Variables of the developer's environment that would change the outcome.
const CLEARED: [&str; 12] = [
    "APPLICATIONINSIGHTS_CONNECTION_STRING",
    "AZSDK_TELEMETRY_AUTH",
    "AZSDK_TELEMETRY_ENABLED",
    "DO_NOT_TRACK",
    "AZSDK_SIMULATE",
    "AZSDK_TELEMETRY_EXECUTION_MODE",
    "AZSDK_API_KEY",
    "TERM_PROGRAM",
    "VSCODE_PID",
    "VSCODE_IPC_HOOK_CLI",
    "CLAUDECODE",
    "CI",
];

/// `azsdk ARGS` with its state in `dir` and telemetry to `dir/telemetry.jsonl`.
fn azsdk(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_azsdk"));
    command
        .args(args)
        .env("AZSDK_TELEMETRY_DIR", dir)
        .env("AZSDK_TELEMETRY_JSONL", dir.join("telemetry.jsonl"));
    for name in CLEARED {
        command.env_remove(name);
    }
    for (name, value) in env {
        command.env(name, value);
    }
    command.output().expect("azsdk runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn envelopes(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|line| serde_json::from_str(line).expect("one envelope per line"))
        .collect()
}

fn tool_calls(path: &Path) -> Vec<Value> {
    envelopes(path)
        .into_iter()
        .filter(|envelope| envelope["data"]["baseData"]["name"] == "ToolExecuted")
        .map(|envelope| envelope["data"]["baseData"]["properties"].clone())
        .collect()
}

const GENERATE: [&str; 9] = [
    "generate-sdk",
    "--service",
    "healthdataaiservices",
    "--language",
    ".NET",
    "--api-version",
    "2025-09-01",
    "--api-key",
    "cli-secret-key-77aa",
];

#[test]
fn a_tool_prints_only_its_output_and_records_a_direct_cli_call() {
    let dir = tempfile::tempdir().unwrap();
    let output = azsdk(dir.path(), &GENERATE, &[]);
    assert!(output.status.success(), "stderr: {}", stderr(&output));
    let text = stdout(&output);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 1, "stdout: {text}");
    assert!(
        lines[0].starts_with("Generated Azure.Healthdataaiservices (api-version 2025-09-01): ")
            && lines[0].ends_with(" files in sdk/healthdataaiservices/Azure.Healthdataaiservices"),
        "stdout: {text}"
    );

    let calls = tool_calls(&dir.path().join("telemetry.jsonl"));
    assert_eq!(calls.len(), 1);
    let call = &calls[0];
    assert_eq!(call["toolName"], "azsdk_generate_sdk");
    assert_eq!(call["platform"], "CLI");
    assert_eq!(call["executionMode"], "direct");
    assert_eq!(
        call["toolArgs"],
        r#"{"service":"healthdataaiservices","language":".NET","apiVersion":"2025-09-01","plane":"data","customCode":false}"#
    );
    assert!(call.get("clientName").is_none());
    let bytes = std::fs::read_to_string(dir.path().join("telemetry.jsonl")).unwrap();
    assert!(!bytes.contains("cli-secret-key-77aa"));
}

#[test]
fn cli_invocations_share_a_session_and_failures_set_the_exit_code() {
    let dir = tempfile::tempdir().unwrap();
    let invalid = azsdk(
        dir.path(),
        &[
            "generate-sdk",
            "--service",
            "storage",
            "--language",
            "java",
            "--api-version",
            "2025-9-1",
        ],
        &[],
    );
    assert_eq!(invalid.status.code(), Some(2));
    assert_eq!(stdout(&invalid), "");
    assert!(stderr(&invalid).contains("error: invalid api version `2025-9-1`"));

    let tests = azsdk(
        dir.path(),
        &[
            "run-tests",
            "--service",
            "storage",
            "--language",
            "python",
            "--simulate",
            "test-failure",
        ],
        &[],
    );
    assert_eq!(tests.status.code(), Some(1));
    assert!(
        stdout(&tests).contains("FAILED test_"),
        "{}",
        stdout(&tests)
    );

    let calls = tool_calls(&dir.path().join("telemetry.jsonl"));
    assert_eq!(calls.len(), 2);
    assert_eq!(calls[0]["errorType"], "ValidationError");
    assert_eq!(calls[1]["errorType"], "TestFailure");
    assert_eq!(calls[1]["toolResponse"], "Test execution failed");
    assert_eq!(
        calls[0]["sessionId"], calls[1]["sessionId"],
        "CLI sessions span invocations"
    );
}

#[test]
fn config_set_records_the_change_then_nothing_more() {
    let dir = tempfile::tempdir().unwrap();
    let jsonl = dir.path().join("telemetry.jsonl");
    let output = azsdk(
        dir.path(),
        &["config", "set", "telemetry.enabled", "false"],
        &[],
    );
    assert!(output.status.success(), "stderr: {}", stderr(&output));
    assert_eq!(stdout(&output), "telemetry.enabled = false\n");
    let configured: Vec<Value> = envelopes(&jsonl)
        .into_iter()
        .filter(|envelope| envelope["data"]["baseData"]["name"] == "SystemConfigured")
        .collect();
    assert_eq!(configured.len(), 1);
    assert_eq!(
        configured[0]["data"]["baseData"]["properties"]["configChanges"],
        r#"{"telemetryEnabled":false}"#
    );
    let before = envelopes(&jsonl).len();

    assert!(azsdk(dir.path(), &GENERATE, &[]).status.success());
    assert_eq!(envelopes(&jsonl).len(), before, "opted out: nothing more");

    let demo = azsdk(dir.path(), &["demo", "--calls", "5"], &[]);
    assert!(demo.status.success());
    assert_eq!(stdout(&demo), "");
    assert!(
        stderr(&demo).contains("telemetry is off"),
        "{}",
        stderr(&demo)
    );
}

#[test]
fn opted_out_by_environment_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let output = azsdk(dir.path(), &GENERATE, &[("DO_NOT_TRACK", "1")]);
    assert!(output.status.success());
    assert!(!dir.path().join("telemetry.jsonl").exists());

    let demo_dir = dir.path().join("demo");
    let demo = azsdk(
        dir.path(),
        &["demo", "--dir", demo_dir.to_str().unwrap()],
        &[("AZSDK_TELEMETRY_ENABLED", "false")],
    );
    assert!(demo.status.success());
    assert!(stderr(&demo).contains("AZSDK_TELEMETRY_ENABLED=false"));
    assert!(!demo_dir.exists());
}

#[test]
fn the_demo_writes_a_report_with_the_leadership_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let demo_dir = dir.path().join("demo");
    let report = dir.path().join("report.json");
    let demo = |extra: &[&str]| {
        let mut args = vec![
            "demo", "--calls", "60", "--days", "14", "--seed", "7", "--format", "json", "--quiet",
            "--pace", "0", "--dir",
        ];
        args.push(demo_dir.to_str().unwrap());
        args.extend_from_slice(extra);
        azsdk(dir.path(), &args, &[])
    };
    let output = demo(&["--output", report.to_str().unwrap()]);
    assert!(output.status.success(), "stderr: {}", stderr(&output));
    assert_eq!(stdout(&output), "", "the report went to the file");
    assert!(stderr(&output).contains("JSONL sink"));

    let json: Value = serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    for key in ["mau", "meu", "mdu", "tools"] {
        assert!(json.get(key).is_some(), "no `{key}` in {json:#}");
    }
    assert!(json["mau"].as_u64().unwrap() >= 5, "{json:#}");
    let calls: u64 = json["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|tool| tool["calls"].as_u64().unwrap())
        .sum();
    assert_eq!(calls, 60);

    let written = envelopes(&demo_dir.join("demo-telemetry.jsonl"));
    let tools: Vec<&Value> = written
        .iter()
        .filter(|envelope| envelope["data"]["baseData"]["name"] == "ToolExecuted")
        .collect();
    assert_eq!(tools.len(), 60);
    let devices: std::collections::BTreeSet<&str> = tools
        .iter()
        .filter_map(|e| e["data"]["baseData"]["properties"]["devDeviceId"].as_str())
        .collect();
    assert!(devices.len() >= 5);
    let text = serde_json::to_string(&written).unwrap();
    for secret in ["azsdk_sk_", "ghp_", "@contoso.com", "/home/"] {
        assert!(!text.contains(secret), "`{secret}` leaked");
    }
    // The same seed gives the same workload.
    let again = demo(&[]);
    let again: Value = serde_json::from_slice(&again.stdout).unwrap();
    // Latencies are measured; what the seed decides must repeat.
    let decided = |report: &Value| -> Vec<(Value, Value, Value)> {
        report["tools"]
            .as_array()
            .unwrap()
            .iter()
            .map(|tool| {
                (
                    tool["toolName"].clone(),
                    tool["calls"].clone(),
                    tool["successRate"].clone(),
                )
            })
            .collect()
    };
    assert_eq!(decided(&again), decided(&json));
    for key in ["mau", "meu", "mdu"] {
        assert_eq!(again[key], json[key]);
    }
}

#[test]
fn the_demo_sends_to_application_insights_within_its_48_hours() {
    let server = IngestionServer::start();
    let dir = tempfile::tempdir().unwrap();
    let demo_dir = dir.path().join("demo");
    let output = azsdk(
        dir.path(),
        &[
            "demo",
            "--calls",
            "40",
            "--quiet",
            "--pace",
            "0",
            "--dir",
            demo_dir.to_str().unwrap(),
        ],
        &[(
            "APPLICATIONINSIGHTS_CONNECTION_STRING",
            &server.connection_string(),
        )],
    );
    let notes = stderr(&output);
    assert!(output.status.success(), "stderr: {notes}");
    assert!(
        notes.contains("compressed into the last 47 hours"),
        "{notes}"
    );
    assert!(stdout(&output).contains("Active users"));

    let local = envelopes(&demo_dir.join("demo-telemetry.jsonl"));
    assert!(server.wait_for(local.len(), Duration::from_secs(10)));
    let received = server.received();
    assert_eq!(received.len(), local.len(), "{notes}");
    assert!(
        notes.contains(&format!("Application Insights: {} sent", local.len())),
        "{notes}"
    );
    let tool_calls = received
        .iter()
        .filter(|envelope| envelope["data"]["baseData"]["name"] == "ToolExecuted")
        .count();
    assert_eq!(tool_calls, 40);
}

/// A state directory that cannot be created (below a regular file): the command works, its
/// call goes out over HTTP from memory, no spool appears, and the status says why.
#[test]
fn an_unusable_state_directory_means_memory_only_and_the_status_says_so() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("not-a-directory");
    std::fs::write(&file, b"x").unwrap();
    let state = file.join("state");
    let server = IngestionServer::start();
    let cs = server.connection_string();
    // CI's exit budget (5 s): without a spool, an answer later than the CLI's 250 ms would
    // lose the call (counted), and a loaded machine must not fail the test.
    let env = [
        ("APPLICATIONINSIGHTS_CONNECTION_STRING", cs.as_str()),
        ("CI", "true"),
    ];
    let output = azsdk(&state, &["verify-setup", "--languages", "Python"], &env);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(stdout(&output), "Python verified successfully\n");
    let calls: Vec<_> = server
        .received()
        .into_iter()
        .filter(|e| e["data"]["baseData"]["name"] == "ToolExecuted")
        .collect();
    assert_eq!(calls.len(), 1, "the call went out over HTTP");
    let status = azsdk(&state, &["telemetry", "status", "--format", "json"], &env);
    let status: Value = serde_json::from_slice(&status.stdout).expect("status JSON");
    assert!(
        status["spool"]["unavailable"].as_str().is_some(),
        "{status:#}"
    );
    assert_eq!(std::fs::read(&file).unwrap(), b"x", "nothing created");
    assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 1);
}

#[test]
#[cfg(unix)]
fn entra_auth_sends_the_azure_cli_token_to_a_resource_without_local_auth() {
    use azsdk_telemetry_testkit::Auth;
    use std::os::unix::fs::PermissionsExt;
    let server = IngestionServer::start();
    server.set_auth(Auth::Entra {
        token: "az-cli-token-5e1f".into(),
        forbidden: false,
    });
    let dir = tempfile::tempdir().unwrap();
    // An `az` on PATH that answers `az account get-access-token` as Azure CLI 2.54+ does.
    let bin = dir.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    let az = bin.join("az");
    std::fs::write(
        &az,
        "#!/bin/sh\nprintf '%s\\n' \"$*\" >> \"$AZ_ARGS\"\nexp=$(( $(date +%s) + 3600 ))\n\
         printf '{\"accessToken\":\"az-cli-token-5e1f\",\"expires_on\":%s,\"tokenType\":\"Bearer\"}' \"$exp\"\n",
    )
    .unwrap();
    std::fs::set_permissions(&az, std::fs::Permissions::from_mode(0o755)).unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let args = dir.path().join("az-args");
    let output = azsdk(
        dir.path(),
        &GENERATE,
        &[
            (
                "APPLICATIONINSIGHTS_CONNECTION_STRING",
                &server.connection_string(),
            ),
            ("AZSDK_TELEMETRY_AUTH", "entra"),
            ("PATH", &path),
            ("AZ_ARGS", args.to_str().unwrap()),
            // The CI exit budget: seconds, not the interactive 250 ms.
            ("CI", "true"),
        ],
    );
    assert!(output.status.success(), "stderr: {}", stderr(&output));
    assert!(
        server.wait_for(1, Duration::from_secs(10)),
        "stderr: {}",
        stderr(&output)
    );
    let requests = server.requests();
    assert!(requests
        .iter()
        .all(|r| r.header("authorization") == Some("Bearer az-cli-token-5e1f")));
    let calls = server.received();
    assert!(calls
        .iter()
        .any(|e| e["data"]["baseData"]["name"] == "ToolExecuted"));
    let asked = std::fs::read_to_string(&args).unwrap();
    assert_eq!(
        asked.trim(),
        "account get-access-token -o json --scope https://monitor.azure.com//.default"
    );
}
