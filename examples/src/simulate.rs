//! The simulated world the tools run in: no network, no compilers, no
//! sleeping longer than a few milliseconds, and outcomes that are
//! deterministic for a seed but varied across calls.
//!
//! A [`Simulation`] decides, per call, whether something outside the tool's
//! control goes wrong (a [`Fault`]) and how long the work takes. Argument
//! validation is not simulated: the tools check their arguments for real.

use std::sync::{Mutex, PoisonError};
use std::time::Duration;

/// A small, fast, seedable pseudo-random generator (SplitMix64). Good enough
/// to vary a simulation; not for anything secret.
///
/// ```
/// use azsdk_telemetry_examples::simulate::Rng;
/// let (mut a, mut b) = (Rng::new(7), Rng::new(7));
/// assert_eq!(a.next_u64(), b.next_u64());
/// assert!(a.below(10) < 10);
/// ```
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator for `seed`; the same seed gives the same sequence.
    pub fn new(seed: u64) -> Self {
        Rng(seed ^ 0x5DEE_CE66_D1CE_4E5B)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            0
        } else {
            self.next_u64() % n
        }
    }

    /// A number in `low..=high`.
    pub fn between(&mut self, low: u64, high: u64) -> u64 {
        low + self.below(high.saturating_sub(low) + 1)
    }

    /// `true` with probability `p` (0.0 to 1.0).
    pub fn chance(&mut self, p: f64) -> bool {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64 <= p
    }

    /// One of `items` (panics on an empty slice).
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }

    /// Lower-case hex digits, `len` of them.
    pub fn hex(&mut self, len: usize) -> String {
        (0..len)
            .map(|_| char::from_digit(self.below(16) as u32, 16).unwrap_or('0'))
            .collect()
    }

    /// A random UUID-shaped string (`8-4-4-4-12` hex digits).
    pub fn uuid(&mut self) -> String {
        format!(
            "{}-{}-4{}-a{}-{}",
            self.hex(8),
            self.hex(4),
            self.hex(3),
            self.hex(3),
            self.hex(12)
        )
    }
}

/// Something outside a tool's control that goes wrong. Each tool reacts to
/// the faults that can happen to it and ignores the others.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, clap::ValueEnum)]
pub enum Fault {
    /// A host does not answer (DNS, TLS, reset connection).
    Network,
    /// The work takes longer than the tool allows.
    Timeout,
    /// Credentials are refused.
    Auth,
    /// A required tool is not installed.
    MissingTool,
    /// The TypeSpec compiler reports errors.
    CompileError,
    /// Some tests fail.
    TestFailure,
    /// Some pull-request checks fail.
    ChecksFailed,
    /// GitHub's rate limit is reached.
    RateLimit,
    /// A file has merge conflicts.
    Conflict,
    /// A file cannot be written.
    PermissionDenied,
    /// Nothing to generate (an expected outcome).
    UpToDate,
    /// The release plan exists already (an expected outcome).
    AlreadyExists,
}

/// How a [`Simulation`] chooses faults.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Nothing outside the tool goes wrong.
    Reliable,
    /// Faults happen at each tool's realistic rates, drawn from the seed.
    Flaky,
    /// This fault happens to every tool it can happen to.
    Forced(Fault),
}

/// The simulated environment a [`Toolbox`](crate::tools::Toolbox) runs in.
///
/// ```
/// use azsdk_telemetry_examples::simulate::{Fault, Simulation};
/// let sim = Simulation::forced(Fault::Network);
/// assert_eq!(sim.fault(&[(Fault::Network, 10)]), Some(Fault::Network));
/// assert_eq!(sim.fault(&[(Fault::Timeout, 10)]), None);
/// assert_eq!(Simulation::reliable().fault(&[(Fault::Network, 1000)]), None);
/// ```
#[derive(Debug)]
pub struct Simulation {
    mode: Mode,
    rng: Mutex<Rng>,
    pace: f64,
}

impl Simulation {
    /// Nothing goes wrong but what the arguments get wrong; no waiting.
    pub fn reliable() -> Self {
        Simulation::new(Mode::Reliable, 0)
    }

    /// Faults at realistic rates, reproducible for `seed`.
    pub fn flaky(seed: u64) -> Self {
        Simulation::new(Mode::Flaky, seed)
    }

    /// `fault` on every call it can happen to.
    pub fn forced(fault: Fault) -> Self {
        Simulation::new(Mode::Forced(fault), 0)
    }

    /// A simulation in `mode`, drawing from `seed`.
    pub fn new(mode: Mode, seed: u64) -> Self {
        Simulation {
            mode,
            rng: Mutex::new(Rng::new(seed)),
            pace: 0.0,
        }
    }

    /// Simulated work takes `pace` times its nominal milliseconds (0: none).
    /// One nominal millisecond stands for about a second of real work.
    pub fn with_pace(mut self, pace: f64) -> Self {
        self.pace = pace.max(0.0);
        self
    }

    /// The mode.
    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// Runs `f` with the generator.
    pub fn with_rng<T>(&self, f: impl FnOnce(&mut Rng) -> T) -> T {
        f(&mut self.rng.lock().unwrap_or_else(PoisonError::into_inner))
    }

    /// Which of `candidates` happens on this call. Each candidate carries its
    /// rate in thousandths for [`Mode::Flaky`]; [`Mode::Forced`] picks its
    /// fault when it is a candidate; [`Mode::Reliable`] never picks one.
    pub fn fault(&self, candidates: &[(Fault, u32)]) -> Option<Fault> {
        match self.mode {
            Mode::Reliable => None,
            Mode::Forced(fault) => candidates
                .iter()
                .any(|(candidate, _)| *candidate == fault)
                .then_some(fault),
            Mode::Flaky => {
                let mut roll = self.with_rng(|rng| rng.below(1000)) as u32;
                for (fault, rate) in candidates {
                    if roll < *rate {
                        return Some(*fault);
                    }
                    roll -= rate;
                }
                None
            }
        }
    }

    /// A number in `low..=high`, for simulated counts.
    pub fn between(&self, low: u64, high: u64) -> u64 {
        self.with_rng(|rng| rng.between(low, high))
    }

    /// Simulates work of `low..=high` nominal milliseconds, scaled by the pace.
    pub async fn work(&self, low: u64, high: u64) {
        if self.pace <= 0.0 {
            return;
        }
        let nominal = self.between(low, high) as f64;
        tokio::time::sleep(Duration::from_secs_f64(nominal * self.pace / 1000.0)).await;
    }
}

impl Default for Simulation {
    fn default() -> Self {
        Simulation::reliable()
    }
}
