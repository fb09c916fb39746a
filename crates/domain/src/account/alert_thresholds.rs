//! Alert thresholds (预警指标): the group says at what overdue rate, DSO, utilisation, days past
//! due, unapplied cash and nearness of a dispute's expiry it wants to be told (`alerts.rs`),
//! for the whole group or for one subsidiary's own metrics.
//!
//! A setting of the whole group, so an event of the group's own account
//! ([`crate::ids::CustomerId::group`]), like the exchange rates: auditors see who changed a
//! threshold, when and why. Each event replaces the whole set of its scope (the group's, or one
//! subsidiary's); a threshold left out is no longer watched there. It applies from the moment
//! it is recorded: alerts are raised as the read side meets the thresholds, not back-dated.
//! Nothing a command decides depends on it, so the account keeps no state of it.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::credit_limit::check_reason;
use super::feature::{CommandRules, Decide, DecisionContext, EventRules, Scope};
use super::state::AccountState;
use crate::alerts::AlertThresholds;
use crate::ids::{CommandId, PersonName, SubsidiaryId};
use crate::limits::REASON_LENGTH_MAX;
use crate::refusal::{FieldViolation, Refusal};
use crate::rules::{InvalidEvent, invalid, required_text};

/// Set the thresholds of the group (no subsidiary) or of one subsidiary.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetAlertThresholds {
    /// The subsidiary whose own metrics these thresholds watch; none: the group's.
    pub subsidiary_id: Option<SubsidiaryId>,
    pub thresholds: AlertThresholds,
    pub reason: String,
    pub approved_by: PersonName,
}

/// The group set the thresholds of the group or of one subsidiary, replacing the scope's
/// earlier ones.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertThresholdsSet {
    pub subsidiary_id: Option<SubsidiaryId>,
    pub thresholds: AlertThresholds,
    pub reason: String,
    pub approved_by: PersonName,
}

impl CommandRules for SetAlertThresholds {
    fn subsidiary_id(&self) -> Option<&SubsidiaryId> {
        None
    }

    fn check(&self) -> Vec<FieldViolation> {
        let mut violations = self.thresholds.check("thresholds");
        check_reason(&mut violations, &self.reason);
        violations
    }

    fn effective_date(&self, context: &DecisionContext) -> NaiveDate {
        context.today()
    }

    fn scope(&self) -> Scope {
        Scope::Group
    }
}

impl Decide for SetAlertThresholds {
    type Event = AlertThresholdsSet;

    fn decide(
        &self,
        _state: &AccountState,
        _command_id: CommandId,
        _context: &DecisionContext,
    ) -> Result<AlertThresholdsSet, Refusal> {
        Ok(AlertThresholdsSet {
            subsidiary_id: self.subsidiary_id.clone(),
            thresholds: self.thresholds.clone(),
            reason: self.reason.clone(),
            approved_by: self.approved_by.clone(),
        })
    }
}

impl EventRules for AlertThresholdsSet {
    fn subsidiary_id(&self) -> Option<&SubsidiaryId> {
        None
    }

    fn takes_effect(&self) -> Option<(&'static str, NaiveDate)> {
        None
    }

    fn check(&self) -> Result<(), InvalidEvent> {
        if let Some(violation) = self.thresholds.check("data.thresholds").first() {
            return Err(invalid(violation.field.clone(), &violation.description));
        }
        required_text("data.reason", &self.reason, REASON_LENGTH_MAX)
    }

    fn evolve(&self, _state: &mut AccountState, _command_id: CommandId) -> Result<(), String> {
        Ok(())
    }

    fn scope(&self) -> Scope {
        Scope::Group
    }
}

#[cfg(feature = "testing")]
impl AlertThresholdsSet {
    /// Valid thresholds for tests: the group's overdue rate over 30 % and DSO over 60 days.
    pub fn sample() -> Self {
        use rust_decimal::Decimal;
        AlertThresholdsSet {
            subsidiary_id: None,
            thresholds: AlertThresholds {
                overdue_rate_percent: Some(Decimal::from(30)),
                dso_days: Some(60),
                ..AlertThresholds::default_of_group()
            },
            reason: "group credit policy 2027".to_owned(),
            approved_by: PersonName::parse("Chen Jing").expect("a name"),
        }
    }

    /// The command this event records.
    pub fn command(&self) -> SetAlertThresholds {
        SetAlertThresholds {
            subsidiary_id: self.subsidiary_id.clone(),
            thresholds: self.thresholds.clone(),
            reason: self.reason.clone(),
            approved_by: self.approved_by.clone(),
        }
    }
}
