//! The ledger projection: invoices, payments with their allocations and unapplied cash, credit
//! terms and promises, as rows from which aging, exposure, promises and the work queue are
//! computed for any business date.
//!
//! Allocations are stored with the payment's received date rather than subtracted from the
//! invoice, so an open amount "as of" a past date leaves out the payments received after it
//! (`open_amounts.rs` holds that definition). Amounts are integer minor units; stored names of
//! policies and grades are the domain's own (`as_str`).

use receivables_domain::{Event, EventType, RecordedEvent};

use crate::error::ProjectionError;
use crate::minor_units::to_minor;
use crate::projection::Projection;
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

/// The tables of the ledger, invoices first: allocations refer to them.
static TABLES: [&Table; 5] = [&INVOICES, &PAYMENTS, &ALLOCATIONS, &CREDIT_TERMS, &PROMISES];

/// The ledger projection.
pub struct Ledger;

fn position(event: &RecordedEvent) -> Result<i64, ProjectionError> {
    i64::try_from(event.position.get()).map_err(|_| ProjectionError::Event {
        position: event.position,
        problem: "position does not fit a BIGINT".into(),
    })
}

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
            | EventType::PromiseToPay => true,
        }
    }

    fn add(&self, recorded: &RecordedEvent, rows: &mut RowSet) -> Result<(), ProjectionError> {
        let at = recorded.position;
        let stored_at = position(recorded)?;
        let envelope = &recorded.envelope;
        let customer = envelope.customer_id.to_string();
        match &envelope.event {
            Event::InvoiceIssued(e) => rows.of(&INVOICES)?.push([
                e.subsidiary_id.to_string().into(),
                e.invoice_number.to_string().into(),
                customer.into(),
                e.amount.currency().code().into(),
                to_minor(e.amount, at)?.into(),
                e.issue_date.into(),
                e.due_date.into(),
                e.over_limit.into(),
                stored_at.into(),
            ]),
            Event::PaymentReceived(e) => {
                rows.of(&PAYMENTS)?.push([
                    stored_at.into(),
                    customer.into(),
                    e.subsidiary_id.to_string().into(),
                    e.amount.currency().code().into(),
                    to_minor(e.amount, at)?.into(),
                    to_minor(e.unapplied, at)?.into(),
                    e.received_date.into(),
                ])?;
                let allocations = rows.of(&ALLOCATIONS)?;
                for (line, allocation) in e.allocations.iter().enumerate() {
                    let line = i32::try_from(line).map_err(|_| ProjectionError::Event {
                        position: at,
                        problem: "too many allocations".into(),
                    })?;
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
            Event::CreditLimitChanged(e) => rows.of(&CREDIT_TERMS)?.upsert(
                customer.clone(),
                [
                    customer.into(),
                    e.limit.currency().code().into(),
                    to_minor(e.limit, at)?.into(),
                    e.policy.as_str().into(),
                    e.grade.as_str().into(),
                    envelope.effective_date.into(),
                    stored_at.into(),
                ],
            ),
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
        }
    }
}
