//! Finding the alerts: one function per kind, each turning the read model as of the business
//! date into candidates (see the module above for what raises each).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use chrono::{Days, NaiveDate};
use receivables_domain::alerts::{AlertKind, AlertThresholds, DSO_PERIOD_DAYS};
use receivables_domain::ids::GROUP_ACCOUNT_ID;
use receivables_domain::metrics::Metric;
use receivables_domain::{Currency, Money, Position};
use rust_decimal::Decimal;

use super::store::OVER_LIMIT_CURSOR;
use super::{AlertStore, Candidate, Pass};
use crate::database::{ReadPool, on_engine};
use crate::error::ProjectionError;
use crate::exposure::{self, days_past_due, invoice_balances};
use crate::metrics::{MetricsQuery, metrics};
use crate::minor_units::from_minor;
use crate::open_amounts::{UNAPPLIED_MOVES, open_items, open_rows};
use crate::promises::{Filter, PROMISE_GRACE_DAYS_DEFAULT, PromiseStatus, evaluate as promises};
use crate::rates::rates_on;
use crate::runtime::applied_by_all;
use crate::stored;

/// The thresholds in force: the group's (its defaults until it sets any) and each subsidiary's
/// own, merged over the group's field by field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Thresholds {
    pub group: AlertThresholds,
    pub subsidiaries: BTreeMap<String, AlertThresholds>,
}

impl Thresholds {
    /// The thresholds in the read model.
    pub async fn load(read: &ReadPool) -> Result<Self, ProjectionError> {
        const SELECT: &str = "SELECT scope, thresholds FROM alert_thresholds ORDER BY scope";
        let rows: Vec<(String, String)> =
            on_engine!(read, pool => sqlx::query_as(SELECT).fetch_all(pool).await)?;
        let mut group = AlertThresholds::default_of_group();
        let mut own = BTreeMap::new();
        for (scope, text) in rows {
            let thresholds: AlertThresholds = serde_json::from_str(&text).map_err(|error| {
                ProjectionError::Stored(format!("alert thresholds of {scope}: {error}"))
            })?;
            if scope == GROUP_ACCOUNT_ID {
                group = thresholds;
            } else {
                own.insert(scope, thresholds);
            }
        }
        let subsidiaries = own
            .into_iter()
            .map(|(scope, thresholds)| (scope, thresholds.or(&group)))
            .collect();
        Ok(Thresholds {
            group,
            subsidiaries,
        })
    }

    /// A subsidiary's thresholds: its own over the group's, or the group's.
    pub fn of(&self, subsidiary: &str) -> &AlertThresholds {
        self.subsidiaries.get(subsidiary).unwrap_or(&self.group)
    }
}

/// How much of the read model a pass looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PassScope {
    /// What an event raises on its own, whatever the rest of the book says (an invoice
    /// accepted over the limit): one indexed read from where the last pass stopped, cheap
    /// enough to follow every batch the projector applies.
    Events,
    /// Everything else true as of the date, which costs a few agings of the whole group; with
    /// the group's and subsidiaries' metrics too when `portfolio`.
    Book { portfolio: bool },
}

/// One evaluation pass as of `today` over the read model `read`, as wide as `scope`.
pub async fn evaluate(
    read: &ReadPool,
    store: &AlertStore,
    today: NaiveDate,
    scope: PassScope,
) -> Result<Pass, ProjectionError> {
    let position = applied_by_all(read).await?;
    let mut pass = Pass {
        business_date: today,
        position,
        candidates: Vec::new(),
        families: BTreeSet::new(),
        over_limit_through: None,
    };
    let PassScope::Book { portfolio } = scope else {
        let from = store.cursor(OVER_LIMIT_CURSOR).await?;
        pass.over_limit_through = over_limit(read, from, &mut pass.candidates).await?;
        return Ok(pass);
    };
    let thresholds = Thresholds::load(read).await?;
    pass.families.extend([
        AlertKind::PromiseBroken.name(),
        AlertKind::DisputeExpiring.name(),
        AlertKind::InstalmentMissed.name(),
    ]);
    broken_promises(read, today, &mut pass.candidates).await?;
    pass.families
        .extend(["aged", AlertKind::DaysPastDue.name()]);
    oldest_debts(read, today, &thresholds.group, &mut pass.candidates).await?;
    pass.families.insert(AlertKind::UnappliedCash.name());
    if let Some(threshold) = &thresholds.group.unapplied_cash {
        unapplied_cash(read, today, threshold, &mut pass.candidates).await?;
    }
    if let Some(days) = thresholds.group.dispute_expiry_days {
        expiring_disputes(read, today, days, &mut pass.candidates).await?;
    }
    missed_instalments(read, today, &mut pass.candidates).await?;
    pass.families.insert(AlertKind::Utilisation.name());
    if let Some(percent) = thresholds.group.utilisation_percent {
        utilisation(read, today, percent, &mut pass.candidates).await?;
    }
    if portfolio {
        pass.families
            .extend([AlertKind::OverdueRate.name(), AlertKind::Dso.name()]);
        portfolio_metrics(read, today, &thresholds, &mut pass.candidates).await?;
    }
    Ok(pass)
}

