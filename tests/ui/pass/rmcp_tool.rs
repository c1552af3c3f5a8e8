use azsdk_telemetry::{telemetry_tool, TelemetryArgs};
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::{CallToolResult, ContentBlock};
use rmcp::{tool, tool_handler, tool_router, ServerHandler};

#[derive(TelemetryArgs, serde::Deserialize, schemars::JsonSchema)]
struct GenerateArgs {
    #[telemetry(allow, dimension = "language")]
    language: String,
}

#[derive(Clone)]
struct Server;

#[tool_router]
impl Server {
    /// Telemetry above `#[tool]`.
    #[telemetry_tool(category = "generating")]
    #[tool(name = "azsdk_generate_sdk")]
    async fn generate(&self, Parameters(args): Parameters<GenerateArgs>) -> Result<CallToolResult, rmcp::ErrorData> {
        Ok(CallToolResult::success(vec![ContentBlock::text(args.language)]))
    }

    /// Telemetry below `#[tool]`.
    #[tool(name = "azsdk_run_tests")]
    #[telemetry_tool(category = "testing")]
    async fn run_tests(&self, params: Parameters<GenerateArgs>) -> String {
        params.0.language
    }
}

#[tool_handler]
impl ServerHandler for Server {}

fn main() {
    let _ = Server::tool_router();
}
