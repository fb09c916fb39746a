//! The ledger projection: invoices, payments with their allocations and unapplied cash, credit
//! terms and promises, as rows from which aging, exposure, promises and the work queue are
//! computed for any business date.
//!
//! Allocations are stored with the payment's received date rather than subtracted from the
//! invoice, so an open amount "as of" a past date leaves out the payments received after it
//! (`open_amounts.rs` holds that definition). Amounts are integer minor units; stored names of
//! policies and grades are the domain's own (`as_str`).

use receivables_domain::event::Allocation;
use receivables_domain::{Event, EventType, Money, Position, RecordedEvent};

use receivables_domain::account::state::UnappliedSource;
use receivables_domain::ids::GROUP_ACCOUNT_ID;
use receivables_domain::limits::BUSINESS_DATE_MAX;

use crate::error::ProjectionError;
use crate::minor_units::to_minor;
use crate::projection::{Projection, stored_position};
use crate::rows::{ColumnType as T, RowSet, Table};

/// The projection's name, as its checkpoint is stored.
pub const NAME: &str = "ledger";

pub static INVOICES: Table = Table {
    name: "invoices",
    key: "subsidiary_id, invoice_number",
    columns: &[
        ("subsidiary_id", T::Text),
        ("invoice_number", T::Text),
        ("customer_id", T::Text),
        ("currency", T::Text),
        ("amount_minor", T::BigInt),
        ("issue_date", T::Date),
        ("due_date", T::Date),
        ("over_limit", T::Boolean),
        ("position", T::BigInt),
    ],
    on_conflict: None,
};

pub static PAYMENTS: Table = Table {
    name: "payments",
    key: "position",
    columns: &[
        ("position", T::BigInt),
        ("customer_id", T::Text),
        ("subsidiary_id", T::Text),
        ("currency", T::Text),
        ("amount_minor", T::BigInt),
        ("unapplied_minor", T::BigInt),
        ("received_date", T::Date),
        ("command_id", T::Text),
        ("reference", T::Text),
    ],
    on_conflict: None,
};

pub static ALLOCATIONS: Table = Table {
    name: "allocations",
    key: "position, line",
    columns: &[
        ("position", T::BigInt),
        ("line", T::Integer),
        ("subsidiary_id", T::Text),
        ("invoice_number", T::Text),
        ("amount_minor", T::BigInt),
        ("received_date", T::Date),
    ],
    on_conflict: None,
};

/// A customer's latest credit terms: one row per customer, replaced by every change.
pub static CREDIT_TERMS: Table = Table {
    name: "credit_terms",
    key: "customer_id",
    columns: &[
        ("customer_id", T::Text),
        ("currency", T::Text),
        ("limit_minor", T::BigInt),
        ("policy", T::Text),
        ("grade", T::Text),
        ("effective_date", T::Date),
        ("position", T::BigInt),
    ],
    on_conflict: Some(
        "ON CONFLICT (customer_id) DO UPDATE SET currency = EXCLUDED.currency,
             limit_minor = EXCLUDED.limit_minor, policy = EXCLUDED.policy,
             grade = EXCLUDED.grade, effective_date = EXCLUDED.effective_date,
             position = EXCLUDED.position",
    ),
};

pub static PROMISES: Table = Table {
    name: "promises",
    key: "promise_id",
    columns: &[
        ("promise_id", T::Text),
        ("customer_id", T::Text),
        ("subsidiary_id", T::Text),
        ("currency", T::Text),
        ("amount_minor", T::BigInt),
        ("made_on", T::Date),
        ("promised_date", T::Date),
        ("collector", T::Text),
        ("position", T::BigInt),
    ],
    on_conflict: None,
};

/// Every other movement of an invoice's open amount (see the migration `0003_life_cycle.sql`):
/// `amount_minor` is what it takes off, negative when it re-opens.
pub static SETTLEMENTS: Table = Table {
    name: "settlements",
    key: "position, line",
    columns: &[
        ("position", T::BigInt),
        ("line", T::Integer),
        ("customer_id", T::Text),
        ("subsidiary_id", T::Text),
        ("invoice_number", T::Text),
        ("currency", T::Text),
        ("kind", T::Text),
        ("amount_minor", T::BigInt),
        ("effective_date", T::Date),
        ("document", T::Text),
    ],
    on_conflict: None,
};

