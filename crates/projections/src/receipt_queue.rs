//! The review queue of bank receipts: the statement lines that wait (neither matched nor
//! excluded), of every bank account or one, of every subsidiary or one, in the order they were
//! imported. The candidates a person chooses from are the matching engine's, worked out for
//! the lines of the page (`receipt_evidence.rs`), not stored: they change as invoices are
//! issued and paid.
//!
//! Pages follow the log order and continue after the last position of the previous page
//! (keyset paging, `paging.rs`).

use chrono::NaiveDate;
use receivables_domain::account::receipt::ReceiptPart;
use receivables_domain::allocation::AllocationRequest;
use receivables_domain::ids::{BankLineId, InvoiceKey, InvoiceNumber};
use receivables_domain::{CommandId, Currency, Money, SubsidiaryId};

use crate::database::{ReadPool, on_engine};
use crate::error::ProjectionError;
use crate::minor_units::from_minor;
use crate::paging::{
    PAGE_SIZE_DEFAULT, PageRequestError, Paged, check_page_size, decode_token, encode_token,
    undated,
};
use crate::receipt_evidence::ReceiptLine;
use crate::stored;

const TOKEN_KIND: &str = "unmatched-receipts";

/// A validated request for a page of the review queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnmatchedQuery {
    /// Only this bank account's lines.
    pub bank_account: Option<String>,
    /// Only the lines of the bank accounts this subsidiary holds.
    pub subsidiary: Option<String>,
    /// Only these lines (by the bank's id), for a person looking at one line.
    pub line: Option<String>,
    page_size: u32,
    /// Continue with the lines imported after this position.
    after: Option<i64>,
}

impl Default for UnmatchedQuery {
    fn default() -> Self {
        UnmatchedQuery {
            bank_account: None,
            subsidiary: None,
            line: None,
            page_size: PAGE_SIZE_DEFAULT,
            after: None,
        }
    }
}

impl Paged for UnmatchedQuery {
    fn with_page_size(mut self, page_size: u32) -> Result<Self, PageRequestError> {
        self.page_size = check_page_size(page_size)?;
        Ok(self)
    }

    fn with_page_token(mut self, token: &str) -> Result<Self, PageRequestError> {
        let fields = decode_token(token, TOKEN_KIND, undated(), 1)?;
        let position = fields
            .first()
            .and_then(|text| text.parse::<i64>().ok())
            .ok_or(PageRequestError::MalformedToken("not a position"))?;
        self.after = Some(position);
        Ok(self)
    }
}

/// A waiting line, with the position that imported it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnmatchedLine {
    pub line: ReceiptLine,
    pub statement_id: String,
    pub position: u64,
}

/// A page of the review queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnmatchedPage {
    pub lines: Vec<UnmatchedLine>,
    /// Present when more lines follow: pass it to [`Paged::with_page_token`].
    pub next_page_token: Option<String>,
}

type Row = (
    i64,
    String,
    String,
    String,
    String,
    NaiveDate,
    String,
    i64,
    String,
    String,
    String,
);

/// The page of waiting lines `query` asks for, oldest import first.
pub async fn list_unmatched(
    pool: &ReadPool,
    query: &UnmatchedQuery,
) -> Result<UnmatchedPage, ProjectionError> {
    let sql = "SELECT l.position, l.bank_account_id, l.line_id, l.statement_id, l.subsidiary_id,
                      l.value_date, l.currency, l.amount_minor, l.payer_name, l.payer_account,
                      l.reference
               FROM statement_lines l
               WHERE NOT EXISTS (SELECT 1 FROM statement_line_outcomes o
                                 WHERE o.bank_account_id = l.bank_account_id
                                   AND o.line_id = l.line_id)
                 AND ($1 IS NULL OR l.bank_account_id = $1)
                 AND ($2 IS NULL OR l.subsidiary_id = $2)
                 AND ($3 IS NULL OR l.line_id = $3)
                 AND ($4 IS NULL OR l.position > $4)
               ORDER BY l.position
               LIMIT $5";
    let limit = i64::from(query.page_size) + 1;
    let mut rows: Vec<Row> = on_engine!(pool, pool => sqlx::query_as(sql)
        .bind(query.bank_account.as_deref())
        .bind(query.subsidiary.as_deref())
        .bind(query.line.as_deref())
        .bind(query.after)
        .bind(limit)
        .fetch_all(pool).await)?;
    let more = rows.len() > query.page_size as usize;
    rows.truncate(query.page_size as usize);
    let next_page_token = match (more, rows.last()) {
        (true, Some(last)) => Some(encode_token(TOKEN_KIND, undated(), &[&last.0.to_string()])),
        _ => None,
    };
    let lines = rows
        .into_iter()
        .map(
            |(
                position,
                bank_account_id,
                line_id,
                statement_id,
                subsidiary_id,
                value_date,
                code,
                amount,
                payer_name,
                payer_account,
                reference,
            )| {
                let optional = |text: String| (!text.is_empty()).then_some(text);
                Ok(UnmatchedLine {
                    line: ReceiptLine {
                        bank_account_id,
                        line_id,
                        subsidiary_id,
                        value_date,
                        amount: from_minor(amount, stored::currency(&code)?),
                        payer_name: optional(payer_name),
                        payer_account: optional(payer_account),
                        reference,
                    },
                    statement_id,
                    position: u64::try_from(position).unwrap_or_default(),
                })
            },
        )
        .collect::<Result<_, ProjectionError>>()?;
    Ok(UnmatchedPage {
        lines,
        next_page_token,
    })
}

