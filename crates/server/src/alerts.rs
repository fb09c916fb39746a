//! Raising and delivering alerts: the passes that evaluate the live read model as of the
//! business date and record what is new (`projections/src/alerts/`), the `WatchAlerts`
//! stream that follows them, and their publication on NATS in a deployment on NATS.
//!
//! A pass runs when the read model has applied new events (what they change is alerted as soon
//! as it is read), when a rebuild switches generations, and at least every
//! [`CLOCK_CHECK`] so that what a new business date raises (a debt ageing into a bucket, a
//! promise's window closing) is raised when the date passes, not at the next event. Passes are
//! at least [`PASS_SPACING`] apart, so that a busy log does not keep the database evaluating;
//! the group's and subsidiaries' metrics are evaluated on a new date and then at most every
//! `--alert-metrics-every-secs`, as they cost several agings of the whole group.
//!
//! Alerts are numbered in the control database, so that a watcher resumes after the last one it
//! saw across a restart of either side; the publisher keeps its own cursor there and sends each
//! alert with its id as `Nats-Msg-Id`, so that one sent again after a crash between the send
//! and the cursor is dropped by the stream.

use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_nats::jetstream;
use chrono::NaiveDate;
use receivables_api::pb;
use receivables_api::queries::alerts as wire;
use receivables_eventlog::EventLog;
use receivables_projections::alerts::{
    ALERTS_PER_READ_MAX, Alert, AlertFilter, AlertStore, evaluate,
};
use receivables_projections::{ProjectionError, ReadPool};
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinHandle;
use tokio_stream::Stream;
use tokio_stream::wrappers::ReceiverStream;
use tonic::Status;
use tracing::{Instrument as _, debug, info, info_span, warn};

use crate::config::AlertArgs;
use crate::read_models::{ReadModels, ReadSide};

/// Least time from the start of one pass to the start of the next. Besides, a pass waits at
/// least as long as the one before took, so that alerting takes at most half of one core from
/// the projector and the queries however large the read model grows.
pub const PASS_SPACING: Duration = Duration::from_millis(250);

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

/// The business date of the passes: fixed by the operator, or the service's date (UTC).
#[derive(Debug, Clone, Copy)]
pub struct BusinessClock {
    fixed: Option<NaiveDate>,
}

impl BusinessClock {
    pub fn new(fixed: Option<NaiveDate>) -> Self {
        BusinessClock { fixed }
    }

    pub fn today(&self) -> NaiveDate {
        self.fixed
            .unwrap_or_else(|| chrono::Utc::now().date_naive())
    }
}

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
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
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
        let (stop, stopped) = oneshot::channel();
        let passes = Passes {
            store: store.clone(),
            clock: BusinessClock::new(args.business_date),
            metrics_every: Duration::from_secs(args.alert_metrics_every_secs),
            raised: raised_tx,
        };
        let task = tokio::spawn(passes.run(read_models.live(), stopped));
        info!(last_alert = last, "alerts raised from the read model");
        Ok(Alerting {
            store,
            raised,
            stop: Some(stop),
            task: Some(task),
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
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take()
            && let Err(error) = task.await
        {
            warn!(%error, "alert passes failed");
        }
        if let Some((stop, task)) = self.publisher.take() {
            let _ = stop.send(());
            if let Err(error) = task.await {
                warn!(%error, "alert publisher failed");
            }
        }
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
    async fn run<L: EventLog>(
        self,
        mut live: watch::Receiver<Arc<ReadSide<L>>>,
        mut stopped: oneshot::Receiver<()>,
    ) {
        let mut metrics_at: Option<Instant> = None;
        let mut last_date: Option<NaiveDate> = None;
        loop {
            let side = Arc::clone(&live.borrow_and_update());
            let mut applied = side.projector.applied();
            applied.borrow_and_update();
            let today = self.clock.today();
            let portfolio = last_date != Some(today)
                || metrics_at.is_none_or(|at| at.elapsed() >= self.metrics_every);
            let started = Instant::now();
            if let Err(error) = self.pass(&side.pool, today, portfolio).await {
                warn!(%error, "alert pass failed; trying again");
                tokio::select! {
                    _ = &mut stopped => return,
                    () = tokio::time::sleep(RETRY_DELAY) => continue,
                }
            }
            let took = started.elapsed();
            if portfolio {
                metrics_at = Some(started);
            }
            last_date = Some(today);
            let wake = if self.metrics_every.is_zero() {
                CLOCK_CHECK
            } else {
                CLOCK_CHECK.min(self.metrics_every.saturating_sub(started.elapsed()))
            };
            let moved = async {
                // A projector replaced by a rebuild says nothing more: the switch wakes us.
                if applied.changed().await.is_err() {
                    std::future::pending::<()>().await;
                }
            };
            tokio::select! {
                _ = &mut stopped => return,
                () = moved => {}
                _ = live.changed() => {}
                () = tokio::time::sleep(wake) => {}
            }
            // From the start of this pass: the spacing, or twice what the pass took.
            let rest = PASS_SPACING.max(took * 2).saturating_sub(started.elapsed());
            tokio::select! {
                _ = &mut stopped => return,
                () = tokio::time::sleep(rest) => {}
            }
        }
    }

    /// One pass: evaluate, record, tell the watchers.
    async fn pass(
        &self,
        pool: &ReadPool,
        today: NaiveDate,
        portfolio: bool,
    ) -> Result<(), ProjectionError> {
        let span = info_span!("alert_pass", business_date = %today, portfolio);
        async {
            let pass = evaluate(pool, &self.store, today, portfolio).await?;
            let raised = self.store.record(&pass).await?;
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
                self.raised.send_replace(last.seq);
            }
            Ok(())
        }
        .instrument(span)
        .await
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
        self.store.set_cursor(PUBLISHED_CURSOR, last).await?;
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
