//! Durable result reports on a Redis Stream: [`RedisReports`], its sink
//! ([`RedisStreamSink`]) and its consumer ([`ReportDelivery`]).

use std::collections::HashSet;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use futures_util::stream::{self, StreamExt};
use redis::aio::ConnectionManager;
use redis::streams::{
    StreamAutoClaimOptions, StreamAutoClaimReply, StreamId, StreamMaxlen, StreamReadOptions,
    StreamReadReply,
};
use redis::AsyncCommands;
use risk_core::{ActionResultReport, DeliveryPolicy, Error, Reporter, ResultSink};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::connection::{connect, key, redacted};
use crate::{SetupError, DEFAULT_KEY_PREFIX};

/// The field of a stream entry holding the report (JSON).
const FIELD: &str = "report";
/// How long one XREADGROUP waits for new entries: below the connection's response timeout
/// (500 ms).
const READ_BLOCK_MS: usize = 200;

/// Durable result reports on a Redis Stream, shared by a fleet: each instance appends its
/// reports, and any instance's [`ReportDelivery`] delivers them. Cheap to clone.
///
/// - **Never on the request path:** a completed report goes to the instance's small in-memory
///   [`Reporter`] ([`local_reporter`](Self::local_reporter)), which appends it to the stream
///   in the background (`XADD ... MAXLEN ~ max_len`) and keeps it, retrying, while Redis is
///   unreachable.
/// - **At least once:** a delivery acknowledges an entry (`XACK`) only once the risk API
///   accepted the report (or refused it for good: counted, logged). Entries a dead instance
///   had taken are claimed by another after [`claim_idle`](ReportDeliveryBuilder::claim_idle)
///   (`XAUTOCLAIM`); a live instance keeps its entries by refreshing them while it works on
///   them.
/// - **Duplicates are rare:** one happens only when an instance dies between the API's
///   answer and its `XACK` (a few milliseconds), or when Redis loses an acknowledgement. The
///   API accepts a repeated result, so a duplicate does no harm.
/// - **Memory:** the stream holds at most about `max_len` entries (default 100,000, about
///   30 MB); beyond, the oldest are trimmed, delivered or not, so size it for the longest
///   outage of the API you want to ride out.
#[derive(Clone)]
pub struct RedisReports {
    inner: Arc<StreamTarget>,
}

/// The stream and consumer group the reports go to, and the connection to it.
struct StreamTarget {
    conn: ConnectionManager,
    stream: String,
    group: String,
    max_len: usize,
    /// The capacity of the local reporter in front of the stream.
    local_capacity: usize,
}

impl fmt::Debug for RedisReports {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisReports")
            .field("stream", &self.inner.stream)
            .field("group", &self.inner.group)
            .field("max_len", &self.inner.max_len)
            .finish_non_exhaustive()
    }
}

/// Builds [`RedisReports`].
#[derive(Clone)]
#[must_use]
pub struct RedisReportsBuilder {
    url: String,
    prefix: String,
    max_len: usize,
    local_capacity: usize,
}

impl fmt::Debug for RedisReportsBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisReportsBuilder")
            .field("url", &redacted(&self.url))
            .field("prefix", &self.prefix)
            .field("max_len", &self.max_len)
            .field("local_capacity", &self.local_capacity)
            .finish()
    }
}

impl RedisReportsBuilder {
    /// The prefix of the keys (default `risk`): the stream is `{prefix}:reports`, the group
    /// `{prefix}-delivery`.
    pub fn key_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// The most entries the stream keeps, approximately (default 100,000, at least 1,000).
    pub fn max_len(mut self, max_len: usize) -> Self {
        self.max_len = max_len.max(1_000);
        self
    }

    /// How many reports this instance's [local buffer](RedisReports::local_reporter) holds
    /// while they wait for Redis (default 1,000, at least 1). Once it is full (Redis down
    /// long enough), further reports are dropped and counted (`ReporterStats::dropped`), never
    /// queued without bound.
    pub fn local_capacity(mut self, capacity: usize) -> Self {
        self.local_capacity = capacity.max(1);
        self
    }

