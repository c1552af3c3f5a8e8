//! The tools' arguments, annotated for the telemetry allowlist.
//!
//! Each struct serves three front-ends at once: `clap` (the CLI's flags),
//! `serde` + `schemars` (the MCP tool's input schema, camelCase), and
//! `#[derive(TelemetryArgs)]` (what `toolArgs` may contain). The telemetry
//! annotations are the only thing that decides what is recorded:
//!
//! - `allow`: the value is recorded (and scrubbed); with `dimension` it is
//!   also a top-level property the dashboards group by (`language`,
//!   `serviceName`, `planeType`, `isCustomSdk`);
//! - `presence`: only that a value was given (paths, URLs, filters);
//! - `hash`: the SHA-256 of the value (tenant and subscription ids);
//! - no annotation: never recorded, not even the key (API keys, tokens,
//!   secrets, e-mail addresses).

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use azsdk_telemetry::{ArgValue, TelemetryArgs};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::Value;

/// An Azure SDK language: `.NET`, `Java`, `JavaScript`, `Python` or `Go`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, JsonSchema)]
pub enum Language {
    /// .NET (C#).
    #[serde(rename = ".NET", alias = "dotnet", alias = "DotNet", alias = "csharp")]
    DotNet,
    /// Java.
    #[serde(alias = "java")]
    Java,
    /// JavaScript and TypeScript.
    #[serde(alias = "javascript", alias = "js", alias = "typescript")]
    JavaScript,
    /// Python.
    #[serde(alias = "python")]
    Python,
    /// Go.
    #[serde(alias = "go", alias = "golang")]
    Go,
}

impl Language {
    /// Every language, in the order the tools report them.
    pub const ALL: [Language; 5] = [
        Language::DotNet,
        Language::Java,
        Language::JavaScript,
        Language::Python,
        Language::Go,
    ];

    /// The name on the wire and in output, as the dashboards show it.
    ///
    /// ```
    /// use azsdk_telemetry_examples::args::Language;
    /// assert_eq!("dotnet".parse::<Language>().unwrap(), Language::DotNet);
    /// assert_eq!(Language::DotNet.as_str(), ".NET");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            Language::DotNet => ".NET",
            Language::Java => "Java",
            Language::JavaScript => "JavaScript",
            Language::Python => "Python",
            Language::Go => "Go",
        }
    }

    /// The language's package-name prefix, for simulated output.
    pub fn package_prefix(self) -> &'static str {
        match self {
            Language::DotNet => "Azure.",
            Language::Java => "azure-",
            Language::JavaScript => "@azure/",
            Language::Python => "azure-",
            Language::Go => "sdk/",
        }
    }
}

impl fmt::Display for Language {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The message of a language that is not one of [`Language::ALL`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown language `{0}`: use one of .NET, Java, JavaScript, Python, Go")]
pub struct UnknownLanguage(pub String);

impl FromStr for Language {
    type Err = UnknownLanguage;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text.trim().to_ascii_lowercase().as_str() {
            ".net" | "net" | "dotnet" | "csharp" | "c#" => Ok(Language::DotNet),
            "java" => Ok(Language::Java),
            "javascript" | "js" | "typescript" | "ts" => Ok(Language::JavaScript),
            "python" | "py" => Ok(Language::Python),
            "go" | "golang" => Ok(Language::Go),
            _ => Err(UnknownLanguage(text.trim().to_owned())),
        }
    }
}

/// Recorded as its display name: `"language": ".NET"`.
impl ArgValue for Language {
    fn arg_value(&self) -> Option<Value> {
        Some(Value::String(self.as_str().to_owned()))
    }
}

// On the command line `--languages .NET,Java` or `all`; in MCP an array of
// languages (omitted: all); in `toolArgs` one comma-separated string
// (`"languages": ".NET,Java"`), as the spec's dashboards expect. The doc
// comment below is the MCP schema's description.
/// A list of SDK languages.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(transparent)]
pub struct Languages(pub Vec<Language>);

impl Languages {
    /// Every language: what `all` on the command line, or no list in MCP, means.
    ///
    /// ```
    /// use azsdk_telemetry_examples::args::Languages;
    /// let all: Languages = "all".parse().unwrap();
    /// assert_eq!(all, Languages::all());
    /// assert_eq!(all.to_string(), ".NET,Java,JavaScript,Python,Go");
    /// ```
    pub fn all() -> Self {
        Languages(Language::ALL.to_vec())
    }

    /// The languages, in order.
    pub fn iter(&self) -> impl Iterator<Item = Language> + '_ {
        self.0.iter().copied()
    }

    /// How many languages.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the list is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl Default for Languages {
    fn default() -> Self {
        Languages::all()
    }
}

impl fmt::Display for Languages {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, language) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            f.write_str(language.as_str())?;
        }
        Ok(())
    }
}

impl FromStr for Languages {
    type Err = UnknownLanguage;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        if text.trim().eq_ignore_ascii_case("all") {
            return Ok(Languages::all());
        }
        text.split(',')
            .filter(|part| !part.trim().is_empty())
            .map(str::parse)
            .collect::<Result<Vec<_>, _>>()
            .map(Languages)
    }
}

