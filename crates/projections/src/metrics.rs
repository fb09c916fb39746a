//! Early-warning metrics (预警指标) of a period, for the group, a subsidiary or a customer: the
//! aggregates the read model holds, gathered per currency and handed to the domain's formulas
//! (`receivables_domain::metrics`), which return every figure with its formula and its inputs.
//!
//! For a period `from..=to`, in one currency:
//!
//! ```text
//! closing receivables  = open invoices as of `to` (the aging by payment terms: rows of
//!                        schedules and plans age by their own due dates)
//! closing current      = the part of it not yet due on `to` (the aging's first bucket)
//! opening receivables  = open invoices as of the day before `from`
//! credit sales         = invoices issued from `from` through `to` (their amounts)
//! monthly credit sales = the same per calendar month, the newest cut at `to`, for countback
//!                        (at most COUNTBACK_MONTHS_MAX months back)
//! written off          = write-offs dated in the period
//! disputed             = disputes opened in the period (their amounts)
//! promises kept/broken = promises whose window (promised date + grace days) closed in the
//!                        period, as evaluated on `to` (`promises.rs`); partially kept ones
//!                        count as broken, as in the work queue
//! settled              = payments received in the period, by the invoices they were applied
//!                        to (issue and due dates), leaving out payments reversed by `to`
//! ```
//!
//! Receivables are gross: unapplied cash is not netted (the aging shows it in its own column).
//! A subsidiary's metrics are those of its own invoices, payments applied to them, its
//! promises and its disputes; a customer's, of that customer at every subsidiary; a
//! collector's, of the invoices (and promises and disputes) the collector chases: the
//! customer's collector, else the default collector of the invoice's subsidiary, as the work
//! queue and the reminders list assign them (today's assignments).
//!
//! The CEI of a period of one calendar month uses the month's sales; of several months, the
//! average monthly credit sales (the period's sales over the number of calendar months it
//! touches), as the Credit Research Foundation defines it. Figures per currency compare no
//! currencies; the group-currency figures convert every amount input at the rate of `to`
//! (`rates.rs`), and are left out when a currency has no rate then.
//!
//! Each collector's activity in the period (the figures collectors are rewarded by): contacts
//! recorded, those that reached someone, promises obtained and how those decided by `to`
//! ended, and the money received in the period on the invoices the collector chases (the
//! customer's collector, else the invoice's subsidiary's default; today's assignments).

use std::collections::BTreeMap;

use chrono::{Datelike, Months, NaiveDate};
use receivables_domain::exchange::convert_at;
use receivables_domain::ids::PersonName;
use receivables_domain::metrics::{
    self, Figure, SalesMonth, Settled, average_days_delinquent, best_possible_dso,
};
use receivables_domain::{Currency, CustomerId, Money, SubsidiaryId};
use rust_decimal::Decimal;

use crate::aging::{AgingRequest, Basis, GroupBy, report};
use crate::customers::{Assignments, chaser};
use crate::database::{ReadPool, on_engine};
use crate::error::ProjectionError;
use crate::minor_units::from_minor;
use crate::open_amounts::{open_items, open_rows};
use crate::promises::{Filter, PromiseLine, PromiseStatus, evaluate};
use crate::rates::rates_on;
use crate::stored;

/// The longest period a request may cover: a year and a day, so that a leap year fits.
pub const PERIOD_DAYS_MAX: u32 = 366;

/// Calendar months countback DSO walks back before it gives a lower bound: two years.
pub const COUNTBACK_MONTHS_MAX: u32 = 24;

/// Month-ends of the trend series.
pub const SERIES_MONTHS: u32 = 12;

/// Why a metrics request was refused before it was read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PeriodError {
    #[error("the period's first day {from} is after its last day {to}")]
    Reversed { from: NaiveDate, to: NaiveDate },
    #[error("a period covers at most {PERIOD_DAYS_MAX} days, {from} to {to} covers {days}")]
    TooLong {
        from: NaiveDate,
        to: NaiveDate,
        days: i64,
    },
}

