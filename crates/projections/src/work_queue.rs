//! The collector work queue as of a business date: one item per customer and currency with an
//! overdue balance, the most urgent first.
//!
//! For a customer and a currency, as of `as_of`:
//!
//! ```text
//! overdue          = open amount (as of as_of) of the rows invoices are due in with
//!                    due_date < as_of, less the part a dispute holds back on as_of
//!                    (`open_amounts::open_rows`: an invoice's own due date, its schedule's
//!                    rows, or the instalment plan's holding then); listed when > 0
//! days_past_due    = as_of - due_date of the oldest overdue row with something open that no
//!                    dispute holds back
//! failed_promises  = the customer's promises (any currency) that are Broken or PartiallyKept
//!                    as of as_of, with the grace period of the query (see `promises`)
//! escalation       = Reminder 1-15 days past due, Call 16-30, DemandLetter 31-60,
//!                    StopSupply 61-90, LegalOrAgency over 90
//! days_since_contact = as_of - the day of the customer's last contact on or before as_of
//!                    (`activities.rs`); days_past_due when it has none
//! score            = weights.amount * overdue (in major units of its currency)
//!                  + weights.days * days_past_due
//!                  + weights.failed_promise * failed_promises
//!                  + weights.since_contact * days_since_contact
//! ```
//!
//! The default weights are 0.001 per major unit overdue (10.00 points per 10,000.00), 1 per day
//! past due and 25 per failed promise: a failed promise weighs as much as 25 more days overdue.
//! Days since the last contact weigh nothing unless the query gives them a weight (a team that
//! wants accounts nobody has called lately to rise sets it); the rule names the term only then.
//! A customer never contacted counts as uncontacted for as long as it has been overdue.
//! A partially kept promise weighs as much as a broken one: either way the date the customer gave
//! has passed without the amount it promised, which is what a collector follows up. A promise
//! still open counts for nothing, even partly paid: its date and grace have not passed yet.
//! The score compares amounts in different currencies as numbers, without conversion. Every
//! item carries its `rule`: the formula with its numbers, as a collector would check it.
//!
//! A customer with an Open promise whose promised date is on or after `as_of` (partly paid or
//! not) is snoozed until the day after the latest such promised date, and a customer whose last
//! contact planned its next action after `as_of` until that day; the later of the two holds.
//! Its items are left out unless the query includes snoozed items, which then carry
//! `snoozed_until`. Snoozing and the failed promises count belong to the customer, whatever
//! the promise's currency. Every item carries the customer's last contact.
//!
//! The collector of an item is the one assigned to the customer (`CollectorAssigned`, the
//! customers projection); for a customer with none, the default collector of the subsidiary
//! owed the largest collectible overdue amount of the item among the subsidiaries that have a
//! default (the lower subsidiary id on a tie), and the item names that subsidiary. An item with
//! neither has no collector, and a collector filter leaves it out. The assignments are today's,
//! whatever the as-of date: the queue says who works on an account now.
//!
//! Unapplied cash is not netted against the overdue amount (it is shown by the exposure and
//! aging reports). A disputed amount is still owed (aging and exposure show it) but dunning
//! pauses for it while the dispute holds: from the day it was opened until it is resolved
//! (collectible again from the resolution date) or its expiry date has passed (collectible
//! again from the day after).
//!
//! Order: score descending, then customer id, then currency; pages as in [`crate::paging`].

use std::collections::HashMap;

use chrono::{Days, NaiveDate};
use receivables_domain::ids::PersonName;
use receivables_domain::{Currency, CustomerId, Money, SubsidiaryId};
use rust_decimal::Decimal;

use crate::activities::{Activity, last_contacts};
use crate::customers::{self, Assignments};
use crate::database::ReadPool;
use crate::error::ProjectionError;
use crate::exposure::{CollectibleBySubsidiary, days_past_due, invoice_balances_by_subsidiary};
use crate::minor_units::from_minor;
use crate::paging::{Cursor, PAGE_SIZE_DEFAULT, PageRequestError, Paged, check_page_size, page};
use crate::promises::{Filter, PROMISE_GRACE_DAYS_DEFAULT, PromiseLine, PromiseStatus, evaluate};
use crate::stored;

/// Last day past due of the Reminder level (from day 1).
pub const REMINDER_DAYS_MAX: u32 = 15;
/// Last day past due of the Call level.
pub const CALL_DAYS_MAX: u32 = 30;
/// Last day past due of the DemandLetter level.
pub const DEMAND_LETTER_DAYS_MAX: u32 = 60;
/// Last day past due of the StopSupply level; later is LegalOrAgency.
pub const STOP_SUPPLY_DAYS_MAX: u32 = 90;

