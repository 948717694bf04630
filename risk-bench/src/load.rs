//! The load generator: a fixed number of keep-alive HTTP/1.1 connections per worker, each
//! worker running one transaction at a time until the deadline, every transaction's latency
//! (and each of its steps') recorded in HDR histograms (microseconds, 3 significant digits).

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use hdrhistogram::Histogram;
use http::{header, Method, Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

use crate::cpu::CpuTime;

/// A failed transaction: the connection is opened again.
#[derive(Debug)]
pub(crate) struct LoadError(pub(crate) String);

impl<E: std::fmt::Display> From<E> for LoadError {
    fn from(e: E) -> Self {
        Self(e.to_string())
    }
}

/// One keep-alive connection.
pub(crate) struct Conn {
    addr: SocketAddr,
    sender: SendRequest<Full<Bytes>>,
}

impl Conn {
    pub(crate) async fn open(addr: SocketAddr) -> Result<Self, LoadError> {
        let stream = TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        let (sender, connection) =
            hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
        tokio::spawn(async move {
            // Ends when the connection closes; an error then is the next request's to see.
            let _ = connection.await;
        });
        Ok(Self { addr, sender })
    }

    /// Sends one request and reads its whole answer.
    pub(crate) async fn send(
        &mut self,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: Bytes,
    ) -> Result<(StatusCode, Bytes), LoadError> {
        let mut req = Request::builder()
            .method(method)
            .uri(path)
            .header(header::HOST, self.addr.to_string());
        if !body.is_empty() {
            req = req.header(header::CONTENT_TYPE, "application/json");
        }
        for (name, value) in headers {
            req = req.header(*name, *value);
        }
        let req = req.body(Full::new(body))?;
        self.sender.ready().await?;
        let resp = self.sender.send_request(req).await?;
        let status = resp.status();
        let body = resp.into_body().collect().await?.to_bytes();
        Ok((status, body))
    }
}

/// What a scenario does per transaction.
pub(crate) trait Transaction: Send + Sync + 'static {
    /// The addresses of the connections a worker needs (one each).
    fn targets(&self) -> Vec<SocketAddr>;
    /// Runs transaction `i` on `conns`, timing its steps into `steps`; the status that
    /// decides whether it succeeded (the last one, or the first that failed).
    fn run<'a>(
        &'a self,
        conns: &'a mut [Conn],
        i: u64,
        steps: &'a mut Steps,
    ) -> impl std::future::Future<Output = Result<StatusCode, LoadError>> + Send + 'a;
}

/// Per-step histograms of a transaction (the emulator scenario times its two calls apart).
#[derive(Default)]
pub(crate) struct Steps {
    pub(crate) by_name: BTreeMap<&'static str, Histogram<u64>>,
}

impl Steps {
    pub(crate) fn record(&mut self, name: &'static str, elapsed: Duration) {
        let h = self.by_name.entry(name).or_insert_with(new_histogram);
        h.saturating_record(micros(elapsed));
    }

    fn merge(&mut self, other: Self) {
        for (name, h) in other.by_name {
            let into = self.by_name.entry(name).or_insert_with(new_histogram);
            // Same bounds: adding cannot fail.
            let _ = into.add(&h);
        }
    }
}

pub(crate) fn new_histogram() -> Histogram<u64> {
    // 1 µs to 60 s, 3 significant digits; auto-resize past that.
    let mut h = Histogram::new_with_bounds(1, 60_000_000, 3).unwrap_or_else(|_| {
        Histogram::new(3).unwrap_or_else(|_| unreachable!("3 digits is valid"))
    });
    h.auto(true);
    h
}

fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX).max(1)
}

/// What a run measured.
pub(crate) struct Outcome {
    pub(crate) latency: Histogram<u64>,
    pub(crate) steps: Steps,
    pub(crate) ok: u64,
    pub(crate) errors: u64,
    pub(crate) statuses: BTreeMap<u16, u64>,
    pub(crate) elapsed: Duration,
    /// The first failed transaction's error, if any.
    pub(crate) first_error: Option<String>,
    /// CPU time spent by each party meanwhile, when measured.
    pub(crate) cpu: Option<CpuTime>,
}

impl Outcome {
    /// Adds another slice of the same scenario.
    pub(crate) fn merge(&mut self, other: Self) {
        // Same bounds: adding cannot fail.
        let _ = self.latency.add(&other.latency);
        self.steps.merge(other.steps);
        self.ok += other.ok;
        self.errors += other.errors;
        for (status, n) in other.statuses {
            *self.statuses.entry(status).or_insert(0) += n;
        }
        self.elapsed += other.elapsed;
        if self.first_error.is_none() {
            self.first_error = other.first_error;
        }
        self.cpu = self.cpu.zip(other.cpu).map(|(a, b)| a.add(b));
    }

    pub(crate) fn rps(&self) -> f64 {
        let done = self.ok + self.errors;
        done as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// Runs `tx` on `connections` workers for `duration` (or until `stop` says so).
pub(crate) async fn run<T: Transaction>(
    tx: Arc<T>,
    connections: usize,
    duration: Duration,
    stop: Option<Arc<dyn Fn() -> bool + Send + Sync>>,
) -> Result<Outcome, LoadError> {
    let started = Instant::now();
    let deadline = started + duration;
    let mut workers = tokio::task::JoinSet::new();
    for worker in 0..connections {
        let tx = Arc::clone(&tx);
        let stop = stop.clone();
        workers.spawn(async move {
            let mut conns = open_all(&tx.targets()).await?;
            let mut latency = new_histogram();
            let mut steps = Steps::default();
            let (mut ok, mut errors) = (0u64, 0u64);
            let mut statuses = BTreeMap::new();
            let mut first_error = None;
            let mut i = worker as u64;
            while Instant::now() < deadline && !stop.as_ref().is_some_and(|s| s()) {
                let t = Instant::now();
                match tx.run(&mut conns, i, &mut steps).await {
                    Ok(status) => {
                        latency.saturating_record(micros(t.elapsed()));
                        *statuses.entry(status.as_u16()).or_insert(0u64) += 1;
                        ok += 1;
                    }
                    Err(e) => {
                        errors += 1;
                        first_error.get_or_insert(e.0);
                        conns = open_all(&tx.targets()).await?;
                    }
                }
                i += connections as u64;
            }
            Ok::<_, LoadError>((latency, steps, ok, errors, statuses, first_error))
        });
    }
    let mut out = Outcome {
        latency: new_histogram(),
        steps: Steps::default(),
        ok: 0,
        errors: 0,
        statuses: BTreeMap::new(),
        elapsed: Duration::ZERO,
        first_error: None,
        cpu: None,
    };
    while let Some(joined) = workers.join_next().await {
        let (latency, steps, ok, errors, statuses, first_error) = joined??;
        if out.first_error.is_none() {
            out.first_error = first_error;
        }
        let _ = out.latency.add(&latency);
        out.steps.merge(steps);
        out.ok += ok;
        out.errors += errors;
        for (status, n) in statuses {
            *out.statuses.entry(status).or_insert(0) += n;
        }
    }
    out.elapsed = started.elapsed();
    Ok(out)
}

async fn open_all(targets: &[SocketAddr]) -> Result<Vec<Conn>, LoadError> {
    let mut conns = Vec::with_capacity(targets.len());
    for addr in targets {
        conns.push(Conn::open(*addr).await?);
    }
    Ok(conns)
}
