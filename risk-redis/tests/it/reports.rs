//! Durable result reports: an instance killed with reports pending, and Redis going away.

use std::time::Duration;

use async_trait::async_trait;
use risk_core::{
    ActionResult, ActionResultReport, ActionToken, ActionType, Decision, Error, Guard, ResultSink,
    RiskClient, TriggerActionRequest,
};
use risk_emulator::{
    Emulator, EmulatorConfig, EmulatorHandle, Telemetry, DEV_CLIENT_ID, DEV_CLIENT_SECRET,
};
use risk_redis::{RedisBudget, RedisReports};

use risk_redis::testing::{eventually, RedisServer};

const WAIT: Duration = Duration::from_secs(30);

fn client(emu: &EmulatorHandle) -> RiskClient {
    RiskClient::builder()
        .client_id(DEV_CLIENT_ID)
        .client_secret(DEV_CLIENT_SECRET)
        .base_url(emu.base_url())
        .build()
        .unwrap()
}

fn actions(emu: &EmulatorHandle, n: usize) -> Vec<String> {
    let session = emu
        .create_session(
            &Telemetry::new()
                .with_device_id("reports")
                .with_ip("198.51.100.80"),
        )
        .unwrap();
    (0..n)
        .map(|_| {
            emu.trigger_action(
                TriggerActionRequest::new(session.as_str(), ActionType::Login),
                DEV_CLIENT_ID,
            )
            .unwrap()
        })
        .collect()
}

/// An API that never answers: the instance "dies" while delivering.
struct Stuck;

#[async_trait]
impl ResultSink for Stuck {
    async fn report(&self, _: &ActionResultReport) -> Result<(), Error> {
        std::future::pending().await
    }
}

async fn pending(url: &str, stream: &str, group: &str) -> u64 {
    let client = redis::Client::open(url).unwrap();
    let Ok(mut conn) = client.get_multiplexed_async_connection().await else {
        return 0;
    };
    let summary: Result<(u64, redis::Value, redis::Value, redis::Value), _> =
        redis::cmd("XPENDING")
            .arg(stream)
            .arg(group)
            .query_async(&mut conn)
            .await;
    summary.map_or(0, |s| s.0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reports_of_a_killed_instance_are_delivered_by_another_exactly_once() {
    let redis = RedisServer::start().await;
    let emu = Emulator::start(EmulatorConfig::default(), "127.0.0.1:0")
        .await
        .unwrap();
    let tokens = actions(&emu, 20);
    let reports = RedisReports::builder(redis.url())
        .key_prefix("killed")
        .build()
        .unwrap();

    let reporter = reports.local_reporter();
    for token in &tokens {
        reporter
            .submit(ActionResultReport::new(
                ActionToken::new(token.as_str()),
                ActionResult::Success,
            ))
            .unwrap();
    }
    reporter.flush(WAIT).await.unwrap();
    // Instance A takes the reports (all 20 are in the stream: one read), then dies while
    // delivering them. (Started before they were all there, it could take a first few and
    // hang on them, as its API never answers.)
    let a = reports
        .delivery(Stuck, "instance-a")
        .claim_idle(Duration::from_secs(1))
        .start();
    let taken = eventually(WAIT, async || {
        pending(&redis.url(), "killed:reports", "killed-delivery").await == 20
    })
    .await;
    assert!(taken, "instance A took the reports");
    a.abort();

    // Instance B, a process of its own (its own connection and handle on the stream), takes
    // them over once they have been idle, and delivers them.
    let b_reports = RedisReports::builder(redis.url())
        .key_prefix("killed")
        .build()
        .unwrap();
    drop(reports);
    let b = b_reports
        .delivery(client(&emu), "instance-b")
        .claim_idle(Duration::from_secs(1))
        .start();
    let delivered = eventually(WAIT, async || b.stats().sent == 20).await;
    assert!(delivered, "{:?}", b.stats());
    assert_eq!(b.stats().claimed, 20);
    // Exactly one accepted result per action: none lost.
    for token in &tokens {
        assert_eq!(
            emu.action_result(token),
            Some(ActionResult::Success),
            "{token}"
        );
    }
    let duplicates = emu.stats().requests("result") - 20;
    println!("killed instance: 20 reports, {duplicates} duplicate(s) sent to the API");
    assert_eq!(duplicates, 0);
    let acked = eventually(WAIT, async || {
        pending(&redis.url(), "killed:reports", "killed-delivery").await == 0
    })
    .await;
    assert!(acked, "every entry acknowledged");
    b.stop(WAIT).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_redis_gone_requests_are_answered_and_reports_arrive_once_it_is_back() {
    let mut redis = RedisServer::start().await;
    let emu = Emulator::start(EmulatorConfig::default(), "127.0.0.1:0")
        .await
        .unwrap();
    let budget = RedisBudget::builder(redis.url())
        .key_prefix("outage")
        .local_share_per_minute(1_000)
        .build()
        .unwrap();
    let client = RiskClient::builder()
        .client_id(DEV_CLIENT_ID)
        .client_secret(DEV_CLIENT_SECRET)
        .base_url(emu.base_url())
        .budget(budget.clone())
        .build()
        .unwrap();
    let reports = RedisReports::builder(redis.url())
        .key_prefix("outage")
        .build()
        .unwrap();
    let reporter = reports.local_reporter();
    let delivery = reports
        .delivery(client.clone(), "solo")
        .claim_idle(Duration::from_secs(2))
        .start();
    let guard = Guard::builder(ActionType::Login, client)
        .reporter(reporter.clone())
        .without_client_limit()
        .build()
        .unwrap();
    let mut tokens = Vec::new();
    let mut login = async |i: usize| {
        let session = emu
            .create_session(
                &Telemetry::new()
                    .with_device_id(format!("outage-{i}"))
                    .with_ip(format!("198.51.100.{}", 100 + i)),
            )
            .unwrap();
        let facts = guard.facts(&[("x-risk-session-token", session.as_str())], None, None);
        match guard.check(facts).await {
            Decision::Proceed { assessment, report } => {
                tokens.push(assessment.action_token().unwrap().expose().to_owned());
                report.complete(200, None);
            }
            Decision::Respond { response, .. } => panic!("refused: {}", response.status),
        }
    };
    for i in 0..10 {
        login(i).await;
    }
    redis.stop().await;
    // Requests keep being answered (the budget's local share); reports wait locally.
    for i in 10..20 {
        login(i).await;
    }
    assert!(budget.on_local_share());
    let kept = eventually(WAIT, async || reporter.stats().in_flight >= 1).await;
    assert!(kept, "reports are kept locally: {:?}", reporter.stats());

    redis.restart().await;
    let arrived = eventually(Duration::from_secs(60), async || {
        tokens.iter().all(|t| emu.action_result(t).is_some())
    })
    .await;
    assert!(arrived, "{:?} {:?}", reporter.stats(), delivery.stats());
    assert_eq!(tokens.len(), 20);
    assert_eq!(reporter.stats().failed, 0);
    // Nothing panicked: the delivery (like the reporter, whose reports all arrived) ended
    // cleanly.
    assert_eq!(delivery.stop(WAIT).await, Ok(()));
}