impl ArgValue for Languages {
    fn arg_value(&self) -> Option<Value> {
        Some(Value::String(self.to_string()))
    }
}

/// Data plane or management plane.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
#[derive(JsonSchema, clap::ValueEnum, TelemetryArgs)]
pub enum PlaneType {
    /// The service's data plane.
    #[default]
    Data,
    /// The management plane (Azure Resource Manager).
    Mgmt,
}

/// How tests run: against recordings, live resources, or live while recording.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
#[derive(JsonSchema, clap::ValueEnum, TelemetryArgs)]
pub enum TestMode {
    /// Replay recorded HTTP traffic; needs no Azure resources.
    #[default]
    Playback,
    /// Run against live resources.
    Live,
    /// Run against live resources and record the traffic.
    Record,
}

/// A preview or a stable (GA) release.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
#[derive(JsonSchema, clap::ValueEnum, TelemetryArgs)]
pub enum SdkReleaseType {
    /// A beta (preview) package.
    #[default]
    Preview,
    /// A generally available package.
    Stable,
}

/// `azsdk_verify_setup`: checks the tools each SDK language needs.
#[derive(Debug, Clone, Default, clap::Args, Deserialize, JsonSchema, TelemetryArgs)]
#[serde(rename_all = "camelCase")]
pub struct VerifySetupArgs {
    /// Languages to verify; every language when omitted.
    #[arg(
        long,
        default_value = "all",
        help = "Languages to verify, comma-separated, or `all`"
    )]
    #[serde(default)]
    #[telemetry(allow)]
    pub languages: Languages,
    /// Print every check, not only the summary.
    #[arg(long)]
    #[serde(default)]
    #[telemetry(allow)]
    pub verbose: bool,
    /// The repository clone to check (default: the current directory).
    #[arg(long, value_name = "DIR")]
    #[serde(default)]
    #[telemetry(presence)]
    pub repo_root: Option<PathBuf>,
}

/// `azsdk_generate_sdk`: generates an SDK from a TypeSpec project.
#[derive(Debug, Clone, clap::Args, Deserialize, JsonSchema, TelemetryArgs)]
#[serde(rename_all = "camelCase")]
pub struct GenerateSdkArgs {
    /// Azure service name, e.g. `storage`, `healthdataaiservices`.
    #[arg(long)]
    #[telemetry(allow, dimension = "serviceName")]
    pub service: String,
    /// SDK language: .NET, Java, JavaScript, Python or Go.
    #[arg(long)]
    #[telemetry(allow, dimension = "language")]
    pub language: Language,
    /// REST API version to generate from, `YYYY-MM-DD` or `YYYY-MM-DD-preview`.
    #[arg(long)]
    #[serde(default)]
    #[telemetry(allow)]
    pub api_version: Option<String>,
    /// Data plane or management plane.
    #[arg(long, value_enum, default_value_t)]
    #[serde(default)]
    #[telemetry(allow, dimension = "planeType")]
    pub plane: PlaneType,
    /// Preview or stable package.
    #[arg(long, value_enum)]
    #[serde(default)]
    #[telemetry(allow)]
    pub sdk_release_type: Option<SdkReleaseType>,
    /// The SDK has hand-written code on top of the generated code.
    #[arg(long)]
    #[serde(default)]
    #[telemetry(allow, dimension = "isCustomSdk")]
    pub custom_code: bool,
    /// Path to the TypeSpec project (`specification/<service>/...`).
    #[arg(long, value_name = "DIR")]
    #[serde(default)]
    #[telemetry(presence)]
    pub typespec_project_root: Option<PathBuf>,
    /// Microsoft Entra tenant used to fetch private specs.
    #[arg(long)]
    #[serde(default)]
    #[telemetry(hash)]
    pub tenant_id: Option<String>,
    /// Subscription that owns the service's test resources.
    #[arg(long)]
    #[serde(default)]
    #[telemetry(hash)]
    pub subscription_id: Option<String>,
    /// Key for the spec repository mirror (never recorded in telemetry).
    #[arg(long, env = "AZSDK_API_KEY", hide_env_values = true)]
    #[serde(default)]
    pub api_key: Option<String>,
}

