//! The background reporter: nothing lost, nothing sent twice, flush, drops, retries.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use risk_core::testing::{NoopSink, RecordingSink};
use risk_core::*;

fn report(i: usize) -> ActionResultReport {
    ActionResultReport::new(
        ActionToken::new(format!("action-{i:05}")),
        ActionResult::Success,
    )
}

#[tokio::test(start_paused = true)]
async fn thousand_outcomes_survive_a_sink_outage_exactly_once() {
    let sink = RecordingSink::new();
    sink.set_failing(true);
    let reporter = Reporter::builder(sink.clone()).build();

    let mut expected = HashSet::new();
    for i in 0..1000 {
        let r = report(i);
        expected.insert(r.action_token.clone());
        reporter.submit(r).unwrap();
    }
    // The sink recovers after 20 s (tokio's paused clock).
    let recover = tokio::spawn({
        let sink = sink.clone();
        async move {
            tokio::time::sleep(Duration::from_secs(20)).await;
            sink.set_failing(false);
        }
    });
    assert!(sink.wait_for(1000, Duration::from_secs(600)).await);
    recover.await.unwrap();
    reporter.flush(Duration::from_secs(60)).await.unwrap();

    let reports = sink.reports();
    assert_eq!(reports.len(), 1000, "none twice");
    let got: HashSet<_> = reports.into_iter().map(|r| r.action_token).collect();
    assert_eq!(got, expected, "all delivered");

    let stats = reporter.stats();
    assert_eq!(stats.queued, 1000);
    assert_eq!(stats.sent, 1000);
    assert_eq!(stats.failed, 0);
    assert_eq!(stats.dropped, 0);
    assert_eq!(stats.in_flight, 0);
    assert!(stats.retried > 0);
    assert!(sink.attempts() > 1000);
}

#[tokio::test]
async fn flush_delivers_everything_queued_before_it() {
    let sink = RecordingSink::new();
    let reporter = Reporter::builder(sink.clone()).concurrency(4).build();
    for i in 0..500 {
        reporter.submit(report(i)).unwrap();
    }
    reporter.flush(Duration::from_secs(30)).await.unwrap();
    assert_eq!(sink.len(), 500);
    let stats = reporter.stats();
    assert_eq!((stats.sent, stats.in_flight), (500, 0));

    // And again: a second batch, a second flush.
    for i in 500..600 {
        reporter.submit(report(i)).unwrap();
    }
    reporter.flush(Duration::from_secs(30)).await.unwrap();
    assert_eq!(sink.len(), 600);
}

#[tokio::test(start_paused = true)]
async fn flush_times_out_while_the_sink_is_down() {
    let sink = RecordingSink::new();
    sink.set_failing(true);
    let reporter = Reporter::builder(sink.clone()).build();
    reporter.submit(report(1)).unwrap();
    let err = reporter.flush(Duration::from_secs(1)).await.unwrap_err();
    assert_eq!(err.pending, 1);
    assert_eq!(err.within, Duration::from_secs(1));

    // Delivery continues in the background.
    sink.set_failing(false);
    reporter.flush(Duration::from_secs(120)).await.unwrap();
    assert_eq!(sink.len(), 1);
}

#[tokio::test]
async fn a_full_queue_drops_and_counts() {
    let sink = RecordingSink::new();
    let reporter = Reporter::builder(sink.clone()).capacity(10).build();
    // Current-thread runtime: the worker does not run before this test awaits, so the
    // queue fills up deterministically.
    let mut dropped = 0;
    for i in 0..100 {
        match reporter.submit(report(i)) {
            Ok(()) => {}
            Err(ReportDropped::QueueFull) => dropped += 1,
            Err(e) => panic!("unexpected {e}"),
        }
    }
    assert_eq!(dropped, 90);
    let stats = reporter.stats();
    assert_eq!((stats.queued, stats.dropped), (10, 90));

    reporter.flush(Duration::from_secs(30)).await.unwrap();
    assert_eq!(sink.len(), 10);
    assert_eq!(reporter.stats().sent, 10);
}

#[tokio::test(start_paused = true)]
async fn non_retryable_errors_fail_at_once() {
    let sink = RecordingSink::new();
    sink.fail_with(|| Error::BlacklistedToken {
        message: "reused".into(),
    });
    sink.fail_next(1);
    let reporter = Reporter::builder(sink.clone()).build();
    reporter.submit(report(1)).unwrap();
    reporter.submit(report(2)).unwrap();
    reporter.flush(Duration::from_secs(10)).await.unwrap();
    let stats = reporter.stats();
    assert_eq!((stats.sent, stats.failed, stats.retried), (1, 1, 0));
    assert_eq!(sink.attempts(), 2);
}

#[tokio::test(start_paused = true)]
async fn attempts_are_bounded() {
    let sink = RecordingSink::new();
    sink.set_failing(true);
    let reporter = Reporter::builder(sink.clone())
        .max_attempts(4)
        .backoff(Duration::from_millis(100), Duration::from_secs(1))
        .build();
    reporter.submit(report(1)).unwrap();
    reporter.flush(Duration::from_secs(60)).await.unwrap();
    let stats = reporter.stats();
    assert_eq!((stats.sent, stats.failed, stats.retried), (0, 1, 3));
    assert_eq!(sink.attempts(), 4);
}

