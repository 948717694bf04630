//! The background result reporter: a bounded queue and a worker that delivers action results
//! to a [`ResultSink`] with retries, never blocking the request path.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures_util::stream::{FuturesUnordered, StreamExt};
use tokio::sync::mpsc::{self, error::TryRecvError, error::TrySendError};
use tokio::sync::{oneshot, Notify};
use tokio::time::Instant;

use super::delivery::{DeliveryEvent, DeliveryPolicy};
use super::warn_every::WarnEvery;
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
    /// Times a delivery waited for the call budget to refill (not counted as attempts).
    pub budget_waits: u64,
}

#[derive(Debug, Default)]
struct Counters {
    /// Reports the worker took from the channel (the ones still in it are counted from the
    /// channel itself: exact once it is quiet, with no window where a refused submit shows).
    taken: AtomicU64,
    sent: AtomicU64,
    retried: AtomicU64,
    failed: AtomicU64,
    dropped: AtomicU64,
    budget_waits: AtomicU64,
}

impl Counters {
    /// The counters, with `waiting` tasks still in the channel.
    fn snapshot(&self, waiting: u64) -> ReporterStats {
        // Read the finishing counters first so in_flight never underflows.
        let sent = self.sent.load(Ordering::Acquire);
        let failed = self.failed.load(Ordering::Acquire);
        let queued = self.taken.load(Ordering::Acquire) + waiting;
        ReporterStats {
            queued,
            sent,
            retried: self.retried.load(Ordering::Relaxed),
            failed,
            dropped: self.dropped.load(Ordering::Relaxed),
            in_flight: queued.saturating_sub(sent + failed),
            budget_waits: self.budget_waits.load(Ordering::Relaxed),
        }
    }
}

/// What the handles send the worker, in order.
enum Task {
    Report(ActionResultReport),
    /// Answer once everything sent before is delivered or given up on.
    Flush(oneshot::Sender<()>),
    /// Take nothing more, deliver what is queued, then answer and stop.
    Shutdown(oneshot::Sender<()>),
}

/// What every clone of a [`Reporter`] shares. When the last clone goes, the channel closes:
/// the worker delivers what is queued and stops.
struct ReporterHandle {
    tasks: mpsc::Sender<Task>,
    /// Rung after a flush or shutdown is queued, so a lingering worker looks at once.
    control: Arc<Notify>,
    counters: Arc<Counters>,
    capacity: usize,
    drop_warn: WarnEvery,
}

/// Delivers action results in the background. Cheap to clone (a handle); every clone feeds
/// the same queue and worker.
///
/// - [`submit`](Self::submit) only tries to queue on a bounded channel (never blocks, never
///   awaits); a full queue drops the report, counts it and logs a rate-limited warning;
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
    handle: Arc<ReporterHandle>,
}

impl fmt::Debug for Reporter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Reporter")
            .field("capacity", &self.handle.capacity)
            .field("stats", &self.stats())
            .finish()
    }
}

/// Builds a [`Reporter`].
#[must_use]
pub struct ReporterBuilder {
    sink: Arc<dyn ResultSink>,
    capacity: usize,
    policy: DeliveryPolicy,
    concurrency: usize,
    linger: Duration,
}