/// Every movement of unapplied money but a payment's own unapplied part: `amount_minor` is
/// signed, negative when it takes money out.
pub static UNAPPLIED_MOVEMENTS: Table = Table {
    name: "unapplied_movements",
    key: "position",
    columns: &[
        ("position", T::BigInt),
        ("customer_id", T::Text),
        ("subsidiary_id", T::Text),
        ("currency", T::Text),
        ("source", T::Text),
        ("kind", T::Text),
        ("amount_minor", T::BigInt),
        ("effective_date", T::Date),
        ("document", T::Text),
        ("command_id", T::Text),
    ],
    on_conflict: None,
};

/// Reversed payments, with the day they had been received (promises leave them out).
pub static PAYMENT_REVERSALS: Table = Table {
    name: "payment_reversals",
    key: "position",
    columns: &[
        ("position", T::BigInt),
        ("customer_id", T::Text),
        ("subsidiary_id", T::Text),
        ("payment_command_id", T::Text),
        ("currency", T::Text),
        ("amount_minor", T::BigInt),
        ("received_date", T::Date),
        ("reversal_date", T::Date),
        ("reason", T::Text),
    ],
    on_conflict: None,
};

/// Disputes, with the last day each holds unless resolved first.
pub static DISPUTES: Table = Table {
    name: "disputes",
    key: "dispute_id",
    columns: &[
        ("dispute_id", T::Text),
        ("customer_id", T::Text),
        ("subsidiary_id", T::Text),
        ("invoice_number", T::Text),
        ("currency", T::Text),
        ("amount_minor", T::BigInt),
        ("reason", T::Text),
        ("opened_on", T::Date),
        ("holds_until", T::Date),
        ("position", T::BigInt),
    ],
    on_conflict: None,
};

/// How disputes ended.
pub static DISPUTE_RESOLUTIONS: Table = Table {
    name: "dispute_resolutions",
    key: "dispute_id",
    columns: &[
        ("dispute_id", T::Text),
        ("resolved_on", T::Date),
        ("outcome", T::Text),
        ("credit_note_number", T::Text),
        ("position", T::BigInt),
    ],
    on_conflict: None,
};

/// The kinds of settlement rows, as stored.
pub mod kind {
    pub const CREDIT_NOTE: &str = "credit_note";
    pub const WRITE_OFF: &str = "write_off";
    pub const REVERSAL: &str = "reversal";
    pub const APPLICATION: &str = "application";
    pub const REFUND: &str = "refund";
    pub const DISCOUNT: &str = "discount";
}

/// Customers' confirmations of their balances (migration `0005_balance_confirmations.sql`).
pub static BALANCE_CONFIRMATIONS: Table = Table {
    name: "balance_confirmations",
    key: "position",
    columns: &[
        ("position", T::BigInt),
        ("customer_id", T::Text),
        ("currency", T::Text),
        ("as_of", T::Date),
        ("confirmed_minor", T::BigInt),
        ("balance_minor", T::BigInt),
        ("difference_minor", T::BigInt),
        ("confirmed_by", T::Text),
        ("note", T::Text),
    ],
    on_conflict: None,
};

/// Every credit-terms change with its effective date (migration `0006_customers.sql`): the
/// terms in force on a past date are the change with the latest effective date on or before
/// it, the later recorded among changes of the same date.
pub static CREDIT_TERMS_HISTORY: Table = Table {
    name: "credit_terms_history",
    key: "position",
    columns: &[
        ("position", T::BigInt),
        ("customer_id", T::Text),
        ("currency", T::Text),
        ("limit_minor", T::BigInt),
        ("policy", T::Text),
        ("grade", T::Text),
        ("effective_date", T::Date),
    ],
    on_conflict: None,
};

/// The exchange rates the group published, a row per currency (migration
/// `0007_exchange_rates.sql`; `exchange.rs` reads them).
pub static EXCHANGE_RATES: Table = Table {
    name: "exchange_rates",
    key: "position, line",
    columns: &[
        ("position", T::BigInt),
        ("line", T::Integer),
        ("base", T::Text),
        ("currency", T::Text),
        ("rate_date", T::Date),
        ("rate", T::Text),
        ("source", T::Text),
    ],
    on_conflict: None,
};

/// The group's payment-terms templates as last defined (migration `0008_payment_terms.sql`).
const PAYMENT_TERMS_COLUMNS: &[(&str, T)] = &[
    ("code", T::Text),
    ("description", T::Text),
    ("terms", T::Text),
    ("position", T::BigInt),
];

