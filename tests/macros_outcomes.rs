//! Outcomes of instrumented calls through `capture()`: errors (derived,
//! built-in, fallback, chains), panics, cancellation, MCP error results and
//! opt-in response summaries.

mod macros_common;

use std::future::Future;
use std::io;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use azsdk_telemetry::Classification;
use azsdk_telemetry::{telemetry_tool, TelemetryError, ToolResponse};
use azsdk_telemetry_testkit::capture;
use macros_common::{only_tool, tool_properties};
use serde_json::json;

#[derive(Debug, thiserror::Error, TelemetryError)]
enum GenerateError {
    #[error("missing parameter {0}")]
    #[telemetry(error_type = "ValidationError")]
    Missing(String),
    #[error("network failure: {0}")]
    #[telemetry(error_type = "NetworkError")]
    Network(String),
    #[error("auth failed for {0}")]
    #[telemetry(skip_message)]
    Auth(String),
    #[error("nothing to generate")]
    #[telemetry(expected)]
    UpToDate,
    #[error("unnamed")]
    Unnamed,
    #[error(transparent)]
    #[telemetry(transparent)]
    Io(#[from] io::Error),
}

#[telemetry_tool(category = "generating", name = "azsdk_generate_sdk")]
fn generate(fail: Option<GenerateError>) -> Result<&'static str, GenerateError> {
    match fail {
        Some(error) => Err(error)?,
        None => Ok("ok"),
    }
}

fn failure_of(error: GenerateError) -> serde_json::Map<String, serde_json::Value> {
    let capture = capture();
    assert!(generate(Some(error)).is_err());
    tool_properties(&capture)
}

#[test]
fn derived_error_type_and_message() {
    assert_eq!(
        serde_json::Value::Object(failure_of(GenerateError::Missing("language".into()))),
        json!({
            "toolName": "azsdk_generate_sdk",
            "toolCategory": "generating",
            "toolArgs": "{}",
            "errorType": "ValidationError",
            "errorMessage": "missing parameter language",
        })
    );
    let network = failure_of(GenerateError::Network("reset".into()));
    assert_eq!(network["errorType"], "NetworkError");
    assert_eq!(network["errorMessage"], "network failure: reset");
    assert_eq!(failure_of(GenerateError::Unnamed)["errorType"], "Unnamed");
}

#[test]
fn failures_set_success_false_on_the_envelope() {
    let capture = capture();
    let _ = generate(Some(GenerateError::Network("x".into())));
    let envelope = &capture.envelopes()[0];
    assert_eq!(envelope["data"]["baseData"]["success"], json!(false));
    assert!(!only_tool(&capture).success);
}

#[test]
fn skip_message_leaves_the_message_out() {
    let properties = failure_of(GenerateError::Auth("user@example.com".into()));
    assert_eq!(properties["errorType"], "Auth");
    assert!(!properties.contains_key("errorMessage"));
}

#[test]
fn expected_outcomes_are_successes_with_their_type() {
    let capture = capture();
    let _ = generate(Some(GenerateError::UpToDate));
    let tool = only_tool(&capture);
    assert!(tool.success);
    assert_eq!(tool.error_type.as_deref(), Some("UpToDate"));
    assert_eq!(
        capture.envelopes()[0]["data"]["baseData"]["success"],
        json!(true)
    );
}

#[test]
fn transparent_variants_classify_their_inner_error() {
    let properties = failure_of(GenerateError::Io(io::Error::new(
        io::ErrorKind::PermissionDenied,
        "cannot write sdk/",
    )));
    assert_eq!(properties["errorType"], "IoPermissionDenied");
    assert_eq!(properties["errorMessage"], "cannot write sdk/");
}

#[test]
fn success_has_no_error_properties() {
    let capture = capture();
    assert_eq!(generate(None).unwrap(), "ok");
    let properties = tool_properties(&capture);
    assert!(!properties.contains_key("errorType"));
    assert!(!properties.contains_key("errorMessage"));
    assert!(only_tool(&capture).success);
}

#[telemetry_tool(category = "building")]
fn read_config(kind: io::ErrorKind) -> io::Result<String> {
    Err(io::Error::new(kind, "tsp-location.yaml"))
}

#[test]
fn io_errors_by_kind() {
    for (kind, expected) in [
        (io::ErrorKind::NotFound, "IoNotFound"),
        (io::ErrorKind::PermissionDenied, "IoPermissionDenied"),
        (io::ErrorKind::TimedOut, "IoTimedOut"),
        (io::ErrorKind::Other, "IoError"),
    ] {
        let capture = capture();
        assert!(read_config(kind).is_err());
        let properties = tool_properties(&capture);
        assert_eq!(properties["errorType"], expected);
        assert_eq!(properties["errorMessage"], "tsp-location.yaml");
    }
}

#[derive(Debug)]
struct PlainError;
impl std::fmt::Display for PlainError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("plain failure")
    }
}
impl std::error::Error for PlainError {}

#[telemetry_tool(category = "validating")]
fn plain() -> Result<(), PlainError> {
    Err(PlainError)
}

