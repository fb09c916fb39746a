//! Payment-terms templates: the group names the terms its subsidiaries invoice on (`NET30`,
//! `30-50-20`, `2-10-NET30`), so that an invoice can be given a template's code instead of a
//! due date (`invoice.rs`).
//!
//! Templates are a setting of the whole group, so they are events of the group's own account
//! ([`crate::ids::CustomerId::group`]), like the exchange rates. Defining a code again replaces
//! its template for the invoices issued after; an invoice records the schedule and discount it
//! was given, so that no later definition changes what it owes or when. A definition that
//! changes nothing is refused, so that the log says only what changed.

use std::sync::Arc;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::feature::{CommandRules, Decide, DecisionContext, EventRules, Scope};
use super::state::AccountState;
use crate::ids::{CommandId, SubsidiaryId, TermsCode};
use crate::limits::TERMS_DESCRIPTION_LENGTH_MAX;
use crate::refusal::{FieldViolation, PreconditionViolation, Reason, Refusal};
use crate::rules::{InvalidEvent, check_text, free_text, invalid};
use crate::terms::{PaymentTerms, TermsTemplate};

/// Define the template `code`, or replace it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DefinePaymentTerms {
    pub code: TermsCode,
    /// What the terms say, for people (`30 % on delivery, 50 % in 60 days, 20 % in 90`).
    pub description: String,
    pub terms: PaymentTerms,
}

/// The group defined the template `code` (or replaced it: `replaced`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentTermsDefined {
    pub code: TermsCode,
    pub description: String,
    pub terms: PaymentTerms,
    /// Whether the code had a template before, which this one replaces.
    pub replaced: bool,
}

impl CommandRules for DefinePaymentTerms {
    fn subsidiary_id(&self) -> Option<&SubsidiaryId> {
        None
    }

    fn check(&self) -> Vec<FieldViolation> {
        let mut violations = Vec::new();
        check_text(
            &mut violations,
            "description",
            &self.description,
            TERMS_DESCRIPTION_LENGTH_MAX,
        );
        violations.extend(self.terms.check("terms"));
        violations
    }

    fn effective_date(&self, context: &DecisionContext) -> NaiveDate {
        context.today()
    }

    fn scope(&self) -> Scope {
        Scope::Group
    }
}

impl Decide for DefinePaymentTerms {
    type Event = PaymentTermsDefined;

    fn decide(
        &self,
        state: &AccountState,
        _command_id: CommandId,
        _context: &DecisionContext,
    ) -> Result<PaymentTermsDefined, Refusal> {
        let current = state.payment_terms().get(&self.code);
        if current.is_some_and(|t| t.description == self.description && t.terms == self.terms) {
            return Err(Refusal::precondition(
                Reason::PaymentTermsUnchanged,
                vec![PreconditionViolation {
                    kind: Reason::PaymentTermsUnchanged,
                    subject: format!("group/payment_terms/{}", self.code),
                    description: format!(
                        "payment terms {} are already defined as asked",
                        self.code
                    ),
                }],
            ));
        }
        Ok(PaymentTermsDefined {
            code: self.code.clone(),
            description: self.description.clone(),
            terms: self.terms.clone(),
            replaced: current.is_some(),
        })
    }
}

impl EventRules for PaymentTermsDefined {
    fn subsidiary_id(&self) -> Option<&SubsidiaryId> {
        None
    }

    fn takes_effect(&self) -> Option<(&'static str, NaiveDate)> {
        None
    }

    fn check(&self) -> Result<(), InvalidEvent> {
        free_text(
            "data.description",
            &self.description,
            TERMS_DESCRIPTION_LENGTH_MAX,
        )?;
        if let Some(violation) = self.terms.check("data.terms").first() {
            return Err(invalid(violation.field.clone(), &violation.description));
        }
        Ok(())
    }

    fn evolve(&self, state: &mut AccountState, _command_id: CommandId) -> Result<(), String> {
        let defined = state.payment_terms.get(&self.code).is_some();
        if defined != self.replaced {
            return Err(format!(
                "says of payment terms {} replaced = {}, but a template of that code was \
                 defined: {defined}",
                self.code, self.replaced
            ));
        }
        // Shared with the decisions of invoices (`DecisionContext::payment_terms`): copied
        // only here.
        Arc::make_mut(&mut state.payment_terms).define(
            self.code.clone(),
            TermsTemplate {
                description: self.description.clone(),
                terms: self.terms.clone(),
            },
        );
        Ok(())
    }

    fn scope(&self) -> Scope {
        Scope::Group
    }
}

#[cfg(feature = "testing")]
impl PaymentTermsDefined {
    /// A valid template for tests: `30-50-20`, 30 % on the issue date, 50 % in 60 days, 20 % in
    /// 90, with 2 % off within 10 days.
    pub fn sample() -> Self {
        use crate::terms::{DueRule, EarlyPaymentDiscount, TermsLine};
        use rust_decimal::Decimal;
        let line = |portion: i64, days: u32| TermsLine {
            portion: Decimal::from(portion),
            due: DueRule::NetDays(days),
        };
        PaymentTermsDefined {
            code: TermsCode::parse("30-50-20").expect("a code"),
            description:
                "30 % on the issue date, 50 % in 60 days, 20 % in 90; 2 % off within 10 days"
                    .to_owned(),
            terms: PaymentTerms {
                lines: vec![line(30, 0), line(50, 60), line(20, 90)],
                discount: Some(EarlyPaymentDiscount {
                    percent: Decimal::from(2),
                    within_days: 10,
                }),
            },
            replaced: false,
        }
    }

    /// The command this event records.
    pub fn command(&self) -> DefinePaymentTerms {
        DefinePaymentTerms {
            code: self.code.clone(),
            description: self.description.clone(),
            terms: self.terms.clone(),
        }
    }
}