/// The invoices recorded over the limit after position `from`; the highest position seen.
async fn over_limit(
    read: &ReadPool,
    from: u64,
    candidates: &mut Vec<Candidate>,
) -> Result<Option<Position>, ProjectionError> {
    const SELECT: &str = "SELECT subsidiary_id, invoice_number, customer_id, currency,
            amount_minor, issue_date, position
     FROM invoices WHERE over_limit AND position > $1 ORDER BY position";
    let rows: Vec<(String, String, String, String, i64, NaiveDate, i64)> = on_engine!(read, pool => {
        sqlx::query_as(SELECT)
            .bind(i64::try_from(from).unwrap_or(i64::MAX))
            .fetch_all(pool)
            .await
    })?;
    let mut through = None;
    for (subsidiary, number, customer, currency, amount, issued, position) in rows {
        let position = Position::new(u64::try_from(position).unwrap_or(0));
        let amount = from_minor(amount, stored::currency(&currency)?);
        let mut candidate = Candidate::new(
            AlertKind::InvoiceOverLimit,
            &customer,
            format!("{subsidiary}/{number}"),
            format!(
                "invoice {subsidiary}/{number} of {amount} issued {issued} was accepted over \
                 the customer's credit limit"
            ),
        );
        candidate.subsidiary = Some(subsidiary);
        candidate.position = Some(position);
        candidates.push(candidate);
        through = Some(position);
    }
    Ok(through)
}

/// The promises broken or partially kept as of `today`.
async fn broken_promises(
    read: &ReadPool,
    today: NaiveDate,
    candidates: &mut Vec<Candidate>,
) -> Result<(), ProjectionError> {
    for line in promises(read, &Filter::all(), today, PROMISE_GRACE_DAYS_DEFAULT).await? {
        if !matches!(
            line.status,
            PromiseStatus::Broken | PromiseStatus::PartiallyKept
        ) {
            continue;
        }
        let mut candidate = Candidate::new(
            AlertKind::PromiseBroken,
            line.customer.as_str(),
            line.promise_id.to_string(),
            format!(
                "promise of {} for {} (payments counted to {}) was not kept: {} paid",
                line.amount, line.promised_date, line.window_end, line.paid
            ),
        )
        .held();
        candidate.subsidiary = Some(line.subsidiary.to_string());
        candidates.push(candidate);
    }
    Ok(())
}