pub static PAYMENT_TERMS: Table = Table {
    name: "payment_terms",
    key: "code",
    columns: PAYMENT_TERMS_COLUMNS,
    on_conflict: Some(
        "ON CONFLICT (code) DO UPDATE SET description = EXCLUDED.description,
             terms = EXCLUDED.terms, position = EXCLUDED.position",
    ),
};

/// The alert thresholds of the group (scope: the group's own account's id, [`GROUP_ACCOUNT_ID`])
/// and of subsidiaries (scope: the subsidiary's id), one row per scope as last set.
/// `thresholds` is the event's `AlertThresholds` as JSON text.
pub static ALERT_THRESHOLDS: Table = Table {
    name: "alert_thresholds",
    key: "scope",
    columns: ALERT_THRESHOLDS_COLUMNS,
    on_conflict: Some(
        "ON CONFLICT (scope) DO UPDATE SET thresholds = EXCLUDED.thresholds,
             position = EXCLUDED.position",
    ),
};

const ALERT_THRESHOLDS_COLUMNS: &[(&str, T)] = &[
    ("scope", T::Text),
    ("thresholds", T::Text),
    ("position", T::BigInt),
];

/// Every definition each payment-terms code had, a row per event (`known.rs`).
pub static PAYMENT_TERMS_HISTORY: Table = Table {
    name: "payment_terms_history",
    key: "code, position",
    columns: PAYMENT_TERMS_COLUMNS,
    on_conflict: None,
};

/// Every set of thresholds each scope had, a row per event (`known.rs`).
pub static ALERT_THRESHOLDS_HISTORY: Table = Table {
    name: "alert_thresholds_history",
    key: "scope, position",
    columns: ALERT_THRESHOLDS_COLUMNS,
    on_conflict: None,
};

/// The rows of invoices due in more than one, with their running totals.
pub static SCHEDULE_ROWS: Table = Table {
    name: "schedule_rows",
    key: "subsidiary_id, invoice_number, row_index",
    columns: &[
        ("subsidiary_id", T::Text),
        ("invoice_number", T::Text),
        ("row_index", T::Integer),
        ("due_date", T::Date),
        ("amount_minor", T::BigInt),
        ("cumulative_minor", T::BigInt),
    ],
    on_conflict: None,
};

/// Instalment plans, their rows and their cancellations.
pub static INSTALMENT_PLANS: Table = Table {
    name: "instalment_plans",
    key: "plan_id",
    columns: &[
        ("plan_id", T::Text),
        ("subsidiary_id", T::Text),
        ("invoice_number", T::Text),
        ("customer_id", T::Text),
        ("currency", T::Text),
        ("agreed_on", T::Date),
        ("total_minor", T::BigInt),
        ("overdue_minor", T::BigInt),
        ("collector", T::Text),
        ("note", T::Text),
        ("position", T::BigInt),
    ],
    on_conflict: None,
};

pub static INSTALMENT_PLAN_ROWS: Table = Table {
    name: "instalment_plan_rows",
    key: "plan_id, row_index",
    columns: &[
        ("plan_id", T::Text),
        ("row_index", T::Integer),
        ("due_date", T::Date),
        ("amount_minor", T::BigInt),
        ("cumulative_minor", T::BigInt),
    ],
    on_conflict: None,
};

pub static INSTALMENT_PLAN_CANCELLATIONS: Table = Table {
    name: "instalment_plan_cancellations",
    key: "plan_id",
    columns: &[
        ("plan_id", T::Text),
        ("cancelled_on", T::Date),
        ("reason", T::Text),
        ("position", T::BigInt),
    ],
    on_conflict: None,
};

/// Credit reserved for sales orders (migration `0009_credit_reservations.sql`).
pub static CREDIT_RESERVATIONS: Table = Table {
    name: "credit_reservations",
    key: "subsidiary_id, order_number",
    columns: &[
        ("subsidiary_id", T::Text),
        ("order_number", T::Text),
        ("customer_id", T::Text),
        ("currency", T::Text),
        ("amount_minor", T::BigInt),
        ("reserved_on", T::Date),
        ("expires_on", T::Date),
        ("over_limit", T::Boolean),
        ("position", T::BigInt),
    ],
    on_conflict: None,
};

