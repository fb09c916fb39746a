//! Raising and delivering alerts: the passes that evaluate the live read model as of the
//! business date and record what is new (`projections/src/alerts/`), the `WatchAlerts`
//! stream that follows them, and their publication on NATS in a deployment on NATS.
//!
//! After every batch the projector applies, a pass of events raises what an event raises on its
//! own (an invoice accepted over the limit) at once, on a loop of its own. A pass of the whole
//! book, on another, follows when something changed, at least [`BOOK_PASS_SPACING`] and twice
//! its last duration after the one before (a busy log does not keep the database evaluating),
//! when a rebuild switches generations, and when the business date changes, which is looked at every [`CLOCK_CHECK`]:
//! what a new date raises (a debt ageing into a bucket, a promise's window closing) is raised
//! when the date passes, not at the next event. The group's and subsidiaries' metrics are
//! evaluated on a new date and then at most every `--alert-metrics-every-secs`, as they cost
//! several agings of the whole group (see [`Schedule`]).
//!
//! Alerts are numbered in the control database, so that a watcher resumes after the last one it
//! saw across a restart of either side; the publisher keeps its own cursor there and sends each
//! alert with its id as `Nats-Msg-Id`, so that one sent again after a crash between the send
//! and the cursor is dropped by the stream (within its duplicate window, two minutes).

use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_nats::jetstream;
use chrono::NaiveDate;
use receivables_api::pb;
use receivables_api::queries::alerts as wire;
use receivables_domain::Position;
use receivables_eventlog::EventLog;
use receivables_projections::alerts::{
    ALERTS_PER_READ_MAX, Alert, AlertFilter, AlertStore, PassScope, evaluate,
};
use receivables_projections::summaries::BusinessClock;
use receivables_projections::{ProjectionError, ReadPool};
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinHandle;
use tokio_stream::Stream;
use tokio_stream::wrappers::ReceiverStream;
use tonic::Status;
use tracing::{Instrument as _, debug, info, info_span, warn};

use crate::config::AlertArgs;
use crate::observability::series;
use crate::read_models::{ReadModels, ReadSide};

/// Least time from the start of one pass of the whole book to the start of the next. Besides,
/// the next starts no sooner than twice the last one's duration after its start, so that the
/// passes of the book take at most half of one core from the projector and the queries however
/// large the book grows.
pub const BOOK_PASS_SPACING: Duration = Duration::from_millis(250);

/// Least time from the start of one pass of events to the start of the next (one follows each
/// batch the projector applies, about as often as it applies them).
pub const EVENTS_PASS_SPACING: Duration = Duration::from_millis(20);

/// Longest an idle alerter goes without looking at the clock for a new business date.
pub const CLOCK_CHECK: Duration = Duration::from_secs(60);

/// How often a watcher looks for alerts another process recorded (two read sides on one
/// database), when none of its own process's passes has told it of one.
pub const WATCH_POLL: Duration = Duration::from_secs(1);

/// Alerts a watcher's stream holds before waiting for the client to read.
pub const WATCH_BUFFER: usize = 64;

/// Alerts published between two saves of the publisher's cursor.
pub const PUBLISH_BATCH: u32 = 100;

/// Pause after a pass or a publication failed, before trying again.
const RETRY_DELAY: Duration = Duration::from_secs(1);

/// Connections to the control database the alerts use (passes, watchers, the publisher).
pub const ALERT_CONNECTIONS: u32 = 4;

/// How long the alerts stream on NATS keeps an alert.
pub const PUBLISHED_MAX_AGE: Duration = Duration::from_secs(90 * 24 * 60 * 60);

/// The publisher's cursor in the control database.
const PUBLISHED_CURSOR: &str = "published:nats";

/// What a watcher needs: the store, word of new alerts, and word that the service is stopping.
#[derive(Debug, Clone)]
pub struct AlertFeed {
    store: AlertStore,
    raised: watch::Receiver<u64>,
    stopping: watch::Receiver<bool>,
}

/// The stream of a `WatchAlerts` call.
pub type AlertStream = Pin<Box<dyn Stream<Item = Result<pb::Alert, Status>> + Send>>;

