//! Copying a log's history into another log: from the embedded log into a JetStream stream when
//! a team outgrows one machine, back again, or from a backup file ([`crate::backup`]).
//!
//! A copy keeps every event as it was written (its id, command id, recorded time, sequence and
//! hashes), in the source's order; only positions are the target's own. What a log keeps beside
//! its events is rebuilt from them: the number each document took is reserved again in the
//! target's registry, so that the target refuses a duplicate invoice number as the source did.
//! Snapshots are a cache and are not copied.
//!
//! The copy checks the source's chain as it reads it and stops at a broken link. It can be
//! resumed: into a target holding the first events of an interrupted copy, it checks that each
//! customer's history there is the start of the source's and appends the rest. [`verify`] then
//! reads the target back and compares it with the source: the count of events, and each
//! customer's last sequence and hash (a hash covers the one before it, so equal last hashes mean
//! equal histories).

use std::collections::HashMap;

use futures::stream::{self, BoxStream, Stream, StreamExt};
use receivables_domain::chain::{BrokenLink, ChainVerifier};
use receivables_domain::ids::NumberKey;
use receivables_domain::{
    CommandId, CustomerId, EventEnvelope, EventHash, Position, RecordedEvent,
};

use crate::{Append, Claim, EventLog, LogError, Reservation, RunStop};

/// How often a backup reports its progress, in events written.
pub const PROGRESS_EVERY_EVENTS: u64 = 1_000;

/// The most events a copy appends in one [`EventLog::append_in_order`]: one transaction of the
/// embedded log, or publishes in flight on JetStream. Enough that a round trip is shared by
/// hundreds of events; a failed batch is at most this many events to resume.
pub const COPY_BATCH_EVENTS: usize = 512;

/// The most number reservations a copy has in flight at once (they are independent of each
/// other; the embedded log commits those in flight together).
pub const RESERVATIONS_IN_FLIGHT: usize = 256;

/// The most differences a failed verification lists (it counts them all).
pub const DIFFERENCES_LISTED_MAX: usize = 20;

/// Why a copy, or its verification, stopped.
#[derive(Debug, thiserror::Error)]
pub enum TransferError {
    #[error(
        "the target log is not empty (its last position is {last_position}): copy into an empty \
         log, or resume an interrupted copy into this one"
    )]
    TargetNotEmpty { last_position: Position },
    #[error("the source's chain is broken; the copy stopped there: {0}")]
    BrokenSource(BrokenLink),
    #[error("the target's chain is broken: {0}")]
    BrokenTarget(BrokenLink),
    #[error(
        "the target's history of customer {customer} is not the start of the source's (at \
         sequence {sequence}): {problem}"
    )]
    Diverged {
        customer: CustomerId,
        sequence: u64,
        problem: String,
    },
    #[error("the target's registry gives number {number} to command {holder}, not to its event's")]
    NumberTaken { number: String, holder: CommandId },
    #[error("the target is not a copy of the source ({count} differences): {listed}")]
    Mismatch { count: usize, listed: String },
    #[error(transparent)]
    Log(#[from] LogError),
    #[error("the backup file, line {line}: {problem}")]
    Backup { line: u64, problem: String },
    #[error("the backup file: {0}")]
    Io(#[from] std::io::Error),
}

/// What identifies a history: how many events it holds and each customer's last link.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    events: u64,
    tips: HashMap<CustomerId, Tip>,
}

/// A customer's last event, by its sequence and hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tip {
    pub sequence: u64,
    pub hash: EventHash,
}

impl Summary {
    pub fn events(&self) -> u64 {
        self.events
    }

    pub fn customers(&self) -> usize {
        self.tips.len()
    }

    /// `customer`'s last event (`None`: the history holds none of it).
    pub fn tip(&self, customer: &CustomerId) -> Option<Tip> {
        self.tips.get(customer).copied()
    }

    /// The history a chain's walk has checked: its count and each customer's last link, which
    /// the verifier keeps anyway.
    pub(crate) fn of(verifier: &ChainVerifier) -> Summary {
        Summary {
            events: verifier.checked(),
            tips: verifier
                .tips()
                .map(|(customer, sequence, hash)| (customer.clone(), Tip { sequence, hash }))
                .collect(),
        }
    }

    /// What differs between this history (the source's) and `copy`, customers in order.
    pub fn differences(&self, copy: &Summary) -> Vec<String> {
        let mut differences = Vec::new();
        if self.events != copy.events {
            differences.push(format!(
                "{} events in the source, {} in the target",
                self.events, copy.events
            ));
        }
        let mut customers: Vec<&CustomerId> = self.tips.keys().chain(copy.tips.keys()).collect();
        customers.sort();
        customers.dedup();
        for customer in customers {
            let describe = |tip: Option<&Tip>| match tip {
                Some(tip) => format!("sequence {} hash {}", tip.sequence, tip.hash),
                None => "no event".to_owned(),
            };
            let (source, target) = (self.tips.get(customer), copy.tips.get(customer));
            if source != target {
                differences.push(format!(
                    "customer {customer}: {} in the source, {} in the target",
                    describe(source),
                    describe(target)
                ));
            }
        }
        differences
    }
}

