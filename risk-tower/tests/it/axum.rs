//! The layer and the extractor inside an axum `Router` (driven with `oneshot`).

use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::Router;
use http_body_util::BodyExt;
use risk_core::testing::{RecordingSink, StaticRecommender};
use risk_core::{
    ActionResult, ActionType, Guard, Outcome, RecommendationType, Reporter, RiskClient,
};
use risk_tower::{MissingRiskAssessment, RiskAssessment, RiskLayer};
use tower::ServiceExt;

fn layer(action: ActionType, rec: &StaticRecommender, reporter: &Reporter) -> RiskLayer {
    RiskLayer::new(
        Guard::builder(action, rec.clone())
            .reporter(reporter.clone())
            .build()
            .unwrap(),
    )
}

fn request(method: &str, uri: &str) -> Request<Body> {
    Request::builder()
        .method(method)
        .uri(uri)
        .header("x-risk-session-token", "sess-1")
        .body(Body::empty())
        .unwrap()
}

async fn text(response: axum::response::Response) -> String {
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    String::from_utf8(bytes.to_vec()).unwrap()
}

async fn twice(a: RiskAssessment, b: RiskAssessment) -> String {
    assert!(std::sync::Arc::ptr_eq(&a.0, &b.0));
    format!("{}:{}", a.action_type(), a.verdict().kind())
}

async fn optional(risk: Option<RiskAssessment>) -> String {
    match risk {
        Some(r) => format!("some:{}", r.action_type()),
        None => "none".to_owned(),
    }
}

async fn required(_risk: RiskAssessment) -> &'static str {
    "unreachable without the layer"
}

#[tokio::test]
async fn the_extractor_works_twice_under_the_layer() {
    let sink = RecordingSink::new();
    let reporter = Reporter::builder(sink.clone()).build();
    let rec = StaticRecommender::of_type(RecommendationType::Trust, 2.0);
    let app = Router::new()
        .route("/login", post(twice))
        .route_layer(layer(ActionType::Login, &rec, &reporter));

    let response = app.oneshot(request("POST", "/login")).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(text(response).await, "login:proceed");
    reporter.flush(Duration::from_secs(10)).await.unwrap();
    assert_eq!(sink.reports()[0].result, ActionResult::Success);
}

#[tokio::test]
async fn without_the_layer_the_extractor_rejects_with_a_500_naming_it() {
    let app = Router::new()
        .route("/required", get(required))
        .route("/optional", get(optional));

    let response = app
        .clone()
        .oneshot(request("GET", "/required"))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let body = text(response).await;
    assert_eq!(body, MissingRiskAssessment::MESSAGE);
    assert!(body.contains("`RiskLayer`"));

    let response = app.oneshot(request("GET", "/optional")).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(text(response).await, "none");
}

#[tokio::test]
async fn optional_extraction_under_the_layer_is_some() {
    let reporter = Reporter::builder(RecordingSink::new()).build();
    let rec = StaticRecommender::of_type(RecommendationType::Allow, 2.0);
    let app = Router::new()
        .route("/pay", post(optional))
        .route_layer(layer(ActionType::Transaction, &rec, &reporter));
    let response = app.oneshot(request("POST", "/pay")).await.unwrap();
    assert_eq!(text(response).await, "some:transaction");
}

#[tokio::test]
async fn router_route_layer_keeps_404_without_upstream_calls() {
    let reporter = Reporter::builder(RecordingSink::new()).build();
    let rec = StaticRecommender::of_type(RecommendationType::Deny, 99.0);
    let app = Router::new()
        .route("/login", post(twice))
        .route_layer(layer(ActionType::Login, &rec, &reporter));

    let response = app.clone().oneshot(request("POST", "/nope")).await.unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert_eq!(rec.calls(), 0);

    // The matched route is protected.
    let response = app.oneshot(request("POST", "/login")).await.unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert_eq!(rec.calls(), 2);
}

