//! The outcome of [`Guard::check`](crate::Guard::check): a [`Decision`].

use std::sync::Arc;

use super::assessment::Assessment;
use super::report::PendingReport;
use super::respond::ResponseSpec;
use super::verdict::VerdictKind;

/// What to do with one request: pass it on to the handler, or answer it. The shape of
/// tower-http's `async_require_authorization` (`Result<Request, Response>`): an adapter
/// matches two arms and has nothing else to decide.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// use risk_core::*;
/// use risk_core::testing::StaticRecommender;
///
/// let guard = Guard::builder(ActionType::Login, StaticRecommender::of_type(RecommendationType::Deny, 97.0))
///     .build()
///     .unwrap();
/// match guard.check(RequestFacts::new(Token::session("st-1"))).await {
///     Decision::Proceed { assessment, report } => {
///         // put `assessment` into the request extensions, call the handler, then:
///         report.complete(200, None);
///     }
///     Decision::Respond { response, .. } => assert_eq!(response.status, 403),
/// }
/// # }
/// ```
#[derive(Debug)]
#[must_use = "a decision must be acted on: call the handler or send the response"]
pub enum Decision {
    /// Call the handler.
    Proceed {
        /// For the handler: put it into the request extensions.
        assessment: Arc<Assessment>,
        /// Complete it with the handler's response status (or drop it: `incomplete` is
        /// reported). Sends nothing when there is no action to report on.
        report: PendingReport,
    },
    /// Answer with `response` (a challenge or a denial) without calling the handler. The
    /// guard already reported what there was to report.
    Respond {
        /// The assessment (for logs and tests).
        assessment: Arc<Assessment>,
        /// The response, converted 1:1 by the adapter.
        response: ResponseSpec,
    },
}

impl Decision {
    /// The assessment, whichever the arm.
    pub fn assessment(&self) -> &Arc<Assessment> {
        match self {
            Self::Proceed { assessment, .. } | Self::Respond { assessment, .. } => assessment,
        }
    }

    /// The kind of verdict taken.
    pub fn verdict_kind(&self) -> VerdictKind {
        self.assessment().verdict().kind()
    }

    /// Whether the request goes on to the handler.
    pub fn is_proceed(&self) -> bool {
        matches!(self, Self::Proceed { .. })
    }

    /// The response, when the request is answered without the handler.
    pub fn response(&self) -> Option<&ResponseSpec> {
        match self {
            Self::Proceed { .. } => None,
            Self::Respond { response, .. } => Some(response),
        }
    }
}
