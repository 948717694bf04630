//! The permanent fault suite: every fault the emulator can inject, under every error
//! behaviour, in both token modes, through both adapters, against the real emulator and the
//! real client. Each case checks the answer (status, `Retry-After`, whether the handler ran),
//! the circuit breaker's state, and the result reports against the emulator's event stream:
//! exactly one result for an action whose token the guard held, none otherwise, none twice.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use actix_web::{test as actix_test, web, App, HttpResponse};
use risk_core::{
    ActionType, BreakerState, CircuitBreaker, ErrorBehavior, EventType, Guard, Reporter,
    RetryPolicy, RiskClient,
};
use risk_emulator::{
    Emulator, EmulatorConfig, EmulatorHandle, FaultSpec, Telemetry, DEV_CLIENT_ID,
    DEV_CLIENT_SECRET,
};
use tower::ServiceExt;

#[derive(Clone, Copy, Debug, PartialEq)]
enum Fault {
    /// Nothing listens where the client points.
    Refused,
    /// The API closes the connection without answering.
    Closed,
    /// 503.
    ServerError,
    /// 429 with `Retry-After: 7`.
    RateLimited,
    /// Slower than the route's deadline.
    PastDeadline,
    /// A 200 whose body is not JSON.
    Malformed,
    /// 463: the token is refused.
    Blacklisted,
    /// 401 once: the access token is refreshed and the call sent again.
    Unauthorized,
}

const FAULTS: [Fault; 8] = [
    Fault::Refused,
    Fault::Closed,
    Fault::ServerError,
    Fault::RateLimited,
    Fault::PastDeadline,
    Fault::Malformed,
    Fault::Blacklisted,
    Fault::Unauthorized,
];

#[derive(Clone, Copy, Debug, PartialEq)]
enum Mode {
    /// The guard triggers the action (single call).
    Session,
    /// The guard triggers the action, then asks for its recommendation (the fault is on the
    /// second call: the guard holds the action's token when it fails).
    TwoCalls,
    /// The front end triggered it; the guard asks for its recommendation.
    Action,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Behaviour {
    FailOpen,
    FailClosed,
    Challenge,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Adapter {
    Tower,
    Actix,
}

const DEADLINE: Duration = Duration::from_millis(300);

#[derive(Debug, PartialEq)]
struct Observed {
    status: u16,
    retry_after: Option<String>,
    handler_ran: bool,
    /// Results reported, as the emulator's event stream shows them.
    results: usize,
    breaker: BreakerState,
}

/// What the documented rules say a case gives.
fn expected(fault: Fault, mode: Mode, behaviour: Behaviour) -> Observed {
    let decided = |retry_after: &str| match behaviour {
        Behaviour::FailOpen => (200, None, true),
        Behaviour::FailClosed => (503, Some(retry_after.to_owned()), false),
        Behaviour::Challenge => (403, None, false),
    };
    // Whether the guard holds the action's token when the call fails: in two-call mode the
    // action exists (trigger-action answered) unless the whole API is unreachable. Then it is
    // reported once: the handler's result when it ran, `incomplete` when refused; a
    // challenge is reported by the step-up route, not here.
    let held = mode == Mode::TwoCalls && fault != Fault::Refused;
    let reported = usize::from(held && behaviour != Behaviour::Challenge);
    let (status, retry_after, handler_ran, results) = match fault {
        // An outage: the error behaviour decides.
        Fault::Refused
        | Fault::Closed
        | Fault::ServerError
        | Fault::PastDeadline
        | Fault::Malformed => {
            let (s, r, h) = decided("5");
            (s, r, h, reported)
        }
        // The quota: the quota behaviour decides (the same here), with the API's wait.
        Fault::RateLimited => {
            let (s, r, h) = decided("7");
            (s, r, h, reported)
        }
        // Bad input, not an outage: 400 whatever the behaviour, nothing reported.
        Fault::Blacklisted => (400, None, false, 0),
        // Refreshed and sent again: allowed, the handler's success reported once.
        Fault::Unauthorized => (200, None, true, 1),
    };
    Observed {
        status,
        retry_after,
        handler_ran,
        results,
        // One failed call never opens the breaker (and a 429 or 463 is not a failure).
        breaker: BreakerState::Closed,
    }
}

/// The emulator's endpoint the fault is put on.
fn endpoint(mode: Mode) -> &'static str {
    match mode {
        Mode::Session => "trigger_action",
        Mode::TwoCalls | Mode::Action => "recommendation",
    }
}

fn fault_spec(fault: Fault, mode: Mode) -> Option<FaultSpec> {
    let spec = FaultSpec::new(endpoint(mode));
    Some(match fault {
        Fault::Refused => return None,
        Fault::Closed => spec.close_connection(),
        Fault::ServerError => spec.with_status(503).with_retry_after_secs(0),
        Fault::RateLimited => spec.with_status(429).with_retry_after_secs(7),
        Fault::PastDeadline => spec.with_latency_ms(2_000),
        Fault::Malformed => spec.with_status(200).with_body("{\"recommendation\": "),
        Fault::Blacklisted => spec.with_status(463),
        Fault::Unauthorized => spec.with_status(401).fail_next(1),
    })
}

fn client(base_url: &str) -> RiskClient {
    RiskClient::builder()
        .client_id(DEV_CLIENT_ID)
        .client_secret(DEV_CLIENT_SECRET)
        .base_url(base_url)
        .retry_policy(
            RetryPolicy::default()
                .with_max_attempts(2)
                .with_initial_backoff(Duration::from_millis(1))
                .with_max_backoff(Duration::from_millis(5)),
        )
        .unmetered()
        .build()
        .unwrap()
}

/// An address where nothing listens.
fn closed_port() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    format!("http://{}", listener.local_addr().unwrap())
}