#[telemetry_tool(category = "validating")]
fn parse(text: &str) -> Result<u32, std::num::ParseIntError> {
    text.parse()
}

#[telemetry_tool(category = "validating")]
fn stringly() -> Result<(), String> {
    Err("just a string".to_owned())
}

#[test]
fn errors_without_the_derive_use_their_short_name_and_display() {
    let capture = capture();
    let _ = plain();
    let properties = tool_properties(&capture);
    assert_eq!(properties["errorType"], "PlainError");
    assert_eq!(properties["errorMessage"], "plain failure");

    let capture = azsdk_telemetry_testkit::capture();
    assert!(parse("x").is_err());
    let properties = tool_properties(&capture);
    assert_eq!(properties["errorType"], "ParseIntError");
    assert_eq!(properties["errorMessage"], "invalid digit found in string");

    let capture = azsdk_telemetry_testkit::capture();
    let _ = stringly();
    let properties = tool_properties(&capture);
    assert_eq!(properties["errorType"], "Error");
    assert_eq!(properties["errorMessage"], "just a string");
}

#[derive(Debug, thiserror::Error)]
#[error("loading tsp-location.yaml")]
struct LoadError(#[source] io::Error);

#[telemetry_tool(category = "generating")]
fn chained_anyhow() -> anyhow::Result<()> {
    let io = io::Error::new(io::ErrorKind::NotFound, "no such file");
    Err(anyhow::Error::new(io).context("reading config"))
}

#[telemetry_tool(category = "generating")]
fn chained_std() -> Result<(), LoadError> {
    Err(LoadError(io::Error::new(
        io::ErrorKind::NotFound,
        "no such file",
    )))
}

#[telemetry_tool(category = "generating")]
fn chained_boxed() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    Err(Box::new(LoadError(io::Error::from(
        io::ErrorKind::TimedOut,
    ))))
}

#[test]
fn error_chains_are_walked() {
    let capture = capture();
    let _ = chained_anyhow();
    let properties = tool_properties(&capture);
    assert_eq!(properties["errorType"], "IoNotFound");
    assert_eq!(properties["errorMessage"], "reading config: no such file");

    let capture = azsdk_telemetry_testkit::capture();
    let _ = chained_std();
    let properties = tool_properties(&capture);
    assert_eq!(properties["errorType"], "LoadError");
    assert_eq!(
        properties["errorMessage"],
        "loading tsp-location.yaml: no such file"
    );

    let capture = azsdk_telemetry_testkit::capture();
    let _ = chained_boxed();
    let properties = tool_properties(&capture);
    assert_eq!(properties["errorType"], "IoTimedOut");
}

#[telemetry_tool(category = "generating")]
fn long_message() -> Result<(), String> {
    Err("é".repeat(4000))
}

#[test]
fn messages_are_truncated_to_1kb_on_a_char_boundary() {
    let capture = capture();
    let _ = long_message();
    let message = only_tool(&capture).error_message.unwrap();
    assert!(
        message.len() <= 1024 && message.len() >= 1022,
        "{}",
        message.len()
    );
    assert!(message.chars().all(|c| c == 'é'));
}

#[telemetry_tool(category = "testing")]
fn explode(#[telemetry(allow)] code: u8) -> u8 {
    if code > 0 {
        panic!("tool exploded");
    }
    code
}

#[test]
fn a_panic_records_panic_and_keeps_unwinding() {
    let capture = capture();
    let result = std::panic::catch_unwind(|| explode(1));
    let payload = result.expect_err("the panic propagates");
    assert_eq!(payload.downcast_ref::<&str>(), Some(&"tool exploded"));
    assert_eq!(
        serde_json::Value::Object(tool_properties(&capture)),
        json!({
            "toolName": "explode",
            "toolCategory": "testing",
            "toolArgs": "{\"code\":1}",
            "errorType": "Panic",
            "errorMessage": "tool exploded",
        })
    );
    assert!(!only_tool(&capture).success);
}

#[telemetry_tool(category = "testing")]
async fn explode_async() -> u8 {
    tokio::task::yield_now().await;
    panic!("async tool exploded");
}

#[tokio::test]
async fn an_async_panic_records_panic() {
    let capture = capture();
    let handle = tokio::spawn(tracing::instrument::WithSubscriber::with_subscriber(
        explode_async(),
        capture.dispatch().clone(),
    ));
    let error = handle.await.expect_err("the task panicked");
    assert!(error.is_panic());
    let tool = only_tool(&capture);
    assert_eq!(tool.error_type.as_deref(), Some("Panic"));
    assert_eq!(tool.error_message.as_deref(), Some("async tool exploded"));
}

#[telemetry_tool(category = "testing", name = "azsdk_run_tests")]
async fn slow_tool(#[telemetry(allow)] suite: &str) -> Result<usize, GenerateError> {
    std::future::pending::<()>().await;
    Ok(suite.len())
}

