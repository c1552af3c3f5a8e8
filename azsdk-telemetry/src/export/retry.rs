//! Retry policy: exponential backoff with jitter, and `Retry-After`.

use std::time::{Duration, SystemTime};

/// How often and how long a batch is retried in memory before it is spooled (or, without a
/// spool, dropped as `retries_exhausted`).
///
/// ```
/// use std::time::Duration;
/// use azsdk_telemetry::RetryPolicy;
///
/// let fast = RetryPolicy {
///     max_attempts: 4,
///     base_backoff: Duration::from_millis(10),
///     max_backoff: Duration::from_millis(100),
///     ..RetryPolicy::default()
/// };
/// assert!(fast.backoff(10, 0.5) <= Duration::from_millis(100));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Tries in a row that deliver nothing, the first one included (default 3): an answer
    /// that accepts items starts the count again.
    pub max_attempts: u32,
    /// Delay before the first retry (default 500 ms); doubled on every retry.
    pub base_backoff: Duration,
    /// Ceiling of the exponential delay (default 8 s).
    pub max_backoff: Duration,
    /// Longest `Retry-After` waited for in memory (default 60 s). A longer one ends the
    /// in-memory retries of that batch (it is spooled) and pauses sending until then.
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 3,
            base_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(8),
            max_retry_after: Duration::from_secs(60),
        }
    }
}

impl RetryPolicy {
    /// Delay before retry number `retry` (0 = first retry) with "equal jitter": the delay is
    /// drawn from `[d/2, d]` where `d = min(max_backoff, base_backoff * 2^retry)`.
    /// `unit` is a uniform random number in `[0, 1)`.
    pub fn backoff(&self, retry: u32, unit: f64) -> Duration {
        let factor = 2u32.saturating_pow(retry.min(30));
        let full = self
            .base_backoff
            .saturating_mul(factor)
            .min(self.max_backoff);
        let unit = if unit.is_finite() {
            unit.clamp(0.0, 1.0)
        } else {
            0.5
        };
        full.mul_f64(0.5 + unit / 2.0)
    }
}

/// Parses a `Retry-After` value: delay-seconds or an HTTP date. A date in the past gives zero.
pub(crate) fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if value.is_empty() {
        return None;
    }
    if value.bytes().all(|b| b.is_ascii_digit()) {
        // Absurdly large values are clamped rather than rejected.
        return Some(Duration::from_secs(
            value.parse::<u64>().unwrap_or(u64::MAX),
        ));
    }
    if let Ok(seconds) = value.parse::<f64>() {
        if seconds.is_finite() && seconds >= 0.0 {
            return Some(Duration::from_secs_f64(seconds.min(1e9)));
        }
        return None;
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// A small xorshift generator for jitter and sampling; no cryptographic quality needed.
#[derive(Debug, Clone)]
pub(crate) struct XorShift(u64);

impl XorShift {
    pub(crate) fn seeded() -> Self {
        let nanos = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0x9e37_79b9_7f4a_7c15);
        let local = 0u8;
        let addr = &local as *const u8 as u64;
        let mut seed = nanos ^ addr.rotate_left(32) ^ u64::from(std::process::id());
        if seed == 0 {
            seed = 0x9e37_79b9_7f4a_7c15;
        }
        Self(seed)
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    /// Uniform in `[0, 1)`.
    pub(crate) fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> RetryPolicy {
        RetryPolicy {
            max_attempts: 5,
            base_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(1),
            max_retry_after: Duration::from_secs(60),
        }
    }

    #[test]
    fn backoff_doubles_within_jitter_bounds() {
        let p = policy();
        assert_eq!(p.backoff(0, 0.0), Duration::from_millis(50));
        assert_eq!(p.backoff(0, 1.0), Duration::from_millis(100));
        assert_eq!(p.backoff(1, 1.0), Duration::from_millis(200));
        assert_eq!(p.backoff(2, 0.0), Duration::from_millis(200));
        assert_eq!(p.backoff(3, 1.0), Duration::from_millis(800));
    }

    #[test]
    fn backoff_is_capped_and_never_overflows() {
        let p = policy();
        assert_eq!(p.backoff(4, 1.0), Duration::from_secs(1));
        assert_eq!(p.backoff(u32::MAX, 1.0), Duration::from_secs(1));
        assert_eq!(p.backoff(u32::MAX, f64::NAN), Duration::from_millis(750));
    }

    #[test]
    fn retry_after_seconds() {
        let now = SystemTime::now();
        assert_eq!(parse_retry_after("7", now), Some(Duration::from_secs(7)));
        assert_eq!(parse_retry_after(" 0 ", now), Some(Duration::ZERO));
        assert_eq!(
            parse_retry_after("1.5", now),
            Some(Duration::from_millis(1500))
        );
        assert_eq!(
            parse_retry_after("99999999999999999999999", now),
            Some(Duration::from_secs(u64::MAX))
        );
    }

    #[test]
    fn retry_after_http_date() {
        let now = httpdate::parse_http_date("Fri, 22 Apr 2016 23:59:00 GMT").unwrap();
        assert_eq!(
            parse_retry_after("Fri, 22 Apr 2016 23:59:59 GMT", now),
            Some(Duration::from_secs(59))
        );
        assert_eq!(
            parse_retry_after("Fri, 22 Apr 2016 23:00:00 GMT", now),
            Some(Duration::ZERO)
        );
    }

    #[test]
    fn retry_after_garbage() {
        let now = SystemTime::now();
        assert_eq!(parse_retry_after("", now), None);
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("-3", now), None);
    }

    #[test]
    fn xorshift_unit_range() {
        let mut r = XorShift::seeded();
        for _ in 0..10_000 {
            let u = r.unit();
            assert!((0.0..1.0).contains(&u));
        }
    }
}
