//! `azsdk_verify_setup`: are the tools each SDK language needs installed?

use std::fmt;

use azsdk_telemetry::{telemetry_tool, ToolResponse};

use super::Toolbox;
use crate::args::{Language, VerifySetupArgs};
use crate::errors::SetupError;
use crate::simulate::Fault;

/// The toolchain found for each language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetupReport {
    /// `(language, what was found)`, in the order asked.
    pub checks: Vec<(Language, String)>,
    /// Whether to print every check.
    pub verbose: bool,
}

impl fmt::Display for SetupReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.verbose {
            for (language, found) in &self.checks {
                writeln!(f, "ok  {language:<11} {found}")?;
            }
        }
        write!(f, "{}", self.summary())
    }
}

impl SetupReport {
    fn summary(&self) -> String {
        match self.checks.len() {
            1 => format!("{} verified successfully", self.checks[0].0),
            n => format!("All {n} languages verified successfully"),
        }
    }
}

/// `toolResponse`: `All 5 languages verified successfully`.
impl ToolResponse for SetupReport {
    fn tool_response(&self) -> Option<String> {
        Some(self.summary())
    }
}

/// What each language needs, as the simulated machine has it.
fn toolchain(language: Language) -> &'static str {
    match language {
        Language::DotNet => "dotnet 9.0.301, tsp-client 0.21.0",
        Language::Java => "java 21.0.7, maven 3.9.9, tsp-client 0.21.0",
        Language::JavaScript => "node 22.16.0, pnpm 10.12.1, tsp-client 0.21.0",
        Language::Python => "python 3.12.11, tox 4.27.0, tsp-client 0.21.0",
        Language::Go => "go 1.24.4, tsp-client 0.21.0",
    }
}

/// What a missing toolchain looks like, per language.
fn missing(language: Language) -> SetupError {
    let (tool, install) = match language {
        Language::DotNet => ("dotnet", "winget install Microsoft.DotNet.SDK.9"),
        Language::Java => ("mvn", "sdk install maven"),
        Language::JavaScript => ("pnpm", "npm install -g pnpm"),
        Language::Python => ("tox", "pip install tox"),
        Language::Go => (
            "tsp-client",
            "npm install -g @azure-tools/typespec-client-generator-cli",
        ),
    };
    SetupError::MissingTool { tool, install }
}

impl Toolbox {
    /// Checks that the tools each requested SDK language needs are installed.
    ///
    /// # Errors
    /// [`SetupError`]: no language or a repository root that does not
    /// exist (`ValidationError`), a missing tool (`MissingDependency`), an
    /// unreachable package registry (`NetworkError`).
    #[telemetry_tool(category = "env-setup", name = "azsdk_verify_setup")]
    pub async fn verify_setup(&self, args: VerifySetupArgs) -> Result<SetupReport, SetupError> {
        if args.languages.is_empty() {
            return Err(SetupError::Validation(
                "no language to verify: pass --languages (e.g. .NET,Java or all)".into(),
            ));
        }
        if let Some(root) = &args.repo_root {
            if !root.is_dir() {
                return Err(SetupError::Validation(format!(
                    "repository root {} does not exist or is not a directory",
                    root.display()
                )));
            }
        }
        let mut checks = Vec::new();
        for language in args.languages.iter() {
            self.sim.work(1, 3).await;
            match self
                .sim
                .fault(&[(Fault::MissingTool, 25), (Fault::Network, 10)])
            {
                Some(Fault::Network) => {
                    return Err(SetupError::Network {
                        host: "registry.npmjs.org",
                        reason: "connection timed out",
                    })
                }
                Some(_) => return Err(missing(language)),
                None => checks.push((language, toolchain(language).to_owned())),
            }
        }
        Ok(SetupReport {
            checks,
            verbose: args.verbose,
        })
    }
}