impl fmt::Debug for ReporterBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReporterBuilder")
            .field("capacity", &self.capacity)
            .field("policy", &self.policy)
            .field("concurrency", &self.concurrency)
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
        self.policy = self.policy.with_max_attempts(attempts);
        self
    }

    /// Backoff between attempts: `base` doubled each retry, capped at `max`, with jitter
    /// (defaults 200 ms and 30 s). A server's `Retry-After` replaces it, capped at `max`.
    pub fn backoff(mut self, base: Duration, max: Duration) -> Self {
        self.policy = self.policy.with_backoff(base, max);
        self
    }

    /// Deliveries in progress at once, at most (default 32, at least 1). The worker uses as
    /// many as it needs to deliver what it finds within one [`linger`](Self::linger) at the
    /// typical delivery time it measures, and at least four (when that many wait): four
    /// against a nearby API, all of them against a slow one, and while a flush or shutdown
    /// waits. So a batch never takes every core from the requests for a moment when a few
    /// connections deliver it in time, while deliveries that go out together share the
    /// wake-ups of the server's threads and the API's (on loopback, one at a time cost each
    /// report twice the CPU of four at a time).
    pub fn concurrency(mut self, n: usize) -> Self {
        self.concurrency = n.max(1);
        self
    }

    /// The longest one delivery attempt may take before it counts as a (retryable)
    /// timeout (default 30 s).
    pub fn attempt_timeout(mut self, timeout: Duration) -> Self {
        self.policy = self.policy.with_attempt_timeout(timeout);
        self
    }

    /// All the retry settings at once (see [`DeliveryPolicy`]).
    pub fn delivery_policy(mut self, policy: DeliveryPolicy) -> Self {
        self.policy = policy.with_max_attempts(policy.max_attempts);
        self
    }

    /// How often a busy worker looks at the queue (default 20 ms). While reports keep
    /// coming, what a look finds is delivered over the next linger, so a report waits up to
    /// about two lingers before its delivery starts (longer only when the API is slower than
    /// `concurrency` can make up for); a worker that was quiet starts on the first report at
    /// once.
    pub fn linger(mut self, linger: Duration) -> Self {
        self.linger = linger.max(Duration::from_millis(1));
        self
    }

    /// Starts the worker and returns the handle.
    pub fn build(self) -> Reporter {
        let (tasks, inbox) = mpsc::channel(self.capacity);
        let control = Arc::new(Notify::new());
        let worker_control = control.clone();
        let counters = Arc::new(Counters::default());
        let worker = Worker {
            sink: self.sink,
            counters: counters.clone(),
            policy: self.policy,
            concurrency: self.concurrency,
            linger: self.linger,
        };
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                runtime.spawn(worker.run(inbox, worker_control));
            }
            Err(_) => {
                // No runtime here (actix-web's set-up code, a plain `main`): a thread of its
                // own. If it cannot start, the inbox is dropped and every report is refused
                // (counted, warned about) rather than queued forever.
                let spawned = std::thread::Builder::new()
                    .name("risk-reporter".to_owned())
                    .spawn(move || {
                        match tokio::runtime::Builder::new_current_thread()
                            .enable_all()
                            .build()
                        {
                            Ok(rt) => rt.block_on(worker.run(inbox, worker_control)),
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
            handle: Arc::new(ReporterHandle {
                tasks,
                control,
                counters,
                capacity: self.capacity,
                drop_warn: WarnEvery::new(DROP_WARN_INTERVAL),
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
            policy: DeliveryPolicy::default(),
            concurrency: 32,
            linger: Duration::from_millis(20),
        }
    }

    /// Queues a report. Never blocks and never awaits; a full queue drops it (counted,
    /// warned about).
    pub fn submit(&self, report: ActionResultReport) -> Result<(), ReportDropped> {
        let handle = &*self.handle;
        let why = match handle.tasks.try_send(Task::Report(report)) {
            Ok(()) => return Ok(()),
            Err(TrySendError::Full(_)) => ReportDropped::QueueFull,
            Err(TrySendError::Closed(_)) => ReportDropped::Closed,
        };
        let dropped = handle.counters.dropped.fetch_add(1, Ordering::Relaxed) + 1;
        crate::telemetry::report("dropped");
        self.warn_dropped(why, dropped);
        Err(why)
    }

    fn warn_dropped(&self, why: ReportDropped, dropped_total: u64) {
        if self.handle.drop_warn.due() {
            tracing::warn!(
                reason = %why,
                dropped_total,
                capacity = self.handle.capacity,
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
        self.control(Task::Flush(tx), rx, within).await
    }

    /// Delivers everything queued, then stops the worker; later submissions are dropped.
    ///
    /// # Errors
    ///
    /// [`FlushTimeout`] when the queue is not delivered within `within` (delivery goes on
    /// in the background).
    pub async fn shutdown(&self, within: Duration) -> Result<ReporterStats, FlushTimeout> {
        let (tx, rx) = oneshot::channel();
        self.control(Task::Shutdown(tx), rx, within).await?;
        Ok(self.stats())
    }

    async fn control(
        &self,
        task: Task,
        done: oneshot::Receiver<()>,
        within: Duration,
    ) -> Result<(), FlushTimeout> {
        // Waits for room in the queue, then for the worker's answer, both within `within`.
        // A closed channel or a dropped answer means the worker is gone: the counters tell.
        let asked = async {
            if self.handle.tasks.send(task).await.is_err() {
                return false;
            }
            self.handle.control.notify_one();
            done.await.is_ok()
        };
        if let Ok(true) = tokio::time::timeout(within, asked).await {
            return Ok(());
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
        let tasks = &self.handle.tasks;
        // Tasks in the channel (a flush or shutdown among them counts as one, briefly).
        let waiting = tasks.max_capacity().saturating_sub(tasks.capacity());
        self.handle
            .counters
            .snapshot(u64::try_from(waiting).unwrap_or(u64::MAX))
    }

    /// The queue capacity.
    pub fn capacity(&self) -> usize {
        self.handle.capacity
    }
}

/// One delivery (its retries included); it ends with how long it took.
type Delivery = Pin<Box<dyn Future<Output = Duration> + Send>>;

/// How much a new delivery's time weighs in the typical delivery time (1/8: a moving average
/// over about the last eight).
const PACE_WEIGHT: u32 = 8;

/// The fewest deliveries the pace allows at once (unless `concurrency` is lower). Deliveries
/// that go out together share their wake-ups: the worker's runtime wakes once for several
/// answers, and so does the API's. With the load harness on loopback, one at a time cost
/// each report about 70 µs of CPU (server and API together), four at a time about 35; the
/// price is a deeper moment of contention for the requests, though a rarer one (README,
/// Benchmarks).
const MIN_PACE: usize = 4;

struct Worker {
    sink: Arc<dyn ResultSink>,
    counters: Arc<Counters>,
    policy: DeliveryPolicy,
    concurrency: usize,
    linger: Duration,
}

impl Worker {
    /// One loop: take what is queued while the concurrency allows, deliver it concurrently,
    /// answer flushes once what came before them is done, and stop when the channel is
    /// closed (every handle dropped, or a shutdown) and drained.
    ///
    /// While reports keep coming, the worker looks at the queue every `linger` instead of
    /// waiting on it, so a `submit` wakes nobody (waking a parked thread per report cost
    /// more than the rest of a request's risk work); after a quiet `linger` it waits on the
    /// queue again, and the next report wakes it. Flush and shutdown ring `control` to cut
    /// a linger short.
    ///
    /// What a look finds is paced over the next linger (see [`Worker::pace`]): no more
    /// deliveries at once than needed to deliver the backlog within one linger at the
    /// typical delivery time (but a few together, [`MIN_PACE`]), so that a batch does not
    /// take every core from the requests for a moment when a few connections would deliver
    /// it in time.
    async fn run(self, mut inbox: mpsc::Receiver<Task>, control: Arc<Notify>) {
        let this = Arc::new(self);
        let mut deliveries: FuturesUnordered<Delivery> = FuturesUnordered::new();
        let mut waiters: Vec<oneshot::Sender<()>> = Vec::new();
        // A flush is waiting: take nothing new until what came before it is done.
        let mut draining = false;
        // Every handle is gone, or a shutdown came, and the queue is empty.
        let mut closed = false;
        // Something came within the last `linger`: look again when `look` fires.
        let mut busy = false;
        // The next look's timer, set once per linger (`look_set`) and kept registered across
        // the loop's turns: a `sleep_until` made anew at each turn would leave the timer wheel
        // and enter it again after every delivery, and could wake the runtime's parked timer
        // driver each time.
        let look = tokio::time::sleep_until(Instant::now() + this.linger);
        tokio::pin!(look);
        let mut look_set = false;
        // How long a delivery typically takes (a moving average), once one has been timed.
        let mut typical: Option<Duration> = None;
        // A flush or shutdown is waiting: deliver at full concurrency until the queue is empty.
        let mut hurry = false;
        // The pace of this linger: it only rises until the next look, so that what a look
        // found is delivered within the linger instead of ever more slowly as it drains.
        let mut pace = 0;
        loop {
            let mut took = false;
            loop {
                let limit = this.limit(hurry, &mut pace, inbox.len() + deliveries.len(), typical);
                if closed || draining || deliveries.len() >= limit {
                    break;
                }
                match inbox.try_recv() {
                    Ok(task) => {
                        took = true;
                        this.take(
                            task,
                            &mut deliveries,
                            &mut waiters,
                            &mut draining,
                            &mut inbox,
                        );
                    }
                    Err(TryRecvError::Empty) => break,
                    Err(TryRecvError::Disconnected) => closed = true,
                }
            }
            if inbox.is_empty() && deliveries.is_empty() {
                hurry = false;
            }
            busy |= took;
            if took {
                crate::telemetry::report_queue_depth(inbox.len());
            }
            if draining && deliveries.is_empty() {
                answer(&mut waiters);
                draining = false;
                continue;
            }
            if closed && deliveries.is_empty() {
                answer(&mut waiters);
                return;
            }
            let limit = this.limit(hurry, &mut pace, inbox.len() + deliveries.len(), typical);
            let can_take = !closed && !draining && deliveries.len() < limit;
            if busy || !can_take {
                // One look per `linger`, however often deliveries finish meanwhile.
                if !look_set {
                    look.as_mut().reset(Instant::now() + this.linger);
                    look_set = true;
                }
                tokio::select! {
                    Some(elapsed) = deliveries.next(), if !deliveries.is_empty() => {
                        typical = Some(moving_average(typical, elapsed));
                    }
                    () = control.notified() => hurry = true,
                    () = &mut look, if can_take => {
                        look_set = false;
                        busy = took;
                        pace = 0;
                    }
                }
            } else {
                // Quiet: wait on the queue itself; the next report wakes the worker.
                pace = 0;
                tokio::select! {
                    Some(elapsed) = deliveries.next(), if !deliveries.is_empty() => {
                        typical = Some(moving_average(typical, elapsed));
                    }
                    task = inbox.recv() => match task {
                        Some(task) => {
                            busy = true;
                            this.take(task, &mut deliveries, &mut waiters, &mut draining, &mut inbox);
                        }
                        None => closed = true,
                    },
                }
            }
        }
    }

    /// How many deliveries may run at once: all of `concurrency` while a flush or shutdown
    /// waits (`hurry`), else the linger's `pace`, raised to [`Worker::pace`] of `backlog`.
    fn limit(
        &self,
        hurry: bool,
        pace: &mut usize,
        backlog: usize,
        typical: Option<Duration>,
    ) -> usize {
        if hurry {
            return self.concurrency;
        }
        *pace = (*pace).max(self.pace(backlog, typical));
        *pace
    }

    /// How many deliveries may run at once for `backlog` reports (queued and in flight):
    /// enough to deliver them all within one linger at the `typical` delivery time, at least
    /// [`MIN_PACE`], at most `concurrency` (all of it before a delivery has been timed). On
    /// loopback a delivery takes a fraction of a millisecond and one or two at a time would
    /// keep up, but four share their wake-ups; against a remote API at 100 ms the same load
    /// uses the whole `concurrency`.
    fn pace(&self, backlog: usize, typical: Option<Duration>) -> usize {
        let Some(typical) = typical else {
            return self.concurrency;
        };
        let linger = self.linger.as_nanos().max(1);
        let work = typical.as_nanos().saturating_mul(backlog as u128);
        let needed = work.div_ceil(linger);
        usize::try_from(needed)
            .unwrap_or(usize::MAX)
            .clamp(MIN_PACE.min(self.concurrency), self.concurrency)
    }

    /// Handles one task taken from the queue.
    fn take(
        self: &Arc<Self>,
        task: Task,
        deliveries: &mut FuturesUnordered<Delivery>,
        waiters: &mut Vec<oneshot::Sender<()>>,
        draining: &mut bool,
        inbox: &mut mpsc::Receiver<Task>,
    ) {
        match task {
            Task::Report(report) => {
                // It just left the channel's count: now the worker's.
                self.counters.taken.fetch_add(1, Ordering::AcqRel);
                deliveries.push(Box::pin(self.clone().deliver(report)));
            }
            Task::Flush(waiter) => {
                waiters.push(waiter);
                *draining = true;
            }
            Task::Shutdown(waiter) => {
                // Refuse new reports; what is queued still comes out of the queue.
                waiters.push(waiter);
                inbox.close();
            }
        }
    }

    async fn deliver(self: Arc<Self>, report: ActionResultReport) -> Duration {
        let started = Instant::now();
        let counters = &self.counters;
        let delivered = self
            .policy
            .deliver(&*self.sink, &report, |event| match event {
                DeliveryEvent::Retry => {
                    counters.retried.fetch_add(1, Ordering::Relaxed);
                    crate::telemetry::report("retried");
                }
                DeliveryEvent::BudgetWait => {
                    counters.budget_waits.fetch_add(1, Ordering::Relaxed);
                }
            })
            .await;
        let outcome = match delivered.result {
            Ok(()) => {
                counters.sent.fetch_add(1, Ordering::AcqRel);
                "sent"
            }
            Err(_) => {
                counters.failed.fetch_add(1, Ordering::AcqRel);
                "failed"
            }
        };
        crate::telemetry::report(outcome);
        started.elapsed()
    }
}

/// `typical` moved 1/[`PACE_WEIGHT`] of the way towards `took`.
fn moving_average(typical: Option<Duration>, took: Duration) -> Duration {
    match typical {
        None => took,
        Some(typical) => (typical * (PACE_WEIGHT - 1) + took) / PACE_WEIGHT,
    }
}

fn answer(waiters: &mut Vec<oneshot::Sender<()>>) {
    for waiter in waiters.drain(..) {
        let _ = waiter.send(());
    }
}