/// One case through one adapter; the emulator is reset first.
async fn run(
    emu: &EmulatorHandle,
    adapter: Adapter,
    fault: Fault,
    mode: Mode,
    behaviour: Behaviour,
) -> Observed {
    emu.reset().unwrap();
    // The test's own client reads the event stream.
    let observer = client(&emu.base_url());
    observer.start_collect(EventType::Risk).await.unwrap();
    observer
        .create_stream(
            EventType::Risk,
            "suite",
            &risk_core::StreamOptions::default(),
        )
        .await
        .unwrap();

    let session = emu
        .create_session(&Telemetry::new().with_device_id("suite-device"))
        .unwrap();
    let header = match mode {
        Mode::Session | Mode::TwoCalls => ("x-risk-session-token", session.clone()),
        Mode::Action => (
            "x-risk-action-token",
            emu.sdk_trigger_action(&session, "login").unwrap(),
        ),
    };
    let base = match fault {
        Fault::Refused => closed_port(),
        _ => emu.base_url(),
    };
    if let Some(spec) = fault_spec(fault, mode) {
        emu.set_fault(spec).unwrap();
    }
    let api = client(&base);
    let reporter = Reporter::builder(api.clone()).build();
    let breaker = CircuitBreaker::default();
    let on_error = match behaviour {
        Behaviour::FailOpen => ErrorBehavior::FailOpen,
        Behaviour::FailClosed => ErrorBehavior::FailClosed,
        Behaviour::Challenge => ErrorBehavior::Challenge,
    };
    let guard = Guard::builder(ActionType::Login, api)
        .on_error(on_error.clone())
        .on_quota_exhausted(on_error)
        .session_tokens(mode != Mode::Action)
        .single_call(mode == Mode::Session)
        .deadline(DEADLINE)
        .circuit_breaker(breaker.clone())
        .reporter(reporter.clone())
        .without_client_limit()
        .build()
        .unwrap();

    let ran = Arc::new(AtomicUsize::new(0));
    let (status, retry_after) = match adapter {
        Adapter::Tower => through_tower(guard, &header, &ran).await,
        Adapter::Actix => through_actix(guard, &header, &ran).await,
    };
    reporter.flush(Duration::from_secs(10)).await.unwrap();
    emu.clear_faults();
    let results = results_reported(&observer).await;
    // A repeated result is accepted silently by the API (no second event): the emulator's
    // count of accepted results shows a duplicate.
    assert_eq!(
        emu.stats().responses("result", 201),
        results as u64,
        "{fault:?}/{mode:?}/{behaviour:?}: a result delivered twice"
    );
    Observed {
        status,
        retry_after,
        handler_ran: ran.load(Ordering::SeqCst) == 1,
        results,
        breaker: breaker.state(),
    }
}

