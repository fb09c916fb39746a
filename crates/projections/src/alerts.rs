//! Early-warning alerts: found in the read model as of a business date, recorded once each in
//! the control database, read back in the order they were raised.
//!
//! An evaluation pass ([`evaluate`]) reads the live generation as of the business date and
//! lists what is true then; recording it ([`AlertStore::record`]) keeps what is new. What
//! raises an alert, with its id (`receivables_domain::alerts::alert_id`):
//!
//! ```text
//! invoice_over_limit  an invoice recorded over the limit (a WARN policy let it through);
//!                     once per invoice, at the invoice's position:  <customer>/<sub>/<number>
//! promise_broken      a promise Broken or PartiallyKept as of the date (its date and the
//!                     default grace passed without the amount): once per promise
//! aged_31_60,         the customer's oldest collectible overdue row (what no dispute holds
//! aged_61_90,         back) reached the bucket: once per episode and bucket, the id naming
//! aged_over_90        the day it entered (due date + 31, 61 or 91); an episode lasts while
//!                     something collectible is 31 days or more past due, so paying down to a
//!                     better bucket and worsening again raises nothing new until it passes
//!                     the worst bucket of the episode
//! days_past_due       that row more days past due than the threshold: once per episode,
//!                     naming the day it crossed (due date + threshold + 1)
//! unapplied_cash      a currency's unapplied cash above the threshold (converted at the day's
//!                     rates) continuously for more than its days: once per episode, naming
//!                     the currency and the day the run above began
//! dispute_expiring    a dispute holding on the date whose expiry is at most the threshold's
//!                     days away: once per dispute
//! instalment_missed   a row of the instalment plan holding on the date, due before it, with
//!                     something collectible open: once per plan row
//! utilisation         a customer's exposure above the threshold's share of its limit (the
//!                     exposure report's line): once per episode, naming the first day seen
//! overdue_rate, dso   the group's, or a subsidiary's, overdue rate or simple DSO over the
//!                     last 90 days (`metrics.rs`) above the threshold, in the group's
//!                     currency (or per currency without rates): once per episode, naming the
//!                     scope, the currency and the first day seen
//! ```
//!
//! A customer whose every overdue amount is disputed is not chased, so its debt raises no
//! aging, days-past-due or instalment alert while the dispute holds (it may still expire).
//!
//! An episode's condition is kept (`alert_conditions`) while the evaluation finds it true and
//! dropped the first time it does not, so that the next time it becomes true raises a new
//! alert. A pass that did not look at a family of conditions (the portfolio metrics are not
//! computed on every pass) leaves its conditions alone.
//!
//! Alerts live beside the control table (`ReadStore::control_pool`), outside every generation:
//! a rebuild neither loses nor repeats them, and a restarted service goes on from the last one.
//! Each is numbered (`seq`) in the order recorded, one pass at a time (a row of `alert_cursors`
//! locks the recording on both engines, so that two read sides on one database number them
//! once), which is the order a client reads and resumes them in. Each records the business date
//! it was raised on and the log position that raised it: the event's for an invoice over the
//! limit, the read model's at the pass for what the date raised.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write as _;

use chrono::{Days, NaiveDate};
use receivables_domain::alerts::{AlertKind, AlertThresholds, DSO_PERIOD_DAYS, alert_id};
use receivables_domain::metrics::Metric;
use receivables_domain::{Currency, Money, Position};
use rust_decimal::Decimal;

use crate::database::{ReadPool, on_engine};
use crate::error::ProjectionError;
use crate::exposure::{self, days_past_due, invoice_balances};
use crate::ledger::GROUP_SCOPE;
use crate::metrics::{MetricsQuery, metrics};
use crate::minor_units::from_minor;
use crate::open_amounts::{UNAPPLIED_MOVES, open_items, open_rows};
use crate::promises::{Filter, PROMISE_GRACE_DAYS_DEFAULT, PromiseStatus, evaluate as promises};
use crate::rates::rates_on;
use crate::runtime::applied_by_all;
use crate::stored;

