//! Replaying the log for auditors and verifying its hash chain.
//!
//! Both calls read straight from the event log, never from a read model: what an auditor sees is
//! what the log holds. Each call fixes its end when it starts (the log's last position then, or
//! less when asked), so that a replay or a walk of a log that keeps growing still finishes.
//!
//! The reading runs in its own task and hands its messages to the client through a bounded
//! channel ([`STREAM_BUFFER_MESSAGES`]): a slow client slows the reading down instead of piling
//! events up in memory, and a client that goes away closes the channel, which stops the reading.
//! What each event costs on its own (its hash, its canonical JSON) is worked out in batches on
//! the other cores ([`parallel::map_batches`]) while the log is read on; only the links between
//! events are checked in order.
//!
//! A verification reads each event as the log stores it and hashes the stored text
//! ([`chain::read_stored`]), as the offline check of an export does line by line: what it
//! proves is that the log holds, byte for byte, what the service wrote and chained (a member
//! added to a stored event is found, though reading the event would pass over it). It does not
//! decode the events into the domain's types: whether an event keeps the ledger's rules is what
//! reading it for use checks, and a replay reads it so.
//!
//! An event that cannot be decoded is a failed replay (the replay cannot send what it cannot
//! read), but for verification a text that is not an event is a finding: a broken link of kind
//! `UNDECODABLE` at its position, reported in the result like any other broken link.

use std::collections::BTreeSet;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use futures::StreamExt;
use futures::stream::BoxStream;
use receivables_api::{pb, status};
use receivables_domain::chain::{
    self, Break, CanonicalEncoder, ChainError, ChainVerifier, StoredLinks,
};
use receivables_domain::refusal::FieldViolation;
use receivables_domain::{
    CustomerId, EventHash, EventType, Position, RecordedEvent, Refusal, SubsidiaryId,
};
use receivables_eventlog::{EventLog, LogError, StoredEvent, parallel};
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Code, Status};
use tracing::{Instrument, info, info_span, warn};

/// The stream of a replay: events and progress.
pub type ReplayStream = BoxStream<'static, Result<pb::ReplayEventsResponse, Status>>;

/// The stream of a verification: progress, then the result.
pub type VerifyStream = BoxStream<'static, Result<pb::VerifyLogResponse, Status>>;

/// Events read (or checked) between two progress messages when the request says 0.
pub const PROGRESS_EVERY_DEFAULT: u64 = 10_000;

/// Messages the reading task may be ahead of the client. Small: each holds one event, and a
/// client that reads slowly should slow the reading, not fill the service's memory.
pub const STREAM_BUFFER_MESSAGES: usize = 256;

/// The most event types one replay may name (a bound on what a request may carry, well above
/// the number of types there are).
pub const EVENT_TYPES_MAX: usize = 64;

/// A replay request read and checked.
#[derive(Debug, Clone)]
struct ReplayFilter {
    from: Position,
    /// `None`: up to the log's last position when the call starts.
    to: Option<Position>,
    recorded_until: Option<DateTime<Utc>>,
    customer: Option<CustomerId>,
    subsidiary: Option<SubsidiaryId>,
    /// Empty: every type.
    event_types: BTreeSet<EventType>,
    progress_every: u64,
}

