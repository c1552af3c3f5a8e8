//! `azsdk demo`: a few hundred simulated tool calls across simulated days,
//! devices, platforms, MCP clients, agents and models, sent through the real
//! telemetry pipeline, then the dashboards computed from what was written.
//!
//! Where the telemetry goes:
//!
//! - always, a JSONL file of envelopes, `demo-telemetry.jsonl` in the demo's
//!   directory (`--dir`, default `<temp>/azsdk-telemetry-demo`), written by
//!   the framework's JSONL sink with each simulated moment's time (the
//!   layers' injected clock). The report is computed from this file;
//! - with `APPLICATIONINSIGHTS_CONNECTION_STRING` set, the same workload
//!   also goes to Application Insights. The service refuses items older
//!   than 48 hours, so for it the simulated days are compressed into the
//!   last 47 hours (the local file keeps the real spread).
//!
//! Every simulated developer has their own device identity and state
//! directory (under `azsdk-demo-state/`), so installs, updates, sessions
//! and `SystemStarted`/`SystemStopped` happen per device as they would.
//! A CLI command is one process: one layer per call, with CLI sessions that
//! span commands. An MCP session is one server process: one layer for the
//! session, the client set when it "initializes".

mod journey;
mod world;

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use azsdk_telemetry::{
    BuildError, ConnectionString, ExportConfig, ExportStats, HttpSink, JsonlSink, OptOut,
    PendingRecord, SessionKind, Sink, SinkStats, TelemetryBuilder, TelemetryHandle, TelemetryLayer,
    EXECUTION_AGENT_INVOKED, EXECUTION_DIRECT,
};
use azsdk_telemetry_report::render::Format;
use azsdk_telemetry_report::{Loader, Report, ReportError};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use tracing::Dispatch;
use tracing_subscriber::layer::SubscriberExt;

use crate::simulate::{Rng, Simulation};
use crate::telemetry::APP_NAME;
use crate::tools::{Reply, Toolbox};
use journey::{Journey, Runner};
use world::{Persona, Surface};

pub use world::personas;

/// The JSONL file the demo writes, in its directory.
pub const JSONL_FILE: &str = "demo-telemetry.jsonl";
/// The per-device state directories, in the demo's directory.
pub const STATE_DIR: &str = "azsdk-demo-state";
/// How far back Application Insights accepts items: the demo stays inside it.
pub const INGESTION_WINDOW: Duration = Duration::from_secs(47 * 3600);

const DAY: Duration = Duration::from_secs(86_400);

/// What `azsdk demo` does.
#[derive(Debug, Clone)]
pub struct DemoOptions {
    /// Tool calls to simulate.
    pub calls: usize,
    /// Days the calls spread over, ending now.
    pub days: u32,
    /// The seed every choice is drawn from.
    pub seed: u64,
    /// The report's format.
    pub format: Format,
    /// Where the JSONL file and the devices' state go.
    pub dir: PathBuf,
    /// Send to Application Insights too.
    pub connection_string: Option<String>,
    /// How long simulated work takes: 1.0 is a few milliseconds per call, 0 none.
    pub pace: f64,
    /// Show a progress bar on stderr.
    pub progress: bool,
    /// How long to wait for Application Insights at the end.
    pub flush_deadline: Duration,
}

impl DemoOptions {
    /// The defaults of `azsdk demo`: 400 calls over 28 days, seed 1, into `dir`.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        DemoOptions {
            calls: 400,
            days: 28,
            seed: 1,
            format: Format::Table,
            dir: dir.into(),
            connection_string: None,
            pace: 1.0,
            progress: true,
            flush_deadline: Duration::from_secs(30),
        }
    }

    /// The default directory: `<temp>/azsdk-telemetry-demo`.
    pub fn default_dir() -> PathBuf {
        std::env::temp_dir().join("azsdk-telemetry-demo")
    }
}

