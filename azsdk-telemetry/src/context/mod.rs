//! The process context every event is enriched with: session, device
//! identity, platform, application version, MCP client and agent.

mod detect;
mod device;

use std::fmt;
use std::sync::{Arc, PoisonError, RwLock};
use std::time::SystemTime;

pub(crate) use detect::{detect_execution_mode, is_ci_from, shown_platform};
pub use detect::{EXECUTION_AGENT_INVOKED, EXECUTION_DIRECT};
pub(crate) use device::detect_identity;
pub use device::{mac_address_hash, sha256_hex};

/// The value the spec asks for when an identifier cannot be computed.
pub(crate) const NOT_AVAILABLE: &str = "N/A";

/// Where the tool runs: the spec's `platform` property.
///
/// ```
/// use azsdk_telemetry::Platform;
/// assert_eq!(Platform::VsCode.as_str(), "VSCode");
/// assert_eq!(Platform::custom("Neovim").as_str(), "Neovim");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Platform {
    /// A terminal: `CLI`.
    #[default]
    Cli,
    /// Visual Studio Code: `VSCode`.
    VsCode,
    /// GitHub (Actions, Codespaces, the Copilot coding agent): `GitHub`.
    GitHub,
    /// A JetBrains IDE: `JetBrains`.
    JetBrains,
    /// Claude Desktop: `ClaudeDesktop`.
    ClaudeDesktop,
    /// Any other name.
    Custom(String),
}

impl Platform {
    /// A platform with a name of the application's choosing.
    pub fn custom(name: impl Into<String>) -> Self {
        Platform::Custom(name.into())
    }

    /// The name on the wire.
    pub fn as_str(&self) -> &str {
        match self {
            Platform::Cli => "CLI",
            Platform::VsCode => "VSCode",
            Platform::GitHub => "GitHub",
            Platform::JetBrains => "JetBrains",
            Platform::ClaudeDesktop => "ClaudeDesktop",
            Platform::Custom(name) => name,
        }
    }

    /// The platform of an MCP client, by the name it gives at `initialize`
    /// (`clientInfo.name`): VS Code (and its Insiders build), Claude Desktop
    /// (`claude-ai`), JetBrains IDEs and GitHub (Copilot's coding agent) by their
    /// known names, any other client by its own name (scrubbed where the context
    /// takes it in). What a session records when the environment shows no platform.
    ///
    /// ```
    /// use azsdk_telemetry::Platform;
    /// assert_eq!(Platform::of_client("Visual Studio Code"), Platform::VsCode);
    /// assert_eq!(Platform::of_client("claude-ai"), Platform::ClaudeDesktop);
    /// assert_eq!(Platform::of_client("Zed"), Platform::custom("Zed"));
    /// ```
    pub fn of_client(name: &str) -> Platform {
        let name = name.trim();
        let lower = name.to_ascii_lowercase();
        let is = |names: &[&str]| names.iter().any(|known| lower.starts_with(known));
        if is(&["visual studio code", "vscode", "vs code"]) {
            Platform::VsCode
        } else if is(&["claude-ai", "claude desktop", "claude-desktop"]) {
            Platform::ClaudeDesktop
        } else if is(&[
            "jetbrains",
            "intellij",
            "pycharm",
            "rider",
            "goland",
            "webstorm",
        ]) {
            Platform::JetBrains
        } else if is(&["github", "copilot-swe-agent", "copilot coding agent"]) {
            Platform::GitHub
        } else if name.is_empty() {
            Platform::Cli
        } else {
            Platform::custom(name)
        }
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The MCP client, learned at `initialize`: `clientName`, `clientVersion`.
///
/// ```
/// let client = azsdk_telemetry::ClientInfo::new("Visual Studio Code", "1.100.1");
/// assert_eq!(client.name.as_deref(), Some("Visual Studio Code"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ClientInfo {
    /// `clientName`.
    pub name: Option<String>,
    /// `clientVersion`.
    pub version: Option<String>,
}

impl ClientInfo {
    /// A client with a name and a version.
    pub fn new(name: impl Into<String>, version: impl Into<String>) -> Self {
        ClientInfo {
            name: Some(name.into()),
            version: Some(version.into()),
        }
    }
}

/// The AI agent driving the tools: `agentName`, `agentVersion`, `agentModel`.
///
/// ```
/// let agent = azsdk_telemetry::AgentInfo::new("GitHub Copilot").model("gpt-4");
/// assert_eq!(agent.model.as_deref(), Some("gpt-4"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AgentInfo {
    /// `agentName`.
    pub name: Option<String>,
    /// `agentVersion`.
    pub version: Option<String>,
    /// `agentModel`: the model, `claude-sonnet-4`.
    pub model: Option<String>,
}

