//! What a developer (or their agent) does in one session: realistic tool
//! sequences — verify → generate → test → PR checks → release — with
//! retries after fixable failures and drop-offs along the way.

use std::path::PathBuf;

use tracing::instrument::WithSubscriber;
use tracing::Dispatch;

use crate::args::{
    CreateReleasePlanArgs, GenerateSdkArgs, Language, Languages, RunPrChecksArgs, RunTestsArgs,
    SdkReleaseType, TestMode, UpdatePackageArgs, VerifySetupArgs,
};
use crate::simulate::Rng;
use crate::tools::{Reply, Toolbox};

use super::world::Persona;

/// Where each of the session's tool calls sends its telemetry: a CLI
/// session starts a new process (a new layer) per command, an MCP session
/// keeps one server (one layer) for the whole session.
pub trait Runner {
    /// The subscriber the next call runs under.
    fn begin(&mut self) -> Dispatch;
    /// The call finished with `reply`: advance the clock, the progress, and
    /// end the process of a CLI command.
    fn end(&mut self, reply: &Reply);
}

/// The session's state: who, what, and how many calls are left.
pub struct Journey<'p> {
    /// The developer.
    pub persona: &'p Persona,
    /// The language of this session.
    pub language: Language,
    /// Calls left in this session.
    pub left: usize,
    /// Whether this is the developer's first session.
    pub first: bool,
    /// The tools.
    pub tools: &'p Toolbox,
}

macro_rules! call {
    ($runner:expr, $journey:expr, $method:ident, $args:expr) => {{
        let args = $args;
        $journey.left -= 1;
        let dispatch = $runner.begin();
        let reply = Reply::of($journey.tools.$method(args).with_subscriber(dispatch).await);
        $runner.end(&reply);
        reply
    }};
}

