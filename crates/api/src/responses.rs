//! Domain values as wire values (money, dates, invoice references, enumerations, the receipt of
//! an accepted command), for the replies of commands and queries alike.

use chrono::NaiveDate;
use receivables_domain::credit::{CreditGrade, CreditPolicy};
use receivables_domain::event::Allocation;
use receivables_domain::payment::PaymentMethod;
use receivables_domain::{InvoiceKey, Money, RecordedEvent};

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

/// A schedule's rows as wire rows.
pub fn schedule(rows: &[receivables_domain::terms::ScheduleRow]) -> Vec<pb::ScheduleRow> {
    rows.iter()
        .map(|row| pb::ScheduleRow {
            due_date: date(row.due_date),
            amount: Some(money(row.amount)),
        })
        .collect()
}

/// An early-payment discount as the wire's.
pub fn discount(
    discount: &receivables_domain::terms::EarlyPaymentDiscount,
) -> pb::EarlyPaymentDiscount {
    pb::EarlyPaymentDiscount {
        percent: discount.percent.normalize().to_string(),
        within_days: discount.within_days,
    }
}
