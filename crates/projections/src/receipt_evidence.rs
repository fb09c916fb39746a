//! What the read model knows that may bear on a bank receipt, gathered for the matching engine
//! (`receivables_domain::matching`): the documents the remittance text names (invoices, and
//! credit notes on account with the credit they still hold), the invoices that owe exactly the
//! amount, what was learned of the payer from earlier matches, the
//! customers whose names the payer's is, and every open invoice of each customer so found,
//! with when that customer usually pays (its paying pattern, from its latest allocations).
//!
//! The engine decides; this module only looks things up, each by an index: the document keys
//! by key, the open rows of today's summaries by currency and amount, the statement lines by
//! payer key, the customers' name keys by key. The open amounts handed over are the exact ones
//! as of the receipt's value date (`open_amounts.rs`), of the candidates only; today's
//! summaries only say which customers to look at for the amount.

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;
use receivables_domain::matching::{
    CustomerName, DocumentKind, Evidence, OpenDocument, PayerBy, PayerHint, PayerSource,
    PayingPattern, payer_key, reference_keys,
};
use receivables_domain::{Currency, CustomerId, Money};

use crate::database::{ReadPool, on_engine};
use crate::error::ProjectionError;
use crate::minor_units::from_minor;
use crate::open_amounts::{open_items, open_rows};
use crate::stored;

/// Most customers whose open invoices one receipt's evidence holds: those the reference names
/// first, then the payer's, then those owing the amount. A receipt that could be any of more
/// customers than this is not one the engine could be sure of anyway.
pub const CANDIDATE_CUSTOMERS_MAX: usize = 12;

/// Most open invoices of one candidate customer handed over (oldest due first), besides those
/// the reference names: the engine's search for a set of invoices reads no more than its own
/// `SET_DOCUMENTS_MAX`.
pub const DOCUMENTS_PER_CUSTOMER_MAX: usize = 48;

/// Most invoices owing exactly the amount that are looked at.
const SAME_AMOUNT_MAX: i64 = 24;

/// Most of a candidate's latest allocations its paying pattern is worked out from: recent
/// habits, and a bounded read for a customer with years of history.
pub const PATTERN_ALLOCATIONS_MAX: i64 = 24;

/// Most keys of a reference looked up in one statement.
const KEYS_PER_LOOKUP_MAX: usize = 400;

/// A waiting statement line, as the evidence is gathered for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceiptLine {
    pub bank_account_id: String,
    pub line_id: String,
    pub subsidiary_id: String,
    pub value_date: NaiveDate,
    pub amount: Money,
    pub payer_name: Option<String>,
    pub payer_account: Option<String>,
    pub reference: String,
}

/// The evidence of `line`, as the read model knows it.
pub async fn gather(pool: &ReadPool, line: &ReceiptLine) -> Result<Evidence, ProjectionError> {
    let currency = line.amount.currency();
    let mut customers: Vec<String> = Vec::new();
    let add = |customers: &mut Vec<String>, customer: String| {
        if customers.len() < CANDIDATE_CUSTOMERS_MAX && !customers.contains(&customer) {
            customers.push(customer);
        }
    };
    let named = named_documents(pool, &line.reference).await?;
    for customer in named.iter().map(|named| &named.customer) {
        add(&mut customers, customer.clone());
    }
    let mut payers = Vec::new();
    for (by, text) in [
        (PayerBy::Account, &line.payer_account),
        (PayerBy::Name, &line.payer_name),
    ] {
        let Some(key) = text.as_deref().and_then(payer_key) else {
            continue;
        };
        for (customer, matches) in learned(pool, by, &key, line).await? {
            add(&mut customers, customer.clone());
            payers.push(PayerHint {
                customer: stored::customer(&customer)?,
                by,
                source: PayerSource::Learned {
                    matches: u32::try_from(matches).unwrap_or(u32::MAX),
                },
            });
        }
        if by == PayerBy::Name {
            for customer in named_like(pool, &key).await? {
                add(&mut customers, customer);
            }
        }
    }
    // Customers that owe exactly the amount, looked for when the reference names no
    // document: a named document and its amount outrank any other customer's same amount
    // (the engine's weights), and an amount that many invoices owe would otherwise bring
    // their customers' every open invoice for nothing.
    if named.is_empty() {
        for customer in owing(pool, currency, line.amount).await? {
            add(&mut customers, customer);
        }
    }
    let named_numbers: BTreeSet<(String, String)> = named
        .iter()
        .filter(|named| named.kind == DocumentKind::Invoice)
        .map(|named| (named.subsidiary.clone(), named.number.clone()))
        .collect();
    let mut documents = Vec::new();
    for customer in &customers {
        documents.extend(
            open_documents(pool, customer, currency, line.value_date, &named_numbers).await?,
        );
    }
    for note in named
        .iter()
        .filter(|named| named.kind == DocumentKind::CreditNote)
        .filter(|named| customers.contains(&named.customer))
    {
        documents.extend(credit_note(pool, note, currency, line.value_date).await?);
    }
    let names = names(pool, &customers).await?;
    let mut patterns = Vec::new();
    for customer in &customers {
        patterns.extend(pattern(pool, customer, line.value_date).await?);
    }
    Ok(Evidence {
        documents,
        payers,
        patterns,
        names,
    })
}

