//! Built-in policies over every recommendation type and score edge; default responses.

use risk_core::VerdictKind::{Challenge as C, Deny as D, Proceed as P};
use risk_core::*;

fn assessed(t: RecommendationType, score: Option<f64>) -> Evaluation {
    let mut rec = RecommendationResponse::new(t, 0.0);
    rec.risk_score = score;
    rec.recommendation.challenge_type = Some(ChallengeType::SmsOtp);
    Evaluation::new(
        ActionType::Login,
        "corr-1",
        AssessmentStatus::Assessed(rec.into()),
    )
    .with_action_token(ActionToken::new("action-token-0001"))
}

fn bad(b: BadInput) -> Evaluation {
    Evaluation::new(ActionType::Login, "corr-1", AssessmentStatus::BadInput(b))
}

fn types() -> Vec<RecommendationType> {
    vec![
        RecommendationType::Trust,
        RecommendationType::Allow,
        RecommendationType::Challenge,
        RecommendationType::Deny,
        RecommendationType::from("REVIEW"),
    ]
}

const SCORES: [Option<f64>; 9] = [
    None,
    Some(f64::NAN),
    Some(0.0),
    Some(59.999),
    Some(60.0),
    Some(60.001),
    Some(89.999),
    Some(90.0),
    Some(100.0),
];

/// What the default policy does per type (score does not matter).
fn default_kind(t: &RecommendationType) -> VerdictKind {
    match t {
        RecommendationType::Trust | RecommendationType::Allow => P,
        RecommendationType::Deny => D,
        _ => C,
    }
}

#[test]
fn default_policy_table() {
    for t in types() {
        for score in SCORES {
            let v = DefaultPolicy.decide(&assessed(t.clone(), score));
            assert_eq!(v.kind(), default_kind(&t), "type {t:?} score {score:?}");
        }
    }
}

#[test]
fn monitor_only_table() {
    for t in types() {
        for score in SCORES {
            assert_eq!(
                MonitorOnly.decide(&assessed(t.clone(), score)).kind(),
                P,
                "type {t:?} score {score:?}"
            );
        }
    }
    assert!(MonitorOnly
        .decide(&bad(BadInput::MissingToken))
        .is_proceed());
    assert!(MonitorOnly
        .decide(&bad(BadInput::InvalidToken(TokenProblem::Malformed)))
        .is_proceed());
}

#[test]
fn score_thresholds_table() {
    let policy = ScoreThresholds::new(60.0, 90.0).unwrap();
    for t in types() {
        for score in SCORES {
            let want = match score {
                // The more severe of the score's verdict and the recommendation's.
                Some(s) if s.is_finite() => {
                    let by_score = if s >= 90.0 {
                        D
                    } else if s >= 60.0 {
                        C
                    } else {
                        P
                    };
                    match (by_score, default_kind(&t)) {
                        (D, _) | (_, D) => D,
                        (C, _) | (_, C) => C,
                        _ => P,
                    }
                }
                // No usable score: the default policy.
                _ => default_kind(&t),
            };
            assert_eq!(
                policy.decide(&assessed(t.clone(), score)).kind(),
                want,
                "type {t:?} score {score:?}"
            );
        }
    }
    // Never more lenient than the recommendation: a low score does not lift a DENY or a
    // CHALLENGE.
    assert_eq!(
        policy
            .decide(&assessed(RecommendationType::Deny, Some(0.0)))
            .kind(),
        D
    );
    assert_eq!(
        policy
            .decide(&assessed(RecommendationType::Challenge, Some(10.0)))
            .kind(),
        C
    );
    assert_eq!(
        policy
            .decide(&assessed(RecommendationType::Challenge, Some(95.0)))
            .kind(),
        D
    );
    // Equal thresholds: nothing challenges.
    let sharp = ScoreThresholds::new(50.0, 50.0).unwrap();
    assert_eq!(
        sharp
            .decide(&assessed(RecommendationType::Allow, Some(50.0)))
            .kind(),
        D
    );
    assert_eq!(
        sharp
            .decide(&assessed(RecommendationType::Allow, Some(49.9)))
            .kind(),
        P
    );
}

#[test]
fn score_thresholds_validation() {
    assert!(ScoreThresholds::new(90.0, 60.0).is_err());
    assert!(ScoreThresholds::new(-1.0, 60.0).is_err());
    assert!(ScoreThresholds::new(10.0, 101.0).is_err());
    assert!(ScoreThresholds::new(f64::NAN, 60.0).is_err());
    assert!(ScoreThresholds::new(0.0, 100.0).is_ok());
}

#[test]
fn recommendation_map_table() {
    let default_map = RecommendationMap::default();
    let lenient = RecommendationMap::default().deny(C).challenge(P).unknown(P);
    let strict = RecommendationMap::default().allow(C).trust(P).unknown(D);
    for t in types() {
        for score in SCORES {
            let a = assessed(t.clone(), score);
            assert_eq!(
                default_map.decide(&a).kind(),
                default_kind(&t),
                "default {t:?}"
            );
            let want_lenient = match t {
                RecommendationType::Deny => C,
                _ => P,
            };
            assert_eq!(lenient.decide(&a).kind(), want_lenient, "lenient {t:?}");
            let want_strict = match t {
                RecommendationType::Trust => P,
                RecommendationType::Allow | RecommendationType::Challenge => C,
                _ => D,
            };
            assert_eq!(strict.decide(&a).kind(), want_strict, "strict {t:?}");
        }
    }
}