impl AlertFeed {
    /// The alerts after `after` that `filter` lets through, then (unless `no_follow`) each new
    /// one, until the client goes or the service stops.
    pub fn watch(&self, after: u64, filter: AlertFilter, no_follow: bool) -> AlertStream {
        let (sender, receiver) = mpsc::channel(WATCH_BUFFER);
        let store = self.store.clone();
        let mut raised = self.raised.clone();
        let mut stopping = self.stopping.clone();
        let span = info_span!("watch_alerts", after, no_follow);
        tokio::spawn(
            async move {
                let mut cursor = after;
                loop {
                    let batch = match store.after(cursor, ALERTS_PER_READ_MAX).await {
                        Ok(batch) => batch,
                        Err(error) => {
                            warn!(%error, "cannot read the alerts");
                            let _ = sender
                                .send(Err(Status::unavailable(format!(
                                    "cannot read the alerts: {error}"
                                ))))
                                .await;
                            return;
                        }
                    };
                    let full = batch.len() == ALERTS_PER_READ_MAX as usize;
                    for alert in batch {
                        cursor = alert.seq;
                        if filter.matches(&alert)
                            && sender.send(Ok(wire::alert(alert))).await.is_err()
                        {
                            return;
                        }
                    }
                    if full {
                        continue;
                    }
                    if no_follow || *stopping.borrow() {
                        return;
                    }
                    let newer = async {
                        // A sender gone (the alerter stopped) says nothing more: poll then.
                        if raised.wait_for(|last| *last > cursor).await.is_err() {
                            std::future::pending::<()>().await;
                        }
                    };
                    tokio::select! {
                        () = newer => {}
                        () = tokio::time::sleep(WATCH_POLL) => {}
                        () = sender.closed() => return,
                        _ = stopping.wait_for(|stopping| *stopping) => return,
                    }
                }
            }
            .instrument(span),
        );
        Box::pin(ReceiverStream::new(receiver))
    }
}

/// The passes of one process, running in the background, and what they tell watchers.
pub struct Alerting {
    store: AlertStore,
    raised: watch::Receiver<u64>,
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
    publisher: Option<(oneshot::Sender<()>, JoinHandle<()>)>,
}

impl Alerting {
    /// Opens the alerts beside the read model's control table and starts the passes over its
    /// live generation.
    pub async fn start<L: EventLog>(
        read_models: &ReadModels<L>,
        args: &AlertArgs,
    ) -> Result<Self, ProjectionError> {
        let store =
            AlertStore::open(read_models.store().control_pool(ALERT_CONNECTIONS).await?).await?;
        let last = store.last_seq().await?;
        let (raised_tx, raised) = watch::channel(last);
        let (stop, stopped) = watch::channel(false);
        let passes = Arc::new(Passes {
            store: store.clone(),
            clock: BusinessClock::new(args.business_date),
            metrics_every: Duration::from_secs(args.alert_metrics_every_secs),
            raised: raised_tx,
        });
        let tasks = vec![
            tokio::spawn(Arc::clone(&passes).run_events(read_models.live(), stopped.clone())),
            tokio::spawn(passes.run_book(read_models.live(), stopped)),
        ];
        info!(last_alert = last, "alerts raised from the read model");
        Ok(Alerting {
            store,
            raised,
            stop,
            tasks,
            publisher: None,
        })
    }

    /// Publishes every alert, from the first not yet published, on the JetStream stream
    /// `args.alerts_stream` (created if missing) as `<prefix>.<kind>.<customer>`.
    pub async fn publish(
        &mut self,
        client: async_nats::Client,
        args: &AlertArgs,
        replicas: usize,
    ) -> anyhow::Result<()> {
        let context = jetstream::new(client);
        let prefix = args.alerts_subject_prefix.clone();
        context
            .get_or_create_stream(jetstream::stream::Config {
                name: args.alerts_stream.clone(),
                subjects: vec![format!("{prefix}.>")],
                max_age: PUBLISHED_MAX_AGE,
                num_replicas: replicas,
                ..Default::default()
            })
            .await
            .map_err(|error| anyhow::anyhow!("cannot open the alerts stream: {error}"))?;
        let (stop, stopped) = oneshot::channel();
        let publisher = Publisher {
            store: self.store.clone(),
            context,
            prefix,
            raised: self.raised.clone(),
        };
        self.publisher = Some((stop, tokio::spawn(publisher.run(stopped))));
        Ok(())
    }

    /// What the `WatchAlerts` calls read; they end when `stopping` turns true.
    pub fn feed(&self, stopping: watch::Receiver<bool>) -> AlertFeed {
        AlertFeed {
            store: self.store.clone(),
            raised: self.raised.clone(),
            stopping,
        }
    }

