//! Wire requests to domain commands. Every field is checked and every problem reported at once,
//! as a `BadRequest` field violation named by its path in the request (`amount.currency`,
//! `allocations[2].invoice.invoice_number`): a field's own rule as it is read, and the rules
//! of its feature that need several fields (`account/<feature>.rs` in the domain) on the fields
//! that could be read.

use chrono::Days;
use receivables_domain::account::{credit_limit, invoice, payment, promise};
use receivables_domain::calendar::check_business_date;
use receivables_domain::command::{
    AllocationRequest, ChangeCreditLimit, IssueInvoice, RecordPayment, RecordPromiseToPay,
};
use receivables_domain::credit::{CreditGrade, CreditPolicy};
use receivables_domain::limits::{
    ALLOCATIONS_PER_PAYMENT_MAX, INVOICES_PER_PROMISE_MAX, PAYMENT_TERMS_DAYS_MAX,
};
use receivables_domain::payment::PaymentMethod;
use receivables_domain::refusal::FieldViolation;
use receivables_domain::{
    Command, CommandBody, CommandId, CustomerId, InvoiceKey, InvoiceNumber, Money, Refusal,
};

use crate::fields::Fields;
use crate::pb;

/// A command addressed to one customer's account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Addressed {
    pub customer_id: CustomerId,
    pub command: Command,
}

/// The command, if every field was good; the refusal listing every bad one otherwise. The
/// rules of the command that need several of its fields are checked here too (the account
/// checks them again), so that they are named in the same reply as the bad fields.
fn finish(
    mut fields: Fields,
    customer_id: Option<CustomerId>,
    id: Option<CommandId>,
    body: Option<CommandBody>,
) -> Result<Addressed, Refusal> {
    if let Some(body) = &body
        && fields.is_clean()
    {
        fields.extend(body.check());
    }
    match (customer_id, id, body) {
        (Some(customer_id), Some(id), Some(body)) if fields.is_clean() => Ok(Addressed {
            customer_id,
            command: Command { id, body },
        }),
        _ => Err(Refusal::invalid(fields.violations)),
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
            fields.violation("due", "one of due_date or terms_days is required");
            (None, None)
        }
        (Some(pb::issue_invoice_request::Due::DueDate(text)), _) => {
            (fields.date("due_date", text), None)
        }
        (Some(pb::issue_invoice_request::Due::TermsDays(days)), issue_date) => {
            if *days > PAYMENT_TERMS_DAYS_MAX {
                fields.violation(
                    "terms_days",
                    format!("at most {PAYMENT_TERMS_DAYS_MAX} days, got {days}"),
                );
                (None, None)
            } else {
                let due = issue_date
                    .and_then(|issue| issue.checked_add_days(Days::new(u64::from(*days))))
                    .and_then(|due| fields.check("terms_days", check_business_date(due)));
                (due, Some(*days))
            }
        }
    };
    if let (Some(issue_date), Some(due_date)) = (issue_date, due_date) {
        let mut rule = Vec::new();
        invoice::check_due_date(&mut rule, issue_date, due_date, terms_days);
        fields.extend(rule);
    }
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
    finish(fields, customer_id, id, body)
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
        .take(ALLOCATIONS_PER_PAYMENT_MAX + 1)
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
    let mut rules = Vec::new();
    payment::check_reference(&mut rules, &request.reference);
    if request.allocations.len() > ALLOCATIONS_PER_PAYMENT_MAX {
        rules.push(FieldViolation::new(
            "allocations",
            format!(
                "at most {ALLOCATIONS_PER_PAYMENT_MAX} allocations per payment, got {}",
                request.allocations.len()
            ),
        ));
    } else if let (Some(amount), Some(read)) = (
        amount,
        allocations.iter().cloned().collect::<Option<Vec<_>>>(),
    ) {
        payment::check_allocations(&mut rules, amount, &read);
    }
    fields.extend(rules);
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
    finish(fields, customer_id, id, body)
}

pub fn change_credit_limit(request: &pb::ChangeCreditLimitRequest) -> Result<Addressed, Refusal> {
    let mut fields = Fields::default();
    let id = fields.command_id(&request.command_id);
    let customer_id = fields.customer_id("customer_id", &request.customer_id);
    let limit = match request.limit.as_ref() {
        None => {
            fields.violation("limit", "is required");
            None
        }
        Some(money) => fields.currency("limit", money).and_then(|currency| {
            fields.check("limit.amount", Money::non_negative(&money.amount, currency))
        }),
    };
    let policy = fields.enumeration("policy", request.policy, credit_policy);
    let grade = fields.enumeration("grade", request.grade, credit_grade);
    let approved_by = fields.person("approved_by", &request.approved_by);
    let mut rules = Vec::new();
    credit_limit::check_reason(&mut rules, &request.reason);
    fields.extend(rules);
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
    finish(fields, customer_id, id, body)
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
        .take(INVOICES_PER_PROMISE_MAX + 1)
        .enumerate()
        .map(|(index, invoice)| fields.invoice(&format!("invoices[{index}]"), Some(invoice)))
        .collect();
    let mut rules = Vec::new();
    if request.invoices.len() > INVOICES_PER_PROMISE_MAX {
        rules.push(FieldViolation::new(
            "invoices",
            format!(
                "at most {INVOICES_PER_PROMISE_MAX} invoices per promise, got {}",
                request.invoices.len()
            ),
        ));
    } else if let Some(read) = invoices.iter().cloned().collect::<Option<Vec<_>>>() {
        promise::check_invoices(&mut rules, &read);
    }
    if let (Some(made_on), Some(promised_date)) = (made_on, promised_date) {
        promise::check_promised_date(&mut rules, made_on, promised_date);
    }
    promise::check_note(&mut rules, &request.note);
    fields.extend(rules);
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
    finish(fields, customer_id, id, body)
}
