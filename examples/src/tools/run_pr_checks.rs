//! `azsdk_run_pr_checks`: runs the checks a pull request must pass.

use std::fmt;

use azsdk_telemetry::{telemetry_tool, ToolResponse};

use super::{check_service, Toolbox};
use crate::args::{Language, RunPrChecksArgs};
use crate::errors::PrCheckError;
use crate::simulate::Fault;

/// Checks that passed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrChecks {
    /// The checks, in the order they ran.
    pub passed: Vec<String>,
}

impl fmt::Display for PrChecks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for check in &self.passed {
            writeln!(f, "passed  {check}")?;
        }
        write!(f, "All {} checks passed", self.passed.len())
    }
}

/// `toolResponse`: `All 8 checks passed`.
impl ToolResponse for PrChecks {
    fn tool_response(&self) -> Option<String> {
        Some(format!("All {} checks passed", self.passed.len()))
    }
}

fn checks_of(language: Language) -> [String; 4] {
    [
        format!("{language}: build"),
        format!("{language}: analyze (lint, spelling, API review)"),
        format!("{language}: changelog"),
        format!("{language}: samples"),
    ]
}

impl Toolbox {
    /// Runs the pull-request checks of `service` for each language.
    ///
    /// # Errors
    /// [`PrCheckError`]: bad arguments (`ValidationError`), failing checks
    /// (`CheckFailure`), GitHub's rate limit (`RateLimitError`), an
    /// unreachable GitHub (`NetworkError`).
    #[telemetry_tool(category = "validating", name = "azsdk_run_pr_checks")]
    pub async fn run_pr_checks(&self, args: RunPrChecksArgs) -> Result<PrChecks, PrCheckError> {
        check_service(&args.service).map_err(PrCheckError::Validation)?;
        if args.languages.is_empty() {
            return Err(PrCheckError::Validation(
                "no language to check: pass --languages (e.g. .NET,Java or all)".into(),
            ));
        }
        if args.pr_number.is_some() && args.github_token.is_none() {
            return Err(PrCheckError::Validation(
                "checking a pull request needs a GitHub token: set GITHUB_TOKEN".into(),
            ));
        }
        let checks: Vec<String> = args.languages.iter().flat_map(checks_of).collect();
        let per_check = if args.parallel { 1 } else { 2 };
        self.sim.work(per_check * 2, per_check * 6).await;
        match self.sim.fault(&[
            (Fault::ChecksFailed, 120),
            (Fault::RateLimit, 15),
            (Fault::Network, 20),
        ]) {
            Some(Fault::RateLimit) => Err(PrCheckError::RateLimited {
                retry_after_secs: 60 * self.sim.between(1, 30) as u32,
            }),
            Some(Fault::Network) => Err(PrCheckError::Network("TLS handshake timed out")),
            Some(_) => {
                let first = self.sim.between(0, checks.len() as u64 - 1) as usize;
                Err(PrCheckError::ChecksFailed {
                    failed: vec![checks[first].clone()],
                    total: checks.len(),
                })
            }
            None => Ok(PrChecks { passed: checks }),
        }
    }
}