impl AgentInfo {
    /// An agent with a name.
    pub fn new(name: impl Into<String>) -> Self {
        AgentInfo {
            name: Some(name.into()),
            ..AgentInfo::default()
        }
    }

    /// Sets the agent's version.
    pub fn version(mut self, version: impl Into<String>) -> Self {
        self.version = Some(version.into());
        self
    }

    /// Sets the model.
    pub fn model(mut self, model: impl Into<String>) -> Self {
        self.model = Some(model.into());
        self
    }
}

/// The context attached to every record: the spec's common properties plus
/// what the envelope's tags need. Immutable; a change (an MCP client learned
/// at `initialize`) publishes a new snapshot.
#[derive(Debug, Clone, PartialEq)]
pub struct ContextSnapshot {
    /// `ai.cloud.role`: the application's name, `azsdk`.
    pub app_name: String,
    /// `version` and `ai.application.ver`.
    pub version: String,
    /// `sessionId` and `ai.session.id`.
    pub session_id: String,
    /// `macAddressHash`: SHA-256 of the MAC address, or `N/A`.
    pub mac_address_hash: String,
    /// `devDeviceId`: SHA-256 of the shared developer-tools device id, or `N/A`.
    pub dev_device_id: String,
    /// `platform`.
    pub platform: String,
    /// `isOptedIn`.
    pub is_opted_in: bool,
    /// `ai.device.osVersion`: `Ubuntu 22.04`, `Windows`, `macOS`.
    pub os_version: String,
    /// `ai.device.type`: `PC`.
    pub device_type: String,
    /// The MCP client.
    pub client: ClientInfo,
    /// The AI agent.
    pub agent: AgentInfo,
    /// Default `executionMode` of tool calls: `direct` or `agent-invoked`.
    pub execution_mode: Option<String>,
}

impl Default for ContextSnapshot {
    fn default() -> Self {
        ContextSnapshot {
            app_name: String::new(),
            version: String::new(),
            session_id: NOT_AVAILABLE.to_owned(),
            mac_address_hash: NOT_AVAILABLE.to_owned(),
            dev_device_id: NOT_AVAILABLE.to_owned(),
            platform: Platform::Cli.as_str().to_owned(),
            is_opted_in: true,
            os_version: os_version(),
            device_type: "PC".to_owned(),
            client: ClientInfo::default(),
            agent: AgentInfo::default(),
            execution_mode: None,
        }
    }
}

/// A source of wall-clock time: `SystemTime::now` unless a test or a
/// simulation injects another.
pub(crate) type Clock = Arc<dyn Fn() -> SystemTime + Send + Sync>;

/// The live context: readers take a cheap snapshot (one `Arc` clone), writers
/// publish a new one. It also owns the clock records are stamped with.
pub(crate) struct SharedContext {
    current: RwLock<Arc<ContextSnapshot>>,
    clock: Option<Clock>,
    /// Whether the MCP client names the platform: neither the application nor the
    /// environment did.
    platform_from_client: bool,
}

