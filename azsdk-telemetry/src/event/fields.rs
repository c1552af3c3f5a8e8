//! Reading an emitted `tracing` event back into the typed [`Event`].
//!
//! Tool calls (nearly every event) are read by [`PackedTool`](super::PackedTool); the rare
//! lifecycle events go through [`FieldCollector`]'s slots.

use std::fmt;
use std::time::Duration;

use tracing::field::{Field, Visit};

use super::{
    Event, SystemConfigured, SystemCrashed, SystemInstalled, SystemStarted, SystemStopped,
    SystemUpdated,
};

/// A duration as fractional milliseconds, exact to the microsecond.
pub(crate) fn duration_ms(duration: Duration) -> f64 {
    duration.as_micros() as f64 / 1000.0
}

/// The inverse of [`duration_ms`]; negative, NaN or huge values give a safe duration.
pub(crate) fn from_ms(ms: f64) -> Duration {
    if ms.is_finite() && ms > 0.0 {
        Duration::from_micros((ms * 1000.0).round().min(u64::MAX as f64) as u64)
    } else {
        Duration::ZERO
    }
}

/// Reads a lifecycle event back into its typed [`Event`]: `None` for a name this version
/// does not know (tool calls are read by [`PackedTool::read`](super::PackedTool::read)).
/// Unknown fields are ignored, so a newer emitter never breaks an older layer.
pub(crate) fn read(event: &tracing::Event<'_>) -> Option<Event> {
    let mut fields = FieldCollector::default();
    event.record(&mut fields);
    fields.into_event(event.metadata().name())
}

/// Most fields of each kind a lifecycle event carries; fields past these are ignored
/// like unknown ones.
const TEXTS: usize = 4;
const SCALARS: usize = 4;

/// Collects the fields of one lifecycle event, in place (no allocation but the texts'
/// own).
#[derive(Default)]
struct FieldCollector {
    strings: [(&'static str, Option<String>); TEXTS],
    texts: usize,
    numbers: [(&'static str, f64); SCALARS],
    number_count: usize,
}

impl FieldCollector {
    fn take_string(&mut self, name: &str) -> Option<String> {
        self.strings[..self.texts]
            .iter_mut()
            .find(|(key, _)| *key == name)
            .and_then(|(_, value)| value.take())
    }

    fn number(&self, name: &str) -> Option<f64> {
        self.numbers[..self.number_count]
            .iter()
            .find(|(key, _)| *key == name)
            .map(|(_, value)| *value)
    }

    fn push_string(&mut self, name: &'static str, value: String) {
        if let Some(slot) = self.strings.get_mut(self.texts) {
            *slot = (name, Some(value));
            self.texts += 1;
        }
    }

    fn push_number(&mut self, name: &'static str, value: f64) {
        if let Some(slot) = self.numbers.get_mut(self.number_count) {
            *slot = (name, value);
            self.number_count += 1;
        }
    }

    /// Rebuilds the typed event named `name` (the callsite's name), or `None`
    /// for a name this version does not know.
    fn into_event(mut self, name: &str) -> Option<Event> {
        let event = match name {
            SystemInstalled::NAME => Event::SystemInstalled(SystemInstalled {
                install_method: self.take_string("installMethod"),
            }),
            SystemStarted::NAME => Event::SystemStarted(SystemStarted {
                startup_duration: from_ms(self.number("durationMs").unwrap_or_default()),
            }),
            SystemStopped::NAME => Event::SystemStopped(SystemStopped {
                session_duration: from_ms(self.number("sessionDuration").unwrap_or_default()),
                tool_calls_in_session: self.number("toolCallsInSession").unwrap_or_default() as u64,
            }),
            SystemCrashed::NAME => Event::SystemCrashed(SystemCrashed {
                crash_reason: self.take_string("crashReason").unwrap_or_default(),
                error_message: self.take_string("errorMessage"),
                stack_trace: self.take_string("stackTrace"),
            }),
            SystemConfigured::NAME => Event::SystemConfigured(SystemConfigured {
                config_changes: self.take_string("configChanges").unwrap_or_default(),
            }),
            SystemUpdated::NAME => Event::SystemUpdated(SystemUpdated {
                previous_version: self.take_string("previousVersion").unwrap_or_default(),
                update_method: self.take_string("updateMethod"),
            }),
            _ => return None,
        };
        Some(event)
    }
}

impl Visit for FieldCollector {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.push_string(field.name(), value.to_owned());
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        self.push_number(field.name(), value);
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.push_number(field.name(), value as f64);
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.push_number(field.name(), value as f64);
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        // `message` and any field recorded through Debug: only strings we know are kept.
        if field.name() != "message" {
            self.push_string(field.name(), format!("{value:?}"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_round_trip_to_the_microsecond() {
        for micros in [0u64, 1, 999, 1_000, 12_450_000, 86_400_000_000 * 3 + 7] {
            let duration = Duration::from_micros(micros);
            assert_eq!(from_ms(duration_ms(duration)), duration);
        }
    }

    #[test]
    fn nonsense_durations_become_zero() {
        assert_eq!(from_ms(f64::NAN), Duration::ZERO);
        assert_eq!(from_ms(-5.0), Duration::ZERO);
        assert_eq!(from_ms(f64::INFINITY), Duration::ZERO);
    }

    #[test]
    fn an_unknown_event_name_is_not_an_event() {
        assert!(FieldCollector::default().into_event("Nope").is_none());
    }
}
