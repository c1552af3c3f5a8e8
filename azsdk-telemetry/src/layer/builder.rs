//! Configuring a [`TelemetryLayer`]: code first, then the environment.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use super::core::{Core, LayerCounters};
use super::filter::OwnEvents;
use super::handle::{TelemetryHandle, CI_EXIT_BUDGET, CLI_EXIT_BUDGET, DEFAULT_SHUTDOWN_DEADLINE};
use super::status::{Destination, StatusInfo};
use super::TelemetryLayer;
use crate::config::{self, OptOut, Settings};
use crate::context::{
    self, AgentInfo, ClientInfo, Clock, ContextSnapshot, Platform, SharedContext,
};
use crate::event::PendingRecord;
use crate::export::{ConnectionString, ConnectionStringError, ExportConfig, ExportError};
use crate::lifecycle::{self, Lifecycle, LifecycleOptions, SessionKind, StateStore};
use crate::sink::{HttpSink, JsonlSink, Sink};

/// Why a layer could not be built. Each message says what to change.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// No sink was configured and the platform has no per-user directory for the default JSONL log.
    #[error("no per-user state directory is known on this platform: set AZSDK_TELEMETRY_DIR, call .jsonl_path(..), or configure a connection string")]
    NoStateDirectory,
    /// The connection string (from code or `APPLICATIONINSIGHTS_CONNECTION_STRING`) is malformed.
    #[error("the Application Insights connection string is not valid: {0}")]
    ConnectionString(#[from] ConnectionStringError),
    /// The exporter could not start.
    #[error(transparent)]
    Export(#[from] ExportError),
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
/// With a state directory (`AZSDK_TELEMETRY_DIR`, the per-user default, or
/// [`state_dir`](Self::state_dir)) the lifecycle runs with no further code:
/// `SystemInstalled` or `SystemUpdated`, then `SystemStarted` at build,
/// `SystemStopped` when the handle goes, `SystemCrashed` from a panic hook,
/// the first-run notice once on stderr, and CLI sessions across invocations.
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
    exit_budget: Option<Duration>,
    state_dir: Option<PathBuf>,
    lifecycle: LifecycleOptions,
    export: Vec<ExportSetting>,
    clock: Option<Clock>,
    #[cfg(feature = "entra")]
    credential: Option<Arc<dyn azure_core::credentials::TokenCredential>>,
}

/// A change to the exporter's configuration, applied once the connection string is known.
type ExportSetting = Box<dyn FnOnce(ExportConfig) -> ExportConfig + Send>;

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
            .field("state_dir", &self.state_dir)
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

    /// `platform`. Default: what the environment shows (VS Code's terminal, GitHub
    /// Actions, a JetBrains IDE, CI), else the MCP client's
    /// ([`TelemetryHandle::set_client`]), else `CLI`.
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

    /// Sends with Microsoft Entra ID tokens from `credential` (feature `entra`), for
    /// resources with local authentication disabled: each request to
    /// `{IngestionEndpoint}/v2.1/track` carries `Authorization: Bearer <token>` for the scope
    /// `https://monitor.azure.com//.default`, or the connection string's `AADAudience`
    /// followed by `/.default`. Any `azure_identity` credential works (developer tools,
    /// managed identity, workload identity, client secret); the identity needs the
    /// Monitoring Metrics Publisher role on the resource.
    ///
    /// Tokens are fetched on the export worker, never on a calling thread, and reused until
    /// 5 minutes before they expire. While none can be had, events are kept in the spool
    /// and sending pauses (growing up to a minute between tries).
    ///
    /// ```
    /// use std::sync::Arc;
    /// use azure_core::credentials::TokenCredential;
    /// use azsdk_telemetry::{BuildError, TelemetryHandle, TelemetryLayer};
    ///
    /// // `credential`: e.g. `azure_identity::DeveloperToolsCredential::new(None)?`
    /// fn telemetry(credential: Arc<dyn TokenCredential>) -> Result<TelemetryHandle, BuildError> {
    ///     let (layer, handle) = TelemetryLayer::builder()
    ///         .connection_string("InstrumentationKey=00000000-0000-0000-0000-000000000000;IngestionEndpoint=https://westus2-1.in.applicationinsights.azure.com/")
    ///         .credential(credential)
    ///         .build::<tracing_subscriber::Registry>()?;
    ///     # drop(layer);
    ///     Ok(handle)
    /// }
    /// ```
    #[cfg(feature = "entra")]
    pub fn credential(
        mut self,
        credential: Arc<dyn azure_core::credentials::TokenCredential>,
    ) -> Self {
        self.credential = Some(credential);
        self
    }

    /// Keeps this percentage of successful tool calls (failures are always
    /// kept); sent items carry `sampleRate` so Application Insights'
    /// `itemCount` extrapolates. Default: 100.
    pub fn sample_rate(self, percent: f64) -> Self {
        self.configure_export(move |config| config.with_sample_rate(percent))
    }

    /// Adjusts the exporter's configuration (batch size and age, queue
    /// capacity, retries, spool location and caps) before it starts.
    ///
    /// ```
    /// use std::time::Duration;
    /// let builder = azsdk_telemetry::TelemetryLayer::builder()
    ///     .configure_export(|config| config.with_max_batch_age(Duration::from_secs(1)));
    /// # drop(builder);
    /// ```
    pub fn configure_export(
        mut self,
        change: impl FnOnce(ExportConfig) -> ExportConfig + Send + 'static,
    ) -> Self {
        self.export.push(Box::new(change));
        self
    }

    /// Turns telemetry off (or on) from code. The user's opt-out in the
    /// environment still wins over `enabled(true)`.
    pub fn enabled(mut self, enabled: bool) -> Self {
        self.enabled = Some(enabled);
        self
    }

    /// The per-user state directory (install/update state, CLI session,
    /// settings, default JSONL log). Default: `AZSDK_TELEMETRY_DIR`, else `azsdk-telemetry/<app>` in the per-user state directory.
    pub fn state_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.state_dir = Some(dir.into());
        self
    }

    /// Whether to record the lifecycle events (`SystemInstalled`,
    /// `SystemUpdated`, `SystemStarted`, `SystemStopped`). Default: on.
    pub fn lifecycle_events(mut self, on: bool) -> Self {
        self.lifecycle.events = on;
        self
    }

    /// Whether a panic on the main thread records `SystemCrashed` before the
    /// process dies. Default: on.
    pub fn crash_reporting(mut self, on: bool) -> Self {
        self.lifecycle.crash_reporting = on;
        self
    }

    /// Whether to print the first-run notice (once per user, on stderr). Default: on.
    pub fn first_run_notice(mut self, on: bool) -> Self {
        self.lifecycle.notice = on.then(String::new);
        self
    }

    /// The first-run notice's text, instead of the default (what is collected, how to opt out).
    pub fn first_run_notice_text(mut self, text: impl Into<String>) -> Self {
        self.lifecycle.notice = Some(text.into());
        self
    }

    /// `installMethod` of `SystemInstalled`: `cargo`, `npm`, `brew`, `vscode-extension`...
    pub fn install_method(mut self, method: impl Into<String>) -> Self {
        self.lifecycle.install_method = Some(method.into());
        self
    }

    /// `updateMethod` of `SystemUpdated`: `automatic` or `manual`.
    pub fn update_method(mut self, method: impl Into<String>) -> Self {
        self.lifecycle.update_method = Some(method.into());
        self
    }

    /// How long the process may wait for its telemetry at exit (dropping the handle,
    /// [`TelemetryHandle::close`]): the network is given up in time for what is left to
    /// be written to the spool by then. Default by the kind of process: a CLI command
    /// ([`SessionKind::cli`]) [`CLI_EXIT_BUDGET`] (250 ms), or [`CI_EXIT_BUDGET`] (5 s)
    /// when it runs in CI; a service or MCP server [`DEFAULT_SHUTDOWN_DEADLINE`] (2 s).
    ///
    /// [`CLI_EXIT_BUDGET`]: crate::CLI_EXIT_BUDGET
    /// [`CI_EXIT_BUDGET`]: crate::CI_EXIT_BUDGET
    /// [`DEFAULT_SHUTDOWN_DEADLINE`]: crate::DEFAULT_SHUTDOWN_DEADLINE
    pub fn exit_budget(mut self, budget: Duration) -> Self {
        self.exit_budget = Some(budget);
        self
    }

    /// How sessions are delimited. Default: one per process; CLIs use
    /// [`SessionKind::cli`] so a session spans invocations.
    pub fn session(mut self, kind: SessionKind) -> Self {
        self.lifecycle.session = kind;
        self
    }

    /// When start-up began, for `SystemStarted`'s duration. Default: the
    /// process's start where the platform tells it (Linux), else the build.
    pub fn startup_began(mut self, at: Instant) -> Self {
        self.lifecycle.started_at = Some(at);
        self
    }

    /// Stamps records with this clock instead of the system's: for tests,
    /// and for simulations that replay days of usage. Sessions and lifecycle
    /// state follow it too.
    ///
    /// ```
    /// use std::time::{Duration, SystemTime};
    /// let yesterday = SystemTime::now() - Duration::from_secs(86_400);
    /// let builder = azsdk_telemetry::TelemetryLayer::builder().clock(move || yesterday);
    /// # drop(builder);
    /// ```
    pub fn clock(mut self, clock: impl Fn() -> SystemTime + Send + Sync + 'static) -> Self {
        self.clock = Some(Arc::new(clock));
        self
    }

    /// Reads nothing from the environment: no opt-out variables, no
    /// connection string, no default state directory, no platform or device
    /// detection (identity is `N/A` unless set). For tests, whose results
    /// must not depend on the machine they run on; never for a shipped
    /// application.
    pub fn ignore_environment(mut self) -> Self {
        self.ignore_environment = true;
        self
    }

    /// Why telemetry would be off if this builder were built, or `None` when
    /// it would be on: the application's `enabled(false)`, then the
    /// opt-out variables, then the settings file in the state directory.
    /// Reads only the environment and that file: nothing is created.
    ///
    /// ```
    /// let builder = azsdk_telemetry::TelemetryLayer::builder().enabled(false);
    /// assert_eq!(builder.opt_out(), Some(azsdk_telemetry::OptOut::Code));
    /// ```
    pub fn opt_out(&self) -> Option<OptOut> {
        self.opt_out_in(self.resolved_state_dir().as_deref())
    }

    fn opt_out_in(&self, state_dir: Option<&Path>) -> Option<OptOut> {
        match self.enabled {
            Some(false) => Some(OptOut::Code),
            _ if self.ignore_environment => None,
            _ => config::opt_out_from_env(),
        }
        .or_else(|| {
            let settings = Settings::load(state_dir?);
            (settings.telemetry_enabled() == Some(false)).then_some(OptOut::Settings)
        })
    }

    fn resolved_state_dir(&self) -> Option<PathBuf> {
        self.state_dir.clone().or_else(|| {
            (!self.ignore_environment)
                .then(|| config::state_dir(&self.resolved_app_name()))
                .flatten()
        })
    }

    /// Builds the layer and its handle.
    ///
    /// # Errors
    /// [`BuildError`] when the configuration cannot work; its message says
    /// what to change. An opted-out build never fails.
    pub fn build<S>(mut self) -> Result<(TelemetryLayer<S>, TelemetryHandle), BuildError> {
        let env = |name: &str| {
            if self.ignore_environment {
                None
            } else {
                std::env::var(name)
                    .ok()
                    .filter(|value| !value.trim().is_empty())
            }
        };
        let exit_budget = self.exit_budget.unwrap_or(match self.lifecycle.session {
            SessionKind::Process => DEFAULT_SHUTDOWN_DEADLINE,
            SessionKind::Cli { .. } if context::is_ci_from(env) => CI_EXIT_BUDGET,
            SessionKind::Cli { .. } => CLI_EXIT_BUDGET,
        });
        let state_dir = self.resolved_state_dir();
        let opt_out = self.opt_out_in(state_dir.as_deref());
        let counters = Arc::new(LayerCounters::default());
        let mut status = StatusInfo {
            reason: self.on_reason(&env, state_dir.as_deref()),
            ..StatusInfo::default()
        };
        // Where records go (or would go), computed from paths and text only.
        let plan = self.plan(&env, state_dir.as_deref());
        (status.destination, status.spool_dir) = plan.destination();
        if let Some(reason) = opt_out {
            // Nothing is detected, read or created: an inert layer.
            let context = Arc::new(SharedContext::new(ContextSnapshot {
                is_opted_in: false,
                ..ContextSnapshot::default()
            }));
            let core = Core {
                sink: Arc::new(Discard),
                context: Arc::clone(&context),
                counters,
            };
            let layer = TelemetryLayer::new(core, OwnEvents::new(false));
            let handle = TelemetryHandle::disabled(reason, context, state_dir).with_status(status);
            return Ok((layer, handle));
        }

        let sink: Arc<dyn Sink> = match plan {
            Plan::Custom(sink) => sink,
            Plan::Insights(parsed) => {
                let (connection_string, spool) = parsed?;
                let mut export = ExportConfig::new(connection_string);
                export.spool_dir = spool;
                #[cfg(feature = "entra")]
                {
                    export.credential = self.credential.clone();
                }
                export.envelope_log = env(crate::export::ENV_LOG)
                    .as_deref()
                    .and_then(crate::export::EnvelopeLog::parse);
                let export = self
                    .export
                    .drain(..)
                    .fold(export, |config, change| change(config));
                // `configure_export` may have changed both.
                status.destination = application_insights(&export.connection_string);
                status.spool_dir = export.spool_dir.clone();
                status.last_send = Some(Arc::clone(&export.last_send));
                let sink = HttpSink::start(export)?;
                status.spool_unavailable = sink.spool_unavailable().map(str::to_owned);
                Arc::new(sink)
            }
            Plan::Jsonl(path) => Arc::new(JsonlSink::new(path)),
            Plan::Nowhere => return Err(BuildError::NoStateDirectory),
        };

        let lifecycle = Lifecycle::new(
            state_dir.clone().map(StateStore::new),
            self.lifecycle.clone(),
        );
        let now = self
            .clock
            .as_ref()
            .map_or_else(SystemTime::now, |clock| clock());
        let startup = lifecycle.start(self.app_version.as_deref().unwrap_or(UNKNOWN_VERSION), now);
        let (mut snapshot, platform_from_client) = self.snapshot(self.resolved_app_name());
        if let (None, Some(session)) = (&self.session_id, &startup.session_id) {
            snapshot.session_id = session.clone();
        }
        let app_for_notice = snapshot.app_name.clone();
        let mut context = SharedContext::with_clock(snapshot, self.clock.clone());
        if platform_from_client {
            context = context.platform_from_client();
        }
        let context = Arc::new(context);
        if startup.show_notice {
            if let Some(text) = &self.lifecycle.notice {
                let default;
                let text = if text.is_empty() {
                    default = lifecycle::default_notice(&app_for_notice);
                    &default
                } else {
                    text
                };
                lifecycle::show_notice(text);
            }
        }
        for event in startup.events {
            let record = PendingRecord::new(event, &context);
            counters.count(&record);
            sink.accept(record);
        }
        if self.lifecycle.crash_reporting && lifecycle.options().events {
            lifecycle::watch_crashes(&sink, &context);
        }

        let switch = OwnEvents::new(true);
        let core = Core {
            sink: Arc::clone(&sink),
            context: Arc::clone(&context),
            counters: Arc::clone(&counters),
        };
        let layer = TelemetryLayer::new(core, switch.clone());
        let handle =
            TelemetryHandle::enabled(sink, context, counters, switch, lifecycle, state_dir)
                .with_status(status)
                .with_exit_budget(exit_budget);
        Ok((layer, handle))
    }

    /// Which setting turned telemetry on (when nothing turned it off).
    fn on_reason(&self, env: &dyn Fn(&str) -> Option<String>, state_dir: Option<&Path>) -> String {
        if self.enabled == Some(true) {
            return "enabled by the application".to_owned();
        }
        if let Some(value) = env(config::ENV_ENABLED) {
            return format!("{}={}", config::ENV_ENABLED, value.trim());
        }
        let settings = state_dir.map(Settings::load);
        if settings.is_some_and(|s| s.telemetry_enabled() == Some(true)) {
            return format!(
                "{} is true in the settings",
                config::SETTING_TELEMETRY_ENABLED
            );
        }
        "default".to_owned()
    }

    /// Where records go: an explicit sink, else a connection string (code, then the
    /// environment), else a JSONL file (code, the environment, the state directory).
    /// Decided from paths and text alone: nothing is created.
    fn plan(&self, env: &dyn Fn(&str) -> Option<String>, state_dir: Option<&Path>) -> Plan {
        if let Some(sink) = &self.sink {
            return Plan::Custom(Arc::clone(sink));
        }
        let text = self
            .connection_string
            .clone()
            .or_else(|| env(config::ENV_CONNECTION_STRING));
        if let Some(text) = text {
            return Plan::Insights(ConnectionString::parse(&text).map(|cs| {
                let spool = state_dir
                    .map(|dir| dir.join("spool"))
                    .or_else(|| ExportConfig::default_spool_dir(&cs));
                (cs, spool)
            }));
        }
        self.jsonl_path
            .clone()
            .or_else(|| env(config::ENV_JSONL).map(PathBuf::from))
            .or_else(|| state_dir.map(|dir| dir.join("telemetry.jsonl")))
            .map_or(Plan::Nowhere, Plan::Jsonl)
    }

    fn resolved_app_name(&self) -> String {
        self.app_name.clone().unwrap_or_else(|| {
            std::env::current_exe()
                .ok()
                .and_then(|exe| exe.file_stem().map(|s| s.to_string_lossy().into_owned()))
                .unwrap_or_else(|| "app".to_owned())
        })
    }

    /// The context at start-up, and whether the MCP client may name the platform
    /// (neither the application nor the environment did).
    fn snapshot(&self, app_name: String) -> (ContextSnapshot, bool) {
        let defaults = ContextSnapshot::default();
        let detect = !self.ignore_environment;
        let (mac_address_hash, dev_device_id) = match (&self.mac_address_hash, &self.dev_device_id)
        {
            (Some(mac), Some(device)) => (mac.clone(), device.clone()),
            _ if detect => context::detect_identity(),
            _ => (
                defaults.mac_address_hash.clone(),
                defaults.dev_device_id.clone(),
            ),
        };
        let platform = match &self.platform {
            Some(platform) => Some(platform.clone()),
            None if detect => context::shown_platform(),
            None => None,
        };
        let platform_from_client = platform.is_none();
        let platform = platform.unwrap_or_default();
        let execution_mode = self
            .execution_mode
            .clone()
            .or_else(|| detect.then(context::detect_execution_mode));
        let snapshot = ContextSnapshot {
            app_name,
            version: self
                .app_version
                .clone()
                .unwrap_or_else(|| UNKNOWN_VERSION.to_owned()),
            session_id: self
                .session_id
                .clone()
                .unwrap_or_else(|| uuid::Uuid::new_v4().to_string()),
            mac_address_hash,
            dev_device_id,
            platform: platform.as_str().to_owned(),
            client: self.client.clone(),
            agent: self.agent.clone(),
            execution_mode,
            ..defaults
        };
        (snapshot, platform_from_client)
    }
}