#[test]
fn bad_input_for_every_blocking_policy() {
    let policies: Vec<Box<dyn Policy>> = vec![
        Box::new(DefaultPolicy),
        Box::new(ScoreThresholds::new(60.0, 90.0).unwrap()),
        Box::new(RecommendationMap::default()),
    ];
    for p in &policies {
        let v = p.decide(&bad(BadInput::MissingToken));
        assert_eq!(
            v,
            Verdict::Deny(Denial::new(DenialReason::MissingToken)),
            "missing"
        );
        assert_eq!(v.status(), Some(401));
        for problem in [
            TokenProblem::Empty,
            TokenProblem::TooLong { len: 5000 },
            TokenProblem::Malformed,
            TokenProblem::Rejected { status: 463 },
        ] {
            let v = p.decide(&bad(BadInput::InvalidToken(problem)));
            assert_eq!(v.status(), Some(400), "{problem:?}");
        }
    }
}

#[test]
fn challenge_carries_token_and_type() {
    let v = DefaultPolicy.decide(&assessed(RecommendationType::Challenge, Some(70.0)));
    let Verdict::Challenge(details) = v else {
        panic!("expected a challenge")
    };
    assert_eq!(details.status, 403);
    assert_eq!(
        details.action_token.as_ref().map(ActionToken::expose),
        Some("action-token-0001")
    );
    assert_eq!(details.challenge_type, Some(ChallengeType::SmsOtp));
}

#[test]
fn closures_are_policies() {
    let p = |a: &Evaluation| {
        if a.risk_score().unwrap_or(0.0) > 50.0 {
            Verdict::deny(DenialReason::Custom("too risky".into()))
        } else {
            Verdict::Proceed
        }
    };
    assert_eq!(
        p.decide(&assessed(RecommendationType::Allow, Some(51.0)))
            .status(),
        Some(403)
    );
    assert!(p
        .decide(&assessed(RecommendationType::Deny, Some(1.0)))
        .is_proceed());
}

fn body(r: &ResponseSpec) -> serde_json::Value {
    serde_json::from_str(&r.body).unwrap()
}

#[test]
fn default_responses() {
    let a = assessed(RecommendationType::Deny, Some(97.0));
    let deny = DefaultResponder
        .respond(&Verdict::deny(DenialReason::Risk), &a)
        .unwrap();
    assert_eq!(deny.status, 403);
    assert_eq!(deny.header("content-type"), Some("application/json"));
    assert_eq!(deny.header("cache-control"), Some("no-store"));
    let b = body(&deny);
    assert_eq!(b["error"], "access_denied");
    assert_eq!(b["message"], "This action was denied.");
    assert_eq!(b["correlation_id"], "corr-1");
    // No score, no reasons leak.
    assert!(!deny.body.contains("97"));
    assert!(!deny.body.contains("risk_score"));
    assert!(!deny.body.contains("reasons"));

    let challenge = DefaultResponder
        .respond(
            &DefaultPolicy.decide(&assessed(RecommendationType::Challenge, Some(70.0))),
            &a,
        )
        .unwrap();
    assert_eq!(challenge.status, 403);
    let b = body(&challenge);
    assert_eq!(b["error"], "challenge_required");
    assert_eq!(b["action_token"], "action-token-0001");
    assert_eq!(b["challenge_type"], "sms_otp");
    assert_eq!(b["correlation_id"], "corr-1");

    let no_type = DefaultResponder
        .respond(&Verdict::challenge(None), &a)
        .unwrap();
    assert!(body(&no_type)["challenge_type"].is_null());

    let missing = DefaultResponder
        .respond(&Verdict::deny(DenialReason::MissingToken), &a)
        .unwrap();
    assert_eq!(missing.status, 401);
    assert_eq!(body(&missing)["error"], "missing_session_token");

    let invalid = DefaultResponder
        .respond(
            &Verdict::deny(DenialReason::InvalidToken(TokenProblem::Malformed)),
            &a,
        )
        .unwrap();
    assert_eq!(invalid.status, 400);
    assert_eq!(body(&invalid)["error"], "invalid_session_token");

    let unavailable = Evaluation::new(
        ActionType::Login,
        "corr-2",
        AssessmentStatus::Unavailable(
            Unavailable::new(UnavailableCause::CircuitOpen, "open")
                .with_retry_after(Some(std::time::Duration::from_millis(7200))),
        ),
    );
    let closed = DefaultResponder
        .respond(&ErrorBehavior::FailClosed.apply(&unavailable), &unavailable)
        .unwrap();
    assert_eq!(closed.status, 503);
    assert_eq!(body(&closed)["error"], "risk_unavailable");
    assert_eq!(closed.header("retry-after"), Some("8"));
    assert!(
        !closed.body.contains("open"),
        "no internals: {}",
        closed.body
    );

    assert!(DefaultResponder.respond(&Verdict::Proceed, &a).is_none());
}

#[test]
fn result_mapping_table() {
    let m = ResultMapping::default();
    for (status, want) in [
        (200, ActionResult::Success),
        (201, ActionResult::Success),
        (204, ActionResult::Success),
        (302, ActionResult::Success),
        (400, ActionResult::Failure),
        (401, ActionResult::Failure),
        (403, ActionResult::Failure),
        (404, ActionResult::Failure),
        (422, ActionResult::Failure),
        (408, ActionResult::Incomplete),
        (429, ActionResult::Incomplete),
        (500, ActionResult::Incomplete),
        (503, ActionResult::Incomplete),
        (101, ActionResult::Incomplete),
    ] {
        assert_eq!(m.map(status), want, "status {status}");
    }
    assert_eq!(m.dropped(), ActionResult::Incomplete);
}
