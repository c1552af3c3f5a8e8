//! Client-side sampling: keep a percentage of successes, every failure.

use std::cell::RefCell;

use super::retry::XorShift;

thread_local! {
    static RNG: RefCell<XorShift> = RefCell::new(XorShift::seeded());
}

/// Decides, per item, whether it is kept and with which `sampleRate` it is stamped.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Sampler {
    rate: f64,
}

impl Sampler {
    /// `rate` is a percentage in `(0, 100]`.
    pub(crate) fn new(rate: f64) -> Self {
        Self { rate }
    }

    /// `Some(sample_rate)` to keep the item, `None` to drop it. Failures are always kept and
    /// stamped 100 (each stands for itself); kept successes are stamped with the rate, so
    /// Application Insights counts each as `100 / rate` items (`itemCount`).
    pub(crate) fn decide(&self, is_failure: impl FnOnce() -> bool) -> Option<f64> {
        if self.rate >= 100.0 {
            return Some(100.0);
        }
        if is_failure() {
            return Some(100.0);
        }
        let draw = RNG.with(|r| r.borrow_mut().unit()) * 100.0;
        (draw < self.rate).then_some(self.rate)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_all_at_100() {
        let s = Sampler::new(100.0);
        assert!((0..1000).all(|_| s.decide(|| false) == Some(100.0)));
    }

    #[test]
    fn keeps_failures_and_about_the_rate_of_successes() {
        let s = Sampler::new(10.0);
        assert!((0..1000).all(|_| s.decide(|| true) == Some(100.0)));
        let kept = (0..100_000)
            .filter(|_| s.decide(|| false).is_some())
            .count();
        assert!((8_500..11_500).contains(&kept), "{kept}");
        assert_eq!(s.decide(|| false).unwrap_or(10.0), 10.0);
    }
}
