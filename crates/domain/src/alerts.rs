//! Early-warning alerts: what kinds there are, the thresholds a group watches, and the stable
//! id of each alert.
//!
//! An alert says once that something a credit controller or a collector must look at has
//! happened: an invoice accepted over the limit, a promise broken, a customer's oldest debt
//! ageing into a worse bucket, cash left unapplied too long, a dispute about to expire, an
//! instalment missed, a metric over its threshold. The read side finds them
//! (`projections/src/alerts/`); this module says what they are, so that their ids and
//! thresholds are the same wherever they are computed.
//!
//! The thresholds are a setting of the group (`account/alert_thresholds.rs`), one set for the
//! group and, optionally, one per subsidiary for the subsidiary's own metrics. Every threshold
//! is optional: a metric without one is not watched. A group that has set none is watched at
//! [`AlertThresholds::default_of_group`]: utilisation over 100 % (the limit breached) and
//! disputes within 7 days of their expiry.

use std::fmt;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::money::Money;
use crate::refusal::FieldViolation;

/// Highest overdue-rate threshold, in percent: the rate cannot exceed 100 %.
pub const OVERDUE_RATE_PERCENT_MAX: Decimal = Decimal::ONE_HUNDRED;
/// Highest utilisation threshold, in percent: ten times the limit.
pub const UTILISATION_PERCENT_MAX: u32 = 1_000;
/// Highest DSO or days-past-due threshold: ten years of days.
pub const THRESHOLD_DAYS_MAX: u32 = 3_650;
/// Longest an unapplied amount may wait, or a dispute be warned of before its expiry: a year
/// and a day.
pub const WINDOW_DAYS_MAX: u32 = 366;
/// Days before a dispute's expiry its alert is raised, until a group sets its own.
pub const DISPUTE_EXPIRY_DAYS_DEFAULT: u32 = 7;

/// What an alert is about. The names are the wire's and the NATS subjects' (`ar.alerts.<kind>.
/// <customer>`), so they never change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertKind {
    /// An invoice accepted over the customer's limit under a WARN policy.
    InvoiceOverLimit,
    /// A promise whose date and grace passed without the amount promised.
    PromiseBroken,
    /// The customer's oldest collectible debt entered 31-60 days past due.
    Aged31To60,
    /// ... entered 61-90 days past due.
    Aged61To90,
    /// ... went over 90 days past due.
    AgedOver90,
    /// Unapplied cash above the threshold for longer than its days.
    UnappliedCash,
    /// An open dispute within the threshold's days of its expiry.
    DisputeExpiring,
    /// An instalment of a plan past its date with something still open.
    InstalmentMissed,
    /// The overdue rate of the group or a subsidiary above its threshold.
    OverdueRate,
    /// The simple DSO of the group or a subsidiary above its threshold.
    Dso,
    /// A customer's exposure above the threshold's share of its limit.
    Utilisation,
    /// A customer's oldest collectible debt more days past due than the threshold.
    DaysPastDue,
}

impl AlertKind {
    pub const ALL: [AlertKind; 12] = [
        AlertKind::InvoiceOverLimit,
        AlertKind::PromiseBroken,
        AlertKind::Aged31To60,
        AlertKind::Aged61To90,
        AlertKind::AgedOver90,
        AlertKind::UnappliedCash,
        AlertKind::DisputeExpiring,
        AlertKind::InstalmentMissed,
        AlertKind::OverdueRate,
        AlertKind::Dso,
        AlertKind::Utilisation,
        AlertKind::DaysPastDue,
    ];