const UNKNOWN_VERSION: &str = "unknown";

/// The sink of an opted-out layer: never called, since its filter admits nothing.
struct Discard;

impl Sink for Discard {
    fn accept(&self, record: PendingRecord) {
        drop(record);
    }
}

/// Where records go, as [`TelemetryBuilder::plan`] decides.
enum Plan {
    /// A sink given in code.
    Custom(Arc<dyn Sink>),
    /// Application Insights, with the default spool directory; or why the connection
    /// string is not valid.
    Insights(Result<(ConnectionString, Option<PathBuf>), ConnectionStringError>),
    /// A JSONL file.
    Jsonl(PathBuf),
    /// No JSONL path and no state directory for the default one.
    Nowhere,
}

impl Plan {
    /// Where records would go, and the spool directory, for the status.
    fn destination(&self) -> (Destination, Option<PathBuf>) {
        let only = |sink| Destination {
            sink,
            ..Destination::default()
        };
        match self {
            Plan::Custom(_) => (only("custom"), None),
            Plan::Insights(Ok((cs, spool))) => (application_insights(cs), spool.clone()),
            Plan::Insights(Err(_)) => (only("applicationInsights"), None),
            Plan::Jsonl(path) => (jsonl(path.clone()), None),
            Plan::Nowhere => (only("none"), None),
        }
    }
}

/// Application Insights at the connection string's ingestion host (never its key).
fn application_insights(connection_string: &ConnectionString) -> Destination {
    let host = url::Url::parse(connection_string.ingestion_endpoint())
        .ok()
        .and_then(|url| {
            let host = url.host_str()?.to_owned();
            Some(match url.port() {
                Some(port) => format!("{host}:{port}"),
                None => host,
            })
        });
    Destination {
        sink: "applicationInsights",
        host,
        path: None,
    }
}

fn jsonl(path: PathBuf) -> Destination {
    Destination {
        sink: "jsonl",
        host: None,
        path: Some(path),
    }
}