impl ReplayFilter {
    /// Reads the request; every bad field is reported at once.
    fn read(request: &pb::ReplayEventsRequest) -> Result<ReplayFilter, Status> {
        let mut violations = Vec::new();
        if request.to_position != 0 && request.from_position > request.to_position {
            violations.push(FieldViolation::new(
                "from_position",
                format!(
                    "{} is after to_position {}",
                    request.from_position, request.to_position
                ),
            ));
        }
        let recorded_until = match &request.recorded_until {
            None => None,
            Some(at) => {
                let instant = u32::try_from(at.nanos)
                    .ok()
                    .and_then(|nanos| DateTime::<Utc>::from_timestamp(at.seconds, nanos));
                if instant.is_none() {
                    violations.push(FieldViolation::new(
                        "recorded_until",
                        format!("not a valid instant: {}s {}ns", at.seconds, at.nanos),
                    ));
                }
                instant
            }
        };
        let customer = customer_of(&request.customer_id, &mut violations);
        let subsidiary = if request.subsidiary_id.is_empty() {
            None
        } else {
            SubsidiaryId::parse(&request.subsidiary_id)
                .map_err(|e| violations.push(FieldViolation::new("subsidiary_id", e)))
                .ok()
        };
        if request.event_types.len() > EVENT_TYPES_MAX {
            violations.push(FieldViolation::new(
                "event_types",
                format!(
                    "{} types named, at most {EVENT_TYPES_MAX}",
                    request.event_types.len()
                ),
            ));
        }
        let mut event_types = BTreeSet::new();
        for (index, name) in request.event_types.iter().enumerate() {
            match EventType::parse(name) {
                Some(event_type) => {
                    event_types.insert(event_type);
                }
                None => {
                    let known: Vec<&str> = EventType::all().map(EventType::as_str).collect();
                    violations.push(FieldViolation::new(
                        format!("event_types[{index}]"),
                        format!(
                            "unknown event type {:?} (known: {})",
                            name.chars().take(80).collect::<String>(),
                            known.join(", ")
                        ),
                    ));
                }
            }
        }
        if !violations.is_empty() {
            return Err(status::refusal(&Refusal::invalid_query(violations)));
        }
        Ok(ReplayFilter {
            from: Position::new(request.from_position.max(1)),
            to: (request.to_position != 0).then(|| Position::new(request.to_position)),
            recorded_until,
            customer,
            subsidiary,
            event_types,
            progress_every: progress_every(request.progress_every),
        })
    }

    /// Whether the replay sends this event (its position is checked by the reader).
    fn wants(&self, event: &RecordedEvent) -> bool {
        let envelope = &event.envelope;
        self.recorded_until
            .is_none_or(|until| envelope.recorded_at <= until)
            && self
                .customer
                .as_ref()
                .is_none_or(|customer| envelope.customer_id == *customer)
            && self
                .subsidiary
                .as_ref()
                .is_none_or(|subsidiary| envelope.subsidiary_id.as_ref() == Some(subsidiary))
            && (self.event_types.is_empty()
                || self.event_types.contains(&envelope.event.event_type()))
    }
}

fn customer_of(text: &str, violations: &mut Vec<FieldViolation>) -> Option<CustomerId> {
    if text.is_empty() {
        return None;
    }
    CustomerId::parse(text)
        .map_err(|e| violations.push(FieldViolation::new("customer_id", e)))
        .ok()
}

fn progress_every(requested: u32) -> u64 {
    if requested == 0 {
        PROGRESS_EVERY_DEFAULT
    } else {
        u64::from(requested)
    }
}

/// The status of a log error met while reading: the client sees why its stream ended.
pub(crate) fn log_status(error: &LogError) -> Status {
    match error {
        LogError::Unavailable(message) => {
            warn!(%message, "event log unavailable during an audit call");
            status::with_reason(
                Code::Unavailable,
                "EVENT_LOG_UNAVAILABLE",
                format!("the event log is unavailable: {message}"),
            )
        }
        LogError::Corrupt { position, problem } => {
            warn!(%position, %problem, "unreadable event met during a replay");
            status::with_reason(
                Code::Internal,
                "EVENT_UNREADABLE",
                format!("the event at position {position} cannot be read ({problem})"),
            )
        }
        LogError::Conflict { .. } | LogError::Refused(_) => {
            warn!(%error, "event log refused an audit read");
            status::with_reason(Code::Internal, "EVENT_LOG_ERROR", error.to_string())
        }
    }
}