/// The results in the event stream, each at most once per action.
async fn results_reported(observer: &RiskClient) -> usize {
    let events = observer
        .collect(EventType::Risk, "suite", 1000)
        .await
        .unwrap();
    let mut per_action: BTreeMap<String, usize> = BTreeMap::new();
    for event in events
        .iter()
        .filter(|e| e.activity == "action_result_reported")
    {
        let action = event.additional_params["action_id"].to_string();
        *per_action.entry(action).or_default() += 1;
    }
    assert!(
        per_action.values().all(|n| *n == 1),
        "a result reported twice: {per_action:?}"
    );
    per_action.len()
}

async fn through_tower(
    guard: Guard,
    header: &(&str, String),
    ran: &Arc<AtomicUsize>,
) -> (u16, Option<String>) {
    let ran = Arc::clone(ran);
    let inner = tower::service_fn(move |_req: http::Request<String>| {
        ran.fetch_add(1, Ordering::SeqCst);
        async { Ok::<_, std::convert::Infallible>(http::Response::new(String::new())) }
    });
    let service = tower::Layer::layer(&risk_tower::RiskLayer::new(guard), inner);
    let request = http::Request::builder()
        .uri("/login")
        .header(header.0, header.1.as_str())
        .body(String::new())
        .unwrap();
    let response = service.oneshot(request).await.unwrap();
    let retry_after = response
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_owned());
    (response.status().as_u16(), retry_after)
}

async fn through_actix(
    guard: Guard,
    header: &(&str, String),
    ran: &Arc<AtomicUsize>,
) -> (u16, Option<String>) {
    let ran = Arc::clone(ran);
    let app = actix_test::init_service(
        App::new()
            .wrap(risk_actix::RiskMiddleware::new(guard))
            .route(
                "/login",
                web::post().to(move || {
                    ran.fetch_add(1, Ordering::SeqCst);
                    async { HttpResponse::Ok().finish() }
                }),
            ),
    )
    .await;
    let request = actix_test::TestRequest::post()
        .uri("/login")
        .insert_header((header.0, header.1.as_str()))
        .to_request();
    let response = actix_test::call_service(&app, request).await;
    let retry_after = response
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_owned());
    (response.status().as_u16(), retry_after)
}

#[actix_web::test]
async fn every_fault_under_every_behaviour_in_both_modes_through_both_adapters() {
    let emu = Emulator::start(EmulatorConfig::default(), "127.0.0.1:0")
        .await
        .unwrap();
    let mut failures = Vec::new();
    let mut table = String::from(
        "| fault | mode | behaviour | expected | tower | actix |\n|---|---|---|---|---|---|\n",
    );
    for fault in FAULTS {
        for mode in [Mode::Session, Mode::TwoCalls, Mode::Action] {
            for behaviour in [
                Behaviour::FailOpen,
                Behaviour::FailClosed,
                Behaviour::Challenge,
            ] {
                let want = expected(fault, mode, behaviour);
                let tower = run(&emu, Adapter::Tower, fault, mode, behaviour).await;
                let actix = run(&emu, Adapter::Actix, fault, mode, behaviour).await;
                let show = |o: &Observed| {
                    format!(
                        "{} {} ran={} results={} {:?}",
                        o.status,
                        o.retry_after.as_deref().unwrap_or("-"),
                        o.handler_ran,
                        o.results,
                        o.breaker
                    )
                };
                table.push_str(&format!(
                    "| {fault:?} | {mode:?} | {behaviour:?} | {} | {} | {} |\n",
                    show(&want),
                    show(&tower),
                    show(&actix)
                ));
                if tower != want || actix != want {
                    failures.push(format!("{fault:?}/{mode:?}/{behaviour:?}"));
                }
            }
        }
    }
    eprintln!("{table}");
    assert!(
        failures.is_empty(),
        "cases that differ: {failures:?}\n{table}"
    );
}

