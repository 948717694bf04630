//! gRPC through the same tower layer: a tonic client calls the example `Payments` service
//! (tonic server, `RiskLayer` with the gRPC responder) against the emulator. The token is in
//! the call's metadata; denials and challenges are gRPC statuses; the result is reported from
//! the gRPC status.

use std::sync::Arc;
use std::time::{Duration, Instant};

use risk_core::ActionResult;
use risk_demo_app::backend::Backend;
use risk_demo_app::grpc::{self, PaymentsClient, TransferRequest};
use risk_emulator::{Emulator, EmulatorConfig, EmulatorHandle, Telemetry};
use tonic::transport::Channel;
use tonic::Code;

struct Served {
    emulator: Arc<EmulatorHandle>,
    risk: risk_core::RiskClient,
    client: PaymentsClient<Channel>,
    _stop: tokio::sync::oneshot::Sender<()>,
}

async fn serve() -> Served {
    let emulator = Arc::new(
        Emulator::start(EmulatorConfig::default(), "127.0.0.1:0")
            .await
            .unwrap(),
    );
    let backend = Backend::with_emulator(emulator.clone()).unwrap();
    let risk = backend.risk.client().clone();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = grpc::url(listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        let _ = grpc::serve(&backend, listener, async {
            let _ = stopped.await;
        })
        .await;
    });
    let client = PaymentsClient::connect(url).await.unwrap();
    Served {
        emulator,
        risk,
        client,
        _stop: stop,
    }
}

/// A browser session: a person (typed input) on a fresh device, plus `extra`.
fn session(emulator: &EmulatorHandle, device: &str, extra: fn(Telemetry) -> Telemetry) -> String {
    let mut t = extra(
        Telemetry::new()
            .with_device_id(device)
            .with_ip("198.51.100.90"),
    );
    t.typing_velocity = Some(4.0);
    emulator.create_session(&t).unwrap()
}

fn call(token_header: &'static str, token: &str, amount: f64) -> tonic::Request<TransferRequest> {
    let mut request = tonic::Request::new(TransferRequest {
        amount,
        currency: "EUR".to_owned(),
    });
    request
        .metadata_mut()
        .insert(token_header, token.parse().unwrap());
    request
}

/// Polls the emulator until the action's result is reported (or fails after 10 s).
async fn reported(emulator: &EmulatorHandle, action_token: &str) -> ActionResult {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(result) = emulator.action_result(action_token) {
            return result;
        }
        assert!(Instant::now() < deadline, "no result reported");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grpc_allowed_call_reaches_the_service_and_reports_success_from_the_trailers() {
    let mut s = serve().await;
    let session = session(&s.emulator, "grpc-person", |t| t);
    // An action the front end triggered: the backend makes one call (the recommendation).
    let action = s
        .emulator
        .sdk_trigger_action(&session, "transaction")
        .unwrap();
    let before = s.emulator.stats();
    let reply = s
        .client
        .transfer(call("x-risk-action-token", &action, 25.0))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        (reply.status.as_str(), reply.recommendation.as_str()),
        ("accepted", "ALLOW")
    );
    let after = s.emulator.stats();
    assert_eq!(
        after.requests("recommendation") - before.requests("recommendation"),
        1
    );
    assert_eq!(
        after.requests("trigger_action"),
        before.requests("trigger_action")
    );
    // OK comes in the trailers, after the message: the report waited for them.
    assert_eq!(reported(&s.emulator, &action).await, ActionResult::Success);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grpc_error_status_of_the_service_is_reported_as_failure() {
    let mut s = serve().await;
    let session = session(&s.emulator, "grpc-typo", |t| t);
    let action = s
        .emulator
        .sdk_trigger_action(&session, "transaction")
        .unwrap();
    let status = s
        .client
        .transfer(call("x-risk-action-token", &action, -5.0))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    assert_eq!(reported(&s.emulator, &action).await, ActionResult::Failure);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grpc_denial_is_permission_denied_and_the_service_is_not_called() {
    let mut s = serve().await;
    let bot = session(&s.emulator, "grpc-bot", Telemetry::headless);
    let status = s
        .client
        .transfer(call("x-risk-session-token", &bot, 25.0))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::PermissionDenied, "{status:?}");
    assert!(status.metadata().get("x-risk-action-token").is_none());
    assert!(status.metadata().get("x-risk-correlation-id").is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grpc_challenge_is_unauthenticated_with_the_action_token_in_metadata() {
    let mut s = serve().await;
    // A VPN: score 45, over the route's challenge threshold (40), under its deny (70).
    let vpn = session(&s.emulator, "grpc-vpn", |mut t| {
        t.vpn = true;
        t
    });
    let status = s
        .client
        .transfer(call("x-risk-session-token", &vpn, 25.0))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Unauthenticated, "{status:?}");
    let token = status
        .metadata()
        .get("x-risk-action-token")
        .expect("the challenge's action token")
        .to_str()
        .unwrap()
        .to_owned();
    // The token is the challenged action's: the API knows it, with the score that crossed
    // the route's challenge threshold.
    let challenged = s
        .risk
        .get_recommendation(&risk_core::ActionToken::from(token.as_str()))
        .await
        .unwrap();
    assert!(
        challenged
            .risk_score
            .is_some_and(|score| (40.0..70.0).contains(&score)),
        "{challenged:?}"
    );
    // A call without any token is UNAUTHENTICATED too, but carries no action token.
    let status = s
        .client
        .transfer(tonic::Request::new(TransferRequest {
            amount: 1.0,
            currency: "EUR".to_owned(),
        }))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Unauthenticated);
    assert!(status.metadata().get("x-risk-action-token").is_none());
}
