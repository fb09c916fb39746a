//! Wire requests to domain commands. Every field is checked and every problem reported at once,
//! as a `BadRequest` field violation named by its path in the request (`amount.currency`,
//! `allocations[2].invoice.invoice_number`).

use std::fmt::Display;

use chrono::{Days, NaiveDate};
use receivables_domain::calendar::{check_business_date, parse_business_date};
use receivables_domain::command::{
    AllocationRequest, ChangeCreditLimit, IssueInvoice, RecordPayment, RecordPromiseToPay,
};
use receivables_domain::credit::{CreditGrade, CreditPolicy};
use receivables_domain::ids::PersonName;
use receivables_domain::limits::PAYMENT_TERMS_DAYS_MAX;
use receivables_domain::payment::PaymentMethod;
use receivables_domain::refusal::FieldViolation;
use receivables_domain::{
    Command, CommandBody, CommandId, Currency, CustomerId, InvoiceKey, InvoiceNumber, Money,
    Refusal, SubsidiaryId,
};

use crate::pb;

/// A command addressed to one customer's account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Addressed {
    pub customer_id: CustomerId,
    pub command: Command,
}

/// Collects field violations while a request is read.
#[derive(Default)]
struct Fields {
    violations: Vec<FieldViolation>,
}

impl Fields {
    fn check<T, E: Display>(&mut self, path: &str, result: Result<T, E>) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(error) => {
                self.violations.push(FieldViolation::new(path, error));
                None
            }
        }
    }

    fn required(&mut self, path: &str, value: &str) -> bool {
        if value.is_empty() {
            self.violations
                .push(FieldViolation::new(path, "is required"));
            return false;
        }
        true
    }

    fn command_id(&mut self, value: &str) -> Option<CommandId> {
        self.required("command_id", value)
            .then(|| self.check("command_id", CommandId::parse(value)))
            .flatten()
    }

    fn customer_id(&mut self, path: &str, value: &str) -> Option<CustomerId> {
        self.check(path, CustomerId::parse(value))
    }

    fn subsidiary_id(&mut self, path: &str, value: &str) -> Option<SubsidiaryId> {
        self.check(path, SubsidiaryId::parse(value))
    }

    fn date(&mut self, path: &str, value: &str) -> Option<NaiveDate> {
        self.check(path, parse_business_date(value))
    }

    fn person(&mut self, path: &str, value: &str) -> Option<PersonName> {
        self.check(path, PersonName::parse(value))
    }

    fn currency(&mut self, path: &str, money: &pb::Money) -> Option<Currency> {
        self.check(
            &format!("{path}.currency"),
            Currency::parse(&money.currency),
        )
    }

    /// A strictly positive amount of money.
    fn money(&mut self, path: &str, money: Option<&pb::Money>) -> Option<Money> {
        let Some(money) = money else {
            self.violations
                .push(FieldViolation::new(path, "is required"));
            return None;
        };
        let currency = self.currency(path, money)?;
        self.check(
            &format!("{path}.amount"),
            Money::positive(&money.amount, currency),
        )
    }

    fn invoice(&mut self, path: &str, invoice: Option<&pb::InvoiceRef>) -> Option<InvoiceKey> {
        let Some(invoice) = invoice else {
            self.violations
                .push(FieldViolation::new(path, "is required"));
            return None;
        };
        let subsidiary_id =
            self.subsidiary_id(&format!("{path}.subsidiary_id"), &invoice.subsidiary_id);
        let invoice_number = self.check(
            &format!("{path}.invoice_number"),
            InvoiceNumber::parse(&invoice.invoice_number),
        );
        Some(InvoiceKey {
            subsidiary_id: subsidiary_id?,
            invoice_number: invoice_number?,
        })
    }

    fn enumeration<T, P>(
        &mut self,
        path: &str,
        value: i32,
        map: impl Fn(P) -> Option<T>,
    ) -> Option<T>
    where
        P: TryFrom<i32>,
    {
        match P::try_from(value) {
            Err(_) => {
                self.violations.push(FieldViolation::new(
                    path,
                    format!("{value} is not a known value"),
                ));
                None
            }
            Ok(known) => {
                let mapped = map(known);
                if mapped.is_none() {
                    self.violations.push(FieldViolation::new(
                        path,
                        "is required (UNSPECIFIED is not a choice)",
                    ));
                }
                mapped
            }
        }
    }

    /// The command, if every field was good; the refusal listing every bad one otherwise.
    fn finish(
        self,
        customer_id: Option<CustomerId>,
        id: Option<CommandId>,
        body: Option<CommandBody>,
    ) -> Result<Addressed, Refusal> {
        match (customer_id, id, body) {
            (Some(customer_id), Some(id), Some(body)) if self.violations.is_empty() => {
                Ok(Addressed {
                    customer_id,
                    command: Command { id, body },
                })
            }
            _ => Err(Refusal::invalid(self.violations)),
        }
    }
}

