//! A warning written at most once per interval, from any number of threads, without a lock.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

// tokio's clock: the time a paused test clock says (the system clock otherwise).
use tokio::time::Instant;

/// Decides when a repeated warning is due: the first time, then at most once per `every`.
pub(crate) struct WarnEvery {
    base: Instant,
    /// Milliseconds since `base` of the last warning, plus one (0: never).
    last: AtomicU64,
    every_ms: u64,
}

impl WarnEvery {
    pub(crate) fn new(every: Duration) -> Self {
        Self {
            base: Instant::now(),
            last: AtomicU64::new(0),
            every_ms: u64::try_from(every.as_millis()).unwrap_or(u64::MAX),
        }
    }

    /// Whether a warning is due now. Of concurrent callers, one gets `true`.
    pub(crate) fn due(&self) -> bool {
        let now = u64::try_from(self.base.elapsed().as_millis()).unwrap_or(u64::MAX - 1) + 1;
        let last = self.last.load(Ordering::Relaxed);
        (last == 0 || now.saturating_sub(last) >= self.every_ms)
            && self
                .last
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_is_due_then_none_within_the_interval() {
        let warn = WarnEvery::new(Duration::from_secs(3600));
        assert!(warn.due());
        assert!(!warn.due());
        let always = WarnEvery::new(Duration::ZERO);
        assert!(always.due());
    }
}
