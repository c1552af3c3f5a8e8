//! UTC calendar days: the unit of "active on a day" and of the 28-day window.

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::error::ReportError;

const SECONDS_PER_DAY: u64 = 86_400;

/// A UTC calendar day, counted in days since 1970-01-01.
///
/// ```
/// use azsdk_telemetry_report::Day;
/// let day = Day::parse("2025-10-16").unwrap();
/// assert_eq!(day.to_string(), "2025-10-16");
/// assert_eq!(day.minus(27).to_string(), "2025-09-19");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Day(i64);

impl Day {
    /// The UTC day that contains `time`. Times before 1970 are not produced
    /// by the framework; they map to day 0.
    pub fn of(time: SystemTime) -> Day {
        let secs = time
            .duration_since(UNIX_EPOCH)
            .map_or(0, |elapsed| elapsed.as_secs());
        Day((secs / SECONDS_PER_DAY) as i64)
    }

    /// Parses `YYYY-MM-DD` (as given to `--as-of`).
    ///
    /// ```
    /// use azsdk_telemetry_report::Day;
    /// assert!(Day::parse("2025-02-30").is_err());
    /// assert!(Day::parse("16/10/2025").is_err());
    /// ```
    pub fn parse(text: &str) -> Result<Day, ReportError> {
        let invalid = || ReportError::InvalidDay {
            value: text.to_owned(),
        };
        let bytes = text.as_bytes();
        let shaped = bytes.len() == 10
            && bytes[4] == b'-'
            && bytes[7] == b'-'
            && bytes
                .iter()
                .enumerate()
                .all(|(i, b)| i == 4 || i == 7 || b.is_ascii_digit());
        if !shaped {
            return Err(invalid());
        }
        let time = humantime::parse_rfc3339(&format!("{text}T00:00:00Z")).map_err(|_| invalid())?;
        Ok(Day::of(time))
    }

    /// The day `days` days earlier.
    pub fn minus(self, days: i64) -> Day {
        Day(self.0 - days)
    }

    /// The day `days` days later.
    pub fn plus(self, days: i64) -> Day {
        Day(self.0 + days)
    }

    /// Days since 1970-01-01.
    pub fn index(self) -> i64 {
        self.0
    }

    /// Today in UTC.
    pub fn today() -> Day {
        Day::of(SystemTime::now())
    }

    fn midnight(self) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(self.0.max(0) as u64 * SECONDS_PER_DAY)
    }
}

impl fmt::Display for Day {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let stamp = humantime::format_rfc3339_seconds(self.midnight()).to_string();
        f.write_str(&stamp[..10])
    }
}

impl std::str::FromStr for Day {
    type Err = ReportError;

    fn from_str(text: &str) -> Result<Day, ReportError> {
        Day::parse(text)
    }
}

impl serde::Serialize for Day {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn day_boundaries_are_utc_midnight() {
        let last_second = humantime::parse_rfc3339("2025-10-16T23:59:59.999999Z").unwrap();
        let first_second = humantime::parse_rfc3339("2025-10-17T00:00:00Z").unwrap();
        assert_eq!(Day::of(last_second).to_string(), "2025-10-16");
        assert_eq!(Day::of(first_second).to_string(), "2025-10-17");
        assert_eq!(
            Day::of(first_second).index() - Day::of(last_second).index(),
            1
        );
    }

    #[test]
    fn parse_rejects_what_is_not_a_date() {
        for bad in [
            "",
            "2025-1-01",
            "2025-13-01",
            "2025-10-16T00:00:00Z",
            "abcd-ef-gh",
        ] {
            assert!(Day::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(Day::parse("2024-02-29").unwrap().to_string(), "2024-02-29");
        assert_eq!(Day::parse("1970-01-01").unwrap().index(), 0);
    }

    #[test]
    fn arithmetic_crosses_months_and_years() {
        let day = Day::parse("2025-01-10").unwrap();
        assert_eq!(day.minus(27).to_string(), "2024-12-14");
        assert_eq!(day.plus(22).to_string(), "2025-02-01");
    }
}