/// Largest weight a query may set. With overdue amounts bounded by 64-bit minor units, every
/// score stays far inside `Decimal`'s range.
pub const WEIGHT_MAX: i64 = 1_000_000;

const TOKEN_KIND: &str = "work-queue";

/// How far collection has gone, by days past due of the oldest overdue invoice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum EscalationLevel {
    Reminder,
    Call,
    DemandLetter,
    StopSupply,
    LegalOrAgency,
}

impl EscalationLevel {
    /// The level for `days` past due; none when nothing is past due.
    pub fn for_days_past_due(days: u32) -> Option<EscalationLevel> {
        let level = if days == 0 {
            return None;
        } else if days <= REMINDER_DAYS_MAX {
            EscalationLevel::Reminder
        } else if days <= CALL_DAYS_MAX {
            EscalationLevel::Call
        } else if days <= DEMAND_LETTER_DAYS_MAX {
            EscalationLevel::DemandLetter
        } else if days <= STOP_SUPPLY_DAYS_MAX {
            EscalationLevel::StopSupply
        } else {
            EscalationLevel::LegalOrAgency
        };
        Some(level)
    }

    /// What the collector does next at this level.
    pub fn next_action(self) -> &'static str {
        match self {
            EscalationLevel::Reminder => "send a payment reminder",
            EscalationLevel::Call => "call the customer",
            EscalationLevel::DemandLetter => "send a formal demand letter",
            EscalationLevel::StopSupply => "stop supply until the account is settled",
            EscalationLevel::LegalOrAgency => "hand over to legal or a collection agency",
        }
    }
}

/// Why a work-queue weight was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("weight {name} must be between 0 and {WEIGHT_MAX}, got {value}")]
pub struct WeightError {
    pub name: &'static str,
    pub value: Decimal,
}

/// The weights of the priority score (see the module's formula).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WorkQueueWeights {
    /// Points per major unit (yuan, dollar) overdue. Default 0.001.
    pub amount: Decimal,
    /// Points per day past due of the oldest overdue invoice. Default 1.
    pub days: Decimal,
    /// Points per failed promise (broken or partially kept). Default 25. The request names it
    /// `broken_promise`, from when only broken promises counted.
    pub failed_promise: Decimal,
    /// Points per day since the customer's last contact. Default 0.
    pub since_contact: Decimal,
}

impl Default for WorkQueueWeights {
    fn default() -> Self {
        WorkQueueWeights {
            amount: Decimal::new(1, 3),
            days: Decimal::ONE,
            failed_promise: Decimal::new(25, 0),
            since_contact: Decimal::ZERO,
        }
    }
}

/// What an item's score is computed from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScoreInputs {
    pub overdue: Money,
    pub days_past_due: u32,
    pub failed_promises: u32,
    pub days_since_contact: u32,
}

impl WorkQueueWeights {
    /// Checks every weight: 0..=[`WEIGHT_MAX`].
    pub fn check(&self) -> Result<(), WeightError> {
        for (name, value) in [
            ("amount", self.amount),
            ("days", self.days),
            ("failed_promise", self.failed_promise),
            ("since_contact", self.since_contact),
        ] {
            if value < Decimal::ZERO || value > Decimal::from(WEIGHT_MAX) {
                return Err(WeightError { name, value });
            }
        }
        Ok(())
    }

    /// The score of an item (normalised: no trailing zeros).
    pub fn score(&self, inputs: ScoreInputs) -> Decimal {
        (self.amount * inputs.overdue.amount()
            + self.days * Decimal::from(inputs.days_past_due)
            + self.failed_promise * Decimal::from(inputs.failed_promises)
            + self.since_contact * Decimal::from(inputs.days_since_contact))
        .normalize()
    }

    /// The score's computation in words and numbers; the days since the last contact only when
    /// they weigh something.
    pub fn rule(&self, inputs: ScoreInputs) -> String {
        let since_contact = if self.since_contact.is_zero() {
            String::new()
        } else {
            format!(
                " + {} * {} days since the last contact",
                self.since_contact.normalize(),
                inputs.days_since_contact
            )
        };
        format!(
            "{} * {} {} overdue + {} * {} days past due + {} * {} broken or partially kept \
             promises{since_contact} = {}",
            self.amount.normalize(),
            inputs.overdue.amount(),
            inputs.overdue.currency(),
            self.days.normalize(),
            inputs.days_past_due,
            self.failed_promise.normalize(),
            inputs.failed_promises,
            self.score(inputs),
        )
    }
}