/// Polls `done` until it holds or `within` passes (then fails the test).
async fn wait_until(within: Duration, what: &str, mut done: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + within;
    while !done() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting: {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_result_endpoint_outage_loses_no_report_and_repeats_none() {
    const ACTIONS: u64 = 1_000;
    let emu = Emulator::start(EmulatorConfig::default(), "127.0.0.1:0")
        .await
        .unwrap();
    let api = client(&emu.base_url());
    let reporter = Reporter::builder(api.clone()).build();
    let guard = Guard::builder(ActionType::Login, api)
        .reporter(reporter.clone())
        .without_client_limit()
        .build()
        .unwrap();
    // The result endpoint is down while every protected request passes.
    emu.set_fault(FaultSpec::new("result").with_status(503))
        .unwrap();
    for i in 0..ACTIONS {
        // A device and address of its own: no velocity, so every login is allowed.
        let telemetry = Telemetry::new()
            .with_device_id(format!("outage-{i}"))
            .with_ip(format!("10.9.{}.{}", i / 256, i % 256));
        let session = emu.create_session(&telemetry).unwrap();
        let facts = guard.facts(&[("x-risk-session-token", session.as_str())], None, None);
        match guard.check(facts).await {
            risk_core::Decision::Proceed { report, .. } => report.complete(200, None),
            risk_core::Decision::Respond { .. } => panic!("a clean device is allowed"),
        }
    }
    // The outage lasts until deliveries were retried 200 times: the 32 in flight each about
    // six times, backing off from 0.2 s to 6.4 s (some 12 s), the rest waiting in the queue.
    // Then the API recovers.
    wait_until(
        Duration::from_secs(120),
        "deliveries retried through the outage",
        || reporter.stats().retried >= 200,
    )
    .await;
    assert_eq!(reporter.stats().sent, 0, "nothing got through the outage");
    emu.clear_faults();
    reporter.flush(Duration::from_secs(120)).await.unwrap();
    let stats = emu.stats();
    assert_eq!(
        stats.responses("result", 201),
        ACTIONS,
        "each delivered exactly once"
    );
    let reported = reporter.stats();
    assert_eq!(
        (reported.sent, reported.failed, reported.dropped),
        (ACTIONS, 0, 0)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_with_a_full_queue_delivers_everything_within_the_deadline() {
    const CAPACITY: usize = 200;
    let emu = Emulator::start(EmulatorConfig::default(), "127.0.0.1:0")
        .await
        .unwrap();
    let api = client(&emu.base_url());
    let reporter = Reporter::builder(api.clone()).capacity(CAPACITY).build();
    let session = emu.create_session(&Telemetry::new()).unwrap();
    for _ in 0..CAPACITY {
        let token = emu.sdk_trigger_action(&session, "login").unwrap();
        reporter
            .submit(risk_core::ActionResultReport::new(
                risk_core::ActionToken::new(token),
                risk_core::ActionResult::Success,
            ))
            .unwrap();
    }
    let stats = reporter.shutdown(Duration::from_secs(30)).await.unwrap();
    assert_eq!(
        (stats.sent, stats.dropped, stats.in_flight),
        (CAPACITY as u64, 0, 0)
    );
    assert_eq!(emu.stats().responses("result", 201), CAPACITY as u64);
}
