//! Credit exposure per customer as of a business date, and the report of customers sorted by
//! utilisation or exposure (with the breaches on request).
//!
//! For a customer and a currency, as of `as_of` (a business date: invoices issued and payments
//! received after it do not count):
//!
//! ```text
//! open        = sum over invoices issued <= as_of of their open amount as of as_of
//!               (open_amounts.rs: allocations, credit notes, write-offs, reversals, applications)
//! unapplied   = unapplied cash and unapplied credit as of as_of (open_amounts.rs: the unapplied
//!               part of payments, credit notes on account, less applications, refunds and
//!               reversed payments' unapplied parts)
//! reserved    = credit reserved for sales orders as of as_of (open_amounts.rs: made on or
//!               before it, not expired before it, less what invoices consumed and releases
//!               took off by then)
//! exposure    = open - unapplied + reserved       (negative when money on account exceeds the
//!               invoices and reservations)
//! overdue     = open amount of the rows invoices are due in with due_date < as_of
//!               (`open_amounts::open_rows`: an invoice's schedule or its instalment plan)
//! oldest days past due = as_of - due_date of the oldest overdue row still open (> 0)
//! available   = limit - exposure                  (negative when over the limit)
//! utilisation = exposure / limit, rounded half away from zero to 4 decimal places;
//!               none when there is no limit or the limit is zero
//! over_limit  = exposure > limit                  (false without a limit)
//! last payment date = the customer's latest received_date <= as_of, in any currency, of the
//!               payments not reversed on or before as_of (a bounced payment paid nothing)
//! ```
//!
//! A customer with a limit has one line, in the limit's currency: the limit is group-wide and
//! covers every currency, so, as in the write side's credit check, each other currency's open,
//! overdue, reserved and exposure amounts count converted at the as-of date's rates
//! (`rates.rs`), each rounded to the limit's minor units, unapplied being `open + reserved -
//! exposure`; the line lists each conversion, and the currencies without a rate then (left out,
//! so that the line understates). A customer without a limit has one line per currency it has
//! invoices, payments or reservations in as of the date. A customer with a limit and no items
//! has a line with zero exposure. Every line also states its exposure in the group's currency
//! at the as-of date's rate, side by side with its own.
//!
//! The limit, policy and grade are the credit terms in force on `as_of`: of the customer's
//! changes of terms with an effective date on or before it, the one with the latest effective
//! date, and among changes of that date the later recorded. Before its first change in force a
//! customer has no limit on the date. (The write side's credit check uses the latest terms
//! recorded, whatever their effective date.)
//!
//! The database sums open amounts, overdue amounts and unapplied cash per customer and currency;
//! the lines, ratios, filters, order and pages are made in Rust. Amounts stay integer minor
//! units until they become [`Money`].
//!
//! Pages follow a stable order (the sort key descending, then customer id, then currency) and
//! continue after the last line of the previous page (keyset paging): a line is never listed
//! twice across pages (`paging.rs`).

use std::collections::BTreeMap;

use chrono::NaiveDate;
use receivables_domain::credit::{CreditGrade, CreditPolicy};
use receivables_domain::exchange::{Converted, ExchangeRates, Rate, convert_at};
use receivables_domain::{Currency, CustomerId, Money};
use rust_decimal::{Decimal, RoundingStrategy};

use crate::customers;
use crate::database::{ReadPool, on_engine};
use crate::error::ProjectionError;
use crate::minor_units::from_minor;
use crate::open_amounts::{
    UNAPPLIED_MOVES, any_rows, customer_is, open_items, open_rows, reserved,
};
use crate::paging::{Cursor, PAGE_SIZE_DEFAULT, PageRequestError, Paged, check_page_size, page};
use crate::rates::rates_on;
use crate::stored;
use crate::summaries;

/// Decimal places of a utilisation ratio (0.8125 = 81.25 %).
pub const UTILISATION_DECIMALS: u32 = 4;

