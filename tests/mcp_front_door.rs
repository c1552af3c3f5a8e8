//! `azsdk_telemetry::mcp::call_tool` in an rmcp server, over a real MCP session (an rmcp
//! client on an in-memory duplex): concurrent calls, annotated and plain tools, rejected
//! arguments and unknown tools, each recorded once.

use azsdk_telemetry::{mcp, telemetry_tool, TelemetryArgs};
use azsdk_telemetry_testkit::capture;
use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::handler::server::tool::ToolCallContext;
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, ClientCapabilities, ClientConfig, Implementation,
    ServerCapabilities, ServerConfig,
};
use rmcp::service::RequestContext;
use rmcp::{tool, tool_handler, tool_router, ErrorData, RoleServer, ServerHandler, ServiceExt};
use serde_json::{json, Value};

#[derive(TelemetryArgs, serde::Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
struct CountArgs {
    #[telemetry(allow)]
    count: u32,
    #[serde(default)]
    #[allow(dead_code)]
    token: Option<String>,
}

#[derive(Clone)]
struct Server {
    tool_router: ToolRouter<Server>,
}

#[tool_router]
impl Server {
    /// Counts, recorded by its own annotation.
    #[tool(name = "front_door_annotated")]
    #[telemetry_tool(category = "testing", name = "front_door_annotated")]
    async fn annotated(&self, Parameters(args): Parameters<CountArgs>) -> String {
        tokio::task::yield_now().await;
        args.count.to_string()
    }

    /// Counts, without an annotation.
    #[tool(name = "front_door_plain")]
    async fn plain(&self, Parameters(args): Parameters<CountArgs>) -> String {
        tokio::task::yield_now().await;
        args.count.to_string()
    }
}

#[tool_handler(router = self.tool_router)]
impl ServerHandler for Server {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        mcp::call_tool(request, |request| {
            self.tool_router
                .call(ToolCallContext::new(self, request, context))
        })
        .await
    }
}

fn call(tool: &str, arguments: Value) -> CallToolRequestParams {
    let arguments = arguments.as_object().cloned().unwrap_or_default();
    CallToolRequestParams::new(tool.to_owned()).with_arguments(arguments)
}

// Current-thread: the server's tasks run on the thread whose events `capture()` sees.
#[tokio::test]
async fn concurrent_calls_are_each_recorded_once_whether_or_not_they_reach_the_tool() {
    let capture = capture();
    let (server_io, client_io) = tokio::io::duplex(64 * 1024);
    let server = tokio::spawn(async move {
        let router = Server {
            tool_router: Server::tool_router(),
        };
        let service = router.serve(server_io).await.expect("the server starts");
        let _ = service.waiting().await;
    });
    let client = ClientConfig::new(
        ClientCapabilities::default(),
        Implementation::new("front-door-test", "1.0.0"),
    )
    .serve(client_io)
    .await
    .expect("initialize");

    // (tool, arguments, errorType) for each call, all in flight at once.
    let calls: Vec<(&str, Value, Option<&str>)> = (0..4)
        .flat_map(|n| {
            [
                ("front_door_annotated", json!({ "count": n }), None),
                (
                    "front_door_annotated",
                    json!({ "count": "many-8d21" }),
                    Some("InvalidType"),
                ),
                ("front_door_plain", json!({ "count": n }), None),
                ("front_door_plain", json!({}), Some("MissingField")),
            ]
        })
        .chain([("front_door_missing_tool", json!({}), Some("ToolNotFound"))])
        .collect();
    let mut answers = tokio::task::JoinSet::new();
    for (tool, arguments, _) in &calls {
        let peer = client.peer().clone();
        let request = call(tool, arguments.clone());
        answers.spawn(async move { peer.call_tool(request).await });
    }
    let answers = answers.join_all().await;
    assert_eq!(answers.iter().filter(|answer| answer.is_err()).count(), 1);
    client.cancel().await.expect("the client closes");
    let _ = server.await;

    let tools: Vec<Value> = capture
        .envelopes()
        .into_iter()
        .filter(|envelope| envelope["data"]["baseData"]["name"] == "ToolExecuted")
        .map(|envelope| envelope["data"]["baseData"].clone())
        .collect();
    assert_eq!(tools.len(), calls.len(), "{tools:#?}");
    for (tool, _, error_type) in &calls {
        let expected = calls
            .iter()
            .filter(|(name, _, kind)| name == tool && kind == error_type)
            .count();
        let recorded = tools
            .iter()
            .filter(|record| {
                record["properties"]["toolName"] == *tool
                    && record["properties"]["errorType"].as_str() == *error_type
                    && record["success"] == json!(error_type.is_none())
            })
            .count();
        assert_eq!(recorded, expected, "{tool} {error_type:?}: {tools:#?}");
    }
    let by = |tool: &str, error_type: &str| {
        tools
            .iter()
            .find(|record| {
                record["properties"]["toolName"] == tool
                    && record["properties"]["errorType"] == error_type
            })
            .map(|record| record["properties"].clone())
            .expect("a record")
    };
    // A registered tool: its category, and its annotated argument named.
    let rejected = by("front_door_annotated", "InvalidType");
    assert_eq!(rejected["toolCategory"], "testing");
    assert_eq!(rejected["toolArgs"], "{}");
    assert_eq!(
        rejected["errorMessage"],
        "argument `count` has the wrong type: expected u32"
    );
    // A tool without an annotation: no category, no argument named.
    let plain = by("front_door_plain", "MissingField");
    assert_eq!(plain["toolCategory"], "");
    assert_eq!(plain["errorMessage"], "a required argument is missing");
    let text = serde_json::to_string(&tools).unwrap();
    assert!(!text.contains("many-8d21"), "{text}");
}
