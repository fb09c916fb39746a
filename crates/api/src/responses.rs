//! Domain results to wire replies: the receipt and decisions of an accepted command, and the
//! account view of `GetAccount`.

use chrono::NaiveDate;
use receivables_domain::account::CustomerAccount;
use receivables_domain::credit::{CreditGrade, CreditPolicy};
use receivables_domain::event::{Allocation, AllocationRule, CreditCheckRecord};
use receivables_domain::payment::PaymentMethod;
use receivables_domain::{Event, InvoiceKey, Money, RecordedEvent};

use crate::pb;

pub fn money(money: Money) -> pb::Money {
    pb::Money {
        amount: money.amount().to_string(),
        currency: money.currency().code().to_owned(),
    }
}

pub fn date(date: NaiveDate) -> String {
    date.format("%Y-%m-%d").to_string()
}

pub fn invoice_ref(key: &InvoiceKey) -> pb::InvoiceRef {
    pb::InvoiceRef {
        subsidiary_id: key.subsidiary_id.to_string(),
        invoice_number: key.invoice_number.to_string(),
    }
}

pub fn credit_policy(policy: CreditPolicy) -> pb::CreditPolicy {
    match policy {
        CreditPolicy::Block => pb::CreditPolicy::Block,
        CreditPolicy::Warn => pb::CreditPolicy::Warn,
    }
}

pub fn credit_grade(grade: CreditGrade) -> pb::CreditGrade {
    match grade {
        CreditGrade::A => pb::CreditGrade::A,
        CreditGrade::B => pb::CreditGrade::B,
        CreditGrade::C => pb::CreditGrade::C,
        CreditGrade::D => pb::CreditGrade::D,
    }
}

pub fn payment_method(method: PaymentMethod) -> pb::PaymentMethod {
    match method {
        PaymentMethod::BankTransfer => pb::PaymentMethod::BankTransfer,
        PaymentMethod::Alipay => pb::PaymentMethod::Alipay,
        PaymentMethod::WechatPay => pb::PaymentMethod::WechatPay,
        PaymentMethod::UnionPay => pb::PaymentMethod::UnionPay,
        PaymentMethod::Card => pb::PaymentMethod::Card,
        PaymentMethod::Cash => pb::PaymentMethod::Cash,
        PaymentMethod::Cheque => pb::PaymentMethod::Cheque,
        PaymentMethod::Other => pb::PaymentMethod::Other,
    }
}

pub fn allocation(allocation: &Allocation) -> pb::Allocation {
    pb::Allocation {
        invoice: Some(invoice_ref(&allocation.invoice)),
        amount: Some(money(allocation.amount)),
    }
}

/// The receipt of an accepted command; `replayed` when it answers a retry.
pub fn receipt(event: &RecordedEvent, replayed: bool) -> pb::CommandReceipt {
    let recorded_at = event.envelope.recorded_at;
    pb::CommandReceipt {
        event_id: event.envelope.event_id.to_string(),
        position: event.position.get(),
        recorded_at: Some(prost_types::Timestamp {
            seconds: recorded_at.timestamp(),
            nanos: i32::try_from(recorded_at.timestamp_subsec_nanos()).unwrap_or(0),
        }),
        replayed,
    }
}

fn credit_check(check: &CreditCheckRecord) -> pb::CreditCheck {
    pb::CreditCheck {
        limit: Some(money(check.limit)),
        policy: credit_policy(check.policy).into(),
        exposure_after: Some(money(check.exposure_after)),
        currency_mismatch: check.currency_mismatch,
    }
}

/// The reply of an accepted command, built from the event that recorded it, whichever command
/// type it was. Returns `None` when the event is not of the expected type (a command id used for
/// one RPC cannot answer another).
pub fn issue_invoice(event: &RecordedEvent, replayed: bool) -> Option<pb::IssueInvoiceResponse> {
    let Event::InvoiceIssued(issued) = &event.envelope.event else {
        return None;
    };
    Some(pb::IssueInvoiceResponse {
        receipt: Some(receipt(event, replayed)),
        over_limit: issued.over_limit,
        credit_check: issued.credit_check.as_ref().map(credit_check),
        due_date: date(issued.due_date),
    })
}