/// What the report is sorted by (descending), before customer id and currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExposureSort {
    /// Utilisation, highest first; lines without a utilisation last.
    Utilisation,
    /// Exposure, highest first. Amounts in different currencies are compared as numbers,
    /// without conversion: filter by currency for a meaningful order across customers.
    Exposure,
}

impl ExposureSort {
    fn token_kind(self) -> &'static str {
        match self {
            ExposureSort::Utilisation => "exposure-by-utilisation",
            ExposureSort::Exposure => "exposure-by-exposure",
        }
    }
}

/// A validated request for a page of the exposure report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExposureQuery {
    as_of: NaiveDate,
    sort: ExposureSort,
    /// Only lines over their limit (`exposure > limit`).
    pub only_over_limit: bool,
    /// Only lines with a utilisation of at least this (lines without one are left out).
    pub min_utilisation: Option<Decimal>,
    /// Only lines in this currency.
    pub currency: Option<Currency>,
    page_size: u32,
    after: Option<Cursor>,
}

impl ExposureQuery {
    /// The first page of [`PAGE_SIZE_DEFAULT`] lines, unfiltered.
    pub fn new(as_of: NaiveDate, sort: ExposureSort) -> Self {
        ExposureQuery {
            as_of,
            sort,
            only_over_limit: false,
            min_utilisation: None,
            currency: None,
            page_size: PAGE_SIZE_DEFAULT,
            after: None,
        }
    }
}

impl Paged for ExposureQuery {
    fn with_page_size(mut self, page_size: u32) -> Result<Self, PageRequestError> {
        self.page_size = check_page_size(page_size)?;
        Ok(self)
    }

    /// Continues after the page that returned `token`, which must come from a query with the
    /// same as-of date and sort order.
    fn with_page_token(mut self, token: &str) -> Result<Self, PageRequestError> {
        self.after = Some(Cursor::from_token(
            token,
            self.sort.token_kind(),
            self.as_of,
        )?);
        Ok(self)
    }
}

impl ExposureQuery {
    pub fn as_of(&self) -> NaiveDate {
        self.as_of
    }

    pub fn sort(&self) -> ExposureSort {
        self.sort
    }

    pub fn page_size(&self) -> u32 {
        self.page_size
    }
}

/// A customer's exposure in one currency as of a date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExposureLine {
    pub customer: CustomerId,
    pub currency: Currency,
    /// The group-wide limit; none when the customer has no limit.
    pub limit: Option<Money>,
    pub policy: Option<CreditPolicy>,
    pub grade: Option<CreditGrade>,
    /// Open amount of the invoices.
    pub open: Money,
    /// Unapplied cash on the account.
    pub unapplied: Money,
    /// Credit reserved for sales orders not yet invoiced (`open_amounts::reserved`).
    pub reserved: Money,
    /// `open - unapplied + reserved`.
    pub exposure: Money,
    /// Open amount of the invoices due before the as-of date.
    pub overdue: Money,
    /// `limit - exposure`; none without a limit.
    pub available: Option<Money>,
    /// `exposure / limit` to [`UTILISATION_DECIMALS`] places; none without a limit or with a
    /// zero limit.
    pub utilisation: Option<Decimal>,
    pub over_limit: bool,
    /// Days past due of the oldest overdue invoice still open; none when nothing is overdue.
    pub oldest_days_past_due: Option<u32>,
    /// The latest payment received on or before the as-of date, in any currency.
    pub last_payment_date: Option<NaiveDate>,
    /// The customer's name, once registered.
    pub customer_name: Option<String>,
    /// On a limit's line, each other currency's exposure counted in it: the exposure in that
    /// currency, the cross rate of the as-of date and the converted amount.
    pub conversions: Vec<LineConversion>,
    /// On a limit's line, the currencies with exposure that have no rate on the as-of date:
    /// left out of the figures, which then understate the exposure.
    pub missing_rates: Vec<Currency>,
    /// The exposure in the group's currency at the as-of date's rate, beside the line's own;
    /// none before any rate was published or when the line's currency has no rate then.
    pub in_group_currency: Option<Converted>,
}

