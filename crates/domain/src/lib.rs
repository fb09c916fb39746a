//! The receivables domain: money, identifiers, commands, events and the customer account
//! aggregate with every rule the command service enforces.
//!
//! This crate does no I/O and has no async code: every decision is a pure function of the
//! account's state, the command and a [`DecisionContext`] supplied by the caller.

pub mod access;
pub mod account;
pub mod alerts;
pub mod allocation;
pub mod calendar;
pub mod chain;
pub mod command;
pub mod credit;
pub mod customer;
pub mod dated;
pub mod event;
pub mod exchange;
pub mod features;
pub mod hash;
pub mod ids;
pub mod limits;
pub mod matching;
pub mod metrics;
pub mod money;
pub mod outage;
pub mod payment;
pub mod refusal;
pub mod rules;
pub mod terms;
#[cfg(feature = "testing")]
pub mod testing;

pub use account::feature::DecisionContext;
pub use account::run::Run;
pub use account::snapshot::{AccountSnapshot, SnapshotError, SnapshotHead};
pub use account::{CustomerAccount, Decision, InvariantViolation};
pub use chain::EventHash;
pub use command::{Command, CommandBody};
pub use event::{Event, EventEnvelope, EventType, RecordedEvent};
pub use ids::{
    CommandId, CustomerId, EventId, InvoiceKey, InvoiceNumber, Position, Principal, SubsidiaryId,
};
pub use money::{Currency, Money};
pub use refusal::{Reason, Refusal, RefusalCode};
