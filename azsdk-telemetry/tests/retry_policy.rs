//! `RetryPolicy::backoff` as an application tuning the exporter sees it: the delay doubles
//! within the bounds of its jitter, stops at the ceiling, and never overflows.

use std::time::Duration;

use azsdk_telemetry::RetryPolicy;

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
