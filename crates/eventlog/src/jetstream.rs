//! The JetStream backend of the event log.
//!
//! One stream holds every event, one subject per customer (`<prefix>.<customer_id>`). An append
//! is one publish with `Nats-Expected-Last-Subject-Sequence` (optimistic concurrency per
//! customer) and `Nats-Msg-Id` = command id (deduplication within the stream's window). Invoice
//! numbers are reserved in a key-value bucket with `create`, which succeeds for one writer only.
//!
//! Every setting of the stream is given explicitly rather than left to server defaults: file
//! storage, limits retention without limits, no deletes, no purges, no rollups, a bounded message
//! size and a named duplicate window.

use std::time::Duration;

use async_nats::connection::State;
use async_nats::jetstream::consumer::DeliverPolicy;
use async_nats::jetstream::consumer::pull::OrderedConfig;
use async_nats::jetstream::context::{Context, PublishErrorKind};
use async_nats::jetstream::message::PublishMessage;
use async_nats::jetstream::stream::{self, DiscardPolicy, RetentionPolicy, StorageType};
use async_nats::jetstream::{self, kv};
use async_trait::async_trait;
use futures::StreamExt;
use futures::stream::BoxStream;
use receivables_domain::ids::NumberKey;
use receivables_domain::{CustomerId, EventEnvelope, Position, RecordedEvent};
use tracing::{debug, warn};

use crate::codec::{self, EVENT_BYTES_MAX};
use crate::error::Outage;
use crate::snapshots::ObjectSnapshots;
use crate::{
    Append, Appended, AppendedRun, Claim, EventLog, LogError, Reservation, RunStop, StoredEvent,
    parallel,
};

/// How the JetStream backend is set up. Every field has a production default.
#[derive(Debug, Clone)]
pub struct JetStreamConfig {
    /// The stream that holds every event.
    pub stream: String,
    /// Subjects are `<subject_prefix>.<customer_id>`.
    pub subject_prefix: String,
    /// The key-value bucket of invoice-number reservations.
    pub invoice_numbers_bucket: String,
    /// The object store bucket of account snapshots (`snapshots.rs`).
    pub snapshots_bucket: String,
    /// Replicas of the stream and the bucket (3 in a production cluster).
    pub replicas: usize,
    /// How long the server remembers a `Nats-Msg-Id` to drop a duplicate publish.
    pub duplicate_window: Duration,
    /// How long to wait for the server to acknowledge a publish or answer a request.
    pub request_timeout: Duration,
    /// How long loading one customer's history may take before the log counts as unavailable.
    pub load_timeout: Duration,
}

impl Default for JetStreamConfig {
    fn default() -> Self {
        JetStreamConfig {
            stream: "RECEIVABLES".to_owned(),
            subject_prefix: "ar.events".to_owned(),
            invoice_numbers_bucket: "RECEIVABLES_INVOICE_NUMBERS".to_owned(),
            snapshots_bucket: "RECEIVABLES_SNAPSHOTS".to_owned(),
            replicas: 1,
            duplicate_window: Duration::from_secs(120),
            request_timeout: Duration::from_secs(5),
            load_timeout: Duration::from_secs(10),
        }
    }
}

impl JetStreamConfig {
    /// The streams behind the buckets (number reservations, snapshots): with [`Self::stream`],
    /// everything [`JetStreamLog::open`] creates.
    pub fn bucket_streams(&self) -> [String; 2] {
        [
            format!("KV_{}", self.invoice_numbers_bucket),
            format!("OBJ_{}", self.snapshots_bucket),
        ]
    }

    /// The stream's configuration, every relevant option explicit.
    pub fn stream_config(&self) -> stream::Config {
        stream::Config {
            name: self.stream.clone(),
            description: Some("Receivables: every accepted fact, one subject per customer".into()),
            subjects: vec![format!("{}.*", self.subject_prefix)],
            storage: StorageType::File,
            retention: RetentionPolicy::Limits,
            discard: DiscardPolicy::New,
            max_messages: -1,
            max_bytes: -1,
            max_messages_per_subject: -1,
            max_consumers: -1,
            max_age: Duration::ZERO,
            max_message_size: i32::try_from(EVENT_BYTES_MAX).unwrap_or(i32::MAX),
            num_replicas: self.replicas,
            duplicate_window: self.duplicate_window,
            deny_delete: true,
            deny_purge: true,
            allow_rollup: false,
            allow_direct: true,
            ..Default::default()
        }
    }

