//! The customer account: the aggregate that every command is decided against.
//!
//! One customer is one consistency boundary, because the credit check needs every open invoice of
//! the customer across all subsidiaries. `decide` is pure (state + command -> event or refusal);
//! `apply` takes an event read from the log in two steps: it checks the event's link in the
//! customer's hash chain, then evolves the state and checks the ledger's invariants again, so
//! that a log that breaks them is reported instead of silently believed.
//!
//! Each feature (invoices, payments, credit limits, promises, credit notes, write-offs,
//! reversals, applications, refunds, disputes; the list is [`crate::features`])
//! has its own module holding its command, its event, their rules, its decision and its
//! evolution; this module holds the account's bookkeeping of the log (position, hash chain, the
//! commands it has accepted) and hands every command and event to its feature. The group's own
//! account ([`CustomerId::group`]) is an account too, holding the group's settings
//! ([`feature::Scope`]); it takes no customer's command and a customer's account takes none of
//! its. `state.rs` holds what the features decide on; `feature.rs` what a feature implements.

pub mod alert_thresholds;
pub mod application;
pub mod balance_confirmation;
pub mod bank_account;
pub mod collection_activity;
pub mod collection_on_behalf;
pub mod collector;
pub mod credit_check;
pub mod credit_limit;
pub mod credit_note;
pub mod credit_reservation;
pub mod customer;
pub mod discount;
pub mod dispute;
pub mod exchange_rates;
pub mod feature;
mod footprint;
pub mod instalment_plan;
pub mod invoice;
pub mod payment;
pub mod payment_terms;
pub mod promise;
pub mod receipt;
pub mod refund;
pub mod reversal;
pub mod run;
pub mod settlement;
pub mod snapshot;
pub mod state;
pub mod write_off;

use std::collections::HashMap;

use crate::chain::{self, EventHash};
use crate::command::Command;
use crate::credit::CreditTerms;
use crate::event::{EventEnvelope, RecordedEvent, SCHEMA_VERSION};
use crate::ids::{CommandDigest, CommandId, CustomerId, InvoiceKey, Position};
use crate::money::Currency;
use crate::refusal::{FieldViolation, Reason, Refusal};

use feature::{DecisionContext, Scope};
use state::{AccountState, Balance, InvoiceState, PromiseState};

/// A command the account has accepted: the digest of its content, and where the event that
/// recorded it (its first reply) is in the log. Only that: an account keeps one for every
/// command of its history, and keeping the whole event made an account's memory grow by about
/// 2 KB per event. A retried command is rare; its reply is read back from the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AcceptedCommand {
    pub digest: CommandDigest,
    pub position: Position,
}

/// The result of deciding a command. The large variant is the common one (a new event) and a
/// decision is consumed as soon as it is made: boxing the envelope would cost an allocation for
/// every command to make the rare retry's answer smaller.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    /// Append this event.
    Append(EventEnvelope),
    /// The command was accepted before, with the same content: answer with its event, which
    /// is in the log at this position.
    AlreadyAccepted(Position),
}

/// Whether an event's hash is worked out again from its content when it is applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Content {
    /// Read from a log: its content must hash to its hash.
    Rehashed,
    /// Decided by this account and sealed by the caller from this very envelope.
    Sealed,
}

/// A fact in the log that contradicts the ledger's invariants. The account cannot be trusted
/// beyond it; the service refuses to decide on it and reports it to the operator.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("event at position {position} of customer {customer_id}: {problem}")]
pub struct InvariantViolation {
    pub customer_id: CustomerId,
    pub position: Position,
    pub problem: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerAccount {
    /// Position of the last event applied; `Position::ZERO` for a customer with no events.
    position: Position,
    event_count: u64,
    /// The hash of the last event applied ([`EventHash::GENESIS`] before the first): the next
    /// event's `prev_hash`.
    last_hash: EventHash,
    accepted: HashMap<CommandId, AcceptedCommand>,
    state: AccountState,
}

impl CustomerAccount {
    pub fn new(customer_id: CustomerId) -> Self {
        CustomerAccount {
            position: Position::ZERO,
            event_count: 0,
            last_hash: EventHash::GENESIS,
            accepted: HashMap::new(),
            state: AccountState::new(customer_id),
        }
    }

