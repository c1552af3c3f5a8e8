//! `azsdk_create_release_plan`: registers a release with the release planner.

use std::fmt;

use azsdk_telemetry::{telemetry_tool, ToolResponse};

use super::{check_service, Toolbox};
use crate::args::{CreateReleasePlanArgs, SdkReleaseType};
use crate::errors::ReleasePlanError;
use crate::simulate::Fault;

/// A created release plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReleasePlan {
    /// The plan's work item.
    pub id: u32,
    /// The month it targets.
    pub release_month: String,
    /// How many language packages it covers.
    pub languages: usize,
}

impl fmt::Display for ReleasePlan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Created release plan {} for {} ({} language packages)",
            self.id, self.release_month, self.languages
        )
    }
}

/// `toolResponse`: `Release plan created`.
impl ToolResponse for ReleasePlan {
    fn tool_response(&self) -> Option<String> {
        Some("Release plan created".to_owned())
    }
}

/// `YYYY-MM` with a month from 01 to 12.
fn is_release_month(text: &str) -> bool {
    match text.split_once('-') {
        Some((year, month)) => {
            year.len() == 4
                && year.bytes().all(|b| b.is_ascii_digit())
                && month.len() == 2
                && matches!(month.parse::<u8>(), Ok(1..=12))
        }
        None => false,
    }
}

impl Toolbox {
    /// Creates the release plan of `service` for `release_month`.
    ///
    /// # Errors
    /// [`ReleasePlanError`]: bad arguments (`ValidationError`), a refused
    /// user (`AuthenticationError`, no message recorded), an unreachable
    /// planner (`NetworkError`). [`ReleasePlanError::AlreadyExists`] is an
    /// expected outcome.
    #[telemetry_tool(category = "release", name = "azsdk_create_release_plan")]
    pub async fn create_release_plan(
        &self,
        args: CreateReleasePlanArgs,
    ) -> Result<ReleasePlan, ReleasePlanError> {
        check_service(&args.service).map_err(ReleasePlanError::Validation)?;
        if !is_release_month(&args.release_month) {
            return Err(ReleasePlanError::Validation(format!(
                "invalid release month `{}`: expected YYYY-MM",
                args.release_month
            )));
        }
        if args.sdk_release_type == SdkReleaseType::Stable && args.spec_pull_request.is_none() {
            return Err(ReleasePlanError::Validation(
                "a stable release plan needs the spec pull request: pass --spec-pull-request"
                    .into(),
            ));
        }
        self.sim.work(1, 4).await;
        let id = 27_000 + self.sim.between(0, 2_999) as u32;
        match self.sim.fault(&[
            (Fault::Auth, 40),
            (Fault::Network, 30),
            (Fault::AlreadyExists, 60),
        ]) {
            Some(Fault::Auth) => Err(ReleasePlanError::Unauthorized(
                args.owner_email
                    .clone()
                    .unwrap_or_else(|| "the signed-in user".into()),
            )),
            Some(Fault::Network) => Err(ReleasePlanError::Network("503 Service Unavailable")),
            Some(_) => Err(ReleasePlanError::AlreadyExists(id)),
            None => Ok(ReleasePlan {
                id,
                release_month: args.release_month,
                languages: args.languages.len(),
            }),
        }
    }
}
