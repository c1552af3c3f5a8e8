//! End to end: the `azsdk mcp` binary over stdio, driven by a real rmcp
//! client, and the `ToolExecuted` envelopes it wrote.

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use rmcp::model::{CallToolRequestParams, ClientCapabilities, ClientConfig, Implementation};
use rmcp::transport::{ConfigureCommandExt, TokioChildProcess};
use rmcp::ServiceExt;
use serde_json::{json, Value};
use tokio::io::AsyncReadExt;

/// Variables of the developer's environment that would change what the server records.
const CLEARED: [&str; 9] = [
    "APPLICATIONINSIGHTS_CONNECTION_STRING",
    "AZSDK_TELEMETRY_ENABLED",
    "DO_NOT_TRACK",
    "AZSDK_SIMULATE",
    "AZSDK_TELEMETRY_EXECUTION_MODE",
    "TERM_PROGRAM",
    "VSCODE_PID",
    "VSCODE_IPC_HOOK_CLI",
    "CLAUDECODE",
];

fn envelopes(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(|line| serde_json::from_str(line).ok())
        .collect()
}

fn named<'a>(envelopes: &'a [Value], name: &str) -> Vec<&'a Value> {
    envelopes
        .iter()
        .filter(|envelope| envelope["data"]["baseData"]["name"] == name)
        .collect()
}

fn text_of(result: &rmcp::model::CallToolResult) -> String {
    result
        .content
        .iter()
        .filter_map(|block| block.as_text().map(|text| text.text.clone()))
        .collect::<Vec<_>>()
        .join("\n")
}