/// When `customer` usually pays: the median of the days between an invoice's due date and the
/// payment applied to it, over its latest [`PATTERN_ALLOCATIONS_MAX`] allocations received by
/// `date` (the lower middle one of an even count), with how many payments they came from.
/// `None` without any.
async fn pattern(
    pool: &ReadPool,
    customer: &str,
    date: NaiveDate,
) -> Result<Option<PayingPattern>, ProjectionError> {
    let sql = "SELECT a.position, a.received_date, i.due_date
               FROM invoices i
               JOIN allocations a
                 ON a.subsidiary_id = i.subsidiary_id AND a.invoice_number = i.invoice_number
               WHERE i.customer_id = $1 AND a.received_date <= $2
               ORDER BY a.received_date DESC, a.position DESC, a.line
               LIMIT $3";
    let rows: Vec<(i64, NaiveDate, NaiveDate)> = on_engine!(pool, pool => sqlx::query_as(sql)
        .bind(customer)
        .bind(date)
        .bind(PATTERN_ALLOCATIONS_MAX)
        .fetch_all(pool).await)?;
    let payments = rows
        .iter()
        .map(|(position, _, _)| *position)
        .collect::<BTreeSet<_>>()
        .len();
    let mut days: Vec<i64> = rows
        .iter()
        .map(|(_, received, due)| (*received - *due).num_days())
        .collect();
    days.sort_unstable();
    let Some(&median) = days.get(days.len().saturating_sub(1) / 2) else {
        return Ok(None);
    };
    Ok(Some(PayingPattern {
        customer: stored::customer(customer)?,
        median_days_after_due: i32::try_from(median).map_err(|_| {
            ProjectionError::Stored(format!("{median} days after due does not fit"))
        })?,
        payments: u32::try_from(payments).unwrap_or(u32::MAX),
    }))
}

/// A document whose keys the reference holds.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Named {
    kind: DocumentKind,
    subsidiary: String,
    number: String,
    customer: String,
}

/// The documents whose keys the reference holds, invoices and credit notes.
async fn named_documents(pool: &ReadPool, reference: &str) -> Result<Vec<Named>, ProjectionError> {
    let mut keys = reference_keys(reference);
    keys.truncate(KEYS_PER_LOOKUP_MAX);
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    let placeholders = (1..=keys.len())
        .map(|n| format!("${n}"))
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!(
        "SELECT DISTINCT document_kind, subsidiary_id, number, customer_id FROM document_keys
         WHERE key_text IN ({placeholders})
         ORDER BY customer_id, document_kind, subsidiary_id, number"
    );
    let rows: Vec<(String, String, String, String)> = on_engine!(pool, pool => {
        let mut query = sqlx::query_as(&sql);
        for key in &keys {
            query = query.bind(key);
        }
        query.fetch_all(pool).await
    })?;
    rows.into_iter()
        .map(|(kind, subsidiary, number, customer)| {
            let kind = match kind.as_str() {
                "INVOICE" => DocumentKind::Invoice,
                "CREDIT_NOTE" => DocumentKind::CreditNote,
                other => {
                    return Err(ProjectionError::Stored(format!(
                        "a document key of kind {other}"
                    )));
                }
            };
            Ok(Named {
                kind,
                subsidiary,
                number,
                customer,
            })
        })
        .collect()
}