    /// Checks the settings; the connection is made on first use.
    pub fn build(self) -> Result<RedisReports, SetupError> {
        Ok(RedisReports {
            inner: Arc::new(StreamTarget {
                conn: connect(&self.url)?,
                stream: key(&self.prefix, "reports"),
                group: format!("{}-delivery", self.prefix),
                max_len: self.max_len,
                local_capacity: self.local_capacity,
            }),
        })
    }
}

impl RedisReports {
    /// A builder for the Redis at `url`.
    pub fn builder(url: impl Into<String>) -> RedisReportsBuilder {
        RedisReportsBuilder {
            url: url.into(),
            prefix: DEFAULT_KEY_PREFIX.to_owned(),
            max_len: 100_000,
            local_capacity: 1_000,
        }
    }

    /// The sink that appends to the stream (give it to a [`Reporter`]).
    pub fn sink(&self) -> RedisStreamSink {
        RedisStreamSink {
            inner: self.inner.clone(),
        }
    }

    /// This instance's local buffer: a [`Reporter`] onto [`sink`](Self::sink) holding up to
    /// [`local_capacity`](RedisReportsBuilder::local_capacity) reports (1,000 by default),
    /// retrying without end (every 100 ms to 5 s) while Redis is unreachable; a report that
    /// finds it full is dropped and counted. Build it within the runtime that lives as long as
    /// the application.
    pub fn local_reporter(&self) -> Reporter {
        Reporter::builder(self.sink())
            .capacity(self.inner.local_capacity)
            .max_attempts(u32::MAX)
            .backoff(Duration::from_millis(100), Duration::from_secs(5))
            .attempt_timeout(Duration::from_secs(2))
            .build()
    }

    /// A delivery of the stream's reports to `api` (the [`RiskClient`](risk_core::RiskClient)),
    /// as consumer `consumer` (unique per instance, e.g. its host name).
    pub fn delivery(
        &self,
        api: impl ResultSink,
        consumer: impl Into<String>,
    ) -> ReportDeliveryBuilder {
        ReportDeliveryBuilder {
            shared: self.inner.clone(),
            api: Arc::new(api),
            consumer: consumer.into(),
            policy: DeliveryPolicy::default(),
            claim_idle: Duration::from_secs(60),
            batch: 64,
        }
    }
}

/// Appends reports to the stream: the sink of an instance's local [`Reporter`]. A Redis
/// failure is a retryable transport error, so the reporter keeps the report and tries again.
#[derive(Clone)]
pub struct RedisStreamSink {
    inner: Arc<StreamTarget>,
}

impl fmt::Debug for RedisStreamSink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisStreamSink")
            .field("stream", &self.inner.stream)
            .finish()
    }
}

fn transport(what: &str, e: &redis::RedisError) -> Error {
    Error::Transport {
        message: format!("Redis {what}: {e}"),
        maybe_sent: true,
    }
}

#[async_trait]
impl ResultSink for RedisStreamSink {
    async fn report(&self, report: &ActionResultReport) -> Result<(), Error> {
        let json = serde_json::to_string(report).map_err(|e| Error::Decode {
            message: format!("cannot encode the report: {e}"),
            excerpt: String::new(),
        })?;
        let mut conn = self.inner.conn.clone();
        let _: Option<String> = conn
            .xadd_maxlen(
                &self.inner.stream,
                StreamMaxlen::Approx(self.inner.max_len),
                "*",
                &[(FIELD, json)],
            )
            .await
            .map_err(|e| transport("XADD", &e))?;
        Ok(())
    }
}

/// How [`ReportDelivery::stop`] failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StopError {
    /// The delivery was still finishing its entries after this long; it was left to finish
    /// (what it did not acknowledge stays pending, for another instance to claim).
    #[error("report delivery did not stop within {0:?}")]
    TimedOut(Duration),
    /// The delivery panicked (a bug): its entries stay pending, for another instance.
    #[error("report delivery panicked: {0}")]
    Panicked(String),
}

