//! Valid events for the tests of every crate, built as the command service would have written
//! them (behind the `testing` feature).
//!
//! [`EnvelopeBuilder`] puts an event in an envelope with everything derived from the event that
//! can be: its subsidiary, its effective date, the digest of the command it records, and for a
//! promise the command id it must carry. A test names only what it is about (the customer, the
//! moment, the link in the chain) and gets an envelope that passes [`EventEnvelope::check`] and
//! is sealed like a written one. [`sample`] gives one valid event of every type, for tests that
//! must cover every type (the list is [`EventType::all`]).

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use uuid::Uuid;

use crate::account::CustomerAccount;
use crate::account::feature::Scope;
use crate::chain::{self, EventHash};
use crate::command::CommandBody;
use crate::event::{Event, EventEnvelope, EventType, RecordedEvent, SCHEMA_VERSION};
use crate::features::features;
use crate::ids::{CommandId, CustomerId, EventId, InvoiceKey, Position, Principal};

/// The moment every built event is recorded at unless a test says otherwise.
pub fn recorded_at_default() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 6, 30, 12, 0, 0)
        .single()
        .expect("a real instant")
}

/// A date written `YYYY-MM-DD` in a test; panics on anything else, as a test's typo should.
pub fn date(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").expect("a test date is YYYY-MM-DD")
}

/// A fresh random id of any of the UUID id types.
fn fresh() -> Uuid {
    Uuid::new_v4()
}

/// An envelope for an event, as the command service writes it.
#[derive(Debug, Clone)]
pub struct EnvelopeBuilder {
    customer_id: CustomerId,
    event: Event,
    event_id: EventId,
    command_id: Option<CommandId>,
    principal: Principal,
    recorded_at: DateTime<Utc>,
    effective_date: Option<NaiveDate>,
    sequence: u64,
    prev_hash: EventHash,
}

impl EnvelopeBuilder {
    /// `event` of `customer_id`, the first of its chain, recorded at
    /// [`recorded_at_default`] by the anonymous principal, with fresh ids.
    pub fn new(customer_id: CustomerId, event: Event) -> Self {
        EnvelopeBuilder {
            customer_id,
            event,
            event_id: EventId::from_uuid(fresh()).expect("a random UUID is never nil"),
            command_id: None,
            principal: Principal::anonymous(),
            recorded_at: recorded_at_default(),
            effective_date: None,
            sequence: 1,
            prev_hash: EventHash::GENESIS,
        }
    }

    /// `event` of the customer with id `customer_id` (which must be a valid id).
    pub fn of(customer_id: &str, event: Event) -> Self {
        let customer_id = CustomerId::parse(customer_id).expect("a valid customer id");
        EnvelopeBuilder::new(customer_id, event)
    }

    pub fn event_id(mut self, event_id: EventId) -> Self {
        self.event_id = event_id;
        self
    }

    /// The command's id (by default a fresh one; for a promise or a dispute, its id; for the
    /// sample payment, `PaymentReceived::sample_command_id`, which the sample reversal names).
    pub fn command_id(mut self, command_id: CommandId) -> Self {
        self.command_id = Some(command_id);
        self
    }

    pub fn principal(mut self, principal: Principal) -> Self {
        self.principal = principal;
        self
    }

    pub fn recorded_at(mut self, recorded_at: DateTime<Utc>) -> Self {
        self.recorded_at = recorded_at;
        self
    }

    /// The business date the event takes effect (by default the event's own date, or for an
    /// event without one the day it is recorded).
    pub fn effective_date(mut self, effective_date: NaiveDate) -> Self {
        self.effective_date = Some(effective_date);
        self
    }

    /// The event's link in its customer's chain.
    pub fn chained(mut self, sequence: u64, prev_hash: EventHash) -> Self {
        self.sequence = sequence;
        self.prev_hash = prev_hash;
        self
    }

    /// The next link of `account`'s chain.
    pub fn after(self, account: &CustomerAccount) -> Self {
        self.chained(account.event_count() + 1, account.last_hash())
    }

    /// The envelope before it is sealed (its `hash` all zeros).
    pub fn unsealed(self) -> EventEnvelope {
        let body = command_of(&self.event);
        let rules = self.event.rules();
        let effective_date = self.effective_date.unwrap_or_else(|| {
            rules
                .takes_effect()
                .map_or(self.recorded_at.date_naive(), |(_, date)| date)
        });
        let command_id = self.command_id.unwrap_or_else(|| match &self.event {
            Event::PromiseToPay(e) => {
                CommandId::from_uuid(e.promise_id.as_uuid()).expect("a promise id is never nil")
            }
            Event::PaymentReceived(e) if *e == crate::event::PaymentReceived::sample() => {
                crate::event::PaymentReceived::sample_command_id()
            }
            Event::InstalmentPlanAgreed(e) => e.plan_id,
            Event::DisputeOpened(e) => {
                CommandId::from_uuid(e.dispute_id.as_uuid()).expect("a dispute id is never nil")
            }
            _ => CommandId::from_uuid(fresh()).expect("a random UUID is never nil"),
        });
        EventEnvelope {
            event_id: self.event_id,
            schema_version: SCHEMA_VERSION,
            customer_id: self.customer_id,
            subsidiary_id: rules.subsidiary_id().cloned(),
            command_id,
            command_digest: body.digest(),
            principal: self.principal,
            recorded_at: self.recorded_at,
            effective_date,
            sequence: self.sequence,
            prev_hash: self.prev_hash,
            hash: EventHash::GENESIS,
            event: self.event,
        }
    }

    /// The envelope, sealed: its hash taken as the command service takes it.
    pub fn build(self) -> EventEnvelope {
        let mut envelope = self.unsealed();
        chain::seal(&mut envelope).expect("an envelope can be sealed");
        envelope
    }