/// Why the demo could not run. Each message says what to change.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    /// The demo's directory could not be prepared.
    #[error("cannot prepare the demo directory {path}: {source}")]
    Directory {
        /// The directory.
        path: PathBuf,
        /// What went wrong.
        source: std::io::Error,
    },
    /// The telemetry could not be set up.
    #[error(transparent)]
    Telemetry(#[from] BuildError),
    /// The tokio runtime could not start.
    #[error("cannot start the async runtime: {0}")]
    Runtime(std::io::Error),
    /// The report could not be computed.
    #[error(transparent)]
    Report(#[from] ReportError),
    /// `--calls` or `--days` is zero.
    #[error("--calls and --days must be at least 1")]
    Empty,
}

/// What a finished demo did.
#[derive(Debug, Clone)]
pub struct DemoSummary {
    /// The JSONL file written.
    pub jsonl: PathBuf,
    /// Tool calls simulated.
    pub tool_calls: usize,
    /// Sessions simulated.
    pub sessions: usize,
    /// Simulated developers (devices) that were active.
    pub devices: usize,
    /// Envelopes written to the JSONL file.
    pub local: SinkStats,
    /// What the Application Insights exporter did, when it was used.
    pub export: Option<ExportStats>,
    /// Whether everything was sent within the deadline.
    pub flushed: bool,
    /// The report, rendered in the chosen format.
    pub report: String,
}

/// How the demo ended.
#[derive(Debug, Clone)]
#[allow(clippy::large_enum_variant)]
pub enum DemoOutcome {
    /// The user opted out: nothing was simulated, written or sent.
    OptedOut(OptOut),
    /// The demo ran.
    Ran(DemoSummary),
}

/// Why telemetry is off for `azsdk` on this machine, if it is: the opt-out
/// variables, then the settings file (`azsdk config set telemetry.enabled false`).
pub fn opt_out() -> Option<OptOut> {
    TelemetryLayer::builder().app_name(APP_NAME).opt_out()
}

/// Runs the demo; notes for people (where the data goes, the exporter's
/// counters) are written to `notes`, the report is returned.
///
/// # Errors
/// [`DemoError`] when the directory, the telemetry or the report fails.
pub fn run(options: &DemoOptions, notes: &mut dyn Write) -> Result<DemoOutcome, DemoError> {
    if let Some(reason) = opt_out() {
        return Ok(DemoOutcome::OptedOut(reason));
    }
    if options.calls == 0 || options.days == 0 {
        return Err(DemoError::Empty);
    }
    let state = options.dir.join(STATE_DIR);
    let jsonl = options.dir.join(JSONL_FILE);
    prepare(&options.dir, &state, &jsonl)?;

    let end = SystemTime::now();
    let remote = match &options.connection_string {
        Some(text) => {
            let connection_string =
                ConnectionString::parse(text).map_err(BuildError::ConnectionString)?;
            let endpoint = connection_string.ingestion_endpoint().to_owned();
            let config = ExportConfig::new(connection_string)
                .with_spool_dir(state.join("spool"))
                .with_queue_capacity(options.calls * 4 + 1024);
            let sink = HttpSink::start(config).map_err(BuildError::Export)?;
            let span = DAY * options.days;
            let _ = writeln!(
                notes,
                "telemetry: Application Insights at {endpoint}, and the JSONL file {}\n\
                 note: Application Insights rejects items older than 48 h, so for it the {} simulated days are compressed into the last 47 hours",
                jsonl.display(),
                options.days
            );
            Some(Remote {
                sink: Arc::new(sink),
                factor: (INGESTION_WINDOW.as_secs_f64() / span.as_secs_f64()).min(1.0),
            })
        }
        None => {
            let _ = writeln!(
                notes,
                "telemetry: JSONL sink -> {} (set APPLICATIONINSIGHTS_CONNECTION_STRING to send to Application Insights)",
                jsonl.display()
            );
            None
        }
    };
    let local = Arc::new(JsonlSink::new(&jsonl));

    let mut rng = Rng::new(options.seed);
    let people = personas(&mut rng, options.days);
    let plan = plan(&mut rng, &people, options, end);
    let _ = writeln!(
        notes,
        "simulating {} tool calls in {} sessions of {} developers over {} days (seed {})",
        options.calls,
        plan.len(),
        people.len(),
        options.days,
        options.seed
    );
    let progress = progress_bar(options);
    let tools = Toolbox::new(Simulation::flaky(options.seed).with_pace(options.pace));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .map_err(DemoError::Runtime)?;
    let world = World {
        local: &local,
        remote: remote.as_ref(),
        state: &state,
        end,
    };
    let mut seen = std::collections::BTreeSet::new();
    let mut calls = 0;
    for session in &plan {
        let persona = &people[session.persona];
        let first = seen.insert(session.persona);
        progress.set_message(format!("day {}/{}", session.day + 1, options.days));
        let mut runner = world.session(persona, session)?;
        let journey = Journey {
            persona,
            language: session.language,
            left: session.calls,
            first,
            tools: &tools,
        };
        let mut journey_rng = Rng::new(rng.next_u64());
        runtime.block_on(journey.run(&mut journey_rng, &mut runner.with_progress(&progress)));
        calls += session.calls;
        runner.close()?;
    }
    progress.finish_and_clear();

    let flushed_local = local.shutdown(Duration::from_secs(10));
    let local_stats = local.stats();
    let _ = writeln!(
        notes,
        "wrote {} envelopes ({calls} tool calls, the rest lifecycle events) to {}{}",
        local_stats.delivered,
        jsonl.display(),
        if flushed_local {
            ""
        } else {
            " (not all in time)"
        }
    );
    let (export, flushed) = match &remote {
        Some(remote) => {
            let _ = writeln!(
                notes,
                "flushing to Application Insights (at most {} s)...",
                options.flush_deadline.as_secs()
            );
            // Flush first: the exporter's counters are gone once it is shut down.
            let flushed = remote.sink.flush(options.flush_deadline);
            let stats = remote.sink.export_stats().unwrap_or_default();
            remote.sink.shutdown(Duration::from_millis(100));
            let _ = writeln!(
                notes,
                "Application Insights: {} sent, {} retried, {} spooled for later, {} dropped{}",
                stats.sent,
                stats.retried,
                stats.spooled,
                stats.dropped.total(),
                if flushed {
                    ""
                } else {
                    " (deadline reached; the rest is spooled or lost)"
                }
            );
            (Some(stats), flushed)
        }
        None => (None, flushed_local),
    };

    let mut loader = Loader::default();
    loader.read_file(&jsonl)?;
    let (events, load) = loader.finish();
    let report = Report::build(&events, load, None);
    Ok(DemoOutcome::Ran(DemoSummary {
        jsonl,
        tool_calls: calls,
        sessions: plan.len(),
        devices: seen.len(),
        local: local_stats,
        export,
        flushed,
        report: options.format.render(&report),
    }))
}

/// Creates the directory and removes what an earlier run left (only the
/// demo's own file and state directory).
fn prepare(dir: &Path, state: &Path, jsonl: &Path) -> Result<(), DemoError> {
    let fail = |source| DemoError::Directory {
        path: dir.to_owned(),
        source,
    };
    fs::create_dir_all(dir).map_err(fail)?;
    match fs::remove_file(jsonl) {
        Err(error) if error.kind() != std::io::ErrorKind::NotFound => return Err(fail(error)),
        _ => {}
    }
    match fs::remove_dir_all(state) {
        Err(error) if error.kind() != std::io::ErrorKind::NotFound => return Err(fail(error)),
        _ => {}
    }
    fs::create_dir_all(state).map_err(fail)
}

fn progress_bar(options: &DemoOptions) -> ProgressBar {
    if !options.progress {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(
        Some(options.calls as u64),
        ProgressDrawTarget::stderr_with_hz(12),
    );
    if let Ok(style) = ProgressStyle::with_template(
        "{spinner} {msg:>10} [{bar:40}] {pos}/{len} tool calls ({per_sec})",
    ) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar
}

/// One planned session.
#[derive(Debug, Clone)]
struct Session {
    persona: usize,
    day: u32,
    /// When it starts, on the simulated timeline.
    start: SystemTime,
    calls: usize,
    language: crate::args::Language,
    surface: usize,
}

/// Plans the sessions: each developer is active on some days (by habit),
/// and the calls are shared out among the sessions so they add up exactly.
fn plan(rng: &mut Rng, people: &[Persona], options: &DemoOptions, end: SystemTime) -> Vec<Session> {
    let days = options.days;
    let first_day = end - DAY * days;
    let mut sessions = Vec::new();
    for (index, persona) in people.iter().enumerate() {
        let active: Vec<u32> = if persona.days_per_week <= 0.0 {
            vec![rng.below(u64::from(days)) as u32]
        } else {
            (0..days)
                .filter(|_| rng.chance(persona.days_per_week / 7.0))
                .collect()
        };
        for day in active {
            let count = if rng.chance(0.15) { 2 } else { 1 };
            for n in 0..count {
                // Working hours, a second session in the afternoon.
                let minute = 60 * (8 + 5 * n as u64) + rng.below(4 * 60);
                let surface = world::pick_surface(rng, persona);
                let surface = persona
                    .surfaces
                    .iter()
                    .position(|(candidate, _)| candidate == surface)
                    .unwrap_or(0);
                sessions.push(Session {
                    persona: index,
                    day,
                    start: first_day + DAY * day + Duration::from_secs(minute * 60),
                    calls: 0,
                    language: *rng.pick(&persona.languages),
                    surface,
                });
            }
        }
    }
    // About three calls per session: drop sessions at random beyond that.
    let keep = sessions.len().min(options.calls.div_ceil(3)).max(1);
    while sessions.len() > keep {
        let drop = rng.below(sessions.len() as u64) as usize;
        sessions.swap_remove(drop);
    }
    // Share the calls out by weight, at least one each.
    let weights: Vec<u64> = sessions.iter().map(|_| rng.between(1, 8)).collect();
    let total: u64 = weights.iter().sum();
    let spare = options.calls - sessions.len();
    let mut given = 0;
    for (session, weight) in sessions.iter_mut().zip(&weights) {
        session.calls = 1 + (spare as u64 * weight / total) as usize;
        given += session.calls;
    }
    let (mut index, count) = (0, sessions.len());
    while given < options.calls {
        sessions[index % count].calls += 1;
        given += 1;
        index += 1;
    }
    sessions.sort_by_key(|session| session.start);
    sessions
}

/// The shared sinks: every session's layers hand records to them, and they
/// are flushed and shut down once, at the end.
struct Shared(Arc<dyn Sink>);

impl Sink for Shared {
    fn accept(&self, record: PendingRecord) {
        self.0.accept(record);
    }
    fn flush(&self, _timeout: Duration) -> bool {
        true
    }
    fn shutdown(&self, _timeout: Duration) -> bool {
        true
    }
    fn stats(&self) -> SinkStats {
        self.0.stats()
    }
}

struct Remote {
    sink: Arc<HttpSink>,
    /// Application Insights' timeline: `end - (end - t) * factor`.
    factor: f64,
}

/// The simulated now, shared by a session's layers through their clocks.
#[derive(Clone)]
struct SimClock(Arc<AtomicU64>);

impl SimClock {
    fn new(at: SystemTime) -> Self {
        let clock = SimClock(Arc::default());
        clock.set(at);
        clock
    }
    fn set(&self, at: SystemTime) {
        let ms = at
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_millis();
        self.0
            .store(u64::try_from(ms).unwrap_or(u64::MAX), Ordering::SeqCst);
    }
    fn now(&self) -> SystemTime {
        UNIX_EPOCH + Duration::from_millis(self.0.load(Ordering::SeqCst))
    }
    fn advance(&self, by: Duration) {
        self.set(self.now() + by);
    }
}

/// What every session's telemetry is built from.
struct World<'a> {
    local: &'a Arc<JsonlSink>,
    remote: Option<&'a Remote>,
    state: &'a Path,
    end: SystemTime,
}

/// The telemetry of one simulated process: its layers and their handles.
struct Process {
    dispatch: Dispatch,
    handles: Vec<TelemetryHandle>,
}

impl Process {
    fn stop(self) {
        for handle in self.handles {
            handle.shutdown(Duration::from_secs(1));
        }
    }
}

impl World<'_> {
    fn builder(
        &self,
        persona: &Persona,
        surface: &Surface,
        day: u32,
        state: PathBuf,
    ) -> TelemetryBuilder {
        let (mode, session) = match surface {
            Surface::Cli { .. } => (EXECUTION_DIRECT, SessionKind::cli()),
            Surface::Mcp { .. } => (EXECUTION_AGENT_INVOKED, SessionKind::Process),
        };
        TelemetryLayer::builder()
            .ignore_environment()
            .app_name(APP_NAME)
            .app_version(persona.version(day))
            .platform(surface.platform().clone())
            .execution_mode(mode)
            .session(session)
            .device_identity(&persona.mac_address_hash, &persona.dev_device_id)
            .state_dir(state)
            .install_method(if persona.has_cli() {
                "cargo"
            } else {
                "vscode-extension"
            })
            .first_run_notice(false)
            .crash_reporting(false)
    }

    /// Starts a simulated `azsdk` process for `persona` at the clock's time.
    fn start(
        &self,
        persona: &Persona,
        surface: &Surface,
        day: u32,
        clock: &SimClock,
    ) -> Result<Process, BuildError> {
        let device = self.state.join(&persona.label);
        let local_clock = clock.clone();
        let (local, local_handle) = self
            .builder(persona, surface, day, device.join("local"))
            .clock(move || local_clock.now())
            .sink(Shared(self.local.clone()))
            .build()?;
        let (remote, remote_handle) = match self.remote {
            Some(remote) => {
                let (end, factor, remote_clock) = (self.end, remote.factor, clock.clone());
                let (layer, handle) = self
                    .builder(persona, surface, day, device.join("remote"))
                    .clock(move || compress(end, remote_clock.now(), factor))
                    .sink(Shared(remote.sink.clone()))
                    .build()?;
                (Some(layer), Some(handle))
            }
            None => (None, None),
        };
        let subscriber = tracing_subscriber::registry().with(local).with(remote);
        let handles: Vec<TelemetryHandle> =
            std::iter::once(local_handle).chain(remote_handle).collect();
        if let Surface::Mcp { client, agent, .. } = surface {
            // The server learns its client at `initialize`, after start-up.
            for handle in &handles {
                handle.set_client(client.clone());
                handle.set_agent(agent.clone());
            }
        }
        Ok(Process {
            dispatch: Dispatch::new(subscriber),
            handles,
        })
    }

    fn session<'w>(
        &'w self,
        persona: &'w Persona,
        session: &Session,
    ) -> Result<SessionRunner<'w>, BuildError> {
        let surface = &persona.surfaces[session.surface].0;
        let clock = SimClock::new(session.start.min(self.end - Duration::from_secs(60)));
        let server = match surface {
            Surface::Mcp { .. } => Some(self.start(persona, surface, session.day, &clock)?),
            Surface::Cli { .. } => None,
        };
        Ok(SessionRunner {
            world: self,
            persona,
            surface,
            day: session.day,
            clock,
            server,
            command: None,
            rng: Rng::new(
                session
                    .start
                    .duration_since(UNIX_EPOCH)
                    .map_or(0, |d| d.as_secs()),
            ),
            progress: None,
            error: None,
        })
    }
}

