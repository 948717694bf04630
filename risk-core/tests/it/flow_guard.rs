//! The guard end to end with in-process recommenders: bad input, action-token mode, error
//! behaviours (failing and slow recommenders, paused clock), reports, shadow mode.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use risk_core::testing::{RecordingSink, ScriptedRecommender, StaticRecommender};
use risk_core::*;

use crate::flow_support::Checked;

type Pairs = Vec<(&'static str, String)>;

const WAIT: Duration = Duration::from_secs(30);

fn session(token: &str) -> Vec<(&'static str, String)> {
    vec![("x-risk-session-token", token.to_owned())]
}

fn headers(pairs: &[(&'static str, String)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.clone()))
        .collect()
}

fn server_error() -> Error {
    Error::Server {
        status: 502,
        message: "bad gateway".into(),
    }
}

struct Setup {
    guard: Guard,
    sink: RecordingSink,
    reporter: Reporter,
}

fn setup(
    recommender: impl Recommender,
    configure: impl FnOnce(GuardBuilder) -> GuardBuilder,
) -> Setup {
    let sink = RecordingSink::new();
    let reporter = Reporter::builder(sink.clone())
        .backoff(Duration::from_millis(1), Duration::from_millis(10))
        .build();
    let guard = configure(
        Guard::builder(ActionType::Login, recommender)
            .reporter(reporter.clone())
            .without_circuit_breaker(),
    )
    .build()
    .unwrap();
    Setup {
        guard,
        sink,
        reporter,
    }
}

async fn check(guard: &Guard, pairs: &[(&'static str, String)]) -> Checked {
    guard
        .check(guard.facts(&headers(pairs), None, None))
        .await
        .into()
}

#[tokio::test]
async fn bad_tokens_never_reach_the_recommender() {
    let fake = StaticRecommender::of_type(RecommendationType::Allow, 1.0);
    let s = setup(fake.clone(), |b| b);
    let long = "a".repeat(4 * 1024 + 1);
    let cases: Vec<(Pairs, u16, &str)> = vec![
        (vec![], 401, "missing_session_token"),
        (session(""), 400, "invalid_session_token"),
        (session(&long), 400, "invalid_session_token"),
        (session("tok with space"), 400, "invalid_session_token"),
        (session("tok\u{e9}"), 400, "invalid_session_token"),
        (session("tok\tx"), 400, "invalid_session_token"),
        (
            vec![("x-risk-action-token", String::new())],
            400,
            "invalid_session_token",
        ),
        (
            vec![("x-risk-action-token", "a\u{1}b".into())],
            400,
            "invalid_session_token",
        ),
    ];
    for (pairs, status, error) in cases {
        let d = check(&s.guard, &pairs).await;
        assert_eq!(d.verdict.kind(), VerdictKind::Deny, "{pairs:?}");
        let response = d.response.as_ref().unwrap();
        assert_eq!(response.status, status, "{pairs:?}");
        assert!(response.body.contains(error), "{}", response.body);
        assert!(d.assessment.bad_input().is_some());
        assert!(!d.armed());
    }
    assert_eq!(
        fake.calls(),
        0,
        "the recommender must not be called for bad input"
    );
    s.reporter.flush(WAIT).await.unwrap();
    assert_eq!(s.sink.attempts(), 0, "nothing to report without an action");
}

#[tokio::test]
async fn action_token_mode_makes_one_call() {
    let fake =
        StaticRecommender::of_type(RecommendationType::Allow, 5.0).for_action(ActionType::Login);
    let s = setup(fake.clone(), |b| b);
    let d = check(
        &s.guard,
        &[
            ("x-risk-action-token", "front-end-action-1".into()),
            ("x-risk-session-token", "sess-1".into()),
        ],
    )
    .await;
    assert!(d.verdict.is_proceed());
    assert_eq!(fake.trigger_calls(), 0);
    assert_eq!(fake.recommendation_calls(), 1);
    assert_eq!(
        d.assessment.action_token().map(ActionToken::expose),
        Some("front-end-action-1")
    );
    d.report.unwrap().complete(200, None);
    s.reporter.flush(WAIT).await.unwrap();
    let reports = s.sink.reports();
    assert_eq!(reports.len(), 1);
    assert_eq!(reports[0].action_token.expose(), "front-end-action-1");
    assert_eq!(reports[0].result, ActionResult::Success);
}

#[tokio::test]
async fn session_mode_triggers_with_request_details() {
    let fake = StaticRecommender::of_type(RecommendationType::Trust, 0.0);
    let mut base = CustomAttributes::new();
    base.insert("route".into(), "login".into());
    base.insert("tier".into(), "base".into());
    let s = setup(fake.clone(), |b| {
        b.custom_attributes(base)
            .claimed_user(|h: &dyn HeaderLookup| h.get("x-user").map(ClaimedUser::new))
    });
    let pairs = [
        ("x-risk-session-token", "sess-1".to_owned()),
        ("x-request-id", "req-77".to_owned()),
        ("x-user", "u-9".to_owned()),
    ];
    let details = ActionDetails::new()
        .with_transaction_data(TransactionData::new(12.5, "EUR"))
        .with_custom_attribute("tier", "gold");
    let facts = s.guard.facts(&headers(&pairs), None, Some(&details));
    let d = Checked::from(s.guard.check(facts).await);
    assert!(d.verdict.is_proceed());
    assert_eq!(fake.trigger_calls(), 1);
    assert_eq!(fake.recommendation_calls(), 1);
    let req = &fake.trigger_requests()[0];
    assert_eq!(
        req.session_token.as_ref().map(|t| t.expose()),
        Some("sess-1")
    );
    assert_eq!(req.action_type, ActionType::Login);
    assert_eq!(req.correlation_id.as_deref(), Some("req-77"));
    assert_eq!(req.claimed_user_id.as_deref(), Some("u-9"));
    assert_eq!(req.transaction_data.as_ref().unwrap().amount, Some(12.5));
    let attrs = req.custom_attributes.as_ref().unwrap();
    assert_eq!(attrs["route"], AttributeValue::from("login"));
    assert_eq!(attrs["tier"], AttributeValue::from("gold"));
    assert_eq!(d.assessment.correlation_id(), "req-77");
    d.report.unwrap().disarm();
}

fn unavailable_verdicts(d: &Checked, behavior: ErrorBehaviorKind) {
    assert!(d.assessment.is_unavailable());
    assert_eq!(d.assessment.error_behavior(), Some(behavior));
    match behavior {
        ErrorBehaviorKind::FailOpen => {
            assert!(d.verdict.is_proceed());
            assert!(d.response.is_none());
        }
        ErrorBehaviorKind::FailClosed => {
            let r = d.response.as_ref().unwrap();
            assert_eq!(r.status, 503);
            assert!(r.header("retry-after").is_some());
            assert!(r.body.contains("risk_unavailable"));
        }
        ErrorBehaviorKind::Challenge => {
            assert_eq!(d.verdict.kind(), VerdictKind::Challenge);
            assert_eq!(d.response.as_ref().unwrap().status, 403);
        }
        _ => {
            assert_eq!(d.verdict.kind(), VerdictKind::Deny);
            assert_eq!(d.response.as_ref().unwrap().status, 418);
        }
    }
}

fn behaviors() -> Vec<ErrorBehavior> {
    vec![
        ErrorBehavior::FailOpen,
        ErrorBehavior::FailClosed,
        ErrorBehavior::Challenge,
        ErrorBehavior::custom(|a: &Evaluation| {
            assert!(a.is_unavailable());
            Verdict::Deny(Denial::with_status(
                DenialReason::Custom("teapot".into()),
                418,
            ))
        }),
    ]
}

#[tokio::test(start_paused = true)]
async fn error_behaviors_with_a_failing_recommender() {
    for behavior in behaviors() {
        let kind = behavior.kind();
        let fake = StaticRecommender::failing(server_error);
        let s = setup(fake.clone(), |b| b.on_error(behavior));
        let d = check(&s.guard, &session("sess-1")).await;
        unavailable_verdicts(&d, kind);
        let u = d.assessment.unavailable().unwrap();
        assert_eq!(
            u.cause,
            UnavailableCause::Api {
                kind: "server_error",
                status: Some(502)
            }
        );
        assert_eq!(fake.calls(), 2);
        if let Some(report) = d.report {
            report.complete(200, None);
        }
    }
}

#[tokio::test(start_paused = true)]
async fn error_behaviors_with_a_slow_recommender() {
    for behavior in behaviors() {
        let kind = behavior.kind();
        let fake = StaticRecommender::of_type(RecommendationType::Allow, 1.0)
            .with_delay(Duration::from_secs(60));
        // Two calls: the action token from trigger-action is known before the deadline cuts
        // the slow recommendation (one combined call could not tell it).
        let s = setup(fake.clone(), |b| {
            b.on_error(behavior)
                .deadline(Duration::from_millis(300))
                .single_call(false)
        });
        let started = tokio::time::Instant::now();
        let d = check(&s.guard, &session("sess-1")).await;
        // Paused clock: the deadline, not the slow recommender, ended the check.
        assert_eq!(started.elapsed(), Duration::from_millis(300));
        unavailable_verdicts(&d, kind);
        assert_eq!(
            d.assessment.unavailable().unwrap().cause,
            UnavailableCause::Timeout
        );
        // The action was triggered before the deadline: its token is known.
        assert!(d.assessment.action_token().is_some());
        if let Some(report) = d.report {
            report.disarm();
        }
    }
}

#[tokio::test(start_paused = true)]
async fn fail_closed_reports_incomplete_and_fail_open_reports_the_handler_result() {
    let s = setup(StaticRecommender::failing(server_error), |b| {
        b.on_error(ErrorBehavior::FailClosed)
    });
    let d = check(&s.guard, &session("sess-1")).await;
    assert!(!d.armed());
    assert!(s.sink.wait_for(1, WAIT).await);
    assert_eq!(s.sink.reports()[0].result, ActionResult::Incomplete);

    let s = setup(StaticRecommender::failing(server_error), |b| b);
    let d = check(&s.guard, &session("sess-1")).await;
    assert!(d.verdict.is_proceed());
    d.report.unwrap().complete(201, None);
    assert!(s.sink.wait_for(1, WAIT).await);
    assert_eq!(s.sink.reports()[0].result, ActionResult::Success);
}

#[tokio::test]
async fn rejected_tokens_are_bad_input_not_outages() {
    // A reused action token (463) must not slip through a fail-open route.
    let fake = StaticRecommender::failing(|| Error::BlacklistedToken {
        message: "reused".into(),
    });
    let s = setup(fake.clone(), |b| b.on_error(ErrorBehavior::FailOpen));
    let d = check(&s.guard, &[("x-risk-action-token", "old-token".into())]).await;
    assert_eq!(d.verdict.kind(), VerdictKind::Deny);
    assert_eq!(d.response.as_ref().unwrap().status, 400);
    assert_eq!(
        d.assessment.bad_input(),
        Some(BadInput::InvalidToken(TokenProblem::Rejected {
            status: 463
        }))
    );
    assert_eq!(d.assessment.error_behavior(), None);
}

#[tokio::test]
async fn deny_reports_failure_and_challenge_reports_nothing() {
    let s = setup(
        StaticRecommender::of_type(RecommendationType::Deny, 99.0),
        |b| b,
    );
    let d = check(&s.guard, &session("sess-1")).await;
    assert_eq!(d.verdict.kind(), VerdictKind::Deny);
    assert_eq!(d.response.as_ref().unwrap().status, 403);
    assert!(!d.armed());
    drop(d);
    s.reporter.flush(WAIT).await.unwrap();
    let reports = s.sink.reports();
    assert_eq!(reports.len(), 1);
    assert_eq!(reports[0].result, ActionResult::Failure);

    let s = setup(
        StaticRecommender::of_type(RecommendationType::Challenge, 70.0),
        |b| b,
    );
    let d = check(&s.guard, &session("sess-1")).await;
    assert_eq!(d.verdict.kind(), VerdictKind::Challenge);
    let body: serde_json::Value = serde_json::from_str(&d.response.as_ref().unwrap().body).unwrap();
    assert_eq!(
        body["action_token"].as_str(),
        d.assessment.action_token().map(ActionToken::expose)
    );
    drop(d);
    s.reporter.flush(WAIT).await.unwrap();
    assert_eq!(s.sink.attempts(), 0);
}

#[tokio::test]
async fn dropped_report_is_incomplete() {
    let s = setup(
        StaticRecommender::of_type(RecommendationType::Allow, 1.0),
        |b| b,
    );
    let d = check(&s.guard, &session("sess-1")).await;
    let token = d.assessment.action_token().cloned().unwrap();
    assert!(d.armed());
    // The client went away: the handler's future (holding the report) is dropped.
    drop(d.report);
    s.reporter.flush(WAIT).await.unwrap();
    let reports = s.sink.reports();
    assert_eq!(reports.len(), 1);
    assert_eq!(reports[0].action_token, token);
    assert_eq!(reports[0].result, ActionResult::Incomplete);
}

#[tokio::test]
async fn outcome_overrides_the_status_mapping() {
    let s = setup(
        StaticRecommender::of_type(RecommendationType::Allow, 1.0),
        |b| b,
    );
    let d = check(&s.guard, &session("sess-1")).await;
    // 200 would map to success; the handler says the login failed.
    d.report.unwrap().complete(
        200,
        Some(
            &Outcome::failure()
                .with_user_id("u-1")
                .with_challenge_type(ChallengeType::Totp),
        ),
    );
    let d2 = check(&s.guard, &session("sess-2")).await;
    // Only details: the result comes from the status.
    d2.report
        .unwrap()
        .complete(401, Some(&Outcome::new().with_user_id("u-2")));
    s.reporter.flush(WAIT).await.unwrap();
    let reports = s.sink.reports();
    assert_eq!(reports.len(), 2);
    let first = reports
        .iter()
        .find(|r| r.user_id.as_deref() == Some("u-1"))
        .unwrap();
    assert_eq!(first.result, ActionResult::Failure);
    assert_eq!(first.challenge_type, Some(ChallengeType::Totp));
    let second = reports
        .iter()
        .find(|r| r.user_id.as_deref() == Some("u-2"))
        .unwrap();
    assert_eq!(second.result, ActionResult::Failure);
}

#[tokio::test]
async fn custom_result_mapping_and_responder() {
    let s = setup(
        StaticRecommender::of_type(RecommendationType::Deny, 80.0),
        |b| {
            b.result_mapping(ResultMapping::new(|_| ActionResult::Incomplete))
                .responder(|v: &Verdict, a: &Evaluation| match v {
                    Verdict::Deny(_) => Some(ResponseSpec::json(
                        451,
                        &serde_json::json!({ "nope": a.correlation_id() }),
                    )),
                    _ => None,
                })
        },
    );
    let d = check(&s.guard, &session("sess-1")).await;
    assert_eq!(d.response.as_ref().unwrap().status, 451);
    drop(d);

    // A responder returning None for a denial falls back to the default response.
    let s = setup(
        StaticRecommender::of_type(RecommendationType::Deny, 80.0),
        |b| b.responder(|_: &Verdict, _: &Evaluation| None),
    );
    let d = check(&s.guard, &session("sess-1")).await;
    assert_eq!(d.response.as_ref().unwrap().status, 403);
}

#[tokio::test]
async fn assessment_exposes_the_recommendation() {
    let mut rec = RecommendationResponse::new(RecommendationType::Allow, 17.5);
    rec.reasons = vec![Reason::DeviceNew];
    let s = setup(StaticRecommender::new(rec), |b| b);
    let d = check(&s.guard, &session("sess-1")).await;
    let a = &d.assessment;
    assert_eq!(a.action_type(), &ActionType::Login);
    assert_eq!(a.recommendation_type(), Some(&RecommendationType::Allow));
    assert_eq!(a.risk_score(), Some(17.5));
    assert_eq!(a.reasons(), &[Reason::DeviceNew]);
    assert_eq!(a.verdict().kind(), VerdictKind::Proceed);
    assert_eq!(a.error_behavior(), None);
    assert!(!format!("{a:?}").contains("sess-1"));
    d.report.unwrap().disarm();
}

#[tokio::test(start_paused = true)]
async fn shadow_mode_proceeds_at_once_and_reports_with_the_action_token() {
    let fake = StaticRecommender::of_type(RecommendationType::Deny, 99.0)
        .with_delay(Duration::from_millis(500));
    let s = setup(fake.clone(), |b| b.shadow(true));
    let started = tokio::time::Instant::now();
    let d = check(&s.guard, &session("sess-1")).await;
    assert_eq!(started.elapsed(), Duration::ZERO, "no added latency");
    assert!(d.verdict.is_proceed());
    assert!(d.assessment.is_shadow());
    assert!(d.armed());
    // The handler finishes before the assessment does: nothing to report yet.
    d.report
        .unwrap()
        .complete(200, Some(&Outcome::new().with_user_id("u-1")));
    assert_eq!(s.reporter.stats().queued, 0, "no action token yet");
    assert!(s.sink.wait_for(1, WAIT).await);
    let reports = s.sink.reports();
    assert_eq!(reports[0].result, ActionResult::Success);
    assert_eq!(reports[0].user_id.as_deref(), Some("u-1"));
    assert!(reports[0].action_token.expose().starts_with("test-action-"));
    assert_eq!(fake.recommendation_calls(), 1);

    // The assessment finishes before the handler does: the report is queued by the handler
    // itself, at once.
    let fast = Signalling::new(StaticRecommender::of_type(RecommendationType::Allow, 1.0));
    let s = setup(fast.clone(), |b| b.shadow(true));
    let d = check(&s.guard, &session("sess-2")).await;
    // The shadow task ran to its end (nothing awaits after the recommendation returns).
    fast.answered.notified().await;
    assert_eq!(s.reporter.stats().queued, 0);
    drop(d.report);
    assert_eq!(
        s.reporter.stats().queued,
        1,
        "queued by the handler, not the task"
    );
    assert!(s.sink.wait_for(1, WAIT).await);
    assert_eq!(s.sink.reports()[0].result, ActionResult::Incomplete);
}

/// A recommender that signals each answered recommendation.
#[derive(Clone)]
struct Signalling {
    inner: StaticRecommender,
    answered: Arc<tokio::sync::Notify>,
}

impl Signalling {
    fn new(inner: StaticRecommender) -> Self {
        Self {
            inner,
            answered: Arc::default(),
        }
    }
}

#[async_trait::async_trait]
impl Recommender for Signalling {
    async fn trigger_action(&self, request: &TriggerActionRequest) -> Result<ActionToken, Error> {
        self.inner.trigger_action(request).await
    }

    async fn recommendation(&self, token: &ActionToken) -> Result<RiskAnswer, Error> {
        let answer = self.inner.recommendation(token).await;
        self.answered.notify_one();
        answer
    }
}

#[tokio::test]
async fn shadow_mode_never_refuses_whatever_the_policy() {
    // A DENY under the default policy, and bad input: both proceed in shadow mode.
    let fake = Signalling::new(StaticRecommender::of_type(RecommendationType::Deny, 99.0));
    let s = setup(fake.clone(), |b| {
        b.on_error(ErrorBehavior::FailClosed).shadow(true)
    });
    let d = check(&s.guard, &session("sess-1")).await;
    assert!(d.verdict.is_proceed());
    assert!(d.response.is_none());
    assert!(d.assessment.is_shadow());
    // The evaluation still ran, aside.
    fake.answered.notified().await;
    assert_eq!(fake.inner.recommendation_calls(), 1);
    d.report.unwrap().disarm();
    let d = check(&s.guard, &[]).await;
    assert!(d.verdict.is_proceed());
    assert_eq!(d.assessment.bad_input(), Some(BadInput::MissingToken));
    assert!(!d.armed(), "no action to report on");
}

#[tokio::test]
async fn monitor_only_proceeds_but_still_assesses_and_reports() {
    let fake = StaticRecommender::of_type(RecommendationType::Deny, 99.0);
    let s = setup(fake.clone(), |b| b.policy(MonitorOnly));
    let d = check(&s.guard, &session("sess-1")).await;
    assert!(d.verdict.is_proceed());
    assert_eq!(
        d.assessment.recommendation_type(),
        Some(&RecommendationType::Deny)
    );
    d.report.unwrap().complete(200, None);
    s.reporter.flush(WAIT).await.unwrap();
    assert_eq!(s.sink.reports()[0].result, ActionResult::Success);
    // Bad input proceeds too, and the recommender is still not called.
    let d = check(&s.guard, &[]).await;
    assert!(d.verdict.is_proceed());
    assert_eq!(fake.calls(), 2);
}

#[tokio::test]
async fn every_report_belongs_to_its_action() {
    let s = setup(
        StaticRecommender::of_type(RecommendationType::Allow, 1.0),
        |b| b,
    );
    let mut expected = HashSet::new();
    for i in 0..50 {
        let d = check(&s.guard, &session(&format!("sess-{i}"))).await;
        expected.insert(d.assessment.action_token().cloned().unwrap());
        d.report.unwrap().complete(200, None);
    }
    s.reporter.flush(WAIT).await.unwrap();
    let got: HashSet<_> = s
        .sink
        .reports()
        .into_iter()
        .map(|r| r.action_token)
        .collect();
    assert_eq!(got, expected);
}

#[tokio::test(start_paused = true)]
async fn scripted_recommender_drives_a_sequence() {
    let script = ScriptedRecommender::new()
        .then_ok(RecommendationResponse::new(RecommendationType::Allow, 1.0))
        .then_err(server_error())
        .then_delayed(
            Duration::from_secs(5),
            Ok(RecommendationResponse::new(RecommendationType::Allow, 1.0)),
        );
    let s = setup(script.clone(), |b| b.on_error(ErrorBehavior::FailClosed));
    let kinds = [
        check(&s.guard, &session("a")).await.verdict.kind(),
        check(&s.guard, &session("b")).await.verdict.kind(),
        check(&s.guard, &session("c")).await.verdict.kind(),
    ];
    assert_eq!(
        kinds,
        [VerdictKind::Proceed, VerdictKind::Deny, VerdictKind::Deny]
    );
    assert_eq!(script.remaining(), 0);
    let _ = Arc::new(script);
}

fn for_action(t: ActionType) -> RecommendationResponse {
    let mut rec = RecommendationResponse::new(RecommendationType::Trust, 1.0);
    rec.context.action_type = Some(t);
    rec
}

#[tokio::test]
async fn an_action_token_of_another_action_is_refused() {
    // A harmless `logout` token replayed on a transfer route, even a fail-open one.
    let fake = StaticRecommender::new(for_action(ActionType::Logout));
    let sink = RecordingSink::new();
    let reporter = Reporter::builder(sink.clone()).build();
    let guard = Guard::builder(ActionType::Transaction, fake.clone())
        .reporter(reporter.clone())
        .on_error(ErrorBehavior::FailOpen)
        .build()
        .unwrap();
    let d = check(&guard, &[("x-risk-action-token", "logout-token-1".into())]).await;
    assert_eq!(d.verdict.kind(), VerdictKind::Deny);
    assert_eq!(d.response.as_ref().unwrap().status, 400);
    assert_eq!(
        d.assessment.bad_input(),
        Some(BadInput::InvalidToken(TokenProblem::WrongAction))
    );
    assert_eq!(d.assessment.action_token(), None);
    drop(d);
    reporter.flush(WAIT).await.unwrap();
    assert_eq!(
        sink.attempts(),
        0,
        "nothing reported on another action's token"
    );
    assert_eq!(
        guard.circuit_breaker().unwrap().state(),
        BreakerState::Closed
    );

    // The right action type goes through, with the token kept.
    let guard = Guard::builder(
        ActionType::Transaction,
        StaticRecommender::new(for_action(ActionType::Transaction)),
    )
    .build()
    .unwrap();
    let d = check(&guard, &[("x-risk-action-token", "tx-token-1".into())]).await;
    assert!(d.verdict.is_proceed());
    assert_eq!(
        d.assessment.action_token().map(ActionToken::expose),
        Some("tx-token-1")
    );
    d.report.unwrap().disarm();

    // A recommendation that does not say which action the token is for proves nothing: refused.
    let guard = Guard::builder(
        ActionType::Transaction,
        StaticRecommender::new(RecommendationResponse::new(RecommendationType::Trust, 1.0)),
    )
    .build()
    .unwrap();
    let d = check(&guard, &[("x-risk-action-token", "tx-token-1".into())]).await;
    assert_eq!(d.verdict.status(), Some(400));
    assert_eq!(d.assessment.action_token(), None);
}

#[tokio::test]
async fn action_tokens_can_be_disabled_per_route() {
    let fake = StaticRecommender::of_type(RecommendationType::Allow, 1.0);
    let s = setup(fake.clone(), |b| b.action_tokens(false));
    // Only an action token: ignored, a session token is required.
    let d = check(&s.guard, &[("x-risk-action-token", "at-1".into())]).await;
    assert_eq!(d.assessment.bad_input(), Some(BadInput::MissingToken));
    assert_eq!(d.response.as_ref().unwrap().status, 401);
    assert_eq!(fake.calls(), 0);
    // Both: the session token is used (the guard triggers the action itself).
    let d = check(
        &s.guard,
        &[
            ("x-risk-action-token", "at-1".into()),
            ("x-risk-session-token", "sess-1".into()),
        ],
    )
    .await;
    assert!(d.verdict.is_proceed());
    assert_eq!(fake.trigger_calls(), 1);
    assert_ne!(
        d.assessment.action_token().map(ActionToken::expose),
        Some("at-1")
    );
    d.report.unwrap().disarm();
    // Facts built by hand with an action token: ignored too.
    let d = Checked::from(
        s.guard
            .check(RequestFacts::new(Token::action("at-2")))
            .await,
    );
    assert_eq!(d.assessment.bad_input(), Some(BadInput::MissingToken));
    assert_eq!(fake.calls(), 2, "no further call");
}

#[tokio::test]
async fn not_found_is_an_outage_and_bad_request_a_rejected_token() {
    let breaker = || CircuitBreaker::new(BreakerConfig::default().consecutive_failures(1));
    // 404 (wrong base URL): unavailable, fail open, counts for the breaker.
    let b = breaker();
    let s = setup(
        StaticRecommender::failing(|| Error::NotFound {
            message: "no route".into(),
        }),
        |g| g.circuit_breaker(b.clone()),
    );
    let d = check(&s.guard, &session("sess-1")).await;
    assert!(d.verdict.is_proceed());
    assert!(d.assessment.is_unavailable());
    assert_eq!(b.state(), BreakerState::Open);
    d.report.unwrap().disarm();

    // 400 (garbage token): bad input even on a fail-open route, not a breaker failure,
    // and nothing reported on the refused token.
    let b = breaker();
    let s = setup(
        StaticRecommender::failing(|| Error::BadRequest {
            message: "bad token".into(),
        }),
        |g| {
            g.circuit_breaker(b.clone())
                .on_error(ErrorBehavior::FailOpen)
        },
    );
    let d = check(&s.guard, &session("sess-1")).await;
    assert_eq!(d.verdict.kind(), VerdictKind::Deny);
    assert_eq!(
        d.assessment.bad_input(),
        Some(BadInput::InvalidToken(TokenProblem::Rejected {
            status: 400
        }))
    );
    assert_eq!(d.assessment.action_token(), None);
    assert_eq!(b.state(), BreakerState::Closed);
    drop(d);
    s.reporter.flush(WAIT).await.unwrap();
    assert_eq!(s.sink.attempts(), 0);
}

#[tokio::test]
async fn denials_report_only_what_was_assessed() {
    // A refused action token on a fail-closed route: no report at all.
    let s = setup(
        StaticRecommender::failing(|| Error::BlacklistedToken {
            message: "reused".into(),
        }),
        |b| b.on_error(ErrorBehavior::FailClosed),
    );
    let d = check(&s.guard, &[("x-risk-action-token", "old-token".into())]).await;
    assert_eq!(d.verdict.kind(), VerdictKind::Deny);
    drop(d);
    s.reporter.flush(WAIT).await.unwrap();
    assert_eq!(s.sink.attempts(), 0);

    // An unvalidated action token while the API is down: not reported either.
    let s = setup(StaticRecommender::failing(server_error), |b| {
        b.on_error(ErrorBehavior::FailClosed)
    });
    let d = check(&s.guard, &[("x-risk-action-token", "some-token".into())]).await;
    assert_eq!(d.response.as_ref().unwrap().status, 503);
    assert_eq!(d.assessment.action_token(), None);
    drop(d);
    s.reporter.flush(WAIT).await.unwrap();
    assert_eq!(s.sink.attempts(), 0);
}

#[tokio::test]
async fn an_unrepresentable_deadline_is_no_deadline() {
    let s = setup(
        StaticRecommender::of_type(RecommendationType::Allow, 1.0),
        |b| b.deadline(Duration::MAX),
    );
    let d = check(&s.guard, &session("sess-1")).await;
    assert!(d.verdict.is_proceed());
    d.report.unwrap().disarm();
}

#[tokio::test]
async fn debug_of_a_challenge_decision_hides_the_action_token() {
    let s = setup(
        StaticRecommender::of_type(RecommendationType::Challenge, 70.0),
        |b| b,
    );
    let d = check(&s.guard, &session("sess-1")).await;
    let token = d.assessment.action_token().unwrap().expose().to_owned();
    let response = d.response.as_ref().unwrap();
    assert!(response.body.contains(&token));
    for debug in [format!("{d:?}"), format!("{response:?}")] {
        assert!(!debug.contains(&token), "{debug}");
        assert!(debug.contains("403"), "{debug}");
    }
}

/// Triggers at once (telling the test), then never answers the recommendation.
struct TriggersThenHangs {
    triggered: Arc<tokio::sync::Notify>,
}

#[async_trait::async_trait]
impl Recommender for TriggersThenHangs {
    async fn trigger_action(&self, _: &TriggerActionRequest) -> Result<ActionToken, Error> {
        self.triggered.notify_one();
        Ok(ActionToken::new("act-dropped"))
    }

    async fn recommendation(&self, _: &ActionToken) -> Result<RiskAnswer, Error> {
        std::future::pending().await
    }
}

#[tokio::test]
async fn a_check_dropped_after_trigger_action_reports_incomplete_once() {
    let triggered = Arc::new(tokio::sync::Notify::new());
    let recommender = TriggersThenHangs {
        triggered: Arc::clone(&triggered),
    };
    let s = setup(recommender, |b| {
        b.single_call(false).deadline(Duration::from_secs(3600))
    });
    let guard = s.guard.clone();
    let check = tokio::spawn(async move {
        let facts = guard.facts(&headers(&session("sess-1")), None, None);
        drop(guard.check(facts).await);
    });
    // The client goes away while the recommendation is awaited.
    triggered.notified().await;
    check.abort();
    assert!(check.await.unwrap_err().is_cancelled());
    s.reporter.flush(WAIT).await.unwrap();
    let reports = s.sink.reports();
    assert_eq!(reports.len(), 1, "{reports:?}");
    assert_eq!(reports[0].action_token, ActionToken::new("act-dropped"));
    assert_eq!(reports[0].result, ActionResult::Incomplete);
}

/// Answers from JSON as the `RiskClient` does: the decision read, the rest left for later.
struct FromJson(&'static str);

#[async_trait::async_trait]
impl Recommender for FromJson {
    async fn trigger_action(&self, _: &TriggerActionRequest) -> Result<ActionToken, Error> {
        Ok(ActionToken::new("act-json"))
    }

    async fn recommendation(&self, _: &ActionToken) -> Result<RiskAnswer, Error> {
        RiskAnswer::from_slice(self.0.as_bytes())
    }
}

#[tokio::test]
async fn deciding_never_decodes_more_than_the_decision() {
    // A score policy, a suggested challenge and the action-token check read the decision
    // alone; the rest (with a field that does not decode) waits for the handler.
    const ANSWER: &str = r#"{"id": "r-7", "recommendation": {"type": "ALLOW", "challenge_type": "sms_otp"},
        "risk_score": 75, "reasons": ["DEVICE_NEW"],
        "context": {"action_type": "login", "device_id": {"odd": true}}}"#;
    let s = setup(FromJson(ANSWER), |b| {
        b.policy(ScoreThresholds::new(60.0, 90.0).unwrap())
    });
    for pairs in [
        session("sess-1"),
        vec![("x-risk-action-token", "front-end-action-1".to_owned())],
    ] {
        let d = check(&s.guard, &pairs).await;
        let Verdict::Challenge(details) = &d.verdict else {
            panic!("a score of 75 is challenged: {:?}", d.verdict);
        };
        assert_eq!(details.challenge_type, Some(ChallengeType::SmsOtp));
        assert_eq!(d.assessment.risk_score(), Some(75.0));
        assert_eq!(d.assessment.reasons(), [Reason::DeviceNew]);
        let answer = d.assessment.evaluation().answer().unwrap();
        assert!(!answer.is_decoded(), "deciding decoded the whole answer");
        let full = d.assessment.recommendation().unwrap();
        assert_eq!(full.id, "r-7");
        assert!(full.undecoded.contains_key("context.device_id"));
        assert!(answer.is_decoded());
    }
}