/// The event as an auditor receives it; `envelope_json` is the canonical JSON of the whole
/// envelope, `hash` included, written by `encoder` (kept for the whole replay).
fn audited(
    event: &RecordedEvent,
    encoder: &mut CanonicalEncoder,
) -> Result<pb::AuditedEvent, Status> {
    let envelope = &event.envelope;
    let unencodable =
        |detail: String| status::with_reason(Code::Internal, "EVENT_UNENCODABLE", detail);
    let json = encoder.encode(envelope, None).map_err(|e| match e {
        // The serializer's own message, as when the envelope's JSON value cannot be built.
        ChainError::Unencodable(detail) => unencodable(detail),
        other => unencodable(other.to_string()),
    })?;
    let envelope_json = String::from_utf8(json.to_vec()).map_err(|e| unencodable(e.to_string()))?;
    Ok(pb::AuditedEvent {
        position: event.position.get(),
        event_id: envelope.event_id.to_string(),
        customer_id: envelope.customer_id.to_string(),
        subsidiary_id: envelope
            .subsidiary_id
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default(),
        event_type: envelope.event.type_name().to_owned(),
        sequence: envelope.sequence,
        prev_hash: envelope.prev_hash.to_string(),
        hash: envelope.hash.to_string(),
        recorded_at: Some(std::time::SystemTime::from(envelope.recorded_at).into()),
        envelope_json,
    })
}

/// Where a reading task stands, for its progress messages.
#[derive(Debug, Clone, Copy, Default)]
struct Progress {
    position: u64,
    last_position: u64,
    events_read: u64,
    events_sent: u64,
}

impl Progress {
    fn message(&self, done: bool) -> pb::ReplayProgress {
        pb::ReplayProgress {
            position: self.position,
            last_position: self.last_position,
            events_read: self.events_read,
            events_sent: self.events_sent,
            done,
        }
    }
}

/// The events a reading task walks, in log order, from `from` on: one customer's history
/// loaded at once, or the whole log followed. A followed log never ends by itself: the reader
/// stops at `to` (see [`Walk`]) and never polls the stream after it.
async fn read_events<L: EventLog>(
    log: &L,
    customer: Option<&CustomerId>,
    from: Position,
    to: Position,
) -> Result<BoxStream<'static, Result<RecordedEvent, LogError>>, LogError> {
    if from > to {
        return Ok(futures::stream::empty().boxed());
    }
    let after = Position::new(from.get().saturating_sub(1));
    let events = match customer {
        Some(customer) => {
            futures::stream::iter(log.load(customer, after).await?.into_iter().map(Ok)).boxed()
        }
        None => log.follow(after).await?,
    };
    Ok(events)
}

/// What a walk of the log reads: an event decoded or as stored, at its position.
trait AtPosition {
    fn position(&self) -> Position;
}

impl AtPosition for RecordedEvent {
    fn position(&self) -> Position {
        self.position
    }
}

impl AtPosition for StoredEvent {
    fn position(&self) -> Position {
        self.position
    }
}

/// [`read_events`] as stored, not decoded: what a verification reads.
async fn read_stored_events<L: EventLog>(
    log: &L,
    customer: Option<&CustomerId>,
    from: Position,
    to: Position,
) -> Result<BoxStream<'static, Result<StoredEvent, LogError>>, LogError> {
    if from > to {
        return Ok(futures::stream::empty().boxed());
    }
    let after = Position::new(from.get().saturating_sub(1));
    let events = match customer {
        Some(customer) => {
            futures::stream::iter(log.load_stored(customer, after).await?.into_iter().map(Ok))
                .boxed()
        }
        None => log.follow_stored(after).await?,
    };
    Ok(events)
}

/// The events of a log stream up to and including `to`; an error ends the walk too.
/// [`Walk::into_stream`] hands them out as a stream that ends there.
struct Walk<T> {
    events: BoxStream<'static, Result<T, LogError>>,
    to: Position,
    finished: bool,
}