fn credit_policy(policy: pb::CreditPolicy) -> Option<CreditPolicy> {
    match policy {
        pb::CreditPolicy::Unspecified => None,
        pb::CreditPolicy::Block => Some(CreditPolicy::Block),
        pb::CreditPolicy::Warn => Some(CreditPolicy::Warn),
    }
}

fn credit_grade(grade: pb::CreditGrade) -> Option<CreditGrade> {
    match grade {
        pb::CreditGrade::Unspecified => None,
        pb::CreditGrade::A => Some(CreditGrade::A),
        pb::CreditGrade::B => Some(CreditGrade::B),
        pb::CreditGrade::C => Some(CreditGrade::C),
        pb::CreditGrade::D => Some(CreditGrade::D),
    }
}

fn payment_method(method: pb::PaymentMethod) -> Option<PaymentMethod> {
    match method {
        pb::PaymentMethod::Unspecified => None,
        pb::PaymentMethod::BankTransfer => Some(PaymentMethod::BankTransfer),
        pb::PaymentMethod::Alipay => Some(PaymentMethod::Alipay),
        pb::PaymentMethod::WechatPay => Some(PaymentMethod::WechatPay),
        pb::PaymentMethod::UnionPay => Some(PaymentMethod::UnionPay),
        pb::PaymentMethod::Card => Some(PaymentMethod::Card),
        pb::PaymentMethod::Cash => Some(PaymentMethod::Cash),
        pb::PaymentMethod::Cheque => Some(PaymentMethod::Cheque),
        pb::PaymentMethod::Other => Some(PaymentMethod::Other),
    }
}

/// Reads the customer id of a request that is not a command (`GetAccount`).
pub fn customer_id(value: &str) -> Result<CustomerId, Refusal> {
    let mut fields = Fields::default();
    let id = fields.customer_id("customer_id", value);
    match id {
        Some(id) => Ok(id),
        None => Err(Refusal::invalid(fields.violations)),
    }
}

pub fn issue_invoice(request: &pb::IssueInvoiceRequest) -> Result<Addressed, Refusal> {
    let mut fields = Fields::default();
    let id = fields.command_id(&request.command_id);
    let customer_id = fields.customer_id("customer_id", &request.customer_id);
    let subsidiary_id = fields.subsidiary_id("subsidiary_id", &request.subsidiary_id);
    let invoice_number = fields.check(
        "invoice_number",
        InvoiceNumber::parse(&request.invoice_number),
    );
    let amount = fields.money("amount", request.amount.as_ref());
    let issue_date = fields.date("issue_date", &request.issue_date);
    let (due_date, terms_days) = match (&request.due, issue_date) {
        (None, _) => {
            fields.violations.push(FieldViolation::new(
                "due",
                "one of due_date or terms_days is required",
            ));
            (None, None)
        }
        (Some(pb::issue_invoice_request::Due::DueDate(text)), _) => {
            (fields.date("due_date", text), None)
        }
        (Some(pb::issue_invoice_request::Due::TermsDays(days)), issue_date) => {
            if *days > PAYMENT_TERMS_DAYS_MAX {
                fields.violations.push(FieldViolation::new(
                    "terms_days",
                    format!("at most {PAYMENT_TERMS_DAYS_MAX} days, got {days}"),
                ));
                (None, None)
            } else {
                let due = issue_date
                    .and_then(|issue| issue.checked_add_days(Days::new(u64::from(*days))))
                    .and_then(|due| fields.check("terms_days", check_business_date(due)));
                (due, Some(*days))
            }
        }
    };
    let body = (|| {
        Some(CommandBody::IssueInvoice(IssueInvoice {
            subsidiary_id: subsidiary_id?,
            invoice_number: invoice_number?,
            amount: amount?,
            issue_date: issue_date?,
            due_date: due_date?,
            terms_days,
        }))
    })();
    fields.finish(customer_id, id, body)
}

