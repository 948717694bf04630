//! The guard's metrics: `risk_decisions_total`, `risk_assessment_duration_seconds` and
//! `risk_limited_total` (the full list of names and labels is in `telemetry`).

#![cfg_attr(not(feature = "metrics"), allow(unused_variables))]

/// A guard's `risk_decisions_total` and `risk_assessment_duration_seconds`. The handles are
/// registered once per recorder and label combination (3 verdicts × 6 recommendations × 4
/// degraded causes) and then reused: a decision costs two atomic updates, not two key
/// allocations and two registry lookups. The handles belong to the recorder in scope when
/// they were registered; when another one is in scope (a global recorder installed later, a
/// local one in a test), a new set is registered for it. A recorder is told apart by its
/// address: a global recorder lives for ever, but a local one dropped and replaced by another
/// at the same address would be mistaken for it (tests that swap local recorders around one
/// guard should keep each recorder alive while the guard is used).
pub(crate) struct DecisionMetrics {
    #[cfg(feature = "metrics")]
    action: metrics::SharedString,
    #[cfg(feature = "metrics")]
    handles: arc_swap::ArcSwapOption<DecisionHandles>,
}

#[cfg(feature = "metrics")]
const RECOMMENDATIONS: usize = crate::models::RecommendationType::KNOWN.len() + 2;
#[cfg(feature = "metrics")]
const DEGRADED: [Option<super::Degraded>; 5] = {
    use super::Degraded;
    [
        None,
        Some(Degraded::Outage),
        Some(Degraded::Quota),
        Some(Degraded::Breaker),
        Some(Degraded::Malformed),
    ]
};
#[cfg(feature = "metrics")]
const VERDICTS: [super::VerdictKind; 3] = {
    use super::VerdictKind;
    [
        VerdictKind::Proceed,
        VerdictKind::Challenge,
        VerdictKind::Deny,
    ]
};

#[cfg(feature = "metrics")]
struct DecisionHandles {
    /// The recorder these handles were registered with (its address: a global recorder
    /// lives for ever, so an address names one).
    recorder: usize,
    duration: metrics::Histogram,
    decisions: Box<[std::sync::OnceLock<metrics::Counter>]>,
}

impl DecisionMetrics {
    pub(crate) fn new(action: &crate::models::ActionType) -> Self {
        Self {
            #[cfg(feature = "metrics")]
            action: action_label(action),
            #[cfg(feature = "metrics")]
            handles: arc_swap::ArcSwapOption::empty(),
        }
    }

    /// One decision.
    pub(crate) fn record(
        &self,
        verdict: super::VerdictKind,
        recommendation: Option<&crate::models::RecommendationType>,
        degraded: Option<super::Degraded>,
        seconds: f64,
    ) {
        #[cfg(feature = "metrics")]
        {
            let recorder = metrics::with_recorder(|r| std::ptr::from_ref(r).cast::<()>().addr());
            let current = self.handles.load();
            if let Some(handles) = current.as_deref().filter(|h| h.recorder == recorder) {
                self.record_in(handles, verdict, recommendation, degraded, seconds);
            } else {
                drop(current);
                let fresh = DecisionHandles {
                    recorder,
                    duration: metrics::histogram!(
                        "risk_assessment_duration_seconds",
                        "action" => self.action.clone(),
                    ),
                    decisions: (0..VERDICTS.len() * RECOMMENDATIONS * DEGRADED.len())
                        .map(|_| std::sync::OnceLock::new())
                        .collect(),
                };
                self.record_in(&fresh, verdict, recommendation, degraded, seconds);
                self.handles.store(Some(std::sync::Arc::new(fresh)));
            }
        }
    }

