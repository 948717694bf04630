//! Statistics (requests, responses and faults per endpoint) and fault injection.
//!
//! The counters are atomics (no lock on the request path): one per endpoint for requests,
//! faults and closed connections, and one per endpoint and status (100 to 599).

use std::sync::atomic::{AtomicU64, Ordering};

use crate::faults::{EndpointStats, FaultAction, FaultSpec, Stats};

use super::{ApiError, EmulatorState, STAT_NAMES};

/// Statuses counted apart: 100 to 599 (anything else is counted as 599).
const STATUSES: std::ops::Range<u16> = 100..600;

#[derive(Debug)]
struct EndpointCounters {
    requests: AtomicU64,
    faults_injected: AtomicU64,
    connections_closed: AtomicU64,
    by_status: Box<[AtomicU64]>,
}

impl Default for EndpointCounters {
    fn default() -> Self {
        Self {
            requests: AtomicU64::new(0),
            faults_injected: AtomicU64::new(0),
            connections_closed: AtomicU64::new(0),
            by_status: STATUSES.map(|_| AtomicU64::new(0)).collect(),
        }
    }
}

impl EndpointCounters {
    fn snapshot(&self) -> EndpointStats {
        let mut e = EndpointStats {
            requests: self.requests.load(Ordering::Relaxed),
            faults_injected: self.faults_injected.load(Ordering::Relaxed),
            connections_closed: self.connections_closed.load(Ordering::Relaxed),
            ..EndpointStats::default()
        };
        for (status, n) in STATUSES.zip(self.by_status.iter()) {
            let n = n.load(Ordering::Relaxed);
            if n > 0 {
                e.by_status.insert(status, n);
            }
        }
        e
    }

    fn clear(&self) {
        for c in [
            &self.requests,
            &self.faults_injected,
            &self.connections_closed,
        ]
        .into_iter()
        .chain(self.by_status.iter())
        {
            c.store(0, Ordering::Relaxed);
        }
    }
}

/// The counters of every endpoint (in [`STAT_NAMES`] order).
#[derive(Debug)]
pub(super) struct Counters([EndpointCounters; STAT_NAMES.len()]);

impl Default for Counters {
    fn default() -> Self {
        Self(std::array::from_fn(|_| EndpointCounters::default()))
    }
}

impl Counters {
    pub(super) fn clear(&self) {
        self.0.iter().for_each(EndpointCounters::clear);
    }
}

impl EmulatorState {
    pub(crate) fn count_request(&self, idx: usize) {
        if let Some(e) = self.stats.0.get(idx) {
            e.requests.fetch_add(1, Ordering::Relaxed);
        }
    }

    pub(crate) fn count_response(&self, idx: usize, status: u16) {
        if let Some(e) = self.stats.0.get(idx) {
            let slot = status.clamp(STATUSES.start, STATUSES.end - 1) - STATUSES.start;
            if let Some(c) = e.by_status.get(usize::from(slot)) {
                c.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    pub(crate) fn count_fault(&self, idx: usize, closed: bool) {
        if let Some(e) = self.stats.0.get(idx) {
            e.faults_injected.fetch_add(1, Ordering::Relaxed);
            if closed {
                e.connections_closed.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    pub(crate) fn stats(&self) -> Stats {
        let mut stats = Stats::default();
        for (name, e) in STAT_NAMES.iter().zip(&self.stats.0) {
            stats.endpoints.insert((*name).to_owned(), e.snapshot());
        }
        stats.tokens_issued = self.tokens_issued.load(Ordering::Relaxed);
        stats.connections_accepted = self.connections.load(Ordering::Relaxed);
        stats.rate_limited = self.rate_limited.load(Ordering::Relaxed);
        stats
    }

    pub(crate) fn set_fault(&self, spec: FaultSpec) -> Result<(), ApiError> {
        spec.validate().map_err(ApiError::bad_request)?;
        let mut f = self.faults.lock();
        f.set(spec);
        self.any_faults.store(true, Ordering::SeqCst);
        Ok(())
    }

    pub(crate) fn clear_faults(&self) {
        let mut f = self.faults.lock();
        f.clear();
        self.any_faults.store(false, Ordering::SeqCst);
    }

    pub(crate) fn take_fault(&self, endpoint: &str) -> Option<FaultAction> {
        if !self.any_faults.load(Ordering::Relaxed) {
            return None;
        }
        let mut f = self.faults.lock();
        let action = f.take(endpoint);
        if f.is_empty() {
            self.any_faults.store(false, Ordering::SeqCst);
        }
        action
    }
}
