//! Degraded decisions (outage, quota, open breaker, malformed answer) are loud: the first of
//! each kind is logged at WARN with its cause and the route, then at most one WARN per
//! interval, saying how many were decided the same way since the last one.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::flow::evaluation::Degraded;
use crate::flow::warn_every::WarnEvery;

/// One WARN per kind of degraded decision and route per this interval at most.
pub(super) const DEGRADED_WARN_EVERY: Duration = Duration::from_secs(60);

/// Per kind: when the next warning is due, and how many were not logged since the last.
pub(super) struct DegradedLog {
    kinds: [Slot; 4],
}

struct Slot {
    warn: WarnEvery,
    unlogged: AtomicU64,
}

impl DegradedLog {
    pub(super) fn new(every: Duration) -> Self {
        Self {
            kinds: std::array::from_fn(|_| Slot {
                warn: WarnEvery::new(every),
                unlogged: AtomicU64::new(0),
            }),
        }
    }

    /// `Some(n)` when this one is to be logged, `n` being how many of the kind were decided
    /// since the last warning without one; `None` when it is counted for the next summary.
    pub(super) fn due(&self, degraded: Degraded) -> Option<u64> {
        let slot = &self.kinds[match degraded {
            Degraded::Outage => 0,
            Degraded::Quota => 1,
            Degraded::Breaker => 2,
            Degraded::Malformed => 3,
        }];
        if slot.warn.due() {
            Some(slot.unlogged.swap(0, Ordering::Relaxed))
        } else {
            slot.unlogged.fetch_add(1, Ordering::Relaxed);
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn the_first_is_logged_then_one_summary_per_interval_per_kind() {
        let log = DegradedLog::new(Duration::from_secs(60));
        assert_eq!(log.due(Degraded::Malformed), Some(0));
        assert_eq!(log.due(Degraded::Malformed), None);
        assert_eq!(log.due(Degraded::Malformed), None);
        // Another kind has its own first warning.
        assert_eq!(log.due(Degraded::Outage), Some(0));
        tokio::time::advance(Duration::from_secs(61)).await;
        assert_eq!(log.due(Degraded::Malformed), Some(2));
        assert_eq!(log.due(Degraded::Malformed), None);
    }
}
