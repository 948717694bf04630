//! The whole product in one process: the risk emulator, an axum app protecting `POST /login`
//! (action `login`, default policy, fail open) and `POST /transfer` (action `transaction`, a
//! stricter score policy, fail closed), and the scenarios of `risk_demo_app::scenarios` played
//! through real HTTP. Prints what happened, the risk events read back through the
//! event-streaming API, the tenant's rules (created in the current shape) and two addresses
//! evaluated against them: one DENYed by the production rule, one allowed.
//!
//! ```sh
//! cargo run --example quickstart
//! ```
#![expect(
    clippy::print_stdout,
    reason = "an example program talks to its user on stdout"
)]

use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use risk_demo_app::axum_app;
use risk_demo_app::backend::Backend;
use risk_demo_app::scenarios::{self, Row, Run};
use risk_emulator::{Emulator, EmulatorConfig};

#[tokio::main]
async fn main() -> ExitCode {
    // Warnings only: the library logs a reporter drop or a circuit breaker opening there.
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()),
        )
        .init();
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("quickstart failed: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let started = Instant::now();
    let emulator = Arc::new(Emulator::start(EmulatorConfig::default(), "127.0.0.1:0").await?);
    let backend = Backend::with_emulator(emulator.clone())?;
    scenarios::prepare(&backend).await?;

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let app_url = format!("http://{}", listener.local_addr()?);
    let app = axum_app::router(backend.clone()).into_make_service_with_connect_info::<SocketAddr>();
    let server = tokio::spawn(async move { axum::serve(listener, app).await });

    println!("risk emulator:  {}", emulator.base_url());
    println!("axum app:       {app_url}  (POST /login: default policy, fail open; POST /transfer: score ≥ 40 challenge, ≥ 70 deny, fail closed)\n");

    let run = scenarios::run(&app_url, &backend, &emulator).await?;
    print_table(&run);
    print_events(&run);

    // The tenant's rules, in the current shape (`{op, value}` conditions), then entity
    // evaluation (routes with no browser session): addresses against those rules.
    println!();
    for stored in backend.risk.client().list_rules().await? {
        let rule = &stored.rule;
        println!(
            "rule \"{}\": {} {}{} when {}",
            rule.name.as_deref().unwrap_or(&stored.id),
            rule.mode,
            rule.recommendation,
            if rule.enabled { "" } else { " (disabled)" },
            serde_json::to_string(&rule.matchers)?
        );
    }
    for ip in ["203.0.113.9", "198.51.100.7"] {
        let answer = backend
            .risk
            .client()
            .evaluate(&risk_core::EvaluateRequest::ip(ip))
            .await?;
        let rule = answer
            .rule_name
            .map(|r| format!(" (rule \"{r}\")"))
            .unwrap_or_default();
        println!(
            "entity evaluation: {ip:<15} → {}{rule}",
            answer.recommendation.recommendation_type.as_str()
        );
    }

    let stats = backend.risk.shutdown(Duration::from_secs(5)).await?;
    println!(
        "\nreports: {} sent, {} retried, {} failed, {} dropped · emulator: {} token(s) issued, {} connection(s) · {:.1} s",
        stats.sent,
        stats.retried,
        stats.failed,
        stats.dropped,
        emulator.stats().tokens_issued,
        emulator.stats().connections_accepted,
        started.elapsed().as_secs_f64()
    );
    print_metrics(&risk_demo_app::app::metrics());
    server.abort();
    Ok(())
}

// The header goes through the same format string as the rows, so that they line up.
#[expect(
    clippy::print_literal,
    reason = "a table layout reads better with literal headers"
)]
fn print_table(run: &Run) {
    let interesting = |r: &&Row| {
        !r.scenario.starts_with("burst")
            || r.scenario.ends_with(" 1/20")
            || r.scenario.ends_with(" 20/20")
    };
    println!(
        "{:<42} {:<14} {:<10} {:>5}  {:<26} {:>4}  {:<18} {}",
        "scenario",
        "route",
        "recommend.",
        "score",
        "verdict",
        "HTTP",
        "reported result",
        "reasons / preview rule"
    );
    println!("{}", "─".repeat(150));
    for row in run.rows.iter().filter(interesting) {
        let mut why = row.reasons.join(", ");
        if let Some(rule) = &row.preview_rule {
            if !why.is_empty() {
                why.push_str("; ");
            }
            why.push_str(&format!("preview rule \"{rule}\""));
        }
        println!(
            "{:<42} {:<14} {:<10} {:>5}  {:<26} {:>4}  {:<18} {}",
            row.scenario,
            row.route,
            row.recommendation.as_deref().unwrap_or("—"),
            row.score.map_or("—".to_owned(), |s| format!("{s:.0}")),
            row.verdict,
            row.status,
            row.reported.as_deref().unwrap_or("—"),
            why
        );
    }
}

