//! The statement of account (对账单): what a customer owes at the start of a period, every
//! movement in it in date order with a running balance, what it owes at the end, and the aging
//! at the end, per currency; optionally of one subsidiary, of one currency.
//!
//! The balance is what the customer owes net of the money it has on account:
//!
//! ```text
//! balance(d) = open amount of its invoices as of d - its unapplied cash and credit as of d
//! ```
//!
//! (both as `open_amounts.rs` defines them), so that every movement of either side moves it:
//!
//! | row | debit (owes more) | credit (owes less) |
//! | --- | --- | --- |
//! | invoice | its amount | |
//! | payment | | the part kept on account (unapplied) |
//! | allocation of a payment to an invoice | | the amount |
//! | credit note against an invoice, or on account | | the amount |
//! | write-off | | the amount |
//! | early-payment discount (on its payment's date) | | the amount |
//! | application: unapplied money used | the amount | |
//! | application: applied to an invoice | | the amount |
//! | reversal: invoice re-opened, unapplied part taken back | the amount | |
//! | refund of unapplied money | the amount | |
//! | dispute opened or resolved | | |
//!
//! A payment's row shows the amount received, and its allocations follow it, one row per
//! invoice: what a customer sees on its own ledger. A dispute moves nothing (the amount stays
//! owed) and is listed for the reader. The opening balance is the sum of every movement dated
//! before the period; `opening + debits - credits = closing`, and the closing balance equals
//! the aging's open total less its unapplied money as of the period's last day (checked on
//! every statement: a read model where the two disagree is an error, not a statement).
//!
//! Filtered by subsidiary, a row belongs to the subsidiary of the invoice it moves, or, for
//! money on account, to the subsidiary that holds it (received the payment, issued the credit
//! note): the statement of a subsidiary is its open items less its unapplied money.
//!
//! Credit reserved for the customer's sales orders (`open_amounts::reserved`) is not owed and
//! moves no balance; each currency's part states what is reserved at the end of the period
//! beside its closing balance (of the subsidiary's orders when filtered by subsidiary).
//!
//! A statement is answered whole, so the movements of its period are bounded by
//! [`STATEMENT_MOVEMENTS_MAX`]; a longer one is refused with that limit, to be asked for in
//! shorter periods (each one's opening balance is the previous one's closing balance).

use std::collections::BTreeMap;

use chrono::NaiveDate;
use receivables_domain::customer::CustomerProfile;
use receivables_domain::{Currency, CustomerId, Money, SubsidiaryId};

use crate::aging::{self, AgingLine, AgingRequest, GroupBy};
use crate::customer_search;
use crate::database::{ReadPool, on_engine};
use crate::error::ProjectionError;
use crate::minor_units::from_minor;
use crate::stored;

/// The most movements one statement lists.
pub const STATEMENT_MOVEMENTS_MAX: usize = 20_000;

/// A validated statement request: a customer and a period, optionally narrowed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatementRequest {
    customer: CustomerId,
    from: NaiveDate,
    to: NaiveDate,
    pub subsidiary: Option<SubsidiaryId>,
    pub currency: Option<Currency>,
}

/// Why a statement request was refused before it was read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the period ends ({to}) before it starts ({from})")]
pub struct PeriodError {
    pub from: NaiveDate,
    pub to: NaiveDate,
}

impl StatementRequest {
    /// The statement of `customer` from `from` to `to`, both included.
    pub fn new(customer: CustomerId, from: NaiveDate, to: NaiveDate) -> Result<Self, PeriodError> {
        if to < from {
            return Err(PeriodError { from, to });
        }
        Ok(StatementRequest {
            customer,
            from,
            to,
            subsidiary: None,
            currency: None,
        })
    }

    pub fn customer(&self) -> &CustomerId {
        &self.customer
    }

    pub fn from(&self) -> NaiveDate {
        self.from
    }

    pub fn to(&self) -> NaiveDate {
        self.to
    }
}

/// What a row of the statement records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MovementKind {
    Invoice,
    Payment,
    Allocation,
    CreditNote,
    WriteOff,
    Application,
    Reversal,
    Refund,
    DisputeOpened,
    DisputeResolved,
    Discount,
}

