//! The collections forecast (预测收款趋势): the cash expected in each of the next weeks, per
//! subsidiary and currency, from every open invoice (or row of a schedule or plan) and each
//! customer's own way of paying; and its backtest against what was actually collected.
//!
//! As of a date, for each row open then (`open_amounts::open_rows`):
//!
//! ```text
//! expected amount = open amount - the part a dispute holds back (a disputed amount is not
//!                   expected until its dispute ends: left out, and reported as left out)
//! expected date   = the promised date, for the part an open promise covers (the customer's
//!                   promises open on the date, earliest promised first, cover its rows in due
//!                   order); else due date + the customer's delay, at the earliest the as-of
//!                   date (a row already later than the customer usually pays is expected in
//!                   the first week: collectors chase it)
//! delay           = the amount-weighted average of (payment date - due date) over the
//!                   history, rounded to whole days half away from zero
//! history         = the customer's payments applied to invoices in the HISTORY_DAYS before the
//!                   date, when they paid at least OWN_HISTORY_INVOICES_MIN invoices; else the
//!                   payments of the customers of its credit grade on the date; else every
//!                   customer's; else none (delay 0)
//! ```
//!
//! Left out, and reported: rows of invoices with a write-off on or before the date (what is
//! left of a bad debt is not counted on), and rows more than LEGAL_DAYS_PAST_DUE days past due
//! (the work queue hands them to legal or an agency: their cash, if any, comes by another
//! road). Week `k` (from 1) runs from `as_of + 7(k-1)` through `as_of + 7k - 1`; what is expected
//! after the last week is `later`. The weights of the delay are amounts in their own currencies
//! compared as numbers, as the work queue's score does.
//!
//! The backtest forecasts as of a past date with what the read model holds dated on or before
//! it (business dates: a correction recorded later but dated earlier counts as known), and
//! compares each week with the cash actually applied in it to the invoices issued by then;
//! beside it the naive forecast "every row is paid on its due date" (what is late, in the first
//! week), with no row left out. The error of a week is |forecast - actual| / actual × 100
//! (undefined for a week with nothing collected); the mean absolute percentage error is the
//! mean over the weeks where it is defined; the total error compares the sums.

use std::collections::{BTreeMap, HashMap};

use chrono::{Days, NaiveDate};
use receivables_domain::credit::CreditGrade;
use receivables_domain::{Currency, CustomerId, Money, SubsidiaryId};
use rust_decimal::{Decimal, RoundingStrategy};

use crate::database::{ReadPool, on_engine};
use crate::error::ProjectionError;
use crate::minor_units::from_minor;
use crate::open_amounts::{open_items, open_rows};
use crate::promises::{Filter, PromiseStatus, evaluate};
use crate::stored;
use crate::summaries;

/// Weeks a forecast covers unless asked otherwise: a quarter, the treasury's horizon.
pub const FORECAST_WEEKS_DEFAULT: u32 = 13;
/// Most weeks a forecast covers: half a year.
pub const FORECAST_WEEKS_MAX: u32 = 26;
/// Weeks a backtest compares unless asked otherwise.
pub const BACKTEST_WEEKS_DEFAULT: u32 = 8;
/// How far back a customer's payments tell its habit: a year, long enough to hold several
/// invoices of an occasional buyer, short enough to follow a change of habit.
pub const HISTORY_DAYS: u64 = 365;
/// Invoices a customer must have paid in the history for its own delay to be used.
pub const OWN_HISTORY_INVOICES_MIN: u64 = 3;
/// Rows further past due than this are left out (the work queue's legal or agency level).
pub const LEGAL_DAYS_PAST_DUE: i64 = 90;

/// Why a forecast request was refused before it was read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("weeks must be 1 to {FORECAST_WEEKS_MAX}, got {0}")]
pub struct WeeksError(pub u32);

/// A validated forecast request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForecastQuery {
    pub as_of: NaiveDate,
    weeks: u32,
    pub subsidiary: Option<SubsidiaryId>,
    pub customer: Option<CustomerId>,
    /// Days after a promised date during which payments still count (which promises are open).
    pub grace_days: u32,
    /// Also each customer's method and its inputs.
    pub explain: bool,
}