fn arguments(value: Value) -> serde_json::Map<String, Value> {
    value.as_object().cloned().expect("an object")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mcp_server_reports_tool_calls_with_the_client_from_initialize() {
    let dir = tempfile::tempdir().unwrap();
    let jsonl = dir.path().join("telemetry.jsonl");
    let command = tokio::process::Command::new(env!("CARGO_BIN_EXE_azsdk")).configure(|command| {
        command
            .arg("mcp")
            .env("AZSDK_TELEMETRY_DIR", dir.path())
            .env("AZSDK_TELEMETRY_JSONL", &jsonl)
            .env("AZSDK_PLATFORM", "VSCode");
        for name in CLEARED {
            command.env_remove(name);
        }
    });
    let (transport, stderr) = TokioChildProcess::builder(command)
        .stderr(Stdio::piped())
        .spawn()
        .expect("azsdk mcp starts");
    let stderr = tokio::spawn(async move {
        let mut text = String::new();
        if let Some(mut stderr) = stderr {
            let _ = stderr.read_to_string(&mut text).await;
        }
        text
    });

    let client = ClientConfig::new(
        ClientCapabilities::default(),
        Implementation::new("Visual Studio Code", "1.100.1"),
    )
    .serve(transport)
    .await
    .expect("initialize");
    let server = client.peer_info().expect("server info");
    assert_eq!(
        server.server_info.as_ref().map(|s| s.name.as_str()),
        Some("azsdk")
    );

    let mut tools: Vec<String> = client
        .list_all_tools()
        .await
        .unwrap()
        .into_iter()
        .map(|tool| tool.name.to_string())
        .collect();
    tools.sort();
    let mut expected = azsdk_telemetry_examples::tools::TOOL_NAMES.map(str::to_owned);
    expected.sort();
    assert_eq!(tools, expected);

    let ok = client
        .call_tool(
            CallToolRequestParams::new("azsdk_verify_setup")
                .with_arguments(arguments(json!({ "languages": [".NET", "Java"] }))),
        )
        .await
        .unwrap();
    assert_ne!(ok.is_error, Some(true), "{}", text_of(&ok));
    assert_eq!(text_of(&ok), "All 2 languages verified successfully");

    let failed = client
        .call_tool(
            CallToolRequestParams::new("azsdk_generate_sdk").with_arguments(arguments(json!({
                "service": "storage",
                "language": "Python",
                "apiVersion": "2025-9-1",
                "apiKey": "mcp-secret-key-5d1e",
            }))),
        )
        .await
        .unwrap();
    assert_eq!(failed.is_error, Some(true));
    assert!(text_of(&failed).contains("invalid api version"));

    client.cancel().await.expect("the client closes");
    // The server flushes and records SystemStopped after stdin closes.
    let deadline = Instant::now() + Duration::from_secs(15);
    while named(&envelopes(&jsonl), "SystemStopped").is_empty() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let stderr = tokio::time::timeout(Duration::from_secs(5), stderr)
        .await
        .map(|text| text.unwrap_or_default())
        .unwrap_or_default();
    let envelopes = envelopes(&jsonl);
    assert!(
        !named(&envelopes, "SystemStopped").is_empty(),
        "the server did not stop cleanly; stderr:\n{stderr}\nenvelopes: {envelopes:#?}"
    );

    let calls = named(&envelopes, "ToolExecuted");
    assert_eq!(calls.len(), 2, "{calls:#?}");
    let properties = |envelope: &Value| envelope["data"]["baseData"]["properties"].clone();

    let verify = properties(calls[0]);
    assert_eq!(calls[0]["data"]["baseData"]["success"], json!(true));
    assert_eq!(verify["toolName"], "azsdk_verify_setup");
    assert_eq!(verify["toolCategory"], "env-setup");
    assert_eq!(
        verify["toolArgs"],
        r#"{"languages":".NET,Java","verbose":false}"#
    );
    assert_eq!(
        verify["toolResponse"],
        "All 2 languages verified successfully"
    );
    assert!(verify.get("errorType").is_none());

    let generate = properties(calls[1]);
    assert_eq!(calls[1]["data"]["baseData"]["success"], json!(false));
    assert_eq!(generate["toolName"], "azsdk_generate_sdk");
    assert_eq!(generate["errorType"], "ValidationError");
    assert_eq!(
        generate["errorMessage"],
        "invalid api version `2025-9-1`: expected YYYY-MM-DD or YYYY-MM-DD-preview"
    );
    assert_eq!(generate["language"], "Python");
    assert_eq!(generate["serviceName"], "storage");

    for call in &calls {
        let props = properties(call);
        assert_eq!(props["clientName"], "Visual Studio Code");
        assert_eq!(props["clientVersion"], "1.100.1");
        assert_eq!(props["executionMode"], "agent-invoked");
        assert_eq!(props["platform"], "VSCode");
    }
    // Start-up happens before `initialize`: SystemStarted has no client yet.
    let started = named(&envelopes, "SystemStarted");
    assert_eq!(started.len(), 1);
    assert!(properties(started[0]).get("clientName").is_none());

    let bytes = serde_json::to_string(&envelopes).unwrap();
    assert!(!bytes.contains("mcp-secret-key-5d1e") && !bytes.contains("apiKey"));
}

/// The server never waits on telemetry: with an endpoint that accepts connections and
/// never answers, `initialize` and every tool call are answered at once, also while the
/// worker's first request hangs. Waiting on it would take the request timeout (10 s) or
/// the shutdown deadline (2 s); the bounds leave a loaded machine's debug build room.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mcp_server_answers_at_once_while_the_endpoint_black_holes() {
    let dir = tempfile::tempdir().unwrap();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let (connected_tx, connected) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().flatten() {
            held.push(stream);
            let _ = connected_tx.send(());
        }
    });
    let connection_string = format!(
        "InstrumentationKey={};IngestionEndpoint=http://127.0.0.1:{port}/",
        azsdk_telemetry_testkit::TEST_INSTRUMENTATION_KEY
    );
    let command = tokio::process::Command::new(env!("CARGO_BIN_EXE_azsdk")).configure(|command| {
        for name in CLEARED {
            command.env_remove(name);
        }
        command
            .arg("mcp")
            .env("AZSDK_TELEMETRY_DIR", dir.path())
            .env("APPLICATIONINSIGHTS_CONNECTION_STRING", &connection_string);
    });
    let started = Instant::now();
    let transport = TokioChildProcess::new(command).expect("azsdk mcp starts");
    let client = ClientConfig::new(
        ClientCapabilities::default(),
        Implementation::new("Visual Studio Code", "1.100.1"),
    )
    .serve(transport)
    .await
    .expect("initialize");
    let initialize = started.elapsed();
    let call = || async {
        let t = Instant::now();
        let reply = client
            .call_tool(
                CallToolRequestParams::new("azsdk_verify_setup")
                    .with_arguments(arguments(json!({ "languages": ["Python"] }))),
            )
            .await
            .unwrap();
        assert_ne!(reply.is_error, Some(true), "{}", text_of(&reply));
        t.elapsed()
    };
    let mut calls = vec![call().await];
    // The worker's first batch (after its 5 s batch age) goes into the black hole.
    tokio::task::spawn_blocking(move || connected.recv_timeout(Duration::from_secs(20)))
        .await
        .unwrap()
        .expect("the worker sent a batch");
    for _ in 0..5 {
        calls.push(call().await);
    }
    eprintln!("initialize {initialize:?}, tool calls {calls:?}");
    assert!(
        initialize < Duration::from_secs(3),
        "initialize: {initialize:?}"
    );
    let slowest = calls.iter().max().unwrap();
    assert!(*slowest < Duration::from_secs(1), "tool calls: {calls:?}");
    client.cancel().await.expect("the client closes");
}