/// Where a copy stands, reported after each batch and at its end.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Progress {
    /// Source events read.
    pub read: u64,
    /// Events appended to the target.
    pub appended: u64,
    /// Events the target held already (a resumed copy).
    pub already_there: u64,
    /// Numbers reserved in the target's registry.
    pub numbers: u64,
}

/// What a copy did, and the source's summary to verify the target against.
#[derive(Debug, Clone)]
pub struct Copied {
    pub progress: Progress,
    pub source: Summary,
}

/// Whether a copy may go into a target that holds events already.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CopyInto {
    /// The target must be empty.
    Empty,
    /// The target may hold the first events of an earlier copy of this source, which are
    /// checked and skipped.
    Resume,
}

/// The events of `log` up to its last position when called, in order, then the end (where
/// [`EventLog::follow`] would wait for more). A feed that ends before the last position is an
/// error.
pub async fn history<L: EventLog + ?Sized>(
    log: &L,
) -> Result<BoxStream<'static, Result<RecordedEvent, LogError>>, LogError> {
    let last = log.last_position().await?;
    if last == Position::ZERO {
        return Ok(stream::empty().boxed());
    }
    let feed = log.follow(Position::ZERO).await?;
    Ok(stream::unfold(Some(feed), move |feed| async move {
        let mut feed = feed?;
        match feed.next().await {
            Some(Ok(event)) if event.position >= last => Some((Ok(event), None)),
            Some(Ok(event)) => Some((Ok(event), Some(feed))),
            Some(Err(error)) => Some((Err(error), None)),
            None => Some((
                Err(LogError::unavailable(std::io::Error::other(format!(
                    "the log's feed ended before its last position {last}"
                )))),
                None,
            )),
        }
    })
    .boxed())
}

/// [`history`] as the source of a [`copy`].
pub async fn source<L: EventLog + ?Sized>(
    log: &L,
) -> Result<BoxStream<'static, Result<RecordedEvent, TransferError>>, LogError> {
    Ok(history(log)
        .await?
        .map(|event| event.map_err(TransferError::from))
        .boxed())
}

/// Reads the whole of `log`, checking its chain (positions 1, 2, 3, ... as in a log written by
/// the service): its summary, and where each customer's last event is.
pub async fn summarise<L: EventLog + ?Sized>(
    log: &L,
) -> Result<(Summary, HashMap<CustomerId, Position>), TransferError> {
    let mut events = history(log).await?;
    let mut verifier = ChainVerifier::whole_log();
    let mut positions = HashMap::new();
    while let Some(event) = events.next().await {
        let event = event?;
        verifier
            .check(event.position, &event.envelope)
            .map_err(TransferError::BrokenTarget)?;
        positions.insert(event.envelope.customer_id.clone(), event.position);
    }
    Ok((Summary::of(&verifier), positions))
}

/// Copies the events of `source`, in order, into `target`, reserving again the number each
/// document took. `progress` is called after each batch of at most [`COPY_BATCH_EVENTS`] and at
/// the end. Stops at the first problem: what was appended before it stays, and a copy resumed
/// ([`CopyInto::Resume`]) carries on from there.
///
/// Nothing else may write to the target meanwhile: each batch goes in with
/// [`EventLog::append_in_order`], its positions worked out before it is sent, and a write from
/// elsewhere stops the copy.
pub async fn copy<S, L>(
    source: S,
    target: &L,
    into: CopyInto,
    mut progress: impl FnMut(Progress),
) -> Result<Copied, TransferError>
where
    S: Stream<Item = Result<RecordedEvent, TransferError>>,
    L: EventLog + ?Sized,
{
    let last_position = target.last_position().await?;
    let (held, positions) = match (into, last_position) {
        (_, Position::ZERO) => (Summary::default(), HashMap::new()),
        (CopyInto::Empty, last_position) => {
            return Err(TransferError::TargetNotEmpty { last_position });
        }
        (CopyInto::Resume, _) => summarise(target).await?,
    };
    let mut batch = Batch {
        appends: Vec::with_capacity(COPY_BATCH_EVENTS),
        numbers: Vec::new(),
        last: last_position,
        positions,
    };
    let mut source = std::pin::pin!(source);
    let mut verifier = ChainVerifier::part_of_log();
    let mut done = Progress::default();
    while let Some(event) = source.next().await {
        let checked = event.and_then(|event| {
            verifier
                .check(event.position, &event.envelope)
                .map_err(TransferError::BrokenSource)?;
            Ok(event)
        });
        let event = match checked {
            Ok(event) => event,
            Err(error) => {
                // What was read before is sound: it goes in, so that the copy stops exactly
                // there (and a resumed one goes on from there).
                batch.flush(target, &mut done).await?;
                progress(done);
                return Err(error);
            }
        };
        done.read += 1;
        let envelope = event.envelope;
        let customer = &envelope.customer_id;
        let there = held
            .tip(customer)
            .filter(|tip| envelope.sequence <= tip.sequence);
        let Some(tip) = there else {
            batch.push(envelope);
            if batch.appends.len() >= COPY_BATCH_EVENTS {
                batch.flush(target, &mut done).await?;
                progress(done);
            }
            continue;
        };
        if done.appended > 0 || !batch.appends.is_empty() {
            // The target must hold the start of the source, in the source's order: the events
            // appended after an interruption come after all of those it held.
            return Err(TransferError::Diverged {
                customer: customer.clone(),
                sequence: envelope.sequence,
                problem: "the target holds it, but not all the events before it in the source"
                    .to_owned(),
            });
        }
        if envelope.sequence == tip.sequence && tip.hash != envelope.hash {
            return Err(TransferError::Diverged {
                customer: customer.clone(),
                sequence: tip.sequence,
                problem: format!(
                    "its hash is {} in the target and {} in the source",
                    tip.hash, envelope.hash
                ),
            });
        }
        done.already_there += 1;
    }
    batch.flush(target, &mut done).await?;
    progress(done);
    Ok(Copied {
        progress: done,
        source: Summary::of(&verifier),
    })
}

