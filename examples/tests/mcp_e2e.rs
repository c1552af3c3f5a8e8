//! End to end: the `azsdk mcp` binary over stdio, driven by a real rmcp
//! client, and the `ToolExecuted` envelopes it wrote.

use std::path::{Path, PathBuf};
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

/// Variables that name the platform: removed where a test lets the client name it.
const PLATFORM_VARIABLES: [&str; 8] = [
    "AZSDK_PLATFORM",
    "GITHUB_ACTIONS",
    "CODESPACES",
    "TERMINAL_EMULATOR",
    "IDEA_INITIAL_DIRECTORY",
    "TF_BUILD",
    "GITLAB_CI",
    "CI",
];

/// `azsdk mcp` as a child process, its client, and where its envelopes go.
struct Session {
    client: rmcp::service::RunningService<rmcp::RoleClient, ClientConfig>,
    jsonl: PathBuf,
    stderr: tokio::task::JoinHandle<String>,
    _dir: tempfile::TempDir,
}

/// Starts `azsdk mcp` with `env` set and `remove` removed, and initializes as `client_name`.
async fn start(client_name: &str, env: &[(&str, &str)], remove: &[&str]) -> Session {
    let dir = tempfile::tempdir().unwrap();
    let jsonl = dir.path().join("telemetry.jsonl");
    let command = tokio::process::Command::new(env!("CARGO_BIN_EXE_azsdk")).configure(|command| {
        command
            .arg("mcp")
            .env("AZSDK_TELEMETRY_DIR", dir.path())
            .env("AZSDK_TELEMETRY_JSONL", &jsonl);
        for name in CLEARED.iter().chain(remove) {
            command.env_remove(name);
        }
        for (name, value) in env {
            command.env(name, value);
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
        Implementation::new(client_name, "1.100.1"),
    )
    .serve(transport)
    .await
    .expect("initialize");
    Session {
        client,
        jsonl,
        stderr,
        _dir: dir,
    }
}

impl Session {
    /// Closes the client and returns every envelope the server wrote, once it wrote
    /// `SystemStopped`.
    async fn stop(self) -> Vec<Value> {
        self.client.cancel().await.expect("the client closes");
        // The server flushes and records SystemStopped after stdin closes.
        let deadline = Instant::now() + Duration::from_secs(15);
        while named(&envelopes(&self.jsonl), "SystemStopped").is_empty()
            && Instant::now() < deadline
        {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let stderr = tokio::time::timeout(Duration::from_secs(5), self.stderr)
            .await
            .map(|text| text.unwrap_or_default())
            .unwrap_or_default();
        let envelopes = envelopes(&self.jsonl);
        assert!(
            !named(&envelopes, "SystemStopped").is_empty(),
            "the server did not stop cleanly; stderr:\n{stderr}\nenvelopes: {envelopes:#?}"
        );
        envelopes
    }
}

fn properties(envelope: &Value) -> Value {
    envelope["data"]["baseData"]["properties"].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mcp_server_reports_tool_calls_with_the_client_from_initialize() {
    let session = start("Visual Studio Code", &[("AZSDK_PLATFORM", "VSCode")], &[]).await;
    let client = &session.client;
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

    let envelopes = session.stop().await;

    let calls = named(&envelopes, "ToolExecuted");
    assert_eq!(calls.len(), 2, "{calls:#?}");

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

/// A call the test sends, and what its `ToolExecuted` must say.
struct Expected {
    tool: &'static str,
    arguments: Value,
    success: bool,
    error_type: Option<&'static str>,
    /// The start of `errorMessage`.
    message: Option<&'static str>,
}

fn rejected(
    tool: &'static str,
    arguments: Value,
    error_type: &'static str,
    message: &'static str,
) -> Expected {
    Expected {
        tool,
        arguments,
        success: false,
        error_type: Some(error_type),
        message: Some(message),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_tools_call_is_recorded_once_rejected_arguments_classified_without_their_values() {
    let session = start("claude-ai", &[], &PLATFORM_VARIABLES).await;
    let client = &session.client;
    let calls = [
        rejected(
            "azsdk_generate_sdk",
            json!({ "service": "storage" }),
            "MissingField",
            "argument `language` is missing",
        ),
        rejected(
            "azsdk_generate_sdk",
            json!({ "service": "storage", "language": "Rust-lang-7f3a" }),
            "UnknownVariant",
            "argument `language` is not one of its allowed values: expected one of `.NET`",
        ),
        rejected(
            "azsdk_generate_sdk",
            json!({ "service": "storage", "language": "" }),
            "UnknownVariant",
            "argument `language` is not one of its allowed values: expected one of `.NET`",
        ),
        rejected(
            "azsdk_run_pr_checks",
            json!({ "service": "storage", "languages": ["Java", "Cobol-9e1d"] }),
            "UnknownVariant",
            "argument `languages` is not one of its allowed values",
        ),
        // In MCP a list of languages is an array; every language is no list, not `all`.
        rejected(
            "azsdk_verify_setup",
            json!({ "languages": ["all"] }),
            "UnknownVariant",
            "argument `languages` is not one of its allowed values",
        ),
        rejected(
            "azsdk_run_pr_checks",
            json!({ "service": "storage", "prNumber": "twelve-4b2c" }),
            "InvalidType",
            "argument `prNumber` has the wrong type: expected u32",
        ),
        rejected(
            "azsdk_run_pr_checks",
            json!({ "service": "storage", "prNumber": -7_331_977 }),
            "InvalidValue",
            "argument `prNumber` has an invalid value: expected u32",
        ),
        rejected(
            "azsdk_run_tests",
            json!({ "service": "storage", "language": 5 }),
            "InvalidType",
            "argument `language` has the wrong type",
        ),
        // An argument that is not annotated is never named.
        rejected(
            "azsdk_generate_sdk",
            json!({ "service": "storage", "language": "Go", "apiKey": ["secret-in-a-list-9c0d"] }),
            "InvalidType",
            "an argument has the wrong type",
        ),
        Expected {
            tool: "azsdk_verify_setup",
            arguments: json!({ "languages": [".NET"] }),
            success: true,
            error_type: None,
            message: None,
        },
        // The tool's own validation: recorded by the tool, once.
        Expected {
            tool: "azsdk_generate_sdk",
            arguments: json!({ "service": "", "language": "Go" }),
            success: false,
            error_type: Some("ValidationError"),
            message: Some("missing required parameter: service"),
        },
    ];
    for call in &calls {
        let result = client
            .call_tool(
                CallToolRequestParams::new(call.tool)
                    .with_arguments(arguments(call.arguments.clone())),
            )
            .await
            .expect("a tool result");
        assert_eq!(
            result.is_error == Some(true),
            !call.success,
            "{}: {}",
            call.arguments,
            text_of(&result)
        );
    }
    let unknown = client
        .call_tool(CallToolRequestParams::new("azsdk_no_such_tool"))
        .await;
    assert!(unknown.is_err(), "{unknown:?}");
    let envelopes = session.stop().await;

    let recorded = named(&envelopes, "ToolExecuted");
    assert_eq!(recorded.len(), calls.len() + 1, "{recorded:#?}");
    let manifest = azsdk_telemetry::manifest();
    for (call, envelope) in calls.iter().zip(&recorded) {
        let props = properties(envelope);
        let context = format!("{}: {props:#}", call.arguments);
        assert_eq!(
            envelope["data"]["baseData"]["success"],
            json!(call.success),
            "{context}"
        );
        assert_eq!(props["toolName"], call.tool, "{context}");
        let category = &manifest
            .tool(call.tool)
            .expect("a registered tool")
            .category;
        assert_eq!(props["toolCategory"], category.as_str(), "{context}");
        assert_eq!(props["errorType"].as_str(), call.error_type, "{context}");
        let message = props["errorMessage"].as_str().unwrap_or_default();
        assert!(
            message.starts_with(call.message.unwrap_or_default()),
            "{context}"
        );
        if call
            .error_type
            .is_some_and(|kind| kind != "ValidationError")
        {
            assert_eq!(props["toolArgs"], "{}", "{context}");
        }
        assert_eq!(props["platform"], "ClaudeDesktop", "{context}");
        assert_eq!(props["clientName"], "claude-ai", "{context}");
    }
    let unknown = properties(recorded[calls.len()]);
    assert_eq!(unknown["toolName"], "azsdk_no_such_tool");
    assert_eq!(unknown["errorType"], "ToolNotFound");

    let stopped = named(&envelopes, "SystemStopped");
    let stopped = properties(stopped[0]);
    assert_eq!(
        stopped["toolCallsInSession"],
        (calls.len() + 1).to_string(),
        "one per tools/call sent"
    );
    assert_eq!(stopped["platform"], "ClaudeDesktop");

    let text = serde_json::to_string(&envelopes).unwrap();
    for value in [
        "Rust-lang-7f3a",
        "Cobol-9e1d",
        "twelve-4b2c",
        "7331977",
        "secret-in-a-list-9c0d",
        "apiKey",
    ] {
        assert!(!text.contains(value), "`{value}` was recorded: {text}");
    }
}

/// Every `description` in `schema`, with where it is.
fn descriptions(schema: &Value, at: &str, out: &mut Vec<(String, String)>) {
    match schema {
        Value::Object(map) => {
            for (key, value) in map {
                let here = format!("{at}/{key}");
                if let (true, Some(text)) = (key == "description", value.as_str()) {
                    out.push((here.clone(), text.to_owned()));
                }
                descriptions(value, &here, out);
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                descriptions(item, &format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
}

/// `schema`, or the definition its `$ref` points to in `root`.
fn resolved<'a>(root: &'a Value, schema: &'a Value) -> &'a Value {
    schema["$ref"]
        .as_str()
        .and_then(|reference| reference.strip_prefix("#/"))
        .map_or(schema, |path| {
            path.split('/').fold(root, |value, part| &value[part])
        })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tool_schemas_describe_arguments_in_words_true_to_the_schema() {
    let session = start("Visual Studio Code", &[], &[]).await;
    let tools = session.client.list_all_tools().await.unwrap();
    assert_eq!(tools.len(), 6);
    for tool in &tools {
        let schema = Value::Object((*tool.input_schema).clone());
        let mut texts = Vec::new();
        if let Some(description) = &tool.description {
            texts.push((tool.name.to_string(), description.to_string()));
        }
        descriptions(&schema, &tool.name, &mut texts);
        assert!(texts.len() > 3, "{}: {schema:#}", tool.name);
        for (at, text) in &texts {
            for code in ["```", "assert_eq!", "use azsdk", "::", ".unwrap()"] {
                assert!(!text.contains(code), "code in {at}: {text}");
            }
        }
        if let Some(languages) = schema["properties"].get("languages") {
            let description = languages["description"].as_str().unwrap_or_default();
            assert!(
                !description.contains("comma") && !description.contains("`all`"),
                "{}: {description}",
                tool.name
            );
            let list = resolved(&schema, languages);
            assert_eq!(list["type"], "array", "{}: {schema:#}", tool.name);
        }
    }
    session.stop().await;
}