/// A validated metrics request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetricsQuery {
    from: NaiveDate,
    to: NaiveDate,
    pub subsidiary: Option<SubsidiaryId>,
    pub customer: Option<CustomerId>,
    /// Only what this collector chases (see the module's documentation).
    pub collector: Option<PersonName>,
    /// Days after a promised date during which payments still count for the promise.
    pub grace_days: u32,
    /// Also the figures of each of the last [`SERIES_MONTHS`] calendar months ending on or
    /// before `to`.
    pub series: bool,
}

impl MetricsQuery {
    /// The metrics of `from` through `to`, of the whole group, without the series.
    pub fn new(from: NaiveDate, to: NaiveDate, grace_days: u32) -> Result<Self, PeriodError> {
        if from > to {
            return Err(PeriodError::Reversed { from, to });
        }
        let days = (to - from).num_days() + 1;
        if days > i64::from(PERIOD_DAYS_MAX) {
            return Err(PeriodError::TooLong { from, to, days });
        }
        Ok(MetricsQuery {
            from,
            to,
            subsidiary: None,
            customer: None,
            collector: None,
            grace_days,
            series: false,
        })
    }

    pub fn from(&self) -> NaiveDate {
        self.from
    }

    pub fn to(&self) -> NaiveDate {
        self.to
    }

    fn period(&self, from: NaiveDate, to: NaiveDate) -> MetricsQuery {
        MetricsQuery {
            from,
            to,
            series: false,
            ..self.clone()
        }
    }
}

/// The figures of one currency (or of the group's currency, converted).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CurrencyFigures {
    pub currency: Currency,
    pub figures: Vec<Figure>,
}

/// One collector's work in the period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CollectorFigures {
    pub collector: String,
    pub activities: u64,
    /// Contacts that reached someone (any outcome but no answer and wrong contact).
    pub reached: u64,
    pub promises_obtained: u64,
    pub promises_kept: u64,
    /// Broken or partially kept, by `to`.
    pub promises_broken: u64,
    /// Money received in the period on the invoices the collector chases, per currency.
    pub collected: Vec<Money>,
}

/// The figures of one calendar month of the series.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MonthFigures {
    pub month_end: NaiveDate,
    pub currencies: Vec<CurrencyFigures>,
    pub in_group_currency: Option<CurrencyFigures>,
}

/// The metrics of a period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetricsReport {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub currencies: Vec<CurrencyFigures>,
    /// Every currency converted to the group's at the rate of `to`; none before any rate, or
    /// when a currency has none then.
    pub in_group_currency: Option<CurrencyFigures>,
    pub collectors: Vec<CollectorFigures>,
    /// Oldest first; empty unless asked for.
    pub series: Vec<MonthFigures>,
}

/// The aggregates of one currency in a period, in major units.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Inputs {
    closing_total: Decimal,
    closing_current: Decimal,
    opening_total: Decimal,
    credit_sales: Decimal,
    /// Credit sales per calendar month, newest first, the newest cut at `to`.
    monthly_sales: Vec<SalesMonth>,
    written_off: Decimal,
    disputed: Decimal,
    promises_kept: u64,
    promises_broken: u64,
    settled: Vec<Settled>,
}

impl Inputs {
    /// Every amount converted by `convert` (to the group's currency, rounded as conversions
    /// are: `convert_at`).
    fn converted(&self, convert: &dyn Fn(Decimal) -> Decimal) -> Inputs {
        Inputs {
            closing_total: convert(self.closing_total),
            closing_current: convert(self.closing_current),
            opening_total: convert(self.opening_total),
            credit_sales: convert(self.credit_sales),
            monthly_sales: self
                .monthly_sales
                .iter()
                .map(|month| SalesMonth {
                    credit_sales: convert(month.credit_sales),
                    ..*month
                })
                .collect(),
            written_off: convert(self.written_off),
            disputed: convert(self.disputed),
            promises_kept: self.promises_kept,
            promises_broken: self.promises_broken,
            settled: self
                .settled
                .iter()
                .map(|settled| Settled {
                    amount: convert(settled.amount),
                    ..*settled
                })
                .collect(),
        }
    }