/// The events of a copy waiting to be appended together, and where the target stands.
struct Batch {
    appends: Vec<Append>,
    /// The numbers the batch's documents took, with the claims to reserve them under.
    numbers: Vec<(NumberKey, Claim)>,
    /// The target's last position before the batch.
    last: Position,
    /// Each customer's last position in the target, the batch's events included.
    positions: HashMap<CustomerId, Position>,
}

impl Batch {
    /// Adds an event after every one added before: at the next position.
    fn push(&mut self, envelope: EventEnvelope) {
        let position = Position::new(self.last.get() + self.appends.len() as u64 + 1);
        let customer = envelope.customer_id.clone();
        if let Some(number) = envelope.event.rules().takes_number() {
            let claim = Claim {
                command_id: envelope.command_id,
                customer_id: customer.clone(),
            };
            self.numbers.push((number, claim));
        }
        let expected = self
            .positions
            .insert(customer, position)
            .unwrap_or(Position::ZERO);
        self.appends.push(Append { envelope, expected });
    }

    /// Reserves the batch's numbers, then appends its events: each where [`Batch::push`] put it.
    async fn flush<L: EventLog + ?Sized>(
        &mut self,
        target: &L,
        done: &mut Progress,
    ) -> Result<(), TransferError> {
        let mut reservations = stream::iter(self.numbers.drain(..))
            .map(|(number, claim)| async move {
                let reserved = target.reserve_number(&number, &claim).await;
                (number, reserved)
            })
            .buffer_unordered(RESERVATIONS_IN_FLIGHT);
        while let Some((number, reserved)) = reservations.next().await {
            if let Reservation::TakenBy(holder) = reserved? {
                return Err(TransferError::NumberTaken {
                    number: number.to_string(),
                    holder: holder.command_id,
                });
            }
            done.numbers += 1;
        }
        drop(reservations);
        if self.appends.is_empty() {
            return Ok(());
        }
        let appended = target.append_in_order(&self.appends, self.last).await;
        for (index, position) in appended.positions.iter().enumerate() {
            let predicted = Position::new(self.last.get() + index as u64 + 1);
            if *position != predicted {
                return Err(TransferError::Log(LogError::Refused(format!(
                    "the target put an event at position {position}, not {predicted}: something \
                     else writes to it"
                ))));
            }
        }
        done.appended += appended.positions.len() as u64;
        if let Some(stop) = appended.stopped {
            let append = &self.appends[appended.positions.len()];
            return Err(match stop {
                RunStop::Duplicate(position) => TransferError::Diverged {
                    customer: append.envelope.customer_id.clone(),
                    sequence: append.envelope.sequence,
                    problem: format!(
                        "the target took its command id {} already, at position {position}",
                        append.envelope.command_id
                    ),
                },
                RunStop::Failed(error) => TransferError::Log(error),
            });
        }
        self.last = Position::new(self.last.get() + self.appends.len() as u64);
        self.appends.clear();
        Ok(())
    }
}

/// Reads `target` back and compares it with the `source` it was copied from: the same number of
/// events, each customer's history ending at the same sequence and hash, the chain whole.
pub async fn verify<L: EventLog + ?Sized>(
    target: &L,
    source: &Summary,
) -> Result<Summary, TransferError> {
    let (copy, _) = summarise(target).await?;
    let differences = source.differences(&copy);
    if differences.is_empty() {
        return Ok(copy);
    }
    Err(TransferError::Mismatch {
        count: differences.len(),
        listed: differences
            .iter()
            .take(DIFFERENCES_LISTED_MAX)
            .cloned()
            .collect::<Vec<_>>()
            .join("; "),
    })
}