    /// The stream behind the key-value bucket of invoice-number reservations, laid out exactly
    /// as a key-value bucket with a history of one. It is created as a stream rather than through
    /// the client's bucket creation, which asks for account information in a form that servers
    /// before 2.10 do not give.
    pub fn bucket_stream_config(&self) -> stream::Config {
        stream::Config {
            name: format!("KV_{}", self.invoice_numbers_bucket),
            description: Some("Receivables: invoice numbers reserved per subsidiary".into()),
            subjects: vec![format!("$KV.{}.>", self.invoice_numbers_bucket)],
            storage: StorageType::File,
            retention: RetentionPolicy::Limits,
            discard: DiscardPolicy::New,
            max_messages_per_subject: 1,
            max_messages: -1,
            max_bytes: -1,
            max_age: Duration::ZERO,
            max_message_size: RESERVATION_BYTES_MAX,
            num_replicas: self.replicas,
            duplicate_window: self.duplicate_window,
            allow_rollup: true,
            deny_delete: true,
            deny_purge: false,
            allow_direct: true,
            ..Default::default()
        }
    }
}

/// Largest reservation record (a command id and a customer id as JSON), in bytes.
const RESERVATION_BYTES_MAX: i32 = 1024;

/// The event log on a JetStream server or cluster.
#[derive(Clone)]
pub struct JetStreamLog {
    client: async_nats::Client,
    context: Context,
    stream: stream::Stream,
    numbers: kv::Store,
    /// `None` for a reader attached before a command service created the bucket.
    snapshots: Option<ObjectSnapshots>,
    config: JetStreamConfig,
}

/// The log is unavailable because of `error`, kept as its source.
fn unavailable(error: impl std::error::Error + Send + Sync + 'static) -> LogError {
    LogError::unavailable(error)
}

impl JetStreamLog {
    /// Creates the stream and the reservation bucket, or brings their configuration up to date.
    pub async fn open(
        client: async_nats::Client,
        config: JetStreamConfig,
    ) -> Result<Self, LogError> {
        let mut context = async_nats::jetstream::new(client.clone());
        context.set_timeout(config.request_timeout);
        let wanted = config.stream_config();
        let mut stream = context
            .get_or_create_stream(wanted.clone())
            .await
            .map_err(unavailable)?;
        let current = stream.cached_info().config.clone();
        if current.num_replicas != wanted.num_replicas
            || current.duplicate_window != wanted.duplicate_window
            || current.max_message_size != wanted.max_message_size
            || current.subjects != wanted.subjects
            || !current.deny_delete
            || !current.deny_purge
        {
            warn!(stream = %wanted.name, "updating the stream's configuration");
            context.update_stream(wanted.clone()).await.map_err(|e| {
                LogError::Refused(format!("cannot update stream {}: {e}", wanted.name))
            })?;
            stream = context
                .get_stream(&wanted.name)
                .await
                .map_err(unavailable)?;
        }
        context
            .get_or_create_stream(config.bucket_stream_config())
            .await
            .map_err(unavailable)?;
        let numbers = context
            .get_key_value(&config.invoice_numbers_bucket)
            .await
            .map_err(unavailable)?;
        let snapshots =
            ObjectSnapshots::create(&context, &config.snapshots_bucket, config.replicas).await?;
        Ok(JetStreamLog {
            client,
            context,
            stream,
            numbers,
            snapshots: Some(snapshots),
            config,
        })
    }

    /// Attaches to a stream and bucket that the command service created, changing nothing of
    /// their configuration (readers must not undo the writer's replicas or limits).
    pub async fn attach(
        client: async_nats::Client,
        config: JetStreamConfig,
    ) -> Result<Self, LogError> {
        let mut context = async_nats::jetstream::new(client.clone());
        context.set_timeout(config.request_timeout);
        let stream = context.get_stream(&config.stream).await.map_err(|e| {
            let what = format!(
                "stream {} not found (the command service creates it at start-up)",
                config.stream
            );
            LogError::Unavailable(Outage::context(what, e))
        })?;
        let numbers = context
            .get_key_value(&config.invoice_numbers_bucket)
            .await
            .map_err(unavailable)?;
        // Readers do not save snapshots; a missing bucket only means none to read.
        let snapshots = ObjectSnapshots::attach(&context, &config.snapshots_bucket)
            .await
            .ok();
        Ok(JetStreamLog {
            client,
            context,
            stream,
            numbers,
            snapshots,
            config,
        })
    }

