//! Configuring a [`TelemetryLayer`]: code first, then the environment.

use std::path::PathBuf;
use std::sync::Arc;

use tracing_subscriber::filter::Filtered;

use super::core::{Core, LayerCounters};
use super::filter::OwnEvents;
use super::handle::TelemetryHandle;
use super::TelemetryLayer;
use crate::config::{self, OptOut};
use crate::context::{AgentInfo, ClientInfo, ContextSnapshot, Platform, SharedContext};
use crate::event::PendingRecord;
use crate::export::{JsonlSink, Sink};

/// Why a layer could not be built. Each message says what to change.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// No sink was configured and the platform has no per-user directory for the default JSONL log.
    #[error("no per-user state directory is known on this platform: set AZSDK_TELEMETRY_DIR, call .jsonl_path(..), or configure a connection string")]
    NoStateDirectory,
    /// A connection string was given, but this build cannot send over HTTP.
    #[error("a connection string is configured, but HTTP export is not available in this build: remove APPLICATIONINSIGHTS_CONNECTION_STRING or use .jsonl_path(..)")]
    HttpExportUnavailable,
}

/// Builds a [`TelemetryLayer`] and its [`TelemetryHandle`].
///
/// Settings made in code win over the environment. Opt-out is decided first:
/// when the user opted out (`AZSDK_TELEMETRY_ENABLED=false`, `DO_NOT_TRACK=1`)
/// or the code says [`enabled(false)`](Self::enabled), the layer is inert:
/// no sink is created, no file is touched, and an instrumented call costs
/// one check.
///
/// Where records go, in order: an explicit [`sink`](Self::sink); a
/// connection string (code, then `APPLICATIONINSIGHTS_CONNECTION_STRING`);
/// a JSONL file (code, then `AZSDK_TELEMETRY_JSONL`); else the JSONL file
/// `telemetry.jsonl` in the per-user state directory.
///
/// ```
/// use azsdk_telemetry::{Platform, TelemetryLayer};
/// # let dir = tempfile::tempdir().unwrap();
/// let (layer, handle) = TelemetryLayer::builder()
///     .app_name("azsdk")
///     .app_version("1.0.0")
///     .platform(Platform::Cli)
///     .jsonl_path(dir.path().join("events.jsonl"))
///     .build::<tracing_subscriber::Registry>()?;
/// # let _ = (layer, handle);
/// # Ok::<(), azsdk_telemetry::BuildError>(())
/// ```
#[derive(Default)]
#[must_use = "a builder does nothing until .build() is called"]
pub struct TelemetryBuilder {
    app_name: Option<String>,
    app_version: Option<String>,
    platform: Option<Platform>,
    execution_mode: Option<String>,
    client: ClientInfo,
    agent: AgentInfo,
    session_id: Option<String>,
    mac_address_hash: Option<String>,
    dev_device_id: Option<String>,
    sink: Option<Arc<dyn Sink>>,
    jsonl_path: Option<PathBuf>,
    connection_string: Option<String>,
    enabled: Option<bool>,
    ignore_environment: bool,
}

impl std::fmt::Debug for TelemetryBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TelemetryBuilder")
            .field("app_name", &self.app_name)
            .field("app_version", &self.app_version)
            .field("platform", &self.platform)
            .field("has_sink", &self.sink.is_some())
            .field("jsonl_path", &self.jsonl_path)
            .field("has_connection_string", &self.connection_string.is_some())
            .field("enabled", &self.enabled)
            .finish_non_exhaustive()
    }
}

impl TelemetryBuilder {
    /// `ai.cloud.role` and the name of the state directory. Default: the executable's name.
    pub fn app_name(mut self, name: impl Into<String>) -> Self {
        self.app_name = Some(name.into());
        self
    }

    /// `version`: usually `env!("CARGO_PKG_VERSION")`. Default: `unknown`.
    pub fn app_version(mut self, version: impl Into<String>) -> Self {
        self.app_version = Some(version.into());
        self
    }

    /// `platform`. Default: `CLI`.
    pub fn platform(mut self, platform: Platform) -> Self {
        self.platform = Some(platform);
        self
    }

    /// Default `executionMode` of tool calls: `direct` for a CLI, `agent-invoked` for an MCP server.
    pub fn execution_mode(mut self, mode: impl Into<String>) -> Self {
        self.execution_mode = Some(mode.into());
        self
    }

    /// The MCP client, when known at start-up (else [`TelemetryHandle::set_client`]).
    pub fn client(mut self, client: ClientInfo) -> Self {
        self.client = client;
        self
    }

    /// The AI agent, when known at start-up (else [`TelemetryHandle::set_agent`]).
    pub fn agent(mut self, agent: AgentInfo) -> Self {
        self.agent = agent;
        self
    }

    /// `sessionId`. Default: a new random id for this process.
    pub fn session_id(mut self, id: impl Into<String>) -> Self {
        self.session_id = Some(id.into());
        self
    }

