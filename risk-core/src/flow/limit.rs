//! Fairness per client: [`ClientLimit`], a keyed limit checked before any upstream call, so
//! that one client (a bot posting garbage tokens, say) cannot spend the tenant's quota.

use std::fmt;
use std::hash::BuildHasher;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use super::facts::RequestFacts;
use super::warn_every::WarnEvery;
use crate::error::ConfigError;

/// Attempts per minute per client by default.
pub const DEFAULT_CLIENT_PER_MINUTE: u32 = 120;

/// Attempts a client may make at once by default.
pub const DEFAULT_CLIENT_BURST: u32 = 30;

/// Clients tracked at most by default (see [`ClientLimit::max_clients`]).
pub const DEFAULT_MAX_CLIENTS: usize = 100_000;

/// Shared buckets used for new clients while the table is full.
const OVERFLOW_BUCKETS: u64 = 4096;

/// How often (in checks) the table is looked at for clients to forget.
const HOUSEKEEPING_EVERY: u64 = 1024;

/// How often at most the "client limited" warning is logged.
const WARN_EVERY: Duration = Duration::from_secs(10);

type KeyFn = dyn Fn(&RequestFacts) -> Option<String> + Send + Sync;

/// What identifies a client for its limit.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum ClientKey {
    Ip(IpAddr),
    Named(String),
    /// The table is full: clients share one of [`OVERFLOW_BUCKETS`] buckets.
    Shared(u64),
}

/// What a client over its limit gets.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum WhenLimited {
    /// 429 with `Retry-After` and a JSON body `{"error":"rate_limited",...}`.
    #[default]
    TooManyRequests,
    /// A challenge (403 `challenge_required`, without an action token).
    Challenge,
}

/// A limit on the assessments one client may cause, checked by the guard before any
/// upstream call: over it, the guard answers at once (429 by default) and the risk API is
/// not called. A request with bad input is answered before the limit (it costs no call).
///
/// Clients are told apart by their IP address (as the guard resolved it, behind trusted
/// proxies) unless [`key_by`](Self::key_by) says otherwise; a request whose key is unknown
/// is not limited. The defaults, 120 attempts per minute with bursts of 30 per client, let a
/// busy office behind one NAT log in (a burst of 30 logins at 9:00, then two per second)
/// while one client can spend at most 1.2 % of the vendor's 10,000 calls per minute. Give
/// the same limit to several guards to share it between their routes.
///
/// Memory is bounded: a client is forgotten as soon as its bucket is full again, and when
/// more than [`max_clients`](Self::max_clients) are remembered at once (a flood from many
/// addresses), new clients share a few thousand buckets by hash until the table shrinks.
///
/// ```
/// use risk_core::{ClientLimit, WhenLimited};
/// let limit = ClientLimit::per_minute(60, 10)?
///     .key_by(|facts| facts.details.claimed_user.as_ref().map(|u| u.id.clone()))
///     .when_limited(WhenLimited::Challenge);
/// # drop(limit);
/// # Ok::<(), risk_core::ConfigError>(())
/// ```
#[derive(Clone)]
pub struct ClientLimit {
    state: Arc<LimitState>,
    key: Option<Arc<KeyFn>>,
    when_limited: WhenLimited,
    max_clients: usize,
}

/// What the clones of a limit share.
struct LimitState {
    limiter: DefaultKeyedRateLimiter<ClientKey>,
    per_minute: u32,
    burst: u32,
    checks: AtomicU64,
    limited: AtomicU64,
    saturated: AtomicBool,
    hasher: std::collections::hash_map::RandomState,
    warn: WarnEvery,
}

impl fmt::Debug for ClientLimit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientLimit")
            .field("per_minute", &self.state.per_minute)
            .field("burst", &self.state.burst)
            .field("when_limited", &self.when_limited)
            .field("max_clients", &self.max_clients)
            .field("custom_key", &self.key.is_some())
            .field("limited", &self.limited())
            .finish()
    }
}

impl Default for ClientLimit {
    fn default() -> Self {
        Self::build(
            NonZeroU32::MIN.saturating_add(DEFAULT_CLIENT_PER_MINUTE - 1),
            NonZeroU32::MIN.saturating_add(DEFAULT_CLIENT_BURST - 1),
        )
    }
}

impl ClientLimit {
    /// `per_minute` attempts per minute per client, `burst` of them at once (both at least 1).
    pub fn per_minute(per_minute: u32, burst: u32) -> Result<Self, ConfigError> {
        let invalid = || ConfigError::InvalidValue {
            setting: "client_limit",
            reason: format!(
                "per_minute ({per_minute}) and burst ({burst}) must both be at least 1"
            ),
        };
        let per_minute = NonZeroU32::new(per_minute).ok_or_else(invalid)?;
        let burst = NonZeroU32::new(burst).ok_or_else(invalid)?;
        Ok(Self::build(per_minute, burst))
    }