    pub fn config(&self) -> &JetStreamConfig {
        &self.config
    }

    /// The subject of a customer's events.
    pub fn subject(&self, customer: &CustomerId) -> String {
        format!("{}.{}", self.config.subject_prefix, customer)
    }

    /// Every message of the stream after `after`, then each new one: an ordered consumer of
    /// the whole stream.
    async fn messages_after(
        &self,
        after: Position,
    ) -> Result<async_nats::jetstream::consumer::pull::Ordered, LogError> {
        self.ensure_connected()?;
        let consumer = self
            .stream
            .create_consumer(OrderedConfig {
                deliver_policy: deliver_after(after),
                ..Default::default()
            })
            .await
            .map_err(unavailable)?;
        consumer.messages().await.map_err(unavailable)
    }

    /// What every subject of the log begins with, before the customer's id.
    fn subject_prefix_dot(&self) -> String {
        format!("{}.", self.config.subject_prefix)
    }

    /// The key of a reserved number: `<subsidiary>.<hex>` for an invoice (as it always was),
    /// `<subsidiary>.cn.<hex>` for a credit note, `<subsidiary>.ord.<hex>` for a sales order: a
    /// key of three tokens is never one of two, and the middle tokens differ, so the key spaces
    /// cannot meet.
    fn reservation_key(number: &NumberKey) -> String {
        // Numbers may hold '.' and '/', which mean something in a key; hex does not.
        let hex = hex::encode(number.number());
        match number {
            NumberKey::Invoice(_) => format!("{}.{hex}", number.subsidiary_id()),
            NumberKey::CreditNote(_) => format!("{}.cn.{hex}", number.subsidiary_id()),
            NumberKey::Order(_) => format!("{}.ord.{hex}", number.subsidiary_id()),
        }
    }

    fn ensure_connected(&self) -> Result<(), LogError> {
        match self.client.connection_state() {
            State::Connected => Ok(()),
            state => Err(LogError::Unavailable(
                format!("not connected to NATS ({state:?})").into(),
            )),
        }
    }
}

/// The position a publish of [`EventLog::append_in_order`] took, or why the run stops there
/// (the server had the command id already, or refused or lost the publish).
fn taken(
    acknowledged: Result<async_nats::jetstream::publish::PublishAck, LogError>,
) -> Result<Position, RunStop> {
    match acknowledged {
        Ok(ack) if ack.duplicate => Err(RunStop::Duplicate(Position::new(ack.sequence))),
        Ok(ack) => Ok(Position::new(ack.sequence)),
        Err(error) => Err(RunStop::Failed(error)),
    }
}

/// A message of the stream as the log's [`StoredEvent`]; `None` for one at or before `after`.
/// The ordered consumer, recreated by the client library before it delivered anything, starts
/// again from the stream's first message, not from `after` (as in `load_stored`): those before
/// what was asked for are passed over.
fn stored_message(
    message: &jetstream::Message,
    after: Position,
    subject_prefix_dot: &str,
) -> Result<Option<StoredEvent>, LogError> {
    let info = message
        .info()
        .map_err(|e| LogError::Unavailable(e.into()))?;
    let position = Position::new(info.stream_sequence);
    if position <= after {
        return Ok(None);
    }
    let subject = message.subject.as_str();
    Ok(Some(StoredEvent {
        position,
        filed_under: subject
            .strip_prefix(subject_prefix_dot)
            .unwrap_or(subject)
            .to_owned(),
        bytes: message.payload.clone(),
    }))
}

/// Where a consumer starts to read everything after `after`: the stream's first message counts
/// as position 1, so after position n comes sequence n + 1.
fn deliver_after(after: Position) -> DeliverPolicy {
    if after == Position::ZERO {
        DeliverPolicy::All
    } else {
        DeliverPolicy::ByStartSequence {
            start_sequence: after.get() + 1,
        }
    }
}