    /// Stops the passes and the publisher after what they are doing.
    pub async fn stop(&mut self) {
        self.stop.send_replace(true);
        for task in self.tasks.drain(..) {
            if let Err(error) = task.await {
                warn!(%error, "alert passes failed");
            }
        }
        if let Some((stop, task)) = self.publisher.take() {
            let _ = stop.send(());
            if let Err(error) = task.await {
                warn!(%error, "alert publisher failed");
            }
        }
    }
}

/// When the next pass of the whole book is: when something changed since the last one (or the
/// date did) and the spacing has passed; with the portfolio metrics on a new date, or when
/// they are due and something changed since they last ran. (Passes of events follow every
/// batch on their own loop, so that a long pass of the book never delays them.)
#[derive(Debug)]
struct Schedule {
    metrics_every: Duration,
    /// The start of the last pass of the whole book, and how long it took.
    book: Option<(Instant, Duration)>,
    /// The start of the last pass with the metrics.
    metrics: Option<Instant>,
    date: Option<NaiveDate>,
    /// Something changed since the last pass of the whole book.
    book_stale: bool,
    /// ... since the metrics last ran.
    metrics_stale: bool,
}

impl Schedule {
    fn new(metrics_every: Duration) -> Self {
        Schedule {
            metrics_every,
            book: None,
            metrics: None,
            date: None,
            book_stale: true,
            metrics_stale: true,
        }
    }

    /// Time left before a pass of the whole book may start.
    fn book_in(&self) -> Duration {
        self.book.map_or(Duration::ZERO, |(at, took)| {
            BOOK_PASS_SPACING.max(took * 2).saturating_sub(at.elapsed())
        })
    }

    /// Time left before the metrics may run again.
    fn metrics_in(&self) -> Duration {
        self.metrics.map_or(Duration::ZERO, |at| {
            self.metrics_every.saturating_sub(at.elapsed())
        })
    }

    /// Whether a pass of the whole book is due on `today`, and with the metrics or not.
    fn due(&self, today: NaiveDate) -> Option<bool> {
        let new_date = self.date != Some(today);
        let metrics_due = new_date || (self.metrics_stale && self.metrics_in().is_zero());
        ((self.book_stale || metrics_due) && self.book_in().is_zero()).then_some(metrics_due)
    }

    /// A pass of the whole book that started at `started` is done.
    fn done(&mut self, portfolio: bool, today: NaiveDate, started: Instant) {
        self.book = Some((started, started.elapsed()));
        self.book_stale = false;
        self.date = Some(today);
        if portfolio {
            self.metrics = Some(started);
            self.metrics_stale = false;
        }
    }

    /// The read model moved on (or a rebuild switched generations).
    fn changed(&mut self) {
        self.book_stale = true;
        self.metrics_stale = true;
    }

    /// How long to wait for a change before passing anyway: until a pass of the whole book or
    /// of the metrics is due for what changed already, and at most [`CLOCK_CHECK`] (a new
    /// date).
    fn wake(&self) -> Duration {
        let mut wake = CLOCK_CHECK;
        if self.book_stale {
            wake = wake.min(self.book_in());
        }
        if self.metrics_stale {
            wake = wake.min(self.book_in().max(self.metrics_in()));
        }
        wake
    }
}

/// The loop of passes.
struct Passes {
    store: AlertStore,
    clock: BusinessClock,
    metrics_every: Duration,
    raised: watch::Sender<u64>,
}

impl Passes {
    /// Passes of events, one after each batch the projector applies.
    async fn run_events<L: EventLog>(
        self: Arc<Self>,
        mut live: watch::Receiver<Arc<ReadSide<L>>>,
        mut stopped: watch::Receiver<bool>,
    ) {
        loop {
            let side = Arc::clone(&live.borrow_and_update());
            let mut applied = side.projector.applied();
            applied.borrow_and_update();
            let started = Instant::now();
            if let Err(error) = self
                .pass(&side.pool, self.clock.today(), PassScope::Events)
                .await
            {
                warn!(%error, "alert pass of events failed; trying again");
            }
            tokio::select! {
                _ = stopped.wait_for(|stop| *stop) => return,
                () = moved(&mut applied) => {}
                _ = live.changed() => {}
            }
            tokio::select! {
                _ = stopped.wait_for(|stop| *stop) => return,
                () = tokio::time::sleep(EVENTS_PASS_SPACING.saturating_sub(started.elapsed())) => {}
            }
        }
    }

