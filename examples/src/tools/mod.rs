//! The azsdk tools: one module per tool, each an instrumented method of
//! [`Toolbox`].
//!
//! `#[telemetry_tool]` sits on these shared methods, not on the CLI's
//! command handlers or the MCP server's `#[tool]` methods: both front-ends
//! call the same method, so each call emits exactly one `ToolExecuted`,
//! whichever way it came in. What differs (platform, `executionMode`, the
//! MCP client) comes from the layer's context, not from the tool.

mod create_release_plan;
mod generate_sdk;
mod run_pr_checks;
mod run_tests;
mod update_package;
mod verify_setup;

use std::fmt::Display;

use azsdk_telemetry::{TelemetryError, ToolResponse};

pub use create_release_plan::ReleasePlan;
pub use generate_sdk::GeneratedSdk;
pub use run_pr_checks::PrChecks;
pub use run_tests::TestRun;
pub use update_package::PackageUpdate;
pub use verify_setup::SetupReport;

use crate::simulate::Simulation;

/// The tools' names, as MCP lists them and telemetry records them.
pub const TOOL_NAMES: [&str; 6] = [
    "azsdk_verify_setup",
    "azsdk_generate_sdk",
    "azsdk_run_tests",
    "azsdk_run_pr_checks",
    "azsdk_update_package",
    "azsdk_create_release_plan",
];

/// The tool suite, running in a [`Simulation`].
///
/// ```
/// use azsdk_telemetry_examples::args::VerifySetupArgs;
/// use azsdk_telemetry_examples::tools::Toolbox;
/// # tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap().block_on(async {
/// let tools = Toolbox::default();
/// let report = tools.verify_setup(VerifySetupArgs::default()).await.unwrap();
/// assert_eq!(report.to_string().lines().last(), Some("All 5 languages verified successfully"));
/// # });
/// ```
#[derive(Debug, Default)]
pub struct Toolbox {
    sim: Simulation,
}

impl Toolbox {
    /// Tools running in `sim`.
    pub fn new(sim: Simulation) -> Self {
        Toolbox { sim }
    }

    /// The simulation.
    pub fn simulation(&self) -> &Simulation {
        &self.sim
    }
}

/// What a front-end shows for a finished call: the text, and whether the
/// call failed. Expected outcomes (`UpToDate`) and successes are not
/// failures; errors, and results that report one (failing tests), are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// What to show: the result, or the error's message.
    pub text: String,
    /// Whether the call failed.
    pub failed: bool,
    /// The `errorType` of a failure, for exit codes.
    pub error_type: Option<&'static str>,
    /// Whether `text` is an error's message rather than the tool's output.
    pub is_error: bool,
}

impl Reply {
    /// The reply for a tool's result.
    ///
    /// ```
    /// use azsdk_telemetry_examples::errors::GenerateError;
    /// use azsdk_telemetry_examples::tools::{GeneratedSdk, Reply};
    /// let reply = Reply::of::<GeneratedSdk, _>(Err(GenerateError::UpToDate));
    /// assert!(!reply.failed);
    /// ```
    pub fn of<T, E>(result: Result<T, E>) -> Reply
    where
        T: Display + ToolResponse,
        E: Display + TelemetryError,
    {
        match result {
            Ok(value) => {
                let failure = value.failure();
                Reply {
                    text: value.to_string(),
                    failed: failure.as_ref().is_some_and(|f| f.failure),
                    error_type: failure.map(|f| f.error_type),
                    is_error: false,
                }
            }
            Err(error) => Reply {
                text: error.to_string(),
                failed: error.is_failure(),
                error_type: error.is_failure().then(|| error.error_type()),
                is_error: true,
            },
        }
    }
}

/// `YYYY-MM-DD` or `YYYY-MM-DD-preview`.
fn is_api_version(text: &str) -> bool {
    let date = text.strip_suffix("-preview").unwrap_or(text);
    let parts: Vec<&str> = date.split('-').collect();
    parts.len() == 3
        && [4, 2, 2]
            .iter()
            .zip(&parts)
            .all(|(len, part)| part.len() == *len && part.bytes().all(|b| b.is_ascii_digit()))
}

/// `MAJOR.MINOR.PATCH` with an optional `-beta.N` (or `-alpha.N`, `-preview.N`).
fn is_package_version(text: &str) -> bool {
    let (core, pre) = match text.split_once('-') {
        Some((core, pre)) => (core, Some(pre)),
        None => (text, None),
    };
    let numbers = core.split('.').collect::<Vec<_>>();
    let core_ok = numbers.len() == 3
        && numbers
            .iter()
            .all(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
    let pre_ok = pre.is_none_or(|pre| {
        pre.split_once('.').is_some_and(|(label, n)| {
            ["alpha", "beta", "preview"].contains(&label)
                && !n.is_empty()
                && n.bytes().all(|b| b.is_ascii_digit())
        })
    });
    core_ok && pre_ok
}

/// A service name as the specs spell them: lower-case letters and digits.
fn check_service(service: &str) -> Result<(), String> {
    if service.is_empty() {
        return Err("missing required parameter: service".to_owned());
    }
    if !service
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    {
        return Err(format!(
            "invalid service name `{service}`: use the spec folder's name, lower-case letters and digits (e.g. `storage`)"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions() {
        assert!(is_api_version("2025-09-01"));
        assert!(is_api_version("2025-05-01-preview"));
        assert!(!is_api_version("2025-9-1"));
        assert!(!is_api_version("latest"));
        assert!(is_package_version("4.5.0-beta.2"));
        assert!(is_package_version("12.0.0"));
        assert!(!is_package_version("4.5"));
        assert!(!is_package_version("4.5.0-beta"));
        assert!(check_service("storage").is_ok());
        assert!(check_service("Storage Accounts").is_err());
    }
}
