//! The open-items projection: invoices, payments with their allocations and unapplied cash,
//! credit terms and promises, as rows from which aging and exposure are computed for any date.
//!
//! Allocations are stored with the payment's received date rather than subtracted from the
//! invoice, so an open amount "as of" a past date leaves out the payments received after it.
//!
//! A batch is written with one multi-row statement per table (`UNNEST` of column arrays), not a
//! statement per event: catching up over millions of events is bound by the database's row
//! throughput rather than by round trips.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use receivables_domain::{Event, RecordedEvent};
use sqlx::PgConnection;

use crate::ProjectionError;
use crate::minor_units::to_minor;

/// The projection's name, as its checkpoint is stored.
pub const NAME: &str = "open_items";

/// The tables this projection writes.
pub const TABLES: [&str; 5] = [
    "invoices",
    "payments",
    "allocations",
    "credit_terms",
    "promises",
];

fn position(event: &RecordedEvent) -> Result<i64, ProjectionError> {
    i64::try_from(event.position.get()).map_err(|_| ProjectionError::Event {
        position: event.position,
        problem: "position does not fit a BIGINT".into(),
    })
}

/// The rows of a batch, column by column.
#[derive(Default)]
struct Rows {
    invoices: InvoiceRows,
    payments: PaymentRows,
    allocations: AllocationRows,
    /// Last change per customer: one statement cannot update a row twice.
    credit: BTreeMap<String, CreditRow>,
    promises: PromiseRows,
}

#[derive(Default)]
struct InvoiceRows {
    subsidiary: Vec<String>,
    number: Vec<String>,
    customer: Vec<String>,
    currency: Vec<String>,
    amount: Vec<i64>,
    issued: Vec<NaiveDate>,
    due: Vec<NaiveDate>,
    over_limit: Vec<bool>,
    position: Vec<i64>,
}

#[derive(Default)]
struct PaymentRows {
    position: Vec<i64>,
    customer: Vec<String>,
    subsidiary: Vec<String>,
    currency: Vec<String>,
    amount: Vec<i64>,
    unapplied: Vec<i64>,
    received: Vec<NaiveDate>,
}

#[derive(Default)]
struct AllocationRows {
    position: Vec<i64>,
    line: Vec<i32>,
    subsidiary: Vec<String>,
    number: Vec<String>,
    amount: Vec<i64>,
    received: Vec<NaiveDate>,
}

struct CreditRow {
    currency: String,
    limit: i64,
    policy: String,
    grade: String,
    effective: NaiveDate,
    position: i64,
}

#[derive(Default)]
struct PromiseRows {
    id: Vec<String>,
    customer: Vec<String>,
    subsidiary: Vec<String>,
    currency: Vec<String>,
    amount: Vec<i64>,
    made_on: Vec<NaiveDate>,
    promised: Vec<NaiveDate>,
    collector: Vec<String>,
    position: Vec<i64>,
}

impl Rows {
    fn add(&mut self, recorded: &RecordedEvent) -> Result<(), ProjectionError> {
        let at = recorded.position;
        let stored_at = position(recorded)?;
        let envelope = &recorded.envelope;
        let customer = envelope.customer_id.to_string();
        match &envelope.event {
            Event::InvoiceIssued(e) => {
                let rows = &mut self.invoices;
                rows.subsidiary.push(e.subsidiary_id.to_string());
                rows.number.push(e.invoice_number.to_string());
                rows.customer.push(customer);
                rows.currency.push(e.amount.currency().code().to_owned());
                rows.amount.push(to_minor(e.amount, at)?);
                rows.issued.push(e.issue_date);
                rows.due.push(e.due_date);
                rows.over_limit.push(e.over_limit);
                rows.position.push(stored_at);
            }
            Event::PaymentReceived(e) => {
                let rows = &mut self.payments;
                rows.position.push(stored_at);
                rows.customer.push(customer);
                rows.subsidiary.push(e.subsidiary_id.to_string());
                rows.currency.push(e.amount.currency().code().to_owned());
                rows.amount.push(to_minor(e.amount, at)?);
                rows.unapplied.push(to_minor(e.unapplied, at)?);
                rows.received.push(e.received_date);
                for (line, allocation) in e.allocations.iter().enumerate() {
                    let rows = &mut self.allocations;
                    rows.position.push(stored_at);
                    rows.line
                        .push(i32::try_from(line).map_err(|_| ProjectionError::Event {
                            position: at,
                            problem: "too many allocations".into(),
                        })?);
                    rows.subsidiary
                        .push(allocation.invoice.subsidiary_id.to_string());
                    rows.number
                        .push(allocation.invoice.invoice_number.to_string());
                    rows.amount.push(to_minor(allocation.amount, at)?);
                    rows.received.push(e.received_date);
                }
            }
            Event::CreditLimitChanged(e) => {
                self.credit.insert(
                    customer,
                    CreditRow {
                        currency: e.limit.currency().code().to_owned(),
                        limit: to_minor(e.limit, at)?,
                        policy: format!("{:?}", e.policy).to_uppercase(),
                        grade: format!("{:?}", e.grade),
                        effective: envelope.effective_date,
                        position: stored_at,
                    },
                );
            }
            Event::PromiseToPay(e) => {
                let rows = &mut self.promises;
                rows.id.push(e.promise_id.to_string());
                rows.customer.push(customer);
                rows.subsidiary.push(e.subsidiary_id.to_string());
                rows.currency.push(e.amount.currency().code().to_owned());
                rows.amount.push(to_minor(e.amount, at)?);
                rows.made_on.push(e.made_on);
                rows.promised.push(e.promised_date);
                rows.collector.push(e.collector.to_string());
                rows.position.push(stored_at);
            }
        }
        Ok(())
    }

