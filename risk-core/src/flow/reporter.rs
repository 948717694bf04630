//! The background result reporter: a bounded queue and a worker that delivers action results
//! to a [`ResultSink`] with retries, never blocking the request path.

use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use futures_util::stream::{FuturesUnordered, StreamExt};
use tokio::sync::{oneshot, Notify};

use crate::error::Error;
use crate::models::ActionResultReport;
use crate::recommender::ResultSink;

/// How often at most a "queue full" warning is logged.
const DROP_WARN_INTERVAL: Duration = Duration::from_secs(10);

/// A report was not queued. It is counted in [`ReporterStats::dropped`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ReportDropped {
    /// The queue is full (the sink is slow or down): raise the capacity or fix the sink.
    #[error("the result report queue is full; the report was dropped")]
    QueueFull,
    /// The reporter was shut down or its worker stopped.
    #[error("the result reporter is shut down; the report was dropped")]
    Closed,
}

/// `flush` or `shutdown` did not finish within its deadline. Delivery continues in the
/// background.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("result reports not all delivered within {within:?} ({pending} still in flight)")]
#[non_exhaustive]
pub struct FlushTimeout {
    /// The deadline given.
    pub within: Duration,
    /// Reports accepted and not yet sent or failed when the deadline passed.
    pub pending: u64,
}

/// Counters of a [`Reporter`], readable at any time.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ReporterStats {
    /// Reports accepted into the queue.
    pub queued: u64,
    /// Reports delivered.
    pub sent: u64,
    /// Retry attempts made (a report retried twice counts 2).
    pub retried: u64,
    /// Reports given up on (not retryable, or out of attempts); each one is logged.
    pub failed: u64,
    /// Reports refused because the queue was full or the reporter shut down.
    pub dropped: u64,
    /// Reports accepted and not yet sent or failed.
    pub in_flight: u64,
}

#[derive(Debug, Default)]
struct Counters {
    queued: AtomicU64,
    sent: AtomicU64,
    retried: AtomicU64,
    failed: AtomicU64,
    dropped: AtomicU64,
}

impl Counters {
    fn snapshot(&self) -> ReporterStats {
        // Read the finishing counters first so in_flight never underflows.
        let sent = self.sent.load(Ordering::Acquire);
        let failed = self.failed.load(Ordering::Acquire);
        let queued = self.queued.load(Ordering::Acquire);
        ReporterStats {
            queued,
            sent,
            retried: self.retried.load(Ordering::Relaxed),
            failed,
            dropped: self.dropped.load(Ordering::Relaxed),
            in_flight: queued.saturating_sub(sent + failed),
        }
    }
}

enum Msg {
    Report(ActionResultReport),
    Flush(oneshot::Sender<()>),
    Shutdown(oneshot::Sender<()>),
}

/// The queue between the handles and the worker.
///
/// A plain mutex-protected deque rather than a channel: a channel wakes the worker on every
/// report, and waking a parked thread costs more than everything else a request does here.
/// The worker is woken only when it is idle (the first report after a quiet period), when
/// a batch is ready, or for flush/shutdown; otherwise it collects reports every `linger`.
struct Queue {
    items: Mutex<VecDeque<Msg>>,
    capacity: usize,
    /// Queue length at which a busy worker is woken before its next `linger` tick.
    wake_at: usize,
    notify: Notify,
    /// The worker waits for a notification only (no timer).
    idle: AtomicBool,
    /// No more reports are accepted (shut down, or every handle dropped).
    closed: AtomicBool,
    /// The worker task is running (false once its runtime dropped it).
    alive: AtomicBool,
}

impl Queue {
    fn lock(&self) -> MutexGuard<'_, VecDeque<Msg>> {
        self.items
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn wake(&self) {
        self.notify.notify_one();
    }
}

struct Shared {
    queue: Arc<Queue>,
    counters: Arc<Counters>,
    base: std::time::Instant,
    /// Milliseconds since `base` of the last "queue full" warning, plus one (0: never).
    last_drop_warn: AtomicU64,
}