    /// Rebuilds an account from its events, in log order.
    pub fn from_history<'a>(
        customer_id: CustomerId,
        events: impl IntoIterator<Item = &'a RecordedEvent>,
    ) -> Result<Self, InvariantViolation> {
        let mut account = CustomerAccount::new(customer_id);
        for event in events {
            account.apply(event)?;
        }
        Ok(account)
    }

    pub fn customer_id(&self) -> &CustomerId {
        self.state.customer_id()
    }

    pub fn position(&self) -> Position {
        self.position
    }

    pub fn event_count(&self) -> u64 {
        self.event_count
    }

    /// The hash of the last event applied: the `prev_hash` of the next one.
    pub fn last_hash(&self) -> EventHash {
        self.last_hash
    }

    /// What the account knows of the customer's business.
    pub fn state(&self) -> &AccountState {
        &self.state
    }

    pub fn credit(&self) -> Option<&CreditTerms> {
        self.state.credit()
    }

    /// Every invoice ever issued to the customer, open or settled.
    pub fn invoices(&self) -> impl Iterator<Item = &InvoiceState> {
        self.state.invoices()
    }

    pub fn invoice(&self, key: &InvoiceKey) -> Option<&InvoiceState> {
        self.state.invoice(key)
    }

    pub fn open_invoices(&self) -> impl Iterator<Item = &InvoiceState> {
        self.state.open_invoices()
    }

    pub fn promises(&self) -> &[PromiseState] {
        self.state.promises()
    }

    pub fn accepted(&self, command_id: &CommandId) -> Option<&AcceptedCommand> {
        self.accepted.get(command_id)
    }

    /// Open invoices and unapplied cash per currency.
    pub fn balances(&self) -> Vec<Balance> {
        self.state.balances()
    }

    /// Open invoices minus unapplied cash in `currency`, across all subsidiaries.
    pub fn exposure(&self, currency: Currency) -> rust_decimal::Decimal {
        self.state.exposure(currency)
    }

    pub fn unapplied_cash(&self, currency: Currency) -> rust_decimal::Decimal {
        self.state.unapplied_cash(currency)
    }

    /// Decides a command against the account: the event to append, the earlier answer to a
    /// retried command, or a refusal.
    pub fn decide(
        &self,
        command: &Command,
        context: &DecisionContext,
    ) -> Result<Decision, Refusal> {
        let digest = command.body.digest();
        if let Some(accepted) = self.accepted.get(&command.id) {
            if accepted.digest == digest {
                return Ok(Decision::AlreadyAccepted(accepted.position));
            }
            return Err(Refusal::already_exists(
                Reason::CommandIdReused,
                format!(
                    "command {} was already accepted with other content (event at position {})",
                    command.id, accepted.position
                ),
            )
            .with_metadata("command_id", command.id)
            .with_metadata("position", accepted.position));
        }
        let violations = command.body.check();
        if !violations.is_empty() {
            return Err(Refusal::invalid(violations));
        }
        if let Some(violation) = self.scope_violation(command.body.rules().scope()) {
            return Err(Refusal::invalid(vec![FieldViolation::new(
                "customer_id",
                violation,
            )]));
        }
        let event = command.body.decide(&self.state, command.id, context)?;
        // The event's own date where it has one: a command may not know it before the decision
        // (a discount takes effect on its payment's date).
        let effective_date = event.rules().takes_effect().map_or_else(
            || command.body.rules().effective_date(context),
            |(_, date)| date,
        );
        Ok(Decision::Append(EventEnvelope {
            event_id: context.event_id,
            schema_version: SCHEMA_VERSION,
            customer_id: self.customer_id().clone(),
            subsidiary_id: command.body.subsidiary_id().cloned(),
            command_id: command.id,
            command_digest: digest,
            principal: context.principal.clone(),
            recorded_at: context.recorded_at,
            effective_date,
            sequence: self.event_count + 1,
            prev_hash: self.last_hash,
            // Sealed by the caller with `chain::seal` once the envelope is final.
            hash: EventHash::GENESIS,
            event,
        }))
    }

    /// Applies an event read from the log: checks its link in the chain, then evolves the state
    /// and checks the ledger's invariants as it goes. On error the account is left unchanged.
    pub fn apply(&mut self, recorded: &RecordedEvent) -> Result<(), InvariantViolation> {
        self.apply_linked(recorded, Content::Rehashed)
    }

