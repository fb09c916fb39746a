//! Invoices: a subsidiary issues an invoice to the customer, checked against the customer's
//! group-wide credit limit.
//!
//! The command carries a due date (given, or derived by the caller from terms in days), or the
//! code of one of the group's payment-terms templates (`payment_terms.rs`), or an explicit
//! schedule of instalments. The event records the schedule as computed (its rows, the rounding
//! remainder on the last; none for a single due date), the template's early-payment discount,
//! and the credit check the invoice went through, so that a projection or an auditor never
//! computes or checks again, and no later change of a template changes the invoice. The
//! invoice's due date is its last row's. Under policy `block` an invoice that would take
//! exposure above the limit is refused with the limit, the exposure and the shortfall in the
//! refusal; under `warn` it is accepted and flagged `over_limit`.
//!
//! The check itself (the overdue hold, then the limit, every currency converted into the
//! limit's) is `credit_check.rs`'s, which a credit reservation goes through too; the event
//! records each currency's part (exposure, rate, converted amount). An invoice may name the
//! sales order whose credit reservation it consumes (`credit_reservation.rs`): the reservation
//! shrinks by the invoice's amount (by what it holds, if less), and the check counts that part
//! as already inside the exposure.

use chrono::{Days, NaiveDate};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::credit_check::{self, Commitment};
pub use super::credit_check::{CreditCheckRecord, ExposureConversion};
use super::credit_reservation::{self, ReservationConsumed};
use super::feature::{CommandRules, Decide, DecisionContext, EventRules};
use super::state::{AccountState, InvoiceState};
use crate::credit::CreditPolicy;
use crate::exchange::convert_at;
use crate::ids::{
    CommandId, InvoiceKey, InvoiceNumber, NumberKey, OrderNumber, SubsidiaryId, TermsCode,
};
use crate::limits::PAYMENT_TERMS_DAYS_MAX;
use crate::money::Money;
use crate::refusal::{FieldViolation, PreconditionViolation, Reason, Refusal};
use crate::rules::{InvalidEvent, business_date, check_positive, invalid, positive};
use crate::terms::{EarlyPaymentDiscount, ScheduleRow, check_schedule};

/// A subsidiary issues an invoice to the customer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssueInvoice {
    pub subsidiary_id: SubsidiaryId,
    pub invoice_number: InvoiceNumber,
    pub amount: Money,
    pub issue_date: NaiveDate,
    /// The due date; given directly, or derived from `terms_days` by the caller. Exactly one
    /// of it, `payment_terms` and `schedule` is given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub due_date: Option<NaiveDate>,
    /// Payment terms in days, when the invoice was given by terms rather than a due date.
    pub terms_days: Option<u32>,
    /// The group's payment-terms template the invoice is issued on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_terms: Option<TermsCode>,
    /// An explicit schedule: the rows in due order, adding up to the amount.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub schedule: Vec<ScheduleRow>,
    /// The sales order of the same subsidiary whose credit reservation the invoice consumes
    /// (`credit_reservation.rs`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reservation: Option<OrderNumber>,
}

impl IssueInvoice {
    /// The invoice's key: its subsidiary and its number there.
    pub fn key(&self) -> InvoiceKey {
        InvoiceKey {
            subsidiary_id: self.subsidiary_id.clone(),
            invoice_number: self.invoice_number.clone(),
        }
    }
}

/// How an invoice says when it falls due: exactly one of a due date (with or without terms in
/// days), a template's code or an explicit schedule, each checked against the issue date and
/// the amount. Shared with the wire mapping, which calls it once it has read the fields.
pub fn check_due(violations: &mut Vec<FieldViolation>, command: &IssueInvoice) {
    let given = usize::from(command.due_date.is_some())
        + usize::from(command.payment_terms.is_some())
        + usize::from(!command.schedule.is_empty());
    if given != 1 {
        violations.push(FieldViolation::new(
            "due",
            format!(
                "exactly one of a due date (or terms in days), payment terms or a schedule is \
                 required, got {given}"
            ),
        ));
    }
    if let Some(due_date) = command.due_date {
        check_due_date(violations, command.issue_date, due_date, command.terms_days);
    } else if command.terms_days.is_some() {
        violations.push(FieldViolation::new(
            "terms_days",
            "terms in days come with the due date they give",
        ));
    }
    if !command.schedule.is_empty() {
        check_schedule(
            violations,
            "schedule",
            &command.schedule,
            command.amount,
            command.issue_date,
            "issue date",
        );
    }
}

