//! Executing one command: decide against the customer's account, reserve what must be unique
//! across customers, append with the expected position, and on a conflict reload, decide again
//! and retry a bounded number of times.
//!
//! Commands of one customer that arrive while another holds its lock queue up (`queue.rs`);
//! the next to take the lock decides them all in one run and appends their events together
//! (`run.rs`), so that a busy customer costs one log round trip per run instead of one per
//! command.
//!
//! Idempotency rests on the account knowing every command id it has accepted (reloaded from the
//! log after a restart or a conflict); the log's message-id deduplication is only a second line,
//! because it lasts only for the duplicate window.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{NaiveDate, Utc};
use receivables_api::commands::Addressed;
use receivables_domain::access::{Action, Denial, Role};
use receivables_domain::account::credit_check::{self, CreditAssessment};
use receivables_domain::chain::{self, ChainError};
use receivables_domain::exchange::ExchangeRates;
use receivables_domain::ids::NumberKey;
use receivables_domain::terms::PaymentTermsBook;
use receivables_domain::{
    Command, CustomerAccount, CustomerId, Decision, DecisionContext, EventEnvelope, EventId,
    InvariantViolation, Money, Position, Principal, Reason, RecordedEvent, Refusal,
};
use receivables_eventlog::{Appended, Claim, EventLog, LogError, Reservation};
use tracing::{Span, debug, info, warn};
use uuid::Uuid;

use crate::accounts::{AccountError, Accounts, CacheBounds};
use crate::observability::series;

mod queue;
mod run;

/// How many times a command is decided again after the customer's history moved under it.
pub const CONFLICT_RETRIES_MAX: u32 = 8;

/// An accepted command: its event, and whether it was accepted by an earlier submission.
#[derive(Debug, Clone)]
pub struct Executed {
    pub event: RecordedEvent,
    pub replayed: bool,
}

