//! Where the process runs, read from the environment: the platform and
//! whether an agent or a person invoked it.

use super::Platform;

/// `executionMode` of a command a person typed.
pub const EXECUTION_DIRECT: &str = "direct";
/// `executionMode` of a call an AI agent made.
pub const EXECUTION_AGENT_INVOKED: &str = "agent-invoked";

/// The platform the environment shows: VS Code's integrated terminal, GitHub (Actions,
/// Codespaces), JetBrains IDEs' terminals, and other CI systems (by their well-known
/// variables; reported as `AzurePipelines`, `GitLab` or `CI`). `None` when it shows none:
/// then an MCP client may name it, else it is `CLI`.
pub(crate) fn shown_platform_from(lookup: impl Fn(&str) -> Option<String>) -> Option<Platform> {
    let set = |name: &str| lookup(name).is_some_and(|value| !value.trim().is_empty());
    let is = |name: &str, expected: &str| {
        lookup(name).is_some_and(|value| value.trim().eq_ignore_ascii_case(expected))
    };
    let platform =
        if is("TERM_PROGRAM", "vscode") || set("VSCODE_PID") || set("VSCODE_IPC_HOOK_CLI") {
            Platform::VsCode
        } else if is("GITHUB_ACTIONS", "true") || is("CODESPACES", "true") {
            Platform::GitHub
        } else if lookup("TERMINAL_EMULATOR").is_some_and(|value| value.starts_with("JetBrains"))
            || set("IDEA_INITIAL_DIRECTORY")
        {
            Platform::JetBrains
        } else if is("TF_BUILD", "true") {
            Platform::custom("AzurePipelines")
        } else if is("GITLAB_CI", "true") {
            Platform::custom("GitLab")
        } else if set("CI") && !is("CI", "false") {
            Platform::custom("CI")
        } else {
            return None;
        };
    Some(platform)
}

/// Whether the process runs in CI, by the well-known variables of CI systems (`CI`,
/// `GITHUB_ACTIONS`, `TF_BUILD`, `GITLAB_CI`, `JENKINS_URL`, `BUILDKITE`, `CIRCLECI`,
/// `TEAMCITY_VERSION`). A CI job may wait a few seconds at exit for its telemetry; a person
/// at a terminal may not.
pub(crate) fn is_ci_from(lookup: impl Fn(&str) -> Option<String>) -> bool {
    let set = |name: &str| lookup(name).is_some_and(|value| !value.trim().is_empty());
    let is = |name: &str, expected: &str| {
        lookup(name).is_some_and(|value| value.trim().eq_ignore_ascii_case(expected))
    };
    (set("CI") && !is("CI", "false") && !is("CI", "0"))
        || ["GITHUB_ACTIONS", "TF_BUILD", "GITLAB_CI"]
            .iter()
            .any(|name| is(name, "true"))
        || ["JENKINS_URL", "BUILDKITE", "CIRCLECI", "TEAMCITY_VERSION"]
            .iter()
            .any(|name| set(name))
}

/// [`shown_platform_from`] over the process environment.
pub(crate) fn shown_platform() -> Option<Platform> {
    shown_platform_from(|name| std::env::var(name).ok())
}

/// `agent-invoked` when the environment shows an AI agent ran the process
/// (Claude Code sets `CLAUDECODE=1`; any agent can set
/// `AZSDK_TELEMETRY_EXECUTION_MODE`), else `direct`.
pub(crate) fn detect_execution_mode_from(lookup: impl Fn(&str) -> Option<String>) -> String {
    if let Some(mode) = lookup("AZSDK_TELEMETRY_EXECUTION_MODE").filter(|m| !m.trim().is_empty()) {
        return mode.trim().to_owned();
    }
    if lookup("CLAUDECODE").is_some_and(|value| value.trim() == "1") {
        return EXECUTION_AGENT_INVOKED.to_owned();
    }
    EXECUTION_DIRECT.to_owned()
}

/// [`detect_execution_mode_from`] over the process environment.
pub(crate) fn detect_execution_mode() -> String {
    detect_execution_mode_from(|name| std::env::var(name).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::test_env as env;

    #[test]
    fn each_environment_maps_to_its_platform() {
        let cases: [(&[(&str, &str)], Platform); 9] = [
            (&[], Platform::Cli),
            (&[("TERM_PROGRAM", "vscode")], Platform::VsCode),
            (&[("VSCODE_IPC_HOOK_CLI", "/tmp/x.sock")], Platform::VsCode),
            (
                &[("GITHUB_ACTIONS", "true"), ("CI", "true")],
                Platform::GitHub,
            ),
            (&[("CODESPACES", "true")], Platform::GitHub),
            (
                &[("TERMINAL_EMULATOR", "JetBrains-JediTerm")],
                Platform::JetBrains,
            ),
            (&[("TF_BUILD", "True")], Platform::custom("AzurePipelines")),
            (&[("CI", "1")], Platform::custom("CI")),
            (&[("CI", "false")], Platform::Cli),
        ];
        for (pairs, expected) in cases {
            let pairs: &'static [(&str, &str)] = Box::leak(pairs.to_vec().into_boxed_slice());
            assert_eq!(
                shown_platform_from(env(pairs)).unwrap_or(Platform::Cli),
                expected,
                "{pairs:?}"
            );
        }
    }

    #[test]
    fn an_explicit_execution_mode_wins() {
        let lookup = env(&[
            ("AZSDK_TELEMETRY_EXECUTION_MODE", "agent-invoked"),
            ("CLAUDECODE", "0"),
        ]);
        assert_eq!(detect_execution_mode_from(lookup), EXECUTION_AGENT_INVOKED);
        assert_eq!(
            detect_execution_mode_from(env(&[("CLAUDECODE", "0")])),
            EXECUTION_DIRECT
        );
    }
}