/// Most alerts read back in one call.
pub const ALERTS_PER_READ_MAX: u32 = 1_000;

/// The owner of an alert about the group's or a subsidiary's metrics.
pub const GROUP_OWNER: &str = GROUP_SCOPE;

/// The alert-side tables, created with the control database's own statements.
const CREATE_TABLES: [&str; 4] = [
    "CREATE TABLE IF NOT EXISTS alerts (
         seq           BIGINT NOT NULL PRIMARY KEY CHECK (seq > 0),
         alert_id      TEXT   NOT NULL UNIQUE,
         kind          TEXT   NOT NULL,
         customer_id   TEXT   NOT NULL,
         subsidiary_id TEXT   NOT NULL,
         subject       TEXT   NOT NULL,
         raised_on     DATE   NOT NULL,
         position      BIGINT NOT NULL CHECK (position >= 0),
         detail        TEXT   NOT NULL,
         value         TEXT   NOT NULL,
         threshold     TEXT   NOT NULL
     )",
    "CREATE TABLE IF NOT EXISTS alert_conditions (
         condition_key TEXT   NOT NULL PRIMARY KEY,
         family        TEXT   NOT NULL,
         level         BIGINT NOT NULL,
         alert_id      TEXT   NOT NULL
     )",
    "CREATE TABLE IF NOT EXISTS alert_cursors (
         name  TEXT   NOT NULL PRIMARY KEY,
         value BIGINT NOT NULL
     )",
    "INSERT INTO alert_cursors (name, value) VALUES ('recording', 0)
     ON CONFLICT (name) DO NOTHING",
];

/// Taken first by every recording transaction: PostgreSQL locks the row, SQLite its one write
/// lock, so passes record one after the other.
const LOCK_RECORDING: &str = "UPDATE alert_cursors SET value = value + 1 WHERE name = 'recording'";

/// The cursor of the invoices over the limit already looked at: the highest position seen.
const OVER_LIMIT_CURSOR: &str = "invoices_over_limit";

const SELECT_ALERTS: &str = "SELECT seq, alert_id, kind, customer_id, subsidiary_id, subject,
        raised_on, position, detail, value, threshold
 FROM alerts WHERE seq > $1 ORDER BY seq LIMIT $2";

/// An alert as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alert {
    /// Its number in the order alerts were recorded: where a client resumes.
    pub seq: u64,
    /// Stable: `<kind>/<owner>/<subject>` (`receivables_domain::alerts::alert_id`).
    pub id: String,
    pub kind: AlertKind,
    /// The customer, or [`GROUP_OWNER`] for a metric of the group or of a subsidiary.
    pub customer: String,
    /// The subsidiary it concerns, when one does (an invoice's, a promise's, a metric's scope).
    pub subsidiary: Option<String>,
    /// What it is about, as its id names it (after the owner).
    pub subject: String,
    /// The business date of the pass that raised it.
    pub raised_on: NaiveDate,
    /// The log position that raised it.
    pub position: Position,
    /// In words, with its numbers.
    pub detail: String,
    /// The figure that crossed a threshold ("42.50" percent, "61" days), or empty.
    pub value: String,
    /// The threshold it crossed, or empty.
    pub threshold: String,
}

/// Which alerts a watcher wants: every one when empty.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AlertFilter {
    /// Only these kinds; empty: every kind.
    pub kinds: BTreeSet<AlertKind>,
    /// Only this customer's (or [`GROUP_OWNER`]'s).
    pub customer: Option<String>,
    /// Only those concerning this subsidiary.
    pub subsidiary: Option<String>,
}

impl AlertFilter {
    pub fn matches(&self, alert: &Alert) -> bool {
        (self.kinds.is_empty() || self.kinds.contains(&alert.kind))
            && self.customer.as_ref().is_none_or(|c| *c == alert.customer)
            && self
                .subsidiary
                .as_ref()
                .is_none_or(|s| alert.subsidiary.as_ref() == Some(s))
    }
}