    #[cfg(feature = "metrics")]
    fn record_in(
        &self,
        handles: &DecisionHandles,
        verdict: super::VerdictKind,
        recommendation: Option<&crate::models::RecommendationType>,
        degraded: Option<super::Degraded>,
        seconds: f64,
    ) {
        use crate::models::RecommendationType;
        // Indices into VERDICTS, [KNOWN.., other, none] and DEGRADED.
        let v = VERDICTS.iter().position(|k| *k == verdict).unwrap_or(0);
        let r = match recommendation {
            None => RECOMMENDATIONS - 1,
            Some(t) => RecommendationType::KNOWN
                .iter()
                .position(|k| k == t)
                .unwrap_or(RECOMMENDATIONS - 2),
        };
        let d = DEGRADED.iter().position(|k| *k == degraded).unwrap_or(0);
        let Some(slot) = handles
            .decisions
            .get((v * RECOMMENDATIONS + r) * DEGRADED.len() + d)
        else {
            return;
        };
        slot.get_or_init(|| {
            metrics::counter!(
                "risk_decisions_total",
                "action" => self.action.clone(),
                "verdict" => verdict.as_str(),
                "recommendation" => recommendation.map_or("none", |t| t.known_str().unwrap_or("other")),
                "degraded" => degraded.map_or("none", |d| d.as_str()),
            )
        })
        .increment(1);
        handles.duration.record(seconds);
    }
}

/// A client over its limit, answered without the API.
pub(crate) fn limited(action: &crate::models::ActionType) {
    #[cfg(feature = "metrics")]
    metrics::counter!("risk_limited_total", "action" => action_label(action)).increment(1);
}

/// The `action` label: a known action type borrowed, a custom one copied.
#[cfg(feature = "metrics")]
fn action_label(action: &crate::models::ActionType) -> metrics::SharedString {
    match action.known_str() {
        Some(known) => metrics::SharedString::const_str(known),
        None => metrics::SharedString::from(action.as_str().to_owned()),
    }
}

#[cfg(all(test, feature = "metrics"))]
mod tests {
    use metrics_util::debugging::{DebugValue, DebuggingRecorder};

    use super::DecisionMetrics;
    use crate::flow::{Degraded, VerdictKind};
    use crate::models::{ActionType, RecommendationType};

    /// `(labels, count)` of every `risk_decisions_total` series the recorder saw.
    fn decisions(recorder: &DebuggingRecorder) -> Vec<(Vec<String>, u64)> {
        let mut seen: Vec<_> = recorder
            .snapshotter()
            .snapshot()
            .into_vec()
            .into_iter()
            .filter(|(key, ..)| key.key().name() == "risk_decisions_total")
            .map(|(key, _, _, value)| {
                let labels = key
                    .key()
                    .labels()
                    .map(|l| format!("{}={}", l.key(), l.value()));
                let DebugValue::Counter(count) = value else {
                    panic!("a counter")
                };
                (labels.collect(), count)
            })
            .collect();
        seen.sort();
        seen
    }

    fn labels(verdict: &str, recommendation: &str, degraded: &str) -> Vec<String> {
        vec![
            "action=login".to_owned(),
            format!("verdict={verdict}"),
            format!("recommendation={recommendation}"),
            format!("degraded={degraded}"),
        ]
    }

    #[test]
    fn cached_handles_follow_the_recorder_in_scope() {
        let metrics = DecisionMetrics::new(&ActionType::Login);
        let allow = RecommendationType::Allow;
        // No recorder: handles for the no-op recorder are cached, nothing is seen.
        metrics.record(VerdictKind::Proceed, Some(&allow), None, 0.001);

        let first = DebuggingRecorder::new();
        metrics::with_local_recorder(&first, || {
            metrics.record(VerdictKind::Proceed, Some(&allow), None, 0.001);
            metrics.record(VerdictKind::Proceed, Some(&allow), None, 0.001);
            metrics.record(VerdictKind::Proceed, None, Some(Degraded::Outage), 0.001);
        });
        assert_eq!(
            decisions(&first),
            vec![
                (labels("proceed", "ALLOW", "none"), 2),
                (labels("proceed", "none", "outage"), 1),
            ]
        );

        // Another recorder: the cached handles are not reused, its own are registered.
        let second = DebuggingRecorder::new();
        metrics::with_local_recorder(&second, || {
            let other = RecommendationType::from("REVIEW");
            metrics.record(
                VerdictKind::Deny,
                Some(&other),
                Some(Degraded::Quota),
                0.001,
            );
        });
        assert_eq!(
            decisions(&second),
            vec![(labels("deny", "other", "quota"), 1)]
        );
        assert_eq!(decisions(&first).len(), 2, "nothing more went to the first");
    }
}