impl Drop for Shared {
    fn drop(&mut self) {
        // The last handle is gone: the worker delivers what is queued and stops. Set under
        // the queue lock, where the worker decides to stop.
        {
            let _items = self.queue.lock();
            self.queue.closed.store(true, Ordering::SeqCst);
        }
        self.queue.wake();
    }
}

/// Delivers action results in the background. Cheap to clone (a handle); every clone feeds
/// the same queue and worker.
///
/// - [`submit`](Self::submit) only tries to queue (never blocks, never awaits); a full
///   queue drops the report, counts it and logs a rate-limited warning;
/// - the worker runs on the tokio runtime current when the reporter is built, or else on
///   a dedicated thread with its own runtime; `submit` works from any thread or runtime
///   (actix-web's per-thread runtimes included);
/// - failed deliveries that may succeed later ([`Error::is_retryable`]) are retried with
///   exponential backoff and jitter, waiting the server's `Retry-After` when it gave one
///   (capped at the backoff maximum: a `Retry-After` of a day does not park a delivery for
///   a day); others (400, 463...) are counted as failed and logged. Nothing is dropped silently.
///
/// Build it from within the runtime that lives as long as the application (the worker
/// stops with its runtime).
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// use std::time::Duration;
/// use risk_core::{ActionResult, ActionResultReport, ActionToken, Reporter};
/// # struct Sink;
/// # #[async_trait::async_trait]
/// # impl risk_core::ResultSink for Sink {
/// #     async fn report(&self, _: &ActionResultReport) -> Result<(), risk_core::Error> { Ok(()) }
/// # }
/// # let sink = Sink;
/// let reporter = Reporter::builder(sink).capacity(1_000).build();
/// reporter
///     .submit(ActionResultReport::new(ActionToken::new("at-1"), ActionResult::Success))
///     .unwrap();
/// reporter.flush(Duration::from_secs(5)).await.unwrap();
/// assert_eq!(reporter.stats().sent, 1);
/// # }
/// ```
#[derive(Clone)]
pub struct Reporter {
    shared: Arc<Shared>,
}

impl fmt::Debug for Reporter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Reporter")
            .field("capacity", &self.shared.queue.capacity)
            .field("stats", &self.stats())
            .finish()
    }
}

/// Builds a [`Reporter`].
#[must_use]
pub struct ReporterBuilder {
    sink: Arc<dyn ResultSink>,
    capacity: usize,
    max_attempts: u32,
    backoff_base: Duration,
    backoff_max: Duration,
    concurrency: usize,
    attempt_timeout: Duration,
    linger: Duration,
}

impl fmt::Debug for ReporterBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReporterBuilder")
            .field("capacity", &self.capacity)
            .field("max_attempts", &self.max_attempts)
            .field("backoff_base", &self.backoff_base)
            .field("backoff_max", &self.backoff_max)
            .field("concurrency", &self.concurrency)
            .field("attempt_timeout", &self.attempt_timeout)
            .field("linger", &self.linger)
            .finish()
    }
}

impl ReporterBuilder {
    /// Queue capacity (default 10 000, at least 1).
    pub fn capacity(mut self, capacity: usize) -> Self {
        self.capacity = capacity.max(1);
        self
    }