    /// The stable name (`aged_61_90`).
    pub fn name(self) -> &'static str {
        match self {
            AlertKind::InvoiceOverLimit => "invoice_over_limit",
            AlertKind::PromiseBroken => "promise_broken",
            AlertKind::Aged31To60 => "aged_31_60",
            AlertKind::Aged61To90 => "aged_61_90",
            AlertKind::AgedOver90 => "aged_over_90",
            AlertKind::UnappliedCash => "unapplied_cash",
            AlertKind::DisputeExpiring => "dispute_expiring",
            AlertKind::InstalmentMissed => "instalment_missed",
            AlertKind::OverdueRate => "overdue_rate",
            AlertKind::Dso => "dso",
            AlertKind::Utilisation => "utilisation",
            AlertKind::DaysPastDue => "days_past_due",
        }
    }

    /// The kind named `name`.
    pub fn parse(name: &str) -> Option<AlertKind> {
        AlertKind::ALL.into_iter().find(|kind| kind.name() == name)
    }

    /// The aging bucket a customer's oldest debt is in at `days` past due, from 31 days on.
    pub fn aged(days: u32) -> Option<AlertKind> {
        match days {
            0..=30 => None,
            31..=60 => Some(AlertKind::Aged31To60),
            61..=90 => Some(AlertKind::Aged61To90),
            _ => Some(AlertKind::AgedOver90),
        }
    }

    /// The first day past due of an aging kind's bucket.
    pub fn aged_from_days(self) -> Option<u32> {
        match self {
            AlertKind::Aged31To60 => Some(31),
            AlertKind::Aged61To90 => Some(61),
            AlertKind::AgedOver90 => Some(91),
            _ => None,
        }
    }

    /// Whether the kind is a metric of the group or of a subsidiary rather than of a customer.
    pub fn is_portfolio_metric(self) -> bool {
        matches!(self, AlertKind::OverdueRate | AlertKind::Dso)
    }
}

impl fmt::Display for AlertKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Unapplied cash worth an alert: more than `amount` (in its currency, other currencies
/// converted at the day's rates) for more than `days` days.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnappliedCashThreshold {
    pub amount: Money,
    pub days: u32,
}

/// The thresholds of the group or of one subsidiary; `None` leaves a metric unwatched.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct AlertThresholds {
    /// Overdue open amount over total open amount, in percent (0 < t <= 100).
    #[serde(default)]
    pub overdue_rate_percent: Option<Decimal>,
    /// Simple DSO over the last [`DSO_PERIOD_DAYS`] days, in days.
    #[serde(default)]
    pub dso_days: Option<u32>,
    /// A customer's exposure over its limit, in percent (0 < t <= 1,000).
    #[serde(default)]
    pub utilisation_percent: Option<Decimal>,
    /// Days past due of a customer's oldest collectible debt.
    #[serde(default)]
    pub days_past_due: Option<u32>,
    #[serde(default)]
    pub unapplied_cash: Option<UnappliedCashThreshold>,
    /// Days before a dispute's expiry date its alert is raised (0: on the day itself).
    #[serde(default)]
    pub dispute_expiry_days: Option<u32>,
}

/// The period the DSO threshold is measured over: the 90 days ending on the business date, so
/// that a month's first days do not make it jump.
pub const DSO_PERIOD_DAYS: u32 = 90;

impl AlertThresholds {
    /// What a group that has set no thresholds is watched at: utilisation over 100 % and
    /// disputes [`DISPUTE_EXPIRY_DAYS_DEFAULT`] days before their expiry.
    pub fn default_of_group() -> AlertThresholds {
        AlertThresholds {
            utilisation_percent: Some(Decimal::ONE_HUNDRED),
            dispute_expiry_days: Some(DISPUTE_EXPIRY_DAYS_DEFAULT),
            ..AlertThresholds::default()
        }
    }

    /// Every rule broken, each field under `path` (`thresholds.dso_days`).
    pub fn check(&self, path: &str) -> Vec<FieldViolation> {
        let mut violations = Vec::new();
        let mut percent = |field: &str, value: Option<Decimal>, max: Decimal| {
            if let Some(value) = value
                && (value <= Decimal::ZERO || value > max)
            {
                violations.push(FieldViolation::new(
                    format!("{path}.{field}"),
                    format!("must be above 0 and at most {max} percent, got {value}"),
                ));
            }
        };
        percent(
            "overdue_rate_percent",
            self.overdue_rate_percent,
            OVERDUE_RATE_PERCENT_MAX,
        );
        percent(
            "utilisation_percent",
            self.utilisation_percent,
            Decimal::from(UTILISATION_PERCENT_MAX),
        );
        for (field, value, min, max) in [
            ("dso_days", self.dso_days, 1, THRESHOLD_DAYS_MAX),
            ("days_past_due", self.days_past_due, 1, THRESHOLD_DAYS_MAX),
            (
                "dispute_expiry_days",
                self.dispute_expiry_days,
                0,
                WINDOW_DAYS_MAX,
            ),
        ] {
            if let Some(value) = value
                && !(min..=max).contains(&value)
            {
                violations.push(FieldViolation::new(
                    format!("{path}.{field}"),
                    format!("must be from {min} to {max} days, got {value}"),
                ));
            }
        }
        if let Some(unapplied) = &self.unapplied_cash {
            if unapplied.amount.amount() <= Decimal::ZERO {
                violations.push(FieldViolation::new(
                    format!("{path}.unapplied_cash.amount"),
                    format!("must be positive, got {}", unapplied.amount.amount()),
                ));
            }
            if unapplied.days > WINDOW_DAYS_MAX {
                violations.push(FieldViolation::new(
                    format!("{path}.unapplied_cash.days"),
                    format!(
                        "must be at most {WINDOW_DAYS_MAX} days, got {}",
                        unapplied.days
                    ),
                ));
            }
        }
        violations
    }