impl ForecastQuery {
    /// `weeks` weeks from `as_of`, of the whole group, without the customers' methods.
    pub fn new(as_of: NaiveDate, weeks: u32, grace_days: u32) -> Result<Self, WeeksError> {
        if weeks == 0 || weeks > FORECAST_WEEKS_MAX {
            return Err(WeeksError(weeks));
        }
        Ok(ForecastQuery {
            as_of,
            weeks,
            subsidiary: None,
            customer: None,
            grace_days,
            explain: false,
        })
    }

    pub fn weeks(&self) -> u32 {
        self.weeks
    }

    /// The first day of week `index` (from 0).
    fn week_start(&self, index: u32) -> NaiveDate {
        self.as_of
            .checked_add_days(Days::new(7 * u64::from(index)))
            .unwrap_or(NaiveDate::MAX)
    }

    /// The week (from 0) a date falls in; `weeks` for after the last.
    fn week_of(&self, date: NaiveDate) -> usize {
        let days = (date - self.as_of).num_days().max(0);
        usize::try_from(days / 7)
            .unwrap_or(usize::MAX)
            .min(self.weeks as usize)
    }
}

/// Where a customer's delay comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DelaySource {
    /// Its own payments.
    Own,
    /// The customers of its credit grade.
    Grade(CreditGrade),
    /// Every customer.
    Group,
    /// Nobody paid anything in the history: due dates.
    None,
}

/// The delay used for a customer, and what it was worked out from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerMethod {
    pub customer: CustomerId,
    pub delay_days: i64,
    pub source: DelaySource,
    /// The customer's own payments in the history: invoices paid and the amount applied.
    pub invoices_paid: u64,
    pub amount_paid: Decimal,
    /// Its own amount-weighted average delay, unrounded, when it paid anything.
    pub own_delay: Option<Decimal>,
    /// The customer's promises open on the date (they set the expected dates of what they
    /// cover).
    pub promises: u64,
}

/// What one subsidiary expects in one currency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForecastLine {
    pub subsidiary: SubsidiaryId,
    pub currency: Currency,
    pub weeks: Vec<Money>,
    pub later: Money,
    pub disputed_left_out: Money,
    pub written_off_left_out: Money,
    pub legal_left_out: Money,
}

/// A forecast.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Forecast {
    pub as_of: NaiveDate,
    pub week_starts: Vec<NaiveDate>,
    pub lines: Vec<ForecastLine>,
    /// Every customer with something expected, when asked for.
    pub methods: Vec<CustomerMethod>,
}

/// A row open on the date, as the forecast reads it.
#[derive(Debug, Clone)]
struct OpenRow {
    customer: String,
    subsidiary: String,
    currency: String,
    due_date: NaiveDate,
    open_minor: i64,
    disputed_minor: i64,
    written_off: bool,
}

/// Payments applied in a history (a customer's, or a pool of customers'): each as (days after
/// the due date, amount), and the invoices they paid.
#[derive(Debug, Clone, Default)]
struct Habit {
    payments: Vec<(i64, Decimal)>,
    invoices: u64,
}

impl Habit {
    fn add(&mut self, other: &Habit) {
        self.payments.extend_from_slice(&other.payments);
        self.invoices += other.invoices;
    }

    fn amount(&self) -> Decimal {
        self.payments.iter().map(|(_, amount)| *amount).sum()
    }

    /// The amount-weighted average delay.
    fn average(&self) -> Option<Decimal> {
        let (amount, amount_days) = self
            .payments
            .iter()
            .fold((Decimal::ZERO, Decimal::ZERO), |(a, ad), (late, amount)| {
                (a + amount, ad + amount * Decimal::from(*late))
            });
        (amount > Decimal::ZERO).then(|| amount_days / amount)
    }
}