impl<T: AtPosition + Send + 'static> Walk<T> {
    fn new(events: BoxStream<'static, Result<T, LogError>>, to: Position) -> Walk<T> {
        Walk {
            events,
            to,
            finished: false,
        }
    }

    async fn next(&mut self) -> Option<Result<T, LogError>> {
        if self.finished {
            return None;
        }
        let item = self.events.next().await;
        match &item {
            Some(Ok(event)) if event.position() > self.to => {
                self.finished = true;
                return None;
            }
            Some(Ok(event)) => self.finished = event.position() >= self.to,
            Some(Err(_)) | None => self.finished = true,
        }
        item
    }

    fn into_stream(self) -> BoxStream<'static, Result<T, LogError>> {
        futures::stream::unfold(self, |mut walk| async move {
            walk.next().await.map(|item| (item, walk))
        })
        .boxed()
    }
}

/// An event of a replay with what is sent of it: `None` when the filter leaves it out.
type Replayed = (Position, Option<Result<pb::AuditedEvent, Status>>);

pub async fn replay_events<L: EventLog>(
    log: Arc<L>,
    request: pb::ReplayEventsRequest,
) -> Result<ReplayStream, Status> {
    let filter = Arc::new(ReplayFilter::read(&request)?);
    let last = log.last_position().await.map_err(|e| log_status(&e))?;
    let to = filter.to.map_or(last, |to| to.min(last));
    let span = info_span!(
        "replay_events",
        from = %filter.from,
        to = %to,
        customer = filter.customer.as_ref().map(|c| c.to_string()),
        subsidiary = filter.subsidiary.as_ref().map(|s| s.to_string()),
        recorded_until = filter.recorded_until.map(|t| t.to_rfc3339()),
        event_types = ?filter.event_types,
    );
    let (sender, receiver) = mpsc::channel(STREAM_BUFFER_MESSAGES);
    tokio::spawn(
        async move {
            let mut progress = Progress {
                position: filter.from.get().saturating_sub(1),
                last_position: to.get(),
                ..Progress::default()
            };
            match replay_into(log.as_ref(), &filter, to, &mut progress, &sender).await {
                Ok(true) => {
                    info!(
                        events_read = progress.events_read,
                        events_sent = progress.events_sent,
                        "replay complete"
                    );
                    let done = pb::ReplayEventsResponse {
                        item: Some(pb::replay_events_response::Item::Progress(
                            progress.message(true),
                        )),
                    };
                    let _gone = sender.send(Ok(done)).await;
                }
                Ok(false) => info!(
                    events_sent = progress.events_sent,
                    "client went away; replay stopped"
                ),
                Err(status) => {
                    let _gone = sender.send(Err(status)).await;
                }
            }
        }
        .instrument(span),
    );
    Ok(ReceiverStream::new(receiver).boxed())
}

/// Sends the replay's events and progress. `Ok(false)`: the client went away.
async fn replay_into<L: EventLog>(
    log: &L,
    filter: &Arc<ReplayFilter>,
    to: Position,
    progress: &mut Progress,
    sender: &mpsc::Sender<Result<pb::ReplayEventsResponse, Status>>,
) -> Result<bool, Status> {
    use pb::replay_events_response::Item;
    let events = read_events(log, filter.customer.as_ref(), filter.from, to)
        .await
        .map_err(|e| log_status(&e))?;
    let batch_filter = Arc::clone(filter);
    let mut replayed = parallel::map_batches(Walk::new(events, to).into_stream(), move |batch| {
        let mut encoder = CanonicalEncoder::new();
        batch
            .into_iter()
            .map(|event| {
                event.map(|event| -> Replayed {
                    let sent = batch_filter
                        .wants(&event)
                        .then(|| audited(&event, &mut encoder));
                    (event.position, sent)
                })
            })
            .collect()
    });
    while let Some(event) = replayed.next().await {
        let (position, sent) = event.map_err(|e| log_status(&e))?;
        progress.position = position.get();
        progress.events_read += 1;
        if let Some(audited) = sent {
            let item = Item::Event(audited?);
            if sender
                .send(Ok(pb::ReplayEventsResponse { item: Some(item) }))
                .await
                .is_err()
            {
                return Ok(false);
            }
            progress.events_sent += 1;
        }
        if progress.events_read.is_multiple_of(filter.progress_every) {
            let item = Item::Progress(progress.message(false));
            if sender
                .send(Ok(pb::ReplayEventsResponse { item: Some(item) }))
                .await
                .is_err()
            {
                return Ok(false);
            }
        }
    }
    Ok(true)
}