/// The due date against the issue date and the terms: no earlier than the issue date, and
/// exactly `terms_days` after it when terms are given. The wire mapping applies it as soon as it
/// has read both dates, so that a request with other bad fields hears of this one too.
pub fn check_due_date(
    violations: &mut Vec<FieldViolation>,
    issue_date: NaiveDate,
    due_date: NaiveDate,
    terms_days: Option<u32>,
) {
    if let Some(days) = terms_days {
        let derived = issue_date.checked_add_days(Days::new(u64::from(days)));
        if days > PAYMENT_TERMS_DAYS_MAX {
            violations.push(FieldViolation::new(
                "terms_days",
                format!("at most {PAYMENT_TERMS_DAYS_MAX} days, got {days}"),
            ));
        } else if derived != Some(due_date) {
            violations.push(FieldViolation::new(
                "terms_days",
                format!("{days} days after {issue_date} is not the due date {due_date}"),
            ));
        }
    }
    if due_date < issue_date {
        violations.push(FieldViolation::new(
            "due_date",
            format!("due date {due_date} is before the issue date {issue_date}"),
        ));
    }
}

/// A subsidiary issued an invoice to the customer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvoiceIssued {
    pub subsidiary_id: SubsidiaryId,
    pub invoice_number: InvoiceNumber,
    pub amount: Money,
    pub issue_date: NaiveDate,
    /// The last row's due date when the invoice has a schedule.
    pub due_date: NaiveDate,
    pub terms_days: Option<u32>,
    /// The template the invoice was issued on, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_terms: Option<TermsCode>,
    /// The rows the invoice is due in, in due order, adding up to the amount; empty when it is
    /// due whole on `due_date`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub schedule: Vec<ScheduleRow>,
    /// The early-payment discount of its template, if any: what a payment within the window
    /// may take off (`discount.rs`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub discount: Option<EarlyPaymentDiscount>,
    /// Accepted under a `warn` policy although it took exposure above the limit.
    pub over_limit: bool,
    /// The check against the limit; absent when the customer had no limit.
    pub credit_check: Option<CreditCheckRecord>,
    /// What the invoice took off the credit reserved for its order, if it named one: the
    /// reservation shrinks by it from the issue date.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consumes: Option<ReservationConsumed>,
}

impl InvoiceIssued {
    pub fn key(&self) -> InvoiceKey {
        InvoiceKey {
            subsidiary_id: self.subsidiary_id.clone(),
            invoice_number: self.invoice_number.clone(),
        }
    }
}

impl CommandRules for IssueInvoice {
    fn subsidiary_id(&self) -> Option<&SubsidiaryId> {
        Some(&self.subsidiary_id)
    }

    fn check(&self) -> Vec<FieldViolation> {
        let mut violations = Vec::new();
        check_positive(&mut violations, "amount", &self.amount);
        check_due(&mut violations, self);
        violations
    }

    fn effective_date(&self, _context: &DecisionContext) -> NaiveDate {
        self.issue_date
    }

    fn reserves(&self) -> Option<NumberKey> {
        Some(NumberKey::Invoice(self.key()))
    }

    /// A template is the group's; under a limit, the exposure in any currency but the limit's
    /// is converted.
    fn needs_group_settings(&self, state: &AccountState) -> bool {
        self.payment_terms.is_some()
            || credit_check::converts(state, self.amount.currency(), self.issue_date)
    }
}

impl Decide for IssueInvoice {
    type Event = InvoiceIssued;