fn print_events(run: &Run) {
    println!(
        "\nrisk events read back through the event-streaming API (type `risk`, stream `{}`): {} events",
        scenarios::STREAM_ID,
        run.events.len()
    );
    // The burst's logins are shown for its first login only.
    let burst: Vec<&str> = run
        .rows
        .iter()
        .filter(|r| r.scenario.starts_with("burst") && !r.scenario.ends_with(" 1/20"))
        .map(|r| r.correlation_id.as_str())
        .collect();
    let mut hidden = 0;
    for event in &run.events {
        let p = &event.additional_params;
        let field = |k: &str| match p.get(k) {
            Some(serde_json::Value::String(s)) => s.clone(),
            Some(other) => other.to_string(),
            None => String::new(),
        };
        if burst.contains(&field("correlation_id").as_str()) {
            hidden += 1;
            continue;
        }
        let detail = match event.activity.as_str() {
            "recommendation_issued" => {
                format!("{} {}", field("recommendation"), field("risk_score"))
            }
            "action_result_reported" => field("result"),
            _ => String::new(),
        };
        println!(
            "  {:<6} {:<24} {:<12} {:<15} user={:<14} ip={}",
            field("correlation_id"),
            event.activity,
            field("action_type"),
            detail,
            event.user_id.as_deref().unwrap_or("-"),
            event.ip.as_deref().unwrap_or("-"),
        );
    }
    if hidden > 0 {
        println!("  ... and {hidden} events of the burst's other logins");
    }
}

/// A few lines from the metrics the run recorded (what `GET /metrics` serves).
fn print_metrics(text: &str) {
    let label = |line: &str, name: &str| -> Option<String> {
        let start = line.find(&format!("{name}=\""))? + name.len() + 2;
        let end = line[start..].find('"')? + start;
        Some(line[start..end].to_owned())
    };
    let value = |line: &str| -> f64 {
        line.rsplit(' ')
            .next()
            .and_then(|v| v.parse().ok())
            .unwrap_or(0.0)
    };
    let mut verdicts = std::collections::BTreeMap::<String, f64>::new();
    let mut degraded = 0.0;
    let mut reports = std::collections::BTreeMap::<String, f64>::new();
    let mut latency = std::collections::BTreeMap::<String, (f64, f64)>::new();
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        if line.starts_with("risk_decisions_total{") {
            *verdicts
                .entry(label(line, "verdict").unwrap_or_default())
                .or_default() += value(line);
            if label(line, "degraded").is_some_and(|d| d != "none") {
                degraded += value(line);
            }
        } else if line.starts_with("risk_reports_total{") {
            *reports
                .entry(label(line, "outcome").unwrap_or_default())
                .or_default() += value(line);
        } else if line.starts_with("risk_upstream_request_duration_seconds{") {
            let entry = latency
                .entry(label(line, "endpoint").unwrap_or_default())
                .or_default();
            match label(line, "quantile").as_deref() {
                Some("0.5") => entry.0 = value(line),
                Some("0.99") => entry.1 = value(line),
                _ => {}
            }
        }
    }
    let list = |m: &std::collections::BTreeMap<String, f64>| {
        m.iter()
            .map(|(k, v)| format!("{k} {v}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    println!("\nmetrics (GET /metrics):");
    println!(
        "  decisions: {} · degraded (outage, quota, breaker, malformed): {degraded}",
        list(&verdicts)
    );
    for (endpoint, (p50, p99)) in &latency {
        println!(
            "  upstream {endpoint:<36} p50 {:>6.2} ms  p99 {:>6.2} ms",
            p50 * 1000.0,
            p99 * 1000.0
        );
    }
    println!("  reports: {}", list(&reports));
}