/// Where customers' delays come from (see the module's rule): their own payments, and the
/// averages of the pools, each worked out once.
struct Pools<'a> {
    habits: &'a HashMap<String, Habit>,
    grades: &'a HashMap<String, CreditGrade>,
    by_grade: BTreeMap<CreditGrade, Decimal>,
    group: Option<Decimal>,
}

impl<'a> Pools<'a> {
    fn new(habits: &'a HashMap<String, Habit>, grades: &'a HashMap<String, CreditGrade>) -> Self {
        let mut by_grade: BTreeMap<CreditGrade, Habit> = BTreeMap::new();
        let mut group = Habit::default();
        for (customer, habit) in habits {
            group.add(habit);
            if let Some(grade) = grades.get(customer) {
                by_grade.entry(*grade).or_default().add(habit);
            }
        }
        Pools {
            habits,
            grades,
            by_grade: by_grade
                .into_iter()
                .filter_map(|(grade, pool)| Some((grade, pool.average()?)))
                .collect(),
            group: group.average(),
        }
    }

    /// A customer's delay in whole days and where it comes from.
    fn delay(&self, customer: &str) -> (i64, DelaySource) {
        let own = self
            .habits
            .get(customer)
            .filter(|habit| habit.invoices >= OWN_HISTORY_INVOICES_MIN)
            .and_then(Habit::average);
        if let Some(average) = own {
            return (whole_days(average), DelaySource::Own);
        }
        if let Some(grade) = self.grades.get(customer)
            && let Some(average) = self.by_grade.get(grade)
        {
            return (whole_days(*average), DelaySource::Grade(*grade));
        }
        self.group.map_or((0, DelaySource::None), |average| {
            (whole_days(average), DelaySource::Group)
        })
    }
}

/// `days` after `date` (before it when negative).
fn after(date: NaiveDate, days: i64) -> NaiveDate {
    if days >= 0 {
        date.checked_add_days(Days::new(days.unsigned_abs()))
    } else {
        date.checked_sub_days(Days::new(days.unsigned_abs()))
    }
    .unwrap_or(date)
}

/// Whole days, half away from zero.
fn whole_days(days: Decimal) -> i64 {
    i64::try_from(
        days.round_dp_with_strategy(0, RoundingStrategy::MidpointAwayFromZero)
            .mantissa(),
    )
    .unwrap_or(0)
}

/// Each row invoices are due in with something open as of `as_of` (of a subsidiary, of a
/// customer), and whether its invoice has had something written off by then: from today's
/// summaries when they answer for `as_of`, else worked out.
async fn open_rows_on(
    pool: &ReadPool,
    as_of: NaiveDate,
    subsidiary: Option<&str>,
    customer: Option<&str>,
) -> Result<Vec<OpenRow>, ProjectionError> {
    if let Some(state) = summaries::current(pool, as_of).await? {
        let rows = open_rows_of(pool, SUMMARISED_OPEN_ROWS, as_of, subsidiary, customer).await?;
        if summaries::unchanged(pool, state).await? {
            return Ok(rows);
        }
    }
    let sql = format!(
        "WITH {}{}
         SELECT i.customer_id, i.subsidiary_id, i.currency, i.due_date,
                CAST(i.open_minor AS BIGINT), CAST(i.disputed_minor AS BIGINT),
                EXISTS (SELECT 1 FROM settlements s
                        WHERE s.subsidiary_id = i.subsidiary_id
                          AND s.invoice_number = i.invoice_number
                          AND s.kind = 'write_off' AND s.effective_date <= $1)
         FROM open_rows i
         WHERE i.open_minor > 0",
        open_items(false),
        open_rows()
    );
    open_rows_of(pool, &sql, as_of, subsidiary, customer).await
}

/// The open rows of today's summaries, as [`open_rows_on`] works them out (`$4` unused but
/// bound alike).
const SUMMARISED_OPEN_ROWS: &str =
    "SELECT i.customer_id, i.subsidiary_id, i.currency, i.due_date, i.open_minor,
            i.disputed_minor,
            EXISTS (SELECT 1 FROM settlements s
                    WHERE s.subsidiary_id = i.subsidiary_id
                      AND s.invoice_number = i.invoice_number
                      AND s.kind = 'write_off' AND s.effective_date <= $1)
     FROM summary_rows i
     WHERE ($2 IS NULL OR i.subsidiary_id = $2) AND ($3 IS NULL OR i.customer_id = $3)
       AND ($4 IS NULL OR i.currency = $4)";