#[async_trait]
impl EventLog for JetStreamLog {
    async fn load_stored(
        &self,
        customer: &CustomerId,
        after: Position,
    ) -> Result<Vec<StoredEvent>, LogError> {
        self.ensure_connected()?;
        let consumer = self
            .stream
            .create_consumer(OrderedConfig {
                filter_subject: self.subject(customer),
                deliver_policy: deliver_after(after),
                ..Default::default()
            })
            .await
            .map_err(unavailable)?;
        let pending = consumer.cached_info().num_pending;
        // The consumer is ephemeral, but the server keeps an idle one for its inactivity
        // threshold; after a cold start that would be one per customer loaded. Remove it once
        // read, without making the caller wait for that.
        let _removal = ConsumerRemoval {
            stream: self.stream.clone(),
            name: consumer.cached_info().name.clone(),
        };
        if pending == 0 {
            return Ok(Vec::new());
        }
        let mut events = Vec::with_capacity(usize::try_from(pending).unwrap_or(0));
        let mut messages = consumer.messages().await.map_err(unavailable)?;
        let deadline = tokio::time::Instant::now() + self.config.load_timeout;
        loop {
            let next = tokio::time::timeout_at(deadline, messages.next())
                .await
                .map_err(|_| {
                    LogError::Unavailable("loading the customer's history timed out".into())
                })?;
            let Some(message) = next else {
                return Err(LogError::Unavailable(
                    "the history ended before its last event".into(),
                ));
            };
            let message = message.map_err(unavailable)?;
            let info = message
                .info()
                .map_err(|e| LogError::Unavailable(e.into()))?;
            let position = Position::new(info.stream_sequence);
            let done = info.pending == 0;
            if position <= after {
                // The client library's ordered consumer, recreated before it delivered anything
                // (on a cluster, a first pull can find the consumer not there yet), starts again
                // from the subject's first message, not from `after`: what comes before what
                // was asked for is passed over.
                if done {
                    break;
                }
                continue;
            }
            events.push(StoredEvent {
                position,
                filed_under: customer.to_string(),
                bytes: message.payload.clone(),
            });
            if done {
                break;
            }
        }
        Ok(events)
    }

    async fn append(
        &self,
        envelope: &EventEnvelope,
        expected: Position,
    ) -> Result<Appended, LogError> {
        self.ensure_connected()?;
        let payload = codec::encode(envelope)?;
        let publish = PublishMessage::build()
            .payload(payload.into())
            .message_id(envelope.command_id.to_string())
            .expected_last_subject_sequence(expected.get());
        let subject = self.subject(&envelope.customer_id);
        let map_error = |error: async_nats::jetstream::context::PublishError| match error.kind() {
            PublishErrorKind::WrongLastSequence => LogError::Conflict { expected },
            PublishErrorKind::MaxPayloadExceeded => LogError::Refused(error.to_string()),
            _ => unavailable(error),
        };
        let ack = self
            .context
            .send_publish(subject, publish)
            .await
            .map_err(map_error)?
            .await
            .map_err(map_error)?;
        let position = Position::new(ack.sequence);
        Ok(if ack.duplicate {
            Appended::Duplicate(position)
        } else {
            Appended::New(position)
        })
    }