/// What invoices consumed of reservations and releases took off them.
pub static CREDIT_RESERVATION_MOVEMENTS: Table = Table {
    name: "credit_reservation_movements",
    key: "position",
    columns: &[
        ("position", T::BigInt),
        ("subsidiary_id", T::Text),
        ("order_number", T::Text),
        ("moved_on", T::Date),
        ("amount_minor", T::BigInt),
        ("kind", T::Text),
        ("invoice_number", T::Text),
        ("reason", T::Text),
    ],
    on_conflict: None,
};

/// The kinds of a reservation's movements, as stored.
pub mod reservation_kind {
    pub const INVOICED: &str = "invoiced";
    pub const RELEASED: &str = "released";
}

/// Collectors' contacts with customers (migration `0010_collection_activities.sql`).
pub static COLLECTION_ACTIVITIES: Table = Table {
    name: "collection_activities",
    key: "position",
    columns: &[
        ("position", T::BigInt),
        ("customer_id", T::Text),
        ("subsidiary_id", T::Text),
        ("channel", T::Text),
        ("outcome", T::Text),
        ("occurred_on", T::Date),
        ("collector", T::Text),
        ("contact", T::Text),
        ("note", T::Text),
        ("invoices", T::Text),
    ],
    on_conflict: None,
};

/// The next action of the activities that planned one (the work queue's snooze).
pub static COLLECTION_NEXT_ACTIONS: Table = Table {
    name: "collection_next_actions",
    key: "position",
    columns: &[("position", T::BigInt), ("next_action_on", T::Date)],
    on_conflict: None,
};

/// The tables of the ledger, invoices first: allocations and settlements refer to them, and
/// reservations before their movements, activities before their next actions.
static TABLES: [&Table; 25] = [
    &INVOICES,
    &PAYMENTS,
    &ALLOCATIONS,
    &CREDIT_TERMS,
    &PROMISES,
    &SETTLEMENTS,
    &UNAPPLIED_MOVEMENTS,
    &PAYMENT_REVERSALS,
    &DISPUTES,
    &DISPUTE_RESOLUTIONS,
    &BALANCE_CONFIRMATIONS,
    &CREDIT_TERMS_HISTORY,
    &EXCHANGE_RATES,
    &PAYMENT_TERMS,
    &SCHEDULE_ROWS,
    &INSTALMENT_PLANS,
    &INSTALMENT_PLAN_ROWS,
    &INSTALMENT_PLAN_CANCELLATIONS,
    &CREDIT_RESERVATIONS,
    &CREDIT_RESERVATION_MOVEMENTS,
    &COLLECTION_ACTIVITIES,
    &COLLECTION_NEXT_ACTIONS,
    &ALERT_THRESHOLDS,
    &PAYMENT_TERMS_HISTORY,
    &ALERT_THRESHOLDS_HISTORY,
];

/// The ledger projection.
pub struct Ledger;