    /// The sum of two currencies' inputs, both in one currency by now.
    fn add(&mut self, other: Inputs) {
        self.closing_total += other.closing_total;
        self.closing_current += other.closing_current;
        self.opening_total += other.opening_total;
        self.credit_sales += other.credit_sales;
        if self.monthly_sales.is_empty() {
            self.monthly_sales = other.monthly_sales;
        } else {
            for (mine, theirs) in self.monthly_sales.iter_mut().zip(other.monthly_sales) {
                mine.credit_sales += theirs.credit_sales;
            }
        }
        self.written_off += other.written_off;
        self.disputed += other.disputed;
        self.promises_kept += other.promises_kept;
        self.promises_broken += other.promises_broken;
        self.settled.extend(other.settled);
    }

    /// The figures of the period `from..=to` from these inputs.
    fn figures(&self, from: NaiveDate, to: NaiveDate) -> Vec<Figure> {
        let days = u32::try_from((to - from).num_days() + 1).unwrap_or(u32::MAX);
        let months = calendar_months(from, to);
        let overdue = self.closing_total - self.closing_current;
        let dso = metrics::dso_simple(self.closing_total, self.credit_sales, days);
        let countback = metrics::dso_countback(self.closing_total, &self.monthly_sales);
        let best = best_possible_dso(self.closing_current, self.credit_sales, days);
        let add = average_days_delinquent(&dso, &best);
        let cei = if months == 1 {
            metrics::cei(
                self.opening_total,
                self.credit_sales,
                self.closing_total,
                self.closing_current,
            )
        } else {
            metrics::cei_over_months(
                self.opening_total,
                self.credit_sales,
                months,
                self.closing_total,
                self.closing_current,
            )
        };
        vec![
            metrics::overdue_rate(overdue, self.closing_total),
            dso,
            countback.figure,
            best,
            add,
            cei,
            metrics::bad_debt_rate(self.written_off, self.credit_sales),
            metrics::promise_kept_rate(self.promises_kept, self.promises_broken),
            metrics::average_days_to_pay(&self.settled),
            metrics::average_days_late(&self.settled),
            metrics::dispute_rate(self.disputed, self.credit_sales),
        ]
    }
}

/// Calendar months the period touches (March 15 to April 14: two).
fn calendar_months(from: NaiveDate, to: NaiveDate) -> u32 {
    let index = |date: NaiveDate| date.year() * 12 + i32::try_from(date.month0()).unwrap_or(0);
    u32::try_from(index(to) - index(from) + 1).unwrap_or(1)
}

fn first_of_month(date: NaiveDate) -> NaiveDate {
    date.with_day(1).unwrap_or(date)
}

/// The last day of `date`'s month.
fn month_end(date: NaiveDate) -> NaiveDate {
    first_of_month(date)
        .checked_add_months(Months::new(1))
        .and_then(|next| next.pred_opt())
        .unwrap_or(date)
}

/// The metrics `query` asks for.
pub async fn metrics(
    pool: &ReadPool,
    query: &MetricsQuery,
) -> Result<MetricsReport, ProjectionError> {
    // Every promise as of the period's end, evaluated once for the figures and the collectors.
    let promises = evaluate(pool, &Filter::all(), query.to, query.grace_days).await?;
    let (currencies, in_group_currency) = figures(pool, query, &promises).await?;
    let collectors = collectors(pool, query, &promises).await?;
    let mut series = Vec::new();
    if query.series {
        // The month-ends on or before `to`: `to` itself when it ends its month.
        let latest = if month_end(query.to) == query.to {
            query.to
        } else {
            first_of_month(query.to).pred_opt().unwrap_or(query.to)
        };
        for back in (0..SERIES_MONTHS).rev() {
            let Some(end) = first_of_month(latest)
                .checked_sub_months(Months::new(back))
                .map(month_end)
            else {
                continue;
            };
            let month = query.period(first_of_month(end), end);
            let promises = evaluate(pool, &Filter::all(), end, query.grace_days).await?;
            let (currencies, in_group_currency) = figures(pool, &month, &promises).await?;
            series.push(MonthFigures {
                month_end: end,
                currencies,
                in_group_currency,
            });
        }
    }
    Ok(MetricsReport {
        from: query.from,
        to: query.to,
        currencies,
        in_group_currency,
        collectors,
        series,
    })
}

