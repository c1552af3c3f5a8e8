//! How the tools fail, as typed errors the telemetry classifies.
//!
//! Every enum derives `thiserror::Error` (the message people read) and
//! `TelemetryError` (the `errorType` dashboards group by, and the message
//! after scrubbing). The classes are shared across tools so one chart shows
//! them side by side: `ValidationError`, `NetworkError`, `Timeout`,
//! `AuthenticationError`, `RateLimitError`, `ConflictError`, ... Variants
//! marked `expected` are outcomes, not failures: the call is recorded as a
//! success that still says what happened (`UpToDate`, `AlreadyExists`).

use azsdk_telemetry::TelemetryError;

/// Why `azsdk_verify_setup` failed.
#[derive(Debug, thiserror::Error, TelemetryError)]
pub enum SetupError {
    /// The arguments cannot work.
    #[error("{0}")]
    #[telemetry(error_type = "ValidationError")]
    Validation(String),
    /// A required tool is not installed.
    #[error("{tool} was not found on PATH; install it with `{install}`")]
    #[telemetry(error_type = "MissingDependency")]
    MissingTool {
        /// The missing executable.
        tool: &'static str,
        /// The command that installs it.
        install: &'static str,
    },
    /// A package registry could not be reached to check versions.
    #[error("could not reach {host}: {reason}")]
    #[telemetry(error_type = "NetworkError")]
    Network {
        /// The host that did not answer.
        host: &'static str,
        /// What went wrong.
        reason: &'static str,
    },
}

/// Why `azsdk_generate_sdk` failed.
#[derive(Debug, thiserror::Error, TelemetryError)]
pub enum GenerateError {
    /// The arguments cannot work.
    #[error("{0}")]
    #[telemetry(error_type = "ValidationError")]
    Validation(String),
    /// The spec repository could not be reached.
    #[error("could not fetch the TypeSpec project from {host}: {reason}")]
    #[telemetry(error_type = "NetworkError")]
    Network {
        /// The host that did not answer.
        host: &'static str,
        /// What went wrong.
        reason: &'static str,
    },
    /// The TypeSpec compiler reported errors.
    #[error("TypeSpec compilation failed with {count} error(s); first: {first}")]
    #[telemetry(error_type = "TypeSpecCompilationError")]
    Compilation {
        /// How many diagnostics.
        count: usize,
        /// The first diagnostic.
        first: String,
    },
    /// The credentials were refused. The message names the account, so it
    /// is left out of telemetry.
    #[error("the spec repository refused the credentials of {0}")]
    #[telemetry(error_type = "AuthenticationError", skip_message)]
    Unauthorized(String),
    /// Nothing changed since the last generation: not a failure.
    #[error("the SDK is already up to date with the spec; nothing to generate")]
    #[telemetry(expected)]
    UpToDate,
    /// Writing the generated files failed.
    #[error(transparent)]
    #[telemetry(transparent)]
    Io(#[from] std::io::Error),
}

/// Why `azsdk_run_tests` could not run the tests (failing tests are a
/// [`TestRun`](crate::tools::TestRun) with failures, recorded as `TestFailure`).
#[derive(Debug, thiserror::Error, TelemetryError)]
pub enum TestError {
    /// The arguments cannot work.
    #[error("{0}")]
    #[telemetry(error_type = "ValidationError")]
    Validation(String),
    /// The test proxy (which replays recordings) did not answer.
    #[error("the test proxy at {address} did not answer: {reason}")]
    #[telemetry(error_type = "NetworkError")]
    TestProxy {
        /// Where the proxy was expected.
        address: &'static str,
        /// What went wrong.
        reason: &'static str,
    },
    /// The run took longer than allowed.
    #[error("tests did not finish within {minutes} minutes")]
    #[telemetry(error_type = "Timeout")]
    Timeout {
        /// The limit.
        minutes: u32,
    },
}

/// Why `azsdk_run_pr_checks` failed.
#[derive(Debug, thiserror::Error, TelemetryError)]
pub enum PrCheckError {
    /// The arguments cannot work.
    #[error("{0}")]
    #[telemetry(error_type = "ValidationError")]
    Validation(String),
    /// Some checks failed.
    #[error("{} of {total} checks failed: {}", failed.len(), failed.join(", "))]
    #[telemetry(error_type = "CheckFailure")]
    ChecksFailed {
        /// The failed checks.
        failed: Vec<String>,
        /// How many checks ran.
        total: usize,
    },
    /// GitHub's API rate limit was reached.
    #[error("GitHub API rate limit exceeded; retry in {retry_after_secs} s")]
    #[telemetry(error_type = "RateLimitError")]
    RateLimited {
        /// When to retry.
        retry_after_secs: u32,
    },
    /// GitHub could not be reached.
    #[error("could not reach api.github.com: {0}")]
    #[telemetry(error_type = "NetworkError")]
    Network(&'static str),
}

/// Why `azsdk_update_package` failed.
#[derive(Debug, thiserror::Error, TelemetryError)]
pub enum PackageError {
    /// The arguments cannot work.
    #[error("{0}")]
    #[telemetry(error_type = "ValidationError")]
    Validation(String),
    /// A file to update has unresolved merge conflicts.
    #[error("{file} has unresolved merge conflicts; resolve them and run again")]
    #[telemetry(error_type = "ConflictError")]
    Conflict {
        /// The conflicted file.
        file: &'static str,
    },
    /// Reading or writing the package's files failed.
    #[error(transparent)]
    #[telemetry(transparent)]
    Io(#[from] std::io::Error),
}

/// Why `azsdk_create_release_plan` failed.
#[derive(Debug, thiserror::Error, TelemetryError)]
pub enum ReleasePlanError {
    /// The arguments cannot work.
    #[error("{0}")]
    #[telemetry(error_type = "ValidationError")]
    Validation(String),
    /// The release planner refused the user. The message names the account.
    #[error("{0} is not authorized to create release plans")]
    #[telemetry(error_type = "AuthenticationError", skip_message)]
    Unauthorized(String),
    /// The release planner could not be reached.
    #[error("could not reach the release planner: {0}")]
    #[telemetry(error_type = "NetworkError")]
    Network(&'static str),
    /// A plan for this release exists already: not a failure.
    #[error("release plan {0} already exists for this release")]
    #[telemetry(expected, error_type = "AlreadyExists")]
    AlreadyExists(u32),
}