    /// Writes the rows; invoices first, since allocations refer to them.
    async fn write(self, connection: &mut PgConnection) -> Result<(), ProjectionError> {
        let i = self.invoices;
        if !i.position.is_empty() {
            sqlx::query(
                "INSERT INTO invoices (subsidiary_id, invoice_number, customer_id, currency,
                     amount_minor, issue_date, due_date, over_limit, position)
                 SELECT * FROM UNNEST($1::TEXT[], $2::TEXT[], $3::TEXT[], $4::TEXT[],
                     $5::BIGINT[], $6::DATE[], $7::DATE[], $8::BOOLEAN[], $9::BIGINT[])",
            )
            .bind(i.subsidiary)
            .bind(i.number)
            .bind(i.customer)
            .bind(i.currency)
            .bind(i.amount)
            .bind(i.issued)
            .bind(i.due)
            .bind(i.over_limit)
            .bind(i.position)
            .execute(&mut *connection)
            .await?;
        }
        let p = self.payments;
        if !p.position.is_empty() {
            sqlx::query(
                "INSERT INTO payments (position, customer_id, subsidiary_id, currency,
                     amount_minor, unapplied_minor, received_date)
                 SELECT * FROM UNNEST($1::BIGINT[], $2::TEXT[], $3::TEXT[], $4::TEXT[],
                     $5::BIGINT[], $6::BIGINT[], $7::DATE[])",
            )
            .bind(p.position)
            .bind(p.customer)
            .bind(p.subsidiary)
            .bind(p.currency)
            .bind(p.amount)
            .bind(p.unapplied)
            .bind(p.received)
            .execute(&mut *connection)
            .await?;
        }
        let a = self.allocations;
        if !a.position.is_empty() {
            sqlx::query(
                "INSERT INTO allocations (position, line, subsidiary_id, invoice_number,
                     amount_minor, received_date)
                 SELECT * FROM UNNEST($1::BIGINT[], $2::INTEGER[], $3::TEXT[], $4::TEXT[],
                     $5::BIGINT[], $6::DATE[])",
            )
            .bind(a.position)
            .bind(a.line)
            .bind(a.subsidiary)
            .bind(a.number)
            .bind(a.amount)
            .bind(a.received)
            .execute(&mut *connection)
            .await?;
        }
        for (customer, c) in self.credit {
            sqlx::query(
                "INSERT INTO credit_terms (customer_id, currency, limit_minor, policy, grade,
                     effective_date, position)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)
                 ON CONFLICT (customer_id) DO UPDATE SET currency = EXCLUDED.currency,
                     limit_minor = EXCLUDED.limit_minor, policy = EXCLUDED.policy,
                     grade = EXCLUDED.grade, effective_date = EXCLUDED.effective_date,
                     position = EXCLUDED.position",
            )
            .bind(customer)
            .bind(c.currency)
            .bind(c.limit)
            .bind(c.policy)
            .bind(c.grade)
            .bind(c.effective)
            .bind(c.position)
            .execute(&mut *connection)
            .await?;
        }
        let r = self.promises;
        if !r.position.is_empty() {
            sqlx::query(
                "INSERT INTO promises (promise_id, customer_id, subsidiary_id, currency,
                     amount_minor, made_on, promised_date, collector, position)
                 SELECT * FROM UNNEST($1::TEXT[], $2::TEXT[], $3::TEXT[], $4::TEXT[],
                     $5::BIGINT[], $6::DATE[], $7::DATE[], $8::TEXT[], $9::BIGINT[])",
            )
            .bind(r.id)
            .bind(r.customer)
            .bind(r.subsidiary)
            .bind(r.currency)
            .bind(r.amount)
            .bind(r.made_on)
            .bind(r.promised)
            .bind(r.collector)
            .bind(r.position)
            .execute(&mut *connection)
            .await?;
        }
        Ok(())
    }
}

/// Applies a batch of events (in log order) to the read model, inside the caller's transaction.
pub async fn apply_all(
    connection: &mut PgConnection,
    events: &[&RecordedEvent],
) -> Result<(), ProjectionError> {
    let mut rows = Rows::default();
    for event in events {
        rows.add(event)?;
    }
    rows.write(connection).await
}

/// Applies one event to the read model, inside the caller's transaction.
pub async fn apply(
    connection: &mut PgConnection,
    recorded: &RecordedEvent,
) -> Result<(), ProjectionError> {
    apply_all(connection, &[recorded]).await
}
