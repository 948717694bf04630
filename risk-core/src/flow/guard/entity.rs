//! Entity evaluation: a route with no browser session (a public API, a webhook, a
//! server-to-server call) is protected by evaluating the client's IP address against the
//! tenant's rules, with the answer cached per address.

use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::time::Instant;

use super::upstream::{Answer, AskedWith};
use super::GuardInner;
use crate::flow::evaluation::{AssessmentStatus, Evaluation};
use crate::models::{EvaluateRequest, RecommendationResponse, RiskAnswer};

/// The answers kept per IP address (successful ones only: a DENY is cached, an error never).
pub(super) struct EntityCache {
    answers: moka::future::Cache<IpAddr, RiskAnswer>,
    hits: AtomicU64,
}

impl EntityCache {
    pub(super) fn new(ttl: Duration, capacity: u64) -> Self {
        Self {
            answers: moka::future::Cache::builder()
                .time_to_live(ttl)
                .max_capacity(capacity)
                .build(),
            hits: AtomicU64::new(0),
        }
    }

    pub(super) fn hits(&self) -> u64 {
        self.hits.load(Ordering::Relaxed)
    }
}

impl GuardInner {
    /// The evaluation of `ip`: from the cache, or asked (breaker and deadline included).
    pub(super) async fn evaluate_entity(
        &self,
        cache: &EntityCache,
        ip: IpAddr,
        correlation_id: String,
        start: Instant,
    ) -> Evaluation {
        let evaluation = |correlation_id, status| {
            Evaluation::from_parts(
                self.action_type.clone(),
                correlation_id,
                None,
                status,
                Some(ip),
            )
        };
        if let Some(cached) = cache.answers.get(&ip).await {
            cache.hits.fetch_add(1, Ordering::Relaxed);
            return evaluation(correlation_id, AssessmentStatus::Assessed(cached));
        }
        let permit = match self.breaker_permit() {
            Ok(permit) => permit,
            Err(open) => return evaluation(correlation_id, AssessmentStatus::Unavailable(open)),
        };
        let call = async {
            match self
                .recommender
                .evaluate(&EvaluateRequest::ip(ip.to_string()))
                .await
            {
                Ok(answer) => {
                    let mut rec = RecommendationResponse::new(
                        answer.recommendation.recommendation_type.clone(),
                        0.0,
                    );
                    rec.risk_score = None;
                    rec.recommendation = answer.recommendation;
                    rec.preview_rule = answer.preview_rule;
                    rec.context.ip = Some(ip.to_string());
                    rec.context.action_type = Some(self.action_type.clone());
                    Answer::Recommendation(rec.into())
                }
                Err(e) => Answer::Failed(e),
            }
        };
        let answer = self.within_deadline(start, call).await;
        let (outcome, _, status) = self.map_answer(answer, AskedWith::ClientIp);
        if let Some(p) = permit {
            p.record(outcome, start);
        }
        if let AssessmentStatus::Assessed(rec) = &status {
            cache.answers.insert(ip, rec.clone()).await;
        }
        evaluation(correlation_id, status)
    }
}