impl fmt::Debug for SharedContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SharedContext")
            .field("current", &self.snapshot())
            .field("injected_clock", &self.clock.is_some())
            .field("platform_from_client", &self.platform_from_client)
            .finish()
    }
}

impl SharedContext {
    pub(crate) fn new(snapshot: ContextSnapshot) -> Self {
        Self::with_clock(snapshot, None)
    }

    pub(crate) fn with_clock(mut snapshot: ContextSnapshot, clock: Option<Clock>) -> Self {
        snapshot.scrub_external();
        SharedContext {
            current: RwLock::new(Arc::new(snapshot)),
            clock,
            platform_from_client: false,
        }
    }

    /// Lets the MCP client name the platform ([`Platform::of_client`]) when it is set:
    /// for a context whose platform neither the application nor the environment gave.
    pub(crate) fn platform_from_client(mut self) -> Self {
        self.platform_from_client = true;
        self
    }

    /// Sets the MCP client, and the platform it names when the context lets it.
    pub(crate) fn set_client(&self, client: ClientInfo) {
        let platform = self
            .platform_from_client
            .then(|| client.name.as_deref().map(Platform::of_client))
            .flatten();
        self.update(|ctx| {
            ctx.client = client;
            if let Some(platform) = platform {
                ctx.platform = platform.as_str().to_owned();
            }
        });
    }

    /// Now, by the injected clock or the system's.
    pub(crate) fn now(&self) -> SystemTime {
        self.clock
            .as_ref()
            .map_or_else(SystemTime::now, |clock| clock())
    }

    pub(crate) fn snapshot(&self) -> Arc<ContextSnapshot> {
        Arc::clone(&self.current.read().unwrap_or_else(PoisonError::into_inner))
    }

    pub(crate) fn update(&self, change: impl FnOnce(&mut ContextSnapshot)) {
        let mut guard = self.current.write().unwrap_or_else(PoisonError::into_inner);
        let mut next = ContextSnapshot::clone(&guard);
        change(&mut next);
        next.scrub_external();
        *guard = Arc::new(next);
    }
}

impl ContextSnapshot {
    /// Scrubs, at the rules of arguments, every string that comes from outside the
    /// application's code: the MCP client's name and version (whatever a client sends at
    /// `initialize`), the agent and its model, the platform, the OS description and the
    /// execution mode (both read from the environment). Done once, where a snapshot is
    /// published ([`SharedContext`]), so no event pays for it.
    fn scrub_external(&mut self) {
        let scrub = |value: &mut String| {
            if let std::borrow::Cow::Owned(clean) = crate::sanitize::scrub(value) {
                *value = clean;
            }
        };
        let optional = [
            &mut self.client.name,
            &mut self.client.version,
            &mut self.agent.name,
            &mut self.agent.version,
            &mut self.agent.model,
            &mut self.execution_mode,
        ];
        for value in optional.into_iter().flatten() {
            scrub(value);
        }
        scrub(&mut self.platform);
        scrub(&mut self.os_version);
    }
}

/// A short operating-system description for `ai.device.osVersion`, read once.
fn os_version() -> String {
    static OS: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    OS.get_or_init(detect_os_version).clone()
}

fn detect_os_version() -> String {
    if cfg!(target_os = "linux") {
        if let Ok(release) = std::fs::read_to_string("/etc/os-release") {
            let field = |key: &str| {
                release
                    .lines()
                    .find_map(|line| line.strip_prefix(key)?.strip_prefix('='))
                    .map(|value| value.trim_matches('"').to_owned())
            };
            if let Some(name) = field("NAME") {
                return match field("VERSION_ID") {
                    Some(version) => format!("{name} {version}"),
                    None => name,
                };
            }
        }
        return "Linux".to_owned();
    }
    match std::env::consts::OS {
        "macos" => "macOS".to_owned(),
        "windows" => "Windows".to_owned(),
        other => other.to_owned(),
    }
}
