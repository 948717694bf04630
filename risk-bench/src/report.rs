//! The results: one table on stdout, the same as JSON.

use std::time::Duration;

use hdrhistogram::Histogram;
use serde::Serialize;

use crate::cpu::CpuPerRequest;
use crate::load::{LoadError, Outcome};

/// One measured scenario.
#[derive(Debug, Serialize)]
pub(crate) struct Row {
    pub(crate) scenario: String,
    pub(crate) target: String,
    pub(crate) connections: usize,
    pub(crate) requests: u64,
    pub(crate) errors: u64,
    pub(crate) requests_per_sec: f64,
    pub(crate) p50_us: u64,
    pub(crate) p99_us: u64,
    pub(crate) max_us: u64,
    /// This p50 over its raw floor's p50.
    pub(crate) ratio_to_floor: Option<f64>,
    /// Answers by status.
    pub(crate) statuses: std::collections::BTreeMap<u16, u64>,
    /// CPU time per request, by party (Linux; the emulator's only when it is the harness's
    /// child process).
    pub(crate) cpu_per_request: Option<CpuPerRequest>,
}

impl Row {
    pub(crate) fn new(scenario: &str, target: &str, connections: usize, o: &Outcome) -> Self {
        let mut row = Self::from_histogram(
            scenario,
            target,
            connections,
            &o.latency,
            o.elapsed,
            o.errors,
        );
        row.statuses.clone_from(&o.statuses);
        row.cpu_per_request = o.cpu.and_then(|cpu| cpu.per_request(o.ok + o.errors));
        row
    }

    pub(crate) fn from_histogram(
        scenario: &str,
        target: &str,
        connections: usize,
        h: &Histogram<u64>,
        elapsed: Duration,
        errors: u64,
    ) -> Self {
        Self {
            scenario: scenario.to_owned(),
            target: target.to_owned(),
            connections,
            requests: h.len(),
            errors,
            requests_per_sec: h.len() as f64 / elapsed.as_secs_f64().max(1e-9),
            p50_us: h.value_at_quantile(0.50),
            p99_us: h.value_at_quantile(0.99),
            max_us: h.max(),
            ratio_to_floor: None,
            statuses: std::collections::BTreeMap::new(),
            cpu_per_request: None,
        }
    }

    pub(crate) fn with_floor(mut self, floor_p50_us: Option<u64>) -> Self {
        self.ratio_to_floor = floor_p50_us
            .filter(|f| *f > 0)
            .map(|f| self.p50_us as f64 / f as f64);
        self
    }
}

/// Resident memory of the emulator's process after `actions` actions, from its
/// `/proc/<pid>/status`.
#[derive(Debug, Serialize)]
pub(crate) struct Memory {
    pub(crate) resident_mb: f64,
    pub(crate) peak_resident_mb: f64,
    pub(crate) actions: u64,
}

impl Memory {
    pub(crate) fn read(path: &str) -> Option<Self> {
        let status = std::fs::read_to_string(path).ok()?;
        let field = |name: &str| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .and_then(|rest| {
                    rest.trim()
                        .trim_end_matches("kB")
                        .trim()
                        .parse::<f64>()
                        .ok()
                })
                .map(|kb| kb / 1024.0)
        };
        Some(Self {
            resident_mb: field("VmRSS:")?,
            peak_resident_mb: field("VmHWM:")?,
            actions: 0,
        })
    }
}

/// Everything a run measured.
#[derive(Debug, Serialize)]
pub(crate) struct Report {
    pub(crate) adapter_connections: usize,
    pub(crate) emulator_connections: usize,
    pub(crate) rows: Vec<Row>,
    pub(crate) emulator_stats: Option<risk_emulator::Stats>,
    pub(crate) memory: Option<Memory>,
    /// The longest a thread of the harness that only sleeps 1 ms at a time overslept during
    /// the emulator-alone run, in microseconds: how long a ready thread waited for a core
    /// (the load, the emulator and the rest of the machine share two), which a maximum
    /// latency includes.
    pub(crate) longest_core_wait_us: Option<u64>,
}

impl Report {
    pub(crate) fn new(adapter_connections: usize, emulator_connections: usize) -> Self {
        Self {
            adapter_connections,
            emulator_connections,
            rows: Vec::new(),
            emulator_stats: None,
            memory: None,
            longest_core_wait_us: None,
        }
    }

    pub(crate) fn push(&mut self, row: Row) {
        self.rows.push(row);
    }

    pub(crate) fn json(&self) -> Result<String, LoadError> {
        Ok(serde_json::to_string_pretty(self)?)
    }

    pub(crate) fn print(&mut self) {
        println!("| scenario | target | conns | req/s | p50 | p99 | max | errors | p50 / floor | CPU µs/request: load / server / emulator |");
        println!("|---|---|---|---|---|---|---|---|---|---|");
        for r in &self.rows {
            println!(
                "| {} | {} | {} | {:.0} | {} | {} | {} | {} | {} | {} |",
                r.scenario,
                r.target,
                r.connections,
                r.requests_per_sec,
                us(r.p50_us),
                us(r.p99_us),
                us(r.max_us),
                r.errors,
                r.ratio_to_floor
                    .map_or_else(String::new, |x| format!("{x:.2}×")),
                r.cpu_per_request.map_or_else(String::new, |c| format!(
                    "{:.0} / {:.0} / {}",
                    c.load_us,
                    c.server_us,
                    c.emulator_us
                        .map_or_else(|| "-".to_owned(), |e| format!("{e:.0}"))
                )),
            );
        }
        if let Some(s) = &self.emulator_stats {
            println!(
                "\nemulator behind the adapters: {} connections accepted, {} access tokens issued, {} trigger-action, {} recommendation, {} result requests",
                s.connections_accepted,
                s.tokens_issued,
                s.requests("trigger_action"),
                s.requests("recommendation"),
                s.requests("result"),
            );
        }
        if let Some(m) = &self.memory {
            println!(
                "emulator alone (own process): {:.0} MB resident, {:.0} MB peak, after {} actions",
                m.resident_mb, m.peak_resident_mb, m.actions
            );
        }
        if let Some(wait) = self.longest_core_wait_us {
            println!(
                "longest wait for a core during the emulator run (a 1 ms sleeper's oversleep): {}",
                us(wait)
            );
        }
    }
}

fn us(micros: u64) -> String {
    if micros >= 10_000 {
        format!("{:.1} ms", micros as f64 / 1000.0)
    } else {
        format!("{micros} µs")
    }
}

/// A thread that sleeps 1 ms at a time and keeps the longest it overslept: how long a ready
/// thread waited for a core (a busy machine, another tenant of the host, the kernel), as
/// opposed to a stall of the measured process.
pub(crate) struct StallProbe {
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: std::thread::JoinHandle<u64>,
}

impl StallProbe {
    pub(crate) fn start() -> std::io::Result<Self> {
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let stopped = std::sync::Arc::clone(&stop);
        let thread = std::thread::Builder::new()
            .name("stall-probe".to_owned())
            .spawn(move || {
                let tick = Duration::from_millis(1);
                let mut worst = Duration::ZERO;
                while !stopped.load(std::sync::atomic::Ordering::Relaxed) {
                    let before = std::time::Instant::now();
                    std::thread::sleep(tick);
                    worst = worst.max(before.elapsed().saturating_sub(tick));
                }
                u64::try_from(worst.as_micros()).unwrap_or(u64::MAX)
            })?;
        Ok(Self { stop, thread })
    }

    /// Stops it; the longest oversleep in microseconds.
    pub(crate) fn finish(self) -> Option<u64> {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        self.thread.join().ok()
    }
}