/// A validated request for a page of the work queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkQueueQuery {
    as_of: NaiveDate,
    /// Only the items of this collector.
    pub collector: Option<PersonName>,
    /// List snoozed customers too (with `snoozed_until`).
    pub include_snoozed: bool,
    /// Grace days after a promised date during which payments still count for the promise.
    pub grace_days: u32,
    weights: WorkQueueWeights,
    page_size: u32,
    after: Option<Cursor>,
}

impl WorkQueueQuery {
    /// The first page of [`PAGE_SIZE_DEFAULT`] items, default weights and grace, unfiltered,
    /// snoozed customers left out.
    pub fn new(as_of: NaiveDate) -> Self {
        WorkQueueQuery {
            as_of,
            collector: None,
            include_snoozed: false,
            grace_days: PROMISE_GRACE_DAYS_DEFAULT,
            weights: WorkQueueWeights::default(),
            page_size: PAGE_SIZE_DEFAULT,
            after: None,
        }
    }

    /// Sets the weights, each in 0..=[`WEIGHT_MAX`].
    pub fn with_weights(mut self, weights: WorkQueueWeights) -> Result<Self, WeightError> {
        weights.check()?;
        self.weights = weights;
        Ok(self)
    }
}

impl Paged for WorkQueueQuery {
    fn with_page_size(mut self, page_size: u32) -> Result<Self, PageRequestError> {
        self.page_size = check_page_size(page_size)?;
        Ok(self)
    }

    /// Continues after the page that returned `token` (a work-queue token for the same date).
    fn with_page_token(mut self, token: &str) -> Result<Self, PageRequestError> {
        self.after = Some(Cursor::from_token(token, TOKEN_KIND, self.as_of)?);
        Ok(self)
    }
}

impl WorkQueueQuery {
    pub fn as_of(&self) -> NaiveDate {
        self.as_of
    }

    pub fn weights(&self) -> WorkQueueWeights {
        self.weights
    }

    pub fn page_size(&self) -> u32 {
        self.page_size
    }
}

/// One customer's overdue balance in one currency, to be worked on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkItem {
    pub customer: CustomerId,
    pub currency: Currency,
    pub overdue: Money,
    /// Due date of the oldest overdue invoice still open.
    pub oldest_due_date: NaiveDate,
    pub days_past_due: u32,
    /// The customer's promises, in any currency, broken or partially kept as of the date.
    pub failed_promises: u32,
    pub escalation: EscalationLevel,
    /// The collector assigned to the customer, else the default collector of a subsidiary.
    pub collector: Option<PersonName>,
    /// The subsidiary whose default collector `collector` is; `None` when the collector is
    /// assigned to the customer itself (or there is none).
    pub collector_default_of: Option<SubsidiaryId>,
    /// The customer's name, once registered.
    pub customer_name: Option<String>,
    pub score: Decimal,
    /// How the score was computed, with the numbers.
    pub rule: String,
    /// Present when the customer is snoozed: the first day it is back in the queue.
    pub snoozed_until: Option<NaiveDate>,
    /// The customer's last contact on or before the date.
    pub last_contact: Option<Activity>,
    /// Days from the last contact to the date; days past due when there was none.
    pub days_since_contact: u32,
}

/// A page of the work queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkQueuePage {
    pub items: Vec<WorkItem>,
    /// Present when more items follow: pass it to [`Paged::with_page_token`].
    pub next_page_token: Option<String>,
}

/// The day a promise stops snoozing its customer, when it snoozes it as of `as_of`: an Open
/// promise (partly paid or not) whose promised date is not before `as_of` snoozes until the day
/// after. A kept promise has been paid, and a partially kept or broken one is past its date:
/// neither is anything to wait for.
pub fn snoozes_until(
    status: PromiseStatus,
    promised_date: NaiveDate,
    as_of: NaiveDate,
) -> Option<NaiveDate> {
    if status == PromiseStatus::Open && promised_date >= as_of {
        Some(
            promised_date
                .checked_add_days(Days::new(1))
                .unwrap_or(NaiveDate::MAX),
        )
    } else {
        None
    }
}

/// What the promises say about one customer as of the date.
#[derive(Debug, Default)]
struct PromiseSummary {
    /// Broken or partially kept.
    failed: u32,
    snoozed_until: Option<NaiveDate>,
}

