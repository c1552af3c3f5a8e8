//! The tools as an MCP server on `rmcp`, served over stdio by `azsdk mcp`.
//!
//! Each `#[tool]` method is a thin adapter: it takes the same argument
//! struct the CLI parses (its JSON schema comes from `schemars`), calls the
//! instrumented [`Toolbox`] method, and turns the outcome into a
//! `CallToolResult`. Failures are tool results with `isError: true`, so the
//! model reads what went wrong; the telemetry has already classified them
//! (`ValidationError`, `NetworkError`, `TestFailure`, ...). Arguments that do
//! not fit a tool's schema are refused before the tool runs; `call_tool`
//! records those calls through [`azsdk_telemetry::mcp::call_tool`]
//! (`MissingField`, `InvalidType`, `UnknownVariant`, ...).
//!
//! The client's name and version reach telemetry at `initialize` (and, for
//! clients that skip the handshake, from each request's
//! `io.modelcontextprotocol/clientInfo` metadata).

use std::sync::{Arc, Mutex, PoisonError};

use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::handler::server::tool::ToolCallContext;
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, Implementation,
    InitializeRequestParams, InitializeResult, ServerCapabilities, ServerConfig,
};
use rmcp::service::RequestContext;
use rmcp::{tool, tool_handler, tool_router, ErrorData, RoleServer, ServerHandler};

use crate::args::{
    CreateReleasePlanArgs, GenerateSdkArgs, RunPrChecksArgs, RunTestsArgs, UpdatePackageArgs,
    VerifySetupArgs,
};
use crate::tools::{Reply, Toolbox};

/// Called with the MCP client's identity when the server learns it.
pub type ClientListener = Arc<dyn Fn(azsdk_telemetry::ClientInfo) + Send + Sync>;

/// The `azsdk` MCP server.
///
/// ```
/// use azsdk_telemetry_examples::mcp::AzsdkServer;
/// use azsdk_telemetry_examples::tools::Toolbox;
/// let server = AzsdkServer::new(Toolbox::default())
///     .on_client(|client| eprintln!("client: {:?}", client.name));
/// assert_eq!(server.tool_names().len(), 6);
/// ```
#[derive(Clone)]
pub struct AzsdkServer {
    tools: Arc<Toolbox>,
    on_client: Option<ClientListener>,
    known_client: Arc<Mutex<Option<(String, String)>>>,
    tool_router: ToolRouter<Self>,
}

impl std::fmt::Debug for AzsdkServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AzsdkServer")
            .field("tools", &self.tools)
            .finish_non_exhaustive()
    }
}

/// The result MCP returns for a tool's reply.
fn result(reply: Reply) -> CallToolResult {
    let content = vec![ContentBlock::text(reply.text)];
    if reply.failed {
        CallToolResult::error(content)
    } else {
        CallToolResult::success(content)
    }
}

#[tool_router]
impl AzsdkServer {
    /// A server for `tools`.
    pub fn new(tools: Toolbox) -> Self {
        AzsdkServer {
            tools: Arc::new(tools),
            on_client: None,
            known_client: Arc::default(),
            tool_router: Self::tool_router(),
        }
    }

    /// Calls `listener` with the client's name and version when they are
    /// learned: `handle.set_client(client)` puts them on every later event.
    pub fn on_client(
        mut self,
        listener: impl Fn(azsdk_telemetry::ClientInfo) + Send + Sync + 'static,
    ) -> Self {
        self.on_client = Some(Arc::new(listener));
        self
    }

    /// The names of the tools served.
    pub fn tool_names(&self) -> Vec<String> {
        self.tool_router
            .list_all()
            .into_iter()
            .map(|tool| tool.name.to_string())
            .collect()
    }

    fn learn_client(&self, client: &Implementation) {
        let identity = (client.name.clone(), client.version.clone());
        let mut known = self
            .known_client
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if known.as_ref() != Some(&identity) {
            if let Some(listener) = &self.on_client {
                listener(azsdk_telemetry::ClientInfo::new(
                    identity.0.clone(),
                    identity.1.clone(),
                ));
            }
            *known = Some(identity);
        }
    }

    /// Checks that the tools each SDK language needs (compilers, package
    /// managers, tsp-client) are installed on this machine.
    #[tool(name = "azsdk_verify_setup")]
    async fn verify_setup(&self, Parameters(args): Parameters<VerifySetupArgs>) -> CallToolResult {
        result(Reply::of(self.tools.verify_setup(args).await))
    }

    /// Generates an Azure SDK package for one language from the service's
    /// TypeSpec project.
    #[tool(name = "azsdk_generate_sdk")]
    async fn generate_sdk(&self, Parameters(args): Parameters<GenerateSdkArgs>) -> CallToolResult {
        result(Reply::of(self.tools.generate_sdk(args).await))
    }

    /// Runs an SDK package's tests, in playback (recordings), live or record mode.
    #[tool(name = "azsdk_run_tests")]
    async fn run_tests(&self, Parameters(args): Parameters<RunTestsArgs>) -> CallToolResult {
        result(Reply::of(self.tools.run_tests(args).await))
    }

    /// Runs the checks a pull request must pass (build, analyze, changelog,
    /// samples) for each language.
    #[tool(name = "azsdk_run_pr_checks")]
    async fn run_pr_checks(&self, Parameters(args): Parameters<RunPrChecksArgs>) -> CallToolResult {
        result(Reply::of(self.tools.run_pr_checks(args).await))
    }

    /// Sets the version of a service's packages and adds changelog sections.
    #[tool(name = "azsdk_update_package")]
    async fn update_package(
        &self,
        Parameters(args): Parameters<UpdatePackageArgs>,
    ) -> CallToolResult {
        result(Reply::of(self.tools.update_package(args).await))
    }

    /// Registers a release with the release planner.
    #[tool(name = "azsdk_create_release_plan")]
    async fn create_release_plan(
        &self,
        Parameters(args): Parameters<CreateReleasePlanArgs>,
    ) -> CallToolResult {
        result(Reply::of(self.tools.create_release_plan(args).await))
    }
}

#[tool_handler(router = self.tool_router)]
impl ServerHandler for AzsdkServer {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new("azsdk", env!("CARGO_PKG_VERSION")))
            .with_instructions(
                "Azure SDK inner-loop tools: verify the setup, generate an SDK, run its tests, \
                 run the PR checks, update the package version, create the release plan.",
            )
    }

    async fn initialize(
        &self,
        request: InitializeRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<InitializeResult, ErrorData> {
        self.learn_client(&request.client_info);
        context.peer.set_peer_info(request.clone());
        self.negotiate_initialize(&request)
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        if let Some(client) = context.meta.client_info() {
            self.learn_client(&client);
        }
        // Records the calls the tools do not: arguments rejected before a tool runs.
        azsdk_telemetry::mcp::call_tool(request, |request| {
            self.tool_router
                .call(ToolCallContext::new(self, request, context))
        })
        .await
    }
}
