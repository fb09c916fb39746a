//! Balance confirmations (对账确认): the customer confirms what it owes the group in a currency
//! at the end of a day, usually the last day of a statement of account it was sent.
//!
//! The event keeps the amount the customer confirmed, who confirmed it, and the balance the
//! account held for that day when it was recorded, so that a difference stays on record as it
//! was known then even if a later event dated before that day changes the balance. A confirmed
//! amount that differs from ours is a difference to investigate (the read model lists them).
//! The balance is the customer's with the whole group (open invoices less money on account),
//! as a statement without a subsidiary filter states it.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::feature::{CommandRules, Decide, DecisionContext, EventRules};
use super::state::AccountState;
use crate::ids::{CommandId, PersonName, SubsidiaryId};
use crate::limits::NOTE_LENGTH_MAX;
use crate::money::Money;
use crate::refusal::{FieldViolation, Refusal};
use crate::rules::{InvalidEvent, business_date, check_not_ahead, check_text, free_text, invalid};

/// The customer's confirmation of its balance at the end of a day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfirmBalance {
    /// The day whose closing balance is confirmed.
    pub as_of: NaiveDate,
    /// What the customer says it owes in that currency (negative: the group owes it).
    pub confirmed: Money,
    /// Who confirmed it at the customer.
    pub confirmed_by: PersonName,
    pub note: String,
}

/// The customer confirmed its balance; `balance` is what the account held for that day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BalanceConfirmed {
    pub as_of: NaiveDate,
    pub confirmed: Money,
    pub balance: Money,
    pub confirmed_by: PersonName,
    pub note: String,
}

impl BalanceConfirmed {
    /// `confirmed - balance`: zero when the customer agrees.
    pub fn difference(&self) -> Decimal {
        self.confirmed.amount() - self.balance.amount()
    }
}

impl CommandRules for ConfirmBalance {
    fn subsidiary_id(&self) -> Option<&SubsidiaryId> {
        None
    }

    fn check(&self) -> Vec<FieldViolation> {
        let mut violations = Vec::new();
        check_text(&mut violations, "note", &self.note, NOTE_LENGTH_MAX);
        violations
    }

    fn effective_date(&self, _context: &DecisionContext) -> NaiveDate {
        self.as_of
    }
}

impl Decide for ConfirmBalance {
    type Event = BalanceConfirmed;

    fn decide(
        &self,
        state: &AccountState,
        _command_id: CommandId,
        context: &DecisionContext,
    ) -> Result<BalanceConfirmed, Refusal> {
        let mut dates = Vec::new();
        // A balance can only be confirmed for a day that has ended (or ends today).
        check_not_ahead(&mut dates, "as_of", self.as_of, context.today());
        if !dates.is_empty() {
            return Err(Refusal::invalid(dates));
        }
        let currency = self.confirmed.currency();
        Ok(BalanceConfirmed {
            as_of: self.as_of,
            confirmed: self.confirmed,
            balance: Money::of(state.balance_on(currency, self.as_of), currency),
            confirmed_by: self.confirmed_by.clone(),
            note: self.note.clone(),
        })
    }
}

impl EventRules for BalanceConfirmed {
    fn subsidiary_id(&self) -> Option<&SubsidiaryId> {
        None
    }

    fn takes_effect(&self) -> Option<(&'static str, NaiveDate)> {
        Some(("as_of", self.as_of))
    }

    fn check(&self) -> Result<(), InvalidEvent> {
        business_date("data.as_of", self.as_of)?;
        if self.confirmed.currency() != self.balance.currency() {
            return Err(invalid(
                "data.balance",
                "is in another currency than the confirmed amount",
            ));
        }
        free_text("data.note", &self.note, NOTE_LENGTH_MAX)
    }

    /// A confirmation changes nothing the account decides on: it is a fact for the read model
    /// and the auditors. The balance it records must be the one the account held when it was
    /// decided, which is the state it is applied to (the same events before it).
    fn evolve(&self, state: &mut AccountState, _command_id: CommandId) -> Result<(), String> {
        let held = state.balance_on(self.balance.currency(), self.as_of);
        if held != self.balance.amount() {
            return Err(format!(
                "records a balance of {} as of {}, but the account held {held}",
                self.balance, self.as_of
            ));
        }
        Ok(())
    }
}

#[cfg(feature = "testing")]
impl BalanceConfirmed {
    /// A valid confirmation for tests: the customer confirms 1,000.00 CNY as of 2026-06-30,
    /// which is what the sample invoice leaves open before anything else happens to it.
    pub fn sample() -> Self {
        BalanceConfirmed {
            as_of: NaiveDate::from_ymd_opt(2026, 6, 30).expect("a date"),
            confirmed: Money::cny("1000.00"),
            balance: Money::cny("1000.00"),
            confirmed_by: PersonName::parse("Li Na").expect("a name"),
            note: "statement of June".to_owned(),
        }
    }

    /// The command this event records.
    pub fn command(&self) -> ConfirmBalance {
        ConfirmBalance {
            as_of: self.as_of,
            confirmed: self.confirmed,
            confirmed_by: self.confirmed_by.clone(),
            note: self.note.clone(),
        }
    }
}