/// The aging bucket and days past due of each customer's oldest collectible overdue row.
async fn oldest_debts(
    read: &ReadPool,
    today: NaiveDate,
    thresholds: &AlertThresholds,
    candidates: &mut Vec<Candidate>,
) -> Result<(), ProjectionError> {
    let balances = invoice_balances(read, None, today).await?;
    // Per customer: the oldest collectible due date, and what is collectible per currency.
    let mut oldest: BTreeMap<String, (NaiveDate, Vec<Money>)> = BTreeMap::new();
    for ((customer, currency), balance) in balances {
        let Some(due) = balance.oldest_collectible_due else {
            continue;
        };
        if balance.collectible_overdue_minor <= 0 {
            continue;
        }
        let overdue = from_minor(
            balance.collectible_overdue_minor,
            stored::currency(&currency)?,
        );
        let entry = oldest.entry(customer).or_insert((due, Vec::new()));
        entry.0 = entry.0.min(due);
        entry.1.push(overdue);
    }
    for (customer, (due, overdue)) in oldest {
        let days = days_past_due(today, due);
        let amounts = overdue
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", ");
        if let Some(kind) = AlertKind::aged(days) {
            let from_days = kind.aged_from_days().unwrap_or(0);
            let entered = due
                .checked_add_days(Days::new(u64::from(from_days)))
                .unwrap_or(NaiveDate::MAX);
            candidates.push(
                Candidate::new(
                    kind,
                    &customer,
                    entered.to_string(),
                    format!(
                        "the oldest collectible debt, due {due}, is {days} days past due \
                         (entered the bucket on {entered}); collectible overdue: {amounts}"
                    ),
                )
                .episode(format!("aged/{customer}"), "aged", i64::from(from_days))
                .crossing(days, from_days),
            );
        }
        if let Some(limit) = thresholds.days_past_due
            && days > limit
        {
            let crossed = due
                .checked_add_days(Days::new(u64::from(limit) + 1))
                .unwrap_or(NaiveDate::MAX);
            candidates.push(
                Candidate::new(
                    AlertKind::DaysPastDue,
                    &customer,
                    crossed.to_string(),
                    format!(
                        "the oldest collectible debt, due {due}, is {days} days past due, \
                         over the threshold of {limit} since {crossed}; collectible overdue: \
                         {amounts}"
                    ),
                )
                .episode(
                    format!("{}/{customer}", AlertKind::DaysPastDue),
                    AlertKind::DaysPastDue.name(),
                    0,
                )
                .crossing(days, limit),
            );
        }
    }
    Ok(())
}

/// Each customer's unapplied cash per currency above the threshold for more than its days.
async fn unapplied_cash(
    read: &ReadPool,
    today: NaiveDate,
    threshold: &receivables_domain::alerts::UnappliedCashThreshold,
    candidates: &mut Vec<Candidate>,
) -> Result<(), ProjectionError> {
    let sql = format!(
        "WITH {UNAPPLIED_MOVES}
         SELECT customer_id, currency, moved_on, CAST(SUM(amount_minor) AS BIGINT)
         FROM unapplied_moves WHERE source = 'cash' AND moved_on <= $1
         GROUP BY customer_id, currency, moved_on
         ORDER BY customer_id, currency, moved_on"
    );
    let rows: Vec<(String, String, NaiveDate, i64)> = on_engine!(read, pool => {
        sqlx::query_as(&sql).bind(today).fetch_all(pool).await
    })?;
    let rates = rates_on(read, today).await?;
    let limit = threshold.amount;
    // The running balance of each customer and currency, day by day: when it rose above the
    // threshold and stayed there.
    let mut runs: BTreeMap<(String, String), (i64, Option<NaiveDate>)> = BTreeMap::new();
    for (customer, code, day, moved) in rows {
        let currency = stored::currency(&code)?;
        let run = runs.entry((customer, code)).or_insert((0, None));
        run.0 += moved;
        let above = match converted(from_minor(run.0, currency), limit.currency(), today, &rates) {
            Some(amount) => amount > limit.amount(),
            None => false,
        };
        run.1 = match (above, run.1) {
            (true, Some(since)) => Some(since),
            (true, None) => Some(day),
            (false, _) => None,
        };
    }
    for ((customer, code), (balance, since)) in runs {
        let Some(since) = since else { continue };
        let waited = (today - since).num_days();
        if waited <= i64::from(threshold.days) {
            continue;
        }
        let balance = from_minor(balance, stored::currency(&code)?);
        candidates.push(
            Candidate::new(
                AlertKind::UnappliedCash,
                &customer,
                format!("{code}/{since}"),
                format!(
                    "{balance} of unapplied cash, above {limit} since {since} ({waited} days, \
                     more than {})",
                    threshold.days
                ),
            )
            .episode(
                format!("{}/{customer}/{code}", AlertKind::UnappliedCash),
                AlertKind::UnappliedCash.name(),
                0,
            )
            .crossing(balance.amount(), limit.amount()),
        );
    }
    Ok(())
}

