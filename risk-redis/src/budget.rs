//! [`RedisBudget`]: one GCRA budget for every instance of a tenant.

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use redis::aio::ConnectionManager;
use redis::Script;
use risk_core::{Budget, CallPriority, LocalBudget, DEFAULT_QUOTA_PER_MINUTE};
use tokio::time::Instant;

use crate::connection::{connect, key, redacted};
use crate::{SetupError, DEFAULT_KEY_PREFIX};

/// After a failed Redis call, the local share is used without trying Redis for this long.
const RETRY_REDIS_AFTER: Duration = Duration::from_secs(1);

/// GCRA on Redis's clock (microseconds). KEYS: full-at, paused-until. ARGV: the interval of
/// one call, the room this priority may use. Returns {1, 0} (taken) or {0, wait}.
const ACQUIRE: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local paused = tonumber(redis.call('GET', KEYS[2]) or '0')
if paused > now then return {0, paused - now} end
local interval = tonumber(ARGV[1])
local room = tonumber(ARGV[2])
local full_at = tonumber(redis.call('GET', KEYS[1]) or '0')
if full_at < now then full_at = now end
full_at = full_at + interval
local ahead = full_at - now
if ahead <= room then
  redis.call('SET', KEYS[1], string.format('%d', full_at), 'PX', math.floor(ahead / 1000) + 1000)
  return {1, 0}
end
return {0, ahead - room}
";

/// Pauses every instance: KEYS: paused-until. ARGV: the wait in microseconds.
const PAUSE: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local wait = tonumber(ARGV[1])
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if now + wait > current then
  redis.call('SET', KEYS[1], string.format('%d', now + wait), 'PX', math.floor(wait / 1000) + 1)
end
return 1
";

/// One call budget for every instance of a tenant, on Redis: the same GCRA as
/// [`LocalBudget`] (a burst of a tenth of the quota, refilled so that no minute holds more
/// than the quota, the last fifth of the burst kept for assessments), updated atomically by a
/// Lua script on Redis's own clock, so instances' clocks do not matter. A 429 seen by one
/// instance pauses all of them.
///
/// When Redis does not answer (down, unreachable, slower than 500 ms), the instance uses its
/// local share instead ([`RedisBudgetBuilder::local_share_per_minute`], by default a quarter
/// of the quota: set it to the quota divided by your instance count), logs a warning once,
/// tries Redis again after a second, and logs when it is back. Cheap to clone (a handle).
#[derive(Clone)]
pub struct RedisBudget {
    inner: Arc<Inner>,
}

struct Inner {
    conn: ConnectionManager,
    acquire: Script,
    pause: Script,
    full_at_key: String,
    paused_key: String,
    interval_us: u64,
    burst: u32,
    reserve: u32,
    local: LocalBudget,
    /// Redis failed: the local share until then.
    local_until: Mutex<Option<Instant>>,
    /// A "Redis unreachable" warning was logged and not yet followed by "back".
    warned: AtomicBool,
}

impl fmt::Debug for RedisBudget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisBudget")
            .field("full_at_key", &self.inner.full_at_key)
            .field("burst", &self.inner.burst)
            .field("reserve", &self.inner.reserve)
            .field("local_share", &self.inner.local)
            .field("on_local_share", &self.inner.warned.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

/// Builds a [`RedisBudget`].
#[derive(Clone)]
#[must_use]
pub struct RedisBudgetBuilder {
    url: String,
    prefix: String,
    per_minute: u32,
    burst: Option<(u32, u32)>,
    local_share: Option<u32>,
}

impl fmt::Debug for RedisBudgetBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisBudgetBuilder")
            .field("url", &redacted(&self.url))
            .field("prefix", &self.prefix)
            .field("per_minute", &self.per_minute)
            .field("burst", &self.burst)
            .field("local_share", &self.local_share)
            .finish()
    }
}

impl RedisBudget {
    /// A builder for the Redis at `url` (`redis://host:port/db`).
    pub fn builder(url: impl Into<String>) -> RedisBudgetBuilder {
        RedisBudgetBuilder {
            url: url.into(),
            prefix: DEFAULT_KEY_PREFIX.to_owned(),
            per_minute: DEFAULT_QUOTA_PER_MINUTE,
            burst: None,
            local_share: None,
        }
    }

    /// Whether this instance is on its local share: Redis failed, and has not answered since.
    pub fn on_local_share(&self) -> bool {
        self.inner.warned.load(Ordering::Relaxed)
    }

    /// Whether to use the local share. Once [`RETRY_REDIS_AFTER`] has passed since Redis
    /// failed, one caller tries Redis again while the others stay on the local share until
    /// it answers: a dead Redis costs one request a connection timeout each time, not all
    /// the requests of that moment.
    fn use_local(&self) -> bool {
        let mut until = self
            .inner
            .local_until
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        match *until {
            Some(t) if Instant::now() < t => true,
            Some(_) => {
                // This caller probes; its failure (or success) sets the next state.
                *until = Some(Instant::now() + RETRY_REDIS_AFTER);
                false
            }
            None => false,
        }
    }