/// The figures of the query's period per currency, and in the group's currency; `promises`
/// as [`gather`] takes them.
async fn figures(
    pool: &ReadPool,
    query: &MetricsQuery,
    promises: &[PromiseLine],
) -> Result<(Vec<CurrencyFigures>, Option<CurrencyFigures>), ProjectionError> {
    let inputs = gather(pool, query, promises).await?;
    let rates = rates_on(pool, query.to).await?;
    let mut group: Option<Inputs> = None;
    let mut convertible = rates.base().is_some();
    let mut currencies = Vec::new();
    for (currency, inputs) in &inputs {
        currencies.push(CurrencyFigures {
            currency: *currency,
            figures: inputs.figures(query.from, query.to),
        });
        let (Some(base), true) = (rates.base(), convertible) else {
            continue;
        };
        match rates.cross_rate(*currency, base, query.to) {
            Ok(rate) => {
                let convert = |amount: Decimal| convert_at(amount, rate, base).amount();
                group
                    .get_or_insert_with(Inputs::default)
                    .add(inputs.converted(&convert));
            }
            Err(_) => convertible = false,
        }
    }
    let in_group_currency = match (rates.base(), group, convertible) {
        (Some(base), Some(group), true) => Some(CurrencyFigures {
            currency: base,
            figures: group.figures(query.from, query.to),
        }),
        _ => None,
    };
    Ok((currencies, in_group_currency))
}

