//! `init_service` / `call_service` tests of the middleware, the extractor and the reporting,
//! against risk-core's in-process test doubles (no network).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceRequest, ServiceResponse};
use actix_web::http::header::HeaderValue;
use actix_web::http::StatusCode;
use actix_web::{test, web, App, HttpRequest, HttpResponse};
use async_trait::async_trait;
use risk_actix::{RiskAssessment, RiskExt, RiskMiddleware, RiskResponseExt};
use risk_core::testing::{RecordingSink, StaticRecommender};
use risk_core::{
    ActionResult, ActionToken, ActionType, ChallengeType, ErrorBehavior, Guard, Outcome,
    RecommendationResponse, RecommendationType, Recommender, Reporter, ResponseSpec, RiskAnswer,
    TriggerActionRequest, Verdict,
};
use serde_json::{json, Value};

const FLUSH: Duration = Duration::from_secs(5);

fn reporter() -> (Reporter, RecordingSink) {
    let sink = RecordingSink::new();
    (Reporter::builder(sink.clone()).build(), sink)
}

fn guard(action: ActionType, rec: impl Recommender, reporter: &Reporter) -> Guard {
    Guard::builder(action, rec)
        .reporter(reporter.clone())
        .build()
        .unwrap()
}

/// Echoes what the handler saw of the assessment.
async fn echo(risk: RiskAssessment) -> HttpResponse {
    HttpResponse::Ok().json(json!({
        "correlation_id": risk.correlation_id(),
        "risk_score": risk.risk_score(),
        "recommendation": risk.recommendation_type().map(|t| t.as_str()),
        "unavailable": risk.is_unavailable(),
        "client_ip": risk.client_ip().map(|ip| ip.to_string()),
    }))
}

fn session(token: &str) -> test::TestRequest {
    test::TestRequest::post()
        .uri("/login")
        .insert_header(("x-risk-session-token", token))
}

fn header<B>(res: &ServiceResponse<B>, name: &str) -> String {
    res.headers()
        .get(name)
        .unwrap_or_else(|| panic!("no {name} header"))
        .to_str()
        .unwrap()
        .to_owned()
}

async fn json_body<B: MessageBody>(res: ServiceResponse<B>) -> Value {
    let body = test::read_body(res).await;
    serde_json::from_slice(&body).unwrap()
}

#[actix_web::test]
async fn allow_and_trust_proceed_with_the_assessment_and_report_success() {
    for (t, score) in [
        (RecommendationType::Allow, 12.0),
        (RecommendationType::Trust, 3.0),
    ] {
        let (reporter, sink) = reporter();
        let fake = StaticRecommender::of_type(t.clone(), score);
        let app = test::init_service(
            App::new().service(
                web::resource("/login")
                    .wrap(RiskMiddleware::new(guard(
                        ActionType::Login,
                        fake.clone(),
                        &reporter,
                    )))
                    .route(web::post().to(echo)),
            ),
        )
        .await;

        let res = test::call_service(
            &app,
            session("s-1")
                .insert_header(("x-request-id", "req-1"))
                .to_request(),
        )
        .await;
        assert_eq!(res.status(), StatusCode::OK);
        let body = json_body(res).await;
        assert_eq!(body["correlation_id"], "req-1");
        assert_eq!(body["risk_score"], score);
        assert_eq!(body["recommendation"], t.as_str());
        assert_eq!(fake.trigger_calls(), 1);
        assert_eq!(fake.recommendation_calls(), 1);

        reporter.flush(FLUSH).await.unwrap();
        let reports = sink.reports();
        assert_eq!(reports.len(), 1);
        assert_eq!(reports[0].result, ActionResult::Success);
    }
}

