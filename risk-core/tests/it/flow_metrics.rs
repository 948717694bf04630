//! The metrics, read with a debugging recorder: decisions (allow, deny, challenge, fail-open
//! during an outage), the breaker opening and closing, a retried and a dropped report.
//!
//! The recorder is this thread's (`set_default_local_recorder`): the test's runtime runs the
//! guard, the breaker and the reporter's worker on this thread, and the other tests of this
//! binary record elsewhere.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use metrics_util::debugging::{DebugValue, DebuggingRecorder, Snapshotter};
use risk_core::testing::{RecordingSink, ScriptedRecommender, StaticRecommender};
use risk_core::*;

/// A series: its name and labels.
type Series = (String, Vec<(String, String)>);

/// What the recorder saw so far (its snapshots hand out counters since the last one, so the
/// totals are kept here).
struct Seen {
    snapshotter: Snapshotter,
    counters: Mutex<HashMap<Series, u64>>,
    gauges: Mutex<HashMap<String, f64>>,
}

impl Seen {
    fn read(&self) {
        let mut counters = self.counters.lock().unwrap();
        let mut gauges = self.gauges.lock().unwrap();
        for (key, _, _, value) in self.snapshotter.snapshot().into_vec() {
            let name = key.key().name().to_owned();
            match value {
                DebugValue::Counter(n) => {
                    let labels = key
                        .key()
                        .labels()
                        .map(|l| (l.key().to_owned(), l.value().to_owned()))
                        .collect();
                    *counters.entry((name, labels)).or_default() += n;
                }
                DebugValue::Gauge(g) => {
                    gauges.insert(name, g.into_inner());
                }
                DebugValue::Histogram(_) => {}
            }
        }
    }

    /// The sum of the counter `name` over the series whose labels include `labels`, as of the
    /// last [`read`](Self::read).
    fn counter(&self, name: &str, labels: &[(&str, &str)]) -> u64 {
        self.counters
            .lock()
            .unwrap()
            .iter()
            .filter(|((n, l), _)| {
                n == name
                    && labels
                        .iter()
                        .all(|(k, v)| l.iter().any(|(lk, lv)| lk == k && lv == v))
            })
            .map(|(_, n)| *n)
            .sum()
    }

    fn gauge(&self, name: &str) -> Option<f64> {
        self.gauges.lock().unwrap().get(name).copied()
    }
}

async fn check(guard: &Guard) -> Decision {
    guard
        .check(guard.facts(&[("x-risk-action-token", "at-1")], None, None))
        .await
}

fn named(t: RecommendationType) -> RecommendationResponse {
    let mut rec = RecommendationResponse::new(t, 10.0);
    rec.context.action_type = Some(ActionType::Login);
    rec
}

#[tokio::test(start_paused = true)]
async fn decisions_breaker_and_reports_are_measured() {
    let recorder = DebuggingRecorder::new();
    let seen = Seen {
        snapshotter: recorder.snapshotter(),
        counters: Mutex::default(),
        gauges: Mutex::default(),
    };
    let _local = metrics::set_default_local_recorder(&recorder);
    let decided = |verdict, recommendation, degraded| {
        seen.counter(
            "risk_decisions_total",
            &[
                ("action", "login"),
                ("verdict", verdict),
                ("recommendation", recommendation),
                ("degraded", degraded),
            ],
        )
    };

    // Allow, deny, challenge.
    for t in [
        RecommendationType::Allow,
        RecommendationType::Deny,
        RecommendationType::Challenge,
    ] {
        let guard = Guard::builder(ActionType::Login, StaticRecommender::new(named(t)))
            .build()
            .unwrap();
        drop(check(&guard).await);
    }
    seen.read();
    assert_eq!(decided("proceed", "ALLOW", "none"), 1);
    assert_eq!(decided("deny", "DENY", "none"), 1);
    assert_eq!(decided("challenge", "CHALLENGE", "none"), 1);

    // An outage on a fail-open route, then the breaker opening and closing.
    let script = ScriptedRecommender::new();
    let breaker = CircuitBreaker::new(
        BreakerConfig::default()
            .consecutive_failures(2)
            .cool_down(Duration::from_secs(5)),
    );
    let guard = Guard::builder(ActionType::Login, script.clone())
        .on_error(ErrorBehavior::FailOpen)
        .circuit_breaker(breaker.clone())
        .build()
        .unwrap();
    for _ in 0..2 {
        script.push(
            None,
            Err(Error::Server {
                status: 503,
                message: "down".into(),
            }),
        );
        drop(check(&guard).await);
    }
    seen.read();
    assert_eq!(
        decided("proceed", "none", "outage"),
        2,
        "the fail-open is seen"
    );
    assert_eq!(
        seen.counter("risk_breaker_transitions_total", &[("to", "open")]),
        1
    );
    assert_eq!(seen.gauge("risk_breaker_state"), Some(2.0));
    drop(check(&guard).await);
    seen.read();
    assert_eq!(decided("proceed", "none", "breaker"), 1);
    tokio::time::advance(Duration::from_secs(5)).await;
    script.push(None, Ok(named(RecommendationType::Allow)));
    drop(check(&guard).await);
    seen.read();
    assert_eq!(
        seen.counter("risk_breaker_transitions_total", &[("to", "closed")]),
        1
    );
    assert_eq!(seen.gauge("risk_breaker_state"), Some(0.0));

    // A retried report, then a dropped one (a queue of one, already full).
    let sink = RecordingSink::new();
    sink.fail_next(1);
    let reporter = Reporter::builder(sink.clone())
        .backoff(Duration::from_millis(1), Duration::from_millis(1))
        .build();
    reporter
        .submit(ActionResultReport::new(
            ActionToken::new("at-r"),
            ActionResult::Success,
        ))
        .unwrap();
    reporter.flush(Duration::from_secs(10)).await.unwrap();
    seen.read();
    assert_eq!(
        seen.counter("risk_reports_total", &[("outcome", "retried")]),
        1
    );
    assert_eq!(
        seen.counter("risk_reports_total", &[("outcome", "sent")]),
        1
    );
    let full = Reporter::builder(RecordingSink::new()).capacity(1).build();
    let report = || ActionResultReport::new(ActionToken::new("at-d"), ActionResult::Success);
    let _ = full.submit(report());
    let _ = full.submit(report());
    seen.read();
    assert_eq!(
        seen.counter("risk_reports_total", &[("outcome", "dropped")]),
        1
    );
}