/// Every currency's inputs of the query's period; `promises` are every promise evaluated as of
/// the period's last day.
async fn gather(
    pool: &ReadPool,
    query: &MetricsQuery,
    promises: &[PromiseLine],
) -> Result<BTreeMap<Currency, Inputs>, ProjectionError> {
    let mut inputs: BTreeMap<Currency, Inputs> = BTreeMap::new();
    let aging = |as_of: NaiveDate| {
        let mut request = AgingRequest::new(as_of);
        request.basis = Basis::PaymentTerms;
        request.group_by = GroupBy::Group;
        request.subsidiary = query.subsidiary.clone();
        request.customer = query.customer.clone();
        request
    };
    let subsidiary = query.subsidiary.as_ref().map(SubsidiaryId::as_str);
    let customer = query.customer.as_ref().map(CustomerId::as_str);
    let collector = query.collector.as_ref().map(PersonName::as_str);
    if collector.is_some() {
        for (currency, total, current) in collectors_balances(pool, query, query.to).await? {
            let entry = inputs.entry(currency).or_default();
            entry.closing_total = total;
            entry.closing_current = current;
        }
        if let Some(before) = query.from.pred_opt() {
            for (currency, total, _) in collectors_balances(pool, query, before).await? {
                inputs.entry(currency).or_default().opening_total = total;
            }
        }
    } else {
        for line in report(pool, &aging(query.to)).await? {
            let entry = inputs.entry(line.currency).or_default();
            entry.closing_total = line.open_total.amount();
            entry.closing_current = line
                .buckets
                .first()
                .map_or(Decimal::ZERO, |bucket| bucket.amount());
        }
        if let Some(before) = query.from.pred_opt() {
            for line in report(pool, &aging(before)).await? {
                inputs.entry(line.currency).or_default().opening_total = line.open_total.amount();
            }
        }
    }

    // Credit sales per day, from the first month countback may walk to.
    let first_month = first_of_month(query.to)
        .checked_sub_months(Months::new(COUNTBACK_MONTHS_MAX - 1))
        .unwrap_or(query.to);
    let earliest = first_month.min(query.from);
    let sales_sql = format!(
        "SELECT i.currency, i.issue_date, CAST(SUM(i.amount_minor) AS BIGINT)
         FROM invoices i
         WHERE i.issue_date BETWEEN $1 AND $2
           AND ($3 IS NULL OR i.subsidiary_id = $3)
           AND ($4 IS NULL OR i.customer_id = $4)
           AND {}
         GROUP BY i.currency, i.issue_date",
        collector_is(5, "i")
    );
    let sales: Vec<(String, NaiveDate, i64)> = on_engine!(pool, pool => sqlx::query_as(&sales_sql)
    .persistent(false)
    .bind(earliest)
    .bind(query.to)
    .bind(subsidiary)
    .bind(customer)
    .bind(collector)
    .fetch_all(pool).await)?;
    let mut by_month: BTreeMap<Currency, BTreeMap<NaiveDate, i64>> = BTreeMap::new();
    for (code, day, minor) in sales {
        let currency = stored::currency(&code)?;
        if day >= query.from {
            inputs.entry(currency).or_default().credit_sales +=
                from_minor(minor, currency).amount();
        }
        *by_month
            .entry(currency)
            .or_default()
            .entry(first_of_month(day))
            .or_default() += minor;
    }
    for (currency, entry) in inputs.iter_mut() {
        let months = by_month.get(currency);
        let mut first = first_of_month(query.to);
        let mut last = query.to;
        for _ in 0..COUNTBACK_MONTHS_MAX {
            let minor = months
                .and_then(|months| months.get(&first))
                .copied()
                .unwrap_or(0);
            entry.monthly_sales.push(SalesMonth {
                first_day: first,
                last_day: last,
                credit_sales: from_minor(minor, *currency).amount(),
            });
            let (Some(previous_last), Some(previous_first)) =
                (first.pred_opt(), first.checked_sub_months(Months::new(1)))
            else {
                break;
            };
            last = previous_last;
            first = previous_first;
        }
    }

    for (code, minor) in period_sums(pool, query, WRITTEN_OFF_SQL).await? {
        let currency = stored::currency(&code)?;
        inputs.entry(currency).or_default().written_off = from_minor(minor, currency).amount();
    }
    for (code, minor) in period_sums(pool, query, DISPUTED_SQL).await? {
        let currency = stored::currency(&code)?;
        inputs.entry(currency).or_default().disputed = from_minor(minor, currency).amount();
    }

    let assignments = match collector {
        Some(_) => Some(Assignments::load(pool).await?),
        None => None,
    };
    for promise in promises {
        let in_scope = customer.is_none_or(|c| promise.customer.as_str() == c)
            && subsidiary.is_none_or(|s| promise.subsidiary.as_str() == s)
            && assignments.as_ref().is_none_or(|assignments| {
                assignments
                    .chaser(promise.customer.as_str(), promise.subsidiary.as_str())
                    .map(PersonName::as_str)
                    == collector
            });
        if !in_scope || promise.window_end < query.from || promise.window_end > query.to {
            continue;
        }
        let entry = inputs.entry(promise.amount.currency()).or_default();
        match promise.status {
            PromiseStatus::Kept => entry.promises_kept += 1,
            PromiseStatus::Broken | PromiseStatus::PartiallyKept => entry.promises_broken += 1,
            PromiseStatus::Open => {}
        }
    }

    let settled_sql = format!(
        "SELECT i.currency, a.received_date, i.issue_date, i.due_date,
                CAST(SUM(a.amount_minor) AS BIGINT)
         FROM allocations a
         JOIN invoices i
           ON i.subsidiary_id = a.subsidiary_id AND i.invoice_number = a.invoice_number
         JOIN payments p ON p.position = a.position
         WHERE a.received_date BETWEEN $1 AND $2
           AND ($3 IS NULL OR i.subsidiary_id = $3)
           AND ($4 IS NULL OR i.customer_id = $4)
           AND {}
           AND NOT EXISTS (SELECT 1 FROM payment_reversals r
                           WHERE r.payment_command_id = p.command_id
                             AND r.reversal_date <= $2)
         GROUP BY i.currency, a.received_date, i.issue_date, i.due_date",
        collector_is(5, "i")
    );
    let settled: Vec<(String, NaiveDate, NaiveDate, NaiveDate, i64)> = on_engine!(pool, pool => sqlx::query_as(&settled_sql)
    .persistent(false)
    .bind(query.from)
    .bind(query.to)
    .bind(subsidiary)
    .bind(customer)
    .bind(collector)
    .fetch_all(pool).await)?;
    for (code, paid, issued, due, minor) in settled {
        let currency = stored::currency(&code)?;
        inputs.entry(currency).or_default().settled.push(Settled {
            amount: from_minor(minor, currency).amount(),
            issued,
            due,
            paid,
        });
    }
    Ok(inputs)
}

/// Write-offs dated in the period, per currency.
const WRITTEN_OFF_SQL: &str = "SELECT m.currency, CAST(SUM(m.amount_minor) AS BIGINT)
     FROM settlements m
     WHERE m.kind = 'write_off' AND m.effective_date BETWEEN $1 AND $2";

