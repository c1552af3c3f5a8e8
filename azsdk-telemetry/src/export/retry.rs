//! What an answer of the ingestion service means for each item of a batch, and when to
//! try again: the retry policy (exponential backoff with jitter) and `Retry-After`.

use std::time::{Duration, SystemTime};

use serde::Deserialize;

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

/// The part of the service's response body (`TrackResponse` in the ingestion swagger) that
/// decides anything: one entry per item not accepted. Its counts and messages are not read
/// (a message may quote field values).
#[derive(Debug, Default, Deserialize)]
struct TrackResponse {
    #[serde(default)]
    errors: Vec<ItemError>,
}

/// One item not accepted: its position in the request and its status.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ItemError {
    index: usize,
    status_code: u16,
}

/// Whole-request statuses worth another try (the item status codes use the same rule).
pub(crate) fn is_retriable_status(code: u16) -> bool {
    matches!(code, 408 | 429 | 500 | 502 | 503 | 504)
}

/// What to do with each item of a batch after one answer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Outcome {
    /// Accepted and stored.
    pub accepted: usize,
    /// Indexes (into the request) to send again.
    pub retry: Vec<usize>,
    /// Refused for good (400/402/403, other non-retriable codes).
    pub rejected: usize,
    /// Accepted but sampled out by the service (item status 206).
    pub sampled_out: usize,
    /// What the answer says of the endpoint as a whole.
    pub verdict: Verdict,
}

/// What a whole-request answer says about sending at all, beyond its items.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// The endpoint serves: go on as the items say.
    #[default]
    Serving,
    /// 402 or 439: the resource's daily cap or quota is spent. The items are refused;
    /// sending pauses, so no retry storm follows.
    OverQuota,
    /// 401, 403, or 400 "Authentication not supported" (an Entra-only resource got no
    /// token): the credentials are refused. The items are kept (to the spool) and sending
    /// pauses: a fixed configuration will deliver them later.
    Unauthorized,
}

/// What to tell the user of a [`Verdict::Unauthorized`] answer with this status, knowing
/// whether requests carried an Entra ID token.
pub(crate) fn unauthorized_hint(status: u16, has_credential: bool) -> &'static str {
    match (status, has_credential) {
        (403, _) => "the identity is not allowed to send to this resource (403): the identity needs the Monitoring Metrics Publisher role on the resource",
        (400, false) => "this resource accepts only Microsoft Entra ID tokens: configure a credential (TelemetryBuilder::credential, feature `entra`)",
        (_, true) => "the ingestion endpoint refused the Entra ID token: check that the credential's tenant is the resource's and that the connection string's AADAudience matches its cloud",
        (_, false) => "the ingestion endpoint refused the credentials: check the connection string's instrumentation key, or, if the resource has local authentication disabled, configure an Entra ID credential (TelemetryBuilder::credential)",
    }
}

/// The service's answer to a request without a token for a resource that takes only
/// Entra ID tokens (in the body, whatever its shape).
fn says_authentication_not_supported(body: &[u8]) -> bool {
    const TEXT: &[u8] = b"authentication not supported";
    body.windows(TEXT.len())
        .any(|w| w.eq_ignore_ascii_case(TEXT))
}

/// Classifies an HTTP answer for a batch of `len` items. Redirects are handled before this.
///
/// * 200: all accepted.
/// * 206, and 400/500 with a readable body: per item from `errors` (items not listed were
///   accepted); item code 206 is "sampled out", retriable codes are resent by index.
/// * 206 with an unreadable body: everything is resent (duplicates beat losses).
/// * 408, 429, 500, 502, 503, 504 (without a usable body): all resent.
/// * 402, 439: all rejected, [`Verdict::OverQuota`].
/// * 401, 403, and 400 "Authentication not supported": all kept, [`Verdict::Unauthorized`].
/// * anything else (400, 404, ...): all rejected.
pub(crate) fn classify(status: u16, body: &[u8], len: usize) -> Outcome {
    let all_retry = || Outcome {
        retry: (0..len).collect(),
        ..Outcome::default()
    };
    let all_rejected = || Outcome {
        rejected: len,
        ..Outcome::default()
    };
    if (200..300).contains(&status) && status != 206 {
        return Outcome {
            accepted: len,
            ..Outcome::default()
        };
    }
    let unauthorized = || Outcome {
        verdict: Verdict::Unauthorized,
        ..all_retry()
    };
    if status == 400 && says_authentication_not_supported(body) {
        return unauthorized();
    }
    let parsed = serde_json::from_slice::<TrackResponse>(body)
        .ok()
        .filter(|r| !r.errors.is_empty());
    match (status, parsed) {
        (206 | 400 | 500, Some(response)) => per_item(&response, len),
        (206, None) => all_retry(),
        (s, _) if is_retriable_status(s) => all_retry(),
        (402 | 439, _) => Outcome {
            verdict: Verdict::OverQuota,
            ..all_rejected()
        },
        (401 | 403, _) => unauthorized(),
        _ => all_rejected(),
    }
}