pub fn record_payment(request: &pb::RecordPaymentRequest) -> Result<Addressed, Refusal> {
    let mut fields = Fields::default();
    let id = fields.command_id(&request.command_id);
    let customer_id = fields.customer_id("customer_id", &request.customer_id);
    let subsidiary_id = fields.subsidiary_id("subsidiary_id", &request.subsidiary_id);
    let amount = fields.money("amount", request.amount.as_ref());
    let received_date = fields.date("received_date", &request.received_date);
    let method = fields.enumeration("method", request.method, payment_method);
    let allocations: Vec<Option<AllocationRequest>> = request
        .allocations
        .iter()
        .take(receivables_domain::limits::ALLOCATIONS_PER_PAYMENT_MAX + 1)
        .enumerate()
        .map(|(index, allocation)| {
            let invoice = fields.invoice(
                &format!("allocations[{index}].invoice"),
                allocation.invoice.as_ref(),
            );
            let amount = fields.money(
                &format!("allocations[{index}].amount"),
                allocation.amount.as_ref(),
            );
            Some(AllocationRequest {
                invoice: invoice?,
                amount: amount?,
            })
        })
        .collect();
    if request.allocations.len() > receivables_domain::limits::ALLOCATIONS_PER_PAYMENT_MAX {
        fields.violations.push(FieldViolation::new(
            "allocations",
            format!(
                "at most {} allocations per payment, got {}",
                receivables_domain::limits::ALLOCATIONS_PER_PAYMENT_MAX,
                request.allocations.len()
            ),
        ));
    }
    let body = (|| {
        Some(CommandBody::RecordPayment(RecordPayment {
            subsidiary_id: subsidiary_id?,
            amount: amount?,
            received_date: received_date?,
            method: method?,
            reference: request.reference.clone(),
            allocations: allocations.into_iter().collect::<Option<Vec<_>>>()?,
        }))
    })();
    fields.finish(customer_id, id, body)
}

pub fn change_credit_limit(request: &pb::ChangeCreditLimitRequest) -> Result<Addressed, Refusal> {
    let mut fields = Fields::default();
    let id = fields.command_id(&request.command_id);
    let customer_id = fields.customer_id("customer_id", &request.customer_id);
    let limit = match request.limit.as_ref() {
        None => {
            fields
                .violations
                .push(FieldViolation::new("limit", "is required"));
            None
        }
        Some(money) => fields.currency("limit", money).and_then(|currency| {
            fields.check("limit.amount", Money::non_negative(&money.amount, currency))
        }),
    };
    let policy = fields.enumeration("policy", request.policy, credit_policy);
    let grade = fields.enumeration("grade", request.grade, credit_grade);
    let approved_by = fields.person("approved_by", &request.approved_by);
    let effective_date = if request.effective_date.is_empty() {
        Some(None)
    } else {
        fields
            .date("effective_date", &request.effective_date)
            .map(Some)
    };
    let body = (|| {
        Some(CommandBody::ChangeCreditLimit(ChangeCreditLimit {
            limit: limit?,
            policy: policy?,
            grade: grade?,
            reason: request.reason.clone(),
            approved_by: approved_by?,
            effective_date: effective_date?,
        }))
    })();
    fields.finish(customer_id, id, body)
}

pub fn record_promise_to_pay(
    request: &pb::RecordPromiseToPayRequest,
) -> Result<Addressed, Refusal> {
    let mut fields = Fields::default();
    let id = fields.command_id(&request.command_id);
    let customer_id = fields.customer_id("customer_id", &request.customer_id);
    let subsidiary_id = fields.subsidiary_id("subsidiary_id", &request.subsidiary_id);
    let amount = fields.money("amount", request.amount.as_ref());
    let made_on = fields.date("made_on", &request.made_on);
    let promised_date = fields.date("promised_date", &request.promised_date);
    let collector = fields.person("collector", &request.collector);
    let invoices: Vec<Option<InvoiceKey>> = request
        .invoices
        .iter()
        .take(receivables_domain::limits::INVOICES_PER_PROMISE_MAX + 1)
        .enumerate()
        .map(|(index, invoice)| fields.invoice(&format!("invoices[{index}]"), Some(invoice)))
        .collect();
    if request.invoices.len() > receivables_domain::limits::INVOICES_PER_PROMISE_MAX {
        fields.violations.push(FieldViolation::new(
            "invoices",
            format!(
                "at most {} invoices per promise, got {}",
                receivables_domain::limits::INVOICES_PER_PROMISE_MAX,
                request.invoices.len()
            ),
        ));
    }
    let body = (|| {
        Some(CommandBody::RecordPromiseToPay(RecordPromiseToPay {
            subsidiary_id: subsidiary_id?,
            amount: amount?,
            made_on: made_on?,
            promised_date: promised_date?,
            invoices: invoices.into_iter().collect::<Option<Vec<_>>>()?,
            collector: collector?,
            note: request.note.clone(),
        }))
    })();
    fields.finish(customer_id, id, body)
}