    /// The sealed envelope as read back from the log at `position`.
    pub fn at(self, position: u64) -> RecordedEvent {
        RecordedEvent {
            position: Position::new(position),
            envelope: self.build(),
        }
    }
}

/// The command an event records and a sample of every event type, from the list of features:
/// each feature's event knows its `command()` and has a `sample()`.
macro_rules! samples {
    ($($(#[$doc:meta])* $command:ident($command_type:path) => $event:ident($event_type:path),)+) => {
        /// The command an event records, reconstructed from the event, so that a built
        /// envelope carries the digest the service would have written.
        pub fn command_of(event: &Event) -> CommandBody {
            match event {
                $(Event::$event(event) => CommandBody::$command(event.command()),)+
            }
        }

        /// One valid event of `event_type`, consistent with the others: in the order credit
        /// limit, invoice, then the order of the list they are a history the account accepts
        /// (the invoice they name is [`InvoiceKey::sample`]; see [`sample_history`]).
        pub fn sample(event_type: EventType) -> Event {
            match event_type {
                $(EventType::$event => Event::$event(<$event_type>::sample()),)+
            }
        }
    };
}

features!(samples);

/// The invoice every [`sample`] refers to: `SUB-A/INV-1`, 1,000.00 CNY, issued 2026-06-01.
pub fn sample_invoice_key() -> InvoiceKey {
    InvoiceKey::sample()
}

/// Every event type in an order in which their samples are a history the account accepts:
/// the credit limit first, the invoice and the customer's confirmation of what it then owes,
/// then the list's order (the payment and its early-payment discount, the promise, a
/// credit note on account, a write-off, the payment's reversal, an application of the credit,
/// a refund of the rest, a dispute and its resolution). The group's settings are not a
/// customer's history: [`sample_group_history`] has them.
pub fn sample_history() -> Vec<EventType> {
    // The confirmation confirms the invoice alone, so it comes right after it.
    let first = [
        EventType::CreditLimitChanged,
        EventType::InvoiceIssued,
        EventType::BalanceConfirmed,
    ];
    let mut order = first.to_vec();
    order
        .extend(EventType::all().filter(|t| !first.contains(t) && scope_of(*t) == Scope::Customer));
    // The discount rewards the payment, so it comes right after it (the reversal voids it).
    order.retain(|t| *t != EventType::DiscountAllowed);
    if let Some(payment) = order.iter().position(|t| *t == EventType::PaymentReceived) {
        order.insert(payment + 1, EventType::DiscountAllowed);
    }
    order
}

/// Every event type of the group's own account ([`CustomerId::group`]), in the list's order:
/// together a history that account accepts.
pub fn sample_group_history() -> Vec<EventType> {
    EventType::all()
        .filter(|t| scope_of(*t) == Scope::Group)
        .collect()
}

/// Every event type of a bank account's stream ([`CustomerId::bank_account`], the stream of
/// [`sample_bank_stream`]) in two histories that stream accepts: the registration, the line,
/// and its match in one, its exclusion in the other (a line is settled once).
pub fn sample_bank_histories() -> [Vec<EventType>; 2] {
    let registered = [
        EventType::BankAccountRegistered,
        EventType::StatementLineImported,
    ];
    let settled =
        EventType::all().filter(|t| scope_of(*t) == Scope::BankAccount && !registered.contains(t));
    let mut histories = settled.map(|last| {
        let mut history = registered.to_vec();
        history.push(last);
        history
    });
    let matched = histories.next().unwrap_or_default();
    let excluded = histories.next().unwrap_or_default();
    assert!(histories.next().is_none(), "a bank event without a history");
    [matched, excluded]
}

/// The bank account's stream the bank samples belong in.
pub fn sample_bank_stream() -> CustomerId {
    crate::account::receipt::sample_stream()
}

/// The history of `account_id`'s kind of stream: the group's, a bank account's (its first
/// history), or a customer's.
pub fn sample_history_of(account_id: &CustomerId) -> Vec<EventType> {
    if account_id.is_group() {
        sample_group_history()
    } else if account_id.is_bank_account() {
        let [matched, _] = sample_bank_histories();
        matched
    } else {
        sample_history()
    }
}

fn scope_of(event_type: EventType) -> Scope {
    sample(event_type).rules().scope()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_sample_is_a_valid_event_of_its_type_and_together_a_history() {
        let customer = CustomerId::parse("C-1").expect("a valid id");
        let mut account = CustomerAccount::new(customer.clone());
        let mut group = CustomerAccount::new(CustomerId::group());
        let (customer_types, group_types) = (sample_history(), sample_group_history());
        let [matched_types, excluded_types] = sample_bank_histories();
        let bank_types = matched_types.len() + excluded_types.len() - 2;
        assert_eq!(
            customer_types.len() + group_types.len() + bank_types,
            EventType::all().count(),
            "a type without a sample"
        );
        let mut matched = CustomerAccount::new(sample_bank_stream());
        let mut excluded = CustomerAccount::new(sample_bank_stream());
        for (types, account) in [
            (customer_types, &mut account),
            (group_types, &mut group),
            (matched_types, &mut matched),
            (excluded_types, &mut excluded),
        ] {
            for event_type in types {
                let event = sample(event_type);
                assert_eq!(event.event_type(), event_type);
                let recorded = EnvelopeBuilder::new(account.customer_id().clone(), event)
                    .after(account)
                    .at(account.position().get() + 1);
                recorded.envelope.check().expect("a valid envelope");
                account.apply(&recorded).expect("the account accepts it");
            }
        }
        assert!(group.state().collection_on_behalf().pairs().count() > 0);
    }
}