impl MovementKind {
    /// The name the read model's rows and the wire use.
    pub fn as_str(self) -> &'static str {
        match self {
            MovementKind::Invoice => "invoice",
            MovementKind::Payment => "payment",
            MovementKind::Allocation => "allocation",
            MovementKind::CreditNote => "credit_note",
            MovementKind::WriteOff => "write_off",
            MovementKind::Application => "application",
            MovementKind::Reversal => "reversal",
            MovementKind::Refund => "refund",
            MovementKind::DisputeOpened => "dispute_opened",
            MovementKind::DisputeResolved => "dispute_resolved",
            MovementKind::Discount => "discount",
        }
    }

    const ALL: [MovementKind; 11] = [
        MovementKind::Invoice,
        MovementKind::Payment,
        MovementKind::Allocation,
        MovementKind::CreditNote,
        MovementKind::WriteOff,
        MovementKind::Application,
        MovementKind::Reversal,
        MovementKind::Refund,
        MovementKind::DisputeOpened,
        MovementKind::DisputeResolved,
        MovementKind::Discount,
    ];

    fn parse(text: &str) -> Result<MovementKind, ProjectionError> {
        MovementKind::ALL
            .into_iter()
            .find(|kind| kind.as_str() == text)
            .ok_or_else(|| ProjectionError::Stored(format!("movement kind {text:?}")))
    }
}

/// One row of a statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Movement {
    pub date: NaiveDate,
    pub kind: MovementKind,
    /// The subsidiary the row belongs to (see the module's text).
    pub subsidiary: SubsidiaryId,
    /// The document's number as the customer knows it: the invoice's or credit note's number,
    /// the payment's or refund's reference (or the recording command's id), the dispute's id.
    pub document: String,
    /// The invoice the row moves, if it moves one: `(subsidiary, number)`.
    pub invoice: Option<(SubsidiaryId, String)>,
    /// The row's own amount (a payment's whole amount, a dispute's disputed amount).
    pub amount: Money,
    /// What the row adds to what the customer owes.
    pub debit: Money,
    /// What the row takes off what the customer owes.
    pub credit: Money,
    /// The balance after this row.
    pub balance: Money,
    /// A reason, a source, an outcome: what the reader needs besides the figures.
    pub note: String,
    /// The log position of the event the row comes from.
    pub position: u64,
}

/// A statement in one currency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CurrencyStatement {
    pub currency: Currency,
    /// What the customer owed at the end of the day before the period.
    pub opening: Money,
    pub debits: Money,
    pub credits: Money,
    /// `opening + debits - credits`: what it owed at the end of the period's last day.
    pub closing: Money,
    pub movements: Vec<Movement>,
    /// The aging as of the period's last day (none when nothing is open or unapplied then).
    pub aging: Option<AgingLine>,
    /// Credit reserved for sales orders at the end of the period's last day: not owed, and not
    /// in the closing balance.
    pub reserved: Money,
}

/// A customer's statement: one part per currency with an opening balance or movements.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    /// The customer's record, as the statement is addressed; none when it is not registered.
    pub customer: Option<CustomerProfile>,
    pub currencies: Vec<CurrencyStatement>,
}

/// Why a statement could not be made.
#[derive(Debug, thiserror::Error)]
pub enum StatementError {
    #[error(transparent)]
    Read(#[from] ProjectionError),
    /// The period holds more movements than one statement lists.
    #[error(
        "the period holds more than {STATEMENT_MOVEMENTS_MAX} movements; ask for shorter periods"
    )]
    TooLong,
    /// Nothing of the customer is known on or before the period's last day (within the
    /// request's subsidiary and currency, described by `within`: empty, or " of subsidiary S"...).
    #[error("customer {customer} has no movements{within} on or before {to}")]
    Unknown {
        customer: CustomerId,
        within: String,
        to: NaiveDate,
    },
}