    /// Passes of the whole book, as the [`Schedule`] has them.
    async fn run_book<L: EventLog>(
        self: Arc<Self>,
        mut live: watch::Receiver<Arc<ReadSide<L>>>,
        mut stopped: watch::Receiver<bool>,
    ) {
        let mut schedule = Schedule::new(self.metrics_every);
        loop {
            let side = Arc::clone(&live.borrow_and_update());
            let mut applied = side.projector.applied();
            applied.borrow_and_update();
            let today = self.clock.today();
            if let Some(portfolio) = schedule.due(today) {
                let started = Instant::now();
                let scope = PassScope::Book { portfolio };
                if let Err(error) = self.pass(&side.pool, today, scope).await {
                    warn!(%error, "alert pass of the book failed; trying again");
                    tokio::select! {
                        _ = stopped.wait_for(|stop| *stop) => return,
                        () = tokio::time::sleep(RETRY_DELAY) => continue,
                    }
                }
                schedule.done(portfolio, today, started);
            }
            tokio::select! {
                _ = stopped.wait_for(|stop| *stop) => return,
                () = moved(&mut applied) => schedule.changed(),
                _ = live.changed() => schedule.changed(),
                () = tokio::time::sleep(schedule.wake()) => {}
            }
        }
    }

    /// One pass: evaluate, record, tell the watchers.
    async fn pass(
        &self,
        pool: &ReadPool,
        today: NaiveDate,
        scope: PassScope,
    ) -> Result<(), ProjectionError> {
        let span = info_span!("alert_pass", business_date = %today, ?scope);
        async {
            let pass = evaluate(pool, &self.store, today, scope).await?;
            let raised = self.store.record(&pass).await?;
            for alert in &raised {
                metrics::counter!(series::ALERTS, "kind" => alert.kind.name()).increment(1);
            }
            debug!(
                position = pass.position.get(),
                raised = raised.len(),
                "alert pass done"
            );
            if let Some(last) = raised.last() {
                info!(
                    position = pass.position.get(),
                    raised = raised.len(),
                    last = last.seq,
                    "alerts raised"
                );
                // The two loops record one after the other but may tell in either order: the
                // watchers hear of the highest number.
                let seq = last.seq;
                self.raised
                    .send_modify(|highest| *highest = (*highest).max(seq));
            }
            Ok(())
        }
        .instrument(span)
        .await
    }
}

/// Completes when the projector has applied more; never for a projector a rebuild replaced
/// (the switch of generations wakes the loops instead).
async fn moved(applied: &mut watch::Receiver<Position>) {
    if applied.changed().await.is_err() {
        std::future::pending::<()>().await;
    }
}

/// The publication of alerts on NATS.
struct Publisher {
    store: AlertStore,
    context: jetstream::Context,
    prefix: String,
    raised: watch::Receiver<u64>,
}

impl Publisher {
    async fn run(mut self, mut stopped: oneshot::Receiver<()>) {
        loop {
            let published = match self.publish_next().await {
                Ok(published) => published,
                Err(error) => {
                    warn!(%error, "cannot publish alerts; trying again");
                    tokio::select! {
                        _ = &mut stopped => return,
                        () = tokio::time::sleep(RETRY_DELAY) => continue,
                    }
                }
            };
            if published > 0 {
                continue;
            }
            let cursor = self.store.cursor(PUBLISHED_CURSOR).await.unwrap_or(0);
            let newer = async {
                if self.raised.wait_for(|last| *last > cursor).await.is_err() {
                    std::future::pending::<()>().await;
                }
            };
            tokio::select! {
                _ = &mut stopped => return,
                () = newer => {}
                () = tokio::time::sleep(WATCH_POLL) => {}
            }
        }
    }

    /// Publishes the next batch after the cursor; how many.
    async fn publish_next(&self) -> anyhow::Result<usize> {
        let cursor = self.store.cursor(PUBLISHED_CURSOR).await?;
        let batch = self.store.after(cursor, PUBLISH_BATCH).await?;
        let Some(last) = batch.last().map(|alert| alert.seq) else {
            return Ok(0);
        };
        let count = batch.len();
        let mut acks = Vec::with_capacity(count);
        for alert in batch {
            let subject = format!("{}.{}.{}", self.prefix, alert.kind.name(), alert.customer);
            let mut headers = async_nats::HeaderMap::new();
            headers.insert("Nats-Msg-Id", alert.id.as_str());
            let payload = serde_json::to_vec(&message(&alert))?;
            let ack = self
                .context
                .publish_with_headers(subject, headers, payload.into())
                .await
                .map_err(|error| anyhow::anyhow!("cannot publish alert {}: {error}", alert.id))?;
            acks.push(ack);
        }
        for ack in acks {
            ack.await
                .map_err(|error| anyhow::anyhow!("an alert was not stored: {error}"))?;
        }
        self.store.advance_cursor(PUBLISHED_CURSOR, last).await?;
        debug!(count, last, "alerts published");
        Ok(count)
    }
}

