//! Facts as wire requests: the one place that builds the data set's requests, used by the
//! simulation (provisional numbers, the simulation's command ids) and by assembly (the real
//! ones).

use chrono::NaiveDate;
use receivables_api::pb;
use receivables_api::responses::credit_grade;
use receivables_domain::Currency;
use receivables_domain::account::state::UnappliedSource;
use receivables_domain::credit::CreditGrade;
use rust_decimal::Decimal;

use crate::commands::DemoCommand;
use crate::dates::iso;
use crate::group::{
    DueRule, GROUP_CURRENCY, RATE_SOURCE, SUBSIDIARIES, Subsidiary, customer_record, rates_of_month,
};
use crate::profiles::{Credit, Profile};

/// A fact of the data set, with invoices and credit notes named by their ordinal within the
/// customer and payments by the index of the fact that recorded them: the wire request is built
/// from it once with provisional numbers and ids (to decide it) and once with the real ones (to
/// load it).
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
        /// Explicit allocations by invoice ordinal; empty means oldest due first, or nothing
        /// at all when the payment is taken on account.
        allocations: Vec<(usize, i64)>,
        /// Taken on account (allocation rule ON_ACCOUNT): all of it unapplied cash until it is
        /// applied.
        on_account: bool,
    },
    Promise {
        subsidiary: usize,
        amount_minor: i64,
        promised: NaiveDate,
        invoices: Vec<usize>,
        collector: &'static str,
        note: &'static str,
    },
    CreditNote {
        /// The note's ordinal within the customer.
        ordinal: usize,
        subsidiary: usize,
        amount_minor: i64,
        reason: &'static str,
        /// The invoice it credits; `None`: on account (unapplied credit).
        invoice: Option<usize>,
    },
    WriteOff {
        invoice: usize,
        amount_minor: i64,
        reason: &'static str,
    },
    Reversal {
        subsidiary: usize,
        /// The index of the payment's fact among the customer's facts.
        payment: usize,
        reason: pb::ReversalReason,
    },
    Application {
        subsidiary: usize,
        source: UnappliedSource,
        /// With allocations, their total; without, the most to apply oldest due first.
        amount_minor: i64,
        allocations: Vec<(usize, i64)>,
    },
    Refund {
        subsidiary: usize,
        source: UnappliedSource,
        amount_minor: i64,
        method: pb::PaymentMethod,
        reference: String,
    },
    Dispute {
        invoice: usize,
        amount_minor: i64,
        reason: pb::DisputeReason,
        note: &'static str,
        expires: Option<NaiveDate>,
    },
    Resolution {
        invoice: usize,
        outcome: pb::DisputeOutcome,
        /// The credit note that upheld it, by ordinal.
        credit_note: Option<usize>,
        note: &'static str,
    },
}

/// How one customer's requests name what the data set numbers: invoices and credit notes by
/// their ordinal within the customer, payments by the index of the fact that recorded them.
pub(crate) trait Names {
    fn invoice(&self, ordinal: usize) -> pb::InvoiceRef;
    /// The credit note's number (its subsidiary is the one the fact names).
    fn credit_note(&self, ordinal: usize) -> String;
    /// The command id that recorded the payment.
    fn payment(&self, fact: usize) -> String;
}

/// An amount in integer minor units as wire money.
fn money(amount_minor: i64, currency: Currency) -> Option<pb::Money> {
    Some(pb::Money {
        amount: Decimal::new(amount_minor, currency.minor_units()).to_string(),
        currency: currency.code().to_owned(),
    })
}

fn source(source: UnappliedSource) -> i32 {
    match source {
        UnappliedSource::Cash => pb::UnappliedSource::Cash,
        UnappliedSource::Credit => pb::UnappliedSource::Credit,
    }
    .into()
}

fn allocations(
    allocations: &[(usize, i64)],
    currency: Currency,
    names: &impl Names,
) -> Vec<pb::Allocation> {
    allocations
        .iter()
        .map(|(ordinal, amount)| pb::Allocation {
            invoice: Some(names.invoice(*ordinal)),
            amount: money(*amount, currency),
        })
        .collect()
}