/// Application Insights' time for simulated time `at`.
fn compress(end: SystemTime, at: SystemTime, factor: f64) -> SystemTime {
    let age = end.duration_since(at).unwrap_or_default();
    end - age.mul_f64(factor)
}

/// Runs one session's calls: an MCP server for the whole session, or one
/// CLI process per command.
struct SessionRunner<'w> {
    world: &'w World<'w>,
    persona: &'w Persona,
    surface: &'w Surface,
    day: u32,
    clock: SimClock,
    server: Option<Process>,
    command: Option<Process>,
    rng: Rng,
    progress: Option<ProgressBar>,
    error: Option<BuildError>,
}

impl SessionRunner<'_> {
    fn with_progress(&mut self, progress: &ProgressBar) -> &mut Self {
        self.progress = Some(progress.clone());
        self
    }

    /// Ends the session; fails when a CLI command's telemetry could not start.
    fn close(mut self) -> Result<(), BuildError> {
        self.clock
            .advance(Duration::from_secs(self.rng.between(30, 600)));
        if let Some(server) = self.server.take() {
            server.stop();
        }
        self.error.take().map_or(Ok(()), Err)
    }
}

impl Runner for &mut SessionRunner<'_> {
    fn begin(&mut self) -> Dispatch {
        // Someone reads, thinks, types: 20 s to 4 min between calls.
        self.clock
            .advance(Duration::from_secs(self.rng.between(20, 240)));
        if let Some(server) = &self.server {
            return server.dispatch.clone();
        }
        match self
            .world
            .start(self.persona, self.surface, self.day, &self.clock)
        {
            Ok(process) => {
                let dispatch = process.dispatch.clone();
                self.command = Some(process);
                dispatch
            }
            Err(error) => {
                self.error = Some(error);
                Dispatch::none()
            }
        }
    }

    fn end(&mut self, reply: &Reply) {
        // The call's simulated length: seconds to minutes of real work.
        let seconds = if reply.failed {
            self.rng.between(2, 40)
        } else {
            self.rng.between(5, 180)
        };
        self.clock.advance(Duration::from_secs(seconds));
        if let Some(command) = self.command.take() {
            command.stop();
        }
        if let Some(progress) = &self.progress {
            progress.inc(1);
        }
    }
}