/// One other currency's exposure counted on a limit's line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineConversion {
    pub exposure: Money,
    pub rate: Rate,
    pub converted: Money,
}

/// A page of the exposure report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExposurePage {
    pub lines: Vec<ExposureLine>,
    /// Present when more lines follow: pass it to [`Paged::with_page_token`].
    pub next_page_token: Option<String>,
}

/// `exposure / limit` rounded half away from zero to [`UTILISATION_DECIMALS`] places; none for a
/// zero limit.
pub fn utilisation(exposure_minor: i64, limit_minor: i64) -> Option<Decimal> {
    if limit_minor == 0 {
        return None;
    }
    let ratio = Decimal::from(exposure_minor).checked_div(Decimal::from(limit_minor))?;
    let mut rounded =
        ratio.round_dp_with_strategy(UTILISATION_DECIMALS, RoundingStrategy::MidpointAwayFromZero);
    rounded.rescale(UTILISATION_DECIMALS);
    Some(rounded)
}

/// Whole days from `due_date` to `as_of` (at least 0).
pub fn days_past_due(as_of: NaiveDate, due_date: NaiveDate) -> u32 {
    u32::try_from((as_of - due_date).num_days().max(0)).unwrap_or(u32::MAX)
}

/// One customer's exposure as of `as_of`: one line in the limit's currency, or without a limit
/// one line per currency it has items in. Empty for a customer the read model does not know.
pub async fn exposure(
    pool: &ReadPool,
    customer: &CustomerId,
    as_of: NaiveDate,
) -> Result<Vec<ExposureLine>, ProjectionError> {
    let mut lines = lines(pool, Some(customer), as_of).await?;
    name(pool, &mut lines).await?;
    Ok(lines)
}

/// Names the customers of `lines` that are registered.
async fn name(pool: &ReadPool, lines: &mut [ExposureLine]) -> Result<(), ProjectionError> {
    let customers: Vec<&CustomerId> = lines.iter().map(|line| &line.customer).collect();
    let names = customers::names(pool, &customers).await?;
    for line in lines {
        line.customer_name = names.get(line.customer.as_str()).cloned();
    }
    Ok(())
}

/// A page of every customer's exposure lines, filtered and sorted as `query` asks.
pub async fn list_exposures(
    pool: &ReadPool,
    query: &ExposureQuery,
) -> Result<ExposurePage, ProjectionError> {
    let selected: Vec<ExposureLine> = lines(pool, None, query.as_of)
        .await?
        .into_iter()
        .filter(|line| !query.only_over_limit || line.over_limit)
        .filter(|line| {
            query
                .min_utilisation
                .is_none_or(|min| line.utilisation.is_some_and(|u| u >= min))
        })
        .filter(|line| query.currency.is_none_or(|c| line.currency == c))
        .collect();
    let sort = query.sort;
    let key = |line: &ExposureLine| Cursor {
        value: match sort {
            ExposureSort::Utilisation => line.utilisation,
            ExposureSort::Exposure => Some(line.exposure.amount()),
        },
        customer: line.customer.clone(),
        currency: line.currency,
    };
    let (mut lines, next) = page(selected, key, query.after.as_ref(), query.page_size);
    name(pool, &mut lines).await?;
    Ok(ExposurePage {
        lines,
        next_page_token: next.map(|cursor| cursor.token(sort.token_kind(), query.as_of)),
    })
}