    /// Delivery attempts per report, the first included (default 10, at least 1).
    pub fn max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = attempts.max(1);
        self
    }

    /// Backoff between attempts: `base` doubled each retry, capped at `max`, with jitter
    /// (defaults 200 ms and 30 s). A server's `Retry-After` replaces it, capped at `max`.
    pub fn backoff(mut self, base: Duration, max: Duration) -> Self {
        self.backoff_base = base;
        self.backoff_max = max.max(base);
        self
    }

    /// Deliveries in progress at once (default 32, at least 1).
    pub fn concurrency(mut self, n: usize) -> Self {
        self.concurrency = n.max(1);
        self
    }

    /// The longest one delivery attempt may take before it counts as a (retryable)
    /// timeout (default 30 s).
    pub fn attempt_timeout(mut self, timeout: Duration) -> Self {
        self.attempt_timeout = timeout;
        self
    }

    /// How long a busy worker lets reports gather before sending them (default 20 ms).
    /// A worker that was idle starts on the first report at once; a full batch, `flush`
    /// and `shutdown` also start it at once.
    pub fn linger(mut self, linger: Duration) -> Self {
        self.linger = linger.max(Duration::from_millis(1));
        self
    }

    /// Starts the worker and returns the handle.
    pub fn build(self) -> Reporter {
        let queue = Arc::new(Queue {
            items: Mutex::new(VecDeque::new()),
            capacity: self.capacity,
            wake_at: (self.capacity / 2).clamp(1, 64),
            notify: Notify::new(),
            idle: AtomicBool::new(true),
            closed: AtomicBool::new(false),
            alive: AtomicBool::new(true),
        });
        let counters = Arc::new(Counters::default());
        let worker = Worker {
            sink: self.sink,
            queue: queue.clone(),
            counters: counters.clone(),
            max_attempts: self.max_attempts,
            backoff_base: self.backoff_base,
            backoff_max: self.backoff_max,
            concurrency: self.concurrency,
            attempt_timeout: self.attempt_timeout,
            linger: self.linger,
        };
        let alive = AliveGuard(queue.clone());
        match tokio::runtime::Handle::try_current() {
            Ok(handle) => {
                handle.spawn(worker.run(alive));
            }
            Err(_) => {
                let spawned = std::thread::Builder::new()
                    .name("risk-reporter".to_owned())
                    .spawn(move || {
                        match tokio::runtime::Builder::new_current_thread()
                            .enable_all()
                            .build()
                        {
                            Ok(rt) => rt.block_on(worker.run(alive)),
                            Err(e) => tracing::error!(
                                error = %e,
                                "cannot start the result reporter's runtime; reports will be dropped"
                            ),
                        }
                    });
                if let Err(e) = spawned {
                    tracing::error!(
                        error = %e,
                        "cannot start the result reporter's thread; reports will be dropped"
                    );
                }
            }
        }
        Reporter {
            shared: Arc::new(Shared {
                queue,
                counters,
                base: std::time::Instant::now(),
                last_drop_warn: AtomicU64::new(0),
            }),
        }
    }
}

impl Reporter {
    /// A builder delivering to `sink` (the [`RiskClient`](crate::RiskClient), or your own
    /// durable queue).
    pub fn builder(sink: impl ResultSink) -> ReporterBuilder {
        ReporterBuilder {
            sink: Arc::new(sink),
            capacity: 10_000,
            max_attempts: 10,
            backoff_base: Duration::from_millis(200),
            backoff_max: Duration::from_secs(30),
            concurrency: 32,
            attempt_timeout: Duration::from_secs(30),
            linger: Duration::from_millis(20),
        }
    }

    /// Queues a report. Never blocks (a short uncontended lock) and never awaits; a full
    /// queue drops it (counted, warned about).
    pub fn submit(&self, report: ActionResultReport) -> Result<(), ReportDropped> {
        let queue = &*self.shared.queue;
        let refused = {
            // `closed` and `alive` are read (and set) under the queue lock, where the worker
            // decides to stop: no report is ever queued after that decision.
            let mut items = queue.lock();
            if queue.closed.load(Ordering::Acquire) || !queue.alive.load(Ordering::Acquire) {
                Some(ReportDropped::Closed)
            } else if items.len() >= queue.capacity {
                Some(ReportDropped::QueueFull)
            } else {
                // Counted under the lock, so the worker never finishes a report not yet counted.
                self.shared.counters.queued.fetch_add(1, Ordering::AcqRel);
                items.push_back(Msg::Report(report));
                let len = items.len();
                drop(items);
                if queue.idle.swap(false, Ordering::SeqCst) || len == queue.wake_at {
                    queue.wake();
                }
                None
            }
        };
        match refused {
            None => Ok(()),
            Some(why) => {
                let dropped = self.shared.counters.dropped.fetch_add(1, Ordering::Relaxed) + 1;
                self.warn_dropped(why, dropped);
                Err(why)
            }
        }
    }

