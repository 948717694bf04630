//! `risk-bench`: the load harness. It starts the emulator as a child process of its own (this
//! program; `--in-process-emulator` to share the harness's runtime, or `--emulator URL`),
//! serves the protected routes through both adapters on loopback, drives them with its
//! own keep-alive load generator, and prints one table (p50, p99, max, requests/s, the ratio
//! of each protected route's p50 to its raw floor, the CPU each request cost the load
//! generator, the server and the emulator), plus the emulator's own latency under 32
//! connections and its memory after `--actions` actions.
//!
//! `cargo run --release -p risk-bench` (about 7 minutes), `-- --quick` (under a minute),
//! `-- --quick --smoke` (seconds: CI checks that it runs and writes its JSON; no thresholds).
#![expect(clippy::print_stdout, reason = "a command-line tool prints its table")]

mod cpu;
mod emulator;
mod load;
mod report;
mod scenarios;
mod servers;

use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::time::Duration;

use clap::Parser;

use emulator::{
    address_of, make_fixture, serve_emulator, set_slow_result, start_emulator, stats, ChildEmulator,
};
use load::LoadError;
use report::{Report, Row};
use scenarios::{Fixture, FloorCalls, Kind, Plan};
use servers::Server;

/// The load harness of the risk middleware.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// Short runs (1.2 s per scenario, 4 s on the emulator, 50,000 actions): under a minute.
    #[arg(long)]
    quick: bool,
    /// Shortest runs, to check that the harness works (CI): figures mean nothing.
    #[arg(long)]
    smoke: bool,
    /// Connections driving each adapter scenario.
    #[arg(long, default_value_t = 1)]
    connections: usize,
    /// Connections driving the emulator directly.
    #[arg(long, default_value_t = 32)]
    emulator_connections: usize,
    /// Seconds per adapter scenario (default 10; 1.2 with --quick).
    #[arg(long)]
    seconds: Option<f64>,
    /// Seconds of the emulator run (default 60; 4 with --quick).
    #[arg(long)]
    emulator_seconds: Option<f64>,
    /// Actions triggered in all before the emulator's memory is read (default 1,000,000;
    /// 50,000 with --quick).
    #[arg(long)]
    actions: Option<u64>,
    /// Use this emulator instead of starting one (its memory is then not measured).
    #[arg(long)]
    emulator: Option<String>,
    /// Run the emulator behind the adapters inside the harness, on the runtime of the load
    /// generator (by default it runs in a process of its own, like the remote API: inside,
    /// the floors' upstream calls stay on the runtime's threads while the middleware's
    /// cross to the server's, which favours the floors).
    #[arg(long)]
    in_process_emulator: bool,
    /// Also write the results as JSON to this file.
    #[arg(long)]
    json: Option<std::path::PathBuf>,
    /// Only the scenarios whose name contains this (the floors always run); e.g. `single`.
    #[arg(long)]
    only: Option<String>,
    /// Only this adapter (`axum` or `actix`); `none` skips both (the emulator alone).
    #[arg(long)]
    adapter: Option<String>,
    /// Skip the emulator-alone run and its memory figure.
    #[arg(long)]
    no_emulator_run: bool,
    /// Internal: serve the harness's emulator, print its URL, stop when stdin closes.
    #[arg(long, hide = true)]
    serve_emulator: bool,
}

struct Settings {
    /// Each adapter scenario's whole measuring time, in `rounds` slices.
    scenario: Duration,
    rounds: u32,
    emulator: Duration,
    actions: u64,
    sessions: usize,
}

impl Args {
    fn selects(&self, scenario: &str) -> bool {
        self.only
            .as_deref()
            .is_none_or(|only| scenario.contains(only))
    }

    fn settings(&self) -> Settings {
        let (scenario, emulator, actions, sessions) = match (self.smoke, self.quick) {
            (true, _) => (0.3, 0.5, 2_000, 64),
            (false, true) => (1.2, 4.0, 50_000, 2_048),
            (false, false) => (10.0, 60.0, 1_000_000, 4_096),
        };
        Settings {
            scenario: Duration::from_secs_f64(self.seconds.unwrap_or(scenario)),
            rounds: match (self.smoke, self.quick) {
                (true, _) => 1,
                (false, true) => 3,
                (false, false) => 20,
            },
            emulator: Duration::from_secs_f64(self.emulator_seconds.unwrap_or(emulator)),
            actions: self.actions.unwrap_or(actions),
            sessions,
        }
    }
}

