//! The two seams between the decision flow and the API: [`Recommender`] (assess an action)
//! and [`ResultSink`] (report how it ended). [`RiskClient`](crate::RiskClient) implements both;
//! tests and applications can substitute their own.

use async_trait::async_trait;

use crate::error::Error;
use crate::models::{
    ActionResultReport, ActionToken, EvaluateRequest, EvaluateResponse, RiskAnswer,
    TriggerActionRequest,
};

/// Something that can assess an action: the risk API client, or a test double.
#[async_trait]
pub trait Recommender: Send + Sync + 'static {
    /// Triggers the action (session-token mode) and returns its action token.
    async fn trigger_action(&self, request: &TriggerActionRequest) -> Result<ActionToken, Error>;

    /// Fetches the recommendation for an action token. The [`RiskClient`](crate::RiskClient)
    /// reads its decision and leaves the rest of the answer to be decoded when asked for;
    /// a recommender that has a [`RecommendationResponse`](crate::RecommendationResponse)
    /// returns it with `.into()`.
    async fn recommendation(&self, action_token: &ActionToken) -> Result<RiskAnswer, Error>;

    /// Evaluates an entity (an IP address) against the tenant's rules (the guard's
    /// [entity mode](crate::GuardBuilder::evaluate_client_ip)). The default answers that the
    /// recommender cannot (an error the guard treats as an outage).
    async fn evaluate(&self, request: &EvaluateRequest) -> Result<EvaluateResponse, Error> {
        let _ = request;
        Err(Error::UnexpectedStatus {
            status: 501,
            message: "this recommender does not evaluate entities".to_owned(),
        })
    }

    /// Triggers the action and gets its recommendation, in one call when the recommender
    /// can (the [`RiskClient`](crate::RiskClient) asks trigger-action for it). `Err`: no
    /// action was created; `Ok` with an inner `Err`: the action exists, its recommendation
    /// could not be had. The default makes the two calls.
    async fn trigger_with_recommendation(
        &self,
        request: &TriggerActionRequest,
    ) -> Result<(ActionToken, Result<RiskAnswer, Error>), Error> {
        let action_token = self.trigger_action(request).await?;
        let recommendation = self.recommendation(&action_token).await;
        Ok((action_token, recommendation))
    }
}

#[async_trait]
impl<R: Recommender + ?Sized> Recommender for std::sync::Arc<R> {
    async fn trigger_action(&self, request: &TriggerActionRequest) -> Result<ActionToken, Error> {
        (**self).trigger_action(request).await
    }

    async fn recommendation(&self, action_token: &ActionToken) -> Result<RiskAnswer, Error> {
        (**self).recommendation(action_token).await
    }

    async fn trigger_with_recommendation(
        &self,
        request: &TriggerActionRequest,
    ) -> Result<(ActionToken, Result<RiskAnswer, Error>), Error> {
        (**self).trigger_with_recommendation(request).await
    }

    async fn evaluate(&self, request: &EvaluateRequest) -> Result<EvaluateResponse, Error> {
        (**self).evaluate(request).await
    }
}

/// Where action results go: the risk API client, or the application's own durable queue.
#[async_trait]
pub trait ResultSink: Send + Sync + 'static {
    /// Delivers one report. An `Err` that [`Error::is_retryable`] is retried by the reporter.
    async fn report(&self, report: &ActionResultReport) -> Result<(), Error>;
}

#[async_trait]
impl<S: ResultSink + ?Sized> ResultSink for std::sync::Arc<S> {
    async fn report(&self, report: &ActionResultReport) -> Result<(), Error> {
        (**self).report(report).await
    }
}
