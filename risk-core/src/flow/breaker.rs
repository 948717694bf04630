//! A circuit breaker in front of the risk API.
//!
//! Closed: calls go through; after `consecutive_failures` failures in a row, or a failure
//! rate of at least `failure_rate` over `window` (with at least `min_calls` calls), it
//! opens. Open: no calls for `cool_down`; the route's error behaviour applies at once.
//! Then half-open: up to `half_open_probes` calls go through; when that many succeed it
//! closes, when one fails it opens again. State changes are traced (`warn` when opening,
//! `info` otherwise).
//!
//! Failures that count: timeouts, transport errors, 5xx, 429, token (authentication)
//! errors, undecodable responses, and HTTP 404 (a wrong base URL or proxy path: every call
//! will fail the same way). Input problems (HTTP 400, 409, 463) do not: the API answered.
//!
//! Results are counted only in the state (and generation) their call started in: a slow
//! call from before an open → half-open → closed cycle does not count in the new window.

use std::collections::VecDeque;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::time::Instant;

use crate::error::Error;

/// Settings of a [`CircuitBreaker`].
///
/// ```
/// use std::time::Duration;
/// use risk_core::BreakerConfig;
/// let config = BreakerConfig::default()
///     .consecutive_failures(3)
///     .cool_down(Duration::from_secs(5));
/// assert_eq!(config.consecutive_failures, 3);
/// assert_eq!(config.min_calls, 20);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
#[must_use]
pub struct BreakerConfig {
    /// Failures in a row that open the circuit (default 5; 0 disables this trigger).
    pub consecutive_failures: u32,
    /// Failure rate over `window` that opens the circuit (default 0.5; above 1 disables it).
    pub failure_rate: f64,
    /// The sliding window of the failure rate (default 30 s).
    pub window: Duration,
    /// Calls needed in the window before the rate counts (default 20).
    pub min_calls: u32,
    /// How long the circuit stays open before probing (default 10 s; at most
    /// [`MAX_COOL_DOWN`], longer values are taken as that).
    pub cool_down: Duration,
    /// Probe calls allowed (and successes needed) while half-open (default 1, at least 1).
    pub half_open_probes: u32,
}

impl Default for BreakerConfig {
    fn default() -> Self {
        Self {
            consecutive_failures: 5,
            failure_rate: 0.5,
            window: Duration::from_secs(30),
            min_calls: 20,
            cool_down: Duration::from_secs(10),
            half_open_probes: 1,
        }
    }
}

impl BreakerConfig {
    /// Sets `consecutive_failures`.
    pub fn consecutive_failures(mut self, n: u32) -> Self {
        self.consecutive_failures = n;
        self
    }

    /// Sets `failure_rate`.
    pub fn failure_rate(mut self, rate: f64) -> Self {
        self.failure_rate = rate;
        self
    }

    /// Sets `window`.
    pub fn window(mut self, window: Duration) -> Self {
        self.window = window;
        self
    }

    /// Sets `min_calls`.
    pub fn min_calls(mut self, n: u32) -> Self {
        self.min_calls = n;
        self
    }

    /// Sets `cool_down`.
    pub fn cool_down(mut self, cool_down: Duration) -> Self {
        self.cool_down = cool_down;
        self
    }

    /// Sets `half_open_probes`.
    pub fn half_open_probes(mut self, n: u32) -> Self {
        self.half_open_probes = n;
        self
    }
}

/// The longest cool-down a [`CircuitBreaker`] uses (one day).
pub const MAX_COOL_DOWN: Duration = Duration::from_secs(24 * 60 * 60);

/// The state of a [`CircuitBreaker`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum BreakerState {
    /// Calls go through.
    Closed,
    /// Calls are skipped.
    Open,
    /// A few probe calls go through.
    HalfOpen,
}

impl BreakerState {
    /// `closed`, `open` or `half_open`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Closed => "closed",
            Self::Open => "open",
            Self::HalfOpen => "half_open",
        }
    }
}

impl fmt::Display for BreakerState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What one call says about the health of the risk API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CallOutcome {
    /// The API answered as it should: counts as a success (and can close a half-open
    /// breaker).
    Success,
    /// The API failed or was too slow.
    Failure,
    /// Says nothing about the API's health: the caller's input was refused (400, 463, other
    /// 4xx), or the tenant's quota is spent (429, or no budget left). Neither a success nor
    /// a failure; a half-open breaker stays half-open.
    Neutral,
}

/// What an error of the risk API says about its health.
pub(crate) fn outcome_of(error: &Error) -> CallOutcome {
    match error {
        Error::BadRequest { .. }
        | Error::BlacklistedToken { .. }
        | Error::Conflict { .. }
        | Error::RateLimited { .. }
        | Error::QuotaExhausted { .. } => CallOutcome::Neutral,
        Error::UnexpectedStatus { status, .. } if (400..500).contains(status) => {
            CallOutcome::Neutral
        }
        _ => CallOutcome::Failure,
    }
}