/// The invoice figures of a customer in a currency as of a date, in minor units.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct InvoiceBalance {
    pub open_minor: i64,
    pub overdue_minor: i64,
    /// Due date of the oldest invoice due before the as-of date that is still open.
    pub oldest_overdue_due: Option<NaiveDate>,
    /// What collectors chase: the overdue amount less its part under a dispute holding on the
    /// date (`open_amounts.rs`).
    pub collectible_overdue_minor: i64,
    /// Due date of the oldest overdue invoice with something open that no dispute holds back.
    pub oldest_collectible_due: Option<NaiveDate>,
}

/// Open and overdue amounts per customer and currency as of `as_of` (of one customer or all),
/// keyed by (customer id, currency code). Checks that no invoice is open below zero.
pub(crate) async fn invoice_balances(
    pool: &ReadPool,
    customer: Option<&CustomerId>,
    as_of: NaiveDate,
) -> Result<BTreeMap<(String, String), InvoiceBalance>, ProjectionError> {
    Ok(balances(pool, customer, as_of, false)
        .await?
        .into_iter()
        .map(|(key, (balance, _))| (key, balance))
        .collect())
}

/// What collectors chase per subsidiary: the collectible overdue amount, in minor units, owed
/// to each subsidiary with something collectible.
pub(crate) type CollectibleBySubsidiary = BTreeMap<String, i64>;

/// The collectible overdue amount of each customer and currency, with its oldest due date, split
/// by the subsidiary it is owed to (the work queue's default collectors follow it). Only the
/// collectible figures are to be read: from today's summaries, the others are zero.
pub(crate) async fn invoice_balances_by_subsidiary(
    pool: &ReadPool,
    as_of: NaiveDate,
) -> Result<BTreeMap<(String, String), (InvoiceBalance, CollectibleBySubsidiary)>, ProjectionError>
{
    balances(pool, None, as_of, true).await
}

/// One row of the balances: customer, currency, subsidiary (`''` when not split), open,
/// overdue, oldest overdue due date, lowest open amount, collectible overdue, oldest
/// collectible due date.
type BalanceRow = (
    String,
    String,
    String,
    i64,
    i64,
    Option<NaiveDate>,
    i64,
    i64,
    Option<NaiveDate>,
);

/// Of a summary row, what the work queue reads: customer, currency, subsidiary, collectible
/// overdue, oldest collectible due date.
type CollectibleRow = (String, String, String, i64, Option<NaiveDate>);

/// The balances from today's summaries (`summaries`), when they answer for `as_of`: a row per
/// subsidiary, which the caller folds as it would the exact ones. Split by subsidiary (for the
/// work queue, which chases what is collectible), only the collectible figures are read (the
/// others are left at zero), and the rows with nothing collectible are left out: they add
/// nothing to what it reads, and each row costs (the embedded engine hands rows over one by
/// one).
async fn summarised_balances(
    pool: &ReadPool,
    customer: Option<&CustomerId>,
    as_of: NaiveDate,
    by_subsidiary: bool,
) -> Result<Option<Vec<BalanceRow>>, ProjectionError> {
    let Some(state) = summaries::current(pool, as_of).await? else {
        return Ok(None);
    };
    let customer_is = customer_is(1, customer.is_some());
    let rows: Vec<BalanceRow> = if by_subsidiary {
        // The work queue reads the collectible figures alone, and only the columns it reads
        // are asked for: the embedded engine copies every column of every row on its way
        // over, and this query returns a row per overdue customer.
        let sql = format!(
            "SELECT customer_id, currency, subsidiary_id, collectible_overdue_minor,
                    oldest_collectible_due
             FROM summary_balances
             WHERE {customer_is} AND collectible_overdue_minor > 0"
        );
        let rows: Vec<CollectibleRow> = on_engine!(pool, pool => sqlx::query_as(&sql)
            .bind(customer.map(CustomerId::as_str))
            .fetch_all(pool).await)?;
        rows.into_iter()
            .map(|(customer, currency, subsidiary, collectible, oldest)| {
                (
                    customer,
                    currency,
                    subsidiary,
                    0,
                    0,
                    None,
                    0,
                    collectible,
                    oldest,
                )
            })
            .collect()
    } else {
        // Written positive by the summaries (their rows' open amounts are checked there), so
        // the lowest open amount is not asked of them.
        let sql = format!(
            "SELECT customer_id, currency, subsidiary_id, open_minor, overdue_minor,
                    oldest_overdue_due, CAST(0 AS BIGINT), collectible_overdue_minor,
                    oldest_collectible_due
             FROM summary_balances
             WHERE {customer_is}"
        );
        on_engine!(pool, pool => sqlx::query_as(&sql)
            .bind(customer.map(CustomerId::as_str))
            .fetch_all(pool).await)?
    };
    Ok(summaries::unchanged(pool, state).await?.then_some(rows))
}