impl Journey<'_> {
    /// Runs intents until the session's calls are used up.
    pub async fn run(mut self, rng: &mut Rng, runner: &mut impl Runner) {
        if self.first && self.left > 0 {
            self.setup(rng, runner).await;
        }
        while self.left > 0 {
            match rng.below(100) {
                0..=49 => self.inner_loop(rng, runner).await,
                50..=71 => self.fix_tests(rng, runner).await,
                72..=87 => self.release(rng, runner).await,
                _ => self.setup(rng, runner).await,
            }
        }
    }

    fn languages(&self) -> Languages {
        Languages(self.persona.languages.clone())
    }

    fn generate_args(&self, rng: &mut Rng, slip: bool) -> GenerateSdkArgs {
        let preview = rng.chance(0.35);
        let api_version = if slip {
            "2025-9-1".to_owned()
        } else if preview {
            "2025-05-01-preview".to_owned()
        } else {
            rng.pick(&["2025-09-01", "2024-11-01", "2025-03-01"])
                .to_string()
        };
        GenerateSdkArgs {
            service: self.persona.service.to_owned(),
            language: self.language,
            api_version: Some(api_version),
            plane: self.persona.plane,
            sdk_release_type: Some(if preview {
                SdkReleaseType::Preview
            } else {
                SdkReleaseType::Stable
            }),
            custom_code: rng.chance(0.3),
            typespec_project_root: Some(PathBuf::from(format!(
                "/home/{}/repos/azure-rest-api-specs/specification/{}",
                self.persona.label, self.persona.service
            ))),
            tenant_id: Some(self.persona.tenant_id.clone()),
            subscription_id: rng
                .chance(0.5)
                .then(|| self.persona.subscription_id.clone()),
            api_key: Some(self.persona.api_key.clone()),
        }
    }

    fn test_args(&self, mode: TestMode) -> RunTestsArgs {
        let live = mode != TestMode::Playback;
        RunTestsArgs {
            service: self.persona.service.to_owned(),
            language: self.language,
            mode,
            package_path: None,
            filter: None,
            subscription_id: live.then(|| self.persona.subscription_id.clone()),
            client_secret: live.then(|| format!("{}~secret", self.persona.api_key)),
        }
    }

    async fn setup(&mut self, rng: &mut Rng, runner: &mut impl Runner) {
        let languages = if rng.chance(0.4) {
            Languages::all()
        } else {
            self.languages()
        };
        for _attempt in 0..2 {
            if self.left == 0 {
                return;
            }
            let reply = call!(
                runner,
                self,
                verify_setup,
                VerifySetupArgs {
                    languages: languages.clone(),
                    verbose: rng.chance(0.3),
                    repo_root: None,
                }
            );
            if !reply.failed {
                return;
            }
        }
    }

    /// Generates (retrying fixable failures); returns whether there is an SDK to test.
    async fn generate(&mut self, rng: &mut Rng, runner: &mut impl Runner) -> bool {
        let mut slip = rng.chance(self.persona.slips);
        for _attempt in 0..3 {
            if self.left == 0 {
                return false;
            }
            let reply = call!(runner, self, generate_sdk, self.generate_args(rng, slip));
            slip = false;
            match reply.error_type {
                None => return true,
                Some("ValidationError" | "NetworkError") => continue,
                Some("TypeSpecCompilationError") if rng.chance(0.5) => continue,
                Some(_) => return false,
            }
        }
        false
    }

    /// Runs the tests; returns whether they passed.
    async fn test(&mut self, rng: &mut Rng, runner: &mut impl Runner) -> bool {
        let mut mode = if rng.chance(self.persona.slips) {
            TestMode::Live
        } else {
            TestMode::Playback
        };
        for _attempt in 0..2 {
            if self.left == 0 {
                return false;
            }
            let mut args = self.test_args(mode);
            if mode == TestMode::Live && rng.chance(0.6) {
                args.subscription_id = None; // forgot it: a validation error
            }
            let reply = call!(runner, self, run_tests, args);
            match reply.error_type {
                None => return true,
                Some("ValidationError") => mode = TestMode::Playback,
                Some("NetworkError" | "Timeout") => {}
                Some(_) => return false,
            }
        }
        false
    }

    async fn pr_checks(&mut self, rng: &mut Rng, runner: &mut impl Runner) -> bool {
        for _attempt in 0..2 {
            if self.left == 0 {
                return false;
            }
            let reply = call!(
                runner,
                self,
                run_pr_checks,
                RunPrChecksArgs {
                    service: self.persona.service.to_owned(),
                    languages: self.languages(),
                    parallel: rng.chance(0.5),
                    pr_number: rng.chance(0.6).then(|| 30_000 + rng.below(9_000) as u32),
                    github_token: Some(self.persona.github_token.clone()),
                }
            );
            match reply.error_type {
                None => return true,
                Some("RateLimitError" | "NetworkError") => {}
                Some(_) => return false,
            }
        }
        false
    }

    async fn update_package(&mut self, rng: &mut Rng, runner: &mut impl Runner) -> bool {
        if self.left == 0 {
            return false;
        }
        let slip = rng.chance(self.persona.slips);
        let version = if slip {
            "2.0".to_owned()
        } else if rng.chance(0.6) {
            format!(
                "{}.{}.0-beta.{}",
                rng.between(1, 12),
                rng.below(10),
                rng.between(1, 3)
            )
        } else {
            format!("{}.{}.0", rng.between(1, 12), rng.below(10))
        };
        let reply = call!(
            runner,
            self,
            update_package,
            UpdatePackageArgs {
                service: self.persona.service.to_owned(),
                version,
                languages: self.languages(),
                plane: self.persona.plane,
                update_changelog: rng.chance(0.8),
                package_path: None,
            }
        );
        !reply.failed
    }

    async fn release_plan(&mut self, rng: &mut Rng, runner: &mut impl Runner) {
        for _attempt in 0..2 {
            if self.left == 0 {
                return;
            }
            let stable = rng.chance(0.4);
            let reply = call!(
                runner,
                self,
                create_release_plan,
                CreateReleasePlanArgs {
                    service: self.persona.service.to_owned(),
                    languages: self.languages(),
                    release_month: format!("2026-{:02}", rng.between(1, 12)),
                    sdk_release_type: if stable {
                        SdkReleaseType::Stable
                    } else {
                        SdkReleaseType::Preview
                    },
                    plane: self.persona.plane,
                    spec_pull_request: (!stable || rng.chance(0.8)).then(|| {
                        format!(
                            "https://github.com/Azure/azure-rest-api-specs/pull/{}",
                            35_000 + rng.below(2_000)
                        )
                    }),
                    tenant_id: Some(self.persona.tenant_id.clone()),
                    owner_email: Some(self.persona.email.clone()),
                }
            );
            if reply.error_type != Some("ValidationError") {
                return;
            }
        }
    }

    /// Generate → test → PR checks → version → release plan, dropping off
    /// along the way (some never test what they generated).
    async fn inner_loop(&mut self, rng: &mut Rng, runner: &mut impl Runner) {
        if !self.generate(rng, runner).await || rng.chance(0.25) {
            return;
        }
        let mut passed = self.test(rng, runner).await;
        if !passed && rng.chance(0.5) && self.generate(rng, runner).await {
            passed = self.test(rng, runner).await;
        }
        if !passed || rng.chance(0.3) {
            return;
        }
        if !self.pr_checks(rng, runner).await || rng.chance(0.5) {
            return;
        }
        if self.update_package(rng, runner).await && rng.chance(0.5) {
            self.release_plan(rng, runner).await;
        }
    }

    async fn fix_tests(&mut self, rng: &mut Rng, runner: &mut impl Runner) {
        if !self.test(rng, runner).await && rng.chance(0.6) && self.generate(rng, runner).await {
            self.test(rng, runner).await;
        }
    }

    async fn release(&mut self, rng: &mut Rng, runner: &mut impl Runner) {
        if self.update_package(rng, runner).await && self.pr_checks(rng, runner).await {
            self.release_plan(rng, runner).await;
        }
    }
}
