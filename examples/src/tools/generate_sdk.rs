//! `azsdk_generate_sdk`: generates an SDK package from a TypeSpec project.

use std::fmt;

use azsdk_telemetry::{telemetry_tool, ToolResponse};

use super::{check_service, is_api_version, Toolbox};
use crate::args::{GenerateSdkArgs, Language, SdkReleaseType};
use crate::errors::GenerateError;
use crate::simulate::Fault;

/// A generated package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GeneratedSdk {
    /// The package's name, e.g. `Azure.Storage.Blobs` or `azure-storage`.
    pub package: String,
    /// Where it was written, relative to the repository.
    pub output_dir: String,
    /// How many files were written.
    pub files: u64,
    /// The API version it targets.
    pub api_version: String,
}

impl fmt::Display for GeneratedSdk {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Generated {} (api-version {}): {} files in {}",
            self.package, self.api_version, self.files, self.output_dir
        )
    }
}

/// `toolResponse`: `SDK generated successfully (42 files)`.
impl ToolResponse for GeneratedSdk {
    fn tool_response(&self) -> Option<String> {
        Some(format!("SDK generated successfully ({} files)", self.files))
    }
}

fn package_name(language: Language, service: &str) -> String {
    let mut title = service.to_owned();
    if let Some(first) = title.get_mut(0..1) {
        first.make_ascii_uppercase();
    }
    match language {
        Language::DotNet => format!("Azure.{title}"),
        Language::Java => format!("azure-{service}"),
        Language::JavaScript => format!("@azure/{service}"),
        Language::Python => format!("azure-{service}"),
        Language::Go => format!("sdk/{service}/az{service}"),
    }
}

fn output_dir(language: Language, service: &str) -> String {
    let package = package_name(language, service);
    let leaf = package.rsplit('/').next().unwrap_or(&package);
    format!("sdk/{service}/{leaf}")
}

/// The newest stable API version the simulated specs know.
const LATEST_API_VERSION: &str = "2025-09-01";

impl Toolbox {
    /// Generates the SDK of `service` for `language` from its TypeSpec project.
    ///
    /// # Errors
    /// [`GenerateError`]: bad arguments (`ValidationError`), an unreachable
    /// spec repository (`NetworkError`), compiler errors
    /// (`TypeSpecCompilationError`), refused credentials
    /// (`AuthenticationError`, no message recorded), file-system errors
    /// (`Io*`). [`GenerateError::UpToDate`] is an expected outcome.
    #[telemetry_tool(category = "generating", name = "azsdk_generate_sdk")]
    pub async fn generate_sdk(&self, args: GenerateSdkArgs) -> Result<GeneratedSdk, GenerateError> {
        check_service(&args.service).map_err(GenerateError::Validation)?;
        let api_version = args
            .api_version
            .clone()
            .unwrap_or_else(|| LATEST_API_VERSION.to_owned());
        if !is_api_version(&api_version) {
            return Err(GenerateError::Validation(format!(
                "invalid api version `{api_version}`: expected YYYY-MM-DD or YYYY-MM-DD-preview"
            )));
        }
        if args.sdk_release_type == Some(SdkReleaseType::Stable)
            && api_version.ends_with("-preview")
        {
            return Err(GenerateError::Validation(format!(
                "a stable SDK cannot target the preview api version {api_version}"
            )));
        }
        self.sim.work(2, 6).await;
        match self.sim.fault(&[
            (Fault::Network, 40),
            (Fault::CompileError, 50),
            (Fault::Auth, 10),
            (Fault::UpToDate, 30),
            (Fault::PermissionDenied, 5),
        ]) {
            Some(Fault::Network) => {
                return Err(GenerateError::Network {
                    host: "github.com",
                    reason: "connection reset by peer",
                })
            }
            Some(Fault::CompileError) => {
                let count = self.sim.between(1, 4) as usize;
                return Err(GenerateError::Compilation {
                    count,
                    first: format!(
                        "specification/{}/main.tsp:42:3 - error @azure-tools/typespec-azure-core/use-standard-operations: Operation 'list' should be defined using a signature from the Azure.Core namespace.",
                        args.service
                    ),
                });
            }
            Some(Fault::Auth) => {
                return Err(GenerateError::Unauthorized(
                    "dev@contoso.onmicrosoft.com".into(),
                ))
            }
            Some(Fault::UpToDate) => return Err(GenerateError::UpToDate),
            Some(_) => {
                return Err(GenerateError::Io(std::io::Error::new(
                    std::io::ErrorKind::PermissionDenied,
                    format!(
                        "cannot write {}/_client.generated",
                        output_dir(args.language, &args.service)
                    ),
                )))
            }
            None => {}
        }
        self.sim.work(6, 18).await;
        Ok(GeneratedSdk {
            package: package_name(args.language, &args.service),
            output_dir: output_dir(args.language, &args.service),
            files: self.sim.between(18, 140),
            api_version,
        })
    }
}