#[tokio::test(start_paused = true)]
async fn retry_after_is_honoured() {
    let sink = RecordingSink::new();
    sink.fail_with(|| Error::RateLimited {
        retry_after: Some(Duration::from_secs(7)),
        message: "slow down".into(),
    });
    sink.fail_next(1);
    let reporter = Reporter::builder(sink.clone())
        .backoff(Duration::from_millis(10), Duration::from_secs(30))
        .build();
    let started = tokio::time::Instant::now();
    reporter.submit(report(1)).unwrap();
    assert!(sink.wait_for(1, Duration::from_secs(60)).await);
    // Paused clock: the only wait was the server's Retry-After.
    assert_eq!(started.elapsed(), Duration::from_secs(7));
}

#[tokio::test(start_paused = true)]
async fn retry_after_is_capped_at_the_backoff_max() {
    let sink = RecordingSink::new();
    sink.fail_with(|| Error::RateLimited {
        retry_after: Some(Duration::from_secs(86_400)),
        message: "come back tomorrow".into(),
    });
    sink.fail_next(1);
    let reporter = Reporter::builder(sink.clone())
        .backoff(Duration::from_millis(10), Duration::from_secs(30))
        .build();
    let started = tokio::time::Instant::now();
    reporter.submit(report(1)).unwrap();
    // Within a minute (paused clock), not a day.
    reporter.flush(Duration::from_secs(60)).await.unwrap();
    assert_eq!(sink.len(), 1);
    assert_eq!(started.elapsed(), Duration::from_secs(30));
}

/// A sink whose `early-*` reports wait for a gate and whose `late-*` reports never finish.
#[derive(Clone, Default)]
struct GateSink {
    started: Arc<tokio::sync::Notify>,
    gate: Arc<tokio::sync::Notify>,
    delivered: Arc<std::sync::Mutex<Vec<String>>>,
}

#[async_trait::async_trait]
impl ResultSink for GateSink {
    async fn report(&self, report: &ActionResultReport) -> Result<(), Error> {
        let token = report.action_token.expose().to_owned();
        self.started.notify_one();
        if token.starts_with("late") {
            std::future::pending::<()>().await;
        }
        self.gate.notified().await;
        self.delivered.lock().unwrap().push(token);
        Ok(())
    }
}

#[tokio::test(start_paused = true)]
async fn flush_ignores_reports_submitted_after_it() {
    let sink = GateSink::default();
    let reporter = Reporter::builder(sink.clone()).build();
    reporter
        .submit(ActionResultReport::new(
            ActionToken::new("early-1"),
            ActionResult::Success,
        ))
        .unwrap();
    // The worker is delivering `early-1`.
    sink.started.notified().await;

    let flush = reporter.flush(Duration::from_secs(60));
    tokio::pin!(flush);
    // One poll queues the flush.
    tokio::select! {
        biased;
        r = &mut flush => panic!("flush finished before early-1: {r:?}"),
        () = std::future::ready(()) => {}
    }
    // A report arriving while the flush waits, and never delivered.
    reporter
        .submit(ActionResultReport::new(
            ActionToken::new("late-1"),
            ActionResult::Success,
        ))
        .unwrap();
    sink.gate.notify_one();
    flush.await.unwrap();
    assert_eq!(*sink.delivered.lock().unwrap(), vec!["early-1".to_owned()]);
    assert_eq!(reporter.stats().in_flight, 1);
}

#[test]
fn no_report_is_queued_after_the_worker_stopped() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    for round in 0..200 {
        let reporter = rt.block_on(async { Reporter::builder(NoopSink).build() });
        let submitter = {
            let reporter = reporter.clone();
            std::thread::spawn(move || {
                let mut i = 0;
                while reporter.submit(report(i)).is_ok() {
                    i += 1;
                }
            })
        };
        let stats = rt
            .block_on(reporter.shutdown(Duration::from_secs(30)))
            .unwrap();
        submitter.join().unwrap();
        // Everything accepted was delivered: nothing slipped in after the worker stopped.
        let after = reporter.stats();
        assert_eq!(after.in_flight, 0, "round {round}: {after:?}");
        assert_eq!(after.queued, after.sent, "round {round}: {after:?}");
        assert_eq!(stats.queued, after.queued, "round {round}");
    }
}

#[tokio::test]
async fn shutdown_delivers_then_refuses() {
    let sink = RecordingSink::new();
    let reporter = Reporter::builder(sink.clone()).build();
    for i in 0..20 {
        reporter.submit(report(i)).unwrap();
    }
    let stats = reporter.shutdown(Duration::from_secs(30)).await.unwrap();
    assert_eq!(stats.sent, 20);
    assert_eq!(sink.len(), 20);
    assert_eq!(reporter.submit(report(99)), Err(ReportDropped::Closed));
    assert_eq!(reporter.stats().dropped, 1);
}

