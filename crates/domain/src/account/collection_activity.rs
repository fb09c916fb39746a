//! Collection activities (催收记录): a collector records a contact with the customer — a call,
//! an email, a letter, a visit or a text message — with its outcome, a note and, optionally,
//! the date of the next action.
//!
//! The record is what a collector, a manager and an auditor look back on ("who spoke to them,
//! when, and what did they say?"), and what the work queue works from: it shows the last contact
//! and leaves the customer out until the next action's date, as it does until a promised date
//! (`projections/work_queue.rs`); the metrics count each collector's activities. The account
//! decides nothing on it: an activity only has to name invoices the account has issued. A
//! promise or a dispute the contact brought is recorded by its own command; the outcome only
//! says what the contact came to.

use chrono::{Days, NaiveDate};
use serde::{Deserialize, Serialize};
use strum::{EnumString, IntoStaticStr};

use super::feature::{CommandRules, Decide, DecisionContext, EventRules};
use super::state::AccountState;
use crate::ids::{CommandId, InvoiceKey, PersonName, SubsidiaryId};
use crate::limits::{
    ACTIVITY_CONTACT_LENGTH_MAX, INVOICES_PER_ACTIVITY_MAX, NEXT_ACTION_DAYS_MAX, NOTE_LENGTH_MAX,
};
use crate::refusal::{FieldViolation, PreconditionViolation, Reason, Refusal};
use crate::rules::{
    InvalidEvent, business_date, check_invoice_list, check_not_ahead, check_text, free_text,
    invalid,
};

/// How the collector reached out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, IntoStaticStr, EnumString)]
#[cfg_attr(test, derive(strum::EnumIter))]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[strum(serialize_all = "SCREAMING_SNAKE_CASE")]
pub enum Channel {
    Call,
    Email,
    Letter,
    Visit,
    Sms,
}

/// What the contact came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, IntoStaticStr, EnumString)]
#[cfg_attr(test, derive(strum::EnumIter))]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[strum(serialize_all = "SCREAMING_SNAKE_CASE")]
pub enum Outcome {
    /// The right person was reached.
    Reached,
    /// Nobody answered (or no reply came).
    NoAnswer,
    /// The customer promised to pay (the promise itself is `RecordPromiseToPay`).
    Promised,
    /// The customer contested what it owes (the dispute itself is `OpenDispute`).
    Disputed,
    /// The customer refused to pay.
    Refused,
    /// The contact details were wrong.
    WrongContact,
}

impl Channel {
    /// The name events and read models store (`CALL`, `EMAIL`, ...).
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

impl Outcome {
    /// The name events and read models store (`REACHED`, `NO_ANSWER`, ...).
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// A collector records a contact with the customer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordCollectionActivity {
    /// The subsidiary the collector chased for.
    pub subsidiary_id: SubsidiaryId,
    pub channel: Channel,
    pub outcome: Outcome,
    /// The business date of the contact; not ahead of the service's date.
    pub occurred_on: NaiveDate,
    pub collector: PersonName,
    /// Whom the collector contacted (a name, a number, an address); may be empty.
    pub contact: String,
    pub note: String,
    /// When the collector acts next: the customer is left out of the work queue until then.
    /// From the day of the contact through [`NEXT_ACTION_DAYS_MAX`] days after.
    pub next_action_on: Option<NaiveDate>,
    /// The invoices the contact was about; empty means the account as a whole.
    pub invoices: Vec<InvoiceKey>,
}

/// The customer was contacted about what it owes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CollectionActivityRecorded {
    pub subsidiary_id: SubsidiaryId,
    pub channel: Channel,
    pub outcome: Outcome,
    pub occurred_on: NaiveDate,
    pub collector: PersonName,
    pub contact: String,
    pub note: String,
    pub next_action_on: Option<NaiveDate>,
    pub invoices: Vec<InvoiceKey>,
}

/// The next action is on or after the contact, and at most [`NEXT_ACTION_DAYS_MAX`] days after
/// it. Shared with the wire mapping.
pub fn check_next_action(
    violations: &mut Vec<FieldViolation>,
    occurred_on: NaiveDate,
    next_action_on: Option<NaiveDate>,
) {
    let Some(next) = next_action_on else {
        return;
    };
    let latest = occurred_on.checked_add_days(Days::new(NEXT_ACTION_DAYS_MAX.into()));
    if next < occurred_on {
        violations.push(FieldViolation::new(
            "next_action_on",
            format!("next action {next} is before the contact on {occurred_on}"),
        ));
    } else if latest.is_some_and(|latest| next > latest) {
        violations.push(FieldViolation::new(
            "next_action_on",
            format!(
                "next action {next} is more than {NEXT_ACTION_DAYS_MAX} days after the contact \
                 on {occurred_on}"
            ),
        ));
    }
}

/// The invoices an activity names: at most [`INVOICES_PER_ACTIVITY_MAX`], each once. Shared
/// with the wire mapping.
pub fn check_invoices(violations: &mut Vec<FieldViolation>, invoices: &[InvoiceKey]) {
    check_invoice_list(violations, invoices, INVOICES_PER_ACTIVITY_MAX, "activity");
}

/// The contact and the note: bounded free text. Shared with the wire mapping.
pub fn check_texts(violations: &mut Vec<FieldViolation>, contact: &str, note: &str) {
    check_text(violations, "contact", contact, ACTIVITY_CONTACT_LENGTH_MAX);
    check_text(violations, "note", note, NOTE_LENGTH_MAX);
}