/// Disputes opened in the period, per currency.
const DISPUTED_SQL: &str = "SELECT m.currency, CAST(SUM(m.amount_minor) AS BIGINT)
     FROM disputes m
     WHERE m.opened_on BETWEEN $1 AND $2";

/// `sql` (a sum over the rows `m` of a table with customer and subsidiary columns) narrowed to
/// the query's scope and grouped by currency.
async fn period_sums(
    pool: &ReadPool,
    query: &MetricsQuery,
    sql: &str,
) -> Result<Vec<(String, i64)>, ProjectionError> {
    let sql = format!(
        "{sql}
           AND ($3 IS NULL OR m.subsidiary_id = $3)
           AND ($4 IS NULL OR m.customer_id = $4)
           AND {}
         GROUP BY m.currency",
        collector_is(5, "m")
    );
    Ok(on_engine!(pool, pool => sqlx::query_as(&sql)
        .persistent(false)
        .bind(query.from)
        .bind(query.to)
        .bind(query.subsidiary.as_ref().map(SubsidiaryId::as_str))
        .bind(query.customer.as_ref().map(CustomerId::as_str))
        .bind(query.collector.as_ref().map(PersonName::as_str))
        .fetch_all(pool).await)?)
}

/// SQL: parameter `$n` is `NULL` or the collector who chases the rows `alias` (with
/// `customer_id` and `subsidiary_id` columns): the customer's, else the subsidiary's default.
fn collector_is(n: usize, alias: &str) -> String {
    format!("(${n} IS NULL OR {} = ${n})", chaser(alias))
}

/// The open total and its current part (not yet due) per currency as of `as_of`, of the rows
/// the query's collector chases (the aging by payment terms, narrowed by collector).
async fn collectors_balances(
    pool: &ReadPool,
    query: &MetricsQuery,
    as_of: NaiveDate,
) -> Result<Vec<(Currency, Decimal, Decimal)>, ProjectionError> {
    let sql = format!(
        "WITH {}{}
         SELECT i.currency, CAST(SUM(i.open_minor) AS BIGINT),
                CAST(SUM(CASE WHEN i.due_date >= $1 THEN i.open_minor ELSE 0 END) AS BIGINT)
         FROM open_rows i
         WHERE {}
         GROUP BY i.currency
         HAVING SUM(i.open_minor) <> 0",
        open_items(query.customer.is_some()),
        open_rows(),
        collector_is(5, "i")
    );
    let rows: Vec<(String, i64, i64)> = on_engine!(pool, pool => sqlx::query_as(&sql)
        .persistent(false)
        .bind(as_of)
        .bind(query.subsidiary.as_ref().map(SubsidiaryId::as_str))
        .bind(query.customer.as_ref().map(CustomerId::as_str))
        .bind(None::<&str>)
        .bind(query.collector.as_ref().map(PersonName::as_str))
        .fetch_all(pool).await)?;
    rows.into_iter()
        .map(|(code, total, current)| {
            let currency = stored::currency(&code)?;
            Ok((
                currency,
                from_minor(total, currency).amount(),
                from_minor(current, currency).amount(),
            ))
        })
        .collect()
}