    fn build(per_minute: NonZeroU32, burst: NonZeroU32) -> Self {
        let quota = Quota::per_minute(per_minute).allow_burst(burst);
        Self {
            state: Arc::new(LimitState {
                limiter: RateLimiter::keyed(quota),
                per_minute: per_minute.get(),
                burst: burst.get(),
                checks: AtomicU64::new(0),
                limited: AtomicU64::new(0),
                saturated: AtomicBool::new(false),
                hasher: std::collections::hash_map::RandomState::new(),
                warn: WarnEvery::new(WARN_EVERY),
            }),
            key: None,
            when_limited: WhenLimited::default(),
            max_clients: DEFAULT_MAX_CLIENTS,
        }
    }

    /// What identifies a client (default: its IP address). `None`: not limited.
    #[must_use]
    pub fn key_by(
        mut self,
        key: impl Fn(&RequestFacts) -> Option<String> + Send + Sync + 'static,
    ) -> Self {
        self.key = Some(Arc::new(key));
        self
    }

    /// What a client over its limit gets (default [`WhenLimited::TooManyRequests`]).
    #[must_use]
    pub fn when_limited(mut self, when: WhenLimited) -> Self {
        self.when_limited = when;
        self
    }

    /// The most clients remembered at once (default 100,000, about 10 MB).
    #[must_use]
    pub fn max_clients(mut self, max: usize) -> Self {
        self.max_clients = max.max(1);
        self
    }

    /// Requests refused so far.
    pub fn limited(&self) -> u64 {
        self.state.limited.load(Ordering::Relaxed)
    }

    /// The clients remembered now.
    pub fn clients(&self) -> usize {
        self.state.limiter.len()
    }

    pub(crate) fn answer(&self) -> WhenLimited {
        self.when_limited
    }

    /// Counts one attempt of the client of `facts`; `Err` says when it may try again.
    pub(crate) fn check(&self, facts: &RequestFacts) -> Result<(), Duration> {
        let inner = &*self.state;
        let key = match &self.key {
            Some(f) => f(facts).map(ClientKey::Named),
            None => facts.client_ip.map(ClientKey::Ip),
        };
        let Some(mut key) = key else {
            return Ok(());
        };
        let checks = inner.checks.fetch_add(1, Ordering::Relaxed);
        if checks % HOUSEKEEPING_EVERY == HOUSEKEEPING_EVERY - 1 {
            self.housekeeping();
        }
        if inner.saturated.load(Ordering::Relaxed) {
            key = ClientKey::Shared(inner.hasher.hash_one(&key) % OVERFLOW_BUCKETS);
        }
        match inner.limiter.check_key(&key) {
            Ok(()) => Ok(()),
            Err(not_until) => {
                let wait = not_until.wait_time_from(DefaultClock::default().now());
                let limited = inner.limited.fetch_add(1, Ordering::Relaxed) + 1;
                self.warn(limited);
                Err(wait.max(Duration::from_millis(1)))
            }
        }
    }

    /// Forgets clients whose bucket is full again; if the table is still over its bound,
    /// new clients share buckets until it is not.
    fn housekeeping(&self) {
        let inner = &*self.state;
        let max_clients = self.max_clients;
        if inner.limiter.len() <= max_clients {
            inner.saturated.store(false, Ordering::Relaxed);
            return;
        }
        inner.limiter.retain_recent();
        inner.limiter.shrink_to_fit();
        let saturated = inner.limiter.len() > max_clients;
        if saturated && !inner.saturated.swap(true, Ordering::Relaxed) {
            tracing::warn!(
                clients = inner.limiter.len(),
                max_clients,
                "client limit table full: new clients share buckets until it shrinks"
            );
        } else if !saturated {
            inner.saturated.store(false, Ordering::Relaxed);
        }
    }

    fn warn(&self, limited_total: u64) {
        let inner = &*self.state;
        if inner.warn.due() {
            tracing::warn!(
                limited_total,
                per_minute = inner.per_minute,
                burst = inner.burst,
                "clients over their limit were answered without asking the risk API (warning at most every 10 s)"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flow::facts::Token;

    fn from(ip: [u8; 4]) -> RequestFacts {
        RequestFacts::new(Token::session("st-1")).with_client_ip(IpAddr::from(ip))
    }

    #[test]
    fn a_client_gets_its_burst_and_others_are_not_affected() {
        let limit = ClientLimit::per_minute(60, 3).unwrap_or_default();
        for _ in 0..3 {
            assert!(limit.check(&from([10, 0, 0, 1])).is_ok());
        }
        let wait = limit.check(&from([10, 0, 0, 1])).err();
        assert!(wait.is_some_and(|w| w > Duration::ZERO && w <= Duration::from_secs(1)));
        assert!(limit.check(&from([10, 0, 0, 2])).is_ok());
        assert_eq!(limit.limited(), 1);
        // No key, no limit.
        let unknown = RequestFacts::new(Token::session("st-1"));
        for _ in 0..10 {
            assert!(limit.check(&unknown).is_ok());
        }
    }

    #[test]
    fn memory_stays_bounded_under_many_clients() {
        let limit = ClientLimit::per_minute(60, 1)
            .unwrap_or_default()
            .max_clients(2_000);
        for i in 0..50_000u32 {
            let _ = limit.check(&from(i.to_be_bytes()));
        }
        let bound = 2_000 + HOUSEKEEPING_EVERY as usize + OVERFLOW_BUCKETS as usize;
        assert!(limit.clients() <= bound, "{} clients", limit.clients());
    }
}