/// A matched part whose payment (or, for a part paid "less a credit note", whose credit
/// application) the ledger does not hold yet: posted from the match, by whoever finds it
/// missing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingPayment {
    pub bank_account_id: String,
    pub line_id: BankLineId,
    /// The subsidiary that holds the bank account: the payment's.
    pub subsidiary_id: SubsidiaryId,
    pub value_date: NaiveDate,
    pub reference: String,
    pub payment_id: CommandId,
    /// The ledger holds the payment already: only the credit application is missing.
    pub payment_posted: bool,
    /// The command id of the part's credit application, when it applies credit.
    pub credit_id: Option<CommandId>,
    pub part: ReceiptPart,
    /// Where it is in the listing: the match's position and the part's place in it.
    pub cursor: (i64, i32),
}

/// Most pending payments read at once.
pub const PENDING_PAYMENTS_MAX: i64 = 1_000;

/// A page of pending payments.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PendingPage {
    pub payments: Vec<PendingPayment>,
    /// The cursor of the last part looked at, to continue after.
    pub last: Option<(i64, i32)>,
    /// As many parts were looked at as a page holds: there may be more.
    pub full: bool,
}

/// A row of the pending parts: sixteen columns, as many as a tuple decodes.
type PendingRow = (
    i64,
    i32,
    String,
    String,
    String,
    String,
    String,
    i64,
    bool,
    String,
    String,
    String,
    bool,
    String,
    NaiveDate,
    String,
);

/// The parts of matched lines (of one bank account, or all) whose payment is not in the
/// ledger, or whose credit application is not while the customer's credit and the invoices
/// can still take it, oldest match first, after `after` (a [`PendingPayment::cursor`]), at
/// most [`PENDING_PAYMENTS_MAX`] looked at (fewer returned when credit applications are no
/// longer possible: their credit was spent or their invoices paid otherwise).
pub async fn pending_payments(
    pool: &ReadPool,
    bank_account: Option<&str>,
    after: Option<(i64, i32)>,
) -> Result<PendingPage, ProjectionError> {
    let sql = "SELECT p.position, p.part, p.bank_account_id, p.line_id, p.customer_id, p.payment_id, p.currency,
                      p.amount_minor, p.on_account, p.allocations, p.credit_applications, p.credit_id,
                      EXISTS (SELECT 1 FROM payments m WHERE m.command_id = p.payment_id),
                      l.subsidiary_id, l.value_date, l.reference
               FROM receipt_parts p
               JOIN statement_lines l
                 ON l.bank_account_id = p.bank_account_id AND l.line_id = p.line_id
               WHERE ($1 IS NULL OR p.bank_account_id = $1)
                 AND (p.position > $3 OR (p.position = $3 AND p.part > $4))
                 AND (NOT EXISTS (SELECT 1 FROM payments m WHERE m.command_id = p.payment_id)
                      OR (p.credit_id <> ''
                          AND NOT EXISTS (SELECT 1 FROM unapplied_movements u
                                          WHERE u.command_id = p.credit_id)))
               ORDER BY p.position, p.part
               LIMIT $2";
    let (position, part) = after.unwrap_or((-1, -1));
    let rows: Vec<PendingRow> = on_engine!(pool, pool => sqlx::query_as(sql)
        .bind(bank_account)
        .bind(PENDING_PAYMENTS_MAX)
        .bind(position)
        .bind(part)
        .fetch_all(pool).await)?;
    let mut page = PendingPage {
        full: rows.len() as i64 >= PENDING_PAYMENTS_MAX,
        ..PendingPage::default()
    };
    for row in rows {
        let payment = pending_of(row)?;
        page.last = Some(payment.cursor);
        if !payment.payment_posted || credit_applicable(pool, &payment).await? {
            page.payments.push(payment);
        }
    }
    Ok(page)
}

