//! Every supported shape of instrumented function records one call, through `capture()`.

mod macros_common;

use std::fmt::Display;

use azsdk_telemetry::{telemetry_tool, TelemetryArgs};
use azsdk_telemetry_testkit::capture;
use macros_common::{only_tool, tool_args};
use serde_json::json;

#[derive(TelemetryArgs, Clone)]
struct Args {
    #[telemetry(allow, dimension = "language")]
    language: String,
}

fn args() -> Args {
    Args {
        language: "Java".into(),
    }
}

struct Server {
    calls: usize,
}

impl Server {
    #[telemetry_tool(category = "shapes")]
    fn by_ref(&self, args: Args) -> usize {
        self.calls + args.language.len()
    }

    #[telemetry_tool(category = "shapes")]
    fn by_mut(&mut self, #[telemetry(allow)] step: usize) -> usize {
        self.calls += step;
        self.calls
    }

    #[telemetry_tool(category = "shapes")]
    fn by_value(self) -> usize {
        self.calls
    }

    /// Returns a borrow of `self`: the body is not annotated with the elided type.
    #[telemetry_tool(category = "shapes")]
    fn borrowed(&self) -> &usize {
        &self.calls
    }

    #[telemetry_tool(category = "shapes")]
    async fn async_by_ref(&self, args: &Args) -> Result<usize, std::io::Error> {
        tokio::task::yield_now().await;
        Ok(self.calls + args.language.len())
    }
}

#[test]
fn methods() {
    let mut server = Server { calls: 1 };
    let capture = capture();
    assert_eq!(server.by_ref(args()), 5);
    assert_eq!(only_tool(&capture).tool_name, "by_ref");
    assert_eq!(tool_args(&capture), json!({ "language": "Java" }));
    capture.clear();
    assert_eq!(server.by_mut(2), 3);
    assert_eq!(tool_args(&capture), json!({ "step": 2 }));
    capture.clear();
    assert_eq!(*server.borrowed(), 3);
    assert_eq!(only_tool(&capture).tool_name, "borrowed");
    capture.clear();
    assert_eq!(server.by_value(), 3);
    assert_eq!(only_tool(&capture).tool_name, "by_value");
}

#[tokio::test]
async fn async_methods() {
    let server = Server { calls: 1 };
    let capture = capture();
    assert_eq!(server.async_by_ref(&args()).await.unwrap(), 5);
    let tool = only_tool(&capture);
    assert_eq!(tool.tool_name, "async_by_ref");
    assert_eq!(tool.language.as_deref(), Some("Java"));
}

#[telemetry_tool(category = "shapes")]
fn generic<T>(value: T, args: Args) -> Result<String, std::fmt::Error>
where
    T: Display + Clone + Send,
{
    Ok(format!("{value}{}", args.language))
}

#[telemetry_tool(category = "shapes")]
fn bounded<A: TelemetryArgs>(args: A) -> bool {
    let _ = args;
    true
}

#[telemetry_tool(category = "shapes")]
fn returns_impl(count: usize) -> impl Iterator<Item = usize> {
    0..count
}

#[telemetry_tool(category = "shapes")]
fn returns_impl_result(text: &str) -> Result<impl Display, std::num::ParseIntError> {
    let value: u8 = text.parse()?;
    Ok(value)
}

#[test]
fn generic_and_impl_trait() {
    let capture = capture();
    assert_eq!(generic(1, args()).unwrap(), "1Java");
    assert_eq!(tool_args(&capture), json!({ "language": "Java" }));
    capture.clear();
    assert!(bounded(args()));
    assert_eq!(tool_args(&capture), json!({ "language": "Java" }));
    capture.clear();
    assert_eq!(returns_impl(3).count(), 3);
    assert!(only_tool(&capture).success);
    capture.clear();
    assert!(returns_impl_result("x").is_err());
    assert_eq!(
        only_tool(&capture).error_type.as_deref(),
        Some("ParseIntError")
    );
}

trait Tool {
    fn run(&self, args: Args) -> usize;
}

impl Tool for Server {
    #[telemetry_tool(category = "shapes", name = "trait_run")]
    fn run(&self, args: Args) -> usize {
        args.language.len() + self.calls
    }
}

#[async_trait::async_trait]
trait AsyncTool {
    async fn call(&self, args: Args, attempt: u8) -> Result<usize, std::io::Error>;
}

#[async_trait::async_trait]
impl AsyncTool for Server {
    #[telemetry_tool(category = "shapes", name = "async_trait_call")]
    async fn call(
        &self,
        args: Args,
        #[telemetry(allow)] attempt: u8,
    ) -> Result<usize, std::io::Error> {
        tokio::task::yield_now().await;
        if attempt > 1 {
            return Err(std::io::Error::from(std::io::ErrorKind::TimedOut));
        }
        Ok(self.calls + args.language.len())
    }
}