/// An episode an alert belongs to: a condition that stays true over several passes.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Condition {
    key: String,
    /// What a pass evaluates together (the kind's name; `aged` for the three buckets).
    family: &'static str,
    /// How far the episode has gone (the aging bucket); a higher level raises a new alert.
    level: i64,
}

/// What a pass found true: an alert, if it is new.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    kind: AlertKind,
    customer: String,
    subsidiary: Option<String>,
    subject: String,
    condition: Option<Condition>,
    detail: String,
    value: String,
    threshold: String,
    /// The event that raised it; the pass's position when none did.
    position: Option<Position>,
}

impl Candidate {
    fn new(kind: AlertKind, customer: &str, subject: String, detail: String) -> Self {
        Candidate {
            kind,
            customer: customer.to_owned(),
            subsidiary: None,
            subject,
            condition: None,
            detail,
            value: String::new(),
            threshold: String::new(),
            position: None,
        }
    }

    fn episode(mut self, key: String, family: &'static str, level: i64) -> Self {
        self.condition = Some(Condition { key, family, level });
        self
    }

    fn crossing(mut self, value: impl ToString, threshold: impl ToString) -> Self {
        self.value = value.to_string();
        self.threshold = threshold.to_string();
        self
    }

    fn id(&self) -> String {
        alert_id(self.kind, &self.customer, &self.subject)
    }
}

/// What one evaluation pass found, as of a business date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pass {
    pub business_date: NaiveDate,
    /// The read model's position when the pass began.
    pub position: Position,
    candidates: Vec<Candidate>,
    /// The families whose conditions the pass looked at: the others are left alone.
    families: BTreeSet<&'static str>,
    /// The highest position of an invoice over the limit seen.
    over_limit_through: Option<Position>,
}

impl Pass {
    /// The alerts found, new or not, in the order they would be recorded.
    pub fn found(&self) -> impl Iterator<Item = String> + '_ {
        self.candidates.iter().map(Candidate::id)
    }
}

/// Where alerts are kept: the control database.
#[derive(Debug, Clone)]
pub struct AlertStore {
    pool: ReadPool,
}

type AlertRow = (
    i64,
    String,
    String,
    String,
    String,
    String,
    NaiveDate,
    i64,
    String,
    String,
    String,
);

impl AlertStore {
    /// The store on `control` (`ReadStore::control_pool`), its tables created if missing.
    pub async fn open(control: ReadPool) -> Result<Self, ProjectionError> {
        for statement in CREATE_TABLES {
            on_engine!(&control, pool => sqlx::query(statement).execute(pool).await.map(|_| ()))?;
        }
        Ok(AlertStore { pool: control })
    }

    /// Up to `limit` alerts recorded after `after`, in order.
    pub async fn after(&self, after: u64, limit: u32) -> Result<Vec<Alert>, ProjectionError> {
        let after = i64::try_from(after).unwrap_or(i64::MAX);
        let limit = i64::from(limit.clamp(1, ALERTS_PER_READ_MAX));
        let rows: Vec<AlertRow> = on_engine!(&self.pool, pool => {
            sqlx::query_as(SELECT_ALERTS).bind(after).bind(limit).fetch_all(pool).await
        })?;
        rows.into_iter().map(alert).collect()
    }

    /// The number of the last alert recorded (0: none).
    pub async fn last_seq(&self) -> Result<u64, ProjectionError> {
        const LAST: &str = "SELECT CAST(COALESCE(MAX(seq), 0) AS BIGINT) FROM alerts";
        let (last,): (i64,) =
            on_engine!(&self.pool, pool => sqlx::query_as(LAST).fetch_one(pool).await)?;
        u64::try_from(last).map_err(|_| ProjectionError::Stored(format!("alert seq {last}")))
    }

