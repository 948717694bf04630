//! The vendor quota's figures: upstream calls per protected action, and the request-path
//! latency of a guard in single-call mode, two-call mode and action-token mode.
//!
//! Not a criterion micro-benchmark: it starts the emulator in-process, runs `ACTIONS`
//! protected actions one after the other through a `Guard` (with its `Reporter`, the real
//! `RiskClient`, keep-alive), counts the emulator's requests per endpoint, and prints the
//! median and 99th percentile of the guard's own time (`Guard::check`, upstream included).
//! `cargo bench -p risk-emulator --bench calls_per_action` (env `ACTIONS`, default 2000).
#![expect(clippy::print_stdout, clippy::unwrap_used, reason = "benchmark code")]

use std::time::{Duration, Instant};

use risk_core::{ActionType, Decision, Guard, Reporter, RiskClient};
use risk_emulator::{
    Emulator, EmulatorConfig, EmulatorHandle, Telemetry, DEV_CLIENT_ID, DEV_CLIENT_SECRET,
};

#[derive(Clone, Copy)]
enum Mode {
    SingleCall,
    TwoCalls,
    ActionToken,
}

impl Mode {
    fn name(self) -> &'static str {
        match self {
            Self::SingleCall => "session token, single call (default)",
            Self::TwoCalls => "session token, two calls",
            Self::ActionToken => "action token (front end triggered)",
        }
    }
}

fn main() {
    let actions: usize = std::env::var("ACTIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2000);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let emu = Emulator::start(EmulatorConfig::default(), "127.0.0.1:0")
            .await
            .unwrap();
        println!("{actions} protected actions per mode, one at a time, emulator in-process");
        println!("| mode | calls per action (request path + report) | request-path p50 | p99 |");
        println!("|---|---|---|---|");
        for mode in [Mode::SingleCall, Mode::TwoCalls, Mode::ActionToken] {
            run(&emu, mode, actions).await;
        }
    });
}

async fn run(emu: &EmulatorHandle, mode: Mode, actions: usize) {
    emu.reset().unwrap();
    let client = RiskClient::builder()
        .client_id(DEV_CLIENT_ID)
        .client_secret(DEV_CLIENT_SECRET)
        .base_url(emu.base_url())
        .unmetered()
        .build()
        .unwrap();
    let reporter = Reporter::builder(client.clone()).build();
    let guard = Guard::builder(ActionType::Login, client)
        .single_call(!matches!(mode, Mode::TwoCalls))
        .without_client_limit()
        .reporter(reporter.clone())
        .build()
        .unwrap();
    // A fresh device and address per action: a clean user, allowed, so every action is
    // reported (one device logging in thousands of times would be challenged for velocity).
    let session = |i: usize| {
        let telemetry = Telemetry::new()
            .with_device_id(format!("bench-device-{i}"))
            .with_ip(format!(
                "10.{}.{}.{}",
                (i >> 16) & 255,
                (i >> 8) & 255,
                i & 255
            ));
        emu.create_session(&telemetry).unwrap()
    };
    let warm_session = session(1 << 20);
    // Warm the connection pool and the token cache.
    let warm = guard.facts(
        &[("x-risk-session-token", warm_session.as_str())],
        None,
        None,
    );
    drop(guard.check(warm).await);
    reporter.flush(Duration::from_secs(30)).await.unwrap();
    let before = emu.stats();

    let mut times = Vec::with_capacity(actions);
    let mut proceeded = 0;
    for i in 0..actions {
        let session = session(i);
        let header = match mode {
            Mode::ActionToken => (
                "x-risk-action-token",
                emu.sdk_trigger_action(&session, "login").unwrap(),
            ),
            _ => ("x-risk-session-token", session),
        };
        let facts = guard.facts(&[(header.0, header.1.as_str())], None, None);
        let started = Instant::now();
        let decision = guard.check(facts).await;
        times.push(started.elapsed());
        if let Decision::Proceed { report, .. } = decision {
            proceeded += 1;
            report.complete(200, None);
        }
    }
    reporter.flush(Duration::from_secs(60)).await.unwrap();
    let after = emu.stats();
    let calls = |endpoint: &str| after.requests(endpoint) - before.requests(endpoint);
    let upstream = calls("trigger_action") + calls("recommendation") + calls("result");
    assert_eq!(
        proceeded, actions,
        "every action of a clean device is allowed"
    );
    times.sort();
    let pct = |p: usize| times[(times.len() * p / 100).min(times.len() - 1)];
    println!(
        "| {} | {:.2} (trigger {}, recommendation {}, result {}) | {:?} | {:?} |",
        mode.name(),
        upstream as f64 / actions as f64,
        calls("trigger_action"),
        calls("recommendation"),
        calls("result"),
        pct(50),
        pct(99),
    );
}
