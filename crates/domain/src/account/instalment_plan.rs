//! Instalment plans (分期 / 协商还款): a collector and the customer agree to pay what an
//! overdue invoice owes in instalments, and the plan can be cancelled.
//!
//! A plan is a new schedule of what the invoice owed on the day it was agreed: rows with due
//! dates from that day on, adding up to that open amount exactly. While it holds, the invoice
//! is due by the plan's rows instead of its own (`AccountState`'s `schedule_on`, and the
//! reports' `open_amounts.rs`): the rows not yet due leave the overdue buckets and the work
//! queue, and a row missed is overdue again from the day after its due date. Payments settle
//! the plan's rows in due order, as they settle any schedule's. Cancelling it gives the invoice
//! back its own schedule from the cancellation date. One plan holds at a time: a second one is
//! agreed after cancelling the first.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::feature::{CommandRules, Decide, DecisionContext, EventRules};
use super::settlement::{invoice_of, refusal};
use super::state::{AccountState, PlanState};
use crate::ids::{CommandId, InvoiceKey, PersonName, SubsidiaryId};
use crate::limits::{NOTE_LENGTH_MAX, REASON_LENGTH_MAX};
use crate::money::Money;
use crate::refusal::{FieldViolation, Reason, Refusal};
use crate::rules::{
    InvalidEvent, business_date, check_not_ahead, check_required_text, check_text, free_text,
    invalid, positive, required_text,
};
use crate::terms::{ScheduleRow, check_schedule};

/// A collector agrees an instalment plan for an overdue invoice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgreeInstalmentPlan {
    pub invoice: InvoiceKey,
    /// The day the plan was agreed; no later than the service's date plus a day.
    pub agreed_on: NaiveDate,
    /// The instalments, in due order, due on or after `agreed_on`, adding up to what the
    /// invoice owes on `agreed_on`.
    pub rows: Vec<ScheduleRow>,
    pub collector: PersonName,
    pub note: String,
}

/// An instalment plan was agreed for an overdue invoice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstalmentPlanAgreed {
    /// The id of the command that agreed it: what its cancellation names.
    pub plan_id: CommandId,
    pub invoice: InvoiceKey,
    pub agreed_on: NaiveDate,
    /// What the invoice owed on `agreed_on`: the rows' total.
    pub open_amount: Money,
    /// What of it was overdue then.
    pub overdue_amount: Money,
    pub rows: Vec<ScheduleRow>,
    pub collector: PersonName,
    pub note: String,
}

/// Cancel the instalment plan holding on an invoice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CancelInstalmentPlan {
    pub invoice: InvoiceKey,
    /// From this day the invoice is due by its own schedule again.
    pub cancelled_on: NaiveDate,
    pub reason: String,
}

/// The instalment plan of an invoice was cancelled.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstalmentPlanCancelled {
    pub plan_id: CommandId,
    pub invoice: InvoiceKey,
    pub agreed_on: NaiveDate,
    pub cancelled_on: NaiveDate,
    pub reason: String,
}

/// The rows' own rules, whatever the invoice: the schedule rules with the rows' total as the
/// total (so that what must match the invoice is checked against the account).
fn check_rows(
    violations: &mut Vec<FieldViolation>,
    path: &str,
    rows: &[ScheduleRow],
    agreed_on: NaiveDate,
) {
    let currency = rows.first().map(|r| r.amount.currency());
    let total: Decimal = rows
        .iter()
        .filter(|r| Some(r.amount.currency()) == currency)
        .map(|r| r.amount.amount())
        .sum();
    match currency {
        Some(currency) => check_schedule(
            violations,
            path,
            rows,
            Money::of(total, currency),
            agreed_on,
            "agreement date",
        ),
        None => violations.push(FieldViolation::new(path, "at least one row is required")),
    }
}

impl CommandRules for AgreeInstalmentPlan {
    fn subsidiary_id(&self) -> Option<&SubsidiaryId> {
        Some(&self.invoice.subsidiary_id)
    }

    fn check(&self) -> Vec<FieldViolation> {
        let mut violations = Vec::new();
        check_rows(&mut violations, "rows", &self.rows, self.agreed_on);
        check_text(&mut violations, "note", &self.note, NOTE_LENGTH_MAX);
        violations
    }

    fn effective_date(&self, _context: &DecisionContext) -> NaiveDate {
        self.agreed_on
    }
}

impl Decide for AgreeInstalmentPlan {
    type Event = InstalmentPlanAgreed;

