//! `azsdk`: the example tool suite as a CLI, an MCP server (`azsdk mcp`),
//! and the demo workload (`azsdk demo`).

use std::io::Write;
use std::process::ExitCode;
use std::sync::Arc;

use azsdk_telemetry_examples::cli::{
    Cli, Command, ConfigAction, DemoArgs, ManifestFormat, StatusFormat, TelemetryAction,
};
use azsdk_telemetry_examples::demo::{self, DemoOptions, DemoOutcome};
use azsdk_telemetry_examples::mcp::AzsdkServer;
use azsdk_telemetry_examples::telemetry;
use azsdk_telemetry_examples::tools::{Reply, Toolbox};
use clap::Parser;
use rmcp::ServiceExt;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Mcp => serve_mcp(Toolbox::new(cli.simulation())),
        Command::Config {
            action: ConfigAction::Set { ref key, ref value },
        } => config_set(key, value),
        Command::Demo(ref args) => run_demo(args, cli.seed),
        Command::Telemetry {
            action: TelemetryAction::Manifest { format },
        } => print_manifest(format),
        Command::Telemetry {
            action: TelemetryAction::Status { format },
        } => print_status(format),
        _ => run_tool(&cli),
    };
    result.unwrap_or_else(|error| {
        eprintln!("azsdk: {error}");
        ExitCode::FAILURE
    })
}

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
}

/// One tool, run the way a person types it: the result on stdout, the
/// error on stderr; exit code 0, 1 (the tool failed) or 2 (fix the arguments).
fn run_tool(cli: &Cli) -> Result<ExitCode> {
    let handle = telemetry::install(telemetry::cli_builder())?;
    let tools = Toolbox::new(cli.simulation());
    let reply = runtime()?.block_on(async {
        match &cli.command {
            Command::VerifySetup(args) => Reply::of(tools.verify_setup(args.clone()).await),
            Command::GenerateSdk(args) => Reply::of(tools.generate_sdk(args.clone()).await),
            Command::RunTests(args) => Reply::of(tools.run_tests(args.clone()).await),
            Command::RunPrChecks(args) => Reply::of(tools.run_pr_checks(args.clone()).await),
            Command::UpdatePackage(args) => Reply::of(tools.update_package(args.clone()).await),
            Command::CreateReleasePlan(args) => {
                Reply::of(tools.create_release_plan(args.clone()).await)
            }
            Command::Mcp
            | Command::Config { .. }
            | Command::Demo(_)
            | Command::Telemetry { .. } => {
                unreachable!("handled in main")
            }
        }
    });
    handle.close();
    if reply.is_error {
        eprintln!("error: {}", reply.text);
    } else {
        println!("{}", reply.text);
    }
    Ok(match reply.error_type {
        _ if !reply.failed => ExitCode::SUCCESS,
        Some("ValidationError") => ExitCode::from(2),
        _ => ExitCode::FAILURE,
    })
}

/// Serves the tools over MCP on stdio until the client closes stdin.
/// Nothing but the protocol is written to stdout.
fn serve_mcp(tools: Toolbox) -> Result<ExitCode> {
    let handle = Arc::new(telemetry::install(telemetry::mcp_builder())?);
    let listener = Arc::clone(&handle);
    let server = AzsdkServer::new(tools).on_client(move |client| listener.set_client(client));
    runtime()?.block_on(async move {
        let service = server.serve(rmcp::transport::stdio()).await?;
        service.waiting().await?;
        Ok::<_, Box<dyn std::error::Error>>(())
    })?;
    if let Ok(handle) = Arc::try_unwrap(handle) {
        handle.close();
    }
    Ok(ExitCode::SUCCESS)
}

/// `azsdk config set KEY VALUE`, through the telemetry handle so the change
/// is recorded (`SystemConfigured`) before it takes effect.
fn config_set(key: &str, value: &str) -> Result<ExitCode> {
    let (_layer, mut handle) = telemetry::cli_builder().build::<tracing_subscriber::Registry>()?;
    handle.configure(key, value)?;
    println!("{key} = {value}");
    handle.close();
    Ok(ExitCode::SUCCESS)
}

/// `azsdk telemetry manifest`: what the tools linked into this binary record.
fn print_manifest(format: ManifestFormat) -> Result<ExitCode> {
    let manifest = azsdk_telemetry::manifest();
    let text = match format {
        ManifestFormat::Json => manifest.to_json(),
        ManifestFormat::Markdown => manifest.to_markdown(),
    };
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

/// `azsdk telemetry status`: the CLI's telemetry as a tool run would set it
/// up, without lifecycle events or the first-run notice; when telemetry is
/// off, nothing is created or sent.
fn print_status(format: StatusFormat) -> Result<ExitCode> {
    let (_layer, handle) = telemetry::cli_builder()
        .lifecycle_events(false)
        .first_run_notice(false)
        .build::<tracing_subscriber::Registry>()?;
    let status = handle.status();
    let text = match format {
        StatusFormat::Json => format!("{}\n", status.to_json()),
        StatusFormat::Text => status.to_string(),
    };
    handle.close();
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

/// `azsdk demo`: the README's main command.
fn run_demo(args: &DemoArgs, seed: u64) -> Result<ExitCode> {
    let mut options = DemoOptions::new(args.dir.clone().unwrap_or_else(DemoOptions::default_dir));
    options.calls = args.calls;
    options.days = args.days;
    options.seed = seed;
    options.format = args.format;
    options.pace = args.pace;
    options.progress = !args.quiet;
    options.connection_string = std::env::var(azsdk_telemetry::ENV_CONNECTION_STRING)
        .ok()
        .filter(|text| !text.trim().is_empty());
    let mut notes = std::io::stderr();
    match demo::run(&options, &mut notes)? {
        DemoOutcome::OptedOut(reason) => {
            eprintln!(
                "azsdk demo: telemetry is off ({reason}); nothing to simulate, write or send."
            );
        }
        DemoOutcome::Ran(summary) => match &args.output {
            Some(path) => {
                std::fs::write(path, &summary.report)?;
                eprintln!("report written to {}", path.display());
            }
            None => {
                let mut out = std::io::stdout().lock();
                out.write_all(summary.report.as_bytes())?;
                out.flush()?;
            }
        },
    }
    Ok(ExitCode::SUCCESS)
}
