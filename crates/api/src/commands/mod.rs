//! Wire commands to domain commands and their events back to replies: one module per feature
//! of the account (`invoice.rs`, `payment.rs`, ...), each with the reading of its request and the
//! reply to its event, and the view of an account (`account.rs`).
//!
//! Reading names every bad field at once, as `BadRequest` field violations by their path in the
//! request (`amount.currency`, `allocations[2].invoice.invoice_number`): a field's own rule as it
//! is read, and the rules of the feature that need several fields (`account/<feature>.rs` in the
//! domain) on the fields that could be read.
//!
//! A reply is built from the event that recorded the command, also for a retry (whose first
//! event it is); it is `None` when the event is of another type, since a command id used for one
//! RPC cannot answer another.

pub mod account;
pub mod alert_thresholds;
pub mod application;
pub mod balance_confirmation;
pub mod check_credit;
pub mod collection_activity;
pub mod collection_on_behalf;
pub mod collector;
pub mod credit_limit;
pub mod credit_note;
pub mod credit_reservation;
pub mod customer;
pub mod discount;
pub mod dispute;
pub mod exchange_rates;
pub mod instalment_plan;
pub mod invoice;
pub mod payment;
pub mod payment_terms;
pub mod promise;
pub mod refund;
pub mod reversal;
pub mod write_off;

use receivables_domain::{Command, CommandBody, CommandId, CustomerId, Refusal};

use crate::fields::Fields;

/// A command addressed to one customer's account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Addressed {
    pub customer_id: CustomerId,
    pub command: Command,
}

/// The command, if every field was good; the refusal listing every bad one otherwise. The
/// rules of the command that need several of its fields are checked here too (the account
/// checks them again), so that they are named in the same reply as the bad fields.
pub(crate) fn finish(
    mut fields: Fields,
    customer_id: Option<CustomerId>,
    id: Option<CommandId>,
    body: Option<CommandBody>,
) -> Result<Addressed, Refusal> {
    if let Some(body) = &body
        && fields.is_clean()
    {
        fields.extend(body.check());
    }
    match (customer_id, id, body) {
        (Some(customer_id), Some(id), Some(body)) if fields.is_clean() => Ok(Addressed {
            customer_id,
            command: Command { id, body },
        }),
        _ => Err(Refusal::invalid(fields.violations)),
    }
}

/// Reads the customer id of a request that is not a command (`GetAccount`).
pub fn customer_id(value: &str) -> Result<CustomerId, Refusal> {
    let mut fields = Fields::default();
    let id = fields.customer_id("customer_id", value);
    match id {
        Some(id) => Ok(id),
        None => Err(Refusal::invalid(fields.violations)),
    }
}