/// The documented form: `route_layer` on the method router keeps 404 *and* 405 (axum's
/// `Router::route_layer` also wraps each path's method-not-allowed fallback).
#[tokio::test]
async fn method_route_layer_keeps_404_and_405_without_upstream_calls() {
    let reporter = Reporter::builder(RecordingSink::new()).build();
    let rec = StaticRecommender::of_type(RecommendationType::Deny, 99.0);
    let app = Router::new().route(
        "/login",
        post(twice).route_layer(layer(ActionType::Login, &rec, &reporter)),
    );

    let response = app.clone().oneshot(request("POST", "/nope")).await.unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let response = app.clone().oneshot(request("GET", "/login")).await.unwrap();
    assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(rec.calls(), 0);

    let response = app.oneshot(request("POST", "/login")).await.unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert_eq!(rec.calls(), 2);
}

#[tokio::test]
async fn method_level_route_layer_protects_only_that_method() {
    let reporter = Reporter::builder(RecordingSink::new()).build();
    let rec = StaticRecommender::of_type(RecommendationType::Deny, 99.0);
    let app = Router::new().route(
        "/account",
        get(|| async { "read" })
            .post(|| async { "changed" })
            .route_layer(layer(ActionType::AccountDetailsChange, &rec, &reporter)),
    );
    // `route_layer` on a method router wraps the methods routed so far.
    let response = app
        .clone()
        .oneshot(request("POST", "/account"))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let response = app.oneshot(request("DELETE", "/account")).await.unwrap();
    assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(rec.calls(), 2);
}

#[tokio::test]
async fn routes_carry_their_own_action_type_and_share_one_recommender() {
    let reporter = Reporter::builder(RecordingSink::new()).build();
    let rec = StaticRecommender::of_type(RecommendationType::Allow, 5.0);
    let app = Router::new()
        .route(
            "/login",
            post(twice).route_layer(layer(ActionType::Login, &rec, &reporter)),
        )
        .route(
            "/pay",
            post(twice).route_layer(layer(ActionType::Transaction, &rec, &reporter)),
        )
        .route("/public", get(|| async { "open" }));

    assert_eq!(
        text(
            app.clone()
                .oneshot(request("POST", "/login"))
                .await
                .unwrap()
        )
        .await,
        "login:proceed"
    );
    assert_eq!(
        text(app.clone().oneshot(request("POST", "/pay")).await.unwrap()).await,
        "transaction:proceed"
    );
    let public = Request::builder()
        .uri("/public")
        .body(Body::empty())
        .unwrap();
    assert_eq!(app.oneshot(public).await.unwrap().status(), StatusCode::OK);

    let types: Vec<_> = rec
        .trigger_requests()
        .into_iter()
        .map(|r| r.action_type)
        .collect();
    assert_eq!(types, vec![ActionType::Login, ActionType::Transaction]);
}

#[tokio::test]
async fn an_axum_handler_can_attach_its_outcome() {
    let sink = RecordingSink::new();
    let reporter = Reporter::builder(sink.clone()).build();
    let rec = StaticRecommender::of_type(RecommendationType::Allow, 5.0);
    let app = Router::new()
        .route(
            "/login",
            post(|| async {
                let mut response = "welcome".into_response();
                response
                    .extensions_mut()
                    .insert(Outcome::success().with_user_id("user-9"));
                response
            }),
        )
        .route_layer(layer(ActionType::Login, &rec, &reporter));
    let response = app.oneshot(request("POST", "/login")).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    reporter.flush(Duration::from_secs(10)).await.unwrap();
    let reports = sink.reports();
    assert_eq!(reports[0].user_id.as_deref(), Some("user-9"));
}

/// The real client is a recommender the guard accepts (compile-time check).
#[expect(dead_code, reason = "tests")]
fn the_client_fits(client: RiskClient) -> RiskLayer {
    RiskLayer::new(Guard::builder(ActionType::Login, client).build().unwrap())
}