    fn decide(
        &self,
        account: &AccountState,
        _command_id: CommandId,
        context: &DecisionContext,
    ) -> Result<InvoiceIssued, Refusal> {
        let key = self.key();
        if account.invoices.contains_key(&key) {
            return Err(Refusal::already_exists(
                Reason::DuplicateInvoiceNumber,
                format!(
                    "{key} was already issued to customer {}",
                    account.customer_id
                ),
            )
            .with_metadata("subsidiary_id", &key.subsidiary_id)
            .with_metadata("invoice_number", &key.invoice_number));
        }
        let (due_date, schedule, discount) = self.schedule(context)?;
        let consumes = self
            .reservation
            .as_ref()
            .map(|order| {
                credit_reservation::consumption(
                    account,
                    &self.subsidiary_id,
                    order,
                    self.amount,
                    self.issue_date,
                )
            })
            .transpose()?;
        let consumed = consumes
            .as_ref()
            .map_or(Decimal::ZERO, |c| c.amount.amount());
        let (over_limit, credit_check) = credit_check::check(
            account,
            &Commitment {
                kind: "invoice",
                amount: self.amount,
                adds: self.amount.amount() - consumed,
                date: self.issue_date,
                rates: &context.rates,
            },
        )?;
        Ok(InvoiceIssued {
            subsidiary_id: self.subsidiary_id.clone(),
            invoice_number: self.invoice_number.clone(),
            amount: self.amount,
            issue_date: self.issue_date,
            due_date,
            terms_days: self.terms_days,
            payment_terms: self.payment_terms.clone(),
            schedule,
            discount,
            over_limit,
            credit_check,
            consumes,
        })
    }
}

impl IssueInvoice {
    /// The due date, the schedule (empty for a single due date) and the discount: as given, or
    /// computed from the group's template; refused when the group has no template of that code.
    fn schedule(
        &self,
        context: &DecisionContext,
    ) -> Result<(NaiveDate, Vec<ScheduleRow>, Option<EarlyPaymentDiscount>), Refusal> {
        if let Some(code) = &self.payment_terms {
            let Some(template) = context.payment_terms.get(code) else {
                return Err(Refusal::precondition(
                    Reason::PaymentTermsUnknown,
                    vec![PreconditionViolation {
                        kind: Reason::PaymentTermsUnknown,
                        subject: format!("group/payment_terms/{code}"),
                        description: format!("the group has no payment terms {code}"),
                    }],
                )
                .with_metadata("payment_terms", code));
            };
            let rows = template
                .terms
                .schedule(self.issue_date, self.amount)
                .filter(|rows| {
                    rows.iter()
                        .all(|r| crate::calendar::check_business_date(r.due_date).is_ok())
                })
                .ok_or_else(|| {
                    Refusal::invalid(vec![FieldViolation::new(
                        "payment_terms",
                        format!("{code} puts a due date past the calendar's end"),
                    )])
                })?;
            let due_date = rows.last().map_or(self.issue_date, |r| r.due_date);
            return Ok((due_date, rows, template.terms.discount));
        }
        if let Some(last) = self.schedule.last() {
            return Ok((last.due_date, self.schedule.clone(), None));
        }
        let due_date = self.due_date.ok_or_else(|| {
            Refusal::invalid(vec![FieldViolation::new("due", "no due date was given")])
        })?;
        Ok((due_date, Vec::new(), None))
    }
}

impl EventRules for InvoiceIssued {
    fn takes_number(&self) -> Option<NumberKey> {
        Some(NumberKey::Invoice(self.key()))
    }

    fn subsidiary_id(&self) -> Option<&SubsidiaryId> {
        Some(&self.subsidiary_id)
    }

    fn takes_effect(&self) -> Option<(&'static str, NaiveDate)> {
        Some(("issue date", self.issue_date))
    }