const BUCKETS: u32 = 10;

#[derive(Debug, Clone, Copy)]
struct Bucket {
    index: u64,
    calls: u32,
    failures: u32,
}

#[derive(Debug)]
struct State {
    state: BreakerState,
    generation: u64,
    consecutive: u32,
    buckets: VecDeque<Bucket>,
    epoch: Instant,
    opened_at: Instant,
    probes_in_flight: u32,
    probe_successes: u32,
}

struct BreakerCore {
    config: BreakerConfig,
    bucket_len: Duration,
    state: Mutex<State>,
}

/// A circuit breaker, shared by cloning (a handle): give the same one to every guard that
/// calls the same risk API. Uses tokio's clock, so paused-clock tests work.
///
/// ```
/// use risk_core::{BreakerConfig, BreakerState, CircuitBreaker};
/// let breaker = CircuitBreaker::new(BreakerConfig::default());
/// assert_eq!(breaker.state(), BreakerState::Closed);
/// ```
#[derive(Clone)]
pub struct CircuitBreaker {
    shared: Arc<BreakerCore>,
}

impl Default for CircuitBreaker {
    fn default() -> Self {
        Self::new(BreakerConfig::default())
    }
}

impl fmt::Debug for CircuitBreaker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CircuitBreaker")
            .field("state", &self.state())
            .field("config", &self.shared.config)
            .finish()
    }
}

impl CircuitBreaker {
    /// A closed breaker with `config` (`half_open_probes` of 0 is taken as 1, a `cool_down`
    /// over [`MAX_COOL_DOWN`] as that).
    pub fn new(mut config: BreakerConfig) -> Self {
        config.half_open_probes = config.half_open_probes.max(1);
        config.cool_down = config.cool_down.min(MAX_COOL_DOWN);
        let bucket_len = (config.window / BUCKETS).max(Duration::from_millis(1));
        let now = Instant::now();
        Self {
            shared: Arc::new(BreakerCore {
                config,
                bucket_len,
                state: Mutex::new(State {
                    state: BreakerState::Closed,
                    generation: 0,
                    consecutive: 0,
                    buckets: VecDeque::with_capacity(BUCKETS as usize + 1),
                    epoch: now,
                    opened_at: now,
                    probes_in_flight: 0,
                    probe_successes: 0,
                }),
            }),
        }
    }

    /// The settings.
    pub fn config(&self) -> &BreakerConfig {
        &self.shared.config
    }