    /// Applies the event this account decided, which the caller then sealed with
    /// `chain::seal` and the log took at `recorded.position`: as [`Self::apply`], except that
    /// its hash is not worked out again from its content, which the caller did a moment ago
    /// from this very envelope (the second time cost about 5 % of a command's CPU in the
    /// command service's profile, BENCHMARKS.md). Its link is checked as any event's; an event
    /// read back from a log always goes through [`Self::apply`]. Debug builds work the hash out
    /// anyway and assert it.
    pub fn apply_decided(&mut self, recorded: &RecordedEvent) -> Result<(), InvariantViolation> {
        debug_assert_eq!(
            chain::hash_of(&recorded.envelope).ok(),
            Some(recorded.envelope.hash),
            "a decided event applied unsealed or changed after sealing"
        );
        self.apply_linked(recorded, Content::Sealed)
    }

    fn apply_linked(
        &mut self,
        recorded: &RecordedEvent,
        content: Content,
    ) -> Result<(), InvariantViolation> {
        let violation = |problem: String| InvariantViolation {
            customer_id: self.customer_id().clone(),
            position: recorded.position,
            problem,
        };
        self.check_link(recorded, content).map_err(violation)?;
        let envelope = &recorded.envelope;
        envelope
            .event
            .rules()
            .evolve(&mut self.state, envelope.command_id)
            .map_err(|problem| InvariantViolation {
                customer_id: envelope.customer_id.clone(),
                position: recorded.position,
                problem,
            })?;
        // A second event for a command that was already accepted can only come from a server
        // that let a duplicate through; the fact stands, the first event stays the answer.
        self.accepted
            .entry(envelope.command_id)
            .or_insert(AcceptedCommand {
                digest: envelope.command_digest,
                position: recorded.position,
            });
        self.position = recorded.position;
        self.event_count += 1;
        self.last_hash = envelope.hash;
        Ok(())
    }

    /// Why a command or an event of `scope` does not belong in this account: the group's
    /// settings belong in the group's own account, a bank account's lines in its own stream,
    /// and everything else in a customer's.
    fn scope_violation(&self, scope: Scope) -> Option<String> {
        let id = self.customer_id();
        let here = if id.is_group() {
            Scope::Group
        } else if id.is_bank_account() {
            Scope::BankAccount
        } else {
            Scope::Customer
        };
        if scope == here {
            return None;
        }
        let belongs = match scope {
            Scope::Customer => "a customer's business belongs in a customer's account".to_owned(),
            Scope::Group => format!(
                "the group's settings belong in the group's own account {}",
                CustomerId::group()
            ),
            Scope::BankAccount => {
                "a bank statement's lines belong in the bank account's own stream".to_owned()
            }
        };
        let what = match here {
            Scope::Customer => "a customer's account",
            Scope::Group => "the group's own account, reserved for the group's settings",
            Scope::BankAccount => "a bank account's stream, reserved for its statements",
        };
        Some(format!("{belongs}, and {id} is {what}"))
    }

    /// The event is the next link of this customer's chain: its customer, a later position, the
    /// next sequence, the previous event's hash, and content that hashes to its own hash. Sealed
    /// where the event was written and checked where it is read: an account never acts on a
    /// history that was changed behind the service's back.
    fn check_link(&self, recorded: &RecordedEvent, content: Content) -> Result<(), String> {
        let envelope = &recorded.envelope;
        if envelope.customer_id != *self.customer_id() {
            return Err(format!("belongs to customer {}", envelope.customer_id));
        }
        if let Some(violation) = self.scope_violation(envelope.event.rules().scope()) {
            return Err(format!(
                "{} in an account where {violation}",
                envelope.event.type_name()
            ));
        }
        if recorded.position <= self.position {
            return Err(format!(
                "is not after the account's position {}",
                self.position
            ));
        }
        if envelope.sequence != self.event_count + 1 {
            return Err(format!(
                "has sequence {}, not {}",
                envelope.sequence,
                self.event_count + 1
            ));
        }
        if envelope.prev_hash != self.last_hash {
            return Err(format!(
                "has prev_hash {}, not the previous event's hash {}",
                envelope.prev_hash, self.last_hash
            ));
        }
        if content == Content::Sealed {
            return Ok(());
        }
        match chain::hash_of(envelope) {
            Ok(hash) if hash == envelope.hash => Ok(()),
            Ok(hash) => Err(format!(
                "content hashes to {hash}, not to its recorded hash {}",
                envelope.hash
            )),
            Err(error) => Err(error.to_string()),
        }
    }
}