    fn redis_failed(&self, error: &redis::RedisError) {
        *self
            .inner
            .local_until
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(Instant::now() + RETRY_REDIS_AFTER);
        if !self.inner.warned.swap(true, Ordering::Relaxed) {
            tracing::warn!(
                error = %error,
                "Redis unreachable: the call budget falls back to this instance's local share"
            );
        }
    }

    fn redis_answered(&self) {
        // Only after a failure is there a local share to leave (one atomic read otherwise).
        if self.inner.warned.swap(false, Ordering::Relaxed) {
            *self
                .inner
                .local_until
                .lock()
                .unwrap_or_else(PoisonError::into_inner) = None;
            tracing::info!("Redis is back: the call budget is shared again");
        }
    }
}

impl RedisBudgetBuilder {
    /// The prefix of the keys (default `risk`): one per tenant sharing a Redis.
    pub fn key_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// The tenant's quota in calls per minute, for the whole fleet (default 10,000).
    pub fn per_minute(mut self, per_minute: u32) -> Self {
        self.per_minute = per_minute;
        self
    }

    /// A burst and reserve of your own (see [`LocalBudget::with_burst`]).
    pub fn burst(mut self, burst: u32, reserve: u32) -> Self {
        self.burst = Some((burst, reserve));
        self
    }

    /// What this instance may spend on its own while Redis is unreachable (default a quarter
    /// of the quota; at least 2 per minute). With N instances, the quota divided by N keeps
    /// the fleet under the tenant's limit.
    pub fn local_share_per_minute(mut self, per_minute: u32) -> Self {
        self.local_share = Some(per_minute);
        self
    }

    /// Checks the settings; the connection is made on first use.
    pub fn build(self) -> Result<RedisBudget, SetupError> {
        let (burst, reserve) = self.burst.unwrap_or_else(|| {
            (
                (self.per_minute / 10).max(1),
                (self.per_minute / 10).max(1) / 5,
            )
        });
        // Checks the settings the way the local budget does.
        LocalBudget::with_burst(self.per_minute, burst, reserve)?;
        let refill = self.per_minute - burst;
        let interval_us = 60_000_000 / u64::from(refill);
        let share = self.local_share.unwrap_or(self.per_minute / 4).max(2);
        Ok(RedisBudget {
            inner: Arc::new(Inner {
                conn: connect(&self.url)?,
                acquire: Script::new(ACQUIRE),
                pause: Script::new(PAUSE),
                full_at_key: key(&self.prefix, "budget:full_at"),
                paused_key: key(&self.prefix, "budget:paused_until"),
                interval_us,
                burst,
                reserve,
                local: LocalBudget::per_minute(share)?,
                local_until: Mutex::new(None),
                warned: AtomicBool::new(false),
            }),
        })
    }
}

#[async_trait]
impl Budget for RedisBudget {
    async fn try_acquire(&self, priority: CallPriority) -> Result<(), Duration> {
        if self.use_local() {
            return self.inner.local.try_acquire(priority).await;
        }
        let inner = &*self.inner;
        let usable = match priority {
            CallPriority::Background => inner.burst - inner.reserve,
            _ => inner.burst,
        };
        let room = inner.interval_us * u64::from(usable);
        let mut conn = inner.conn.clone();
        let answer: Result<(u8, u64), redis::RedisError> = inner
            .acquire
            .key(&inner.full_at_key)
            .key(&inner.paused_key)
            .arg(inner.interval_us)
            .arg(room)
            .invoke_async(&mut conn)
            .await;
        match answer {
            Ok((taken, wait_us)) => {
                self.redis_answered();
                if taken == 1 {
                    Ok(())
                } else {
                    Err(Duration::from_micros(wait_us.max(1)))
                }
            }
            Err(e) => {
                self.redis_failed(&e);
                inner.local.try_acquire(priority).await
            }
        }
    }

    async fn pause(&self, wait: Duration) {
        self.inner.local.pause(wait).await;
        if self.use_local() {
            return;
        }
        let inner = &*self.inner;
        let mut conn = inner.conn.clone();
        let wait_us = u64::try_from(wait.as_micros()).unwrap_or(u64::MAX);
        let done: Result<u8, redis::RedisError> = inner
            .pause
            .key(&inner.paused_key)
            .arg(wait_us)
            .invoke_async(&mut conn)
            .await;
        match done {
            Ok(_) => self.redis_answered(),
            Err(e) => self.redis_failed(&e),
        }
    }

    fn remaining(&self) -> Option<u64> {
        // Known only for the local share (reading Redis here would cost a round trip). Only
        // read: a gauge polled often must not take the slot of the call that probes Redis.
        self.inner
            .warned
            .load(Ordering::Relaxed)
            .then(|| self.inner.local.available())
    }
}