/// The domain's kind of break as the contract names it.
fn chain_break(kind: Break) -> pb::ChainBreak {
    match kind {
        Break::HashMismatch => pb::ChainBreak::HashMismatch,
        Break::PreviousHashMismatch => pb::ChainBreak::PreviousHashMismatch,
        Break::SequenceGap => pb::ChainBreak::SequenceGap,
        Break::PositionGap => pb::ChainBreak::PositionGap,
        Break::Undecodable => pb::ChainBreak::Undecodable,
    }
}

fn broken_link(link: &chain::BrokenLink) -> pb::BrokenLink {
    pb::BrokenLink {
        position: link.position.get(),
        customer_id: link
            .customer_id
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default(),
        kind: chain_break(link.kind).into(),
        expected: link.expected.clone(),
        found: link.found.clone(),
    }
}

pub async fn verify_log<L: EventLog>(
    log: Arc<L>,
    request: pb::VerifyLogRequest,
) -> Result<VerifyStream, Status> {
    let mut violations = Vec::new();
    let customer = customer_of(&request.customer_id, &mut violations);
    if !violations.is_empty() {
        return Err(status::refusal(&Refusal::invalid_query(violations)));
    }
    let every = progress_every(request.progress_every);
    let last = log.last_position().await.map_err(|e| log_status(&e))?;
    let span = info_span!(
        "verify_log",
        customer = customer.as_ref().map(|c| c.to_string()),
        last_position = %last,
    );
    let (sender, receiver) = mpsc::channel(STREAM_BUFFER_MESSAGES);
    tokio::spawn(
        async move {
            match verify_into(log.as_ref(), customer.as_ref(), last, every, &sender).await {
                Ok(Some(result)) => {
                    match &result.first_broken {
                        Some(link) => warn!(
                            position = link.position,
                            kind = link.kind().as_str_name(),
                            expected = %link.expected,
                            found = %link.found,
                            "broken link in the hash chain"
                        ),
                        None => info!(
                            events_checked = result.events_checked,
                            "hash chain verified"
                        ),
                    }
                    let result = pb::VerifyLogResponse {
                        item: Some(pb::verify_log_response::Item::Result(result)),
                    };
                    let _gone = sender.send(Ok(result)).await;
                }
                Ok(None) => info!("client went away; verification stopped"),
                Err(status) => {
                    let _gone = sender.send(Err(status)).await;
                }
            }
        }
        .instrument(span),
    );
    Ok(ReceiverStream::new(receiver).boxed())
}

/// An event read from the log as stored, with its links and the hash of its content, or why
/// it has none.
pub type Hashed = (Position, Result<(StoredLinks, EventHash), ChainError>);

/// Each event of `events` with its links and the hash of its stored text
/// ([`chain::read_stored`]), worked out in batches on the other cores while the log is read
/// on: each event's hash depends on the event alone, so only the links between them
/// ([`ChainVerifier::check_stored`]) are left to check in order. An event whose customer is not
/// the one the log files it under has none.
pub fn with_hashes(
    events: BoxStream<'static, Result<StoredEvent, LogError>>,
) -> BoxStream<'static, Result<Hashed, LogError>> {
    parallel::map_batches(events, |batch| {
        let mut encoder = CanonicalEncoder::new();
        batch
            .into_iter()
            .map(|event| {
                event.map(|event| {
                    let read = chain::read_stored(&mut encoder, &event.bytes).and_then(
                        |(links, computed)| {
                            if links.customer_id.as_str() == event.filed_under {
                                Ok((links, computed))
                            } else {
                                Err(ChainError::FiledElsewhere(event.filed_under))
                            }
                        },
                    );
                    (event.position, read)
                })
            })
            .collect()
    })
}