/// Counters of a [`ReportDelivery`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct DeliveryStats {
    /// Reports the API accepted (and that were acknowledged).
    pub sent: u64,
    /// Reports given up on (logged), acknowledged so that they are not retried for ever.
    pub failed: u64,
    /// Entries taken over from another consumer that stopped working on them.
    pub claimed: u64,
    /// Entries that did not hold a readable report (logged, acknowledged).
    pub malformed: u64,
}

#[derive(Debug, Default)]
struct Counters {
    sent: AtomicU64,
    failed: AtomicU64,
    claimed: AtomicU64,
    malformed: AtomicU64,
}

/// Builds a [`ReportDelivery`]. See [`RedisReports::delivery`].
#[must_use]
pub struct ReportDeliveryBuilder {
    shared: Arc<StreamTarget>,
    api: Arc<dyn ResultSink>,
    consumer: String,
    policy: DeliveryPolicy,
    claim_idle: Duration,
    batch: usize,
}

impl fmt::Debug for ReportDeliveryBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReportDeliveryBuilder")
            .field("consumer", &self.consumer)
            .field("policy", &self.policy)
            .field("claim_idle", &self.claim_idle)
            .field("batch", &self.batch)
            .finish_non_exhaustive()
    }
}

impl ReportDeliveryBuilder {
    /// How each report is retried (default: the in-memory reporter's, [`DeliveryPolicy::default`]).
    pub fn policy(mut self, policy: DeliveryPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// How long an entry taken by another consumer must sit untouched before this one takes
    /// it over (default 60 s). A live consumer refreshes its entries every third of this.
    pub fn claim_idle(mut self, idle: Duration) -> Self {
        self.claim_idle = idle.max(Duration::from_millis(100));
        self
    }

    /// Entries read at once, and delivered concurrently (default 64).
    pub fn batch(mut self, batch: usize) -> Self {
        self.batch = batch.max(1);
        self
    }

    /// Starts the delivery on the current tokio runtime.
    pub fn start(self) -> ReportDelivery {
        let counters = Arc::new(Counters::default());
        let (stop, stopped) = watch::channel(false);
        let worker = Consumer {
            shared: self.shared,
            api: self.api,
            consumer: self.consumer,
            policy: self.policy,
            claim_idle: self.claim_idle,
            batch: self.batch,
            counters: counters.clone(),
            working: Mutex::new(HashSet::new()),
        };
        let task = tokio::spawn(worker.run(stopped));
        ReportDelivery {
            counters,
            stop,
            task: Mutex::new(Some(task)),
        }
    }
}

/// A running delivery of the stream's reports to the risk API. Dropping it stops it (the
/// entries it was working on stay pending and are claimed by another consumer later).
pub struct ReportDelivery {
    counters: Arc<Counters>,
    stop: watch::Sender<bool>,
    task: Mutex<Option<JoinHandle<()>>>,
}

impl fmt::Debug for ReportDelivery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReportDelivery")
            .field("stats", &self.stats())
            .finish_non_exhaustive()
    }
}

impl ReportDelivery {
    /// The counters.
    pub fn stats(&self) -> DeliveryStats {
        let c = &*self.counters;
        DeliveryStats {
            sent: c.sent.load(Ordering::Relaxed),
            failed: c.failed.load(Ordering::Relaxed),
            claimed: c.claimed.load(Ordering::Relaxed),
            malformed: c.malformed.load(Ordering::Relaxed),
        }
    }

    /// Stops taking entries, finishes the ones being delivered (within `within`), and stops.
    /// Says how the delivery ended: a panic in it (a bug) is an error, logged and returned,
    /// not swallowed.
    pub async fn stop(&self, within: Duration) -> Result<(), StopError> {
        let _ = self.stop.send(true);
        let task = self
            .task
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        let Some(task) = task else {
            return Ok(());
        };
        match tokio::time::timeout(within, task).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) if e.is_panic() => {
                tracing::error!("report delivery panicked: {e}");
                Err(StopError::Panicked(e.to_string()))
            }
            // Aborted (by `abort`, or its runtime shutting down): stopped.
            Ok(Err(_)) => Ok(()),
            Err(_) => {
                tracing::warn!("report delivery did not stop within {within:?}; left to finish");
                Err(StopError::TimedOut(within))
            }
        }
    }

    /// Stops at once, as a crash would: entries being delivered stay pending in the group.
    pub fn abort(&self) {
        if let Some(task) = self
            .task
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
        {
            task.abort();
        }
    }
}