/// An alert as the JSON message published on NATS: the fields of the wire's `Alert`.
fn message(alert: &Alert) -> serde_json::Value {
    serde_json::json!({
        "seq": alert.seq,
        "id": alert.id,
        "kind": alert.kind.name(),
        "customer_id": alert.customer,
        "subsidiary_id": alert.subsidiary.clone().unwrap_or_default(),
        "subject": alert.subject,
        "raised_on": alert.raised_on.to_string(),
        "position": alert.position.get(),
        "detail": alert.detail,
        "value": alert.value,
        "threshold": alert.threshold,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    /// A schedule whose last pass of the whole book started `ago` and took `took`, on `day`,
    /// with the metrics in it, and nothing changed since.
    fn after_book(ago: Duration, took: Duration, day: &str, metrics_every: Duration) -> Schedule {
        let started = Instant::now() - ago;
        Schedule {
            metrics_every,
            book: Some((started, took)),
            metrics: Some(started),
            date: Some(date(day)),
            book_stale: false,
            metrics_stale: false,
        }
    }

    #[test]
    fn the_first_pass_is_of_the_whole_book_with_the_metrics() {
        let schedule = Schedule::new(Duration::from_secs(300));
        assert_eq!(schedule.due(date("2026-06-10")), Some(true));
    }

    #[test]
    fn a_change_right_after_a_pass_of_the_book_waits_for_the_spacing() {
        // Given a pass of the book 50 ms ago that took 10 ms
        let mut schedule = after_book(
            Duration::from_millis(50),
            Duration::from_millis(10),
            "2026-06-10",
            Duration::from_secs(300),
        );
        // When the read model moves on
        schedule.changed();
        // Then the book is passed about 200 ms later
        assert_eq!(schedule.due(date("2026-06-10")), None);
        let wake = schedule.wake();
        assert!(wake <= Duration::from_millis(200), "{wake:?}");
        assert!(wake >= Duration::from_millis(150), "{wake:?}");
    }

    #[test]
    fn a_slow_pass_of_the_book_spaces_the_next_by_twice_its_time() {
        // Given a pass of the book that took 2 s and started 3 s ago
        let mut schedule = after_book(
            Duration::from_secs(3),
            Duration::from_secs(2),
            "2026-06-10",
            Duration::from_secs(300),
        );
        schedule.changed();
        // Then the next waits until 4 s after its start
        assert_eq!(schedule.due(date("2026-06-10")), None);
        assert!(schedule.wake() <= Duration::from_secs(1));
        assert!(schedule.wake() >= Duration::from_millis(900));
    }

    #[test]
    fn a_new_date_passes_the_whole_book_with_the_metrics_though_nothing_changed() {
        let schedule = after_book(
            Duration::from_secs(1),
            Duration::from_millis(10),
            "2026-06-10",
            Duration::from_secs(300),
        );
        assert_eq!(schedule.due(date("2026-06-11")), Some(true));
    }

    #[test]
    fn an_idle_schedule_looks_at_the_clock_a_minute_later() {
        let schedule = after_book(
            Duration::from_secs(10),
            Duration::from_millis(10),
            "2026-06-10",
            Duration::from_secs(300),
        );
        assert_eq!(schedule.due(date("2026-06-10")), None);
        assert_eq!(schedule.wake(), CLOCK_CHECK);
    }

    #[test]
    fn the_metrics_wait_for_their_interval_but_are_not_forgotten() {
        // Given the metrics ran 100 s ago, every 300 s, and the book changed since
        let mut schedule = after_book(
            Duration::from_secs(100),
            Duration::from_millis(10),
            "2026-06-10",
            Duration::from_secs(300),
        );
        schedule.changed();
        // Then the book is passed without them
        let today = date("2026-06-10");
        assert_eq!(schedule.due(today), Some(false));
        schedule.done(false, today, Instant::now());
        // And with nothing more changing, the schedule still wakes (within the minute)
        assert_eq!(schedule.wake(), CLOCK_CHECK);
        // And once their interval is over the next pass of the book has them
        schedule.book = Some((Instant::now() - Duration::from_secs(1), Duration::ZERO));
        schedule.metrics = Some(Instant::now() - Duration::from_secs(301));
        assert_eq!(schedule.due(today), Some(true));
    }
}
