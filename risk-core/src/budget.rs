//! The vendor quota as a resource: the [`Budget`] every call to the risk API draws from,
//! and [`LocalBudget`], a GCRA budget in memory.
//!
//! The risk API allows 10,000 calls per minute per tenant (and answers 429 beyond). One
//! budget, on the [`RiskClient`](crate::RiskClient), is shared by every guard, the reporter
//! and admin calls, with assessments first: a background call (a result report, a rule
//! change) may not take the last calls of the burst, which are kept for assessments.

use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use tokio::time::Instant;

use crate::error::ConfigError;

/// The vendor's published limit: calls per minute per tenant.
pub const DEFAULT_QUOTA_PER_MINUTE: u32 = 10_000;

/// The longest a 429 pauses the budget (a `Retry-After` beyond is capped: the vendor's
/// quota is per minute, so no wait can usefully be longer).
pub const MAX_QUOTA_PAUSE: Duration = Duration::from_secs(60);

/// How long a 429 without `Retry-After` pauses the budget.
pub const DEFAULT_QUOTA_PAUSE: Duration = Duration::from_secs(1);

/// Who is asking for a call: assessments come first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CallPriority {
    /// Trigger-action and recommendation calls on a request path: never wait for budget
    /// (the route's quota behaviour applies at once), and may take the whole burst.
    Assessment,
    /// Result reports and admin calls: wait for budget, and leave the reserve to assessments.
    Background,
}

/// The calls the risk API will take, shared by everything that calls it. Implement it to
/// keep the budget outside the process (one budget for a fleet of instances).
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// use risk_core::{Budget, CallPriority, LocalBudget};
/// let budget = LocalBudget::per_minute(10_000).unwrap();
/// assert!(budget.try_acquire(CallPriority::Assessment).await.is_ok());
/// // A 429 from the API: nothing goes out for a while.
/// budget.pause(std::time::Duration::from_secs(2)).await;
/// assert!(budget.try_acquire(CallPriority::Assessment).await.is_err());
/// # }
/// ```
#[async_trait]
pub trait Budget: Send + Sync + 'static {
    /// Takes one call of `priority` now, or says how long until one can be taken.
    async fn try_acquire(&self, priority: CallPriority) -> Result<(), Duration>;

    /// The API answered 429: no call goes out for `wait` (already capped by the caller).
    async fn pause(&self, wait: Duration);

    /// The calls that could be taken at once now, when known (for metrics and logs).
    fn remaining(&self) -> Option<u64> {
        None
    }
}

#[async_trait]
impl<B: Budget + ?Sized> Budget for Arc<B> {
    async fn try_acquire(&self, priority: CallPriority) -> Result<(), Duration> {
        (**self).try_acquire(priority).await
    }

    async fn pause(&self, wait: Duration) {
        (**self).pause(wait).await;
    }

    fn remaining(&self) -> Option<u64> {
        (**self).remaining()
    }
}

/// A budget in this process: GCRA (the token bucket without a timer), a burst of `burst`
/// calls refilled at `per_minute - burst` calls per minute, so that no 60-second window holds
/// more than `per_minute` calls. The last `reserve` calls of the burst go to assessments
/// only. Cheap to clone (a handle). Uses tokio's clock, so paused-clock tests work.
///
/// Defaults for [`per_minute(n)`](Self::per_minute): a burst of a tenth of `n`, a reserve of
/// a fifth of the burst (10,000/min: bursts of 1,000, 200 kept for assessments, refilled at
/// 9,000 per minute).
#[derive(Clone)]
pub struct LocalBudget {
    inner: Arc<Gcra>,
}

struct Gcra {
    /// Time one call takes from the bucket.
    interval: Duration,
    burst: u32,
    reserve: u32,
    state: Mutex<GcraState>,
}

struct GcraState {
    /// When the bucket is full again (the theoretical arrival time).
    full_at: Instant,
    /// A 429 pauses everything until then.
    paused_until: Option<Instant>,
}

impl fmt::Debug for LocalBudget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalBudget")
            .field("interval", &self.inner.interval)
            .field("burst", &self.inner.burst)
            .field("reserve", &self.inner.reserve)
            .field("remaining", &self.remaining())
            .finish()
    }
}

impl LocalBudget {
    /// A budget of `per_minute` calls per minute (at least 2), with the default burst and
    /// reserve.
    pub fn per_minute(per_minute: u32) -> Result<Self, ConfigError> {
        let burst = (per_minute / 10).max(1);
        Self::with_burst(per_minute, burst, burst / 5)
    }

    /// A budget of `per_minute` calls per minute, of which `burst` may go at once, the last
    /// `reserve` of them to assessments only. Needs `0 < burst < per_minute` and
    /// `reserve < burst`.
    pub fn with_burst(per_minute: u32, burst: u32, reserve: u32) -> Result<Self, ConfigError> {
        let invalid = |reason: String| ConfigError::InvalidValue {
            setting: "quota",
            reason,
        };
        if burst == 0 || burst >= per_minute {
            return Err(invalid(format!(
                "the burst ({burst}) must be more than 0 and less than the calls per minute ({per_minute})"
            )));
        }
        if reserve >= burst {
            return Err(invalid(format!(
                "the reserve ({reserve}) must be less than the burst ({burst})"
            )));
        }
        let refill = per_minute - burst;
        Ok(Self {
            inner: Arc::new(Gcra {
                interval: Duration::from_secs(60) / refill,
                burst,
                reserve,
                state: Mutex::new(GcraState {
                    full_at: Instant::now(),
                    paused_until: None,
                }),
            }),
        })
    }