#[actix_web::test]
async fn challenge_answers_403_with_the_action_token_and_skips_the_handler() {
    let (reporter, sink) = reporter();
    let mut rec = RecommendationResponse::new(RecommendationType::Challenge, 61.0);
    rec.recommendation.challenge_type = Some(ChallengeType::SmsOtp);
    let fake = StaticRecommender::new(rec);
    let app = test::init_service(
        App::new().service(
            web::resource("/login")
                .wrap(RiskMiddleware::new(guard(
                    ActionType::Login,
                    fake,
                    &reporter,
                )))
                .route(web::post().to(|| async { HttpResponse::InternalServerError().finish() })),
        ),
    )
    .await;

    let res = test::call_service(&app, session("s-1").to_request()).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(header(&res, "content-type"), "application/json");
    assert_eq!(header(&res, "cache-control"), "no-store");
    let body = json_body(res).await;
    assert_eq!(body["error"], "challenge_required");
    assert_eq!(body["challenge_type"], "sms_otp");
    assert!(body["action_token"]
        .as_str()
        .unwrap()
        .starts_with("test-action-"));
    assert!(body.get("risk_score").is_none(), "no score leaks: {body}");

    // The step-up route reports a challenge, not this one.
    reporter.flush(FLUSH).await.unwrap();
    assert!(sink.is_empty());
}