    /// Whether nothing is watched.
    pub fn is_empty(&self) -> bool {
        *self == AlertThresholds::default()
    }

    /// The subsidiary's own thresholds where it has them, else the group's, field by field.
    pub fn or(&self, group: &AlertThresholds) -> AlertThresholds {
        AlertThresholds {
            overdue_rate_percent: self.overdue_rate_percent.or(group.overdue_rate_percent),
            dso_days: self.dso_days.or(group.dso_days),
            utilisation_percent: self.utilisation_percent.or(group.utilisation_percent),
            days_past_due: self.days_past_due.or(group.days_past_due),
            unapplied_cash: self.unapplied_cash.or(group.unapplied_cash),
            dispute_expiry_days: self.dispute_expiry_days.or(group.dispute_expiry_days),
        }
    }
}

/// The stable id of an alert: its kind, whose it is (a customer, `_group`, or a subsidiary as
/// `_subsidiary:<id>`) and what it is about (an invoice, a promise, the day a condition began),
/// joined by `/`. The same history gives the same ids, whichever read model computes them,
/// which is what lets a client resume and NATS drop a republished alert.
pub fn alert_id(kind: AlertKind, owner: &str, subject: &str) -> String {
    format!("{}/{owner}/{subject}", kind.name())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bucket_of_the_oldest_debt_changes_on_days_31_61_and_91() {
        let cases = [
            (0, None),
            (30, None),
            (31, Some(AlertKind::Aged31To60)),
            (60, Some(AlertKind::Aged31To60)),
            (61, Some(AlertKind::Aged61To90)),
            (90, Some(AlertKind::Aged61To90)),
            (91, Some(AlertKind::AgedOver90)),
            (4_000, Some(AlertKind::AgedOver90)),
        ];
        for (days, kind) in cases {
            assert_eq!(AlertKind::aged(days), kind, "{days}");
        }
    }

    #[test]
    fn every_kind_is_found_by_its_name_and_the_names_differ() {
        let mut names: Vec<&str> = AlertKind::ALL.iter().map(|kind| kind.name()).collect();
        for kind in AlertKind::ALL {
            assert_eq!(AlertKind::parse(kind.name()), Some(kind));
        }
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), AlertKind::ALL.len());
        assert_eq!(AlertKind::parse("aged_121_150"), None);
    }

    #[test]
    fn every_bad_threshold_is_named_at_once() {
        let cny = crate::money::Currency::parse("CNY").unwrap();
        let thresholds = AlertThresholds {
            overdue_rate_percent: Some(Decimal::new(1005, 1)),
            dso_days: Some(0),
            utilisation_percent: Some(Decimal::ZERO),
            days_past_due: Some(3_651),
            unapplied_cash: Some(UnappliedCashThreshold {
                amount: Money::zero(cny),
                days: 367,
            }),
            dispute_expiry_days: Some(367),
        };
        let fields: Vec<String> = thresholds
            .check("thresholds")
            .into_iter()
            .map(|violation| violation.field)
            .collect();
        assert_eq!(
            fields,
            [
                "thresholds.overdue_rate_percent",
                "thresholds.utilisation_percent",
                "thresholds.dso_days",
                "thresholds.days_past_due",
                "thresholds.dispute_expiry_days",
                "thresholds.unapplied_cash.amount",
                "thresholds.unapplied_cash.days",
            ]
        );
    }

    #[test]
    fn a_subsidiary_falls_back_to_the_group_field_by_field() {
        let group = AlertThresholds {
            overdue_rate_percent: Some(Decimal::new(30, 0)),
            dso_days: Some(60),
            ..AlertThresholds::default()
        };
        let subsidiary = AlertThresholds {
            dso_days: Some(45),
            ..AlertThresholds::default()
        };
        let merged = subsidiary.or(&group);
        assert_eq!(merged.overdue_rate_percent, Some(Decimal::new(30, 0)));
        assert_eq!(merged.dso_days, Some(45));
        assert_eq!(merged.days_past_due, None);
    }
}
