//! Early-warning alerts: found in the read model as of a business date, recorded once each in
//! the control database, read back in the order they were raised.
//!
//! An evaluation pass ([`evaluate`]) reads the live generation as of the business date and
//! lists what is true then; recording it ([`AlertStore::record`]) keeps what is new. A pass of
//! [`PassScope::Events`] looks only for what an event raises on its own (an invoice over the
//! limit), cheaply, after every batch; a pass of the whole book for everything else. What
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
//! alert. What happens once (a promise broken, a dispute about to expire, a row missed) is held
//! the same way under its own id, so that a pass does not try to record again what every pass
//! finds; should it be found again after it ended, its id, already recorded, is not raised. A pass that did not look at a family of conditions (the portfolio metrics are not
//! computed on every pass) leaves its conditions alone.
//!
//! Alerts live beside the control table (`ReadStore::control_pool`), outside every generation:
//! a rebuild neither loses nor repeats them, and a restarted service goes on from the last one.
//! Each is numbered (`seq`) in the order recorded, one pass at a time (a row of `alert_cursors`
//! locks the recording on both engines, so that two read sides on one database number them
//! once), which is the order a client reads and resumes them in. Each records the business date
//! it was raised on and the log position that raised it: the event's for an invoice over the
//! limit, the read model's at the pass for what the date raised.
//!
//! `found.rs` finds them (one function per kind); `store.rs` keeps them.

mod found;
mod store;

use std::collections::BTreeSet;

use chrono::NaiveDate;
use receivables_domain::Position;
use receivables_domain::alerts::{AlertKind, alert_id};

pub use found::{PassScope, Thresholds, evaluate};
pub use store::AlertStore;

/// Most alerts read back in one call.
pub const ALERTS_PER_READ_MAX: u32 = 1_000;

/// An alert as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alert {
    /// Its number in the order alerts were recorded: where a client resumes.
    pub seq: u64,
    /// Stable: `<kind>/<owner>/<subject>` (`receivables_domain::alerts::alert_id`).
    pub id: String,
    pub kind: AlertKind,
    /// The customer, or the group's own account
    /// ([`GROUP_ACCOUNT_ID`](receivables_domain::ids::GROUP_ACCOUNT_ID)) for a metric of the
    /// group or of a subsidiary.
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
    /// Only this customer's (or the group's own account's).
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

    /// Held while it is found, so that a pass does not try to record it again: what happens
    /// once (a promise broken, a row missed) is found on every pass after.
    fn held(self) -> Self {
        let key = self.id();
        let family = self.kind.name();
        self.episode(key, family, 0)
    }

    fn crossing(mut self, value: impl ToString, threshold: impl ToString) -> Self {
        self.value = value.to_string();
        self.threshold = threshold.to_string();
        self
    }

    fn id(&self) -> String {
        alert_id(self.kind, &self.customer, &self.subject)
    }

    /// The alert it raises in `pass`, numbered `seq`: at the position of the event that raised
    /// it, else at the pass's.
    fn alert(&self, seq: u64, pass: &Pass) -> Alert {
        Alert {
            seq,
            id: self.id(),
            kind: self.kind,
            customer: self.customer.clone(),
            subsidiary: self.subsidiary.clone(),
            subject: self.subject.clone(),
            raised_on: pass.business_date,
            position: self.position.unwrap_or(pass.position),
            detail: self.detail.clone(),
            value: self.value.clone(),
            threshold: self.threshold.clone(),
        }
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