/// Walks the chain, sending progress; the result, or `None` when the client went away.
async fn verify_into<L: EventLog>(
    log: &L,
    customer: Option<&CustomerId>,
    last: Position,
    every: u64,
    sender: &mpsc::Sender<Result<pb::VerifyLogResponse, Status>>,
) -> Result<Option<pb::VerifyLogResult>, Status> {
    use pb::verify_log_response::Item;
    let mut verifier = match customer {
        Some(_) => ChainVerifier::part_of_log(),
        None => ChainVerifier::whole_log(),
    };
    let mut first_broken = None;
    let mut progress = Progress {
        last_position: last.get(),
        ..Progress::default()
    };
    let events = match read_stored_events(log, customer, Position::new(1), last).await {
        Ok(events) => events,
        Err(LogError::Corrupt { position, problem }) => {
            // One customer's history is read at once: an unreadable row in it is found before
            // any event of it is checked.
            futures::stream::iter([Err(LogError::Corrupt { position, problem })]).boxed()
        }
        Err(error) => return Err(log_status(&error)),
    };
    let mut hashed = with_hashes(Walk::new(events, last).into_stream());
    while let Some(event) = hashed.next().await {
        let checked = match event {
            Ok((position, read)) => verifier
                .check_stored(position, read.as_ref())
                .map(|()| position),
            Err(LogError::Corrupt { position, problem }) => {
                Err(verifier.undecodable(position, &problem))
            }
            Err(error) => return Err(log_status(&error)),
        };
        match checked {
            Ok(position) => {
                progress.position = position.get();
                progress.events_read += 1;
                progress.events_sent += 1;
            }
            Err(link) => {
                first_broken = Some(broken_link(&link));
                break;
            }
        }
        if progress.events_read.is_multiple_of(every) {
            let item = Item::Progress(progress.message(false));
            if sender
                .send(Ok(pb::VerifyLogResponse { item: Some(item) }))
                .await
                .is_err()
            {
                return Ok(None);
            }
        }
    }
    let done = Item::Progress(progress.message(true));
    if sender
        .send(Ok(pb::VerifyLogResponse { item: Some(done) }))
        .await
        .is_err()
    {
        return Ok(None);
    }
    Ok(Some(pb::VerifyLogResult {
        events_checked: verifier.checked(),
        last_position: verifier.last_position().get(),
        last_hash: verifier
            .last_hash()
            .map(|h| h.to_string())
            .unwrap_or_default(),
        first_broken,
    }))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn bad_fields_are_reported_together() {
        let request = pb::ReplayEventsRequest {
            from_position: 9,
            to_position: 3,
            customer_id: "A.B".into(),
            event_types: vec!["InvoiceIssued".into(), "Nope".into()],
            ..Default::default()
        };
        let status = ReplayFilter::read(&request).unwrap_err();
        assert_eq!(status.code(), Code::InvalidArgument);
        let details = tonic_types::StatusExt::get_error_details(&status);
        let fields: Vec<_> = details
            .bad_request()
            .unwrap()
            .field_violations
            .iter()
            .map(|v| v.field.clone())
            .collect();
        assert_eq!(fields, ["from_position", "customer_id", "event_types[1]"]);
    }

    #[test]
    fn zero_means_the_defaults() {
        let filter = ReplayFilter::read(&pb::ReplayEventsRequest::default()).unwrap();
        assert_eq!(filter.from, Position::new(1));
        assert!(filter.to.is_none());
        assert_eq!(filter.progress_every, PROGRESS_EVERY_DEFAULT);
    }
}