/// The request for `fact` of `profile`'s customer on `date`, without a command id; `names`
/// names the customer's invoices, credit notes and payments.
pub(crate) fn request(
    profile: &Profile,
    date: NaiveDate,
    fact: &Fact,
    names: &impl Names,
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
                overdue_hold_days: None,
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
            let number = names.invoice(*ordinal);
            let request = pb::IssueInvoiceRequest {
                command_id: String::new(),
                customer_id,
                subsidiary_id: number.subsidiary_id,
                invoice_number: number.invoice_number,
                amount: money(*amount_minor, currency),
                issue_date: iso(date),
                due: Some(due),
                schedule: Vec::new(),
                order_number: String::new(),
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
            allocations: explicit,
            on_account,
        } => DemoCommand::RecordPayment(pb::RecordPaymentRequest {
            command_id: String::new(),
            customer_id,
            subsidiary_id: SUBSIDIARIES[*subsidiary].id.to_owned(),
            amount: money(*amount_minor, currency),
            received_date: iso(date),
            method: (*method).into(),
            reference: reference.clone(),
            allocations: allocations(explicit, currency, names),
            allocation_rule: if *on_account {
                pb::AllocationRule::OnAccount
            } else {
                pb::AllocationRule::Unspecified
            }
            .into(),
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
            invoices: invoices
                .iter()
                .map(|ordinal| names.invoice(*ordinal))
                .collect(),
            collector: (*collector).to_owned(),
            note: (*note).to_owned(),
        }),
        Fact::CreditNote {
            ordinal,
            subsidiary,
            amount_minor,
            reason,
            invoice,
        } => DemoCommand::IssueCreditNote(pb::IssueCreditNoteRequest {
            command_id: String::new(),
            customer_id,
            subsidiary_id: SUBSIDIARIES[*subsidiary].id.to_owned(),
            credit_note_number: names.credit_note(*ordinal),
            amount: money(*amount_minor, currency),
            issue_date: iso(date),
            reason: (*reason).to_owned(),
            invoice: invoice.map(|ordinal| names.invoice(ordinal)),
        }),
        Fact::WriteOff {
            invoice,
            amount_minor,
            reason,
        } => DemoCommand::WriteOffInvoice(pb::WriteOffInvoiceRequest {
            command_id: String::new(),
            customer_id,
            invoice: Some(names.invoice(*invoice)),
            amount: money(*amount_minor, currency),
            write_off_date: iso(date),
            reason: (*reason).to_owned(),
            approved_by: profile.credit_officer.to_owned(),
        }),
        Fact::Reversal {
            subsidiary,
            payment,
            reason,
        } => DemoCommand::ReversePayment(pb::ReversePaymentRequest {
            command_id: String::new(),
            customer_id,
            subsidiary_id: SUBSIDIARIES[*subsidiary].id.to_owned(),
            payment_command_id: names.payment(*payment),
            reversal_date: iso(date),
            reason: (*reason).into(),
        }),
        Fact::Application {
            subsidiary,
            source: from,
            amount_minor,
            allocations: explicit,
        } => DemoCommand::ApplyUnappliedCash(pb::ApplyUnappliedCashRequest {
            command_id: String::new(),
            customer_id,
            subsidiary_id: SUBSIDIARIES[*subsidiary].id.to_owned(),
            source: source(*from),
            amount: money(*amount_minor, currency),
            application_date: iso(date),
            allocations: allocations(explicit, currency, names),
        }),
        Fact::Refund {
            subsidiary,
            source: from,
            amount_minor,
            method,
            reference,
        } => DemoCommand::IssueRefund(pb::IssueRefundRequest {
            command_id: String::new(),
            customer_id,
            subsidiary_id: SUBSIDIARIES[*subsidiary].id.to_owned(),
            source: source(*from),
            amount: money(*amount_minor, currency),
            refund_date: iso(date),
            method: (*method).into(),
            reference: reference.clone(),
        }),
        Fact::Dispute {
            invoice,
            amount_minor,
            reason,
            note,
            expires,
        } => DemoCommand::OpenDispute(pb::OpenDisputeRequest {
            command_id: String::new(),
            customer_id,
            invoice: Some(names.invoice(*invoice)),
            amount: money(*amount_minor, currency),
            reason: (*reason).into(),
            note: (*note).to_owned(),
            opened_on: iso(date),
            expires_on: expires.map(iso).unwrap_or_default(),
        }),
        Fact::Resolution {
            invoice,
            outcome,
            credit_note,
            note,
        } => DemoCommand::ResolveDispute(pb::ResolveDisputeRequest {
            command_id: String::new(),
            customer_id,
            invoice: Some(names.invoice(*invoice)),
            resolved_on: iso(date),
            outcome: (*outcome).into(),
            credit_note_number: credit_note
                .map(|ordinal| names.credit_note(ordinal))
                .unwrap_or_default(),
            note: (*note).to_owned(),
        }),
    }
}

/// The registration of `profile`'s customer, the `index`th of the data set, without a command
/// id.
pub(crate) fn registration(profile: &Profile, index: usize) -> DemoCommand {
    DemoCommand::RegisterCustomer(pb::RegisterCustomerRequest {
        command_id: String::new(),
        customer_id: profile.customer_id.clone(),
        profile: Some(customer_record(index, profile.currency.code())),
    })
}

/// `subsidiary`'s default collector (its first), without a command id.
pub(crate) fn default_collector(subsidiary: &Subsidiary) -> DemoCommand {
    DemoCommand::AssignCollector(pb::AssignCollectorRequest {
        command_id: String::new(),
        customer_id: String::new(),
        default_for_subsidiary_id: subsidiary.id.to_owned(),
        collector: subsidiary
            .collectors
            .first()
            .copied()
            .unwrap_or_default()
            .to_owned(),
    })
}

/// The rates the treasury publishes on `date`, the `month`th date of the window, without a
/// command id.
pub(crate) fn rates(date: NaiveDate, month: usize) -> DemoCommand {
    DemoCommand::PublishExchangeRates(pb::PublishExchangeRatesRequest {
        command_id: String::new(),
        base: GROUP_CURRENCY.to_owned(),
        rate_date: iso(date),
        rates: rates_of_month(month)
            .into_iter()
            .map(|(currency, rate)| pb::ExchangeRateEntry {
                currency: currency.to_owned(),
                rate,
            })
            .collect(),
        source: RATE_SOURCE.to_owned(),
    })
}