/// A pending part from its row, every stored value read back and checked.
fn pending_of(
    (
        match_position,
        part_index,
        bank_account_id,
        line_id,
        customer,
        payment_id,
        code,
        amount,
        on_account,
        allocations,
        credit_applications,
        credit_id,
        payment_posted,
        subsidiary,
        value_date,
        reference,
    ): PendingRow,
) -> Result<PendingPayment, ProjectionError> {
    let currency = stored::currency(&code)?;
    let bad = |what: &str| {
        ProjectionError::Stored(format!(
            "the receipt part of line {line_id} of {bank_account_id}: {what}"
        ))
    };
    let credit_id = match credit_id.as_str() {
        "" => None,
        id => Some(CommandId::parse(id).map_err(|e| bad(&e.to_string()))?),
    };
    Ok(PendingPayment {
        line_id: BankLineId::parse(&line_id).map_err(|e| bad(&e.to_string()))?,
        subsidiary_id: stored::subsidiary(&subsidiary)?,
        value_date,
        reference,
        payment_id: CommandId::parse(&payment_id).map_err(|e| bad(&e.to_string()))?,
        payment_posted,
        credit_id,
        part: ReceiptPart {
            customer_id: stored::customer(&customer)?,
            amount: from_minor(amount, currency),
            allocations: stored_allocations(&allocations, currency).map_err(|e| bad(&e))?,
            on_account,
            credit_applications: stored_allocations(&credit_applications, currency)
                .map_err(|e| bad(&e))?,
        },
        bank_account_id,
        cursor: (match_position, part_index),
    })
}

/// Allocations as the projection stores them: `[{subsidiary_id, invoice_number, amount}]`.
fn stored_allocations(text: &str, currency: Currency) -> Result<Vec<AllocationRequest>, String> {
    let stored: Vec<serde_json::Value> = serde_json::from_str(text).map_err(|e| e.to_string())?;
    stored
        .iter()
        .map(|a| {
            let text = |key: &str| {
                a.get(key)
                    .and_then(serde_json::Value::as_str)
                    .ok_or_else(|| format!("an allocation without {key}"))
            };
            Ok(AllocationRequest {
                invoice: InvoiceKey {
                    subsidiary_id: stored::subsidiary(text("subsidiary_id")?)
                        .map_err(|e| e.to_string())?,
                    invoice_number: InvoiceNumber::parse(text("invoice_number")?)
                        .map_err(|e| e.to_string())?,
                },
                amount: Money::positive(text("amount")?, currency).map_err(|e| e.to_string())?,
            })
        })
        .collect()
}

/// Whether the credit application of a part whose payment is posted can still be made, as far
/// as the read model has applied the log: the customer holds at least that much unapplied
/// credit in the currency, and each invoice still owes at least what it is to take today.
/// When not (the credit was applied elsewhere, the invoices paid otherwise), the application
/// is no longer pending: the credit stays on account for a person to apply.
async fn credit_applicable(
    pool: &ReadPool,
    payment: &PendingPayment,
) -> Result<bool, ProjectionError> {
    let Some(total) = payment.part.credit_applied() else {
        return Ok(false);
    };
    let customer = payment.part.customer_id.as_str();
    let currency = total.currency().code();
    let sql = "SELECT CAST(COALESCE(SUM(amount_minor), 0) AS BIGINT) FROM unapplied_movements
               WHERE customer_id = $1 AND currency = $2 AND source = 'credit'";
    let (credit,): (i64,) = on_engine!(pool, pool => sqlx::query_as(sql)
        .bind(customer)
        .bind(currency)
        .fetch_one(pool).await)?;
    if i128::from(credit) < total.minor_units() {
        return Ok(false);
    }
    for application in &payment.part.credit_applications {
        let sql = "SELECT CAST(COALESCE(SUM(open_minor), 0) AS BIGINT) FROM summary_rows
                   WHERE subsidiary_id = $1 AND invoice_number = $2";
        let (open,): (i64,) = on_engine!(pool, pool => sqlx::query_as(sql)
            .bind(application.invoice.subsidiary_id.as_str())
            .bind(application.invoice.invoice_number.as_str())
            .fetch_one(pool).await)?;
        if i128::from(open) < application.amount.minor_units() {
            return Ok(false);
        }
    }
    Ok(true)
}

/// What became of a line, as the review queue's caller sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineOutcome {
    /// `MATCHED` or `EXCLUDED`.
    pub status: String,
    /// `AUTOMATIC` or `REVIEWED`.
    pub method: String,
    pub position: u64,
}

/// Most lines whose outcomes one statement looks up at a time.
const OUTCOMES_PER_LOOKUP_MAX: usize = 500;

/// The outcomes of those of `lines` (of `bank_account`) that are settled, by line id.
pub async fn outcomes(
    pool: &ReadPool,
    bank_account: &str,
    lines: &[&str],
) -> Result<std::collections::HashMap<String, LineOutcome>, ProjectionError> {
    let mut found = std::collections::HashMap::new();
    for chunk in lines.chunks(OUTCOMES_PER_LOOKUP_MAX) {
        let placeholders = (2..chunk.len() + 2)
            .map(|n| format!("${n}"))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "SELECT line_id, status, method, position FROM statement_line_outcomes
             WHERE bank_account_id = $1 AND line_id IN ({placeholders})"
        );
        let rows: Vec<(String, String, String, i64)> = on_engine!(pool, pool => {
            let mut query = sqlx::query_as(&sql).bind(bank_account);
            for line in chunk {
                query = query.bind(*line);
            }
            query.fetch_all(pool).await
        })?;
        for (line, status, method, position) in rows {
            found.insert(
                line,
                LineOutcome {
                    status,
                    method,
                    position: u64::try_from(position).unwrap_or_default(),
                },
            );
        }
    }
    Ok(found)
}