impl Projection for Ledger {
    fn name(&self) -> &'static str {
        NAME
    }

    fn tables(&self) -> &'static [&'static Table] {
        &TABLES
    }

    fn reads(&self, event_type: EventType) -> bool {
        match event_type {
            EventType::InvoiceIssued
            | EventType::PaymentReceived
            | EventType::CreditLimitChanged
            | EventType::PromiseToPay
            | EventType::CreditNoteIssued
            | EventType::InvoiceWrittenOff
            | EventType::PaymentReversed
            | EventType::UnappliedCashApplied
            | EventType::RefundIssued
            | EventType::DisputeOpened
            | EventType::DisputeResolved
            | EventType::BalanceConfirmed
            | EventType::ExchangeRatesPublished
            | EventType::PaymentTermsDefined
            | EventType::InstalmentPlanAgreed
            | EventType::InstalmentPlanCancelled
            | EventType::DiscountAllowed
            | EventType::CreditReserved
            | EventType::CreditReleased
            | EventType::CollectionActivityRecorded
            | EventType::AlertThresholdsSet => true,
            // The group's settings say who may post, and a customer's record and collector who
            // it is and who chases it, not what it owes (the customers projection has them).
            EventType::CollectionOnBehalfSet
            | EventType::CustomerRegistered
            | EventType::CustomerUpdated
            | EventType::CollectorAssigned => false,
            // A bank account's stream: its lines owe nothing until matched, and then the
            // payments they became are the customers' events (the receipts projection has
            // the lines).
            EventType::BankAccountRegistered
            | EventType::StatementLineImported
            | EventType::StatementLineMatched
            | EventType::StatementLineExcluded => false,
        }
    }

    fn add(&self, recorded: &RecordedEvent, rows: &mut RowSet) -> Result<(), ProjectionError> {
        let at = recorded.position;
        let stored_at = stored_position(recorded)?;
        let envelope = &recorded.envelope;
        let customer = envelope.customer_id.to_string();
        match &envelope.event {
            Event::InvoiceIssued(e) => {
                rows.of(&INVOICES)?.push([
                    e.subsidiary_id.to_string().into(),
                    e.invoice_number.to_string().into(),
                    customer.into(),
                    e.amount.currency().code().into(),
                    to_minor(e.amount, at)?.into(),
                    e.issue_date.into(),
                    e.due_date.into(),
                    e.over_limit.into(),
                    stored_at.into(),
                ])?;
                if let Some(consumed) = &e.consumes {
                    rows.of(&CREDIT_RESERVATION_MOVEMENTS)?.push([
                        stored_at.into(),
                        e.subsidiary_id.to_string().into(),
                        consumed.order_number.to_string().into(),
                        e.issue_date.into(),
                        to_minor(consumed.amount, at)?.into(),
                        reservation_kind::INVOICED.into(),
                        e.invoice_number.to_string().into(),
                        "".into(),
                    ])?;
                }
                // A single row is the invoice itself (its due date, its amount).
                if e.schedule.len() > 1 {
                    let table = rows.of(&SCHEDULE_ROWS)?;
                    for (index, due_date, amount, cumulative) in schedule_rows(at, &e.schedule)? {
                        table.push([
                            e.subsidiary_id.to_string().into(),
                            e.invoice_number.to_string().into(),
                            index.into(),
                            due_date.into(),
                            amount.into(),
                            cumulative.into(),
                        ])?;
                    }
                }
                Ok(())
            }
            Event::PaymentReceived(e) => {
                rows.of(&PAYMENTS)?.push([
                    stored_at.into(),
                    customer.into(),
                    e.subsidiary_id.to_string().into(),
                    e.amount.currency().code().into(),
                    to_minor(e.amount, at)?.into(),
                    to_minor(e.unapplied, at)?.into(),
                    e.received_date.into(),
                    envelope.command_id.to_string().into(),
                    e.reference.as_str().into(),
                ])?;
                let allocations = rows.of(&ALLOCATIONS)?;
                for (line, allocation) in e.allocations.iter().enumerate() {
                    let line = line_number(line, at)?;
                    allocations.push([
                        stored_at.into(),
                        line.into(),
                        allocation.invoice.subsidiary_id.to_string().into(),
                        allocation.invoice.invoice_number.to_string().into(),
                        to_minor(allocation.amount, at)?.into(),
                        e.received_date.into(),
                    ])?;
                }
                Ok(())
            }
            Event::ExchangeRatesPublished(e) => {
                let table = rows.of(&EXCHANGE_RATES)?;
                for (line, rate) in e.rates.iter().enumerate() {
                    table.push([
                        stored_at.into(),
                        line_number(line, at)?.into(),
                        e.base.code().into(),
                        rate.currency.code().into(),
                        e.rate_date.into(),
                        rate.rate.to_string().into(),
                        e.source.as_str().into(),
                    ])?;
                }
                Ok(())
            }
            Event::PaymentTermsDefined(e) => rows.upsert_kept(
                &PAYMENT_TERMS,
                &PAYMENT_TERMS_HISTORY,
                e.code.to_string(),
                [
                    e.code.to_string().into(),
                    e.description.clone().into(),
                    serde_json::to_string(&e.terms)
                        .map_err(|error| ProjectionError::Event {
                            position: at,
                            problem: format!("payment terms unencodable: {error}"),
                        })?
                        .into(),
                    stored_at.into(),
                ],
            ),
            Event::InstalmentPlanAgreed(e) => {
                let plan = e.plan_id.to_string();
                rows.of(&INSTALMENT_PLANS)?.push([
                    plan.clone().into(),
                    e.invoice.subsidiary_id.to_string().into(),
                    e.invoice.invoice_number.to_string().into(),
                    customer.into(),
                    e.open_amount.currency().code().into(),
                    e.agreed_on.into(),
                    to_minor(e.open_amount, at)?.into(),
                    to_minor(e.overdue_amount, at)?.into(),
                    e.collector.to_string().into(),
                    e.note.clone().into(),
                    stored_at.into(),
                ])?;
                let table = rows.of(&INSTALMENT_PLAN_ROWS)?;
                for (index, due_date, amount, cumulative) in schedule_rows(at, &e.rows)? {
                    table.push([
                        plan.clone().into(),
                        index.into(),
                        due_date.into(),
                        amount.into(),
                        cumulative.into(),
                    ])?;
                }
                Ok(())
            }
            Event::InstalmentPlanCancelled(e) => rows.of(&INSTALMENT_PLAN_CANCELLATIONS)?.push([
                e.plan_id.to_string().into(),
                e.cancelled_on.into(),
                e.reason.clone().into(),
                stored_at.into(),
            ]),
            Event::DiscountAllowed(e) => settle(
                rows,
                recorded,
                &[Allocation {
                    invoice: e.invoice.clone(),
                    amount: e.amount,
                }],
                kind::DISCOUNT,
                e.allowed_on,
                &e.payment_id.to_string(),
                1,
            ),
            Event::CreditReserved(e) => rows.of(&CREDIT_RESERVATIONS)?.push([
                e.subsidiary_id.to_string().into(),
                e.order_number.to_string().into(),
                customer.into(),
                e.amount.currency().code().into(),
                to_minor(e.amount, at)?.into(),
                e.reserved_on.into(),
                e.expires_on.into(),
                e.over_limit.into(),
                stored_at.into(),
            ]),
            Event::CreditReleased(e) => rows.of(&CREDIT_RESERVATION_MOVEMENTS)?.push([
                stored_at.into(),
                e.subsidiary_id.to_string().into(),
                e.order_number.to_string().into(),
                e.released_on.into(),
                to_minor(e.amount, at)?.into(),
                reservation_kind::RELEASED.into(),
                "".into(),
                e.reason.clone().into(),
            ]),
            Event::CollectionActivityRecorded(e) => {
                rows.of(&COLLECTION_ACTIVITIES)?.push([
                    stored_at.into(),
                    customer.into(),
                    e.subsidiary_id.to_string().into(),
                    e.channel.as_str().into(),
                    e.outcome.as_str().into(),
                    e.occurred_on.into(),
                    e.collector.to_string().into(),
                    e.contact.as_str().into(),
                    e.note.as_str().into(),
                    e.invoices
                        .iter()
                        .map(|key| format!("{}/{}", key.subsidiary_id, key.invoice_number))
                        .collect::<Vec<_>>()
                        .join(",")
                        .into(),
                ])?;
                match e.next_action_on {
                    Some(next) => rows
                        .of(&COLLECTION_NEXT_ACTIONS)?
                        .push([stored_at.into(), next.into()]),
                    None => Ok(()),
                }
            }
            Event::AlertThresholdsSet(e) => {
                let scope = e
                    .subsidiary_id
                    .as_ref()
                    .map_or_else(|| GROUP_ACCOUNT_ID.to_owned(), ToString::to_string);
                rows.upsert_kept(
                    &ALERT_THRESHOLDS,
                    &ALERT_THRESHOLDS_HISTORY,
                    scope.clone(),
                    [
                        scope.into(),
                        serde_json::to_string(&e.thresholds)
                            .map_err(|error| ProjectionError::Event {
                                position: at,
                                problem: format!("alert thresholds unencodable: {error}"),
                            })?
                            .into(),
                        stored_at.into(),
                    ],
                )
            }
            Event::CollectionOnBehalfSet(_)
            | Event::CustomerRegistered(_)
            | Event::CustomerUpdated(_)
            | Event::CollectorAssigned(_)
            | Event::BankAccountRegistered(_)
            | Event::StatementLineImported(_)
            | Event::StatementLineMatched(_)
            | Event::StatementLineExcluded(_) => Ok(()),
            Event::BalanceConfirmed(e) => {
                let confirmed = to_minor(e.confirmed, at)?;
                let balance = to_minor(e.balance, at)?;
                rows.of(&BALANCE_CONFIRMATIONS)?.push([
                    stored_at.into(),
                    customer.into(),
                    e.confirmed.currency().code().into(),
                    e.as_of.into(),
                    confirmed.into(),
                    balance.into(),
                    (confirmed - balance).into(),
                    e.confirmed_by.to_string().into(),
                    e.note.as_str().into(),
                ])
            }
            Event::CreditLimitChanged(e) => {
                let limit = to_minor(e.limit, at)?;
                rows.of(&CREDIT_TERMS_HISTORY)?.push([
                    stored_at.into(),
                    customer.as_str().into(),
                    e.limit.currency().code().into(),
                    limit.into(),
                    e.policy.as_str().into(),
                    e.grade.as_str().into(),
                    envelope.effective_date.into(),
                ])?;
                rows.of(&CREDIT_TERMS)?.upsert(
                    customer.clone(),
                    [
                        customer.into(),
                        e.limit.currency().code().into(),
                        limit.into(),
                        e.policy.as_str().into(),
                        e.grade.as_str().into(),
                        envelope.effective_date.into(),
                        stored_at.into(),
                    ],
                )
            }
            Event::PromiseToPay(e) => rows.of(&PROMISES)?.push([
                e.promise_id.to_string().into(),
                customer.into(),
                e.subsidiary_id.to_string().into(),
                e.amount.currency().code().into(),
                to_minor(e.amount, at)?.into(),
                e.made_on.into(),
                e.promised_date.into(),
                e.collector.to_string().into(),
                stored_at.into(),
            ]),
            Event::CreditNoteIssued(e) => {
                let number = e.credit_note_number.to_string();
                match e.allocation() {
                    Some(allocation) => settle(
                        rows,
                        recorded,
                        &[allocation],
                        kind::CREDIT_NOTE,
                        e.issue_date,
                        &number,
                        1,
                    ),
                    None => unapplied(
                        rows,
                        recorded,
                        UnappliedSource::Credit,
                        kind::CREDIT_NOTE,
                        e.amount,
                        1,
                        e.issue_date,
                        &number,
                    ),
                }
            }
            Event::InvoiceWrittenOff(e) => settle(
                rows,
                recorded,
                &[e.allocation()],
                kind::WRITE_OFF,
                e.write_off_date,
                &e.reason,
                1,
            ),
            Event::PaymentReversed(e) => {
                let payment = e.payment.to_string();
                rows.of(&PAYMENT_REVERSALS)?.push([
                    stored_at.into(),
                    customer.into(),
                    e.subsidiary_id.to_string().into(),
                    payment.clone().into(),
                    e.amount.currency().code().into(),
                    to_minor(e.amount, at)?.into(),
                    e.received_date.into(),
                    e.reversal_date.into(),
                    e.reason.as_str().into(),
                ])?;
                settle(
                    rows,
                    recorded,
                    &e.reopened,
                    kind::REVERSAL,
                    e.reversal_date,
                    &payment,
                    -1,
                )?;
                // The discounts it had earned are void from the same date.
                settle_from(
                    rows,
                    recorded,
                    &e.discounts,
                    kind::DISCOUNT,
                    e.reversal_date,
                    &payment,
                    -1,
                    e.reopened.len(),
                )?;
                if e.unapplied.amount().is_zero() {
                    return Ok(());
                }
                unapplied(
                    rows,
                    recorded,
                    UnappliedSource::Cash,
                    kind::REVERSAL,
                    e.unapplied,
                    -1,
                    e.reversal_date,
                    &payment,
                )
            }
            Event::UnappliedCashApplied(e) => {
                settle(
                    rows,
                    recorded,
                    &e.allocations,
                    kind::APPLICATION,
                    e.application_date,
                    e.source.as_str(),
                    1,
                )?;
                unapplied(
                    rows,
                    recorded,
                    e.source,
                    kind::APPLICATION,
                    e.amount,
                    -1,
                    e.application_date,
                    "",
                )
            }
            Event::DisputeOpened(e) => rows.of(&DISPUTES)?.push([
                e.dispute_id.to_string().into(),
                customer.into(),
                e.invoice.subsidiary_id.to_string().into(),
                e.invoice.invoice_number.to_string().into(),
                e.amount.currency().code().into(),
                to_minor(e.amount, at)?.into(),
                e.reason.as_str().into(),
                e.opened_on.into(),
                e.expires_on.unwrap_or_else(business_date_max).into(),
                stored_at.into(),
            ]),
            Event::DisputeResolved(e) => rows.of(&DISPUTE_RESOLUTIONS)?.push([
                e.dispute_id.to_string().into(),
                e.resolved_on.into(),
                e.outcome.as_str().into(),
                e.credit_note
                    .as_ref()
                    .map(ToString::to_string)
                    .unwrap_or_default()
                    .into(),
                stored_at.into(),
            ]),
            Event::RefundIssued(e) => unapplied(
                rows,
                recorded,
                e.source,
                kind::REFUND,
                e.amount,
                -1,
                e.refund_date,
                &e.reference,
            ),
        }
    }
}

