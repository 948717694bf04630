//! CPU time by party, read from `/proc` (Linux; elsewhere nothing is measured): the load
//! generator's threads, the server's (every other thread of the harness: the server's runtime
//! or actix system, its client and its reporter), and the emulator's process.
//!
//! On two shared cores a latency moves with where the scheduler puts each thread; the CPU a
//! request costs each party does not, so it tells what the middleware itself spends.

use std::time::Duration;

use serde::Serialize;

/// Names the load generator's worker threads (`/proc/.../comm`, at most 15 bytes).
pub(crate) const LOAD_THREAD: &str = "bench-load";

/// CPU time spent so far by each party.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct CpuTime {
    load: Duration,
    server: Duration,
    emulator: Option<Duration>,
}

impl CpuTime {
    /// Now, `emulator` being the emulator's process (`None` when it is not a child of ours).
    /// `None` where `/proc` cannot be read.
    pub(crate) fn now(emulator: Option<u32>) -> Option<Self> {
        let own = std::process::id();
        let mut time = Self::default();
        for (tid, comm, spent) in threads("self")? {
            if tid == own || comm.starts_with(LOAD_THREAD) {
                time.load += spent;
            } else {
                time.server += spent;
            }
        }
        time.emulator = emulator.and_then(|pid| {
            threads(&pid.to_string()).map(|threads| threads.iter().map(|t| t.2).sum())
        });
        Some(time)
    }

    /// What was spent since `earlier`. A thread that ended meanwhile is not counted.
    pub(crate) fn since(self, earlier: Self) -> Self {
        Self {
            load: self.load.saturating_sub(earlier.load),
            server: self.server.saturating_sub(earlier.server),
            emulator: self
                .emulator
                .zip(earlier.emulator)
                .map(|(now, then)| now.saturating_sub(then)),
        }
    }

    /// Both together.
    pub(crate) fn add(self, other: Self) -> Self {
        Self {
            load: self.load + other.load,
            server: self.server + other.server,
            emulator: self.emulator.zip(other.emulator).map(|(a, b)| a + b),
        }
    }

    /// Per request, in microseconds; `None` for no request.
    pub(crate) fn per_request(self, requests: u64) -> Option<CpuPerRequest> {
        let per = |d: Duration| d.as_secs_f64() * 1e6 / requests as f64;
        (requests > 0).then(|| CpuPerRequest {
            load_us: per(self.load),
            server_us: per(self.server),
            emulator_us: self.emulator.map(per),
        })
    }
}

/// CPU microseconds per request, by party.
#[derive(Debug, Clone, Copy, Serialize)]
pub(crate) struct CpuPerRequest {
    pub(crate) load_us: f64,
    pub(crate) server_us: f64,
    pub(crate) emulator_us: Option<f64>,
}

/// Each thread of process `pid` (`self` for this one): its id, name, and time on a CPU so far
/// (`/proc/<pid>/task/<tid>/schedstat`, nanoseconds).
fn threads(pid: &str) -> Option<Vec<(u32, String, Duration)>> {
    let dir = std::fs::read_dir(format!("/proc/{pid}/task")).ok()?;
    let mut threads = Vec::new();
    for entry in dir.flatten() {
        let path = entry.path();
        let Some(tid) = entry.file_name().to_str().and_then(|t| t.parse().ok()) else {
            continue;
        };
        // A thread that ends between the listing and these reads is left out.
        let (Ok(comm), Ok(stat)) = (
            std::fs::read_to_string(path.join("comm")),
            std::fs::read_to_string(path.join("schedstat")),
        ) else {
            continue;
        };
        let Some(ns) = stat
            .split_whitespace()
            .next()
            .and_then(|n| n.parse::<u64>().ok())
        else {
            continue;
        };
        threads.push((tid, comm.trim().to_owned(), Duration::from_nanos(ns)));
    }
    Some(threads)
}
