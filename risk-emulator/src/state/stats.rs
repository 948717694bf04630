//! Statistics (requests, responses and faults per endpoint) and fault injection.

use std::sync::atomic::Ordering;

use crate::faults::{FaultAction, FaultSpec, Stats};

use super::{ApiError, EmulatorState, STAT_NAMES};

impl EmulatorState {
    pub(crate) fn count_request(&self, idx: usize) {
        if let Some(e) = self.stats.lock().get_mut(idx) {
            e.requests += 1;
        }
    }

    pub(crate) fn count_response(&self, idx: usize, status: u16) {
        if let Some(e) = self.stats.lock().get_mut(idx) {
            *e.by_status.entry(status).or_default() += 1;
        }
    }

    pub(crate) fn count_fault(&self, idx: usize, closed: bool) {
        if let Some(e) = self.stats.lock().get_mut(idx) {
            e.faults_injected += 1;
            if closed {
                e.connections_closed += 1;
            }
        }
    }

    pub(crate) fn stats(&self) -> Stats {
        let per = self.stats.lock().clone();
        let mut stats = Stats::default();
        for (name, e) in STAT_NAMES.iter().zip(per) {
            stats.endpoints.insert((*name).to_owned(), e);
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
