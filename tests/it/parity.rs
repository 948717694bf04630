//! The two adapters behave the same: one table of cases, each run through risk-tower (a tower
//! service, as axum runs it) and risk-actix (`init_service`), comparing the status, the error
//! code of the body, whether the handler ran, and the result reported.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use actix_web::{test as actix_test, web, App, HttpResponse};
use http_body_util::BodyExt;
use risk_core::testing::{RecordingSink, StaticRecommender};
use risk_core::{
    ActionResult, ActionType, Error, ErrorBehavior, Evaluation, Guard, RecommendationType,
    Reporter, ResponseSpec, Verdict,
};
use tower::ServiceExt;

/// How the case's guard is built.
#[derive(Clone, Copy, Debug)]
enum Setup {
    Allow,
    Deny,
    Challenge,
    /// The API fails (502) on a fail-closed route.
    FailsClosed,
    /// A custom responder answering with a status HTTP does not have.
    BadResponderStatus,
}

/// What the inner service does when it is called.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Inner {
    Answers(u16),
    Fails,
}

struct Case {
    name: &'static str,
    setup: Setup,
    token: Option<&'static [u8]>,
    inner: Inner,
    status: u16,
    error: Option<&'static str>,
    handler_ran: bool,
    reported: Option<ActionResult>,
}

#[derive(Debug, PartialEq)]
struct Observed {
    status: u16,
    error: Option<String>,
    handler_ran: bool,
    reported: Option<ActionResult>,
}

fn cases() -> Vec<Case> {
    const TOKEN: Option<&[u8]> = Some(b"st-parity-1");
    vec![
        Case {
            name: "allow",
            setup: Setup::Allow,
            token: TOKEN,
            inner: Inner::Answers(200),
            status: 200,
            error: None,
            handler_ran: true,
            reported: Some(ActionResult::Success),
        },
        Case {
            name: "allow, handler refuses",
            setup: Setup::Allow,
            token: TOKEN,
            inner: Inner::Answers(401),
            status: 401,
            error: None,
            handler_ran: true,
            reported: Some(ActionResult::Failure),
        },
        Case {
            name: "deny",
            setup: Setup::Deny,
            token: TOKEN,
            inner: Inner::Answers(200),
            status: 403,
            error: Some("access_denied"),
            handler_ran: false,
            reported: Some(ActionResult::Failure),
        },
        Case {
            name: "challenge",
            setup: Setup::Challenge,
            token: TOKEN,
            inner: Inner::Answers(200),
            status: 403,
            error: Some("challenge_required"),
            handler_ran: false,
            reported: None,
        },
        Case {
            name: "missing token",
            setup: Setup::Allow,
            token: None,
            inner: Inner::Answers(200),
            status: 401,
            error: Some("missing_session_token"),
            handler_ran: false,
            reported: None,
        },
        Case {
            name: "invalid token",
            setup: Setup::Allow,
            token: Some(b"st_\xff\xfe"),
            inner: Inner::Answers(200),
            status: 400,
            error: Some("invalid_session_token"),
            handler_ran: false,
            reported: None,
        },
        Case {
            name: "fail closed",
            setup: Setup::FailsClosed,
            token: TOKEN,
            inner: Inner::Answers(200),
            status: 503,
            error: Some("risk_unavailable"),
            handler_ran: false,
            reported: Some(ActionResult::Incomplete),
        },
        Case {
            name: "invalid responder status",
            setup: Setup::BadResponderStatus,
            token: TOKEN,
            inner: Inner::Answers(200),
            status: 500,
            error: None,
            handler_ran: false,
            reported: Some(ActionResult::Failure),
        },
        Case {
            name: "inner service error",
            setup: Setup::Allow,
            token: TOKEN,
            inner: Inner::Fails,
            status: 500,
            error: None,
            handler_ran: true,
            reported: Some(ActionResult::Incomplete),
        },
    ]
}

fn guard(setup: Setup, reporter: &Reporter) -> Guard {
    let recommends = |t| StaticRecommender::of_type(t, 50.0);
    let recommender = match setup {
        Setup::Allow => recommends(RecommendationType::Allow),
        Setup::Deny | Setup::BadResponderStatus => recommends(RecommendationType::Deny),
        Setup::Challenge => recommends(RecommendationType::Challenge),
        Setup::FailsClosed => StaticRecommender::failing(|| Error::Server {
            status: 502,
            message: "bad gateway".into(),
        }),
    };
    let builder = Guard::builder(ActionType::Login, recommender)
        .reporter(reporter.clone())
        .on_error(ErrorBehavior::FailClosed);
    let builder = match setup {
        Setup::BadResponderStatus => builder.responder(|_: &Verdict, _: &Evaluation| {
            Some(ResponseSpec::json(1000, &serde_json::json!({})))
        }),
        _ => builder,
    };
    builder.build().unwrap()
}