    /// Publishes the first event and waits for its acknowledgement, then publishes all the
    /// others before waiting for theirs: each publish with the command id, its customer's
    /// expected sequence and the stream's expected last sequence (`Nats-Expected-Last-Sequence`),
    /// so that a publish the server lost or refused fails every one after it and the stream
    /// never holds an event without all those before it.
    async fn append_in_order(&self, appends: &[Append], last: Position) -> AppendedRun {
        let mut positions = Vec::with_capacity(appends.len());
        let stopped = |positions, stop| AppendedRun {
            positions,
            stopped: Some(stop),
        };
        if let Err(error) = self.ensure_connected() {
            return stopped(positions, RunStop::Failed(error));
        }
        let map_error = |expected: Position| {
            move |error: async_nats::jetstream::context::PublishError| match error.kind() {
                PublishErrorKind::WrongLastSequence => LogError::Conflict { expected },
                PublishErrorKind::MaxPayloadExceeded => LogError::Refused(error.to_string()),
                _ => unavailable(error),
            }
        };
        let mut acknowledgements = Vec::with_capacity(appends.len());
        let mut sent_error = None;
        for (index, append) in appends.iter().enumerate() {
            let envelope = &append.envelope;
            let payload = match codec::encode(envelope) {
                Ok(payload) => payload,
                Err(error) => {
                    sent_error = Some(error);
                    break;
                }
            };
            let publish = PublishMessage::build()
                .payload(payload.into())
                .message_id(envelope.command_id.to_string())
                .expected_last_subject_sequence(append.expected.get())
                .expected_last_sequence(last.get() + index as u64);
            let subject = self.subject(&envelope.customer_id);
            match self.context.send_publish(subject, publish).await {
                // The first is acknowledged before the others are sent: on a stale `last` it
                // fails, and one of the others could otherwise find the sequence it expects.
                Ok(acknowledgement) if index == 0 => {
                    match taken(acknowledgement.await.map_err(map_error(append.expected))) {
                        Ok(position) => positions.push(position),
                        Err(stop) => return stopped(positions, stop),
                    }
                }
                Ok(acknowledgement) => acknowledgements.push((append.expected, acknowledgement)),
                Err(error) => {
                    sent_error = Some(map_error(append.expected)(error));
                    break;
                }
            }
        }
        for (expected, acknowledgement) in acknowledgements {
            match taken(acknowledgement.await.map_err(map_error(expected))) {
                Ok(position) => positions.push(position),
                // The ones after it expected this one's sequence: they failed too.
                Err(stop) => return stopped(positions, stop),
            }
        }
        match sent_error {
            Some(error) => stopped(positions, RunStop::Failed(error)),
            None => AppendedRun {
                positions,
                stopped: None,
            },
        }
    }

    /// Asked of the stream's leader (`STREAM.MSG.GET`), like
    /// [`JetStreamLog::last_position_of`]: the account saw the event, a replica may not have it
    /// yet.
    async fn event_at(
        &self,
        customer: &CustomerId,
        position: Position,
    ) -> Result<RecordedEvent, LogError> {
        self.ensure_connected()?;
        let message = match self.stream.get_raw_message(position.get()).await {
            Ok(message) => message,
            Err(error) if error.kind() == stream::LastRawMessageErrorKind::NoMessageFound => {
                return Err(LogError::Corrupt {
                    position,
                    problem: format!("no event there, where customer {customer} had one"),
                });
            }
            Err(error) => return Err(unavailable(error)),
        };
        if message.subject.as_str() != self.subject(customer) {
            return Err(LogError::Corrupt {
                position,
                problem: format!(
                    "an event on subject {}, where customer {customer} had one",
                    message.subject
                ),
            });
        }
        crate::owned_by(codec::decode(&message.payload, position)?, customer)
    }

    async fn load_snapshot(&self, customer: &CustomerId) -> Result<Option<Vec<u8>>, LogError> {
        match &self.snapshots {
            Some(snapshots) => snapshots.load(customer).await,
            None => Ok(None),
        }
    }

    async fn save_snapshot(
        &self,
        customer: &CustomerId,
        position: Position,
        snapshot: Vec<u8>,
    ) -> Result<(), LogError> {
        match &self.snapshots {
            Some(snapshots) => snapshots.save(customer, position, snapshot).await,
            None => Err(LogError::Refused(format!(
                "no snapshot bucket {}: only a command service saves snapshots",
                self.config.snapshots_bucket
            ))),
        }
    }

