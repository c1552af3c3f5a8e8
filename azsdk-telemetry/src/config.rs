//! Settings read from the environment: opt-out, connection string, locations.

use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

/// `AZSDK_TELEMETRY_ENABLED`: `false`, `0`, `no` or `off` turns telemetry off.
pub(crate) const ENV_ENABLED: &str = "AZSDK_TELEMETRY_ENABLED";
/// `DO_NOT_TRACK`: the cross-tool convention; `1` or `true` turns telemetry off.
pub(crate) const ENV_DO_NOT_TRACK: &str = "DO_NOT_TRACK";
/// `APPLICATIONINSIGHTS_CONNECTION_STRING`: where to send telemetry (the variable the
/// official Azure Monitor exporters read).
pub const ENV_CONNECTION_STRING: &str = "APPLICATIONINSIGHTS_CONNECTION_STRING";
/// `AZSDK_TELEMETRY_JSONL`: write envelopes to this file instead of the default location.
pub(crate) const ENV_JSONL: &str = "AZSDK_TELEMETRY_JSONL";
/// `AZSDK_TELEMETRY_DIR`: the per-user state directory (spool, JSONL log, state files).
pub(crate) const ENV_DIR: &str = "AZSDK_TELEMETRY_DIR";

/// Why telemetry is off.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OptOut {
    /// `AZSDK_TELEMETRY_ENABLED` says so (the value is kept for messages).
    EnabledVariable(String),
    /// `DO_NOT_TRACK` is set.
    DoNotTrack,
    /// The application turned it off in code.
    Code,
    /// The user's settings file says `telemetry.enabled: false`.
    Settings,
}

impl std::fmt::Display for OptOut {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            OptOut::EnabledVariable(value) => write!(f, "{ENV_ENABLED}={value}"),
            OptOut::DoNotTrack => write!(f, "{ENV_DO_NOT_TRACK} is set"),
            OptOut::Code => f.write_str("disabled by the application"),
            OptOut::Settings => write!(f, "{SETTING_TELEMETRY_ENABLED} is false in the settings"),
        }
    }
}

/// Reads the opt-out variables from the process environment.
///
/// `AZSDK_TELEMETRY_ENABLED` accepts `true`/`1`/`yes`/`on` (on) and
/// `false`/`0`/`no`/`off` (off), in any case; an empty value means unset. Any
/// other value turns telemetry off too: a typo must never turn it on.
/// `DO_NOT_TRACK` turns it off unless it is empty, `0` or `false`.
pub(crate) fn opt_out_from_env() -> Option<OptOut> {
    let lookup = |name| std::env::var(name).ok();
    if let Some(value) = lookup(ENV_ENABLED) {
        if !value.trim().is_empty() && parse_bool(&value) != Some(true) {
            return Some(OptOut::EnabledVariable(value));
        }
    }
    if let Some(value) = lookup(ENV_DO_NOT_TRACK) {
        if !value.trim().is_empty() && parse_bool(&value) != Some(false) {
            return Some(OptOut::DoNotTrack);
        }
    }
    None
}

/// The per-user state directory of an application: `AZSDK_TELEMETRY_DIR` when
/// set, else `<user state dir>/azsdk-telemetry/<app>` (`~/.local/state` on
/// Linux, `~/Library/Application Support` on macOS, `%LOCALAPPDATA%` on
/// Windows). `None` when the platform has no such directory.
pub(crate) fn state_dir(app_name: &str) -> Option<PathBuf> {
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

/// The setting that turns telemetry off for good: `config set telemetry.enabled false`.
pub(crate) const SETTING_TELEMETRY_ENABLED: &str = "telemetry.enabled";

/// The file, in the state directory, holding settings changed by the user.
pub(crate) const SETTINGS_FILE: &str = "config.json";

/// Why a setting could not be changed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SettingError {
    /// The key is empty or not made of `name.name` parts.
    #[error(
        "`{0}` is not a setting name: use dotted lower-case names such as `telemetry.enabled`"
    )]
    InvalidKey(String),
    /// The value does not fit the setting.
    #[error("`{value}` is not a valid value for `{key}`: use true or false")]
    InvalidValue {
        /// The setting.
        key: String,
        /// The value given.
        value: String,
    },
    /// No state directory is known, so nothing can be stored.
    #[error("no per-user state directory is known: set AZSDK_TELEMETRY_DIR or give the builder a .state_dir(..)")]
    NoStateDirectory,
    /// The settings file could not be written.
    #[error("could not save the settings in {path}: {source}")]
    Io {
        /// The settings file.
        path: PathBuf,
        /// What failed.
        source: std::io::Error,
    },
}

/// Settings the user changed, stored as `{"telemetry.enabled": false, ...}` in
/// [`SETTINGS_FILE`] in the state directory.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    path: PathBuf,
    values: Map<String, Value>,
}