/// Each collector's work in the period (see the module's documentation).
async fn collectors(
    pool: &ReadPool,
    query: &MetricsQuery,
    promises: &[PromiseLine],
) -> Result<Vec<CollectorFigures>, ProjectionError> {
    let subsidiary = query.subsidiary.as_ref().map(SubsidiaryId::as_str);
    let customer = query.customer.as_ref().map(CustomerId::as_str);
    let mut collectors: BTreeMap<String, CollectorFigures> = BTreeMap::new();
    fn entry<'a>(
        collectors: &'a mut BTreeMap<String, CollectorFigures>,
        name: &str,
    ) -> &'a mut CollectorFigures {
        collectors
            .entry(name.to_owned())
            .or_insert_with(|| CollectorFigures {
                collector: name.to_owned(),
                activities: 0,
                reached: 0,
                promises_obtained: 0,
                promises_kept: 0,
                promises_broken: 0,
                collected: Vec::new(),
            })
    }
    let activities: Vec<(String, i64, i64)> = on_engine!(pool, pool => sqlx::query_as(
        "SELECT collector, COUNT(*),
                CAST(SUM(CASE WHEN outcome IN ('NO_ANSWER', 'WRONG_CONTACT') THEN 0 ELSE 1 END)
                     AS BIGINT)
         FROM collection_activities
         WHERE occurred_on BETWEEN $1 AND $2
           AND ($3 IS NULL OR subsidiary_id = $3)
           AND ($4 IS NULL OR customer_id = $4)
         GROUP BY collector",
    )
    .persistent(false)
    .bind(query.from)
    .bind(query.to)
    .bind(subsidiary)
    .bind(customer)
    .fetch_all(pool).await)?;
    for (name, count, reached) in activities {
        let figures = entry(&mut collectors, &name);
        figures.activities = u64::try_from(count).unwrap_or(0);
        figures.reached = u64::try_from(reached).unwrap_or(0);
    }
    for promise in promises {
        let in_scope = customer.is_none_or(|c| promise.customer.as_str() == c)
            && subsidiary.is_none_or(|s| promise.subsidiary.as_str() == s);
        if !in_scope || promise.made_on < query.from || promise.made_on > query.to {
            continue;
        }
        let figures = entry(&mut collectors, promise.collector.as_str());
        figures.promises_obtained += 1;
        match promise.status {
            PromiseStatus::Kept => figures.promises_kept += 1,
            PromiseStatus::Broken | PromiseStatus::PartiallyKept => figures.promises_broken += 1,
            PromiseStatus::Open => {}
        }
    }
    let collected: Vec<(String, String, i64)> = on_engine!(pool, pool => sqlx::query_as(
        &format!(
            "SELECT collector, currency, CAST(SUM(amount_minor) AS BIGINT)
             FROM (SELECT {} AS collector, i.currency, a.amount_minor
                   FROM allocations a
                   JOIN invoices i
                     ON i.subsidiary_id = a.subsidiary_id
                    AND i.invoice_number = a.invoice_number
                   WHERE a.received_date BETWEEN $1 AND $2
                     AND ($3 IS NULL OR i.subsidiary_id = $3)
                     AND ($4 IS NULL OR i.customer_id = $4)) chased
             WHERE collector IS NOT NULL
             GROUP BY collector, currency
             ORDER BY collector, currency",
            chaser("i")
        ),
    )
    .persistent(false)
    .bind(query.from)
    .bind(query.to)
    .bind(subsidiary)
    .bind(customer)
    .fetch_all(pool).await)?;
    for (name, code, minor) in collected {
        let currency = stored::currency(&code)?;
        entry(&mut collectors, &name)
            .collected
            .push(from_minor(minor, currency));
    }
    // A collector's metrics show that collector's work alone.
    let wanted = query.collector.as_ref().map(PersonName::as_str);
    Ok(collectors
        .into_values()
        .filter(|figures| wanted.is_none_or(|name| figures.collector == name))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use receivables_domain::testing::date;

    #[test]
    fn a_period_runs_forward_and_at_most_a_year_and_a_day() {
        assert!(MetricsQuery::new(date("2026-03-31"), date("2026-03-01"), 3).is_err());
        // 2024 is a leap year: 366 days from 01-01 to 12-31.
        assert!(MetricsQuery::new(date("2024-01-01"), date("2024-12-31"), 3).is_ok());
        assert_eq!(
            MetricsQuery::new(date("2024-01-01"), date("2025-01-01"), 3),
            Err(PeriodError::TooLong {
                from: date("2024-01-01"),
                to: date("2025-01-01"),
                days: 367
            })
        );
    }

    #[test]
    fn months_are_counted_by_the_calendar() {
        assert_eq!(calendar_months(date("2026-03-01"), date("2026-03-31")), 1);
        assert_eq!(calendar_months(date("2026-03-15"), date("2026-04-14")), 2);
        assert_eq!(calendar_months(date("2025-11-01"), date("2026-01-31")), 3);
        assert_eq!(month_end(date("2024-02-10")), date("2024-02-29"));
        assert_eq!(month_end(date("2026-12-31")), date("2026-12-31"));
    }
}