fn per_item(response: &TrackResponse, len: usize) -> Outcome {
    // 0 = accepted, else the item's status code; out-of-range indexes are ignored.
    let mut codes = vec![0u16; len];
    for e in &response.errors {
        if let Some(slot) = codes.get_mut(e.index) {
            *slot = e.status_code;
        }
    }
    let mut out = Outcome::default();
    for (i, code) in codes.into_iter().enumerate() {
        match code {
            0 | 200 => out.accepted += 1,
            206 => out.sampled_out += 1,
            c if is_retriable_status(c) => out.retry.push(i),
            _ => out.rejected += 1,
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(errors: &[(usize, u16)]) -> Vec<u8> {
        let errors: Vec<_> = errors
            .iter()
            .map(|(i, c)| serde_json::json!({"index": i, "statusCode": c, "message": "m"}))
            .collect();
        serde_json::to_vec(&serde_json::json!({
            "itemsReceived": 5, "itemsAccepted": 5 - errors.len(), "errors": errors
        }))
        .unwrap()
    }

    #[test]
    fn ok_accepts_everything() {
        assert_eq!(classify(200, b"", 3).accepted, 3);
        assert_eq!(classify(200, b"garbage", 3).accepted, 3);
    }

    #[test]
    fn partial_resends_only_retriable_indexes() {
        let o = classify(206, &body(&[(0, 400), (2, 500), (3, 206), (4, 429)]), 5);
        assert_eq!(
            o,
            Outcome {
                accepted: 1,
                retry: vec![2, 4],
                rejected: 1,
                sampled_out: 1,
                verdict: Verdict::Serving,
            }
        );
    }

    #[test]
    fn server_error_with_body_is_per_item() {
        let o = classify(500, &body(&[(1, 500)]), 3);
        assert_eq!((o.accepted, o.retry.clone()), (2, vec![1]));
    }

    #[test]
    fn bad_request_with_retriable_items_keeps_them() {
        let o = classify(400, &body(&[(0, 400), (1, 503)]), 2);
        assert_eq!((o.rejected, o.retry.clone()), (1, vec![1]));
    }

    #[test]
    fn whole_batch_codes() {
        for s in [408, 429, 500, 502, 503, 504] {
            assert_eq!(classify(s, b"", 2).retry, vec![0, 1], "{s}");
        }
        for s in [400, 404] {
            assert_eq!(classify(s, b"", 2).rejected, 2, "{s}");
        }
        for s in [402, 439] {
            let o = classify(s, b"", 2);
            assert_eq!((o.rejected, o.verdict), (2, Verdict::OverQuota), "{s}");
        }
        for s in [401, 403] {
            let o = classify(s, b"", 2);
            assert_eq!(
                (o.retry, o.verdict),
                (vec![0, 1], Verdict::Unauthorized),
                "{s}"
            );
        }
    }

    #[test]
    fn authentication_not_supported_keeps_the_items() {
        let b = br#"{"errors":[{"index":0,"statusCode":400,"message":"Authentication NOT supported"}]}"#;
        let o = classify(400, b, 2);
        assert_eq!((o.retry, o.verdict), (vec![0, 1], Verdict::Unauthorized));
        assert_eq!(
            classify(400, b"Authentication not supported", 1).rejected,
            0
        );
        assert!(unauthorized_hint(403, true).contains("Monitoring Metrics Publisher role"));
        assert!(unauthorized_hint(400, false).contains("TelemetryBuilder::credential"));
    }

    #[test]
    fn partial_with_unreadable_body_resends_all() {
        assert_eq!(classify(206, b"<html>", 2).retry, vec![0, 1]);
    }

    #[test]
    fn out_of_range_index_is_ignored() {
        let o = classify(206, &body(&[(9, 500)]), 2);
        assert_eq!(o.accepted, 2);
    }

    #[test]
    fn parses_service_shape() {
        let r: TrackResponse = serde_json::from_str(
            r#"{"itemsReceived":5,"itemsAccepted":3,"errors":[{"index":0,"statusCode":400,"message":"103: Field 'time'"}]}"#,
        )
        .unwrap();
        assert_eq!((r.errors[0].index, r.errors[0].status_code), (0, 400));
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
