//! The open-items projection: invoices, payments with their allocations and unapplied cash,
//! credit terms and promises, as rows from which aging and exposure are computed for any date.
//!
//! Allocations are stored with the payment's received date rather than subtracted from the
//! invoice, so an open amount "as of" a past date leaves out the payments received after it.
//!
//! A batch is gathered here column by column and written by the engine's module with multi-row
//! statements (`UNNEST` of column arrays on PostgreSQL, multi-row `VALUES` on SQLite), not a
//! statement per event: catching up over millions of events is bound by the database's row
//! throughput rather than by round trips.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use receivables_domain::Position;
use receivables_domain::{Event, RecordedEvent};

use crate::database::ReadPool;
use crate::minor_units::to_minor;
use crate::{ProjectionError, postgres, sqlite};

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
pub(crate) struct Rows {
    pub(crate) invoices: InvoiceRows,
    pub(crate) payments: PaymentRows,
    pub(crate) allocations: AllocationRows,
    /// Last change per customer: one statement cannot update a row twice.
    pub(crate) credit: BTreeMap<String, CreditRow>,
    pub(crate) promises: PromiseRows,
}

#[derive(Default)]
pub(crate) struct InvoiceRows {
    pub(crate) subsidiary: Vec<String>,
    pub(crate) number: Vec<String>,
    pub(crate) customer: Vec<String>,
    pub(crate) currency: Vec<String>,
    pub(crate) amount: Vec<i64>,
    pub(crate) issued: Vec<NaiveDate>,
    pub(crate) due: Vec<NaiveDate>,
    pub(crate) over_limit: Vec<bool>,
    pub(crate) position: Vec<i64>,
}

#[derive(Default)]
pub(crate) struct PaymentRows {
    pub(crate) position: Vec<i64>,
    pub(crate) customer: Vec<String>,
    pub(crate) subsidiary: Vec<String>,
    pub(crate) currency: Vec<String>,
    pub(crate) amount: Vec<i64>,
    pub(crate) unapplied: Vec<i64>,
    pub(crate) received: Vec<NaiveDate>,
}

#[derive(Default)]
pub(crate) struct AllocationRows {
    pub(crate) position: Vec<i64>,
    pub(crate) line: Vec<i32>,
    pub(crate) subsidiary: Vec<String>,
    pub(crate) number: Vec<String>,
    pub(crate) amount: Vec<i64>,
    pub(crate) received: Vec<NaiveDate>,
}

pub(crate) struct CreditRow {
    pub(crate) currency: String,
    pub(crate) limit: i64,
    pub(crate) policy: String,
    pub(crate) grade: String,
    pub(crate) effective: NaiveDate,
    pub(crate) position: i64,
}

#[derive(Default)]
pub(crate) struct PromiseRows {
    pub(crate) id: Vec<String>,
    pub(crate) customer: Vec<String>,
    pub(crate) subsidiary: Vec<String>,
    pub(crate) currency: Vec<String>,
    pub(crate) amount: Vec<i64>,
    pub(crate) made_on: Vec<NaiveDate>,
    pub(crate) promised: Vec<NaiveDate>,
    pub(crate) collector: Vec<String>,
    pub(crate) position: Vec<i64>,
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
}

/// Upserts a customer's credit terms; the same statement on both engines.
pub(crate) const UPSERT_CREDIT_TERMS: &str = "INSERT INTO credit_terms (customer_id, currency,
         limit_minor, policy, grade, effective_date, position)
     VALUES ($1, $2, $3, $4, $5, $6, $7)
     ON CONFLICT (customer_id) DO UPDATE SET currency = EXCLUDED.currency,
         limit_minor = EXCLUDED.limit_minor, policy = EXCLUDED.policy,
         grade = EXCLUDED.grade, effective_date = EXCLUDED.effective_date,
         position = EXCLUDED.position";

/// The events of a batch that are new to a read model whose checkpoint is `from`, as rows.
pub struct Batch {
    /// The checkpoint before the batch.
    pub from: Position,
    /// The checkpoint after the batch (`from` when nothing in it was new).
    pub to: Position,
    /// Events applied.
    pub events: usize,
    rows: Rows,
}

impl Batch {
    /// Whether the batch moves the checkpoint.
    pub fn moved(&self) -> bool {
        self.to > self.from
    }

    pub(crate) fn rows(&self) -> &Rows {
        &self.rows
    }
}

/// Gathers the rows of the events after `from` (in log order); those at or below it were
/// applied already.
pub(crate) fn batch(events: &[RecordedEvent], from: Position) -> Result<Batch, ProjectionError> {
    let mut rows = Rows::default();
    let mut to = from;
    let mut count = 0;
    for event in events {
        if event.position <= to {
            continue;
        }
        rows.add(event)?;
        to = event.position;
        count += 1;
    }
    Ok(Batch {
        from,
        to,
        events: count,
        rows,
    })
}

/// Applies events (in log order) to the read model in one transaction, without a checkpoint:
/// for loading a read model directly, as tests of the queries do.
pub async fn apply_events(
    pool: &ReadPool,
    events: &[RecordedEvent],
) -> Result<(), ProjectionError> {
    let batch = batch(events, Position::ZERO)?;
    match pool {
        ReadPool::Postgres(pool) => {
            let mut transaction = pool.begin().await?;
            postgres::write(&mut transaction, &batch.rows).await?;
            transaction.commit().await?;
        }
        ReadPool::Sqlite(pool) => {
            let mut transaction = pool.begin().await?;
            sqlite::write(&mut transaction, &batch.rows).await?;
            transaction.commit().await?;
        }
    }
    Ok(())
}