impl Settings {
    /// The settings stored in `dir`; a missing or unreadable file means none.
    pub(crate) fn load(dir: &Path) -> Settings {
        let path = dir.join(SETTINGS_FILE);
        let values = std::fs::read(&path)
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .unwrap_or_default();
        Settings { path, values }
    }

    /// A setting's value.
    pub(crate) fn get(&self, key: &str) -> Option<&Value> {
        self.values.get(key)
    }

    /// The `telemetry.enabled` setting, when the user made one.
    pub(crate) fn telemetry_enabled(&self) -> Option<bool> {
        self.get(SETTING_TELEMETRY_ENABLED).and_then(Value::as_bool)
    }

    /// Sets `key` from its command-line text and returns the typed value:
    /// `telemetry.enabled` takes a boolean; other keys keep `true`/`false`
    /// and numbers typed, anything else as a string.
    ///
    /// # Errors
    /// [`SettingError::InvalidKey`] or [`SettingError::InvalidValue`].
    pub(crate) fn set(&mut self, key: &str, value: &str) -> Result<Value, SettingError> {
        let valid_key = !key.is_empty()
            && key.split('.').all(|part| {
                !part.is_empty()
                    && part.chars().all(|c| {
                        c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-'
                    })
            });
        if !valid_key {
            return Err(SettingError::InvalidKey(key.to_owned()));
        }
        let parsed = match (key, parse_bool(value)) {
            (SETTING_TELEMETRY_ENABLED, Some(flag)) => Value::Bool(flag),
            (SETTING_TELEMETRY_ENABLED, None) => {
                return Err(SettingError::InvalidValue {
                    key: key.to_owned(),
                    value: value.to_owned(),
                })
            }
            (_, Some(flag)) => Value::Bool(flag),
            (_, None) => value
                .trim()
                .parse::<i64>()
                .map_or_else(|_| Value::String(value.to_owned()), Value::from),
        };
        self.values.insert(key.to_owned(), parsed.clone());
        Ok(parsed)
    }

    /// Writes the settings (mode 0600 in a 0700 directory on Unix).
    ///
    /// # Errors
    /// [`SettingError::Io`] when the file cannot be written.
    pub(crate) fn save(&self) -> Result<(), SettingError> {
        let io = |source| SettingError::Io {
            path: self.path.clone(),
            source,
        };
        if let Some(dir) = self.path.parent() {
            crate::files::create_private_dir(dir).map_err(io)?;
        }
        let bytes =
            serde_json::to_vec_pretty(&self.values).map_err(|e| io(std::io::Error::other(e)))?;
        crate::files::replace(&self.path, &bytes).map_err(io)
    }
}

/// What `configChanges` shows instead of the value of a setting not declared safe.
pub(crate) const CHANGED: &str = "[CHANGED]";

/// Settings whose values `SystemConfigured` may record, each with the values it may show:
/// `telemetry.enabled` (a boolean) and `log.level` (a level name). Any other setting, or a
/// value outside its list, is recorded as changed ([`CHANGED`]) with no value: a setting
/// the user names (`github.token`) may hold anything.
pub(crate) const SAFE_SETTINGS: &[(&str, &[&str])] = &[
    (SETTING_TELEMETRY_ENABLED, &["true", "false"]),
    (
        "log.level",
        &["trace", "debug", "info", "warn", "error", "off"],
    ),
];

/// The value `configChanges` records for `key` set to `value` (as [`Settings::set`] typed
/// it): the value itself for a [safe setting](SAFE_SETTINGS), else [`CHANGED`].
pub(crate) fn recorded_value(key: &str, value: &Value) -> Value {
    let shown = match value {
        Value::Bool(flag) => flag.to_string(),
        Value::String(text) => text.clone(),
        _ => return Value::from(CHANGED),
    };
    let safe = SAFE_SETTINGS
        .iter()
        .any(|(name, values)| *name == key && values.contains(&shown.as_str()));
    if safe {
        value.clone()
    } else {
        Value::from(CHANGED)
    }
}

/// `telemetry.enabled` as the spec's `configChanges` key: `telemetryEnabled`.
pub(crate) fn camel_key(key: &str) -> String {
    let mut out = String::with_capacity(key.len());
    let mut upper = false;
    for c in key.chars() {
        if matches!(c, '.' | '_' | '-') {
            upper = !out.is_empty();
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// `true`/`1`/`yes`/`on` and `false`/`0`/`no`/`off`, in any case and padding.
pub(crate) fn parse_bool(value: &str) -> Option<bool> {
    match value.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Some(true),
        "false" | "0" | "no" | "off" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn app_names_become_single_path_components() {
        assert_eq!(file_safe("azsdk"), "azsdk");
        assert_eq!(file_safe("../evil/../x"), "_evil_.._x");
        assert_eq!(file_safe(".."), "app");
    }
}
