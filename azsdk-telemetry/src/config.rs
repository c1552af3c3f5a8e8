//! Settings read from the environment: opt-out, connection string, locations.

use std::path::PathBuf;

/// `AZSDK_TELEMETRY_ENABLED`: `false`, `0`, `no` or `off` turns telemetry off.
pub const ENV_ENABLED: &str = "AZSDK_TELEMETRY_ENABLED";
/// `DO_NOT_TRACK`: the cross-tool convention; `1` or `true` turns telemetry off.
pub const ENV_DO_NOT_TRACK: &str = "DO_NOT_TRACK";
/// `APPLICATIONINSIGHTS_CONNECTION_STRING`: where to send telemetry.
pub const ENV_CONNECTION_STRING: &str = "APPLICATIONINSIGHTS_CONNECTION_STRING";
/// `AZSDK_TELEMETRY_JSONL`: write envelopes to this file instead of the default location.
pub const ENV_JSONL: &str = "AZSDK_TELEMETRY_JSONL";
/// `AZSDK_TELEMETRY_DIR`: the per-user state directory (spool, JSONL log, state files).
pub const ENV_DIR: &str = "AZSDK_TELEMETRY_DIR";

/// Why telemetry is off.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OptOut {
    /// `AZSDK_TELEMETRY_ENABLED` says so (the value is kept for messages).
    EnabledVariable(String),
    /// `DO_NOT_TRACK` is set.
    DoNotTrack,
    /// The application turned it off in code.
    Code,
}

impl std::fmt::Display for OptOut {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            OptOut::EnabledVariable(value) => write!(f, "{ENV_ENABLED}={value}"),
            OptOut::DoNotTrack => write!(f, "{ENV_DO_NOT_TRACK} is set"),
            OptOut::Code => f.write_str("disabled by the application"),
        }
    }
}

/// Reads the opt-out variables from the process environment.
///
/// ```
/// // With neither variable set, telemetry stays on.
/// # std::env::remove_var("AZSDK_TELEMETRY_ENABLED"); std::env::remove_var("DO_NOT_TRACK");
/// assert_eq!(azsdk_telemetry::config::opt_out_from_env(), None);
/// ```
pub fn opt_out_from_env() -> Option<OptOut> {
    opt_out_from(|name| std::env::var(name).ok())
}

/// The opt-out decision over any variable lookup, so it can be tested without
/// touching the process environment.
///
/// `AZSDK_TELEMETRY_ENABLED` accepts `true`/`1`/`yes`/`on` (on) and
/// `false`/`0`/`no`/`off` (off), in any case; an empty value means unset. Any
/// other value turns telemetry off too: a typo must never turn it on.
/// `DO_NOT_TRACK` turns it off unless it is empty, `0` or `false`.
///
/// ```
/// use azsdk_telemetry::config::{opt_out_from, OptOut};
/// let env = |name: &str| (name == "DO_NOT_TRACK").then(|| "1".to_string());
/// assert_eq!(opt_out_from(env), Some(OptOut::DoNotTrack));
/// ```
pub fn opt_out_from(lookup: impl Fn(&str) -> Option<String>) -> Option<OptOut> {
    if let Some(value) = lookup(ENV_ENABLED) {
        let normalized = value.trim().to_ascii_lowercase();
        match normalized.as_str() {
            "" | "true" | "1" | "yes" | "on" => {}
            _ => return Some(OptOut::EnabledVariable(value)),
        }
    }
    if let Some(value) = lookup(ENV_DO_NOT_TRACK) {
        let normalized = value.trim().to_ascii_lowercase();
        if !matches!(normalized.as_str(), "" | "0" | "false" | "no" | "off") {
            return Some(OptOut::DoNotTrack);
        }
    }
    None
}

/// The per-user state directory of an application: `AZSDK_TELEMETRY_DIR` when
/// set, else `<user state dir>/azsdk-telemetry/<app>` (`~/.local/state` on
/// Linux, `~/Library/Application Support` on macOS, `%LOCALAPPDATA%` on
/// Windows). `None` when the platform has no such directory.
pub fn state_dir(app_name: &str) -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os(ENV_DIR).filter(|dir| !dir.is_empty()) {
        return Some(PathBuf::from(dir));
    }
    let base = dirs::state_dir().or_else(dirs::data_local_dir)?;
    Some(base.join("azsdk-telemetry").join(file_safe(app_name)))
}

/// An application name made safe as one path component.
fn file_safe(name: &str) -> String {
    let safe: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    match safe.trim_matches('.') {
        "" => "app".to_owned(),
        trimmed => trimmed.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |name| {
            pairs
                .iter()
                .find(|(key, _)| *key == name)
                .map(|(_, value)| value.to_string())
        }
    }

    #[test]
    fn every_documented_off_value_opts_out() {
        for value in ["false", "FALSE", "0", "no", "Off", " off "] {
            let pairs: &'static [(&str, &str)] = Box::leak(Box::new([(ENV_ENABLED, value)]));
            assert!(opt_out_from(env(pairs)).is_some(), "{value}");
        }
    }

    #[test]
    fn on_values_and_empty_keep_telemetry_on() {
        for value in ["true", "1", "YES", "on", ""] {
            let pairs: &'static [(&str, &str)] = Box::leak(Box::new([(ENV_ENABLED, value)]));
            assert_eq!(opt_out_from(env(pairs)), None, "{value}");
        }
    }

    #[test]
    fn a_typo_is_treated_as_off() {
        assert_eq!(
            opt_out_from(env(&[(ENV_ENABLED, "flase")])),
            Some(OptOut::EnabledVariable("flase".into()))
        );
    }

    #[test]
    fn do_not_track_wins_even_when_enabled_is_true() {
        let lookup = env(&[(ENV_ENABLED, "true"), (ENV_DO_NOT_TRACK, "1")]);
        assert_eq!(opt_out_from(lookup), Some(OptOut::DoNotTrack));
        assert_eq!(
            opt_out_from(env(&[(ENV_DO_NOT_TRACK, "true")])),
            Some(OptOut::DoNotTrack)
        );
        assert_eq!(opt_out_from(env(&[(ENV_DO_NOT_TRACK, "0")])), None);
    }

    #[test]
    fn app_names_become_single_path_components() {
        assert_eq!(file_safe("azsdk"), "azsdk");
        assert_eq!(file_safe("../evil/../x"), "_evil_.._x");
        assert_eq!(file_safe(".."), "app");
    }
}