    /// A cursor's value (0 when never set).
    pub async fn cursor(&self, name: &str) -> Result<u64, ProjectionError> {
        const SELECT: &str = "SELECT value FROM alert_cursors WHERE name = $1";
        let row: Option<(i64,)> = on_engine!(&self.pool, pool => {
            sqlx::query_as(SELECT).bind(name).fetch_optional(pool).await
        })?;
        Ok(row.map_or(0, |(value,)| u64::try_from(value).unwrap_or(0)))
    }

    /// Sets a cursor (a publisher's last alert sent, the invoices over the limit looked at).
    pub async fn set_cursor(&self, name: &str, value: u64) -> Result<(), ProjectionError> {
        const UPSERT: &str = "INSERT INTO alert_cursors (name, value) VALUES ($1, $2)
             ON CONFLICT (name) DO UPDATE SET value = EXCLUDED.value";
        let value = i64::try_from(value).unwrap_or(i64::MAX);
        on_engine!(&self.pool, pool => {
            sqlx::query(UPSERT).bind(name).bind(value).execute(pool).await.map(|_| ())
        })?;
        Ok(())
    }

    /// Records what `pass` found that is new, in one transaction, and returns it numbered.
    pub async fn record(&self, pass: &Pass) -> Result<Vec<Alert>, ProjectionError> {
        on_engine!(&self.pool, pool => {
            let mut transaction = pool.begin().await?;
            sqlx::query(LOCK_RECORDING).execute(&mut *transaction).await?;
            let (last,): (i64,) = sqlx::query_as(
                "SELECT CAST(COALESCE(MAX(seq), 0) AS BIGINT) FROM alerts",
            )
            .fetch_one(&mut *transaction)
            .await?;
            let held: Vec<(String, String, i64)> =
                sqlx::query_as("SELECT condition_key, family, level FROM alert_conditions")
                    .fetch_all(&mut *transaction)
                    .await?;
            let plan = plan(pass, &held, last);
            for key in &plan.dropped {
                sqlx::query("DELETE FROM alert_conditions WHERE condition_key = $1")
                    .bind(key)
                    .execute(&mut *transaction)
                    .await?;
            }
            let mut recorded: Vec<Alert> = Vec::new();
            for (candidate, mut alert) in plan.raised {
                // Numbered as inserted: an id recorded before (a condition that ended and came
                // back on the same day) is skipped without leaving a gap that a client resuming
                // would wait on.
                alert.seq = u64::try_from(last).unwrap_or(0) + recorded.len() as u64 + 1;
                let inserted = sqlx::query(
                    "INSERT INTO alerts (seq, alert_id, kind, customer_id, subsidiary_id,
                         subject, raised_on, position, detail, value, threshold)
                     SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11
                     WHERE NOT EXISTS (SELECT 1 FROM alerts WHERE alert_id = $2)",
                )
                .bind(i64::try_from(alert.seq).unwrap_or(i64::MAX))
                .bind(&alert.id)
                .bind(alert.kind.name())
                .bind(&alert.customer)
                .bind(alert.subsidiary.as_deref().unwrap_or(""))
                .bind(&alert.subject)
                .bind(alert.raised_on)
                .bind(i64::try_from(alert.position.get()).unwrap_or(i64::MAX))
                .bind(&alert.detail)
                .bind(&alert.value)
                .bind(&alert.threshold)
                .execute(&mut *transaction)
                .await?
                .rows_affected();
                if let Some(condition) = &candidate.condition {
                    sqlx::query(
                        "INSERT INTO alert_conditions (condition_key, family, level, alert_id)
                         VALUES ($1, $2, $3, $4)
                         ON CONFLICT (condition_key) DO UPDATE SET level = EXCLUDED.level,
                             alert_id = EXCLUDED.alert_id",
                    )
                    .bind(&condition.key)
                    .bind(condition.family)
                    .bind(condition.level)
                    .bind(&alert.id)
                    .execute(&mut *transaction)
                    .await?;
                }
                if inserted == 1 {
                    recorded.push(alert);
                }
            }
            if let Some(through) = pass.over_limit_through {
                sqlx::query(
                    "INSERT INTO alert_cursors (name, value) VALUES ($1, $2)
                     ON CONFLICT (name) DO UPDATE SET value = EXCLUDED.value",
                )
                .bind(OVER_LIMIT_CURSOR)
                .bind(i64::try_from(through.get()).unwrap_or(i64::MAX))
                .execute(&mut *transaction)
                .await?;
            }
            transaction.commit().await?;
            Ok(recorded)
        })
    }
}

