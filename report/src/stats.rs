//! Weighted statistics: rates, averages and nearest-rank percentiles.
//!
//! Every value carries a weight, its `itemCount` (how many events a sampled
//! item stands for), so the report agrees with Kusto's `sum(itemCount)`,
//! `sum(duration * itemCount) / sum(itemCount)` and `percentilew(duration,
//! itemCount, p)`.

/// The weighted nearest-rank percentile: sort the values, and return the
/// smallest value whose cumulative weight reaches `ceil(p × total / 100)`
/// (at least 1). With all weights 1 this is the textbook nearest-rank
/// method: `p = 50` over `[1, 2, 3, 4]` is `2`, `p = 95` over 1..=20 is 19.
/// No interpolation: the result is always one of the values. `None` when
/// there are no values or the total weight is 0.
///
/// ```
/// use azsdk_telemetry_report::stats::percentile;
/// assert_eq!(percentile(&[(4.0, 1), (1.0, 1), (3.0, 1), (2.0, 1)], 50), Some(2.0));
/// assert_eq!(percentile(&[(10.0, 1), (20.0, 3)], 50), Some(20.0));   // 20 stands for 3 items
/// assert_eq!(percentile(&[(7.0, 1)], 95), Some(7.0));
/// assert_eq!(percentile(&[], 50), None);
/// ```
pub fn percentile(values: &[(f64, u64)], p: u8) -> Option<f64> {
    let total: u64 = values.iter().map(|(_, w)| w).sum();
    if total == 0 {
        return None;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(|a, b| a.0.total_cmp(&b.0));
    // Integer arithmetic: no floating-point error decides the rank.
    let rank = (u64::from(p.min(100)) * total).div_ceil(100).max(1);
    let mut seen = 0;
    for (value, weight) in sorted {
        seen += weight;
        if seen >= rank {
            return Some(value);
        }
    }
    None
}

/// The weighted mean, or `None` without weight.
///
/// ```
/// use azsdk_telemetry_report::stats::mean;
/// assert_eq!(mean(&[(10.0, 1), (20.0, 3)]), Some(17.5));
/// ```
pub fn mean(values: &[(f64, u64)]) -> Option<f64> {
    let total: u64 = values.iter().map(|(_, w)| w).sum();
    if total == 0 {
        return None;
    }
    let sum: f64 = values.iter().map(|(v, w)| v * *w as f64).sum();
    Some(sum / total as f64)
}

/// `100 × part / whole`, rounded to 2 decimals as the spec's queries do;
/// 0 when `whole` is 0.
///
/// ```
/// use azsdk_telemetry_report::stats::rate;
/// assert_eq!(rate(2, 3), 66.67);
/// assert_eq!(rate(0, 0), 0.0);
/// ```
pub fn rate(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        round_to(100.0 * part as f64 / whole as f64, 2)
    }
}

/// Rounds to `decimals` places (half away from zero).
///
/// ```
/// use azsdk_telemetry_report::stats::round_to;
/// assert_eq!(round_to(1.23456, 3), 1.235);
/// ```
pub fn round_to(value: f64, decimals: i32) -> f64 {
    let scale = 10f64.powi(decimals);
    (value * scale).round() / scale
}

/// Average, p50 and p95 of durations in milliseconds (averages rounded to
/// the microsecond; percentiles are observed values, exact).
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Latency {
    /// Weighted mean.
    pub avg_ms: f64,
    /// Weighted nearest-rank 50th percentile.
    pub p50_ms: f64,
    /// Weighted nearest-rank 95th percentile.
    pub p95_ms: f64,
}

impl Latency {
    /// From `(milliseconds, itemCount)` pairs; zeros when empty.
    ///
    /// ```
    /// use azsdk_telemetry_report::stats::Latency;
    /// let latency = Latency::of(&[(100.0, 1), (200.0, 1), (1000.0, 1)]);
    /// assert_eq!((latency.avg_ms, latency.p50_ms, latency.p95_ms), (433.333, 200.0, 1000.0));
    /// ```
    pub fn of(values: &[(f64, u64)]) -> Latency {
        Latency {
            avg_ms: mean(values).map_or(0.0, |avg| round_to(avg, 3)),
            p50_ms: percentile(values, 50).unwrap_or(0.0),
            p95_ms: percentile(values, 95).unwrap_or(0.0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ones(values: &[f64]) -> Vec<(f64, u64)> {
        values.iter().map(|v| (*v, 1)).collect()
    }

    #[test]
    fn nearest_rank_on_known_lists() {
        let twenty: Vec<f64> = (1..=20).map(f64::from).collect();
        assert_eq!(percentile(&ones(&twenty), 95), Some(19.0));
        assert_eq!(percentile(&ones(&twenty), 50), Some(10.0));
        assert_eq!(percentile(&ones(&twenty), 100), Some(20.0));
        assert_eq!(percentile(&ones(&twenty), 0), Some(1.0));
        let hundred: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&ones(&hundred), 95), Some(95.0));
        assert_eq!(percentile(&ones(&[5.0, 1.0, 3.0]), 50), Some(3.0));
        assert_eq!(percentile(&ones(&[1.0, 2.0]), 50), Some(1.0));
        assert_eq!(percentile(&ones(&[1.0, 2.0]), 95), Some(2.0));
    }

    #[test]
    fn weights_count_as_repeated_values() {
        let weighted = [(1.0, 1), (2.0, 2), (3.0, 7)];
        let expanded = ones(&[1.0, 2.0, 2.0, 3.0, 3.0, 3.0, 3.0, 3.0, 3.0, 3.0]);
        for p in [0, 10, 20, 30, 50, 95, 100] {
            assert_eq!(percentile(&weighted, p), percentile(&expanded, p), "p{p}");
        }
        assert_eq!(mean(&weighted), mean(&expanded));
        assert_eq!(percentile(&[(1.0, 0)], 50), None);
    }
}
