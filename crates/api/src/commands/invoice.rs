//! `IssueInvoice`: a subsidiary issues an invoice.

use chrono::Days;
use receivables_domain::account::invoice;
use receivables_domain::calendar::check_business_date;
use receivables_domain::command::IssueInvoice;
use receivables_domain::event::CreditCheckRecord;
use receivables_domain::ids::{OrderNumber, TermsCode};
use receivables_domain::limits::PAYMENT_TERMS_DAYS_MAX;
use receivables_domain::terms::ScheduleRow;
use receivables_domain::{CommandBody, Event, InvoiceNumber, RecordedEvent, Refusal};

use super::{Addressed, finish};
use crate::fields::Fields;
use crate::{pb, responses};

/// The request as a command to the customer's account, or a refusal naming every bad field.
pub fn read(request: &pb::IssueInvoiceRequest) -> Result<Addressed, Refusal> {
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
    let reservation = fields.optional("order_number", &request.order_number, OrderNumber::parse);
    let mut payment_terms = None;
    let schedule = fields.schedule("schedule", &request.schedule);
    let (due_date, terms_days) = match (&request.due, issue_date) {
        (None, _) => {
            if request.schedule.is_empty() {
                fields.violation(
                    "due",
                    "one of due_date, terms_days, payment_terms or a schedule is required",
                );
            }
            (None, None)
        }
        (Some(pb::issue_invoice_request::Due::PaymentTerms(code)), _) => {
            payment_terms = fields.check("payment_terms", TermsCode::parse(code));
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
    if request.due.is_some() && !request.schedule.is_empty() {
        fields.violation(
            "schedule",
            "a schedule replaces the due date, terms days or payment terms: give one of them",
        );
    }
    // A due date is required exactly when the request gave one or terms in days.
    let dated = matches!(
        request.due,
        Some(
            pb::issue_invoice_request::Due::DueDate(_)
                | pb::issue_invoice_request::Due::TermsDays(_)
        )
    );
    let body = (|| {
        Some(CommandBody::IssueInvoice(IssueInvoice {
            subsidiary_id: subsidiary_id?,
            invoice_number: invoice_number?,
            amount: amount?,
            issue_date: issue_date?,
            due_date: if dated { Some(due_date?) } else { None },
            terms_days,
            payment_terms,
            schedule: schedule?,
            reservation: reservation?,
        }))
    })();
    finish(fields, customer_id, id, body)
}

/// A credit check as the replies of invoices and reservations give it.
pub(crate) fn credit_check(check: &CreditCheckRecord) -> pb::CreditCheck {
    pb::CreditCheck {
        limit: Some(responses::money(check.limit)),
        policy: responses::credit_policy(check.policy).into(),
        exposure_after: Some(responses::money(check.exposure_after)),
        currency_mismatch: check.currency_mismatch,
        conversions: check
            .conversions
            .iter()
            .map(|c| pb::ExposureConversion {
                exposure: Some(responses::money(c.exposure)),
                rate: c.rate.to_string(),
                converted: Some(responses::money(c.converted)),
            })
            .collect(),
    }
}

/// The reply to the command, from the event that recorded it (see [`crate::commands`]).
pub fn reply(event: &RecordedEvent, replayed: bool) -> Option<pb::IssueInvoiceResponse> {
    let Event::InvoiceIssued(issued) = &event.envelope.event else {
        return None;
    };
    Some(pb::IssueInvoiceResponse {
        receipt: Some(responses::receipt(event, replayed)),
        over_limit: issued.over_limit,
        credit_check: issued.credit_check.as_ref().map(credit_check),
        due_date: responses::date(issued.due_date),
        schedule: if issued.schedule.is_empty() {
            responses::schedule(&[ScheduleRow {
                due_date: issued.due_date,
                amount: issued.amount,
            }])
        } else {
            responses::schedule(&issued.schedule)
        },
        discount: issued.discount.as_ref().map(responses::discount),
        reservation_consumed: issued
            .consumes
            .as_ref()
            .map(|consumed| responses::money(consumed.amount)),
    })
}