/// What recording a pass changes: the conditions that ended, the alerts to raise.
struct Plan {
    dropped: Vec<String>,
    raised: Vec<(Candidate, Alert)>,
}

/// Decides, from the conditions held, which of the pass's candidates are new: a one-off alert
/// always is (its insert skips an id already recorded); an episode's only when its condition is
/// not held, or held at a lower level. Conditions of the families the pass looked at and no
/// longer found are dropped.
fn plan(pass: &Pass, held: &[(String, String, i64)], last: i64) -> Plan {
    let held_levels: HashMap<&str, i64> = held
        .iter()
        .map(|(key, _, level)| (key.as_str(), *level))
        .collect();
    let found: BTreeSet<&str> = pass
        .candidates
        .iter()
        .filter_map(|candidate| candidate.condition.as_ref().map(|c| c.key.as_str()))
        .collect();
    let dropped = held
        .iter()
        .filter(|(key, family, _)| {
            pass.families.contains(family.as_str()) && !found.contains(key.as_str())
        })
        .map(|(key, _, _)| key.clone())
        .collect();
    let mut next = u64::try_from(last).unwrap_or(0);
    let mut raised = Vec::new();
    for candidate in &pass.candidates {
        if let Some(condition) = &candidate.condition
            && held_levels
                .get(condition.key.as_str())
                .is_some_and(|level| *level >= condition.level)
        {
            continue;
        }
        next += 1;
        let alert = Alert {
            seq: next,
            id: candidate.id(),
            kind: candidate.kind,
            customer: candidate.customer.clone(),
            subsidiary: candidate.subsidiary.clone(),
            subject: candidate.subject.clone(),
            raised_on: pass.business_date,
            position: candidate.position.unwrap_or(pass.position),
            detail: candidate.detail.clone(),
            value: candidate.value.clone(),
            threshold: candidate.threshold.clone(),
        };
        raised.push((candidate.clone(), alert));
    }
    Plan { dropped, raised }
}