impl CommandRules for RecordCollectionActivity {
    fn subsidiary_id(&self) -> Option<&SubsidiaryId> {
        Some(&self.subsidiary_id)
    }

    fn check(&self) -> Vec<FieldViolation> {
        let mut violations = Vec::new();
        check_next_action(&mut violations, self.occurred_on, self.next_action_on);
        check_invoices(&mut violations, &self.invoices);
        check_texts(&mut violations, &self.contact, &self.note);
        violations
    }

    fn effective_date(&self, _context: &DecisionContext) -> NaiveDate {
        self.occurred_on
    }
}

impl Decide for RecordCollectionActivity {
    type Event = CollectionActivityRecorded;

    fn decide(
        &self,
        state: &AccountState,
        _command_id: CommandId,
        context: &DecisionContext,
    ) -> Result<CollectionActivityRecorded, Refusal> {
        // A contact is recorded after it happened: not for a day still to come.
        let mut dates = Vec::new();
        check_not_ahead(&mut dates, "occurred_on", self.occurred_on, context.today());
        if !dates.is_empty() {
            return Err(Refusal::invalid(dates));
        }
        let missing: Vec<PreconditionViolation> = self
            .invoices
            .iter()
            .filter(|key| !state.invoices.contains_key(key))
            .map(|key| PreconditionViolation {
                kind: Reason::InvoiceNotFound,
                subject: key.to_string(),
                description: format!(
                    "customer {} has no invoice with this number",
                    state.customer_id
                ),
            })
            .collect();
        if !missing.is_empty() {
            return Err(Refusal::precondition(Reason::InvoiceNotFound, missing));
        }
        Ok(CollectionActivityRecorded {
            subsidiary_id: self.subsidiary_id.clone(),
            channel: self.channel,
            outcome: self.outcome,
            occurred_on: self.occurred_on,
            collector: self.collector.clone(),
            contact: self.contact.clone(),
            note: self.note.clone(),
            next_action_on: self.next_action_on,
            invoices: self.invoices.clone(),
        })
    }
}

impl EventRules for CollectionActivityRecorded {
    fn subsidiary_id(&self) -> Option<&SubsidiaryId> {
        Some(&self.subsidiary_id)
    }

    fn takes_effect(&self) -> Option<(&'static str, NaiveDate)> {
        Some(("day of the contact", self.occurred_on))
    }

    fn check(&self) -> Result<(), InvalidEvent> {
        business_date("data.occurred_on", self.occurred_on)?;
        if let Some(next) = self.next_action_on {
            business_date("data.next_action_on", next)?;
        }
        let mut violations = Vec::new();
        check_next_action(&mut violations, self.occurred_on, self.next_action_on);
        check_invoices(&mut violations, &self.invoices);
        if let Some(first) = violations.first() {
            return Err(invalid(format!("data.{}", first.field), &first.description));
        }
        free_text("data.contact", &self.contact, ACTIVITY_CONTACT_LENGTH_MAX)?;
        free_text("data.note", &self.note, NOTE_LENGTH_MAX)
    }

    /// An activity changes nothing the account decides on; the invoices it names were issued
    /// before it (the account never forgets an invoice).
    fn evolve(&self, state: &mut AccountState, _command_id: CommandId) -> Result<(), String> {
        match self
            .invoices
            .iter()
            .find(|key| !state.invoices.contains_key(key))
        {
            Some(key) => Err(format!("names {key}, which the account has not issued")),
            None => Ok(()),
        }
    }
}

#[cfg(feature = "testing")]
impl CollectionActivityRecorded {
    /// A valid activity for tests: Wang Fang called about `SUB-A/INV-1` on 2026-07-15, was
    /// told the payment is on its way, and looks again on 2026-07-22.
    pub fn sample() -> Self {
        CollectionActivityRecorded {
            subsidiary_id: InvoiceKey::sample().subsidiary_id,
            channel: Channel::Call,
            outcome: Outcome::Reached,
            occurred_on: NaiveDate::from_ymd_opt(2026, 7, 15).expect("a date"),
            collector: PersonName::parse("Wang Fang").expect("a name"),
            contact: "Li Na, accounts payable".to_owned(),
            note: "payment approved, in the next run".to_owned(),
            next_action_on: NaiveDate::from_ymd_opt(2026, 7, 22),
            invoices: vec![InvoiceKey::sample()],
        }
    }

    /// The command this event records.
    pub fn command(&self) -> RecordCollectionActivity {
        RecordCollectionActivity {
            subsidiary_id: self.subsidiary_id.clone(),
            channel: self.channel,
            outcome: self.outcome,
            occurred_on: self.occurred_on,
            collector: self.collector.clone(),
            contact: self.contact.clone(),
            note: self.note.clone(),
            next_action_on: self.next_action_on,
            invoices: self.invoices.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use strum::IntoEnumIterator as _;

    use super::*;

    #[test]
    fn stored_names_are_the_names_in_events() {
        for channel in Channel::iter() {
            let encoded = serde_json::to_value(channel).expect("a name");
            assert_eq!(encoded.as_str(), Some(channel.as_str()));
            assert_eq!(channel.as_str().parse::<Channel>(), Ok(channel));
        }
        for outcome in Outcome::iter() {
            let encoded = serde_json::to_value(outcome).expect("a name");
            assert_eq!(encoded.as_str(), Some(outcome.as_str()));
            assert_eq!(outcome.as_str().parse::<Outcome>(), Ok(outcome));
        }
        assert_eq!(Outcome::WrongContact.as_str(), "WRONG_CONTACT");
        assert_eq!(Channel::Sms.as_str(), "SMS");
    }
}
