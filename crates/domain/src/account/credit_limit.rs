//! Credit limits: the group credit department sets the customer's one group-wide limit, the
//! policy for invoices that would go over it (block or warn) and the customer's grade.
//!
//! A change needs a reason and an approver, which the event keeps for the auditors. It may set
//! an overdue hold: new invoices and credit reservations refused while the customer owes
//! anything more than so many days overdue (`credit_check.rs`). It takes
//! effect on its effective date (the day it is recorded when none is given); the account checks
//! every later invoice against the latest terms.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::feature::{CommandRules, Decide, DecisionContext, EventRules};
use super::state::AccountState;
use crate::credit::{CreditGrade, CreditPolicy, CreditTerms};
use crate::ids::{CommandId, PersonName, SubsidiaryId};
use crate::limits::{OVERDUE_HOLD_DAYS_MAX, REASON_LENGTH_MAX};
use crate::money::Money;
use crate::refusal::{FieldViolation, Refusal};
use crate::rules::{InvalidEvent, check_text, free_text, invalid};

/// The credit department sets the customer's group-wide limit, policy and grade.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeCreditLimit {
    pub limit: Money,
    pub policy: CreditPolicy,
    pub grade: CreditGrade,
    pub reason: String,
    pub approved_by: PersonName,
    /// The business date from which the limit applies; `None` means the day it is recorded.
    pub effective_date: Option<NaiveDate>,
    /// The overdue hold set with the limit ([`CreditTerms::overdue_hold_days`]); `None`: none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub overdue_hold_days: Option<u32>,
}

/// The overdue hold's days: at most [`OVERDUE_HOLD_DAYS_MAX`]. Shared with the wire mapping.
pub fn check_overdue_hold(violations: &mut Vec<FieldViolation>, days: Option<u32>) {
    if let Some(days) = days.filter(|d| *d > OVERDUE_HOLD_DAYS_MAX) {
        violations.push(FieldViolation::new(
            "overdue_hold_days",
            format!("at most {OVERDUE_HOLD_DAYS_MAX} days, got {days}"),
        ));
    }
}

/// The reason of a change: required, bounded free text. Shared with the wire mapping.
pub fn check_reason(violations: &mut Vec<FieldViolation>, reason: &str) {
    if reason.trim().is_empty() {
        violations.push(FieldViolation::new("reason", "a reason is required"));
    } else {
        check_text(violations, "reason", reason, REASON_LENGTH_MAX);
    }
}

/// The limit: zero (no credit at all) or more. Shared with the wire mapping.
pub fn check_limit(violations: &mut Vec<FieldViolation>, limit: &Money) {
    if limit.amount() < Decimal::ZERO {
        violations.push(FieldViolation::new(
            "limit.amount",
            format!("must not be negative, got {}", limit.amount()),
        ));
    }
}

/// The credit department changed the customer's limit, policy or grade.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreditLimitChanged {
    pub limit: Money,
    pub policy: CreditPolicy,
    pub grade: CreditGrade,
    pub reason: String,
    pub approved_by: PersonName,
    /// The overdue hold set with the limit; absent from the events recorded before holds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub overdue_hold_days: Option<u32>,
}

impl CommandRules for ChangeCreditLimit {
    fn subsidiary_id(&self) -> Option<&SubsidiaryId> {
        None
    }

    fn check(&self) -> Vec<FieldViolation> {
        let mut violations = Vec::new();
        check_limit(&mut violations, &self.limit);
        check_reason(&mut violations, &self.reason);
        check_overdue_hold(&mut violations, self.overdue_hold_days);
        violations
    }

    fn effective_date(&self, context: &DecisionContext) -> NaiveDate {
        self.effective_date.unwrap_or_else(|| context.today())
    }
}

impl Decide for ChangeCreditLimit {
    type Event = CreditLimitChanged;

    fn decide(
        &self,
        _state: &AccountState,
        _command_id: CommandId,
        _context: &DecisionContext,
    ) -> Result<CreditLimitChanged, Refusal> {
        Ok(CreditLimitChanged {
            limit: self.limit,
            policy: self.policy,
            grade: self.grade,
            reason: self.reason.clone(),
            approved_by: self.approved_by.clone(),
            overdue_hold_days: self.overdue_hold_days,
        })
    }
}

impl EventRules for CreditLimitChanged {
    fn subsidiary_id(&self) -> Option<&SubsidiaryId> {
        None
    }

    fn takes_effect(&self) -> Option<(&'static str, NaiveDate)> {
        None
    }

    fn check(&self) -> Result<(), InvalidEvent> {
        if self.limit.amount() < Decimal::ZERO {
            return Err(invalid("data.limit", "is negative"));
        }
        if self.reason.trim().is_empty() {
            return Err(invalid("data.reason", "a reason is required"));
        }
        if self
            .overdue_hold_days
            .is_some_and(|days| days > OVERDUE_HOLD_DAYS_MAX)
        {
            return Err(invalid(
                "data.overdue_hold_days",
                format!("is above {OVERDUE_HOLD_DAYS_MAX}"),
            ));
        }
        free_text("data.reason", &self.reason, REASON_LENGTH_MAX)
    }

    fn evolve(&self, state: &mut AccountState, _command_id: CommandId) -> Result<(), String> {
        state.credit = Some(CreditTerms {
            limit: self.limit,
            policy: self.policy,
            grade: self.grade,
            overdue_hold_days: self.overdue_hold_days,
        });
        Ok(())
    }
}

#[cfg(feature = "testing")]
impl CreditLimitChanged {
    /// A valid credit-limit change for tests: 50,000.00 CNY under BLOCK, grade B.
    pub fn sample() -> Self {
        CreditLimitChanged {
            limit: Money::cny("50000.00"),
            policy: CreditPolicy::Block,
            grade: CreditGrade::B,
            reason: "annual review".to_owned(),
            approved_by: PersonName::parse("Chen Jing").expect("a name"),
            overdue_hold_days: None,
        }
    }

    /// The command this event records (effective the day it is recorded).
    pub fn command(&self) -> ChangeCreditLimit {
        ChangeCreditLimit {
            limit: self.limit,
            policy: self.policy,
            grade: self.grade,
            reason: self.reason.clone(),
            approved_by: self.approved_by.clone(),
            effective_date: None,
            overdue_hold_days: self.overdue_hold_days,
        }
    }
}