async fn balances(
    pool: &ReadPool,
    customer: Option<&CustomerId>,
    as_of: NaiveDate,
    by_subsidiary: bool,
) -> Result<BTreeMap<(String, String), (InvoiceBalance, CollectibleBySubsidiary)>, ProjectionError>
{
    let rows = match summarised_balances(pool, customer, as_of, by_subsidiary).await? {
        Some(rows) => rows,
        None => exact_balances(pool, customer, as_of, by_subsidiary).await?,
    };
    let mut balances: BTreeMap<(String, String), (InvoiceBalance, CollectibleBySubsidiary)> =
        BTreeMap::new();
    for (
        customer,
        currency,
        subsidiary,
        open,
        overdue,
        oldest,
        lowest,
        collectible,
        oldest_collectible,
    ) in rows
    {
        // Written by the aggregate (allocations never exceed an invoice's open amount),
        // checked again where it is read.
        if lowest < 0 {
            return Err(ProjectionError::Stored(format!(
                "an invoice of {customer} in {currency} is open below zero as of {as_of}"
            )));
        }
        let (balance, split) = balances.entry((customer, currency)).or_default();
        balance.open_minor += open;
        balance.overdue_minor += overdue;
        balance.oldest_overdue_due = earliest(balance.oldest_overdue_due, oldest);
        balance.collectible_overdue_minor += collectible;
        balance.oldest_collectible_due =
            earliest(balance.oldest_collectible_due, oldest_collectible);
        if by_subsidiary && collectible > 0 {
            split.insert(subsidiary, collectible);
        }
    }
    Ok(balances)
}

/// The balances worked out from the movements (the exact computation, for any date).
async fn exact_balances(
    pool: &ReadPool,
    customer: Option<&CustomerId>,
    as_of: NaiveDate,
    by_subsidiary: bool,
) -> Result<Vec<BalanceRow>, ProjectionError> {
    // Grouped by subsidiary too when asked, and folded per customer and currency below: one
    // pass over the open items either way.
    let (subsidiary, group) = if by_subsidiary {
        ("subsidiary_id", ", subsidiary_id")
    } else {
        ("''", "")
    };
    // By the rows invoices are due in: a row not yet due is not overdue, whatever is left of
    // its invoice (a schedule, an instalment plan).
    let (rows, source) = if any_rows(pool).await? {
        (open_rows(), "open_rows")
    } else {
        (String::new(), "open_items")
    };
    let sql = format!(
        "WITH {open_items}{rows}
         SELECT customer_id, currency, {subsidiary},
                CAST(SUM(open_minor) AS BIGINT),
                CAST(COALESCE(SUM(open_minor) FILTER (WHERE due_date < $1), 0) AS BIGINT),
                MIN(due_date) FILTER (WHERE due_date < $1 AND open_minor > 0),
                CAST(MIN(open_minor) AS BIGINT),
                CAST(COALESCE(SUM(open_minor - disputed_minor) FILTER (WHERE due_date < $1), 0)
                     AS BIGINT),
                MIN(due_date) FILTER (WHERE due_date < $1 AND open_minor > disputed_minor)
         FROM {source}
         GROUP BY customer_id, currency{group}",
        open_items = open_items(customer.is_some()),
    );
    Ok(on_engine!(pool, pool => sqlx::query_as(&sql)
            .bind(as_of)
            .bind(None::<&str>)
            .bind(customer.map(CustomerId::as_str))
            .bind(None::<&str>)
            .fetch_all(pool).await)?)
}