async fn open_rows_of(
    pool: &ReadPool,
    sql: &str,
    as_of: NaiveDate,
    subsidiary: Option<&str>,
    customer: Option<&str>,
) -> Result<Vec<OpenRow>, ProjectionError> {
    type Row = (String, String, String, NaiveDate, i64, i64, bool);
    let rows: Vec<Row> = on_engine!(pool, pool => sqlx::query_as(sql)
        .persistent(false)
        .bind(as_of)
        .bind(subsidiary)
        .bind(customer)
        .bind(None::<&str>)
        .fetch_all(pool).await)?;
    Ok(rows
        .into_iter()
        .map(
            |(
                customer,
                subsidiary,
                currency,
                due_date,
                open_minor,
                disputed_minor,
                written_off,
            )| {
                OpenRow {
                    customer,
                    subsidiary,
                    currency,
                    due_date,
                    open_minor,
                    disputed_minor,
                    written_off,
                }
            },
        )
        .collect())
}

/// Every customer's payments applied to invoices from `from` through `to` (not reversed by
/// `to`).
async fn habits(
    pool: &ReadPool,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<HashMap<String, Habit>, ProjectionError> {
    type Row = (String, String, String, NaiveDate, NaiveDate, i64);
    let rows: Vec<Row> = on_engine!(pool, pool => sqlx::query_as(
        "SELECT i.customer_id, i.currency, i.subsidiary_id || '/' || i.invoice_number,
                a.received_date, i.due_date, CAST(SUM(a.amount_minor) AS BIGINT)
         FROM allocations a
         JOIN invoices i
           ON i.subsidiary_id = a.subsidiary_id AND i.invoice_number = a.invoice_number
         JOIN payments p ON p.position = a.position
         WHERE a.received_date BETWEEN $1 AND $2
           AND NOT EXISTS (SELECT 1 FROM payment_reversals r
                           WHERE r.payment_command_id = p.command_id
                             AND r.reversal_date <= $2)
         GROUP BY i.customer_id, i.currency, i.subsidiary_id, i.invoice_number,
                  a.received_date, i.due_date",
    )
    .persistent(false)
    .bind(from)
    .bind(to)
    .fetch_all(pool).await)?;
    let mut habits: HashMap<String, Habit> = HashMap::new();
    let mut invoices: HashMap<String, std::collections::HashSet<String>> = HashMap::new();
    for (customer, code, invoice, paid, due, minor) in rows {
        let amount = from_minor(minor, stored::currency(&code)?).amount();
        habits
            .entry(customer.clone())
            .or_default()
            .payments
            .push(((paid - due).num_days(), amount));
        invoices.entry(customer).or_default().insert(invoice);
    }
    for (customer, paid) in invoices {
        if let Some(habit) = habits.get_mut(&customer) {
            habit.invoices = paid.len() as u64;
        }
    }
    Ok(habits)
}

/// Every customer's credit grade in force on `as_of`.
async fn grades(
    pool: &ReadPool,
    as_of: NaiveDate,
) -> Result<HashMap<String, CreditGrade>, ProjectionError> {
    let rows: Vec<(String, String)> = on_engine!(pool, pool => sqlx::query_as(
        "SELECT h.customer_id, h.grade
         FROM credit_terms_history h
         WHERE h.effective_date <= $1
           AND NOT EXISTS (
               SELECT 1 FROM credit_terms_history later
               WHERE later.customer_id = h.customer_id AND later.effective_date <= $1
                 AND (later.effective_date > h.effective_date
                      OR (later.effective_date = h.effective_date
                          AND later.position > h.position)))",
    )
    .bind(as_of)
    .fetch_all(pool).await)?;
    rows.into_iter()
        .map(|(customer, grade)| Ok((customer, stored::name("credit grade", &grade)?)))
        .collect()
}

/// Amounts per (subsidiary, currency): the weeks and `later`, in minor units.
type Buckets = BTreeMap<(String, String), Vec<i64>>;

/// What the forecast expects per week, and what it left out; `naive` instead expects every
/// row on its due date and leaves nothing out.
struct Expected {
    buckets: Buckets,
    disputed: BTreeMap<(String, String), i64>,
    written_off: BTreeMap<(String, String), i64>,
    legal: BTreeMap<(String, String), i64>,
    methods: Vec<CustomerMethod>,
}

async fn expected(
    pool: &ReadPool,
    query: &ForecastQuery,
    naive: bool,
) -> Result<Expected, ProjectionError> {
    let subsidiary = query.subsidiary.as_ref().map(SubsidiaryId::as_str);
    let customer = query.customer.as_ref().map(CustomerId::as_str);
    let mut rows = open_rows_on(pool, query.as_of, subsidiary, customer).await?;
    rows.sort_by(|a, b| {
        (&a.customer, &a.currency, a.due_date, &a.subsidiary).cmp(&(
            &b.customer,
            &b.currency,
            b.due_date,
            &b.subsidiary,
        ))
    });
    let history_from = query
        .as_of
        .checked_sub_days(Days::new(HISTORY_DAYS))
        .unwrap_or(NaiveDate::MIN);
    let habits = habits(pool, history_from, query.as_of).await?;
    let grades = grades(pool, query.as_of).await?;
    let mut customers: Vec<String> = rows.iter().map(|r| r.customer.clone()).collect();
    customers.dedup();
    let pools = Pools::new(&habits, &grades);
    let delays: HashMap<&str, (i64, DelaySource)> = customers
        .iter()
        .map(|customer| (customer.as_str(), pools.delay(customer)))
        .collect();
    // Open promises, earliest promised first, per customer and currency: (date, minor left).
    let mut promises: HashMap<(String, String), Vec<(NaiveDate, i64)>> = HashMap::new();
    if !naive {
        let mut open: Vec<_> = evaluate(pool, &Filter::all(), query.as_of, query.grace_days)
            .await?
            .into_iter()
            .filter(|p| p.status == PromiseStatus::Open && p.promised_date >= query.as_of)
            .collect();
        open.sort_by_key(|p| p.promised_date);
        for promise in open {
            let left = promise.amount.minor_units() - promise.paid.minor_units();
            promises
                .entry((
                    promise.customer.as_str().to_owned(),
                    promise.amount.currency().code().to_owned(),
                ))
                .or_default()
                .push((
                    promise.promised_date,
                    i64::try_from(left.max(0)).unwrap_or(0),
                ));
        }
    }
    let slots = query.weeks as usize + 1;
    let mut result = Expected {
        buckets: BTreeMap::new(),
        disputed: BTreeMap::new(),
        written_off: BTreeMap::new(),
        legal: BTreeMap::new(),
        methods: Vec::new(),
    };
    for row in rows {
        let key = (row.subsidiary.clone(), row.currency.clone());
        let days_past_due = (query.as_of - row.due_date).num_days();
        let slot = |date: NaiveDate| query.week_of(date.max(query.as_of));
        let buckets = result
            .buckets
            .entry(key.clone())
            .or_insert_with(|| vec![0; slots]);
        if naive {
            buckets[slot(row.due_date)] += row.open_minor;
            continue;
        }
        if row.written_off {
            *result.written_off.entry(key).or_default() += row.open_minor;
            continue;
        }
        if days_past_due > LEGAL_DAYS_PAST_DUE {
            *result.legal.entry(key).or_default() += row.open_minor;
            continue;
        }
        if row.disputed_minor > 0 {
            *result.disputed.entry(key.clone()).or_default() += row.disputed_minor;
        }
        let mut expected = row.open_minor - row.disputed_minor;
        if let Some(open) = promises.get_mut(&(row.customer.clone(), row.currency.clone())) {
            for (promised, left) in open.iter_mut() {
                if expected == 0 {
                    break;
                }
                let covered = (*left).min(expected);
                if covered > 0 {
                    buckets[slot(*promised)] += covered;
                    *left -= covered;
                    expected -= covered;
                }
            }
        }
        if expected > 0 {
            let (delay, _) = delays
                .get(row.customer.as_str())
                .copied()
                .unwrap_or((0, DelaySource::None));
            buckets[slot(after(row.due_date, delay))] += expected;
        }
    }
    if query.explain && !naive {
        let mut promise_counts: HashMap<&str, u64> = HashMap::new();
        for ((customer, _), list) in &promises {
            *promise_counts.entry(customer.as_str()).or_default() += list.len() as u64;
        }
        for customer in &customers {
            let (delay_days, source) = delays
                .get(customer.as_str())
                .copied()
                .unwrap_or((0, DelaySource::None));
            let own = habits.get(customer);
            result.methods.push(CustomerMethod {
                customer: stored::customer(customer)?,
                delay_days,
                source,
                invoices_paid: own.map_or(0, |h| h.invoices),
                amount_paid: own.map_or(Decimal::ZERO, Habit::amount),
                own_delay: own.and_then(Habit::average),
                promises: promise_counts.get(customer.as_str()).copied().unwrap_or(0),
            });
        }
    }
    Ok(result)
}

/// The forecast `query` asks for.
pub async fn forecast(pool: &ReadPool, query: &ForecastQuery) -> Result<Forecast, ProjectionError> {
    let expected = expected(pool, query, false).await?;
    let money = |minor: i64, currency: Currency| from_minor(minor, currency);
    let mut lines = Vec::new();
    for ((subsidiary, code), amounts) in &expected.buckets {
        let currency = stored::currency(code)?;
        let key = (subsidiary.clone(), code.clone());
        let left = |map: &BTreeMap<(String, String), i64>| {
            money(map.get(&key).copied().unwrap_or(0), currency)
        };
        let (weeks, later) = amounts.split_at(query.weeks as usize);
        lines.push(ForecastLine {
            subsidiary: stored::subsidiary(subsidiary)?,
            currency,
            weeks: weeks.iter().map(|minor| money(*minor, currency)).collect(),
            later: money(later.iter().sum(), currency),
            disputed_left_out: left(&expected.disputed),
            written_off_left_out: left(&expected.written_off),
            legal_left_out: left(&expected.legal),
        });
    }
    Ok(Forecast {
        as_of: query.as_of,
        week_starts: (0..query.weeks).map(|k| query.week_start(k)).collect(),
        lines,
        methods: expected.methods,
    })
}

/// One week of a backtest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BacktestWeek {
    pub start: NaiveDate,
    pub forecast: Money,
    pub naive: Money,
    pub actual: Money,
    /// |forecast - actual| / actual × 100, 2 decimals; none when nothing was collected.
    pub forecast_error: Option<Decimal>,
    pub naive_error: Option<Decimal>,
}