    fn decide(
        &self,
        account: &AccountState,
        command_id: CommandId,
        context: &DecisionContext,
    ) -> Result<InstalmentPlanAgreed, Refusal> {
        let mut dates = Vec::new();
        check_not_ahead(&mut dates, "agreed_on", self.agreed_on, context.today());
        if !dates.is_empty() {
            return Err(Refusal::invalid(dates));
        }
        let invoice = invoice_of(account, &self.invoice)?;
        let currency = invoice.amount.currency();
        if let Some(row) = self.rows.iter().find(|r| r.amount.currency() != currency) {
            return Err(refusal(
                Reason::CurrencyMismatch,
                &self.invoice,
                format!(
                    "the invoice is in {currency}, the instalments in {}",
                    row.amount.currency()
                ),
            ));
        }
        if let Some(plan) = invoice.plan_from(self.agreed_on) {
            return Err(refusal(
                Reason::PlanAlreadyInForce,
                &self.invoice,
                format!(
                    "the plan agreed on {} holds on {}; cancel it before agreeing another",
                    plan.agreed_on, self.agreed_on
                ),
            )
            .with_metadata("plan_id", plan.plan_id));
        }
        let overdue = if invoice.issue_date <= self.agreed_on {
            invoice.overdue_on(self.agreed_on)
        } else {
            Decimal::ZERO
        };
        if overdue <= Decimal::ZERO {
            return Err(refusal(
                Reason::InvoiceNotOverdue,
                &self.invoice,
                format!(
                    "nothing of the invoice is overdue on {}: a plan reschedules overdue debt",
                    self.agreed_on
                ),
            ));
        }
        let open = invoice.open_on(self.agreed_on);
        let total: Decimal = self.rows.iter().map(|r| r.amount.amount()).sum();
        if total != open {
            return Err(refusal(
                Reason::PlanAmountMismatch,
                &self.invoice,
                format!(
                    "the instalments add up to {}, but the invoice owes {} on {}",
                    Money::of(total, currency),
                    Money::of(open, currency),
                    self.agreed_on
                ),
            )
            .with_metadata("open_amount", open)
            .with_metadata("instalments_total", total));
        }
        Ok(InstalmentPlanAgreed {
            plan_id: command_id,
            invoice: self.invoice.clone(),
            agreed_on: self.agreed_on,
            open_amount: Money::of(open, currency),
            overdue_amount: Money::of(overdue, currency),
            rows: self.rows.clone(),
            collector: self.collector.clone(),
            note: self.note.clone(),
        })
    }
}

impl EventRules for InstalmentPlanAgreed {
    fn subsidiary_id(&self) -> Option<&SubsidiaryId> {
        Some(&self.invoice.subsidiary_id)
    }

    fn takes_effect(&self) -> Option<(&'static str, NaiveDate)> {
        Some(("agreed_on", self.agreed_on))
    }

    fn check(&self) -> Result<(), InvalidEvent> {
        business_date("data.agreed_on", self.agreed_on)?;
        positive("data.open_amount", &self.open_amount)?;
        positive("data.overdue_amount", &self.overdue_amount)?;
        if self.overdue_amount.currency() != self.open_amount.currency()
            || self.overdue_amount.amount() > self.open_amount.amount()
        {
            return Err(invalid(
                "data.overdue_amount",
                "is not a part of the open amount",
            ));
        }
        let mut violations = Vec::new();
        check_schedule(
            &mut violations,
            "data.rows",
            &self.rows,
            self.open_amount,
            self.agreed_on,
            "agreement date",
        );
        if let Some(violation) = violations.first() {
            return Err(invalid(violation.field.clone(), &violation.description));
        }
        free_text("data.note", &self.note, NOTE_LENGTH_MAX)
    }

    fn evolve(&self, account: &mut AccountState, command_id: CommandId) -> Result<(), String> {
        if self.plan_id != command_id {
            return Err(format!(
                "names plan {}, but a plan is named by the command that agreed it, {command_id}",
                self.plan_id
            ));
        }
        let invoice = account
            .invoices
            .get_mut(&self.invoice)
            .ok_or_else(|| format!("agrees a plan for unknown {}", self.invoice))?;
        if invoice.plan_from(self.agreed_on).is_some() {
            return Err(format!(
                "agrees a plan for {} while another holds",
                self.invoice
            ));
        }
        if invoice.amount.currency() != self.open_amount.currency() {
            return Err(format!(
                "agrees a plan for {} in another currency",
                self.invoice
            ));
        }
        invoice.plans.push(PlanState {
            plan_id: self.plan_id,
            agreed_on: self.agreed_on,
            rows: self.rows.clone(),
            collector: self.collector.clone(),
            cancelled_on: None,
        });
        Ok(())
    }
}

impl CommandRules for CancelInstalmentPlan {
    fn subsidiary_id(&self) -> Option<&SubsidiaryId> {
        Some(&self.invoice.subsidiary_id)
    }

    fn check(&self) -> Vec<FieldViolation> {
        let mut violations = Vec::new();
        check_required_text(&mut violations, "reason", &self.reason, REASON_LENGTH_MAX);
        violations
    }

    fn effective_date(&self, _context: &DecisionContext) -> NaiveDate {
        self.cancelled_on
    }
}

impl Decide for CancelInstalmentPlan {
    type Event = InstalmentPlanCancelled;

