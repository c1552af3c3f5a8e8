//! The `azsdk` command line: one subcommand per tool, `mcp`, `config set`
//! and `demo`.

use std::path::PathBuf;

use azsdk_telemetry_report::render::Format;
use clap::{Parser, Subcommand, ValueEnum};

use crate::args::{
    CreateReleasePlanArgs, GenerateSdkArgs, RunPrChecksArgs, RunTestsArgs, UpdatePackageArgs,
    VerifySetupArgs,
};
use crate::simulate::{Fault, Mode, Simulation};

/// Azure SDK inner-loop tools (a simulated example suite instrumented with
/// azsdk-telemetry). Telemetry: set AZSDK_TELEMETRY_ENABLED=false or
/// DO_NOT_TRACK=1 to turn it off.
#[derive(Debug, Parser)]
#[command(name = "azsdk", version)]
pub struct Cli {
    /// What goes wrong outside the tools: `reliable` (nothing), `flaky`
    /// (realistic rates, from --seed), or one fault forced on every tool it
    /// can happen to.
    #[arg(
        long,
        global = true,
        env = "AZSDK_SIMULATE",
        default_value = "reliable",
        help_heading = "Simulation"
    )]
    pub simulate: SimulateMode,
    /// Seed of the simulation (and of the demo's workload).
    #[arg(long, global = true, default_value_t = 1, help_heading = "Simulation")]
    pub seed: u64,
    /// The command.
    #[command(subcommand)]
    pub command: Command,
}

/// `--simulate`: [`Mode`] as a flag value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SimulateMode(pub Mode);

impl std::str::FromStr for SimulateMode {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "reliable" => Ok(SimulateMode(Mode::Reliable)),
            "flaky" => Ok(SimulateMode(Mode::Flaky)),
            other => Fault::from_str(other, true)
                .map(|fault| SimulateMode(Mode::Forced(fault)))
                .map_err(|_| {
                    let faults: Vec<String> = Fault::value_variants()
                        .iter()
                        .filter_map(|f| f.to_possible_value().map(|v| v.get_name().to_owned()))
                        .collect();
                    format!(
                        "unknown simulation `{other}`: use reliable, flaky, or one of {}",
                        faults.join(", ")
                    )
                }),
        }
    }
}

impl Cli {
    /// The simulation the tools run in.
    pub fn simulation(&self) -> Simulation {
        Simulation::new(self.simulate.0, self.seed)
    }
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check that the tools each SDK language needs are installed.
    VerifySetup(VerifySetupArgs),
    /// Generate an SDK package from the service's TypeSpec project.
    GenerateSdk(GenerateSdkArgs),
    /// Run an SDK package's tests.
    RunTests(RunTestsArgs),
    /// Run the checks a pull request must pass.
    RunPrChecks(RunPrChecksArgs),
    /// Set the version of a service's packages and add changelog sections.
    UpdatePackage(UpdatePackageArgs),
    /// Register a release with the release planner.
    CreateReleasePlan(CreateReleasePlanArgs),
    /// Serve the tools over MCP on stdin/stdout.
    Mcp,
    /// Read or change settings.
    Config {
        /// The change.
        #[command(subcommand)]
        action: ConfigAction,
    },
    /// Simulate weeks of usage by many developers, send the telemetry, print the dashboards.
    Demo(DemoArgs),
    /// Show what telemetry collects and where it stands.
    Telemetry {
        /// What to show.
        #[command(subcommand)]
        action: TelemetryAction,
    },
}

/// `azsdk telemetry ...`.
#[derive(Debug, Subcommand)]
pub enum TelemetryAction {
    /// Print what each tool records (from its annotations), what every event
    /// carries, and the lifecycle events.
    Manifest {
        /// `json` (the default) or `markdown`.
        #[arg(long, value_enum, default_value_t = ManifestFormat::Json)]
        format: ManifestFormat,
    },
    /// Print whether telemetry is on and why, where it goes, the session, the
    /// spool and the counters. Creates and sends nothing when telemetry is off.
    Status {
        /// `text` (the default) or `json`.
        #[arg(long, value_enum, default_value_t = StatusFormat::Text)]
        format: StatusFormat,
    },
}

/// `azsdk telemetry manifest --format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ManifestFormat {
    /// Pretty-printed JSON.
    Json,
    /// Markdown tables.
    Markdown,
}

/// `azsdk telemetry status --format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StatusFormat {
    /// Lines for a person.
    Text,
    /// One JSON object.
    Json,
}

/// `azsdk config ...`.
#[derive(Debug, Subcommand)]
pub enum ConfigAction {
    /// Set KEY to VALUE, e.g. `telemetry.enabled false`.
    Set {
        /// The setting.
        key: String,
        /// Its new value.
        value: String,
    },
}

/// `azsdk demo ...`.
#[derive(Debug, clap::Args)]
pub struct DemoArgs {
    /// Tool calls to simulate.
    #[arg(long, default_value_t = 400)]
    pub calls: usize,
    /// Days they spread over, ending now.
    #[arg(long, default_value_t = 28)]
    pub days: u32,
    /// Report format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Write the report to FILE instead of standard output.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Where the JSONL file and the simulated devices' state go
    /// (default: `<temp>/azsdk-telemetry-demo`).
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// Pace of simulated work: 1 is a few milliseconds per call, 0 none.
    #[arg(long, default_value_t = 1.0)]
    pub pace: f64,
    /// No progress bar.
    #[arg(long)]
    pub quiet: bool,
}