#[test]
fn works_without_a_runtime_and_from_other_threads() {
    // Built outside any runtime: the worker gets its own thread.
    let sink = RecordingSink::new();
    let reporter = Reporter::builder(sink.clone()).build();
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let reporter = reporter.clone();
            std::thread::spawn(move || {
                // Each thread has its own runtime, like actix-web's workers.
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap();
                rt.block_on(async {
                    for i in 0..25 {
                        reporter.submit(report(t * 100 + i)).unwrap();
                    }
                });
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(reporter.flush(Duration::from_secs(30)))
        .unwrap();
    assert_eq!(sink.len(), 100);
    let unique: HashSet<_> = sink.reports().into_iter().map(|r| r.action_token).collect();
    assert_eq!(unique.len(), 100);
}

#[tokio::test(start_paused = true)]
async fn flush_and_shutdown_after_the_worker_stopped_answer_at_once() {
    let sink = RecordingSink::new();
    let reporter = Reporter::builder(sink.clone()).build();
    reporter
        .submit(ActionResultReport::new(
            ActionToken::new("at-last-1"),
            ActionResult::Success,
        ))
        .unwrap();
    reporter.shutdown(Duration::from_secs(5)).await.unwrap();
    assert_eq!(sink.len(), 1);
    // The worker is gone: neither waits for an answer that cannot come (virtual time).
    let start = tokio::time::Instant::now();
    reporter.shutdown(Duration::from_secs(30)).await.unwrap();
    reporter.flush(Duration::from_secs(30)).await.unwrap();
    assert!(
        start.elapsed() < Duration::from_secs(1),
        "{:?}",
        start.elapsed()
    );
}

/// A sink whose every delivery takes `delay` and that keeps the most deliveries it saw at once.
#[derive(Clone)]
struct TimedSink {
    delay: Duration,
    in_flight: Arc<std::sync::atomic::AtomicUsize>,
    most: Arc<std::sync::atomic::AtomicUsize>,
}

impl TimedSink {
    fn new(delay: Duration) -> Self {
        Self {
            delay,
            in_flight: Arc::default(),
            most: Arc::default(),
        }
    }

    fn most_at_once(&self) -> usize {
        self.most.load(std::sync::atomic::Ordering::SeqCst)
    }
}

#[async_trait::async_trait]
impl ResultSink for TimedSink {
    async fn report(&self, _report: &ActionResultReport) -> Result<(), Error> {
        use std::sync::atomic::Ordering::SeqCst;
        let now = self.in_flight.fetch_add(1, SeqCst) + 1;
        self.most.fetch_max(now, SeqCst);
        tokio::time::sleep(self.delay).await;
        self.in_flight.fetch_sub(1, SeqCst);
        Ok(())
    }
}

/// Submits one report and flushes it (the worker learns how long a delivery takes), then
/// submits `n` at once and waits, without a flush (which would hurry the worker), until all
/// are sent; returns the most deliveries at once of the batch, and how long it took.
async fn paced_batch(sink: &TimedSink, n: usize) -> (usize, Duration) {
    let reporter = Reporter::builder(sink.clone())
        .concurrency(32)
        .linger(Duration::from_millis(20))
        .build();
    reporter.submit(report(0)).unwrap();
    reporter.flush(Duration::from_secs(60)).await.unwrap();
    sink.most.store(0, std::sync::atomic::Ordering::SeqCst);

    let started = tokio::time::Instant::now();
    for i in 1..=n {
        reporter.submit(report(i)).unwrap();
    }
    let deadline = started + Duration::from_secs(600);
    while reporter.stats().sent < 1 + n as u64 {
        assert!(tokio::time::Instant::now() < deadline, "not delivered");
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    (sink.most_at_once(), started.elapsed())
}

#[tokio::test(start_paused = true)]
async fn a_batch_is_paced_over_a_linger_when_deliveries_are_quick() {
    // 200 reports of 1 ms each fit in one 20 ms linger with 10 at a time: not 32.
    let sink = TimedSink::new(Duration::from_millis(1));
    let (most, took) = paced_batch(&sink, 200).await;
    assert!((1..=10).contains(&most), "{most} deliveries at once");
    assert!(took <= Duration::from_millis(60), "delivered in {took:?}");
}

#[tokio::test(start_paused = true)]
async fn quick_deliveries_still_go_four_at_a_time() {
    // 40 reports of 0.1 ms each would fit in one 20 ms linger one at a time; they go four
    // at a time, to share their wake-ups, and no more.
    let sink = TimedSink::new(Duration::from_micros(100));
    let (most, took) = paced_batch(&sink, 40).await;
    assert_eq!(most, 4);
    assert!(took <= Duration::from_millis(60), "delivered in {took:?}");
}

#[tokio::test(start_paused = true)]
async fn a_slow_sink_gets_the_whole_concurrency() {
    // 100 ms each: 200 reports need far more than 32 at once to go within a linger.
    let sink = TimedSink::new(Duration::from_millis(100));
    let (most, took) = paced_batch(&sink, 200).await;
    assert_eq!(most, 32);
    // Seven rounds of 32 at 100 ms each (plus the linger before the first look).
    assert!(took <= Duration::from_millis(800), "delivered in {took:?}");
}