fn main() -> std::process::ExitCode {
    let args = Args::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        // Named for what they do (`top -H`, `perf`, the CPU column): the child serving the
        // emulator is the same program.
        .thread_name(if args.serve_emulator {
            "emulator"
        } else {
            cpu::LOAD_THREAD
        })
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("risk-bench: no runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let result = if args.serve_emulator {
        runtime.block_on(serve_emulator())
    } else {
        runtime.block_on(run(&args))
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("risk-bench: {}", e.0);
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(args: &Args) -> Result<(), LoadError> {
    let settings = args.settings();
    let (_in_process, child, base) = match &args.emulator {
        Some(url) => (None, None, url.trim_end_matches('/').to_owned()),
        None if args.in_process_emulator => {
            let emu = start_emulator().await?;
            let base = emu.base_url();
            (Some(emu), None, base)
        }
        None => {
            let child = ChildEmulator::start()?;
            let base = child.base.clone();
            (None, Some(child), base)
        }
    };
    let emulator_addr = address_of(&base)?;
    eprintln!(
        "emulator at {base}; making {} sessions and action tokens",
        settings.sessions
    );
    let fixture = Arc::new(make_fixture(emulator_addr, settings.sessions).await?);

    let mut report = Report::new(args.connections, args.emulator_connections);
    for adapter in ["axum", "actix"] {
        if args.adapter.as_deref().is_some_and(|a| a != adapter) {
            continue;
        }
        let mut server = match adapter {
            "axum" => servers::axum(&base).await?,
            _ => servers::actix(&base).await?,
        };
        let emulator_pid = child.as_ref().map(ChildEmulator::pid);
        adapter_scenarios(
            &mut report,
            &server,
            &fixture,
            emulator_pid,
            args,
            &settings,
        )
        .await?;
        server.stop();
    }
    report.emulator_stats = stats(emulator_addr).await.ok();

    // The emulator alone: in a process of its own, unless one was given.
    if args.no_emulator_run {
        return finish(args, &mut report);
    }
    drop(child);
    let child = match args.emulator {
        Some(_) => None,
        None => Some(ChildEmulator::start()?),
    };
    let alone = match &child {
        Some(child) => Arc::new(make_fixture(address_of(&child.base)?, settings.sessions).await?),
        None => Arc::clone(&fixture),
    };
    emulator_scenarios(&mut report, &alone, args, &settings).await?;
    let actions = stats(alone.emulator)
        .await?
        .responses("trigger_action", 201);
    report.memory = child.as_ref().and_then(ChildEmulator::memory).map(|mut m| {
        m.actions = actions;
        m
    });
    drop(child);
    finish(args, &mut report)
}

/// Prints the table, writes the JSON.
fn finish(args: &Args, report: &mut Report) -> Result<(), LoadError> {
    report.print();
    if let Some(path) = &args.json {
        std::fs::write(path, report.json()?)?;
        eprintln!("wrote {}", path.display());
    }
    Ok(())
}

/// Every scenario through one adapter, each protected one with the ratio of its p50 to its
/// raw floor's (the bare route plus the same upstream calls made directly).
async fn adapter_scenarios(
    report: &mut Report,
    server: &Server,
    fixture: &Arc<Fixture>,
    emulator_pid: Option<u32>,
    args: &Args,
    settings: &Settings,
) -> Result<(), LoadError> {
    let floors = [
        (
            "floor: bare + trigger?get_recommendation",
            FloorCalls::TriggerWithRecommendation,
        ),
        (
            "floor: bare + trigger + recommendation",
            FloorCalls::TriggerThenRecommendation,
        ),
        ("floor: bare + recommendation", FloorCalls::Recommendation),
    ];
    // (name, what it sends, the floor it is, the floor it is compared with)
    let mut plans: Vec<(&str, Kind, Option<usize>, Option<usize>)> = vec![
        ("bare route", Kind::Bare, None, None),
        (floors[0].0, Kind::Floor(floors[0].1), Some(0), None),
        (floors[1].0, Kind::Floor(floors[1].1), Some(1), None),
        (floors[2].0, Kind::Floor(floors[2].1), Some(2), None),
        (
            "protected, single call",
            protected("/login/single", false),
            None,
            Some(0),
        ),
        (
            "protected, two calls",
            protected("/login/two", false),
            None,
            Some(1),
        ),
        (
            "protected, action token",
            protected("/login/action", true),
            None,
            Some(2),
        ),
        (
            "floor: bare + RiskClient trigger?get_recommendation",
            Kind::ClientFloor,
            None,
            Some(0),
        ),
        (
            "floor: bare + trigger?get_recommendation, answer decoded",
            Kind::Floor(FloorCalls::TriggerWithRecommendationDecoded),
            None,
            Some(0),
        ),
        (
            "floor: bare + reqwest trigger?get_recommendation",
            Kind::ReqwestFloor,
            None,
            Some(0),
        ),
        (
            "protected, single call, no reporter",
            protected("/login/single-unreported", false),
            None,
            Some(0),
        ),
        (
            "protected, shadow mode",
            protected("/login/shadow", false),
            None,
            Some(0),
        ),
        (
            "protected, single call, JSON body read into ActionDetails",
            Kind::Protected {
                path: "/login/body",
                action_token: false,
                json_body: true,
            },
            None,
            Some(0),
        ),
    ];
    // The slow result endpoint (its slices only): reports are sent off the request path.
    plans.push((
        SLOW_RESULT,
        protected("/login/single", false),
        None,
        Some(0),
    ));
    let mut selected: Vec<Slot> = plans
        .into_iter()
        .filter(|(name, _, is_floor, _)| is_floor.is_some() || args.selects(name))
        .map(|(name, kind, is_floor, compared_with)| Slot {
            name,
            slow_result: name == SLOW_RESULT,
            // Scenarios on front-end action tokens get tokens made just before each slice.
            action_tokens: matches!(
                kind,
                Kind::Floor(FloorCalls::Recommendation)
                    | Kind::Protected {
                        action_token: true,
                        ..
                    }
            ),
            kind: Arc::new(kind),
            is_floor,
            compared_with,
            outcome: None,
        })
        .collect();
    // The scenarios take turns, `rounds` slices each: a drift of the machine's speed during
    // the run (other tenants of the host, frequency) reaches every scenario alike, so that
    // the ratios to the floors hold even when the absolute figures move. A slice also has
    // its own luck (which threads share a core for its length): twenty half-second slices
    // of each scenario average it over more draws than five did.
    //
    // Each round takes them in an order of its own (shuffled, the same in every run): a
    // slice is touched by the one before it (which threads are awake, what the emulator just
    // did), and in a fixed order each scenario would always follow the same one.
    let slice = settings.scenario.div_f64(f64::from(settings.rounds));
    let mut order: Vec<usize> = (0..selected.len()).collect();
    for round in 0..settings.rounds {
        fastrand::Rng::with_seed(u64::from(round)).shuffle(&mut order);
        for &index in &order {
            let Some(slot) = selected.get_mut(index) else {
                continue;
            };
            let fresh;
            let fixture = if slot.action_tokens {
                fresh = Arc::new(emulator::with_fresh_action_tokens(fixture).await?);
                &fresh
            } else {
                fixture
            };
            if slot.slow_result {
                set_slow_result(fixture.emulator, true).await?;
            }
            let measured = measure(
                server,
                &slot.kind,
                fixture,
                emulator_pid,
                args.connections,
                slice,
                round == 0,
            )
            .await;
            if slot.slow_result {
                set_slow_result(fixture.emulator, false).await?;
            }
            let (mut outcome, started) = measured?;
            // The reports of this slice are its work too: CPU is read once they are sent.
            server.settle().await;
            outcome.cpu = cpu::CpuTime::now(emulator_pid)
                .zip(started)
                .map(|(now, then)| now.since(then));
            match &mut slot.outcome {
                Some(total) => total.merge(outcome),
                None => slot.outcome = Some(outcome),
            }
        }
        eprintln!(
            "  {:<6} round {}/{} done",
            server.name,
            round + 1,
            settings.rounds
        );
    }
    let mut floor_p50 = [0u64; 3];
    for slot in &selected {
        if let (Some(i), Some(outcome)) = (slot.is_floor, &slot.outcome) {
            if let Some(p50) = floor_p50.get_mut(i) {
                *p50 = outcome.latency.value_at_quantile(0.5);
            }
        }
    }
    for slot in selected {
        let Some(outcome) = slot.outcome else {
            continue;
        };
        eprintln!(
            "  {:<6} {}: {:.0} req/s",
            server.name,
            slot.name,
            outcome.rps()
        );
        if let Some(error) = &outcome.first_error {
            eprintln!("    {} errors, the first: {error}", outcome.errors);
        }
        let row = Row::new(slot.name, server.name, args.connections, &outcome);
        report.push(row.with_floor(slot.compared_with.and_then(|f| floor_p50.get(f).copied())));
    }
    Ok(())
}

/// The scenario measured with the result endpoint 200 ms slow.
const SLOW_RESULT: &str = "protected, single call, result endpoint +200 ms";

/// One scenario of an adapter and what its slices measured so far.
struct Slot {
    name: &'static str,
    kind: Arc<Kind>,
    /// The result endpoint is made 200 ms slow during its slices.
    slow_result: bool,
    action_tokens: bool,
    is_floor: Option<usize>,
    compared_with: Option<usize>,
    outcome: Option<load::Outcome>,
}

fn protected(path: &'static str, action_token: bool) -> Kind {
    Kind::Protected {
        path,
        action_token,
        json_body: false,
    }
}

/// One slice of a scenario; `warm_up`: first a short unrecorded run (connections, token
/// cache, pools). With the CPU time spent so far (after the warm-up), when it can be read.
async fn measure(
    server: &Server,
    kind: &Arc<Kind>,
    fixture: &Arc<Fixture>,
    emulator_pid: Option<u32>,
    connections: usize,
    duration: Duration,
    warm_up: bool,
) -> Result<(load::Outcome, Option<cpu::CpuTime>), LoadError> {
    let plan = Arc::new(Plan {
        kind: Arc::clone(kind),
        server: server.addr,
        fixture: Arc::clone(fixture),
    });
    if warm_up {
        load::run(
            Arc::clone(&plan),
            connections,
            Duration::from_millis(200),
            None,
        )
        .await?;
    }
    let started = cpu::CpuTime::now(emulator_pid);
    Ok((load::run(plan, connections, duration, None).await?, started))
}

/// The emulator alone at `--emulator-connections`: trigger-action and recommendation timed
/// apart; then filled up to `--actions` actions for the memory figure.
async fn emulator_scenarios(
    report: &mut Report,
    fixture: &Arc<Fixture>,
    args: &Args,
    settings: &Settings,
) -> Result<(), LoadError> {
    let plan = Arc::new(Plan {
        kind: Arc::new(Kind::Emulator),
        server: fixture.emulator,
        fixture: Arc::clone(fixture),
    });
    let probe = report::StallProbe::start()?;
    let outcome = load::run(plan, args.emulator_connections, settings.emulator, None).await;
    report.longest_core_wait_us = probe.finish();
    let outcome = outcome?;
    eprintln!("  emulator: {:.0} actions/s", outcome.rps());
    for (step, histogram) in &outcome.steps.by_name {
        report.push(Row::from_histogram(
            &format!("emulator: {step}"),
            "emulator",
            args.emulator_connections,
            histogram,
            outcome.elapsed,
            outcome.errors,
        ));
    }
    let triggered = stats(fixture.emulator).await?.requests("trigger_action");
    let remaining = settings.actions.saturating_sub(triggered);
    if remaining > 0 {
        let count = Arc::new(AtomicU64::new(0));
        let plan = Arc::new(Plan {
            kind: Arc::new(Kind::Fill(Arc::clone(&count))),
            server: fixture.emulator,
            fixture: Arc::clone(fixture),
        });
        let stop_count = Arc::clone(&count);
        let stop =
            Arc::new(move || stop_count.load(std::sync::atomic::Ordering::Relaxed) >= remaining);
        eprintln!("  filling the emulator up to {} actions", settings.actions);
        let outcome = load::run(
            plan,
            args.emulator_connections,
            Duration::from_secs(3_600),
            Some(stop),
        )
        .await?;
        eprintln!("  filled: {:.0} actions/s", outcome.rps());
    }
    Ok(())
}