/// The earlier of two dates, either of which may be missing.
fn earliest(a: Option<NaiveDate>, b: Option<NaiveDate>) -> Option<NaiveDate> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// The current credit terms of a customer, as stored.
#[derive(Debug, Clone)]
struct Terms {
    currency: String,
    limit_minor: i64,
    policy: CreditPolicy,
    grade: CreditGrade,
}

/// What is known of one customer as of the date.
#[derive(Debug, Default)]
struct Account {
    terms: Option<Terms>,
    invoices: BTreeMap<String, InvoiceBalance>,
    unapplied: BTreeMap<String, i64>,
    reserved: BTreeMap<String, i64>,
    last_payment_date: Option<NaiveDate>,
}

impl Account {
    /// Every currency the customer has invoices, payments or reservations in.
    fn currencies(&self) -> Vec<&String> {
        let mut codes: Vec<&String> = self
            .invoices
            .keys()
            .chain(self.unapplied.keys())
            .chain(self.reserved.keys())
            .collect();
        codes.sort();
        codes.dedup();
        codes
    }
}

/// The exposure lines as of `as_of` of one customer or of every one, without names (the
/// reports name the lines they show; the alerts need none).
pub(crate) async fn lines(
    pool: &ReadPool,
    customer: Option<&CustomerId>,
    as_of: NaiveDate,
) -> Result<Vec<ExposureLine>, ProjectionError> {
    let mut accounts: BTreeMap<String, Account> = BTreeMap::new();
    for ((customer, currency), balance) in invoice_balances(pool, customer, as_of).await? {
        accounts
            .entry(customer)
            .or_default()
            .invoices
            .insert(currency, balance);
    }
    let customer_filter = customer_is(2, customer.is_some());
    let payments_sql = format!(
        "SELECT customer_id, currency, MAX(received_date)
         FROM payments p
         WHERE received_date <= $1 AND {customer_filter}
           AND NOT EXISTS (SELECT 1 FROM payment_reversals r
                           WHERE r.payment_command_id = p.command_id AND r.reversal_date <= $1)
         GROUP BY customer_id, currency"
    );
    let payments: Vec<(String, String, NaiveDate)> = on_engine!(pool, pool => sqlx::query_as(&payments_sql)
    .bind(as_of)
    .bind(customer.map(CustomerId::as_str))
    .fetch_all(pool).await)?;
    for (customer, currency, last) in payments {
        let account = accounts.entry(customer).or_default();
        account.unapplied.entry(currency).or_insert(0);
        account.last_payment_date = account.last_payment_date.max(Some(last));
    }
    let unapplied_sql = format!(
        "WITH {UNAPPLIED_MOVES}
         SELECT customer_id, currency, CAST(SUM(amount_minor) AS BIGINT)
         FROM unapplied_moves
         WHERE moved_on <= $1 AND {customer_filter}
         GROUP BY customer_id, currency"
    );
    let unapplied: Vec<(String, String, i64)> = on_engine!(pool, pool => sqlx::query_as(&unapplied_sql)
    .bind(as_of)
    .bind(customer.map(CustomerId::as_str))
    .fetch_all(pool).await)?;
    for (customer, currency, minor) in unapplied {
        accounts
            .entry(customer)
            .or_default()
            .unapplied
            .insert(currency, minor);
    }
    for ((customer, currency), minor) in
        reserved(pool, customer.map(CustomerId::as_str), None, as_of).await?
    {
        accounts
            .entry(customer)
            .or_default()
            .reserved
            .insert(currency, minor);
    }
    // The terms in force on the date: the change with the latest effective date on or before
    // it, the later recorded among changes of the same date.
    let terms: Vec<(String, String, i64, String, String)> = on_engine!(pool, pool => sqlx::query_as(
        "SELECT h.customer_id, h.currency, h.limit_minor, h.policy, h.grade
         FROM credit_terms_history h
         WHERE h.effective_date <= $2 AND ($1 IS NULL OR h.customer_id = $1)
           AND NOT EXISTS (
               SELECT 1 FROM credit_terms_history later
               WHERE later.customer_id = h.customer_id AND later.effective_date <= $2
                 AND (later.effective_date > h.effective_date
                      OR (later.effective_date = h.effective_date
                          AND later.position > h.position)))",
    )
    .bind(customer.map(CustomerId::as_str))
    .bind(as_of)
    .fetch_all(pool).await)?;
    for (customer, currency, limit_minor, policy, grade) in terms {
        accounts.entry(customer).or_default().terms = Some(Terms {
            currency,
            limit_minor,
            policy: stored::name("credit policy", &policy)?,
            grade: stored::name("credit grade", &grade)?,
        });
    }

    let rates = rates_on(pool, as_of).await?;
    let mut lines = Vec::new();
    for (customer_id, account) in &accounts {
        let customer = stored::customer(customer_id)?;
        let currencies: Vec<&String> = match &account.terms {
            Some(terms) => vec![&terms.currency],
            None => account.currencies(),
        };
        for code in currencies {
            lines.push(line(&customer, code, account, as_of, &rates)?);
        }
    }
    Ok(lines)
}

