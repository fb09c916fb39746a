//! Facts as wire requests: the one place that builds the data set's requests, used by the
//! simulation (provisional invoice numbers) and by assembly (the real ones).

use chrono::NaiveDate;
use receivables_api::pb;
use receivables_api::responses::credit_grade;
use receivables_domain::Currency;
use receivables_domain::credit::CreditGrade;
use rust_decimal::Decimal;

use crate::commands::DemoCommand;
use crate::dates::iso;
use crate::group::{DueRule, SUBSIDIARIES};
use crate::profiles::{Credit, Profile};

/// A fact of the data set, with invoices named by their ordinal within the customer: the wire
/// request is built from it once with provisional numbers (to decide it) and once with the
/// real ones (to load it).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Fact {
    CreditLimit {
        grade: CreditGrade,
        credit: Credit,
        reason: &'static str,
    },
    Invoice {
        ordinal: usize,
        subsidiary: usize,
        amount_minor: i64,
        due: NaiveDate,
        /// Refused by the account for taking exposure above a BLOCK limit, as planted.
        planted: bool,
    },
    Payment {
        subsidiary: usize,
        amount_minor: i64,
        method: pb::PaymentMethod,
        reference: String,
        /// Explicit allocations by invoice ordinal; empty means oldest due first.
        allocations: Vec<(usize, i64)>,
    },
    Promise {
        subsidiary: usize,
        amount_minor: i64,
        promised: NaiveDate,
        invoices: Vec<usize>,
        collector: &'static str,
        note: &'static str,
    },
}

/// An amount in integer minor units as wire money.
fn money(amount_minor: i64, currency: Currency) -> Option<pb::Money> {
    Some(pb::Money {
        amount: Decimal::new(amount_minor, currency.minor_units()).to_string(),
        currency: currency.code().to_owned(),
    })
}

/// The request for `fact` of `profile`'s customer on `date`, without a command id; `invoice`
/// names each invoice by its ordinal within the customer.
pub(crate) fn request(
    profile: &Profile,
    date: NaiveDate,
    fact: &Fact,
    invoice: impl Fn(usize) -> pb::InvoiceRef,
) -> DemoCommand {
    let currency = profile.currency;
    let customer_id = profile.customer_id.clone();
    match fact {
        Fact::CreditLimit {
            grade,
            credit,
            reason,
        } => {
            let policy = if credit.block {
                pb::CreditPolicy::Block
            } else {
                pb::CreditPolicy::Warn
            };
            DemoCommand::ChangeCreditLimit(pb::ChangeCreditLimitRequest {
                command_id: String::new(),
                customer_id,
                limit: money(credit.limit_minor, currency),
                policy: policy.into(),
                grade: credit_grade(*grade).into(),
                reason: (*reason).to_owned(),
                approved_by: profile.credit_officer.to_owned(),
                effective_date: iso(date),
            })
        }
        Fact::Invoice {
            ordinal,
            subsidiary,
            amount_minor,
            due,
            planted,
        } => {
            let due = match SUBSIDIARIES[*subsidiary].due_rule {
                DueRule::Terms => pb::issue_invoice_request::Due::TermsDays(profile.terms_days),
                DueRule::Date | DueRule::MonthEnd => {
                    pb::issue_invoice_request::Due::DueDate(iso(*due))
                }
            };
            let number = invoice(*ordinal);
            let request = pb::IssueInvoiceRequest {
                command_id: String::new(),
                customer_id,
                subsidiary_id: number.subsidiary_id,
                invoice_number: number.invoice_number,
                amount: money(*amount_minor, currency),
                issue_date: iso(date),
                due: Some(due),
            };
            if *planted {
                DemoCommand::IssueInvoiceOverLimit(request)
            } else {
                DemoCommand::IssueInvoice(request)
            }
        }
        Fact::Payment {
            subsidiary,
            amount_minor,
            method,
            reference,
            allocations,
        } => DemoCommand::RecordPayment(pb::RecordPaymentRequest {
            command_id: String::new(),
            customer_id,
            subsidiary_id: SUBSIDIARIES[*subsidiary].id.to_owned(),
            amount: money(*amount_minor, currency),
            received_date: iso(date),
            method: (*method).into(),
            reference: reference.clone(),
            allocations: allocations
                .iter()
                .map(|(ordinal, amount)| pb::Allocation {
                    invoice: Some(invoice(*ordinal)),
                    amount: money(*amount, currency),
                })
                .collect(),
            allocation_rule: pb::AllocationRule::Unspecified.into(),
        }),
        Fact::Promise {
            subsidiary,
            amount_minor,
            promised,
            invoices,
            collector,
            note,
        } => DemoCommand::RecordPromiseToPay(pb::RecordPromiseToPayRequest {
            command_id: String::new(),
            customer_id,
            subsidiary_id: SUBSIDIARIES[*subsidiary].id.to_owned(),
            amount: money(*amount_minor, currency),
            made_on: iso(date),
            promised_date: iso(*promised),
            invoices: invoices.iter().map(|ordinal| invoice(*ordinal)).collect(),
            collector: (*collector).to_owned(),
            note: (*note).to_owned(),
        }),
    }
}