/// Why a command was not executed.
#[derive(Debug, thiserror::Error)]
pub enum ExecutionError {
    #[error(transparent)]
    Refused(#[from] Refusal),
    /// The log could not be reached or did not confirm; retrying the command is safe.
    #[error(transparent)]
    Unavailable(LogError),
    /// The caller's role may not move money against the documents the event would touch.
    #[error("permission denied: {}", .0.reason)]
    Denied(Denial),
    /// The customer's history kept changing; retrying the command is safe.
    #[error("the account kept changing under the command ({0} attempts)")]
    Contended(u32),
    /// The customer's history cannot be read or breaks the ledger's invariants.
    #[error("the account cannot be trusted: {0}")]
    Inconsistent(#[source] Inconsistency),
}

/// What makes an account untrustworthy, kept as the source of [`ExecutionError::Inconsistent`].
#[derive(Debug, thiserror::Error)]
pub enum Inconsistency {
    /// An event in the customer's history breaks the ledger's invariants or its chain.
    #[error(transparent)]
    Invariant(#[from] InvariantViolation),
    /// The decided event could not be sealed.
    #[error(transparent)]
    Chain(#[from] ChainError),
    /// The log holds something that cannot be read, or refused what the account decided.
    #[error(transparent)]
    Log(#[from] LogError),
}

impl From<AccountError> for ExecutionError {
    fn from(error: AccountError) -> Self {
        match error {
            AccountError::Log(error) => error.into(),
            AccountError::Inconsistent(violation) => ExecutionError::Inconsistent(violation.into()),
        }
    }
}

impl From<LogError> for ExecutionError {
    fn from(error: LogError) -> Self {
        match error {
            LogError::Unavailable(_) => ExecutionError::Unavailable(error),
            LogError::Conflict { .. } => ExecutionError::Contended(1),
            LogError::Corrupt { .. } | LogError::Refused(_) => {
                ExecutionError::Inconsistent(error.into())
            }
        }
    }
}

/// How long the group's settings (exchange rates, payment-terms templates), as this service
/// last read them from the group's account, serve the decisions that need them before they are
/// read again. A change through this service replaces them at once; one through another
/// instance of the command service reaches this one within this interval. Reading them for
/// every decision would put every converting invoice behind the group account's one lock and a
/// read of its log.
pub const RATES_REFRESH_INTERVAL: Duration = Duration::from_secs(1);

/// The group's settings the decisions are handed: its exchange rates and payment terms.
#[derive(Clone, Default)]
struct Settings {
    rates: Arc<ExchangeRates>,
    payment_terms: Arc<PaymentTermsBook>,
}

impl Settings {
    fn of(group: &CustomerAccount) -> Self {
        Settings {
            rates: Arc::clone(group.state().exchange_rates()),
            payment_terms: Arc::clone(group.state().payment_terms()),
        }
    }
}

/// The group's settings as this service last knew them, and when it read them.
#[derive(Default)]
struct GroupSettings {
    snapshot: std::sync::RwLock<Option<(Settings, Instant)>>,
    /// Held by the one decision that reads them again; the others use the snapshot meanwhile.
    refreshing: tokio::sync::Mutex<()>,
}

impl GroupSettings {
    /// The snapshot, if it is younger than `max_age` (any age for `None`).
    fn current(&self, max_age: Option<Duration>) -> Option<Settings> {
        let snapshot = self.snapshot.read().ok()?;
        let (settings, read_at) = snapshot.as_ref()?;
        max_age
            .is_none_or(|age| read_at.elapsed() < age)
            .then(|| settings.clone())
    }

    fn replace(&self, settings: Settings) {
        if let Ok(mut snapshot) = self.snapshot.write() {
            *snapshot = Some((settings, Instant::now()));
        }
    }
}

/// Executes commands against the accounts in an event log.
pub struct Executor<L> {
    accounts: Accounts<L>,
    group: GroupSettings,
    queues: queue::Queues,
}

impl<L: EventLog> Executor<L> {
    /// The last position the log holds now.
    pub async fn last_position(&self) -> Result<Position, ExecutionError> {
        Ok(self.accounts.log().last_position().await?)
    }

    /// An executor whose cache of accounts holds at most `cache`.
    pub fn new(log: Arc<L>, cache: CacheBounds) -> Self {
        Executor {
            accounts: Accounts::new(log, cache),
            group: GroupSettings::default(),
            queues: queue::Queues::default(),
        }
    }

    /// Snapshots an account every `events` events (0: never; `accounts.rs`).
    pub fn snapshot_every(mut self, events: u64) -> Self {
        self.accounts = self.accounts.snapshot_every(events);
        self
    }

    /// The authoritative, caught-up account of a customer.
    pub async fn account(&self, customer: &CustomerId) -> Result<CustomerAccount, ExecutionError> {
        self.read_account(customer, CustomerAccount::clone).await
    }

    /// What `read` makes of the customer's caught-up account, read under the customer's lock
    /// on the cached account itself: an answer built from it (`GetAccount`'s view) costs no
    /// copy of an account whose history may be long.
    pub async fn read_account<T>(
        &self,
        customer: &CustomerId,
        read: impl FnOnce(&CustomerAccount) -> T,
    ) -> Result<T, ExecutionError> {
        let _lock = self.accounts.lock(customer).await;
        let mut account = self.accounts.take(customer).await?;
        let caught_up = self.accounts.catch_up(&mut account).await;
        let answer = read(&account);
        // Asking about a customer that does not exist does not fill the cache.
        if account.event_count() > 0 {
            self.accounts.put(account);
        }
        caught_up?;
        Ok(answer)
    }

    /// Executes one command for `principal`; `role` (none without tokens) is checked against
    /// the documents of other subsidiaries the decided event would touch. The caller's span gets
    /// the event's position once it is known.
    ///
    /// The command waits in its customer's queue for the customer's lock; whoever holds the
    /// lock next decides every command queued by then in one run (at most
    /// [`run::COMMANDS_PER_RUN_MAX`]), this one with them or on its own.
    pub async fn execute(
        &self,
        addressed: &Addressed,
        principal: &Principal,
        role: Option<&Role>,
    ) -> Result<Executed, ExecutionError> {
        let customer = &addressed.customer_id;
        let result = if customer.is_group() {
            // The group's settings are taken from its account after each of its commands.
            let _lock = self.accounts.lock(customer).await;
            self.execute_alone(addressed, principal, role).await
        } else {
            self.execute_queued(addressed, principal, role).await
        };
        if let Ok(executed) = &result {
            Span::current().record("position", executed.event.position.get());
        }
        result
    }

    async fn execute_queued(
        &self,
        addressed: &Addressed,
        principal: &Principal,
        role: Option<&Role>,
    ) -> Result<Executed, ExecutionError> {
        let customer = &addressed.customer_id;
        loop {
            let (ticket, answer) = self.queues.push(addressed, principal, role);
            {
                let _lock = self.accounts.lock(customer).await;
                // Commands taken by an earlier holder of the lock were answered before it let
                // go; this one is decided now if it is still waiting.
                while ticket.waiting() {
                    let queued = self.queues.take(customer, run::COMMANDS_PER_RUN_MAX);
                    self.run(customer, queued).await;
                }
            }
            match answer.await {
                Ok(result) => return result,
                // Whoever took the command stopped before answering: its own caller went away
                // mid-run. The command is queued again; the account, taken out of the cache by
                // the run, is loaded again, and what the run appended is found there.
                Err(_) => debug!("the run that took the command stopped; queued again"),
            }
        }
    }

    /// Executes one command under its customer's lock, which the caller holds.
    async fn execute_alone(
        &self,
        addressed: &Addressed,
        principal: &Principal,
        role: Option<&Role>,
    ) -> Result<Executed, ExecutionError> {
        let customer = &addressed.customer_id;
        let mut account = self.accounts.take(customer).await?;
        let result = self
            .decide_and_append(&mut account, addressed, principal, role)
            .await;
        match &result {
            // After an unknown outcome the account may be behind the log: forget it.
            Err(ExecutionError::Unavailable(_)) | Err(ExecutionError::Inconsistent(_)) => {}
            _ => {
                // A change of the group's settings through this service applies to the next
                // decision at once.
                if customer.is_group() {
                    self.group.replace(Settings::of(&account));
                }
                self.accounts.put(account)
            }
        }
        result
    }

    async fn decide_and_append(
        &self,
        account: &mut CustomerAccount,
        addressed: &Addressed,
        principal: &Principal,
        role: Option<&Role>,
    ) -> Result<Executed, ExecutionError> {
        let command = &addressed.command;
        let log = self.accounts.log();
        let mut reserved: Option<(NumberKey, Claim)> = None;
        for attempt in 0..=CONFLICT_RETRIES_MAX {
            let envelope = match self.decide(account, addressed, principal, role).await {
                Ok(Decided::Before(position)) => {
                    return self.accepted_before(&addressed.customer_id, position).await;
                }
                Ok(Decided::Sealed(envelope)) => envelope,
                // A refused or forbidden command gives back a number it reserved earlier.
                Err(error @ (ExecutionError::Refused(_) | ExecutionError::Denied(_))) => {
                    release(log, &reserved).await;
                    return Err(error);
                }
                Err(error) => return Err(error),
            };
            if let (Some(key), None) = (command.body.rules().reserves(), &reserved) {
                let claim = Claim {
                    command_id: command.id,
                    customer_id: addressed.customer_id.clone(),
                };
                match log.reserve_number(&key, &claim).await? {
                    Reservation::Held => reserved = Some((key, claim)),
                    Reservation::TakenBy(holder) => return Err(taken(&key, &holder).into()),
                }
            }
            let started = Instant::now();
            let appended = log.append(&envelope, account.position()).await;
            metrics::histogram!(series::LOG_APPEND_SECONDS, "kind" => "one")
                .record(started.elapsed().as_secs_f64());
            match appended {
                Ok(Appended::New(position)) => {
                    let event = RecordedEvent { position, envelope };
                    // Sealed above from this very envelope: its hash is not worked out again.
                    account
                        .apply_decided(&event)
                        .map_err(|violation| ExecutionError::Inconsistent(violation.into()))?;
                    info!(
                        position = position.get(),
                        event_type = event.envelope.event.type_name(),
                        "appended"
                    );
                    return Ok(Executed {
                        event,
                        replayed: false,
                    });
                }
                Ok(Appended::Duplicate(position)) => {
                    // The log took this command id before. If it is in this customer's history
                    // the next decision answers with it; otherwise the id belongs to another
                    // customer's command.
                    self.accounts.catch_up(account).await?;
                    if account.accepted(&command.id).is_none() {
                        release(log, &reserved).await;
                        return Err(Refusal::already_exists(
                            Reason::CommandIdReused,
                            format!(
                                "command id {} was already used for another event, at position {position}",
                                command.id
                            ),
                        )
                        .with_metadata("command_id", command.id)
                        .with_metadata("position", position)
                        .into());
                    }
                }
                Err(LogError::Conflict { .. }) => {
                    metrics::counter!(series::CONFLICTS).increment(1);
                    let moved = self.accounts.catch_up(account).await?;
                    debug!(attempt, moved, "customer history moved, deciding again");
                }
                Err(error) => return Err(error.into()),
            }
        }
        Err(ExecutionError::Contended(CONFLICT_RETRIES_MAX + 1))
    }

    /// Decides `addressed` against `account`: the position of its event if it was accepted
    /// before, or its event, permitted for `role` and sealed (the account numbered and chained
    /// it; sealing takes its hash). The one decision of both paths, one at a time and in a run.
    async fn decide(
        &self,
        account: &CustomerAccount,
        addressed: &Addressed,
        principal: &Principal,
        role: Option<&Role>,
    ) -> Result<Decided, ExecutionError> {
        let command = &addressed.command;
        let settings = self.group_settings_for(command, account).await?;
        let context = decision_context(principal, settings)?;
        match account.decide(command, &context)? {
            Decision::AlreadyAccepted(position) => Ok(Decided::Before(position)),
            Decision::Append(mut envelope) => {
                self.permitted(role, &envelope).await?;
                chain::seal(&mut envelope).map_err(|e| ExecutionError::Inconsistent(e.into()))?;
                Ok(Decided::Sealed(envelope))
            }
        }
    }

    /// The answer to a command accepted before: the account keeps where its first reply is; the
    /// reply is read back.
    async fn accepted_before(
        &self,
        customer: &CustomerId,
        position: Position,
    ) -> Result<Executed, ExecutionError> {
        info!(position = position.get(), "command was accepted before");
        let event = self.accounts.log().event_at(customer, position).await?;
        Ok(Executed {
            event,
            replayed: true,
        })
    }

    /// The group's settings when the command needs them against this account's state (an
    /// invoice on a template, or under a limit with exposure in other currencies); none
    /// otherwise, which costs nothing. They come from the group's own account, read caught up
    /// at most every [`RATES_REFRESH_INTERVAL`] by one decision while the others use the
    /// settings read before.
    async fn group_settings_for(
        &self,
        command: &Command,
        account: &CustomerAccount,
    ) -> Result<Settings, ExecutionError> {
        if account.customer_id().is_group()
            || !command.body.rules().needs_group_settings(account.state())
        {
            return Ok(Settings::default());
        }
        self.group_settings().await
    }

    /// The group's settings: the snapshot while it is younger than [`RATES_REFRESH_INTERVAL`],
    /// else read again by one caller while the others use the snapshot.
    async fn group_settings(&self) -> Result<Settings, ExecutionError> {
        if let Some(settings) = self.group.current(Some(RATES_REFRESH_INTERVAL)) {
            return Ok(settings);
        }
        let _refreshing = match self.group.refreshing.try_lock() {
            Ok(guard) => guard,
            Err(_) => {
                // Another decision is reading them: use what was read before, if anything.
                if let Some(settings) = self.group.current(None) {
                    return Ok(settings);
                }
                let guard = self.group.refreshing.lock().await;
                if let Some(settings) = self.group.current(Some(RATES_REFRESH_INTERVAL)) {
                    return Ok(settings);
                }
                guard
            }
        };
        let group = self.account(&CustomerId::group()).await?;
        let settings = Settings::of(&group);
        self.group.replace(settings.clone());
        Ok(settings)
    }

    /// Would `amount` fit under `customer`'s limit on `date`? The credit check of an invoice or
    /// a reservation of it against the caught-up account (`account/credit_check.rs`), with the
    /// group's rates when it converts; nothing is appended. Decided under the customer's lock
    /// on the cached account itself, not a copy. With the position of the customer's last event
    /// it counted.
    pub async fn check_credit(
        &self,
        customer: &CustomerId,
        amount: Money,
        date: NaiveDate,
    ) -> Result<(CreditAssessment, Position), ExecutionError> {
        let _lock = self.accounts.lock(customer).await;
        let mut account = self.accounts.take(customer).await?;
        let result = self.assess(&mut account, amount, date).await;
        // Asking about a customer that does not exist does not fill the cache.
        if account.event_count() > 0 {
            self.accounts.put(account);
        }
        result
    }

    async fn assess(
        &self,
        account: &mut CustomerAccount,
        amount: Money,
        date: NaiveDate,
    ) -> Result<(CreditAssessment, Position), ExecutionError> {
        self.accounts.catch_up(account).await?;
        let rates = if credit_check::converts(account.state(), amount.currency(), date) {
            self.group_settings().await?.rates
        } else {
            Arc::default()
        };
        let assessment = credit_check::assess(account.state(), amount, date, &rates)?;
        Ok((assessment, account.position()))
    }

    /// Money moved against another subsidiary's documents (a payment or an application
    /// settling its invoices, a credit note crediting one, a reversal re-opening them) is a
    /// decision of the group (`access.rs`): checked on the decided event, which names every
    /// invoice it moves, before anything is appended. For a subsidiary's token the group's own
    /// account says which subsidiaries it collects on behalf of; it is read, caught up, only
    /// when the event touches another subsidiary's documents, so the common case costs nothing.
    async fn permitted(
        &self,
        role: Option<&Role>,
        envelope: &EventEnvelope,
    ) -> Result<(), ExecutionError> {
        let (Some(role), Some(subsidiary)) = (role, envelope.subsidiary_id.as_ref()) else {
            return Ok(());
        };
        let touches = envelope.event.rules().touches();
        if touches.iter().all(|touched| *touched == subsidiary) {
            return Ok(());
        }
        let on_behalf_of = match role.subsidiary() {
            Some(own) => self
                .account(&CustomerId::group())
                .await?
                .state()
                .collection_on_behalf()
                .on_behalf_of(own),
            None => Vec::new(),
        };
        role.permits(&Action::Settle {
            subsidiary,
            touches: &touches,
            on_behalf_of: &on_behalf_of,
        })
        .map_err(ExecutionError::Denied)
    }
}

/// The refusal of a number another command holds, with the reason and metadata of its kind.
fn taken(key: &NumberKey, holder: &Claim) -> Refusal {
    let (reason, field) = match key {
        NumberKey::Invoice(_) => (Reason::DuplicateInvoiceNumber, "invoice_number"),
        NumberKey::CreditNote(_) => (Reason::DuplicateCreditNoteNumber, "credit_note_number"),
        NumberKey::Order(_) => (Reason::DuplicateOrderNumber, "order_number"),
    };
    Refusal::already_exists(
        reason,
        format!("{key} is already used (by command {})", holder.command_id),
    )
    .with_metadata("subsidiary_id", key.subsidiary_id())
    .with_metadata(field, key.number())
}

/// Gives back the number a refused command reserved, so that the number stays usable.
async fn release<L: EventLog>(log: &L, reserved: &Option<(NumberKey, Claim)>) {
    if let Some((number, claim)) = reserved
        && let Err(error) = log.release_number(number, claim).await
    {
        warn!(%error, %number, "could not release the number");
    }
}

/// What deciding a command came to, when it was not refused.
#[allow(clippy::large_enum_variant)] // as `Decision`: consumed at once, the large one common
enum Decided {
    /// Accepted before: its event is at this position.
    Before(Position),
    /// Its event, sealed.
    Sealed(EventEnvelope),
}

/// What a decision is made with: a new event id, the time, who asks, the group's settings.
fn decision_context(
    principal: &Principal,
    settings: Settings,
) -> Result<DecisionContext, ExecutionError> {
    Ok(DecisionContext {
        event_id: new_event_id()?,
        recorded_at: Utc::now(),
        principal: principal.clone(),
        rates: settings.rates,
        payment_terms: settings.payment_terms,
    })
}

/// Event ids are UUID v7: unique, and sortable by creation time for whoever reads them raw.
fn new_event_id() -> Result<EventId, ExecutionError> {
    // A v7 UUID carries a timestamp and random bits, so it is never the nil UUID that
    // `EventId` refuses; were it ever, the command fails rather than loop.
    EventId::from_uuid(Uuid::now_v7()).map_err(|error| {
        ExecutionError::Inconsistent(Inconsistency::Log(LogError::Refused(format!(
            "no event id: {error}"
        ))))
    })
}