/// A named credit note as an open document, when it was issued on account in `currency` by
/// `date`: holding what is left of it, as far as the read model can say. Credit on account is
/// one pool per customer and currency (an application does not say which note it spends), so
/// a note holds at most its own amount and at most the pool, both on `date` and now: never
/// more than the customer can still apply, which is what a payment "less the note" needs.
/// `None` for a note against an invoice (the invoice's open amount is net of it already), in
/// another currency, issued after `date`, or holding nothing.
async fn credit_note(
    pool: &ReadPool,
    note: &Named,
    currency: Currency,
    date: NaiveDate,
) -> Result<Option<OpenDocument>, ProjectionError> {
    let issued = "SELECT CAST(amount_minor AS BIGINT), effective_date FROM unapplied_movements
                  WHERE customer_id = $1 AND subsidiary_id = $2 AND document = $3
                    AND currency = $4 AND source = 'credit' AND kind = 'credit_note'
                    AND effective_date <= $5";
    let row: Option<(i64, NaiveDate)> = on_engine!(pool, pool => sqlx::query_as(issued)
        .bind(&note.customer)
        .bind(&note.subsidiary)
        .bind(&note.number)
        .bind(currency.code())
        .bind(date)
        .fetch_optional(pool).await)?;
    let Some((amount, issue_date)) = row else {
        return Ok(None);
    };
    let held = amount.min(credit_held(pool, &note.customer, currency, date).await?);
    if held <= 0 {
        return Ok(None);
    }
    Ok(Some(OpenDocument {
        customer: stored::customer(&note.customer)?,
        subsidiary: stored::subsidiary(&note.subsidiary)?,
        kind: DocumentKind::CreditNote,
        number: note.number.clone(),
        open: from_minor(held, currency),
        due_date: issue_date,
        next_row: None,
    }))
}

/// The unapplied credit `customer` holds in `currency` that a receipt of `date` may apply, in
/// minor units: the lesser of what it held on `date` and what it holds now (an application
/// dated `date` must find it on that day and every later one).
pub async fn credit_held(
    pool: &ReadPool,
    customer: &str,
    currency: Currency,
    date: NaiveDate,
) -> Result<i64, ProjectionError> {
    let pooled = "SELECT CAST(COALESCE(SUM(CASE WHEN effective_date <= $3 THEN amount_minor
                                               ELSE 0 END), 0) AS BIGINT),
                         CAST(COALESCE(SUM(amount_minor), 0) AS BIGINT)
                  FROM unapplied_movements
                  WHERE customer_id = $1 AND currency = $2 AND source = 'credit'";
    let (on_date, now): (i64, i64) = on_engine!(pool, pool => sqlx::query_as(pooled)
        .bind(customer)
        .bind(currency.code())
        .bind(date)
        .fetch_one(pool).await)?;
    Ok(on_date.min(now))
}

/// The customers earlier lines of this payer were matched to, with how many lines each (the
/// line itself left out).
async fn learned(
    pool: &ReadPool,
    by: PayerBy,
    key: &str,
    line: &ReceiptLine,
) -> Result<Vec<(String, i64)>, ProjectionError> {
    let column = match by {
        PayerBy::Account => "payer_account_key",
        PayerBy::Name => "payer_name_key",
    };
    let sql = format!(
        "SELECT p.customer_id, COUNT(*) FROM statement_lines l
         JOIN receipt_parts p
           ON p.bank_account_id = l.bank_account_id AND p.line_id = l.line_id
         WHERE l.{column} = $1 AND NOT (l.bank_account_id = $2 AND l.line_id = $3)
         GROUP BY p.customer_id
         ORDER BY COUNT(*) DESC, p.customer_id
         LIMIT $4"
    );
    let limit = i64::try_from(CANDIDATE_CUSTOMERS_MAX).unwrap_or(i64::MAX);
    Ok(on_engine!(pool, pool => sqlx::query_as(&sql)
        .bind(key)
        .bind(&line.bank_account_id)
        .bind(&line.line_id)
        .bind(limit)
        .fetch_all(pool).await)?)
}

/// The customers whose name or legal name, normalised, is `key`.
async fn named_like(pool: &ReadPool, key: &str) -> Result<Vec<String>, ProjectionError> {
    let sql = "SELECT customer_id FROM customer_name_keys WHERE name_key = $1
               UNION
               SELECT customer_id FROM customer_name_keys WHERE legal_name_key = $1
               ORDER BY customer_id LIMIT $2";
    let limit = i64::try_from(CANDIDATE_CUSTOMERS_MAX).unwrap_or(i64::MAX);
    let rows: Vec<(String,)> = on_engine!(pool, pool => sqlx::query_as(sql)
        .bind(key)
        .bind(limit)
        .fetch_all(pool).await)?;
    Ok(rows.into_iter().map(|(customer,)| customer).collect())
}