pub fn record_payment(event: &RecordedEvent, replayed: bool) -> Option<pb::RecordPaymentResponse> {
    let Event::PaymentReceived(payment) = &event.envelope.event else {
        return None;
    };
    Some(pb::RecordPaymentResponse {
        receipt: Some(receipt(event, replayed)),
        allocation_rule: match payment.allocation_rule {
            AllocationRule::Explicit => pb::AllocationRule::Explicit,
            AllocationRule::OldestDueFirst => pb::AllocationRule::OldestDueFirst,
        }
        .into(),
        allocations: payment.allocations.iter().map(allocation).collect(),
        unapplied: Some(money(payment.unapplied)),
    })
}

pub fn change_credit_limit(
    event: &RecordedEvent,
    replayed: bool,
) -> Option<pb::ChangeCreditLimitResponse> {
    let Event::CreditLimitChanged(_) = &event.envelope.event else {
        return None;
    };
    Some(pb::ChangeCreditLimitResponse {
        receipt: Some(receipt(event, replayed)),
    })
}

pub fn record_promise_to_pay(
    event: &RecordedEvent,
    replayed: bool,
) -> Option<pb::RecordPromiseToPayResponse> {
    let Event::PromiseToPay(promise) = &event.envelope.event else {
        return None;
    };
    Some(pb::RecordPromiseToPayResponse {
        receipt: Some(receipt(event, replayed)),
        promise_id: promise.promise_id.to_string(),
    })
}

/// The account view: credit terms, balances per currency, open invoices oldest due first, and
/// promises.
pub fn account(account: &CustomerAccount) -> pb::GetAccountResponse {
    let credit = account.credit().map(|terms| {
        let currency = terms.limit.currency();
        let exposure = account.exposure(currency);
        pb::CreditTerms {
            limit: Some(money(terms.limit)),
            policy: credit_policy(terms.policy).into(),
            grade: credit_grade(terms.grade).into(),
            exposure: Some(money(Money::of(exposure, currency))),
            available: Some(money(Money::of(terms.limit.amount() - exposure, currency))),
            over_limit: exposure > terms.limit.amount(),
        }
    });
    let balances = account
        .balances()
        .into_iter()
        .map(|b| pb::CurrencyBalance {
            currency: b.currency.code().to_owned(),
            open_invoices: Some(money(Money::of(b.open_invoices, b.currency))),
            unapplied: Some(money(Money::of(b.unapplied, b.currency))),
            exposure: Some(money(Money::of(b.exposure(), b.currency))),
        })
        .collect();
    let mut open: Vec<_> = account.open_invoices().collect();
    open.sort_by(|a, b| {
        (a.due_date, a.issue_date, &a.key).cmp(&(b.due_date, b.issue_date, &b.key))
    });
    let open_invoices = open
        .into_iter()
        .map(|i| pb::OpenInvoice {
            invoice: Some(invoice_ref(&i.key)),
            amount: Some(money(i.amount)),
            open_amount: Some(money(i.open_money())),
            issue_date: date(i.issue_date),
            due_date: date(i.due_date),
            over_limit: i.over_limit,
        })
        .collect();
    let promises = account
        .promises()
        .iter()
        .map(|p| pb::Promise {
            promise_id: p.promise_id.to_string(),
            subsidiary_id: p.subsidiary_id.to_string(),
            amount: Some(money(p.amount)),
            made_on: date(p.made_on),
            promised_date: date(p.promised_date),
            invoices: p.invoices.iter().map(invoice_ref).collect(),
            collector: p.collector.to_string(),
        })
        .collect();
    pb::GetAccountResponse {
        customer_id: account.customer_id().to_string(),
        position: account.position().get(),
        event_count: account.event_count(),
        credit,
        balances,
        open_invoices,
        promises,
    }
}