fn alert(row: AlertRow) -> Result<Alert, ProjectionError> {
    let (
        seq,
        id,
        kind,
        customer,
        subsidiary,
        subject,
        raised_on,
        position,
        detail,
        value,
        threshold,
    ) = row;
    Ok(Alert {
        seq: u64::try_from(seq).map_err(|_| ProjectionError::Stored(format!("alert seq {seq}")))?,
        kind: AlertKind::parse(&kind)
            .ok_or_else(|| ProjectionError::Stored(format!("alert kind {kind:?}")))?,
        id,
        customer,
        subsidiary: (!subsidiary.is_empty()).then_some(subsidiary),
        subject,
        raised_on,
        position: Position::new(
            u64::try_from(position)
                .map_err(|_| ProjectionError::Stored(format!("alert position {position}")))?,
        ),
        detail,
        value,
        threshold,
    })
}

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
            if scope == GROUP_SCOPE {
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

/// One evaluation pass as of `today` over the read model `read`; `portfolio` says whether to
/// compute the group's and subsidiaries' metrics too (the costliest part: see the server's
/// interval).
pub async fn evaluate(
    read: &ReadPool,
    store: &AlertStore,
    today: NaiveDate,
    portfolio: bool,
) -> Result<Pass, ProjectionError> {
    let position = applied_by_all(read).await?;
    let thresholds = Thresholds::load(read).await?;
    let mut pass = Pass {
        business_date: today,
        position,
        candidates: Vec::new(),
        families: BTreeSet::new(),
        over_limit_through: None,
    };
    let from = store.cursor(OVER_LIMIT_CURSOR).await?;
    pass.over_limit_through = over_limit(read, from, &mut pass.candidates).await?;
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
        );
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
        .crossing(left, days);
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
        );
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
    for line in exposure::all_lines(read, today).await? {
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
        let scope = subsidiary.as_deref().unwrap_or(GROUP_OWNER);
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
                    GROUP_OWNER,
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

#[cfg(test)]
mod tests {
    use super::*;
    use receivables_domain::testing::date;

    fn pass(candidates: Vec<Candidate>, families: &[&'static str]) -> Pass {
        Pass {
            business_date: date("2026-11-02"),
            position: Position::new(40),
            candidates,
            families: families.iter().copied().collect(),
            over_limit_through: None,
        }
    }

    fn aged(customer: &str, from_days: i64) -> Candidate {
        Candidate::new(
            AlertKind::aged(u32::try_from(from_days).unwrap()).unwrap(),
            customer,
            format!("entered {from_days}"),
            String::new(),
        )
        .episode(format!("aged/{customer}"), "aged", from_days)
    }

    #[test]
    fn an_episode_raises_once_per_worse_bucket_and_ends_when_not_found() {
        // Given C-1 held at 31-60 and C-2 at 61-90
        let held = vec![
            ("aged/C-1".to_owned(), "aged".to_owned(), 31),
            ("aged/C-2".to_owned(), "aged".to_owned(), 61),
        ];
        // When C-1 is found at 61-90, C-2 back at 31-60, and C-3 at 31-60 for the first time
        let found = pass(
            vec![aged("C-1", 61), aged("C-2", 31), aged("C-3", 31)],
            &["aged"],
        );
        let plan = plan(&found, &held, 7);
        // Then C-1's and C-3's alerts are raised, numbered on from 7, and nothing ends
        let raised: Vec<(u64, String)> = plan
            .raised
            .iter()
            .map(|(_, alert)| (alert.seq, alert.id.clone()))
            .collect();
        assert_eq!(
            raised,
            [
                (8, "aged_61_90/C-1/entered 61".to_owned()),
                (9, "aged_31_60/C-3/entered 31".to_owned())
            ]
        );
        assert!(plan.dropped.is_empty());
        // And a pass that no longer finds C-2 ends its episode
        let plan = super::plan(&pass(vec![aged("C-1", 61)], &["aged"]), &held, 9);
        assert_eq!(plan.dropped, ["aged/C-2"]);
    }

    #[test]
    fn a_pass_leaves_the_families_it_did_not_look_at_alone() {
        let held = vec![(
            "overdue_rate/_group/CNY".to_owned(),
            "overdue_rate".to_owned(),
            0,
        )];
        let plan = plan(&pass(Vec::new(), &["aged", "utilisation"]), &held, 0);
        assert!(plan.dropped.is_empty());
        let plan = super::plan(&pass(Vec::new(), &["overdue_rate"]), &held, 0);
        assert_eq!(plan.dropped, ["overdue_rate/_group/CNY"]);
    }

    #[test]
    fn a_one_off_alert_takes_the_passs_position_unless_an_event_raised_it() {
        let mut over = Candidate::new(
            AlertKind::InvoiceOverLimit,
            "C-1",
            "S1/INV-1".to_owned(),
            String::new(),
        );
        over.position = Some(Position::new(12));
        let broken = Candidate::new(
            AlertKind::PromiseBroken,
            "C-1",
            "P-1".to_owned(),
            String::new(),
        );
        let plan = plan(&pass(vec![over, broken], &[]), &[], 0);
        let positions: Vec<u64> = plan
            .raised
            .iter()
            .map(|(_, alert)| alert.position.get())
            .collect();
        assert_eq!(positions, [12, 40]);
    }
}