/// The customers with an open row (an invoice, or a row of one due in several) owing exactly
/// `amount` in today's summaries.
async fn owing(
    pool: &ReadPool,
    currency: Currency,
    amount: Money,
) -> Result<Vec<String>, ProjectionError> {
    let minor = i64::try_from(amount.minor_units())
        .map_err(|_| ProjectionError::Stored(format!("{amount} does not fit minor units")))?;
    let sql = "SELECT DISTINCT customer_id FROM summary_rows
               WHERE currency = $1 AND open_minor = $2
               ORDER BY customer_id LIMIT $3";
    let rows: Vec<(String,)> = on_engine!(pool, pool => sqlx::query_as(sql)
        .bind(currency.code())
        .bind(minor)
        .bind(SAME_AMOUNT_MAX)
        .fetch_all(pool).await)?;
    Ok(rows.into_iter().map(|(customer,)| customer).collect())
}

type OpenRow = (String, String, i64, NaiveDate, Option<i32>);

/// An invoice's rows summed: what it owes, its next due date, what its next row owes (when
/// due in several) and where it came in the rows' order.
type Owing = (i64, NaiveDate, Option<i64>, usize);

/// The customer's invoices open in `currency` on `date`, each with its next row when due in
/// several: those `named` and the oldest due others, at most
/// [`DOCUMENTS_PER_CUSTOMER_MAX`] of them.
async fn open_documents(
    pool: &ReadPool,
    customer: &str,
    currency: Currency,
    date: NaiveDate,
    named: &BTreeSet<(String, String)>,
) -> Result<Vec<OpenDocument>, ProjectionError> {
    let sql = format!(
        "WITH {}{} SELECT subsidiary_id, invoice_number, CAST(open_minor AS BIGINT), due_date,
                CAST(row_index AS INTEGER)
         FROM open_rows WHERE open_minor > 0
         ORDER BY due_date, subsidiary_id, invoice_number, row_index",
        open_items(true),
        open_rows()
    );
    let rows: Vec<OpenRow> = on_engine!(pool, pool => sqlx::query_as(&sql)
        .bind(date)
        .bind(Option::<&str>::None)
        .bind(customer)
        .bind(currency.code())
        .fetch_all(pool).await)?;
    // Rows come in due order: an invoice's first row is its next one.
    let mut invoices: BTreeMap<(String, String), Owing> = BTreeMap::new();
    for (order, (subsidiary, number, open, due, row)) in rows.into_iter().enumerate() {
        let entry =
            invoices
                .entry((subsidiary, number))
                .or_insert((0, due, row.map(|_| open), order));
        entry.0 += open;
    }
    let mut listed: Vec<_> = invoices.into_iter().collect();
    listed.sort_by_key(|(key, (_, due, _, order))| (!named.contains(key), *due, *order));
    listed.truncate(DOCUMENTS_PER_CUSTOMER_MAX.max(named.len()));
    let customer = stored::customer(customer)?;
    listed
        .into_iter()
        .map(|((subsidiary, number), (open, due, next_row, _))| {
            Ok(OpenDocument {
                customer: customer.clone(),
                subsidiary: stored::subsidiary(&subsidiary)?,
                kind: DocumentKind::Invoice,
                number,
                open: from_minor(open, currency),
                due_date: due,
                next_row: next_row.map(|row| from_minor(row, currency)),
            })
        })
        .collect()
}

/// The registered names of `customers`.
async fn names(
    pool: &ReadPool,
    customers: &[String],
) -> Result<Vec<CustomerName>, ProjectionError> {
    let ids: Vec<CustomerId> = customers
        .iter()
        .map(|c| stored::customer(c))
        .collect::<Result<_, _>>()?;
    let mut names = Vec::new();
    for id in &ids {
        let sql = "SELECT name, legal_name FROM customers WHERE customer_id = $1";
        let row: Option<(String, String)> = on_engine!(pool, pool => sqlx::query_as(sql)
            .bind(id.as_str())
            .fetch_optional(pool).await)?;
        if let Some((name, legal_name)) = row {
            let mut all = vec![name];
            if !legal_name.is_empty() && !all.contains(&legal_name) {
                all.push(legal_name);
            }
            names.push(CustomerName {
                customer: id.clone(),
                names: all,
            });
        }
    }
    Ok(names)
}