    fn warn_dropped(&self, why: ReportDropped, dropped_total: u64) {
        let now = self.shared.base.elapsed().as_millis() as u64 + 1;
        let last = self.shared.last_drop_warn.load(Ordering::Relaxed);
        let due = last == 0 || now.saturating_sub(last) >= DROP_WARN_INTERVAL.as_millis() as u64;
        if due
            && self
                .shared
                .last_drop_warn
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            tracing::warn!(
                reason = %why,
                dropped_total,
                capacity = self.shared.queue.capacity,
                "result reports dropped (warning at most every 10 s)"
            );
        }
    }

    /// Waits until every report queued before this call is delivered (or given up on).
    /// Reports submitted meanwhile do not delay it (they are taken once it is done).
    ///
    /// # Errors
    ///
    /// [`FlushTimeout`] when those reports are not all done within `within`; its
    /// `pending` counts every report not yet done, later ones included.
    pub async fn flush(&self, within: Duration) -> Result<(), FlushTimeout> {
        let (tx, rx) = oneshot::channel();
        self.control(Msg::Flush(tx), rx, within).await
    }

    /// Delivers everything queued, then stops the worker; later submissions are dropped.
    /// Returns the final counters.
    pub async fn shutdown(&self, within: Duration) -> Result<ReporterStats, FlushTimeout> {
        {
            // Under the lock, where `submit` and the worker read it.
            let _items = self.shared.queue.lock();
            self.shared.queue.closed.store(true, Ordering::SeqCst);
        }
        let (tx, rx) = oneshot::channel();
        self.control(Msg::Shutdown(tx), rx, within).await?;
        Ok(self.stats())
    }

    async fn control(
        &self,
        msg: Msg,
        done: oneshot::Receiver<()>,
        within: Duration,
    ) -> Result<(), FlushTimeout> {
        let queue = &*self.shared.queue;
        let pushed = {
            let mut items = queue.lock();
            let alive = queue.alive.load(Ordering::Acquire);
            if alive {
                items.push_back(msg);
            }
            alive
        };
        if pushed {
            queue.idle.store(false, Ordering::SeqCst);
            queue.wake();
            // The worker answers once everything queued before `msg` is done (whatever
            // arrived since). An error means the worker is gone; the counters tell.
            if let Ok(Ok(())) = tokio::time::timeout(within, done).await {
                return Ok(());
            }
        }
        let pending = self.stats().in_flight;
        if pending > 0 {
            Err(FlushTimeout { within, pending })
        } else {
            Ok(())
        }
    }

    /// The counters.
    pub fn stats(&self) -> ReporterStats {
        self.shared.counters.snapshot()
    }

    /// The queue capacity.
    pub fn capacity(&self) -> usize {
        self.shared.queue.capacity
    }
}

/// Marks the worker as gone when its future is dropped (runtime shut down) or ends.
struct AliveGuard(Arc<Queue>);

impl Drop for AliveGuard {
    fn drop(&mut self) {
        // Under the lock, where `submit` reads it.
        let _items = self.0.lock();
        self.0.alive.store(false, Ordering::SeqCst);
    }
}

/// What the worker does when it has nothing in flight and found the queue empty.
enum Quiet {
    /// Keep waiting with the linger timer.
    No,
    /// Closed and drained: stop.
    Stop,
    /// Wait for a notification only.
    Idle,
}

type Delivery = Pin<Box<dyn Future<Output = ()> + Send>>;

struct Worker {
    sink: Arc<dyn ResultSink>,
    queue: Arc<Queue>,
    counters: Arc<Counters>,
    max_attempts: u32,
    backoff_base: Duration,
    backoff_max: Duration,
    concurrency: usize,
    attempt_timeout: Duration,
    linger: Duration,
}