/// `amount` in `to` at the rates of `date`; itself in its own currency, none without a rate.
fn converted(
    amount: Money,
    to: Currency,
    date: NaiveDate,
    rates: &receivables_domain::exchange::ExchangeRates,
) -> Option<Decimal> {
    if amount.currency() == to {
        return Some(amount.amount());
    }
    rates
        .convert(amount, to, date)
        .ok()
        .map(|converted| converted.to.amount())
}

/// The disputes holding on `today` that expire within `days`.
async fn expiring_disputes(
    read: &ReadPool,
    today: NaiveDate,
    days: u32,
    candidates: &mut Vec<Candidate>,
) -> Result<(), ProjectionError> {
    const SELECT: &str = "SELECT d.dispute_id, d.customer_id, d.subsidiary_id, d.invoice_number,
            d.currency, d.amount_minor, d.holds_until
     FROM disputes d
     WHERE d.opened_on <= $1 AND d.holds_until >= $1 AND d.holds_until <= $2
       AND NOT EXISTS (SELECT 1 FROM dispute_resolutions r
                       WHERE r.dispute_id = d.dispute_id AND r.resolved_on <= $1)
     ORDER BY d.holds_until, d.dispute_id";
    let until = today
        .checked_add_days(Days::new(u64::from(days)))
        .unwrap_or(NaiveDate::MAX);
    let rows: Vec<(String, String, String, String, String, i64, NaiveDate)> = on_engine!(read, pool => {
        sqlx::query_as(SELECT).bind(today).bind(until).fetch_all(pool).await
    })?;
    for (dispute, customer, subsidiary, number, currency, amount, expires) in rows {
        let amount = from_minor(amount, stored::currency(&currency)?);
        let left = (expires - today).num_days();
        let mut candidate = Candidate::new(
            AlertKind::DisputeExpiring,
            &customer,
            dispute.clone(),
            format!(
                "dispute {dispute} of {amount} on invoice {subsidiary}/{number} expires on \
                 {expires}, in {left} days, unresolved"
            ),
        )
        .crossing(left, days)
        .held();
        candidate.subsidiary = Some(subsidiary);
        candidates.push(candidate);
    }
    Ok(())
}

/// The rows of instalment plans holding on `today`, due before it, with something collectible.
async fn missed_instalments(
    read: &ReadPool,
    today: NaiveDate,
    candidates: &mut Vec<Candidate>,
) -> Result<(), ProjectionError> {
    // Without any plan there is nothing to miss, and the rows would cost an aging.
    const ANY_PLAN: &str = "SELECT CAST(CASE WHEN EXISTS (SELECT 1 FROM instalment_plans)
                                       THEN 1 ELSE 0 END AS BIGINT)";
    let (any,): (i64,) = on_engine!(read, pool => sqlx::query_as(ANY_PLAN).fetch_one(pool).await)?;
    if any == 0 {
        return Ok(());
    }
    let sql = format!(
        "WITH {}{}
         SELECT customer_id, subsidiary_id, invoice_number, plan_id, row_index, due_date,
                currency, CAST(open_minor - disputed_minor AS BIGINT)
         FROM open_rows
         WHERE plan_id IS NOT NULL AND due_date < $1 AND open_minor - disputed_minor > 0
         ORDER BY customer_id, plan_id, row_index",
        open_items(false),
        open_rows()
    );
    type Row = (String, String, String, String, i32, NaiveDate, String, i64);
    let rows: Vec<Row> = on_engine!(read, pool => {
        sqlx::query_as(&sql)
            .bind(today)
            .bind(None::<String>)
            .bind(None::<String>)
            .bind(None::<String>)
            .fetch_all(pool)
            .await
    })?;
    for (customer, subsidiary, number, plan, row, due, currency, open) in rows {
        let open = from_minor(open, stored::currency(&currency)?);
        let late = days_past_due(today, due);
        let mut candidate = Candidate::new(
            AlertKind::InstalmentMissed,
            &customer,
            format!("{plan}/{}", row + 1),
            format!(
                "instalment {} of the plan on invoice {subsidiary}/{number}, due {due}, is \
                 {late} days late with {open} open",
                row + 1
            ),
        )
        .held();
        candidate.subsidiary = Some(subsidiary);
        candidates.push(candidate);
    }
    Ok(())
}

