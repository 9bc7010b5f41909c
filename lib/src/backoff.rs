//! Exponential backoff with jitter, exactly as the provisioning runbook
//! defines it: `delay = min(base * 2^attempt, max) + random * jitter * delay`,
//! base 1000 ms, max 30000 ms, jitter 30 %, at most 60 attempts, and an
//! overall deadline that no sleep ever passes.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::time::{Duration, Instant};

/// The backoff parameters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Policy {
    /// The first delay (`base`).
    pub base: Duration,
    /// The cap on the exponential part.
    pub max: Duration,
    /// The jitter factor, 0.0 to 1.0: up to this fraction of the delay is added.
    pub jitter: f64,
    /// The most attempts; 0 means no limit but the deadline.
    pub max_attempts: u32,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            base: Duration::from_millis(1000),
            max: Duration::from_millis(30_000),
            jitter: 0.3,
            max_attempts: 60,
        }
    }
}

impl Policy {
    /// The delay after failed attempt number `attempt` (0-based: the runbook's
    /// "attempt 1" waits ~1000 ms), with `random` in [0, 1).
    pub fn delay(&self, attempt: u32, random: f64) -> Duration {
        let exp = 2f64.powi(attempt.min(62) as i32);
        let raw = (self.base.as_secs_f64() * 1000.0 * exp).min(self.max.as_secs_f64() * 1000.0);
        let with_jitter = raw + random * self.jitter * raw;
        Duration::from_micros((with_jitter * 1000.0).round() as u64)
    }
}

/// A running backoff: attempts counted against a policy and a deadline.
#[derive(Debug)]
pub struct Backoff {
    policy: Policy,
    rng: StdRng,
    start: Instant,
    deadline: Option<Instant>,
    attempt: u32,
}

/// What to do after a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// Sleep this long, then try again.
    Retry(Duration),
    /// Give up: the attempts or the deadline are used up.
    GiveUp,
}

impl Backoff {
    /// A backoff starting now, with an optional overall timeout and an optional
    /// RNG seed (tests use one to check the sequence exactly).
    pub fn new(policy: Policy, timeout: Option<Duration>, seed: Option<u64>) -> Self {
        let start = Instant::now();
        Backoff {
            policy,
            rng: match seed {
                Some(s) => StdRng::seed_from_u64(s),
                None => StdRng::from_entropy(),
            },
            start,
            deadline: timeout.map(|t| start + t),
            attempt: 0,
        }
    }

    /// How many attempts have failed so far.
    pub fn attempts(&self) -> u32 {
        self.attempt
    }

    /// When this backoff started.
    pub fn started(&self) -> Instant {
        self.start
    }

    /// The deadline, if any.
    pub fn deadline(&self) -> Option<Instant> {
        self.deadline
    }

    /// Time left before the deadline (None: no deadline).
    pub fn remaining(&self) -> Option<Duration> {
        self.deadline
            .map(|d| d.saturating_duration_since(Instant::now()))
    }

    /// Records a failed attempt and says whether and how long to wait. The
    /// delay is clipped so the next attempt happens at the deadline at the
    /// latest, never after it.
    pub fn next_delay(&mut self) -> Next {
        let attempt = self.attempt;
        self.attempt += 1;
        if self.policy.max_attempts != 0 && self.attempt >= self.policy.max_attempts {
            return Next::GiveUp;
        }
        let mut delay = self.policy.delay(attempt, self.rng.gen::<f64>());
        if let Some(deadline) = self.deadline {
            let now = Instant::now();
            if now >= deadline {
                return Next::GiveUp;
            }
            delay = delay.min(deadline - now);
        }
        Next::Retry(delay)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runbook_sequence_without_jitter() {
        let p = Policy::default();
        let ms: Vec<u128> = (0..7).map(|a| p.delay(a, 0.0).as_millis()).collect();
        assert_eq!(ms, vec![1000, 2000, 4000, 8000, 16000, 30000, 30000]);
    }

    #[test]
    fn jitter_adds_at_most_thirty_percent() {
        let p = Policy::default();
        assert_eq!(p.delay(0, 0.999_999).as_millis(), 1300);
        assert_eq!(p.delay(10, 0.5).as_millis(), 34500);
    }

    #[test]
    fn seeded_sequence_is_reproducible_and_bounded() {
        let mut a = Backoff::new(Policy::default(), None, Some(42));
        let mut b = Backoff::new(Policy::default(), None, Some(42));
        for i in 0..10u32 {
            let (Next::Retry(da), Next::Retry(db)) = (a.next_delay(), b.next_delay()) else {
                unreachable!("no limit reached yet")
            };
            assert_eq!(da, db);
            let raw = Policy::default().delay(i, 0.0);
            assert!(da >= raw && da <= raw.mul_f64(1.3), "{i}: {da:?}");
        }
    }

    /// The runbook's formula, written out, against the same seeded RNG: the
    /// sequence a seed gives is known exactly, delay by delay.
    #[test]
    fn seeded_sequence_is_exactly_the_runbook_formula() {
        let mut b = Backoff::new(Policy::default(), None, Some(2024));
        let mut rng = StdRng::seed_from_u64(2024);
        for attempt in 0..20u32 {
            let r: f64 = rng.gen();
            let raw = (1000.0 * 2f64.powi(attempt as i32)).min(30_000.0);
            let expected = Duration::from_micros(((raw + r * 0.3 * raw) * 1000.0).round() as u64);
            assert_eq!(b.next_delay(), Next::Retry(expected), "attempt {attempt}");
        }
        // Another seed, another sequence.
        let mut a = Backoff::new(Policy::default(), None, Some(1));
        let mut c = Backoff::new(Policy::default(), None, Some(2));
        let da: Vec<Next> = (0..5).map(|_| a.next_delay()).collect();
        let dc: Vec<Next> = (0..5).map(|_| c.next_delay()).collect();
        assert_ne!(da, dc);
    }

    #[test]
    fn max_attempts_gives_up() {
        let p = Policy {
            max_attempts: 3,
            ..Policy::default()
        };
        let mut b = Backoff::new(p, None, Some(1));
        assert!(matches!(b.next_delay(), Next::Retry(_)));
        assert!(matches!(b.next_delay(), Next::Retry(_)));
        assert_eq!(b.next_delay(), Next::GiveUp);
        assert_eq!(b.attempts(), 3);
    }

    #[test]
    fn never_sleeps_past_the_deadline() {
        let mut b = Backoff::new(Policy::default(), Some(Duration::from_millis(200)), Some(7));
        match b.next_delay() {
            Next::Retry(d) => assert!(d <= Duration::from_millis(200)),
            Next::GiveUp => unreachable!("deadline not reached"),
        }
        std::thread::sleep(Duration::from_millis(210));
        assert_eq!(b.next_delay(), Next::GiveUp);
    }
}