    /// `macAddressHash` and `devDeviceId`, already hashed. Default: `N/A`.
    pub fn device_identity(
        mut self,
        mac_address_hash: impl Into<String>,
        dev_device_id: impl Into<String>,
    ) -> Self {
        self.mac_address_hash = Some(mac_address_hash.into());
        self.dev_device_id = Some(dev_device_id.into());
        self
    }

    /// Sends records to this sink instead of the default ones.
    pub fn sink(mut self, sink: impl Sink) -> Self {
        self.sink = Some(Arc::new(sink));
        self
    }

    /// Writes envelopes to this JSONL file.
    pub fn jsonl_path(mut self, path: impl Into<PathBuf>) -> Self {
        self.jsonl_path = Some(path.into());
        self
    }

    /// Sends to Application Insights with this connection string.
    pub fn connection_string(mut self, connection_string: impl Into<String>) -> Self {
        self.connection_string = Some(connection_string.into());
        self
    }

    /// Turns telemetry off (or on) from code. The user's opt-out in the
    /// environment still wins over `enabled(true)`.
    pub fn enabled(mut self, enabled: bool) -> Self {
        self.enabled = Some(enabled);
        self
    }

    /// Reads nothing from the environment: no opt-out variables, no
    /// connection string, no paths. For tests, whose results must not depend
    /// on the machine they run on; never for a shipped application.
    pub fn ignore_environment(mut self) -> Self {
        self.ignore_environment = true;
        self
    }

    /// Builds the layer and its handle.
    ///
    /// # Errors
    /// [`BuildError`] when the configuration cannot work; its message says
    /// what to change. An opted-out build never fails.
    pub fn build<S>(self) -> Result<(TelemetryLayer<S>, TelemetryHandle), BuildError> {
        let env = |name: &str| {
            if self.ignore_environment {
                None
            } else {
                std::env::var(name)
                    .ok()
                    .filter(|value| !value.trim().is_empty())
            }
        };
        let opt_out = match self.enabled {
            Some(false) => Some(OptOut::Code),
            _ if self.ignore_environment => None,
            _ => config::opt_out_from_env(),
        };
        let context = Arc::new(SharedContext::new(self.snapshot()));
        let counters = Arc::new(LayerCounters::default());
        if let Some(reason) = opt_out {
            let core = Core {
                sink: Arc::new(Discard),
                context: Arc::clone(&context),
                counters: Arc::clone(&counters),
            };
            let layer = TelemetryLayer {
                inner: Filtered::new(core, OwnEvents { on: false }),
            };
            return Ok((layer, TelemetryHandle::disabled(reason, context)));
        }

        let sink: Arc<dyn Sink> = if let Some(sink) = self.sink.clone() {
            sink
        } else if self.connection_string.is_some() || env(config::ENV_CONNECTION_STRING).is_some() {
            return Err(BuildError::HttpExportUnavailable);
        } else {
            let path = match self
                .jsonl_path
                .clone()
                .or_else(|| env(config::ENV_JSONL).map(PathBuf::from))
            {
                Some(path) => path,
                None => config::state_dir(&self.resolved_app_name())
                    .ok_or(BuildError::NoStateDirectory)?
                    .join("telemetry.jsonl"),
            };
            Arc::new(JsonlSink::new(path))
        };
        let core = Core {
            sink: Arc::clone(&sink),
            context: Arc::clone(&context),
            counters: Arc::clone(&counters),
        };
        let layer = TelemetryLayer {
            inner: Filtered::new(core, OwnEvents { on: true }),
        };
        Ok((layer, TelemetryHandle::enabled(sink, context, counters)))
    }

    fn resolved_app_name(&self) -> String {
        self.app_name.clone().unwrap_or_else(|| {
            std::env::current_exe()
                .ok()
                .and_then(|exe| exe.file_stem().map(|s| s.to_string_lossy().into_owned()))
                .unwrap_or_else(|| "app".to_owned())
        })
    }

    fn snapshot(&self) -> ContextSnapshot {
        let defaults = ContextSnapshot::default();
        ContextSnapshot {
            app_name: self.resolved_app_name(),
            version: self
                .app_version
                .clone()
                .unwrap_or_else(|| "unknown".to_owned()),
            session_id: self
                .session_id
                .clone()
                .unwrap_or_else(|| uuid::Uuid::new_v4().to_string()),
            mac_address_hash: self
                .mac_address_hash
                .clone()
                .unwrap_or(defaults.mac_address_hash),
            dev_device_id: self.dev_device_id.clone().unwrap_or(defaults.dev_device_id),
            platform: self
                .platform
                .as_ref()
                .map_or(defaults.platform, |p| p.as_str().to_owned()),
            client: self.client.clone(),
            agent: self.agent.clone(),
            execution_mode: self.execution_mode.clone(),
            ..defaults
        }
    }
}

/// The sink of an opted-out layer: never called, since its filter admits nothing.
struct Discard;

impl Sink for Discard {
    fn accept(&self, record: PendingRecord) {
        drop(record);
    }
}