/// A backtest in one currency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Backtest {
    pub currency: Currency,
    pub weeks: Vec<BacktestWeek>,
    /// Mean absolute percentage error over the weeks where it is defined.
    pub forecast_mape: Option<Decimal>,
    pub naive_mape: Option<Decimal>,
    /// |Σ forecast - Σ actual| / Σ actual × 100.
    pub forecast_total_error: Option<Decimal>,
    pub naive_total_error: Option<Decimal>,
}

/// Decimals of a percentage error.
const ERROR_DECIMALS: u32 = 2;

/// `value` with exactly [`ERROR_DECIMALS`] decimals, rounded half away from zero.
fn two_places(value: Decimal) -> Decimal {
    let mut rounded =
        value.round_dp_with_strategy(ERROR_DECIMALS, RoundingStrategy::MidpointAwayFromZero);
    rounded.rescale(ERROR_DECIMALS);
    rounded
}

/// |forecast - actual| / actual × 100, rounded to 2 decimals half away from zero.
pub fn percentage_error(forecast: Decimal, actual: Decimal) -> Option<Decimal> {
    (actual > Decimal::ZERO)
        .then(|| two_places((forecast - actual).abs() * Decimal::ONE_HUNDRED / actual))
}

/// The mean of the errors that are defined (each as shown, rounded), rounded again.
fn mean(errors: impl Iterator<Item = Option<Decimal>>) -> Option<Decimal> {
    let defined: Vec<Decimal> = errors.flatten().collect();
    let count = Decimal::from(defined.len() as u64);
    (!defined.is_empty()).then(|| two_places(defined.iter().sum::<Decimal>() / count))
}