/// The last business date the service accepts: how long a dispute without an expiry date holds
/// (until it is resolved).
fn business_date_max() -> chrono::NaiveDate {
    let (year, month, day) = BUSINESS_DATE_MAX;
    chrono::NaiveDate::from_ymd_opt(year, month, day).unwrap_or(chrono::NaiveDate::MAX)
}

fn line_number(line: usize, at: Position) -> Result<i32, ProjectionError> {
    i32::try_from(line).map_err(|_| ProjectionError::Event {
        position: at,
        problem: "too many lines".into(),
    })
}

/// Each row of a schedule as stored: its index, due date, amount and the running total up to
/// it, in minor units.
fn schedule_rows(
    at: Position,
    schedule: &[receivables_domain::terms::ScheduleRow],
) -> Result<Vec<(i32, chrono::NaiveDate, i64, i64)>, ProjectionError> {
    let mut cumulative = 0_i64;
    schedule
        .iter()
        .enumerate()
        .map(|(index, row)| {
            let amount = to_minor(row.amount, at)?;
            cumulative += amount;
            Ok((line_number(index, at)?, row.due_date, amount, cumulative))
        })
        .collect()
}

/// Rows of `settlements` for `allocations` of one event: `sign` 1 takes the amounts off the
/// invoices, -1 puts them back.
#[allow(
    clippy::too_many_arguments,
    reason = "one row's columns, named at the call"
)]
fn settle(
    rows: &mut RowSet,
    recorded: &RecordedEvent,
    allocations: &[Allocation],
    kind: &str,
    date: chrono::NaiveDate,
    document: &str,
    sign: i64,
) -> Result<(), ProjectionError> {
    settle_from(rows, recorded, allocations, kind, date, document, sign, 0)
}

