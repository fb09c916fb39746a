//! What a feature of the account is: a command with its rules and its decision, and an event
//! with its rules and its evolution of the account's state.
//!
//! Each feature's module (`invoice.rs`, `payment.rs`, ...) implements these for its command and
//! its event; [`crate::command::CommandBody`] and [`crate::event::Event`] hand each variant to
//! them, and the account (`account/mod.rs`) wraps what they decide into an envelope and keeps
//! the log's bookkeeping. Adding a feature is the recipe in docs/ARCHITECTURE.md: the compiler
//! names every match that needs the new variant.

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};

use super::state::AccountState;
use crate::exchange::ExchangeRates;
use crate::ids::{CommandId, EventId, NumberKey, Principal, SubsidiaryId};
use crate::refusal::{FieldViolation, Refusal};
use crate::rules::InvalidEvent;
use crate::terms::PaymentTermsBook;

/// What the caller supplies to a decision: the values that would otherwise make it impure.
#[derive(Debug, Clone)]
pub struct DecisionContext {
    pub event_id: EventId,
    pub recorded_at: DateTime<Utc>,
    pub principal: Principal,
    /// The exchange rates the group has published (its own account's), for the decisions that
    /// convert; handed over when [`CommandRules::needs_group_settings`] says so, empty
    /// otherwise.
    pub rates: Arc<ExchangeRates>,
    /// The group's payment-terms templates (its own account's), for the decisions of invoices
    /// given a template; handed over like `rates`.
    pub payment_terms: Arc<PaymentTermsBook>,
}

impl DecisionContext {
    /// The service's own business date (UTC).
    pub fn today(&self) -> NaiveDate {
        self.recorded_at.date_naive()
    }
}

/// The rules of a command that need nothing of the account.
pub trait CommandRules {
    /// The subsidiary the command is posted for, if any (its event's envelope names it too).
    fn subsidiary_id(&self) -> Option<&SubsidiaryId>;

    /// The rules that need several fields of the command but nothing of the account; every
    /// violation at once.
    fn check(&self) -> Vec<FieldViolation>;

    /// The business date on which the command's event takes effect.
    fn effective_date(&self, context: &DecisionContext) -> NaiveDate;

    /// The number the command takes, unique per subsidiary across all customers (an invoice's,
    /// a credit note's), which the service reserves before it appends the event.
    fn reserves(&self) -> Option<NumberKey> {
        None
    }

    /// Whose account the command is decided against: a customer's (every command but the
    /// group's settings) or the group's own ([`crate::ids::CustomerId::group`]).
    fn scope(&self) -> Scope {
        Scope::Customer
    }

    /// Whether deciding the command against `state` needs the group's settings (it converts
    /// amounts between currencies, or issues an invoice on a template), so that the caller must
    /// hand the group's exchange rates and payment terms over in the [`DecisionContext`]
    /// (reading them costs a read of the group's account, which most commands never need).
    fn needs_group_settings(&self, _state: &AccountState) -> bool {
        false
    }
}

/// Whose account a command is decided against and its event recorded in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// A customer's account: what the customer owes, its credit, its promises.
    Customer,
    /// The group's own account ([`crate::ids::CustomerId::group`]): settings that hold for every customer,
    /// such as which subsidiary collects on behalf of which.
    Group,
    /// One of the group's bank accounts ([`crate::ids::CustomerId::bank_account`]): the lines
    /// of its statements and what became of each (matched to customers' payments, or not a
    /// receivable). Its own stream, so that importing a statement never waits on a customer
    /// and a line is decided once however many importers read it.
    BankAccount,
}

/// How a command is decided against the account's state.
pub trait Decide: CommandRules {
    /// The event an accepted command becomes.
    type Event;

    /// The event, or why the account refuses the command. Called only once [`CommandRules::check`]
    /// found nothing wrong; pure: everything it needs is in `state`, the command and `context`.
    fn decide(
        &self,
        state: &AccountState,
        command_id: CommandId,
        context: &DecisionContext,
    ) -> Result<Self::Event, Refusal>;
}

/// The rules of an event, and how it changes the account's state.
pub trait EventRules {
    /// The subsidiary the event names, which its envelope names too.
    fn subsidiary_id(&self) -> Option<&SubsidiaryId>;

    /// The event's own business date that the envelope's effective date must equal, with its
    /// name for the error ("issue date"); none when the event carries no date of its own.
    fn takes_effect(&self) -> Option<(&'static str, NaiveDate)>;

    /// The rules of its command restated over the event, whatever the account held: checked
    /// where an event is written and where it is read, so that an event breaking them is
    /// neither appended nor believed.
    fn check(&self) -> Result<(), InvalidEvent>;

    /// Changes the state as the event says, after checking the ledger's invariants against it
    /// (an allocation never exceeds an invoice's open amount, an invoice is issued once...). On
    /// error the state is left as it was. `command_id` is the id of the command the event
    /// recorded, by which later events name what it created (a reversal names its payment).
    fn evolve(&self, state: &mut AccountState, command_id: CommandId) -> Result<(), String>;

    /// The subsidiaries whose documents the event moves money against (the invoices a payment,
    /// a credit note or an application settles, those a reversal re-opens), for the access
    /// policy: moving money against another subsidiary's invoice is a decision of the group
    /// (`access.rs`). Taken from the event, as decided, because a command does not always name
    /// them (oldest due first, a reversal).
    fn touches(&self) -> Vec<&SubsidiaryId> {
        Vec::new()
    }

    /// Whose account the event belongs in; the same as its command's [`CommandRules::scope`].
    fn scope(&self) -> Scope {
        Scope::Customer
    }

    /// The number the event's document took, the one its command reserved
    /// ([`CommandRules::reserves`]): what a copy of the log reserves again in the copy's
    /// registry of numbers, which is kept beside the log and not in it.
    fn takes_number(&self) -> Option<NumberKey> {
        None
    }
}