#[actix_web::test]
async fn deny_answers_403_and_the_guard_reports_a_failure() {
    let (reporter, sink) = reporter();
    let fake = StaticRecommender::of_type(RecommendationType::Deny, 97.0);
    let handler_ran = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let ran = handler_ran.clone();
    let app = test::init_service(
        App::new().service(
            web::resource("/login")
                .wrap(RiskMiddleware::new(guard(
                    ActionType::Login,
                    fake,
                    &reporter,
                )))
                .route(web::post().to(move || {
                    ran.store(true, std::sync::atomic::Ordering::SeqCst);
                    async { HttpResponse::Ok().finish() }
                })),
        ),
    )
    .await;

    let res = test::call_service(
        &app,
        session("s-1")
            .insert_header(("x-request-id", "r-9"))
            .to_request(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let body = json_body(res).await;
    assert_eq!(
        body,
        json!({"error": "access_denied", "message": "This action was denied.", "correlation_id": "r-9"})
    );
    assert!(!handler_ran.load(std::sync::atomic::Ordering::SeqCst));

    reporter.flush(FLUSH).await.unwrap();
    let reports = sink.reports();
    assert_eq!(reports.len(), 1);
    assert_eq!(reports[0].result, ActionResult::Failure);
}

#[actix_web::test]
async fn missing_and_malformed_tokens_are_refused_without_an_upstream_call() {
    let (reporter, sink) = reporter();
    let fake = StaticRecommender::of_type(RecommendationType::Allow, 1.0);
    let app = test::init_service(
        App::new().service(
            web::resource("/login")
                .wrap(RiskMiddleware::new(guard(
                    ActionType::Login,
                    fake.clone(),
                    &reporter,
                )))
                .route(web::post().to(echo)),
        ),
    )
    .await;

    let res = test::call_service(&app, test::TestRequest::post().uri("/login").to_request()).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(json_body(res).await["error"], "missing_session_token");

    for bad in ["", "   ", "tok\u{e9}n", "a\tb", &"a".repeat(5000)] {
        let value = HeaderValue::from_bytes(bad.as_bytes()).unwrap();
        let req = test::TestRequest::post()
            .uri("/login")
            .insert_header(("x-risk-session-token", value))
            .to_request();
        let res = test::call_service(&app, req).await;
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "token {bad:?}");
        assert_eq!(json_body(res).await["error"], "invalid_session_token");
    }
    // A malformed action token is refused too (it wins over a valid session token).
    let res = test::call_service(
        &app,
        session("s-1")
            .insert_header(("x-risk-action-token", "a b"))
            .to_request(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);

    assert_eq!(fake.calls(), 0);
    reporter.flush(FLUSH).await.unwrap();
    assert!(sink.is_empty());
}

#[actix_web::test]
async fn an_action_token_makes_one_upstream_call() {
    let (reporter, sink) = reporter();
    let fake =
        StaticRecommender::of_type(RecommendationType::Allow, 5.0).for_action(ActionType::Login);
    let app = test::init_service(
        App::new()
            .wrap(RiskMiddleware::new(guard(
                ActionType::Login,
                fake.clone(),
                &reporter,
            )))
            .route("/login", web::post().to(echo)),
    )
    .await;
    let req = test::TestRequest::post()
        .uri("/login")
        .insert_header(("x-risk-action-token", "at-given"))
        .to_request();
    assert_eq!(test::call_service(&app, req).await.status(), StatusCode::OK);
    assert_eq!(fake.trigger_calls(), 0);
    assert_eq!(fake.recommendation_calls(), 1);

    reporter.flush(FLUSH).await.unwrap();
    assert_eq!(sink.reports()[0].action_token, ActionToken::new("at-given"));
}

#[actix_web::test]
async fn extractor_without_the_middleware_names_it() {
    let app = test::init_service(App::new().route("/strict", web::get().to(echo)).route(
        "/optional",
        web::get().to(|risk: Option<RiskAssessment>| async move {
            HttpResponse::Ok().body(format!("present={}", risk.is_some()))
        }),
    ))
    .await;

    let res = test::call_service(&app, test::TestRequest::get().uri("/strict").to_request()).await;
    assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let body = test::read_body(res).await;
    assert_eq!(
        std::str::from_utf8(&body).unwrap(),
        "risk assessment missing: is `RiskMiddleware` wrapping this route?"
    );

    let res =
        test::call_service(&app, test::TestRequest::get().uri("/optional").to_request()).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(test::read_body(res).await, "present=false");
}

#[actix_web::test]
async fn option_extractor_and_risk_ext_see_the_assessment_under_the_middleware() {
    let (reporter, _sink) = reporter();
    let fake = StaticRecommender::of_type(RecommendationType::Allow, 7.0);
    let app =
        test::init_service(
            App::new().service(
                web::resource("/login")
                    // Inner: runs after RiskMiddleware, sees the ServiceRequest extension.
                    .wrap_fn(|req: ServiceRequest, srv| {
                        let seen = req.risk_assessment().map(|a| a.risk_score());
                        let fut = srv.call(req);
                        async move {
                            let mut res = fut.await?;
                            res.headers_mut().insert(
                                actix_web::http::header::HeaderName::from_static("x-seen"),
                                actix_web::http::header::HeaderValue::from_str(&format!(
                                    "{seen:?}"
                                ))
                                .unwrap(),
                            );
                            Ok(res)
                        }
                    })
                    .wrap(RiskMiddleware::new(guard(
                        ActionType::Login,
                        fake,
                        &reporter,
                    )))
                    .route(
                        web::post().to(
                            |req: HttpRequest,
                             opt: Option<RiskAssessment>,
                             strict: RiskAssessment| async move {
                                let via_ext = req.risk_assessment().unwrap();
                                let opt = opt.unwrap();
                                assert!(Arc::ptr_eq(&via_ext, &opt.0));
                                assert!(Arc::ptr_eq(&via_ext, &strict.into_inner()));
                                HttpResponse::Ok().body(via_ext.correlation_id().to_owned())
                            },
                        ),
                    ),
            ),
        )
        .await;

    let res = test::call_service(
        &app,
        session("s-1")
            .insert_header(("x-request-id", "abc"))
            .to_request(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(header(&res, "x-seen"), "Some(Some(7.0))");
    assert_eq!(test::read_body(res).await, "abc");
}

#[actix_web::test]
async fn the_outcome_the_handler_attaches_overrides_the_status_mapping() {
    let (reporter, sink) = reporter();
    let fake = StaticRecommender::of_type(RecommendationType::Allow, 10.0);
    let app = test::init_service(
        App::new().service(
            web::resource("/login")
                .wrap(RiskMiddleware::new(guard(
                    ActionType::Login,
                    fake,
                    &reporter,
                )))
                .route(web::post().to(|| async {
                    // A 401 would map to `failure`; the handler knows better.
                    HttpResponse::Unauthorized().finish().with_risk_outcome(
                        Outcome::success()
                            .with_user_id("user-7")
                            .with_challenge_type(ChallengeType::Totp),
                    )
                })),
        ),
    )
    .await;

    let res = test::call_service(&app, session("s-1").to_request()).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    reporter.flush(FLUSH).await.unwrap();
    let reports = sink.reports();
    assert_eq!(reports.len(), 1);
    assert_eq!(reports[0].result, ActionResult::Success);
    assert_eq!(reports[0].user_id.as_deref(), Some("user-7"));
    assert_eq!(reports[0].challenge_type, Some(ChallengeType::Totp));
}

#[actix_web::test]
async fn status_mapping_without_an_outcome() {
    let (reporter, sink) = reporter();
    let fake = StaticRecommender::of_type(RecommendationType::Allow, 10.0);
    let app = test::init_service(
        App::new()
            .wrap(RiskMiddleware::new(guard(
                ActionType::Login,
                fake,
                &reporter,
            )))
            .route(
                "/ok",
                web::post().to(|| async { HttpResponse::Found().finish() }),
            )
            .route(
                "/no",
                web::post().to(|| async { HttpResponse::Forbidden().finish() }),
            )
            .route(
                "/late",
                web::post().to(|| async { HttpResponse::TooManyRequests().finish() }),
            ),
    )
    .await;

    for path in ["/ok", "/no", "/late"] {
        let req = session("s-1").uri(path).to_request();
        test::call_service(&app, req).await;
    }
    reporter.flush(FLUSH).await.unwrap();
    let results: Vec<_> = sink.reports().into_iter().map(|r| r.result).collect();
    assert_eq!(
        results,
        [
            ActionResult::Success,
            ActionResult::Failure,
            ActionResult::Incomplete
        ]
    );
}

#[actix_web::test]
async fn handler_errors_are_reported_by_their_status() {
    let (reporter, sink) = reporter();
    let fake = StaticRecommender::of_type(RecommendationType::Allow, 10.0);
    let app = test::init_service(
        App::new()
            .wrap(RiskMiddleware::new(guard(
                ActionType::Login,
                fake,
                &reporter,
            )))
            .route(
                "/unauthorized",
                web::post().to(|| async {
                    Err::<HttpResponse, _>(actix_web::error::ErrorUnauthorized("wrong password"))
                }),
            )
            .route(
                "/broken",
                web::post().to(|| async {
                    Err::<HttpResponse, _>(actix_web::error::ErrorInternalServerError("db down"))
                }),
            ),
    )
    .await;

    let res = test::call_service(&app, session("s-1").uri("/unauthorized").to_request()).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    reporter.flush(FLUSH).await.unwrap();
    assert_eq!(sink.reports()[0].result, ActionResult::Failure);

    let res = test::call_service(&app, session("s-2").uri("/broken").to_request()).await;
    assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
    reporter.flush(FLUSH).await.unwrap();
    assert_eq!(sink.reports()[1].result, ActionResult::Incomplete);
}

/// Answers each action with a score derived from its session token (`s-<n>` → score n),
/// and holds every recommendation until all `n` requests are in flight together.
struct PerRequestRecommender {
    barrier: tokio::sync::Barrier,
}

#[async_trait]
impl Recommender for PerRequestRecommender {
    async fn trigger_action(
        &self,
        request: &TriggerActionRequest,
    ) -> Result<ActionToken, risk_core::Error> {
        let session = request.session_token.as_ref().map(|t| t.expose());
        let n = session.unwrap_or_default().trim_start_matches("s-");
        Ok(ActionToken::new(format!("at-{n}")))
    }

    async fn recommendation(&self, token: &ActionToken) -> Result<RiskAnswer, risk_core::Error> {
        self.barrier.wait().await;
        let n: f64 = token.expose().trim_start_matches("at-").parse().unwrap();
        Ok(RecommendationResponse::new(RecommendationType::Allow, n).into())
    }
}

#[actix_web::test]
async fn sixteen_concurrent_requests_each_get_their_own_assessment() {
    const N: usize = 16;
    let (reporter, sink) = reporter();
    let rec = PerRequestRecommender {
        barrier: tokio::sync::Barrier::new(N),
    };
    let app = test::init_service(
        App::new().service(
            web::resource("/login")
                .wrap(RiskMiddleware::new(guard(
                    ActionType::Login,
                    rec,
                    &reporter,
                )))
                .route(web::post().to(|risk: RiskAssessment| async move {
                    let n = risk.risk_score().unwrap();
                    HttpResponse::Ok()
                        .json(json!({"cid": risk.correlation_id(), "score": n}))
                        .with_risk_outcome(Outcome::new().with_user_id(format!("user-{n}")))
                })),
        ),
    )
    .await;

    let calls = (0..N).map(|i| {
        let req = session(&format!("s-{i}"))
            .insert_header(("x-request-id", format!("req-{i}")))
            .to_request();
        test::call_service(&app, req)
    });
    // The barrier only opens when all 16 are in flight at once.
    let responses = futures_util::future::join_all(calls).await;
    for (i, res) in responses.into_iter().enumerate() {
        assert_eq!(res.status(), StatusCode::OK);
        let body = json_body(res).await;
        assert_eq!(body["cid"], format!("req-{i}"));
        assert_eq!(body["score"], i as f64);
    }

    reporter.flush(FLUSH).await.unwrap();
    let mut reports = sink.reports();
    assert_eq!(reports.len(), N);
    reports.sort_by_key(|r| {
        r.action_token
            .expose()
            .trim_start_matches("at-")
            .parse::<usize>()
            .unwrap()
    });
    for (i, r) in reports.iter().enumerate() {
        assert_eq!(r.action_token.expose(), format!("at-{i}"));
        assert_eq!(r.user_id.as_deref(), Some(format!("user-{i}").as_str()));
        assert_eq!(r.result, ActionResult::Success);
    }
}

#[actix_web::test]
async fn routes_scopes_and_resources_carry_their_own_action_types_on_one_recommender() {
    let (reporter, _sink) = reporter();
    let shared = StaticRecommender::of_type(RecommendationType::Allow, 10.0);
    let action = |risk: RiskAssessment| async move {
        HttpResponse::Ok().body(risk.action_type().as_str().to_owned())
    };
    let app = test::init_service(
        App::new()
            .service(
                web::resource("/login")
                    .wrap(RiskMiddleware::new(guard(
                        ActionType::Login,
                        shared.clone(),
                        &reporter,
                    )))
                    .route(web::post().to(action)),
            )
            .service(
                web::scope("/pay")
                    .wrap(RiskMiddleware::new(guard(
                        ActionType::Transaction,
                        shared.clone(),
                        &reporter,
                    )))
                    .route("/card", web::post().to(action)),
            )
            .route(
                "/reset",
                web::post().to(action).wrap(RiskMiddleware::new(guard(
                    ActionType::PasswordReset,
                    shared.clone(),
                    &reporter,
                ))),
            )
            .route("/public", web::post().to(|| async { "open" })),
    )
    .await;

    for (path, expected) in [
        ("/login", "login"),
        ("/pay/card", "transaction"),
        ("/reset", "password_reset"),
    ] {
        let res = test::call_service(&app, session("s-1").uri(path).to_request()).await;
        assert_eq!(res.status(), StatusCode::OK, "{path}");
        assert_eq!(test::read_body(res).await, expected);
    }
    // Unprotected: no token needed, no call.
    let res = test::call_service(&app, test::TestRequest::post().uri("/public").to_request()).await;
    assert_eq!(res.status(), StatusCode::OK);

    let types: Vec<_> = shared
        .trigger_requests()
        .into_iter()
        .map(|r| r.action_type)
        .collect();
    assert_eq!(
        types,
        [
            ActionType::Login,
            ActionType::Transaction,
            ActionType::PasswordReset
        ]
    );
}

#[actix_web::test]
async fn a_dropped_response_future_reports_incomplete() {
    let (reporter, sink) = reporter();
    let fake = StaticRecommender::of_type(RecommendationType::Allow, 10.0);
    let entered = Arc::new(tokio::sync::Notify::new());
    let in_handler = entered.clone();
    let app = test::init_service(
        App::new().service(
            web::resource("/login")
                .wrap(RiskMiddleware::new(guard(
                    ActionType::Login,
                    fake,
                    &reporter,
                )))
                .route(web::post().to(move || {
                    let in_handler = in_handler.clone();
                    async move {
                        in_handler.notify_one();
                        std::future::pending::<HttpResponse>().await
                    }
                })),
        ),
    )
    .await;

    let call = app.call(session("s-1").to_request());
    tokio::select! {
        _ = call => panic!("the handler never answers"),
        () = entered.notified() => {} // the handler runs; `call` is dropped here
    }
    reporter.flush(FLUSH).await.unwrap();
    let reports = sink.reports();
    assert_eq!(reports.len(), 1);
    assert_eq!(reports[0].result, ActionResult::Incomplete);
}

#[actix_web::test]
async fn outage_fails_open_or_closed_per_guard() {
    let (reporter, _sink) = reporter();
    let down = StaticRecommender::failing(|| risk_core::Error::Server {
        status: 503,
        message: "down".into(),
    });
    let open = Guard::builder(ActionType::Login, down.clone())
        .on_error(ErrorBehavior::FailOpen)
        .reporter(reporter.clone())
        .build()
        .unwrap();
    let closed = Guard::builder(ActionType::Transaction, down.clone())
        .on_error(ErrorBehavior::FailClosed)
        .reporter(reporter.clone())
        .build()
        .unwrap();
    let app = test::init_service(
        App::new()
            .service(
                web::resource("/login")
                    .wrap(RiskMiddleware::new(open))
                    .route(web::post().to(echo)),
            )
            .service(
                web::resource("/pay")
                    .wrap(RiskMiddleware::new(closed))
                    .route(web::post().to(echo)),
            ),
    )
    .await;

    let res = test::call_service(&app, session("s-1").to_request()).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(json_body(res).await["unavailable"], true);

    let res = test::call_service(&app, session("s-1").uri("/pay").to_request()).await;
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    let retry: u64 = header(&res, "retry-after").parse().unwrap();
    assert!(retry >= 1);
    assert_eq!(json_body(res).await["error"], "risk_unavailable");
}

#[actix_web::test]
async fn client_ip_comes_from_the_peer_unless_it_is_a_trusted_proxy() {
    let (reporter, _sink) = reporter();
    let fake = StaticRecommender::of_type(RecommendationType::Allow, 10.0);
    let g = Guard::builder(ActionType::Login, fake)
        .trusted_proxies(["10.0.0.0/8"])
        .reporter(reporter.clone())
        .build()
        .unwrap();
    let app = test::init_service(
        App::new()
            .wrap(RiskMiddleware::new(g))
            .route("/login", web::post().to(echo)),
    )
    .await;

    let from = |peer: &str| {
        session("s-1")
            .peer_addr(peer.parse::<SocketAddr>().unwrap())
            .insert_header(("x-forwarded-for", "203.0.113.9, 10.1.1.1"))
            .insert_header(("x-real-ip", "198.51.100.1"))
            .to_request()
    };
    // Through the trusted proxy: the rightmost untrusted forwarded address.
    let body = json_body(test::call_service(&app, from("10.0.0.2:4000")).await).await;
    assert_eq!(body["client_ip"], "203.0.113.9");
    // Straight from the internet: forwarding headers are spoofable and ignored.
    let body = json_body(test::call_service(&app, from("192.0.2.50:4000")).await).await;
    assert_eq!(body["client_ip"], "192.0.2.50");
    // A value that is not text from the trusted proxy (what `$proxy_add_x_forwarded_for` can
    // produce): no client IP, not the proxy's own address.
    let garbage = session("s-1")
        .peer_addr("10.0.0.2:4000".parse::<SocketAddr>().unwrap())
        .insert_header((
            "x-forwarded-for",
            actix_web::http::header::HeaderValue::from_bytes(b"\xff\xfe, 10.1.1.1").unwrap(),
        ))
        .to_request();
    let body = json_body(test::call_service(&app, garbage).await).await;
    assert_eq!(body["client_ip"], serde_json::Value::Null, "{body}");
    // The proxy appended the real peer after the client's garbage: that hop still counts.
    let appended = session("s-1")
        .peer_addr("10.0.0.2:4000".parse::<SocketAddr>().unwrap())
        .insert_header((
            "x-forwarded-for",
            actix_web::http::header::HeaderValue::from_bytes(b"\xff\xfe, 203.0.113.9, 10.1.1.1")
                .unwrap(),
        ))
        .to_request();
    let body = json_body(test::call_service(&app, appended).await).await;
    assert_eq!(body["client_ip"], "203.0.113.9", "{body}");
}

#[actix_web::test]
async fn a_custom_responder_shapes_denials() {
    let (reporter, _sink) = reporter();
    let fake = StaticRecommender::of_type(RecommendationType::Deny, 99.0);
    let g = Guard::builder(ActionType::Login, fake)
        .responder(|v: &Verdict, _a: &risk_core::Evaluation| match v {
            Verdict::Deny(_) => {
                Some(ResponseSpec::json(451, &json!({"nope": true})).with_header("x-custom", "1"))
            }
            _ => None,
        })
        .reporter(reporter.clone())
        .build()
        .unwrap();
    let app = test::init_service(
        App::new()
            .wrap(RiskMiddleware::new(g))
            .route("/login", web::post().to(echo)),
    )
    .await;
    let res = test::call_service(&app, session("s-1").to_request()).await;
    assert_eq!(res.status().as_u16(), 451);
    assert_eq!(header(&res, "x-custom"), "1");
    assert_eq!(json_body(res).await, json!({"nope": true}));
}

#[actix_web::test]
async fn an_invalid_header_from_a_responder_is_skipped_not_the_whole_answer() {
    let (reporter, _sink) = reporter();
    let fake = StaticRecommender::of_type(RecommendationType::Deny, 99.0);
    let g = Guard::builder(ActionType::Login, fake)
        .responder(|_v: &Verdict, _a: &risk_core::Evaluation| {
            Some(
                ResponseSpec::json(451, &json!({"nope": true}))
                    .with_header("bad name", "1")
                    .with_header("x-bad-value", "a\nb")
                    .with_header("x-custom", "1"),
            )
        })
        .reporter(reporter.clone())
        .build()
        .unwrap();
    let app = test::init_service(
        App::new()
            .wrap(RiskMiddleware::new(g))
            .route("/login", web::post().to(echo)),
    )
    .await;
    let res = test::call_service(&app, session("s-1").to_request()).await;
    assert_eq!(res.status().as_u16(), 451);
    assert_eq!(header(&res, "x-custom"), "1");
    assert!(res.headers().get("x-bad-value").is_none());
    assert_eq!(json_body(res).await, json!({"nope": true}));
}

#[actix_web::test]
async fn request_data_reaches_the_facts_through_action_details() {
    // What `enrich` did before: a middleware in front reads the request and hands the
    // details over in the extensions (the one way, shared with risk-tower).
    let (reporter, _sink) = reporter();
    let fake = StaticRecommender::of_type(RecommendationType::Allow, 10.0);
    let mw = RiskMiddleware::new(guard(ActionType::Transaction, fake.clone(), &reporter));
    let app = test::init_service(
        App::new()
            .wrap(mw)
            .wrap_fn(|req: actix_web::dev::ServiceRequest, srv| {
                let amount = req
                    .headers()
                    .get("x-amount")
                    .and_then(|v| v.to_str().ok()?.parse().ok())
                    .unwrap_or(0.0);
                let details = risk_core::ActionDetails::new()
                    .with_transaction_data(risk_core::TransactionData::new(amount, "EUR"))
                    .with_custom_attribute("path", req.path());
                actix_web::HttpMessage::extensions_mut(&req).insert(details);
                actix_web::dev::Service::call(srv, req)
            })
            .route("/pay", web::post().to(echo)),
    )
    .await;
    let req = session("s-1")
        .uri("/pay")
        .insert_header(("x-amount", "42.5"))
        .to_request();
    assert_eq!(test::call_service(&app, req).await.status(), StatusCode::OK);
    let sent = &fake.trigger_requests()[0];
    assert_eq!(sent.transaction_data.as_ref().unwrap().amount, Some(42.5));
    assert!(sent
        .custom_attributes
        .as_ref()
        .unwrap()
        .contains_key("path"));
}