/// A limit's line counts every other currency converted into the limit's at the as-of date's
/// rates, as the credit check does (`receivables_domain::exchange`): each currency's open,
/// overdue, reserved and exposure amounts converted and rounded on their own, the unapplied
/// amount the difference (so that `exposure = open - unapplied + reserved` holds on the line).
struct Measured {
    open: Decimal,
    overdue: Decimal,
    reserved: Decimal,
    exposure: Decimal,
    oldest_overdue_due: Option<NaiveDate>,
    conversions: Vec<LineConversion>,
    missing_rates: Vec<Currency>,
}

fn measure(
    account: &Account,
    currency: Currency,
    limited: bool,
    as_of: NaiveDate,
    rates: &ExchangeRates,
) -> Result<Measured, ProjectionError> {
    let code = currency.code();
    let balance = account.invoices.get(code).cloned().unwrap_or_default();
    let unapplied_minor = account.unapplied.get(code).copied().unwrap_or(0);
    let reserved_minor = account.reserved.get(code).copied().unwrap_or(0);
    let own = |minor| from_minor(minor, currency).amount();
    let mut measured = Measured {
        open: own(balance.open_minor),
        overdue: own(balance.overdue_minor),
        reserved: own(reserved_minor),
        exposure: own(balance.open_minor) - own(unapplied_minor) + own(reserved_minor),
        oldest_overdue_due: balance.oldest_overdue_due,
        conversions: Vec::new(),
        missing_rates: Vec::new(),
    };
    if !limited {
        return Ok(measured);
    }
    let others = account
        .currencies()
        .into_iter()
        .filter(|other| other.as_str() != code);
    for other in others {
        let other_currency = stored::currency(other)?;
        let balance = account.invoices.get(other).cloned().unwrap_or_default();
        let unapplied_minor = account.unapplied.get(other).copied().unwrap_or(0);
        let reserved_minor = account.reserved.get(other).copied().unwrap_or(0);
        let amount = |minor| from_minor(minor, other_currency).amount();
        let exposure =
            amount(balance.open_minor) - amount(unapplied_minor) + amount(reserved_minor);
        if exposure.is_zero() && balance.open_minor == 0 && reserved_minor == 0 {
            continue;
        }
        let rate = match rates.cross_rate(other_currency, currency, as_of) {
            Ok(rate) => rate,
            Err(_) => {
                measured.missing_rates.push(other_currency);
                continue;
            }
        };
        let converted = convert_at(exposure, rate, currency);
        measured.open += convert_at(amount(balance.open_minor), rate, currency).amount();
        measured.overdue += convert_at(amount(balance.overdue_minor), rate, currency).amount();
        measured.reserved += convert_at(amount(reserved_minor), rate, currency).amount();
        measured.exposure += converted.amount();
        measured.oldest_overdue_due =
            earliest(measured.oldest_overdue_due, balance.oldest_overdue_due);
        measured.conversions.push(LineConversion {
            exposure: Money::of(exposure, other_currency),
            rate,
            converted,
        });
    }
    Ok(measured)
}