fn error_code(body: &[u8]) -> Option<String> {
    serde_json::from_slice::<serde_json::Value>(body)
        .ok()?
        .get("error")?
        .as_str()
        .map(str::to_owned)
}

async fn reported(reporter: &Reporter, sink: &RecordingSink) -> Option<ActionResult> {
    reporter.flush(Duration::from_secs(10)).await.unwrap();
    let reports = sink.reports();
    assert!(reports.len() <= 1, "one report at most: {reports:?}");
    reports.first().map(|r| r.result)
}

async fn through_tower(case: &Case) -> Observed {
    let sink = RecordingSink::new();
    let reporter = Reporter::builder(sink.clone()).build();
    let ran = Arc::new(AtomicUsize::new(0));
    let inner = {
        let ran = ran.clone();
        let behaviour = case.inner;
        tower::service_fn(move |_req: http::Request<String>| {
            ran.fetch_add(1, Ordering::SeqCst);
            async move {
                match behaviour {
                    Inner::Answers(status) => {
                        let mut res = http::Response::new(String::new());
                        *res.status_mut() = http::StatusCode::from_u16(status).unwrap();
                        Ok(res)
                    }
                    Inner::Fails => Err("inner service failed"),
                }
            }
        })
    };
    let service = risk_tower::RiskLayer::new(guard(case.setup, &reporter));
    let service = tower::Layer::layer(&service, inner);
    let mut request = http::Request::builder().uri("/login");
    if let Some(token) = case.token {
        request = request.header(
            "x-risk-session-token",
            http::HeaderValue::from_bytes(token).unwrap(),
        );
    }
    let (status, body) = match service.oneshot(request.body(String::new()).unwrap()).await {
        Ok(res) => {
            let status = res.status().as_u16();
            let body = res.into_body().collect().await.unwrap().to_bytes();
            (status, body.to_vec())
        }
        // What axum or hyper do with a service error: a 500.
        Err(_) => (500, Vec::new()),
    };
    Observed {
        status,
        error: error_code(&body),
        handler_ran: ran.load(Ordering::SeqCst) == 1,
        reported: reported(&reporter, &sink).await,
    }
}

async fn through_actix(case: &Case) -> Observed {
    let sink = RecordingSink::new();
    let reporter = Reporter::builder(sink.clone()).build();
    let ran = Arc::new(AtomicUsize::new(0));
    let behaviour = case.inner;
    let handler_ran = ran.clone();
    let app = actix_test::init_service(
        App::new()
            .wrap_fn(move |req, srv| {
                handler_ran.fetch_add(1, Ordering::SeqCst);
                let fut = match behaviour {
                    Inner::Fails => None,
                    Inner::Answers(_) => Some(actix_web::dev::Service::call(srv, req)),
                };
                async move {
                    match fut {
                        Some(fut) => fut.await,
                        None => Err(actix_web::error::ErrorInternalServerError(
                            "inner service failed",
                        )),
                    }
                }
            })
            .wrap(risk_actix::RiskMiddleware::new(guard(
                case.setup, &reporter,
            )))
            .route(
                "/login",
                web::post().to(move || async move {
                    let status = match behaviour {
                        Inner::Answers(status) => status,
                        Inner::Fails => 200,
                    };
                    HttpResponse::build(actix_web::http::StatusCode::from_u16(status).unwrap())
                        .finish()
                }),
            ),
    )
    .await;
    let mut request = actix_test::TestRequest::post().uri("/login");
    if let Some(token) = case.token {
        request = request.insert_header((
            "x-risk-session-token",
            actix_web::http::header::HeaderValue::from_bytes(token).unwrap(),
        ));
    }
    let (status, body) = match actix_test::try_call_service(&app, request.to_request()).await {
        Ok(res) => {
            let status = res.status().as_u16();
            (status, actix_test::read_body(res).await.to_vec())
        }
        Err(e) => (e.as_response_error().status_code().as_u16(), Vec::new()),
    };
    Observed {
        status,
        error: error_code(&body),
        handler_ran: ran.load(Ordering::SeqCst) == 1,
        reported: reported(&reporter, &sink).await,
    }
}

#[actix_web::test]
async fn both_adapters_answer_and_report_every_case_the_same() {
    for case in cases() {
        let expected = Observed {
            status: case.status,
            error: case.error.map(str::to_owned),
            handler_ran: case.handler_ran,
            reported: case.reported,
        };
        let tower = through_tower(&case).await;
        let actix = through_actix(&case).await;
        assert_eq!(tower, expected, "risk-tower, case {:?}", case.name);
        assert_eq!(actix, expected, "risk-actix, case {:?}", case.name);
    }
}