    fn check(&self) -> Result<(), InvalidEvent> {
        positive("data.amount", &self.amount)?;
        business_date("data.issue_date", self.issue_date)?;
        business_date("data.due_date", self.due_date)?;
        if self.due_date < self.issue_date {
            return Err(invalid("data.due_date", "is before the issue date"));
        }
        if let Some(days) = self.terms_days
            && (days > PAYMENT_TERMS_DAYS_MAX
                || self.issue_date.checked_add_days(Days::new(u64::from(days)))
                    != Some(self.due_date))
        {
            return Err(invalid(
                "data.terms_days",
                format!("{days} days after the issue date is not the due date"),
            ));
        }
        if !self.schedule.is_empty() {
            let mut violations = Vec::new();
            check_schedule(
                &mut violations,
                "data.schedule",
                &self.schedule,
                self.amount,
                self.issue_date,
                "issue date",
            );
            if let Some(violation) = violations.first() {
                return Err(invalid(violation.field.clone(), &violation.description));
            }
            if self.schedule.last().map(|r| r.due_date) != Some(self.due_date) {
                return Err(invalid(
                    "data.due_date",
                    "is not the schedule's last due date",
                ));
            }
        }
        if let Some(discount) = &self.discount {
            let mut violations = Vec::new();
            discount.check(&mut violations, "data.discount");
            if let Some(violation) = violations.first() {
                return Err(invalid(violation.field.clone(), &violation.description));
            }
        }
        if let Some(check) = &self.credit_check {
            if check.limit.amount() < Decimal::ZERO {
                return Err(invalid("data.credit_check.limit", "is negative"));
            }
            if check.exposure_after.currency() != check.limit.currency() {
                return Err(invalid(
                    "data.credit_check.exposure_after",
                    "is not in the limit's currency",
                ));
            }
            for (index, conversion) in check.conversions.iter().enumerate() {
                let recomputed = convert_at(
                    conversion.exposure.amount(),
                    conversion.rate,
                    check.limit.currency(),
                );
                if conversion.exposure.currency() == check.limit.currency()
                    || conversion.converted != recomputed
                {
                    return Err(invalid(
                        format!("data.credit_check.conversions[{index}]"),
                        "is not another currency's exposure times its rate in the limit's",
                    ));
                }
            }
        }
        if let Some(consumed) = &self.consumes {
            positive("data.consumes.amount", &consumed.amount)?;
            if consumed.amount.currency() != self.amount.currency()
                || consumed.amount.amount() > self.amount.amount()
            {
                return Err(invalid(
                    "data.consumes.amount",
                    "is not in the invoice's currency, or is above its amount",
                ));
            }
        }
        let warned = self
            .credit_check
            .as_ref()
            .is_some_and(|check| check.policy == CreditPolicy::Warn);
        if self.over_limit && !warned {
            return Err(invalid(
                "data.over_limit",
                "only an invoice checked under policy WARN goes over the limit",
            ));
        }
        Ok(())
    }

    fn evolve(&self, account: &mut AccountState, _command_id: CommandId) -> Result<(), String> {
        let key = self.key();
        if account.invoices.contains_key(&key) {
            return Err(format!("{key} issued twice"));
        }
        if self.amount.amount() <= Decimal::ZERO || self.due_date < self.issue_date {
            return Err(format!("{key} has a bad amount or due date"));
        }
        let mut invoice = InvoiceState::new(
            key.clone(),
            self.amount,
            self.issue_date,
            self.due_date,
            self.over_limit,
        );
        if !self.schedule.is_empty() {
            invoice.schedule = self.schedule.clone();
        }
        invoice.discount = self.discount;
        if let Some(consumed) = &self.consumes {
            credit_reservation::consume(account, &self.subsidiary_id, consumed, self.issue_date)?;
        }
        account.invoices.insert(key, invoice);
        Ok(())
    }
}

#[cfg(feature = "testing")]
impl InvoiceIssued {
    /// A valid invoice for tests: `SUB-A/INV-1`, 1,000.00 CNY, issued 2026-06-01 on 30 days'
    /// terms with 2 % off within 20 days, no credit limit.
    pub fn sample() -> Self {
        let key = InvoiceKey::sample();
        let issued = NaiveDate::from_ymd_opt(2026, 6, 1).expect("a date");
        InvoiceIssued {
            subsidiary_id: key.subsidiary_id,
            invoice_number: key.invoice_number,
            amount: Money::cny("1000.00"),
            issue_date: issued,
            due_date: issued + Days::new(30),
            terms_days: Some(30),
            payment_terms: None,
            schedule: Vec::new(),
            discount: Some(EarlyPaymentDiscount {
                percent: Decimal::from(2),
                within_days: 20,
            }),
            over_limit: false,
            credit_check: None,
            consumes: None,
        }
    }

    /// The command this event records.
    pub fn command(&self) -> IssueInvoice {
        IssueInvoice {
            subsidiary_id: self.subsidiary_id.clone(),
            invoice_number: self.invoice_number.clone(),
            amount: self.amount,
            issue_date: self.issue_date,
            due_date: (self.schedule.is_empty()).then_some(self.due_date),
            terms_days: self.terms_days,
            payment_terms: self.payment_terms.clone(),
            schedule: if self.payment_terms.is_some() {
                Vec::new()
            } else {
                self.schedule.clone()
            },
            reservation: self.consumes.as_ref().map(|c| c.order_number.clone()),
        }
    }
}
