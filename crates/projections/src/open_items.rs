//! The open-items projection: invoices, payments with their allocations and unapplied cash,
//! credit terms and promises, as rows from which aging and exposure are computed for any date.
//!
//! Allocations are stored with the payment's received date rather than subtracted from the
//! invoice, so an open amount "as of" a past date leaves out the payments received after it.

use receivables_domain::{Event, RecordedEvent};
use sqlx::PgConnection;

use crate::ProjectionError;
use crate::minor_units::to_minor;

/// The projection's name, as its checkpoint is stored.
pub const NAME: &str = "open_items";

fn position(event: &RecordedEvent) -> Result<i64, ProjectionError> {
    i64::try_from(event.position.get()).map_err(|_| ProjectionError::Event {
        position: event.position,
        problem: "position does not fit a BIGINT".into(),
    })
}

/// Applies one event to the read model, inside the caller's transaction.
pub async fn apply(
    connection: &mut PgConnection,
    recorded: &RecordedEvent,
) -> Result<(), ProjectionError> {
    let at = recorded.position;
    let envelope = &recorded.envelope;
    let customer = envelope.customer_id.as_str();
    match &envelope.event {
        Event::InvoiceIssued(e) => {
            sqlx::query(
                "INSERT INTO invoices (subsidiary_id, invoice_number, customer_id, currency,
                     amount_minor, issue_date, due_date, over_limit, position)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            )
            .bind(e.subsidiary_id.as_str())
            .bind(e.invoice_number.as_str())
            .bind(customer)
            .bind(e.amount.currency().code())
            .bind(to_minor(e.amount, at)?)
            .bind(e.issue_date)
            .bind(e.due_date)
            .bind(e.over_limit)
            .bind(position(recorded)?)
            .execute(&mut *connection)
            .await?;
        }
        Event::PaymentReceived(e) => {
            sqlx::query(
                "INSERT INTO payments (position, customer_id, subsidiary_id, currency,
                     amount_minor, unapplied_minor, received_date)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(position(recorded)?)
            .bind(customer)
            .bind(e.subsidiary_id.as_str())
            .bind(e.amount.currency().code())
            .bind(to_minor(e.amount, at)?)
            .bind(to_minor(e.unapplied, at)?)
            .bind(e.received_date)
            .execute(&mut *connection)
            .await?;
            for (line, allocation) in e.allocations.iter().enumerate() {
                sqlx::query(
                    "INSERT INTO allocations (position, line, subsidiary_id, invoice_number,
                         amount_minor, received_date)
                     VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(position(recorded)?)
                .bind(i32::try_from(line).unwrap_or(i32::MAX))
                .bind(allocation.invoice.subsidiary_id.as_str())
                .bind(allocation.invoice.invoice_number.as_str())
                .bind(to_minor(allocation.amount, at)?)
                .bind(e.received_date)
                .execute(&mut *connection)
                .await?;
            }
        }
        Event::CreditLimitChanged(e) => {
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
            .bind(e.limit.currency().code())
            .bind(to_minor(e.limit, at)?)
            .bind(format!("{:?}", e.policy).to_uppercase())
            .bind(format!("{:?}", e.grade))
            .bind(envelope.effective_date)
            .bind(position(recorded)?)
            .execute(&mut *connection)
            .await?;
        }
        Event::PromiseToPay(e) => {
            sqlx::query(
                "INSERT INTO promises (promise_id, customer_id, subsidiary_id, currency,
                     amount_minor, made_on, promised_date, collector, position)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            )
            .bind(e.promise_id.to_string())
            .bind(customer)
            .bind(e.subsidiary_id.as_str())
            .bind(e.amount.currency().code())
            .bind(to_minor(e.amount, at)?)
            .bind(e.made_on)
            .bind(e.promised_date)
            .bind(e.collector.as_str())
            .bind(position(recorded)?)
            .execute(&mut *connection)
            .await?;
        }
    }
    Ok(())
}
