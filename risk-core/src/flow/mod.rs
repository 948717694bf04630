//! The decision flow shared by every framework adapter: request facts, the guard, policies,
//! error behaviour and circuit breaker, responses, and the background result reporter.
//!
//! Framework-free: adapters hand in a header lookup ([`HeaderLookup`]), the socket peer and
//! the request's [`ActionDetails`], and turn the [`Decision`] into their own types. Every
//! decision, mapping, default body and status lives here.
//!
//! One protected request:
//! 1. [`Guard::facts`] reads the token (`Result<Token, BadInput>`), correlation id, client
//!    IP and the application's [`ActionDetails`] into [`RequestFacts`];
//! 2. [`Guard::check`] asks the risk API into an [`Evaluation`], lets the [`Policy`] (or the
//!    [`ErrorBehavior`] when the API is unavailable) take a [`Verdict`], and builds the
//!    [`Assessment`] once, with it;
//! 3. the [`Decision`] is either [`Decision::Proceed`] (the assessment for the handler and a
//!    [`PendingReport`]) or [`Decision::Respond`] (a [`ResponseSpec`] to send as it is);
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
//! let facts = guard.facts(&[("x-risk-session-token", "s-1")], None, None);
//! let Decision::Proceed { report, .. } = guard.check(facts).await else {
//!     panic!("a TRUST proceeds");
//! };
//! // ... the handler runs and answers 200, saying who logged in:
//! report.complete(200, Some(&Outcome::success().with_user_id("user-7")));
//!
//! reporter.flush(Duration::from_secs(5)).await.unwrap();
//! assert_eq!(sink.reports()[0].result, ActionResult::Success);
//! # }
//! ```

mod assessment;
mod breaker;
mod clear_user;
mod decision;
mod delivery;
mod error_behavior;
mod evaluation;
mod facts;
mod grpc;
mod guard;
mod limit;
mod metrics;
mod outcome;
mod policy;
mod report;
mod reporter;
mod respond;
mod shadow;
mod verdict;
mod warn_every;

pub use assessment::Assessment;
pub use breaker::{BreakerConfig, BreakerState, CircuitBreaker, MAX_COOL_DOWN};
pub use clear_user::ClearUser;
pub use decision::Decision;
pub use delivery::{Delivered, DeliveryEvent, DeliveryPolicy};
pub use error_behavior::{ErrorBehavior, ErrorBehaviorKind};
pub use evaluation::{AssessmentStatus, Degraded, Evaluation, Unavailable, UnavailableCause};
pub use facts::{
    header_texts, ActionDetails, BadInput, ClaimedUser, ForwardedHeader, HeaderLookup, HeaderNames,
    RequestFacts, Token, TokenProblem, MAX_CORRELATION_ID_LEN, MAX_TOKEN_LEN,
};
pub use grpc::{http_status_of_grpc, GrpcResponder};
pub use guard::{Guard, GuardBuilder, DEFAULT_DEADLINE};
pub use limit::{
    ClientLimit, WhenLimited, DEFAULT_CLIENT_BURST, DEFAULT_CLIENT_PER_MINUTE, DEFAULT_MAX_CLIENTS,
};
pub use outcome::{default_result_for_status, Outcome, ResultMapping};
pub use policy::{DefaultPolicy, MonitorOnly, Policy, RecommendationMap, ScoreThresholds, StepUp};
pub use report::PendingReport;
pub use reporter::{FlushTimeout, ReportDropped, Reporter, ReporterBuilder, ReporterStats};
pub use respond::{DefaultResponder, Responder, ResponseSpec, DEFAULT_RETRY_AFTER};
pub use verdict::{ChallengeDetails, Denial, DenialReason, Verdict, VerdictKind};