/// The forecast as of `query.as_of` for its weeks, against what was collected then.
pub async fn backtest(
    pool: &ReadPool,
    query: &ForecastQuery,
) -> Result<Vec<Backtest>, ProjectionError> {
    let weeks = query.weeks as usize;
    let by_currency = |buckets: &Buckets| -> BTreeMap<String, Vec<i64>> {
        let mut sums: BTreeMap<String, Vec<i64>> = BTreeMap::new();
        for ((_, currency), amounts) in buckets {
            let sum = sums
                .entry(currency.clone())
                .or_insert_with(|| vec![0; weeks]);
            for (week, amount) in amounts.iter().take(weeks).enumerate() {
                sum[week] += amount;
            }
        }
        sums
    };
    let forecast = by_currency(&expected(pool, query, false).await?.buckets);
    let naive = by_currency(&expected(pool, query, true).await?.buckets);
    let last = query
        .week_start(query.weeks)
        .pred_opt()
        .unwrap_or(query.as_of);
    let subsidiary = query.subsidiary.as_ref().map(SubsidiaryId::as_str);
    let customer = query.customer.as_ref().map(CustomerId::as_str);
    let collected: Vec<(String, NaiveDate, i64)> = on_engine!(pool, pool => sqlx::query_as(
        "SELECT i.currency, a.received_date, CAST(SUM(a.amount_minor) AS BIGINT)
         FROM allocations a
         JOIN invoices i
           ON i.subsidiary_id = a.subsidiary_id AND i.invoice_number = a.invoice_number
         JOIN payments p ON p.position = a.position
         WHERE a.received_date BETWEEN $1 AND $2 AND i.issue_date <= $1
           AND ($3 IS NULL OR i.subsidiary_id = $3)
           AND ($4 IS NULL OR i.customer_id = $4)
           AND NOT EXISTS (SELECT 1 FROM payment_reversals r
                           WHERE r.payment_command_id = p.command_id
                             AND r.reversal_date <= $2)
         GROUP BY i.currency, a.received_date",
    )
    .persistent(false)
    .bind(query.as_of)
    .bind(last)
    .bind(subsidiary)
    .bind(customer)
    .fetch_all(pool).await)?;
    let mut actual: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    for (currency, day, minor) in collected {
        actual.entry(currency).or_insert_with(|| vec![0; weeks])[query.week_of(day)] += minor;
    }
    let mut codes: Vec<&String> = forecast
        .keys()
        .chain(naive.keys())
        .chain(actual.keys())
        .collect();
    codes.sort();
    codes.dedup();
    codes
        .into_iter()
        .map(|code| {
            let currency = stored::currency(code)?;
            let zeros = vec![0; weeks];
            let (f, n, a) = (
                forecast.get(code).unwrap_or(&zeros),
                naive.get(code).unwrap_or(&zeros),
                actual.get(code).unwrap_or(&zeros),
            );
            let major = |minor: i64| from_minor(minor, currency).amount();
            let rows: Vec<BacktestWeek> = (0..weeks)
                .map(|k| BacktestWeek {
                    start: query.week_start(k as u32),
                    forecast: from_minor(f[k], currency),
                    naive: from_minor(n[k], currency),
                    actual: from_minor(a[k], currency),
                    forecast_error: percentage_error(major(f[k]), major(a[k])),
                    naive_error: percentage_error(major(n[k]), major(a[k])),
                })
                .collect();
            let total = |v: &[i64]| major(v.iter().sum());
            Ok(Backtest {
                currency,
                forecast_mape: mean(rows.iter().map(|w| w.forecast_error)),
                naive_mape: mean(rows.iter().map(|w| w.naive_error)),
                forecast_total_error: percentage_error(total(f), total(a)),
                naive_total_error: percentage_error(total(n), total(a)),
                weeks: rows,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use receivables_domain::testing::date;

    #[test]
    fn weeks_run_seven_days_from_the_date_and_later_collects_the_rest() {
        let query = ForecastQuery::new(date("2026-03-02"), 2, 3).unwrap();
        assert_eq!(query.week_of(date("2026-03-02")), 0);
        assert_eq!(query.week_of(date("2026-03-08")), 0);
        assert_eq!(query.week_of(date("2026-03-09")), 1);
        assert_eq!(query.week_of(date("2026-03-15")), 1);
        assert_eq!(query.week_of(date("2026-03-16")), 2);
        assert_eq!(query.week_of(date("2027-01-01")), 2);
        assert_eq!(query.week_start(1), date("2026-03-09"));
        assert!(ForecastQuery::new(date("2026-03-02"), 0, 3).is_err());
        assert!(ForecastQuery::new(date("2026-03-02"), 27, 3).is_err());
    }

    fn habit(payments: &[(i64, i64)], invoices: u64) -> Habit {
        Habit {
            payments: payments
                .iter()
                .map(|(days, amount)| (*days, Decimal::from(*amount)))
                .collect(),
            invoices,
        }
    }

    #[test]
    fn a_delay_is_the_amount_weighted_average_rounded_half_away_from_zero() {
        // C1: 1,000 paid 10 days late and 3,000 2 days late, on three invoices: (10,000 +
        // 6,000) / 4,000 = 4 days. C2: one invoice 5 days late: too little of its own; grade
        // B's pool (C1's and C2's): (16,000 + 2,500) / 4,500 = 4.11 -> 4. C4: (-1,000 - 1,500
        // - 500 - 750) / 1,500 = -2.5 -> -3. C3, no grade: the group's, (16,000 + 2,500 -
        // 3,750) / 6,000 = 2.46 -> 2.
        let habits: HashMap<String, Habit> = [
            ("C1".to_owned(), habit(&[(10, 1_000), (2, 3_000)], 3)),
            ("C2".to_owned(), habit(&[(5, 500)], 1)),
            (
                "C4".to_owned(),
                habit(&[(-2, 500), (-3, 500), (-2, 250), (-3, 250)], 4),
            ),
        ]
        .into();
        let grades: HashMap<String, CreditGrade> = [
            ("C1".to_owned(), CreditGrade::B),
            ("C2".to_owned(), CreditGrade::B),
        ]
        .into();
        let pools = Pools::new(&habits, &grades);
        assert_eq!(pools.delay("C1"), (4, DelaySource::Own));
        assert_eq!(pools.delay("C2"), (4, DelaySource::Grade(CreditGrade::B)));
        assert_eq!(pools.delay("C3"), (2, DelaySource::Group));
        assert_eq!(pools.delay("C4"), (-3, DelaySource::Own));
        assert_eq!(whole_days(Decimal::new(-25, 1)), -3);
        assert_eq!(whole_days(Decimal::new(25, 1)), 3);
        let nobody = HashMap::new();
        let none = Pools::new(&nobody, &grades);
        assert_eq!(none.delay("C9"), (0, DelaySource::None));
    }

    #[test]
    fn a_percentage_error_needs_something_collected() {
        assert_eq!(
            percentage_error(Decimal::from(90), Decimal::from(120)),
            Some(Decimal::from(25))
        );
        assert_eq!(percentage_error(Decimal::from(5), Decimal::ZERO), None);
        assert_eq!(
            mean([Some(Decimal::from(25)), None, Some(Decimal::from(10))].into_iter()),
            Some(Decimal::new(1750, 2))
        );
    }
}