fn line(
    customer: &CustomerId,
    code: &str,
    account: &Account,
    as_of: NaiveDate,
    rates: &ExchangeRates,
) -> Result<ExposureLine, ProjectionError> {
    let currency = stored::currency(code)?;
    let terms = account.terms.as_ref().filter(|t| t.currency == code);
    let measured = measure(account, currency, terms.is_some(), as_of, rates)?;
    let money = |amount| Money::of(amount, currency);
    let limit = terms.map(|t| from_minor(t.limit_minor, currency));
    let exposure = money(measured.exposure);
    let exposure_minor = to_minor_units(exposure, customer)?;
    Ok(ExposureLine {
        customer_name: None,
        customer: customer.clone(),
        currency,
        limit,
        policy: terms.map(|t| t.policy),
        grade: terms.map(|t| t.grade),
        open: money(measured.open),
        unapplied: money(measured.open + measured.reserved - measured.exposure),
        reserved: money(measured.reserved),
        exposure,
        overdue: money(measured.overdue),
        available: limit.map(|l| money(l.amount() - measured.exposure)),
        utilisation: terms.and_then(|t| utilisation(exposure_minor, t.limit_minor)),
        over_limit: limit.is_some_and(|l| measured.exposure > l.amount()),
        oldest_days_past_due: measured
            .oldest_overdue_due
            .map(|due| days_past_due(as_of, due)),
        last_payment_date: account.last_payment_date,
        conversions: measured.conversions,
        missing_rates: measured.missing_rates,
        in_group_currency: rates
            .base()
            .and_then(|base| rates.convert(exposure, base, as_of).ok()),
    })
}

/// An amount of the line in minor units, for the ratio.
fn to_minor_units(money: Money, customer: &CustomerId) -> Result<i64, ProjectionError> {
    i64::try_from(money.minor_units())
        .map_err(|_| ProjectionError::Stored(format!("exposure of {customer} overflows")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use receivables_domain::testing::date;

    #[test]
    fn utilisation_is_rounded_half_away_from_zero_to_four_places() {
        assert_eq!(
            utilisation(800_000, 1_000_000).unwrap().to_string(),
            "0.8000"
        );
        assert_eq!(utilisation(2, 3).unwrap().to_string(), "0.6667");
        assert_eq!(utilisation(1, 3).unwrap().to_string(), "0.3333");
        // 0.00005 exactly: away from zero, not to the even neighbour.
        assert_eq!(utilisation(1, 20_000).unwrap().to_string(), "0.0001");
        assert_eq!(utilisation(-1, 20_000).unwrap().to_string(), "-0.0001");
        assert_eq!(utilisation(530_000, 500_000).unwrap().to_string(), "1.0600");
        assert_eq!(utilisation(0, 500_000).unwrap().to_string(), "0.0000");
        assert_eq!(utilisation(100, 0), None);
    }

    #[test]
    fn days_past_due_counts_whole_days_and_never_goes_negative() {
        assert_eq!(days_past_due(date("2026-06-30"), date("2026-05-31")), 30);
        assert_eq!(days_past_due(date("2026-03-01"), date("2026-02-28")), 1);
        assert_eq!(days_past_due(date("2026-06-30"), date("2026-07-01")), 0);
    }
}
