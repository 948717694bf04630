//! The decision flow shared by every framework adapter: request facts, the guard, policies,
//! error behaviour and circuit breaker, responses, and the background result reporter.
//!
//! Framework-free: adapters hand in a header lookup ([`HeaderLookup`]) and the socket peer,
//! and convert the [`ResponseSpec`] of a [`Decision`] into their own response type. Every
//! decision, mapping, default body and status lives here.
//!
//! One protected request:
//! 1. [`Guard::facts`] reads the token (action-token header first, then session-token
//!    header), correlation id, claimed user, client IP and user agent;
//! 2. the adapter may enrich the facts ([`RequestFacts::with_transaction_data`]...);
//! 3. [`Guard::check`] returns a [`Decision`]: a [`Verdict`], the shared [`Assessment`] for
//!    the handler, a [`ResponseSpec`] for a challenge or denial, and a [`PendingReport`];
//! 4. after the handler, the adapter calls [`PendingReport::complete`] with its status and
//!    the [`Outcome`] the handler attached, if any (or drops it: `incomplete`).
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! use std::time::Duration;
//! use risk_core::*;
//! use risk_core::testing::{RecordingSink, StaticRecommender};
//!
//! let sink = RecordingSink::new();
//! let reporter = Reporter::builder(sink.clone()).build();
//! let guard = Guard::builder(ActionType::Login, StaticRecommender::of_type(RecommendationType::Trust, 3.0))
//!     .reporter(reporter.clone())
//!     .build()
//!     .unwrap();
//!
//! let decision = guard.check(guard.facts(&[("x-risk-session-token", "s-1")], None)).await;
//! assert!(decision.response.is_none());
//! // ... the handler runs and answers 200, saying who logged in:
//! decision.report.complete(200, Some(&Outcome::success().with_user_id("user-7")));
//!
//! reporter.flush(Duration::from_secs(5)).await.unwrap();
//! assert_eq!(sink.reports()[0].result, ActionResult::Success);
//! # }
//! ```

mod assessment;
mod breaker;
mod details;
mod error_behavior;
mod facts;
mod guard;
mod policy;
mod report;
mod reporter;
mod respond;
#[cfg(any(test, feature = "testing"))]
#[cfg_attr(docsrs, doc(cfg(feature = "testing")))]
pub mod testing;
mod verdict;

pub use assessment::{Assessment, AssessmentStatus, BadInput, Unavailable, UnavailableCause};
pub use breaker::{BreakerConfig, BreakerState, CircuitBreaker, MAX_COOL_DOWN};
pub use details::ActionDetails;
pub use error_behavior::{ErrorBehavior, ErrorBehaviorKind};
pub use facts::{
    ClaimedUser, ForwardedHeader, HeaderLookup, HeaderNames, RequestFacts, TokenInput,
    TokenProblem, MAX_CORRELATION_ID_LEN, MAX_TOKEN_LEN,
};
pub use guard::{Guard, GuardBuilder, DEFAULT_DEADLINE};
pub use policy::{DefaultPolicy, MonitorOnly, Policy, RecommendationMap, ScoreThresholds};
pub use report::{default_result_for_status, Outcome, PendingReport, ResultMapping};
pub use reporter::{FlushTimeout, ReportDropped, Reporter, ReporterBuilder, ReporterStats};
pub use respond::{DefaultResponder, Responder, ResponseSpec, DEFAULT_RETRY_AFTER};
#[cfg(any(test, feature = "testing"))]
pub use testing::{NoopSink, RecordingSink, ScriptedRecommender, StaticRecommender};
pub use verdict::{ChallengeDetails, Decision, Denial, DenialReason, Verdict, VerdictKind};