/// Every movement of one customer (`$1`) dated on or before `$3`, of subsidiary `$4` and
/// currency `$5` (`NULL`: all), with its effect on the balance (`effect_minor`, positive a
/// debit). `$2`, the period's first day, is used by the queries over it.
const MOVES: &str = "moves AS (
    SELECT issue_date AS moved_on, position, CAST(0 AS BIGINT) AS line,
           CAST('invoice' AS TEXT) AS kind, subsidiary_id, currency,
           invoice_number AS document, subsidiary_id AS invoice_subsidiary,
           invoice_number, amount_minor, amount_minor AS effect_minor,
           CAST('' AS TEXT) AS note
    FROM invoices WHERE customer_id = $1
    UNION ALL
    SELECT received_date, position, CAST(0 AS BIGINT), 'payment', subsidiary_id, currency,
           CASE WHEN reference = '' THEN command_id ELSE reference END,
           '', '', amount_minor, -unapplied_minor, ''
    FROM payments WHERE customer_id = $1
    UNION ALL
    SELECT a.received_date, a.position, CAST(a.line + 1 AS BIGINT), 'allocation',
           a.subsidiary_id, p.currency,
           CASE WHEN p.reference = '' THEN p.command_id ELSE p.reference END,
           a.subsidiary_id, a.invoice_number, a.amount_minor, -a.amount_minor, ''
    FROM allocations a JOIN payments p ON p.position = a.position
    WHERE p.customer_id = $1
    UNION ALL
    SELECT effective_date, position, CAST(line + 1 AS BIGINT), kind, subsidiary_id, currency,
           CASE kind WHEN 'credit_note' THEN document
                     WHEN 'reversal' THEN document
                     WHEN 'discount' THEN document
                     ELSE invoice_number END,
           subsidiary_id, invoice_number,
           CASE WHEN amount_minor < 0 THEN -amount_minor ELSE amount_minor END,
           -amount_minor,
           CASE kind WHEN 'write_off' THEN document
                     WHEN 'application' THEN document
                     ELSE '' END
    FROM settlements WHERE customer_id = $1
    UNION ALL
    SELECT effective_date, position, CAST(0 AS BIGINT), kind, subsidiary_id, currency,
           document, '', '',
           CASE WHEN amount_minor < 0 THEN -amount_minor ELSE amount_minor END,
           -amount_minor, source
    FROM unapplied_movements WHERE customer_id = $1
    UNION ALL
    SELECT opened_on, position, CAST(0 AS BIGINT), 'dispute_opened', subsidiary_id, currency,
           dispute_id, subsidiary_id, invoice_number, amount_minor, CAST(0 AS BIGINT), reason
    FROM disputes WHERE customer_id = $1
    UNION ALL
    SELECT r.resolved_on, r.position, CAST(0 AS BIGINT), 'dispute_resolved', d.subsidiary_id,
           d.currency, d.dispute_id, d.subsidiary_id, d.invoice_number, d.amount_minor,
           CAST(0 AS BIGINT),
           CASE WHEN r.credit_note_number = '' THEN r.outcome
                ELSE r.outcome || ' by credit note ' || r.credit_note_number END
    FROM dispute_resolutions r JOIN disputes d ON d.dispute_id = r.dispute_id
    WHERE d.customer_id = $1),
filtered AS (
    SELECT * FROM moves
    WHERE moved_on <= $3
      AND ($4 IS NULL OR subsidiary_id = $4)
      AND ($5 IS NULL OR currency = $5))";

/// A movement as the database returns it.
type MovementRow = (
    NaiveDate,
    i64,
    i64,
    String,
    String,
    String,
    String,
    String,
    String,
    i64,
    i64,
    String,
);