impl Drop for ReportDelivery {
    fn drop(&mut self) {
        self.abort();
    }
}

struct Consumer {
    shared: Arc<StreamTarget>,
    api: Arc<dyn ResultSink>,
    consumer: String,
    policy: DeliveryPolicy,
    claim_idle: Duration,
    batch: usize,
    counters: Arc<Counters>,
    /// Entries being delivered, refreshed so that no other consumer claims them.
    working: Mutex<HashSet<String>>,
}

impl Consumer {
    async fn run(self, mut stopped: watch::Receiver<bool>) {
        let this = Arc::new(self);
        let refresh_every = this.claim_idle / 3;
        let mut last_claim: Option<tokio::time::Instant> = None;
        let mut warned = false;
        // Refreshes the entries being delivered while the loop waits on them.
        let refresher = {
            let this = this.clone();
            tokio::spawn(async move {
                loop {
                    tokio::time::sleep(refresh_every).await;
                    this.refresh().await;
                }
            })
        };
        let _refresher = AbortOnDrop(refresher);
        while !*stopped.borrow() {
            let due = last_claim.is_none_or(|at| at.elapsed() >= refresh_every);
            let step = if due {
                last_claim = Some(tokio::time::Instant::now());
                this.claim_and_read().await
            } else {
                this.read().await
            };
            match step {
                Ok(entries) if entries.is_empty() => {}
                Ok(entries) => {
                    warned = false;
                    this.deliver_all(entries).await;
                }
                Err(e) => {
                    if !warned {
                        tracing::warn!(error = %e, "cannot read the report stream; retrying");
                        warned = true;
                    }
                    tokio::select! {
                        () = tokio::time::sleep(Duration::from_millis(500)) => {}
                        _ = stopped.changed() => {}
                    }
                }
            }
        }
    }

    async fn claim_and_read(&self) -> Result<Vec<StreamId>, redis::RedisError> {
        let mut claimed = self.claim().await?;
        if claimed.len() < self.batch {
            match self.read().await {
                Ok(read) => claimed.extend(read),
                // What was claimed is delivered now; the read is tried again next turn.
                Err(e) if !claimed.is_empty() => {
                    tracing::debug!(error = %e, "cannot read new reports");
                }
                Err(e) => return Err(e),
            }
        }
        Ok(claimed)
    }

    /// Entries another consumer left untouched for `claim_idle`.
    async fn claim(&self) -> Result<Vec<StreamId>, redis::RedisError> {
        let mut conn = self.shared.conn.clone();
        let idle_ms = u64::try_from(self.claim_idle.as_millis()).unwrap_or(u64::MAX);
        let reply: Result<StreamAutoClaimReply, _> = conn
            .xautoclaim_options(
                &self.shared.stream,
                &self.shared.group,
                &self.consumer,
                idle_ms,
                "0-0",
                StreamAutoClaimOptions::default().count(self.batch),
            )
            .await;
        let reply = match reply {
            Ok(reply) => reply,
            Err(e) if is_no_group(&e) => {
                self.create_group().await?;
                return Ok(Vec::new());
            }
            Err(e) => return Err(e),
        };
        if !reply.claimed.is_empty() {
            self.counters
                .claimed
                .fetch_add(reply.claimed.len() as u64, Ordering::Relaxed);
            tracing::info!(
                entries = reply.claimed.len(),
                "took over result reports another instance left pending"
            );
        }
        Ok(reply.claimed)
    }