fn summarise(promises: Vec<PromiseLine>, as_of: NaiveDate) -> HashMap<String, PromiseSummary> {
    let mut summaries: HashMap<String, PromiseSummary> = HashMap::new();
    for line in promises {
        let summary = summaries
            .entry(line.customer.as_str().to_owned())
            .or_default();
        if matches!(
            line.status,
            PromiseStatus::Broken | PromiseStatus::PartiallyKept
        ) {
            summary.failed = summary.failed.saturating_add(1);
        }
        let until = snoozes_until(line.status, line.promised_date, as_of);
        summary.snoozed_until = summary.snoozed_until.max(until);
    }
    summaries
}

/// The collector of an item, from today's assignments (the customers projection).
impl Assignments {
    /// The collector of a customer's item, and the subsidiary whose default it is (see the
    /// module's documentation).
    fn of<'a>(
        &'a self,
        customer: &str,
        by_subsidiary: &'a CollectibleBySubsidiary,
    ) -> (Option<&'a PersonName>, Option<&'a str>) {
        if let Some(collector) = self.customers.get(customer) {
            return (Some(collector), None);
        }
        // The largest amount, and among equal amounts the lower subsidiary id (compared
        // reversed, so that it is the greater).
        by_subsidiary
            .iter()
            .filter_map(|(subsidiary, minor)| {
                self.defaults
                    .get(subsidiary)
                    .map(|collector| (*minor, subsidiary.as_str(), collector))
            })
            .max_by(|a, b| a.0.cmp(&b.0).then_with(|| b.1.cmp(a.1)))
            .map_or((None, None), |(_, subsidiary, collector)| {
                (Some(collector), Some(subsidiary))
            })
    }
}