    fn lock(&self) -> MutexGuard<'_, GcraState> {
        self.inner
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// The calls that could go at once now.
    pub fn available(&self) -> u64 {
        let now = Instant::now();
        let state = self.lock();
        if state.paused_until.is_some_and(|until| now < until) {
            return 0;
        }
        let used = state.full_at.saturating_duration_since(now);
        let used_calls = used
            .as_nanos()
            .div_ceil(self.inner.interval.as_nanos().max(1));
        u64::from(self.inner.burst).saturating_sub(u64::try_from(used_calls).unwrap_or(u64::MAX))
    }
}

#[async_trait]
impl Budget for LocalBudget {
    async fn try_acquire(&self, priority: CallPriority) -> Result<(), Duration> {
        let g = &*self.inner;
        let now = Instant::now();
        let mut state = self.lock();
        if let Some(until) = state.paused_until {
            if now < until {
                return Err(until - now);
            }
            state.paused_until = None;
        }
        // Calls of this priority may fill the bucket up to `room` intervals ahead of now.
        let usable = match priority {
            CallPriority::Assessment => g.burst,
            CallPriority::Background => g.burst - g.reserve,
        };
        let room = g.interval * usable;
        let full_at = state.full_at.max(now) + g.interval;
        let ahead = full_at - now;
        if ahead <= room {
            state.full_at = full_at;
            drop(state);
            // What `available` would say, from what is already in hand (no second lock).
            let used_calls = ahead.as_nanos().div_ceil(g.interval.as_nanos().max(1));
            crate::telemetry::quota_remaining(
                u64::from(g.burst).saturating_sub(u64::try_from(used_calls).unwrap_or(u64::MAX)),
            );
            Ok(())
        } else {
            Err(ahead - room)
        }
    }

    async fn pause(&self, wait: Duration) {
        let until = Instant::now() + wait.min(MAX_QUOTA_PAUSE);
        let mut state = self.lock();
        if state.paused_until.is_none_or(|current| current < until) {
            state.paused_until = Some(until);
        }
    }

    fn remaining(&self) -> Option<u64> {
        Some(self.available())
    }
}

#[cfg(test)]
#[expect(clippy::expect_used, reason = "tests")]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn bursts_refills_and_keeps_the_reserve_for_assessments() {
        // 120/min: burst 12 (reserve 2), refill 108/min (one every 555 ms).
        let budget = LocalBudget::per_minute(120).unwrap_or_else(|e| panic!("{e}"));
        for _ in 0..10 {
            assert!(budget.try_acquire(CallPriority::Background).await.is_ok());
        }
        let wait = budget
            .try_acquire(CallPriority::Background)
            .await
            .expect_err("the reserve is for assessments");
        assert!(wait > Duration::ZERO);
        assert!(budget.try_acquire(CallPriority::Assessment).await.is_ok());
        assert!(budget.try_acquire(CallPriority::Assessment).await.is_ok());
        let wait = budget
            .try_acquire(CallPriority::Assessment)
            .await
            .expect_err("the burst is spent");
        assert_eq!(budget.available(), 0);
        tokio::time::advance(wait).await;
        assert!(budget.try_acquire(CallPriority::Assessment).await.is_ok());
        // A minute later the bucket is full again; never more than 120 in any minute.
        tokio::time::advance(Duration::from_secs(60)).await;
        assert_eq!(budget.available(), 12);
        let mut taken = 0;
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(60) {
            if budget.try_acquire(CallPriority::Assessment).await.is_ok() {
                taken += 1;
            } else {
                tokio::time::advance(Duration::from_millis(10)).await;
            }
        }
        assert!(taken <= 120, "{taken} calls in one minute");
        assert!(taken >= 115, "{taken} calls in one minute");
    }

    #[tokio::test(start_paused = true)]
    async fn a_pause_holds_every_call_and_is_capped() {
        let budget = LocalBudget::per_minute(10_000).unwrap_or_else(|e| panic!("{e}"));
        budget.pause(Duration::from_secs(3600)).await;
        let wait = budget
            .try_acquire(CallPriority::Assessment)
            .await
            .expect_err("paused");
        assert_eq!(wait, MAX_QUOTA_PAUSE);
        assert_eq!(budget.remaining(), Some(0));
        tokio::time::advance(MAX_QUOTA_PAUSE).await;
        assert!(budget.try_acquire(CallPriority::Assessment).await.is_ok());
    }

    #[test]
    fn settings_are_checked() {
        assert!(LocalBudget::per_minute(1).is_err());
        assert!(LocalBudget::with_burst(100, 100, 0).is_err());
        assert!(LocalBudget::with_burst(100, 10, 10).is_err());
        assert!(LocalBudget::with_burst(100, 10, 9).is_ok());
    }
}