/// `azsdk_run_tests`: runs an SDK package's tests.
#[derive(Debug, Clone, clap::Args, Deserialize, JsonSchema, TelemetryArgs)]
#[serde(rename_all = "camelCase")]
pub struct RunTestsArgs {
    /// Azure service name.
    #[arg(long)]
    #[telemetry(allow, dimension = "serviceName")]
    pub service: String,
    /// SDK language.
    #[arg(long)]
    #[telemetry(allow, dimension = "language")]
    pub language: Language,
    /// Playback (recordings), live, or record.
    #[arg(long, value_enum, default_value_t)]
    #[serde(default)]
    #[telemetry(allow)]
    pub mode: TestMode,
    /// The package to test (default: the service's package).
    #[arg(long, value_name = "DIR")]
    #[serde(default)]
    #[telemetry(presence)]
    pub package_path: Option<PathBuf>,
    /// Only tests whose name contains this text.
    #[arg(long)]
    #[serde(default)]
    #[telemetry(presence)]
    pub filter: Option<String>,
    /// Subscription for live tests.
    #[arg(long, env = "AZURE_SUBSCRIPTION_ID")]
    #[serde(default)]
    #[telemetry(hash)]
    pub subscription_id: Option<String>,
    /// Service principal secret for live tests (never recorded in telemetry).
    #[arg(long, env = "AZURE_CLIENT_SECRET", hide_env_values = true)]
    #[serde(default)]
    pub client_secret: Option<String>,
}

/// `azsdk_run_pr_checks`: runs the checks a pull request must pass.
#[derive(Debug, Clone, clap::Args, Deserialize, JsonSchema, TelemetryArgs)]
#[serde(rename_all = "camelCase")]
pub struct RunPrChecksArgs {
    /// Azure service name.
    #[arg(long)]
    #[telemetry(allow, dimension = "serviceName")]
    pub service: String,
    /// Languages to check; every language when omitted.
    #[arg(
        long,
        default_value = "all",
        help = "Languages to check, comma-separated, or `all`"
    )]
    #[serde(default)]
    #[telemetry(allow)]
    pub languages: Languages,
    /// Run the checks of each language in parallel.
    #[arg(long)]
    #[serde(default)]
    #[telemetry(allow)]
    pub parallel: bool,
    /// The pull request, when checking one on GitHub.
    #[arg(long)]
    #[serde(default)]
    #[telemetry(allow)]
    pub pr_number: Option<u32>,
    /// GitHub token for the checks API (never recorded in telemetry).
    #[arg(long, env = "GITHUB_TOKEN", hide_env_values = true)]
    #[serde(default)]
    pub github_token: Option<String>,
}

/// `azsdk_update_package`: bumps a package's version and changelog.
#[derive(Debug, Clone, clap::Args, Deserialize, JsonSchema, TelemetryArgs)]
#[serde(rename_all = "camelCase")]
pub struct UpdatePackageArgs {
    /// Azure service name.
    #[arg(long)]
    #[telemetry(allow, dimension = "serviceName")]
    pub service: String,
    /// The new version, e.g. `4.5.0-beta.2`.
    #[arg(long)]
    #[telemetry(allow)]
    pub version: String,
    /// Languages whose packages to update; every language when omitted.
    #[arg(
        long,
        default_value = "all",
        help = "Languages whose packages to update, comma-separated, or `all`"
    )]
    #[serde(default)]
    #[telemetry(allow)]
    pub languages: Languages,
    /// Data plane or management plane.
    #[arg(long, value_enum, default_value_t)]
    #[serde(default)]
    #[telemetry(allow, dimension = "planeType")]
    pub plane: PlaneType,
    /// Add a section for the new version to CHANGELOG.md.
    #[arg(long)]
    #[serde(default)]
    #[telemetry(allow)]
    pub update_changelog: bool,
    /// The package directory (default: found from the service).
    #[arg(long, value_name = "DIR")]
    #[serde(default)]
    #[telemetry(presence)]
    pub package_path: Option<PathBuf>,
}

/// `azsdk_create_release_plan`: registers a release in the release planner.
#[derive(Debug, Clone, clap::Args, Deserialize, JsonSchema, TelemetryArgs)]
#[serde(rename_all = "camelCase")]
pub struct CreateReleasePlanArgs {
    /// Azure service name.
    #[arg(long)]
    #[telemetry(allow, dimension = "serviceName")]
    pub service: String,
    /// Languages to release; every language when omitted.
    #[arg(
        long,
        default_value = "all",
        help = "Languages to release, comma-separated, or `all`"
    )]
    #[serde(default)]
    #[telemetry(allow)]
    pub languages: Languages,
    /// Target release month, `YYYY-MM`.
    #[arg(long, value_name = "YYYY-MM")]
    #[telemetry(allow)]
    pub release_month: String,
    /// Preview or stable release.
    #[arg(long, value_enum, default_value_t)]
    #[serde(default)]
    #[telemetry(allow)]
    pub sdk_release_type: SdkReleaseType,
    /// Data plane or management plane.
    #[arg(long, value_enum, default_value_t)]
    #[serde(default)]
    #[telemetry(allow, dimension = "planeType")]
    pub plane: PlaneType,
    /// URL of the REST API spec pull request.
    #[arg(long, value_name = "URL")]
    #[serde(default)]
    #[telemetry(presence)]
    pub spec_pull_request: Option<String>,
    /// Microsoft Entra tenant of the service team.
    #[arg(long)]
    #[serde(default)]
    #[telemetry(hash)]
    pub tenant_id: Option<String>,
    /// E-mail address to notify (personal data: never recorded in telemetry).
    #[arg(long)]
    #[serde(default)]
    pub owner_email: Option<String>,
}
