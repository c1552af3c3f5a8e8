//! How the `azsdk` binary sets up telemetry, per front-end.
//!
//! Both read the environment the usual way: the opt-out variables
//! (`AZSDK_TELEMETRY_ENABLED=false`, `DO_NOT_TRACK=1`) and the settings file
//! first, then `APPLICATIONINSIGHTS_CONNECTION_STRING`, else
//! `AZSDK_TELEMETRY_JSONL`, else `telemetry.jsonl` in the per-user state
//! directory (`AZSDK_TELEMETRY_DIR` overrides it). [`ENV_AUTH`]`=entra` adds Entra ID
//! tokens from the Azure CLI or Azure Developer CLI.

use azsdk_telemetry::{
    BuildError, Platform, SessionKind, TelemetryBuilder, TelemetryHandle, TelemetryLayer,
    EXECUTION_AGENT_INVOKED,
};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// `ai.cloud.role` and the state directory's name.
pub const APP_NAME: &str = "azsdk";

/// Names the MCP server's platform, ahead of the environment and the client
/// (`VSCode`, `GitHub`, `JetBrains`, `ClaudeDesktop`, `CLI`, or any other name).
pub const ENV_PLATFORM: &str = "AZSDK_PLATFORM";

/// `entra` sends with Microsoft Entra ID tokens of the signed-in developer tools (Azure
/// CLI, then Azure Developer CLI), for resources with local authentication disabled.
pub const ENV_AUTH: &str = "AZSDK_TELEMETRY_AUTH";

/// The builder both front-ends start from.
fn base() -> TelemetryBuilder {
    let builder = TelemetryLayer::builder()
        .app_name(APP_NAME)
        .app_version(env!("CARGO_PKG_VERSION"))
        .install_method("cargo");
    with_auth(builder, std::env::var(ENV_AUTH).ok().as_deref())
}

/// Adds the developer-tools credential when `auth` ([`ENV_AUTH`]) is `entra`; `key` or
/// nothing sends with the instrumentation key alone. Anything else is said on stderr
/// (never stdout, the MCP server's protocol) and sends with the key.
fn with_auth(builder: TelemetryBuilder, auth: Option<&str>) -> TelemetryBuilder {
    let auth = auth.map(str::trim).unwrap_or_default();
    if auth.is_empty() || auth.eq_ignore_ascii_case("key") {
        return builder;
    }
    if !auth.eq_ignore_ascii_case("entra") {
        eprintln!("azsdk: {ENV_AUTH}={auth} is not known (use entra or key); sending with the instrumentation key");
        return builder;
    }
    match azure_identity::DeveloperToolsCredential::new(None) {
        Ok(credential) => builder.credential(credential),
        Err(e) => {
            eprintln!("azsdk: {ENV_AUTH}=entra: no developer-tools credential ({e}); sending with the instrumentation key");
            builder
        }
    }
}

/// The CLI's telemetry: a session spans invocations (30 minutes of
/// inactivity end it), the platform is detected (`CLI` in a plain
/// terminal), and calls are `direct` unless the environment says an agent
/// ran the command (`AZSDK_TELEMETRY_EXECUTION_MODE`, `CLAUDECODE=1`).
pub fn cli_builder() -> TelemetryBuilder {
    base().session(SessionKind::cli())
}

/// The MCP server's telemetry: one session per server process, calls are
/// `agent-invoked`, the platform comes from [`ENV_PLATFORM`], else the
/// environment the editor started the server in (VS Code sets `VSCODE_PID`
/// for the servers it starts), else the client learned at `initialize`
/// (`claude-ai` is `ClaudeDesktop`).
pub fn mcp_builder() -> TelemetryBuilder {
    let builder = base().execution_mode(EXECUTION_AGENT_INVOKED);
    match mcp_platform(|name| std::env::var(name).ok()) {
        Some(platform) => builder.platform(platform),
        None => builder,
    }
}

/// The platform [`ENV_PLATFORM`] names, if it is set.
///
/// ```
/// use azsdk_telemetry::Platform;
/// use azsdk_telemetry_examples::telemetry::mcp_platform;
/// let env = |name: &str| (name == "AZSDK_PLATFORM").then(|| "vscode".to_string());
/// assert_eq!(mcp_platform(env), Some(Platform::VsCode));
/// let env = |name: &str| (name == "AZSDK_PLATFORM").then(|| "Zed".to_string());
/// assert_eq!(mcp_platform(env), Some(Platform::custom("Zed")));
/// assert_eq!(mcp_platform(|_| None), None);
/// ```
pub fn mcp_platform(lookup: impl Fn(&str) -> Option<String>) -> Option<Platform> {
    let name = lookup(ENV_PLATFORM)?.trim().to_owned();
    let platform = match name.to_ascii_lowercase().as_str() {
        "" => return None,
        "vscode" | "vs code" | "visual studio code" => Platform::VsCode,
        "github" => Platform::GitHub,
        "jetbrains" => Platform::JetBrains,
        "claudedesktop" | "claude desktop" => Platform::ClaudeDesktop,
        "cli" => Platform::Cli,
        _ => Platform::custom(name),
    };
    Some(platform)
}

/// Builds `builder` and installs its layer as the process's subscriber.
///
/// # Errors
/// [`BuildError`] when the configuration cannot work (a malformed connection string).
pub fn install(builder: TelemetryBuilder) -> Result<TelemetryHandle, BuildError> {
    let (layer, handle) = builder.build()?;
    tracing_subscriber::registry().with(layer).init();
    Ok(handle)
}