/// [`settle`] numbering the rows' lines from `first_line`: an event with settlements of two
/// kinds (a reversal's re-opened allocations, then its voided discounts).
#[allow(
    clippy::too_many_arguments,
    reason = "one row's columns, named at the call"
)]
fn settle_from(
    rows: &mut RowSet,
    recorded: &RecordedEvent,
    allocations: &[Allocation],
    kind: &str,
    date: chrono::NaiveDate,
    document: &str,
    sign: i64,
    first_line: usize,
) -> Result<(), ProjectionError> {
    let at = recorded.position;
    let stored_at = stored_position(recorded)?;
    let customer = recorded.envelope.customer_id.to_string();
    let table = rows.of(&SETTLEMENTS)?;
    for (line, allocation) in allocations.iter().enumerate() {
        table.push([
            stored_at.into(),
            line_number(first_line + line, at)?.into(),
            customer.clone().into(),
            allocation.invoice.subsidiary_id.to_string().into(),
            allocation.invoice.invoice_number.to_string().into(),
            allocation.amount.currency().code().into(),
            kind.into(),
            (sign * to_minor(allocation.amount, at)?).into(),
            date.into(),
            document.into(),
        ])?;
    }
    Ok(())
}

/// The row of `unapplied_movements` of one event: `sign` 1 adds `amount` to the unapplied
/// money, -1 takes it out.
#[allow(
    clippy::too_many_arguments,
    reason = "one row's columns, named at the call"
)]
fn unapplied(
    rows: &mut RowSet,
    recorded: &RecordedEvent,
    source: UnappliedSource,
    kind: &str,
    amount: Money,
    sign: i64,
    date: chrono::NaiveDate,
    document: &str,
) -> Result<(), ProjectionError> {
    let at = recorded.position;
    let subsidiary = recorded
        .envelope
        .subsidiary_id
        .as_ref()
        .map(ToString::to_string)
        .unwrap_or_default();
    rows.of(&UNAPPLIED_MOVEMENTS)?.push([
        stored_position(recorded)?.into(),
        recorded.envelope.customer_id.to_string().into(),
        subsidiary.into(),
        amount.currency().code().into(),
        source.as_str().into(),
        kind.into(),
        (sign * to_minor(amount, at)?).into(),
        date.into(),
        document.into(),
        recorded.envelope.command_id.to_string().into(),
    ])
}