/// The statement `request` asks for.
pub async fn statement(
    pool: &ReadPool,
    request: &StatementRequest,
) -> Result<Statement, StatementError> {
    let customer = request.customer.as_str();
    let subsidiary = request.subsidiary.as_ref().map(SubsidiaryId::as_str);
    let currency = request.currency.map(Currency::code);
    let opening_sql = format!(
        "WITH {MOVES}
         SELECT currency, CAST(SUM(CASE WHEN moved_on < $2 THEN effect_minor ELSE 0 END) AS BIGINT)
         FROM filtered GROUP BY currency"
    );
    let openings: Vec<(String, i64)> = on_engine!(pool, pool => sqlx::query_as(&opening_sql)
        .bind(customer)
        .bind(request.from)
        .bind(request.to)
        .bind(subsidiary)
        .bind(currency)
        .fetch_all(pool).await)
    .map_err(ProjectionError::from)?;
    if openings.is_empty() {
        let mut within = String::new();
        if let Some(subsidiary) = &request.subsidiary {
            within.push_str(&format!(" of subsidiary {subsidiary}"));
        }
        if let Some(currency) = request.currency {
            within.push_str(&format!(" in {currency}"));
        }
        return Err(StatementError::Unknown {
            customer: request.customer.clone(),
            within,
            to: request.to,
        });
    }
    let limit = i64::try_from(STATEMENT_MOVEMENTS_MAX + 1).unwrap_or(i64::MAX);
    let movements_sql = format!(
        "WITH {MOVES}
         SELECT moved_on, position, line, kind, subsidiary_id, currency, document,
                invoice_subsidiary, invoice_number, amount_minor, effect_minor, note
         FROM filtered
         WHERE moved_on >= $2
         ORDER BY moved_on, position, line, kind
         LIMIT $6"
    );
    let rows: Vec<MovementRow> = on_engine!(pool, pool => sqlx::query_as(&movements_sql)
        .bind(customer)
        .bind(request.from)
        .bind(request.to)
        .bind(subsidiary)
        .bind(currency)
        .bind(limit)
        .fetch_all(pool).await)
    .map_err(ProjectionError::from)?;
    if rows.len() > STATEMENT_MOVEMENTS_MAX {
        return Err(StatementError::TooLong);
    }

    let mut parts: BTreeMap<String, Part> = openings
        .into_iter()
        .map(|(code, opening)| {
            let part = Part {
                opening,
                balance: opening,
                debits: 0,
                credits: 0,
                movements: Vec::new(),
            };
            (code, part)
        })
        .collect();
    for row in rows {
        let (
            date,
            position,
            _,
            kind,
            subsidiary,
            code,
            document,
            inv_sub,
            inv_number,
            amount,
            effect,
            note,
        ) = row;
        let currency = stored::currency(&code)?;
        let Some(part) = parts.get_mut(&code) else {
            return Err(ProjectionError::Stored(format!(
                "a movement in {code} that the opening balances did not count"
            ))
            .into());
        };
        part.balance += effect;
        if effect > 0 {
            part.debits += effect;
        } else {
            part.credits -= effect;
        }
        let invoice = if inv_number.is_empty() {
            None
        } else {
            Some((stored::subsidiary(&inv_sub)?, inv_number))
        };
        part.movements.push(Movement {
            date,
            kind: MovementKind::parse(&kind)?,
            subsidiary: stored::subsidiary(&subsidiary)?,
            document,
            invoice,
            amount: from_minor(amount, currency),
            debit: from_minor(effect.max(0), currency),
            credit: from_minor((-effect).max(0), currency),
            balance: from_minor(part.balance, currency),
            note,
            position: u64::try_from(position).unwrap_or_default(),
        });
    }

    let mut aging_request = AgingRequest::new(request.to);
    aging_request.group_by = GroupBy::Customer;
    aging_request.customer = Some(request.customer.clone());
    aging_request.subsidiary = request.subsidiary.clone();
    aging_request.currency = request.currency;
    let mut agings: BTreeMap<Currency, AgingLine> = aging::report(pool, &aging_request)
        .await?
        .into_iter()
        .map(|line| (line.currency, line))
        .collect();

    let reserved =
        crate::open_amounts::reserved(pool, Some(customer), subsidiary, request.to).await?;
    let mut currencies = Vec::new();
    for (code, part) in parts {
        let currency = stored::currency(&code)?;
        let aging = agings.remove(&currency);
        let closing = from_minor(part.balance, currency);
        // The same balance by the other road: the aging's open total less its unapplied money
        // on the last day (nothing when the aging has no line). Checked where it is read.
        let owed = aging.as_ref().map_or(rust_decimal::Decimal::ZERO, |line| {
            line.open_total.amount() - line.unapplied.amount()
        });
        if closing.amount() != owed {
            return Err(ProjectionError::Stored(format!(
                "the statement of {} closes at {closing} but the aging of {} says {owed}",
                request.customer, request.to
            ))
            .into());
        }
        if part.opening == 0 && part.movements.is_empty() {
            continue;
        }
        currencies.push(CurrencyStatement {
            currency,
            opening: from_minor(part.opening, currency),
            debits: from_minor(part.debits, currency),
            credits: from_minor(part.credits, currency),
            closing,
            movements: part.movements,
            aging,
            reserved: from_minor(
                reserved
                    .get(&(customer.to_owned(), code.clone()))
                    .copied()
                    .unwrap_or(0),
                currency,
            ),
        });
    }
    let customer = customer_search::find(pool, &request.customer)
        .await?
        .map(|record| record.profile);
    Ok(Statement {
        customer,
        currencies,
    })
}

/// One currency's statement while it is being made, in minor units.
struct Part {
    opening: i64,
    balance: i64,
    debits: i64,
    credits: i64,
    movements: Vec<Movement>,
}