/// The customers whose exposure is above `percent` of their limit.
async fn utilisation(
    read: &ReadPool,
    today: NaiveDate,
    percent: Decimal,
    candidates: &mut Vec<Candidate>,
) -> Result<(), ProjectionError> {
    for line in exposure::lines(read, None, today).await? {
        let (Some(ratio), Some(limit)) = (line.utilisation, line.limit) else {
            continue;
        };
        let used = (ratio * Decimal::ONE_HUNDRED).normalize();
        if used <= percent {
            continue;
        }
        let customer = line.customer.as_str();
        candidates.push(
            Candidate::new(
                AlertKind::Utilisation,
                customer,
                today.to_string(),
                format!(
                    "exposure {} is {used} % of the limit {limit}, above the threshold of \
                     {percent} %",
                    line.exposure
                ),
            )
            .episode(
                format!("{}/{customer}", AlertKind::Utilisation),
                AlertKind::Utilisation.name(),
                0,
            )
            .crossing(used, percent.normalize()),
        );
    }
    Ok(())
}

/// The overdue rate and simple DSO of the group and of each subsidiary with invoices, over the
/// [`DSO_PERIOD_DAYS`] days ending on `today`, against their thresholds.
async fn portfolio_metrics(
    read: &ReadPool,
    today: NaiveDate,
    thresholds: &Thresholds,
    candidates: &mut Vec<Candidate>,
) -> Result<(), ProjectionError> {
    const SUBSIDIARIES: &str = "SELECT DISTINCT subsidiary_id FROM invoices ORDER BY 1";
    let from = today
        .checked_sub_days(Days::new(u64::from(DSO_PERIOD_DAYS - 1)))
        .unwrap_or(NaiveDate::MIN);
    let subsidiaries: Vec<(String,)> =
        on_engine!(read, pool => sqlx::query_as(SUBSIDIARIES).fetch_all(pool).await)?;
    let mut scopes: Vec<(Option<String>, &AlertThresholds)> = vec![(None, &thresholds.group)];
    scopes.extend(subsidiaries.into_iter().map(|(id,)| {
        let of = thresholds.of(&id);
        (Some(id), of)
    }));
    for (subsidiary, watched) in scopes {
        if watched.overdue_rate_percent.is_none() && watched.dso_days.is_none() {
            continue;
        }
        let mut query = MetricsQuery::new(from, today, PROMISE_GRACE_DAYS_DEFAULT)
            .map_err(|error| ProjectionError::Stored(error.to_string()))?;
        query.subsidiary = subsidiary.as_deref().map(stored::subsidiary).transpose()?;
        let report = metrics(read, &query).await?;
        // In the group's currency when there are rates, else each currency on its own.
        let figures = match report.in_group_currency {
            Some(group) => vec![group],
            None => report.currencies,
        };
        let scope = subsidiary.as_deref().unwrap_or(GROUP_ACCOUNT_ID);
        for currency in figures {
            for figure in currency.figures {
                let (kind, limit) = match figure.metric {
                    Metric::OverdueRate => (AlertKind::OverdueRate, watched.overdue_rate_percent),
                    Metric::DsoSimple => (AlertKind::Dso, watched.dso_days.map(Decimal::from)),
                    _ => continue,
                };
                let (Some(limit), Some(value)) = (limit, figure.value) else {
                    continue;
                };
                if value <= limit {
                    continue;
                }
                let mut inputs = String::new();
                for input in &figure.inputs {
                    let _ = write!(inputs, "{} {}; ", input.name, input.value.normalize());
                }
                let code = currency.currency.code();
                let mut candidate = Candidate::new(
                    kind,
                    GROUP_ACCOUNT_ID,
                    format!("{scope}/{code}/{today}"),
                    format!(
                        "{kind} of {} in {code}, {from} to {today}: {} over the threshold of \
                         {}; {} = {}",
                        subsidiary.as_deref().unwrap_or("the group"),
                        value.normalize(),
                        limit.normalize(),
                        figure.formula,
                        inputs.trim_end_matches("; ")
                    ),
                )
                .episode(format!("{kind}/{scope}/{code}"), kind.name(), 0)
                .crossing(value.normalize(), limit.normalize());
                candidate.subsidiary = subsidiary.clone();
                candidates.push(candidate);
            }
        }
    }
    Ok(())
}
