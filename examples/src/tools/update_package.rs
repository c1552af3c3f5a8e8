//! `azsdk_update_package`: bumps a package's version and changelog.

use std::fmt;

use azsdk_telemetry::{telemetry_tool, ToolResponse};

use super::{check_service, is_package_version, Toolbox};
use crate::args::UpdatePackageArgs;
use crate::errors::PackageError;
use crate::simulate::Fault;

/// The packages updated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackageUpdate {
    /// `(package, previous version)` per language.
    pub packages: Vec<(String, String)>,
    /// The new version.
    pub version: String,
    /// Whether the changelogs got a new section.
    pub changelog: bool,
}

impl fmt::Display for PackageUpdate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (package, previous) in &self.packages {
            writeln!(f, "{package}: {previous} -> {}", self.version)?;
        }
        write!(
            f,
            "Updated {} package(s) to {}{}",
            self.packages.len(),
            self.version,
            if self.changelog {
                " and added CHANGELOG.md sections"
            } else {
                ""
            }
        )
    }
}

/// `toolResponse`: `Package version updated`.
impl ToolResponse for PackageUpdate {
    fn tool_response(&self) -> Option<String> {
        Some(format!(
            "Package version updated ({} packages)",
            self.packages.len()
        ))
    }
}

impl Toolbox {
    /// Sets the version of `service`'s packages, and adds changelog sections.
    ///
    /// # Errors
    /// [`PackageError`]: bad arguments (`ValidationError`), a conflicted
    /// file (`ConflictError`), file-system errors (`Io*`).
    #[telemetry_tool(category = "package", name = "azsdk_update_package")]
    pub async fn update_package(
        &self,
        args: UpdatePackageArgs,
    ) -> Result<PackageUpdate, PackageError> {
        check_service(&args.service).map_err(PackageError::Validation)?;
        if !is_package_version(&args.version) {
            return Err(PackageError::Validation(format!(
                "invalid version `{}`: expected MAJOR.MINOR.PATCH, optionally with -beta.N",
                args.version
            )));
        }
        if args.languages.is_empty() {
            return Err(PackageError::Validation(
                "no language to update: pass --languages (e.g. .NET,Java or all)".into(),
            ));
        }
        self.sim.work(1, 3).await;
        match self
            .sim
            .fault(&[(Fault::Conflict, 40), (Fault::PermissionDenied, 15)])
        {
            Some(Fault::Conflict) => {
                return Err(PackageError::Conflict {
                    file: "CHANGELOG.md",
                })
            }
            Some(_) => {
                return Err(PackageError::Io(std::io::Error::new(
                    std::io::ErrorKind::PermissionDenied,
                    format!("cannot write sdk/{}/package.json", args.service),
                )))
            }
            None => {}
        }
        let minor = self.sim.between(0, 9);
        let packages = args
            .languages
            .iter()
            .map(|language| {
                (
                    format!("{}{}", language.package_prefix(), args.service),
                    format!("1.{minor}.0"),
                )
            })
            .collect();
        Ok(PackageUpdate {
            packages,
            version: args.version,
            changelog: args.update_changelog,
        })
    }
}