    fn decide(
        &self,
        account: &AccountState,
        _command_id: CommandId,
        context: &DecisionContext,
    ) -> Result<InstalmentPlanCancelled, Refusal> {
        let mut dates = Vec::new();
        check_not_ahead(
            &mut dates,
            "cancelled_on",
            self.cancelled_on,
            context.today(),
        );
        if !dates.is_empty() {
            return Err(Refusal::invalid(dates));
        }
        let invoice = invoice_of(account, &self.invoice)?;
        let Some(plan) = invoice.plan_from(self.cancelled_on) else {
            return Err(refusal(
                Reason::NoPlanInForce,
                &self.invoice,
                format!("no instalment plan holds on {}", self.cancelled_on),
            ));
        };
        if let Some(cancelled_on) = plan.cancelled_on {
            return Err(refusal(
                Reason::NoPlanInForce,
                &self.invoice,
                format!(
                    "the plan agreed on {} was cancelled already, on {cancelled_on}",
                    plan.agreed_on
                ),
            )
            .with_metadata("cancelled_on", cancelled_on));
        }
        if self.cancelled_on < plan.agreed_on {
            return Err(refusal(
                Reason::PlanBeforeAgreement,
                &self.invoice,
                format!(
                    "the plan was agreed on {}, after {}",
                    plan.agreed_on, self.cancelled_on
                ),
            )
            .with_metadata("agreed_on", plan.agreed_on));
        }
        Ok(InstalmentPlanCancelled {
            plan_id: plan.plan_id,
            invoice: self.invoice.clone(),
            agreed_on: plan.agreed_on,
            cancelled_on: self.cancelled_on,
            reason: self.reason.clone(),
        })
    }
}

impl EventRules for InstalmentPlanCancelled {
    fn subsidiary_id(&self) -> Option<&SubsidiaryId> {
        Some(&self.invoice.subsidiary_id)
    }

    fn takes_effect(&self) -> Option<(&'static str, NaiveDate)> {
        Some(("cancelled_on", self.cancelled_on))
    }

    fn check(&self) -> Result<(), InvalidEvent> {
        business_date("data.cancelled_on", self.cancelled_on)?;
        if self.cancelled_on < self.agreed_on {
            return Err(invalid(
                "data.cancelled_on",
                "is before the plan was agreed",
            ));
        }
        required_text("data.reason", &self.reason, REASON_LENGTH_MAX)
    }

    fn evolve(&self, account: &mut AccountState, _command_id: CommandId) -> Result<(), String> {
        let plan = account
            .invoices
            .get_mut(&self.invoice)
            .and_then(|invoice| invoice.plans.iter_mut().find(|p| p.plan_id == self.plan_id))
            .ok_or_else(|| format!("cancels an unknown plan of {}", self.invoice))?;
        if plan.cancelled_on.is_some() || plan.agreed_on != self.agreed_on {
            return Err(format!(
                "cancels the plan of {} agreed on {}, which is cancelled or was agreed on {}",
                self.invoice, self.agreed_on, plan.agreed_on
            ));
        }
        plan.cancelled_on = Some(self.cancelled_on);
        Ok(())
    }
}

#[cfg(feature = "testing")]
impl InstalmentPlanAgreed {
    /// A valid plan for tests: the sample invoice (1,000.00 CNY, due 2026-07-01), overdue on
    /// 2026-07-15, in two instalments of 500.00 at the ends of July and August.
    pub fn sample() -> Self {
        let date = |m, d| NaiveDate::from_ymd_opt(2026, m, d).expect("a date");
        let row = |m, d| ScheduleRow {
            due_date: date(m, d),
            amount: Money::cny("500.00"),
        };
        InstalmentPlanAgreed {
            plan_id: Self::sample_plan_id(),
            invoice: InvoiceKey::sample(),
            agreed_on: date(7, 15),
            open_amount: Money::cny("1000.00"),
            overdue_amount: Money::cny("1000.00"),
            rows: vec![row(7, 31), row(8, 31)],
            collector: PersonName::parse("li.wei").expect("a name"),
            note: "agreed by phone".to_owned(),
        }
    }

    /// The plan id of the sample: the id of the command that records it in the sample history.
    pub fn sample_plan_id() -> CommandId {
        CommandId::parse("00000000-0000-4000-8000-00000000a001").expect("a command id")
    }

    /// The command this event records.
    pub fn command(&self) -> AgreeInstalmentPlan {
        AgreeInstalmentPlan {
            invoice: self.invoice.clone(),
            agreed_on: self.agreed_on,
            rows: self.rows.clone(),
            collector: self.collector.clone(),
            note: self.note.clone(),
        }
    }
}

#[cfg(feature = "testing")]
impl InstalmentPlanCancelled {
    /// The cancellation of the sample plan on 2026-08-10.
    pub fn sample() -> Self {
        let agreed = InstalmentPlanAgreed::sample();
        InstalmentPlanCancelled {
            plan_id: agreed.plan_id,
            invoice: agreed.invoice,
            agreed_on: agreed.agreed_on,
            cancelled_on: NaiveDate::from_ymd_opt(2026, 8, 10).expect("a date"),
            reason: "customer stopped paying".to_owned(),
        }
    }

    /// The command this event records.
    pub fn command(&self) -> CancelInstalmentPlan {
        CancelInstalmentPlan {
            invoice: self.invoice.clone(),
            cancelled_on: self.cancelled_on,
            reason: self.reason.clone(),
        }
    }
}