    async fn follow(
        &self,
        after: Position,
    ) -> Result<BoxStream<'static, Result<RecordedEvent, LogError>>, LogError> {
        let messages = self.messages_after(after).await?;
        // Received here, decoded on the other cores (see `parallel`).
        let prefix = self.subject_prefix_dot();
        let decoded = parallel::map_batches(messages, move |batch| {
            batch
                .into_iter()
                .filter_map(|message| {
                    message
                        .map_err(unavailable)
                        .and_then(|message| stored_message(&message, after, &prefix))
                        .and_then(|stored| stored.as_ref().map(crate::decode_stored).transpose())
                        .transpose()
                })
                .collect()
        });
        Ok(parallel::until_first_error(decoded))
    }

    async fn follow_stored(
        &self,
        after: Position,
    ) -> Result<BoxStream<'static, Result<StoredEvent, LogError>>, LogError> {
        let messages = self.messages_after(after).await?;
        let prefix = self.subject_prefix_dot();
        let stored = messages.filter_map(move |message| {
            let stored = message
                .map_err(unavailable)
                .and_then(|message| stored_message(&message, after, &prefix))
                .transpose();
            futures::future::ready(stored)
        });
        Ok(parallel::until_first_error(stored))
    }

    async fn last_position(&self) -> Result<Position, LogError> {
        self.ensure_connected()?;
        let mut stream = self.stream.clone();
        let info = stream.info().await.map_err(unavailable)?;
        Ok(Position::new(info.state.last_sequence))
    }

    /// Asked of the stream's leader (`STREAM.MSG.GET`, one request, no consumer): a direct get
    /// may be answered by a replica that is behind, and a position behind the customer's
    /// history would make a retry after a conflict decide on the same stale account again.
    async fn last_position_of(&self, customer: &CustomerId) -> Result<Position, LogError> {
        self.ensure_connected()?;
        match self
            .stream
            .get_last_raw_message_by_subject(&self.subject(customer))
            .await
        {
            Ok(message) => Ok(Position::new(message.sequence)),
            Err(error) if error.kind() == stream::LastRawMessageErrorKind::NoMessageFound => {
                Ok(Position::ZERO)
            }
            Err(error) => Err(unavailable(error)),
        }
    }

    async fn reserve_number(
        &self,
        number: &NumberKey,
        claim: &Claim,
    ) -> Result<Reservation, LogError> {
        self.ensure_connected()?;
        let key = Self::reservation_key(number);
        let value = serde_json::to_vec(claim).map_err(|e| LogError::Refused(e.to_string()))?;
        // A number released between our create and our read is free again: try twice.
        for _ in 0..2 {
            match self.numbers.create(&key, value.clone().into()).await {
                Ok(_) => return Ok(Reservation::Held),
                Err(error) if error.kind() == kv::CreateErrorKind::AlreadyExists => {}
                Err(error) => return Err(unavailable(error)),
            }
            let Some(holder) = self.numbers.get(&key).await.map_err(unavailable)? else {
                continue;
            };
            let holder: Claim = serde_json::from_slice(&holder)
                .map_err(|e| LogError::Refused(format!("reservation {key} is unreadable: {e}")))?;
            return Ok(if holder == *claim {
                Reservation::Held
            } else {
                Reservation::TakenBy(holder)
            });
        }
        Err(LogError::Unavailable(
            format!("reservation {key} keeps changing").into(),
        ))
    }

    async fn release_number(&self, number: &NumberKey, claim: &Claim) -> Result<(), LogError> {
        self.ensure_connected()?;
        let key = Self::reservation_key(number);
        let Some(entry) = self.numbers.entry(&key).await.map_err(unavailable)? else {
            return Ok(());
        };
        if entry.operation != kv::Operation::Put {
            return Ok(());
        }
        let holder: Option<Claim> = serde_json::from_slice(&entry.value).ok();
        if holder.as_ref() != Some(claim) {
            return Ok(());
        }
        self.numbers
            .delete_expect_revision(&key, Some(entry.revision))
            .await
            .map_err(unavailable)
    }
}

/// Deletes an ephemeral consumer in the background when dropped.
struct ConsumerRemoval {
    stream: stream::Stream,
    name: String,
}

impl Drop for ConsumerRemoval {
    fn drop(&mut self) {
        let stream = self.stream.clone();
        let name = std::mem::take(&mut self.name);
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                if let Err(error) = stream.delete_consumer(&name).await {
                    debug!(%error, consumer = %name, "could not remove a loading consumer");
                }
            });
        }
    }
}

impl std::fmt::Debug for JetStreamLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JetStreamLog")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_consumer_starts_at_the_message_after_the_position() {
        assert!(matches!(deliver_after(Position::ZERO), DeliverPolicy::All));
        // Position 41 is the stream's 41st message: reading after it starts at sequence 42.
        assert!(matches!(
            deliver_after(Position::new(41)),
            DeliverPolicy::ByStartSequence { start_sequence: 42 }
        ));
    }
}