    /// The current state. An open breaker whose cool-down has passed reports `HalfOpen`.
    pub fn state(&self) -> BreakerState {
        let st = self.lock();
        match st.state {
            BreakerState::Open
                if st
                    .opened_at
                    .checked_add(self.shared.config.cool_down)
                    .is_some_and(|until| Instant::now() >= until) =>
            {
                BreakerState::HalfOpen
            }
            s => s,
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave the state inconsistent enough to matter.
        self.shared
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Asks to make a call. `Err` carries how long until the next probe may go through.
    pub(crate) fn acquire(&self) -> Result<Permit, Duration> {
        let cfg = &self.shared.config;
        let mut st = self.lock();
        if st.state == BreakerState::Open {
            // The clock is read only when it matters (keeps the closed path cheap).
            let now = Instant::now();
            // Not representable: stays open (cannot happen with the cool-down clamped).
            let Some(until) = st.opened_at.checked_add(cfg.cool_down) else {
                return Err(cfg.cool_down);
            };
            if now < until {
                return Err(until - now);
            }
            Self::transition(&mut st, BreakerState::HalfOpen, "cool-down passed");
        }
        match st.state {
            BreakerState::Closed => Ok(Permit {
                breaker: self.clone(),
                generation: st.generation,
                probe: false,
                done: false,
            }),
            _ => {
                if st.probes_in_flight < cfg.half_open_probes {
                    st.probes_in_flight += 1;
                    Ok(Permit {
                        breaker: self.clone(),
                        generation: st.generation,
                        probe: true,
                        done: false,
                    })
                } else {
                    Err(Duration::ZERO)
                }
            }
        }
    }

    fn transition(st: &mut State, to: BreakerState, why: &str) {
        let from = st.state;
        st.state = to;
        st.generation += 1;
        st.probes_in_flight = 0;
        st.probe_successes = 0;
        let level = match to {
            BreakerState::Closed => 0.0,
            BreakerState::HalfOpen => 1.0,
            BreakerState::Open => 2.0,
        };
        crate::telemetry::breaker(to.as_str(), level);
        match to {
            BreakerState::Open => {
                st.opened_at = Instant::now();
                tracing::warn!(
                    target: "risk_core::breaker",
                    from = from.as_str(), to = to.as_str(), reason = why,
                    "risk API circuit breaker opened: calls are skipped and the error behaviour applies"
                );
            }
            BreakerState::Closed => {
                st.consecutive = 0;
                st.buckets.clear();
                tracing::info!(
                    target: "risk_core::breaker",
                    from = from.as_str(), to = to.as_str(), reason = why,
                    "risk API circuit breaker closed"
                );
            }
            BreakerState::HalfOpen => {
                tracing::info!(
                    target: "risk_core::breaker",
                    from = from.as_str(), to = to.as_str(), reason = why,
                    "risk API circuit breaker half-open: probing"
                );
            }
        }
    }

    /// `at`: when the call started (bucket precision is a tenth of the window, so the start
    /// is as good as the end and saves a clock read).
    fn record(&self, generation: u64, probe: bool, success: bool, at: Instant) {
        let cfg = &self.shared.config;
        let mut st = self.lock();
        if probe {
            if st.generation != generation || st.state != BreakerState::HalfOpen {
                return;
            }
            st.probes_in_flight = st.probes_in_flight.saturating_sub(1);
            if success {
                st.probe_successes += 1;
                if st.probe_successes >= cfg.half_open_probes {
                    Self::transition(&mut st, BreakerState::Closed, "probe succeeded");
                }
            } else {
                Self::transition(&mut st, BreakerState::Open, "probe failed");
            }
            return;
        }
        // A call from an earlier generation (before an open → half-open → closed cycle)
        // says nothing about the new window.
        if st.state != BreakerState::Closed || st.generation != generation {
            return;
        }
        let index = (at.saturating_duration_since(st.epoch).as_nanos()
            / self.shared.bucket_len.as_nanos().max(1)) as u64;
        let oldest = index.saturating_sub(u64::from(BUCKETS) - 1);
        while st.buckets.front().is_some_and(|b| b.index < oldest) {
            st.buckets.pop_front();
        }
        match st.buckets.back_mut() {
            Some(b) if b.index == index => {
                b.calls += 1;
                b.failures += u32::from(!success);
            }
            _ => st.buckets.push_back(Bucket {
                index,
                calls: 1,
                failures: u32::from(!success),
            }),
        }
        if success {
            st.consecutive = 0;
            return;
        }
        st.consecutive += 1;
        if cfg.consecutive_failures > 0 && st.consecutive >= cfg.consecutive_failures {
            Self::transition(&mut st, BreakerState::Open, "consecutive failures");
            return;
        }
        let (calls, failures) = st.buckets.iter().fold((0u64, 0u64), |(c, f), b| {
            (c + u64::from(b.calls), f + u64::from(b.failures))
        });
        if calls >= u64::from(cfg.min_calls.max(1))
            && cfg.failure_rate <= 1.0
            && failures as f64 / calls as f64 >= cfg.failure_rate
        {
            Self::transition(&mut st, BreakerState::Open, "failure rate");
        }
    }

    fn release_probe(&self, generation: u64) {
        let mut st = self.lock();
        if st.generation == generation && st.state == BreakerState::HalfOpen {
            st.probes_in_flight = st.probes_in_flight.saturating_sub(1);
        }
    }
}

/// Permission for one call; report how it went with [`Permit::record`]. Dropping it
/// unrecorded (cancelled call) frees a probe slot without counting.
pub(crate) struct Permit {
    breaker: CircuitBreaker,
    generation: u64,
    probe: bool,
    done: bool,
}

impl Permit {
    /// Counts the call (a neutral one is not counted: dropping the permit frees its probe
    /// slot).
    pub(crate) fn record(mut self, outcome: CallOutcome, started: Instant) {
        let success = match outcome {
            CallOutcome::Success => true,
            CallOutcome::Failure => false,
            CallOutcome::Neutral => return,
        };
        self.done = true;
        self.breaker
            .record(self.generation, self.probe, success, started);
    }
}

impl Drop for Permit {
    fn drop(&mut self) {
        if !self.done && self.probe {
            self.breaker.release_probe(self.generation);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failure_classes() {
        let m = || String::new();
        let failure = |e: Error| outcome_of(&e) == CallOutcome::Failure;
        let neutral = |e: Error| outcome_of(&e) == CallOutcome::Neutral;
        assert!(failure(Error::Timeout {
            after: Duration::from_secs(1)
        }));
        assert!(failure(Error::Server {
            status: 502,
            message: m()
        }));
        assert!(failure(Error::Unauthorized { message: m() }));
        assert!(failure(Error::NotFound { message: m() }));
        // The quota is not an outage, and bad input says nothing about the API.
        assert!(neutral(Error::RateLimited {
            retry_after: None,
            message: m()
        }));
        assert!(neutral(Error::QuotaExhausted {
            retry_after: Duration::from_secs(1)
        }));
        assert!(neutral(Error::BadRequest { message: m() }));
        assert!(neutral(Error::BlacklistedToken { message: m() }));
        assert!(neutral(Error::UnexpectedStatus {
            status: 422,
            message: m()
        }));
    }
}