#[tokio::test]
async fn trait_impls_and_async_trait() {
    let server = Server { calls: 0 };
    let capture = capture();
    assert_eq!(server.run(args()), 4);
    assert_eq!(only_tool(&capture).tool_name, "trait_run");
    capture.clear();
    assert_eq!(server.call(args(), 1).await.unwrap(), 4);
    let tool = only_tool(&capture);
    assert_eq!(tool.tool_name, "async_trait_call");
    assert_eq!(
        tool.tool_args.as_deref(),
        Some(r#"{"language":"Java","attempt":1}"#)
    );
    capture.clear();
    assert!(server.call(args(), 2).await.is_err());
    assert_eq!(
        only_tool(&capture).error_type.as_deref(),
        Some("IoTimedOut")
    );
}

#[test]
fn with_no_subscriber_the_tool_still_runs() {
    assert_eq!(generic("a", args()).unwrap(), "aJava");
    let result = std::panic::catch_unwind(|| {
        #[telemetry_tool(category = "shapes")]
        fn boom() {
            panic!("still panics");
        }
        boom()
    });
    assert!(result.is_err());
}

#[tokio::test]
async fn with_no_subscriber_an_async_tool_still_runs() {
    let server = Server { calls: 2 };
    assert_eq!(server.async_by_ref(&args()).await.unwrap(), 6);
}

#[test]
fn an_opted_out_layer_records_nothing_and_the_tool_runs() {
    use tracing_subscriber::layer::SubscriberExt;
    let sink = azsdk_telemetry::MemorySink::new();
    let (layer, _handle) = azsdk_telemetry::TelemetryLayer::builder()
        .ignore_environment()
        .enabled(false)
        .sink(sink.clone())
        .build()
        .unwrap();
    let subscriber = tracing_subscriber::registry().with(layer);
    tracing::subscriber::with_default(subscriber, || {
        assert_eq!(generic(2, args()).unwrap(), "2Java");
    });
    assert!(sink.records().is_empty());
}

mod rmcp_tools {
    use super::*;
    use rmcp::handler::server::wrapper::Parameters;
    use rmcp::{tool, tool_router};

    #[derive(TelemetryArgs, serde::Deserialize, schemars::JsonSchema)]
    pub struct RunArgs {
        #[telemetry(allow, dimension = "serviceName")]
        service: String,
        #[allow(dead_code)]
        token: String,
    }

    pub struct Mcp;

    #[tool_router]
    impl Mcp {
        /// Telemetry above `#[tool]`.
        #[telemetry_tool(category = "testing", name = "azsdk_above")]
        #[tool]
        async fn above(&self, Parameters(args): Parameters<RunArgs>) -> String {
            tokio::task::yield_now().await;
            args.service
        }

        /// Telemetry below `#[tool]`.
        #[tool(name = "below")]
        #[telemetry_tool(category = "testing", name = "azsdk_below")]
        async fn below(&self, params: Parameters<RunArgs>) -> Result<String, rmcp::ErrorData> {
            tokio::task::yield_now().await;
            Ok(params.0.service)
        }
    }

    fn run_args() -> RunArgs {
        RunArgs {
            service: "storage".into(),
            token: "rmcp-secret-41".into(),
        }
    }

    #[tokio::test]
    async fn stacked_with_rmcp_tool_in_either_order() {
        let capture = capture();
        assert_eq!(Mcp.above(Parameters(run_args())).await, "storage");
        let tool = only_tool(&capture);
        assert_eq!(tool.tool_name, "azsdk_above");
        assert_eq!(tool.service_name.as_deref(), Some("storage"));
        assert_eq!(tool.tool_args.as_deref(), Some(r#"{"service":"storage"}"#));
        capture.clear();

        // Below `#[tool]` the future is created first and polled later: the
        // call is recorded when the body runs, not when the future is made.
        let future = Mcp.below(Parameters(run_args()));
        assert!(capture.events().is_empty());
        assert_eq!(future.await.unwrap(), "storage");
        let tool = only_tool(&capture);
        assert_eq!(tool.tool_name, "azsdk_below");
        assert_eq!(tool.tool_args.as_deref(), Some(r#"{"service":"storage"}"#));
        assert!(!serde_json::to_string(&capture.envelopes())
            .unwrap()
            .contains("rmcp-secret-41"));

        let router = Mcp::tool_router();
        assert!(router.has_route("above") && router.has_route("below"));
    }
}

/// Reading these arguments would panic: with telemetry off they are never read.
struct Untouchable;

impl TelemetryArgs for Untouchable {
    fn record_args(&self, _: &mut azsdk_telemetry::ArgsRecorder) {
        panic!("arguments were read while telemetry is off");
    }
}

#[telemetry_tool(category = "shapes")]
fn untouchable(args: Untouchable) -> u8 {
    let _ = args;
    7
}

#[test]
fn with_telemetry_off_arguments_are_never_read() {
    assert_eq!(untouchable(Untouchable), 7);
}