#[test]
fn a_dropped_future_records_cancelled() {
    let capture = capture();
    {
        let mut future = Box::pin(slow_tool("unit"));
        let mut cx = Context::from_waker(Waker::noop());
        assert!(future.as_mut().poll(&mut cx).is_pending());
    }
    assert_eq!(
        serde_json::Value::Object(tool_properties(&capture)),
        json!({
            "toolName": "azsdk_run_tests",
            "toolCategory": "testing",
            "toolArgs": "{\"suite\":\"unit\"}",
            "errorType": "Cancelled",
        })
    );
}

#[test]
fn a_future_never_polled_records_nothing() {
    let capture = capture();
    drop(slow_tool("unit"));
    assert!(capture.events().is_empty());
}

#[telemetry_tool(category = "testing")]
async fn quick() -> u8 {
    3
}

#[test]
fn an_async_tool_records_when_it_completes() {
    let capture = capture();
    let mut future = pin!(quick());
    let mut cx = Context::from_waker(Waker::noop());
    assert_eq!(future.as_mut().poll(&mut cx), Poll::Ready(3));
    assert!(only_tool(&capture).success);
}

mod mcp {
    use super::*;
    use rmcp::model::{CallToolResult, ContentBlock as Content};

    #[telemetry_tool(category = "testing")]
    async fn mcp_tool(fail: bool) -> Result<CallToolResult, rmcp::ErrorData> {
        Ok(if fail {
            CallToolResult::error(vec![Content::text("3 tests failed")])
        } else {
            CallToolResult::success(vec![Content::text("all passed")])
        })
    }

    #[telemetry_tool(category = "testing")]
    fn mcp_plain() -> CallToolResult {
        CallToolResult::error(vec![Content::text("bad input")])
    }

    #[telemetry_tool(category = "testing")]
    async fn mcp_protocol_error() -> Result<CallToolResult, rmcp::ErrorData> {
        Err(rmcp::ErrorData::invalid_params("missing language", None))
    }

    #[tokio::test]
    async fn an_error_result_is_a_failure() {
        let capture = capture();
        mcp_tool(true).await.unwrap();
        let properties = tool_properties(&capture);
        assert_eq!(
            serde_json::Value::Object(properties),
            json!({
                "toolName": "mcp_tool",
                "toolCategory": "testing",
                "toolArgs": "{}",
                "errorType": "ToolError",
                "errorMessage": "3 tests failed",
            })
        );
        assert!(!only_tool(&capture).success);
    }

    #[tokio::test]
    async fn a_success_result_is_a_success() {
        let capture = capture();
        mcp_tool(false).await.unwrap();
        let tool = only_tool(&capture);
        assert!(tool.success);
        assert_eq!(tool.error_type, None);
        assert_eq!(tool.tool_response, None);
    }

    #[test]
    fn a_bare_error_result_is_a_failure() {
        let capture = capture();
        mcp_plain();
        assert_eq!(only_tool(&capture).error_type.as_deref(), Some("ToolError"));
    }

    #[tokio::test]
    async fn a_protocol_error_is_classified() {
        let capture = capture();
        assert!(mcp_protocol_error().await.is_err());
        let tool = only_tool(&capture);
        assert_eq!(tool.error_type.as_deref(), Some("ErrorData"));
        assert!(tool.error_message.unwrap().contains("missing language"));
    }
}

struct Generated {
    files: usize,
}

impl ToolResponse for Generated {
    fn tool_response(&self) -> Option<String> {
        Some(format!("SDK generated successfully ({} files)", self.files))
    }
}

struct TestRun {
    failed: usize,
}

impl ToolResponse for TestRun {
    fn tool_response(&self) -> Option<String> {
        Some("Test execution failed".into())
    }
    fn failure(&self) -> Option<Classification> {
        (self.failed > 0).then(|| {
            Classification::failure("TestFailure", Some(format!("{} tests failed", self.failed)))
        })
    }
}

#[telemetry_tool(category = "generating")]
fn with_response() -> Result<Generated, GenerateError> {
    Ok(Generated { files: 12 })
}

#[telemetry_tool(category = "testing")]
fn test_run() -> TestRun {
    TestRun { failed: 3 }
}

#[telemetry_tool(category = "generating")]
fn without_response() -> String {
    "a value that must not be recorded".into()
}

#[test]
fn tool_response_is_opt_in() {
    let capture = capture();
    with_response().unwrap();
    assert_eq!(
        tool_properties(&capture)["toolResponse"],
        "SDK generated successfully (12 files)"
    );

    let capture = azsdk_telemetry_testkit::capture();
    without_response();
    assert!(!tool_properties(&capture).contains_key("toolResponse"));

    let capture = azsdk_telemetry_testkit::capture();
    test_run();
    assert_eq!(
        serde_json::Value::Object(tool_properties(&capture)),
        json!({
            "toolName": "test_run",
            "toolCategory": "testing",
            "toolArgs": "{}",
            "toolResponse": "Test execution failed",
            "errorType": "TestFailure",
            "errorMessage": "3 tests failed",
        })
    );
}