    /// New entries, waiting up to [`READ_BLOCK_MS`] for some.
    async fn read(&self) -> Result<Vec<StreamId>, redis::RedisError> {
        let mut conn = self.shared.conn.clone();
        let options = StreamReadOptions::default()
            .group(&self.shared.group, &self.consumer)
            .count(self.batch)
            .block(READ_BLOCK_MS);
        let reply: Result<Option<StreamReadReply>, _> = conn
            .xread_options(&[&self.shared.stream], &[">"], &options)
            .await;
        match reply {
            Ok(reply) => Ok(reply
                .map(|r| r.keys.into_iter().flat_map(|k| k.ids).collect())
                .unwrap_or_default()),
            Err(e) if is_no_group(&e) => {
                self.create_group().await?;
                Ok(Vec::new())
            }
            Err(e) => Err(e),
        }
    }

    /// Creates the group (and the stream), from the first entry: what was appended before
    /// any delivery started is delivered too.
    async fn create_group(&self) -> Result<(), redis::RedisError> {
        let mut conn = self.shared.conn.clone();
        let created: Result<(), redis::RedisError> = conn
            .xgroup_create_mkstream(&self.shared.stream, &self.shared.group, "0")
            .await;
        match created {
            Err(e) if e.code() == Some("BUSYGROUP") => Ok(()),
            other => other,
        }
    }

    async fn deliver_all(self: &Arc<Self>, entries: Vec<StreamId>) {
        {
            let mut working = self.working.lock().unwrap_or_else(PoisonError::into_inner);
            working.extend(entries.iter().map(|e| e.id.clone()));
        }
        stream::iter(entries)
            .for_each_concurrent(self.batch, |entry| {
                let this = self.clone();
                async move { this.deliver(entry).await }
            })
            .await;
    }

    async fn deliver(&self, entry: StreamId) {
        let report = entry
            .get::<String>(FIELD)
            .and_then(|json| serde_json::from_str::<ActionResultReport>(&json).ok());
        match report {
            None => {
                self.counters.malformed.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(entry = %entry.id, "a report stream entry is unreadable; dropped");
            }
            Some(report) => {
                let delivered = self.policy.deliver(&*self.api, &report, |_| {}).await;
                let counter = match delivered.result {
                    Ok(()) => &self.counters.sent,
                    // Logged by the policy; acknowledged so that it is not retried for ever.
                    Err(_) => &self.counters.failed,
                };
                counter.fetch_add(1, Ordering::Relaxed);
            }
        }
        self.ack(&entry.id).await;
    }

    /// Acknowledges `id` (retried a few times: an unacknowledged entry would be delivered
    /// again by whoever claims it).
    async fn ack(&self, id: &str) {
        for attempt in 0..5u32 {
            let mut conn = self.shared.conn.clone();
            let acked: Result<u64, _> = conn
                .xack(&self.shared.stream, &self.shared.group, &[id])
                .await;
            match acked {
                Ok(_) => break,
                Err(e) if attempt == 4 => {
                    tracing::warn!(entry = %id, error = %e, "cannot acknowledge a delivered report; it may be delivered again");
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(100 << attempt)).await,
            }
        }
        self.working
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(id);
    }

    /// Claims again (with no idle minimum) the entries being delivered: their idle time
    /// restarts, so no other consumer takes them over while this one works on them.
    async fn refresh(&self) {
        let ids: Vec<String> = self
            .working
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .cloned()
            .collect();
        if ids.is_empty() {
            return;
        }
        let mut conn = self.shared.conn.clone();
        let refreshed: Result<redis::Value, _> = redis::cmd("XCLAIM")
            .arg(&self.shared.stream)
            .arg(&self.shared.group)
            .arg(&self.consumer)
            .arg(0)
            .arg(&ids)
            .arg("JUSTID")
            .query_async(&mut conn)
            .await;
        if let Err(e) = refreshed {
            tracing::debug!(error = %e, "cannot refresh the reports being delivered");
        }
    }
}

fn is_no_group(e: &redis::RedisError) -> bool {
    e.code() == Some("NOGROUP")
}

/// Aborts a task when dropped (the consumer's helper dies with it).
struct AbortOnDrop(JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}