impl Worker {
    async fn run(self, _alive: AliveGuard) {
        let this = Arc::new(self);
        let queue = this.queue.clone();
        let mut inflight: FuturesUnordered<Delivery> = FuturesUnordered::new();
        let mut flush_waiters: Vec<oneshot::Sender<()>> = Vec::new();
        let mut shutdown_waiters: Vec<oneshot::Sender<()>> = Vec::new();
        // While a flush waits, take nothing new until what came before it is done.
        let mut draining = false;
        let mut stopping = false;
        // A full `linger` passed with nothing to do: the next quiet moment goes idle.
        let mut lingered = false;
        loop {
            // Take what the concurrency allows.
            let mut queue_empty = false;
            let mut took = false;
            while !draining && inflight.len() < this.concurrency {
                let next = queue.lock().pop_front();
                took |= next.is_some();
                match next {
                    Some(Msg::Report(report)) => {
                        inflight.push(Box::pin(this.clone().deliver(report)));
                    }
                    Some(Msg::Flush(w)) => {
                        flush_waiters.push(w);
                        draining = true;
                    }
                    Some(Msg::Shutdown(w)) => {
                        shutdown_waiters.push(w);
                        stopping = true;
                    }
                    None => {
                        queue_empty = true;
                        break;
                    }
                }
            }
            if took {
                lingered = false;
            }
            if draining && inflight.is_empty() {
                flush_waiters.drain(..).for_each(|w| {
                    let _ = w.send(());
                });
                draining = false;
                continue;
            }
            if queue_empty && inflight.is_empty() {
                // Decided under the lock: `submit` checks `closed` under it too, so no
                // report can slip in after the last look.
                let quiet = {
                    let items = queue.lock();
                    let closed = stopping || queue.closed.load(Ordering::SeqCst);
                    if !items.is_empty() {
                        Quiet::No
                    } else if closed {
                        // Gone from this moment, under the same lock: a flush or shutdown
                        // arriving now sees it at once instead of waiting for an answer
                        // that would never come.
                        queue.alive.store(false, Ordering::SeqCst);
                        Quiet::Stop
                    } else if lingered {
                        queue.idle.store(true, Ordering::SeqCst);
                        Quiet::Idle
                    } else {
                        Quiet::No
                    }
                };
                match quiet {
                    Quiet::Stop => {
                        flush_waiters
                            .drain(..)
                            .chain(shutdown_waiters.drain(..))
                            .for_each(|w| {
                                let _ = w.send(());
                            });
                        return;
                    }
                    Quiet::Idle => {
                        // Sleep until a handle wakes us (no timer while nothing happens).
                        queue.notify.notified().await;
                        queue.idle.store(false, Ordering::SeqCst);
                        lingered = false;
                        continue;
                    }
                    Quiet::No => {}
                }
            }
            let can_take = !draining && inflight.len() < this.concurrency;
            tokio::select! {
                Some(()) = inflight.next(), if !inflight.is_empty() => {}
                () = queue.notify.notified() => {}
                () = tokio::time::sleep(this.linger), if can_take => {
                    lingered = inflight.is_empty();
                }
            }
        }
    }

    fn backoff(&self, retry: u32) -> Duration {
        let exp = self
            .backoff_base
            .saturating_mul(1u32.checked_shl(retry.min(20)).unwrap_or(u32::MAX))
            .min(self.backoff_max);
        // Equal jitter: between half and all of the exponential delay.
        let half = exp / 2;
        half + Duration::from_nanos(fastrand::u64(0..=half.as_nanos() as u64))
    }

    async fn deliver(self: Arc<Self>, report: ActionResultReport) {
        let mut attempt = 1;
        loop {
            let result =
                match tokio::time::timeout(self.attempt_timeout, self.sink.report(&report)).await {
                    Ok(r) => r,
                    Err(_) => Err(Error::Timeout {
                        after: self.attempt_timeout,
                    }),
                };
            match result {
                Ok(()) => {
                    self.counters.sent.fetch_add(1, Ordering::AcqRel);
                    return;
                }
                Err(e) if e.is_retryable() && attempt < self.max_attempts => {
                    self.counters.retried.fetch_add(1, Ordering::Relaxed);
                    // A server's Retry-After is honoured up to the backoff maximum.
                    let wait = e.retry_after().map_or_else(
                        || self.backoff(attempt - 1),
                        |after| after.min(self.backoff_max),
                    );
                    tracing::debug!(
                        action_token = %report.action_token.redacted(),
                        attempt, error = %e, wait_ms = wait.as_millis() as u64,
                        "result report failed; retrying"
                    );
                    tokio::time::sleep(wait).await;
                    attempt += 1;
                }
                Err(e) => {
                    self.counters.failed.fetch_add(1, Ordering::AcqRel);
                    tracing::warn!(
                        action_token = %report.action_token.redacted(),
                        result = %report.result,
                        attempts = attempt,
                        error = %e,
                        "result report given up"
                    );
                    return;
                }
            }
        }
    }
}