/// A page of the work queue as `query` asks.
pub async fn work_queue(
    pool: &ReadPool,
    query: &WorkQueueQuery,
) -> Result<WorkQueuePage, ProjectionError> {
    let as_of = query.as_of;
    let balances = invoice_balances_by_subsidiary(pool, as_of).await?;
    let collectors = Assignments::load(pool).await?;
    let summaries = summarise(
        evaluate(pool, &Filter::all(), as_of, query.grace_days).await?,
        as_of,
    );
    let contacts = last_contacts(pool, as_of).await?;
    let no_promises = PromiseSummary::default();
    let mut items = Vec::new();
    for ((customer_id, code), (balance, by_subsidiary)) in balances {
        // Dunning pauses for what a dispute holds back: only the collectible part is chased.
        let Some(oldest_due_date) = balance.oldest_collectible_due else {
            continue;
        };
        if balance.collectible_overdue_minor <= 0 {
            continue;
        }
        let summary = summaries.get(&customer_id).unwrap_or(&no_promises);
        let last_contact = contacts.get(&customer_id);
        let snoozed_until = summary
            .snoozed_until
            .max(last_contact.and_then(|contact| contact.snoozes_until(as_of)));
        if snoozed_until.is_some() && !query.include_snoozed {
            continue;
        }
        let (collector, collector_default_of) = collectors.of(&customer_id, &by_subsidiary);
        if query.collector.is_some() && collector != query.collector.as_ref() {
            continue;
        }
        let collector = collector.cloned();
        let collector_default_of = collector_default_of.map(stored::subsidiary).transpose()?;
        let days = days_past_due(as_of, oldest_due_date);
        let escalation = EscalationLevel::for_days_past_due(days).ok_or_else(|| {
            ProjectionError::Stored(format!(
                "{customer_id} has an overdue invoice due {oldest_due_date}, not before {as_of}"
            ))
        })?;
        let overdue = from_minor(balance.collectible_overdue_minor, stored::currency(&code)?);
        let days_since_contact =
            last_contact.map_or(days, |contact| days_past_due(as_of, contact.occurred_on));
        let inputs = ScoreInputs {
            overdue,
            days_past_due: days,
            failed_promises: summary.failed,
            days_since_contact,
        };
        let weights = query.weights;
        items.push(WorkItem {
            customer: stored::customer(&customer_id)?,
            currency: overdue.currency(),
            overdue,
            oldest_due_date,
            days_past_due: days,
            failed_promises: summary.failed,
            escalation,
            collector,
            collector_default_of,
            customer_name: None,
            score: weights.score(inputs),
            // Written for the page's items alone, below.
            rule: String::new(),
            snoozed_until,
            last_contact: last_contact.cloned(),
            days_since_contact,
        });
    }
    let key = |item: &WorkItem| Cursor {
        value: Some(item.score),
        customer: item.customer.clone(),
        currency: item.currency,
    };
    let (mut items, next) = page(items, key, query.after.as_ref(), query.page_size);
    let customers: Vec<&CustomerId> = items.iter().map(|item| &item.customer).collect();
    let mut names = customers::names(pool, &customers).await?;
    for item in &mut items {
        item.customer_name = names.remove(item.customer.as_str());
        item.rule = query.weights.rule(ScoreInputs {
            overdue: item.overdue,
            days_past_due: item.days_past_due,
            failed_promises: item.failed_promises,
            days_since_contact: item.days_since_contact,
        });
    }
    Ok(WorkQueuePage {
        items,
        next_page_token: next.map(|cursor| cursor.token(TOKEN_KIND, as_of)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use receivables_domain::testing::date;

    #[test]
    fn escalation_levels_change_at_the_documented_boundaries() {
        use EscalationLevel::*;
        let cases = [
            (0, None),
            (1, Some(Reminder)),
            (15, Some(Reminder)),
            (16, Some(Call)),
            (30, Some(Call)),
            (31, Some(DemandLetter)),
            (60, Some(DemandLetter)),
            (61, Some(StopSupply)),
            (90, Some(StopSupply)),
            (91, Some(LegalOrAgency)),
            (u32::MAX, Some(LegalOrAgency)),
        ];
        for (days, level) in cases {
            assert_eq!(EscalationLevel::for_days_past_due(days), level, "{days}");
        }
    }

    #[test]
    fn the_score_and_its_rule_follow_the_weights() {
        let cny = Currency::parse("CNY").unwrap();
        let inputs = ScoreInputs {
            overdue: Money::positive("2700", cny).unwrap(),
            days_past_due: 91,
            failed_promises: 2,
            days_since_contact: 12,
        };
        let weights = WorkQueueWeights::default();
        // 0.001 * 2700 + 1 * 91 + 25 * 2 = 2.7 + 91 + 50; the days since contact weigh 0
        assert_eq!(weights.score(inputs).to_string(), "143.7");
        assert_eq!(
            weights.rule(inputs),
            "0.001 * 2700.00 CNY overdue + 1 * 91 days past due \
             + 25 * 2 broken or partially kept promises = 143.7"
        );
        let heavy = WorkQueueWeights {
            amount: Decimal::new(1, 2),
            days: Decimal::new(200, 2),
            failed_promise: Decimal::new(100, 0),
            since_contact: Decimal::new(5, 1),
        };
        // 0.01 * 2700 + 2 * 91 + 100 * 2 + 0.5 * 12 = 27 + 182 + 200 + 6
        assert_eq!(heavy.score(inputs).to_string(), "415");
        assert_eq!(
            heavy.rule(inputs),
            "0.01 * 2700.00 CNY overdue + 2 * 91 days past due \
             + 100 * 2 broken or partially kept promises + 0.5 * 12 days since the last contact \
             = 415"
        );
        assert!(heavy.check().is_ok());
    }

    #[test]
    fn weights_are_bounded() {
        let negative = WorkQueueWeights {
            days: Decimal::new(-1, 0),
            ..WorkQueueWeights::default()
        };
        assert_eq!(
            negative.check(),
            Err(WeightError {
                name: "days",
                value: Decimal::new(-1, 0)
            })
        );
        let huge = WorkQueueWeights {
            failed_promise: Decimal::from(WEIGHT_MAX + 1),
            ..WorkQueueWeights::default()
        };
        assert!(huge.check().is_err());
        let zero = WorkQueueWeights {
            amount: Decimal::ZERO,
            days: Decimal::ZERO,
            failed_promise: Decimal::from(WEIGHT_MAX),
            since_contact: Decimal::ZERO,
        };
        let negative_contact = WorkQueueWeights {
            since_contact: Decimal::new(-1, 2),
            ..WorkQueueWeights::default()
        };
        assert_eq!(
            negative_contact.check().map_err(|e| e.name),
            Err("since_contact")
        );
        assert!(zero.check().is_ok());
    }

    #[test]
    fn an_open_promise_snoozes_until_the_day_after_its_date() {
        let promised = date("2026-07-05");
        let open = PromiseStatus::Open;
        assert_eq!(
            snoozes_until(open, promised, date("2026-06-30")),
            Some(date("2026-07-06"))
        );
        assert_eq!(
            snoozes_until(open, promised, date("2026-07-05")),
            Some(date("2026-07-06"))
        );
        assert_eq!(snoozes_until(open, promised, date("2026-07-06")), None);
        for status in [
            PromiseStatus::Kept,
            PromiseStatus::PartiallyKept,
            PromiseStatus::Broken,
        ] {
            assert_eq!(snoozes_until(status, promised, date("2026-06-30")), None);
        }
    }
}
