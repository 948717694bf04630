//! Choosing the verdict, the response and the report: an [`Evaluation`] becomes a
//! [`Decision`].

use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use super::{record_evaluation, GuardInner};
use crate::flow::assessment::Assessment;
use crate::flow::decision::Decision;
use crate::flow::error_behavior::ErrorBehaviorKind;
use crate::flow::evaluation::{Degraded, Evaluation};
use crate::flow::limit::{ClientLimit, WhenLimited};
use crate::flow::report::PendingReport;
use crate::flow::respond::DefaultResponder;
use crate::flow::shadow::TokenRendezvous;
use crate::flow::verdict::{DenialReason, Verdict};
use crate::models::{ActionResult, ActionResultReport};

impl GuardInner {
    /// The policy decides on an evaluation, the error behaviour on an unavailable API.
    pub(super) fn conclude(
        &self,
        evaluation: Evaluation,
        start: Instant,
        span: &tracing::Span,
    ) -> Decision {
        // Quota: its own behaviour (not an outage); other unavailability: the error behaviour.
        let degraded = evaluation.degraded();
        let behavior = degraded.map(|d| match d {
            Degraded::Quota => &self.on_quota,
            _ => &self.on_error,
        });
        let (verdict, error_behavior) = match behavior {
            Some(behavior) => (behavior.apply(&evaluation), Some(behavior.kind())),
            None => (self.policy.decide(&evaluation), None),
        };
        let latency = start.elapsed();
        if !span.is_disabled() {
            record_evaluation(span, &evaluation, latency);
            span.record("verdict", verdict.kind().as_str());
            if let (Some(degraded), Some(eb)) = (degraded, error_behavior) {
                span.record("error_behavior", eb.as_str());
                span.record("degraded", degraded.as_str());
            }
        }
        match degraded.zip(error_behavior) {
            // Decided without a recommendation: operators must see it, not guess it. The
            // first of each kind at once, then one summary per interval.
            Some((degraded, eb)) => {
                let (cause, detail) = evaluation
                    .unavailable()
                    .map_or(("unknown", ""), |u| (u.cause.as_str(), u.message.as_str()));
                match self.degraded_log.due(degraded) {
                    // `since_last_warning`: how many were decided the same way, unlogged,
                    // since the previous warning of this kind (0 for the first).
                    Some(since_last_warning) => tracing::warn!(
                        parent: span,
                        route = %self.route,
                        degraded = degraded.as_str(),
                        cause,
                        detail,
                        behavior = eb.as_str(),
                        verdict = verdict.kind().as_str(),
                        since_last_warning,
                        "risk check degraded: decided without a recommendation"
                    ),
                    None => tracing::debug!(
                        parent: span,
                        route = %self.route,
                        degraded = degraded.as_str(),
                        cause,
                        behavior = eb.as_str(),
                        verdict = verdict.kind().as_str(),
                        "risk check degraded (counted for the next warning)"
                    ),
                }
            }
            None => {
                tracing::debug!(parent: span, verdict = verdict.kind().as_str(), "risk check done")
            }
        }
        self.respond(evaluation, verdict, error_behavior, latency)
    }

    /// A client over its limit: answered at once, without the policy.
    pub(super) fn conclude_limited(
        &self,
        limit: &ClientLimit,
        evaluation: Evaluation,
        start: Instant,
        span: &tracing::Span,
    ) -> Decision {
        crate::flow::metrics::limited(&self.action_type);
        let verdict = match limit.answer() {
            WhenLimited::Challenge => Verdict::challenge(None),
            _ => Verdict::deny(DenialReason::RateLimited),
        };
        let latency = start.elapsed();
        if !span.is_disabled() {
            span.record("recommendation", "client_limited");
            span.record("verdict", verdict.kind().as_str());
        }
        self.respond(evaluation, verdict, None, latency)
    }

    /// The response for a verdict, the report, and the assessment, built once.
    fn respond(
        &self,
        evaluation: Evaluation,
        verdict: Verdict,
        error_behavior: Option<ErrorBehaviorKind>,
        latency: Duration,
    ) -> Decision {
        let response = match &verdict {
            Verdict::Proceed => None,
            Verdict::Challenge(c) => Some(
                self.responder
                    .respond(&verdict, &evaluation)
                    .unwrap_or_else(|| DefaultResponder::challenge(c, &evaluation)),
            ),
            Verdict::Deny(d) => {
                self.report_denial(&evaluation);
                Some(
                    self.responder
                        .respond(&verdict, &evaluation)
                        .unwrap_or_else(|| DefaultResponder::deny(d, &evaluation)),
                )
            }
        };
        let assessment = Arc::new(Assessment::new(
            evaluation,
            verdict,
            error_behavior,
            latency,
        ));
        self.record_decision(&assessment);
        match response {
            // Challenge: the step-up route reports, with its challenge type.
            Some(response) => Decision::Respond {
                assessment,
                response,
            },
            None => Decision::Proceed {
                report: self.pending_report(&assessment),
                assessment,
            },
        }
    }

    /// Shadow mode: always proceed. `rendezvous` is where the report meets the token of an
    /// evaluation still running; without it, `evaluation` is complete.
    pub(super) fn conclude_shadow(
        &self,
        evaluation: Evaluation,
        rendezvous: Option<Arc<TokenRendezvous>>,
        start: Instant,
        span: &tracing::Span,
    ) -> Decision {
        let latency = start.elapsed();
        if !span.is_disabled() {
            if !evaluation.is_shadow() {
                record_evaluation(span, &evaluation, latency);
            }
            span.record("verdict", Verdict::Proceed.kind().as_str());
        }
        let assessment = Arc::new(Assessment::new(evaluation, Verdict::Proceed, None, latency));
        self.record_decision(&assessment);
        let report = match (rendezvous, &self.reporter) {
            (Some(rendezvous), Some(reporter)) => {
                PendingReport::shadow(rendezvous, self.mapping.clone(), reporter.clone())
            }
            _ => self.pending_report(&assessment),
        };
        Decision::Proceed { assessment, report }
    }

    /// The report of a request that proceeds: armed when there is an action to report on.
    fn pending_report(&self, assessment: &Assessment) -> PendingReport {
        match (assessment.action_token(), &self.reporter) {
            (Some(token), Some(reporter)) => {
                PendingReport::new(token.clone(), self.mapping.clone(), reporter.clone())
            }
            _ => PendingReport::none(),
        }
    }

    /// `risk_decisions_total` and `risk_assessment_duration_seconds` for one request.
    fn record_decision(&self, a: &Assessment) {
        self.metrics.record(
            a.verdict().kind(),
            a.recommendation_type(),
            a.degraded(),
            a.latency().as_secs_f64(),
        );
    }

    /// A denial is reported at once. The evaluation holds a token only when it is valid (a
    /// refused one is dropped). Assessed: the action failed. Unavailable: not evaluated,
    /// says nothing about the user. Bad input: nothing to report on.
    fn report_denial(&self, evaluation: &Evaluation) {
        let (Some(reporter), Some(token)) = (&self.reporter, evaluation.action_token()) else {
            return;
        };
        let result = if evaluation.answer().is_some() {
            ActionResult::Failure
        } else if evaluation.is_unavailable() {
            ActionResult::Incomplete
        } else {
            return;
        };
        // A full queue is counted and warned about by the reporter.
        let _ = reporter.submit(ActionResultReport::new(token.clone(), result));
    }
}
