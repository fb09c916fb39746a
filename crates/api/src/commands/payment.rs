//! `RecordPayment`: a subsidiary received a payment.

use receivables_domain::account::payment;
use receivables_domain::command::{AllocationRequest, RecordPayment};
use receivables_domain::event::AllocationRule;
use receivables_domain::limits::ALLOCATIONS_PER_PAYMENT_MAX;
use receivables_domain::payment::PaymentMethod;
use receivables_domain::refusal::FieldViolation;
use receivables_domain::{CommandBody, Event, RecordedEvent, Refusal};

use super::{Addressed, finish};
use crate::fields::Fields;
use crate::{pb, responses};

/// A payment method of the wire (refunds read it too).
pub(crate) fn payment_method(method: pb::PaymentMethod) -> Option<PaymentMethod> {
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

/// The request as a command to the customer's account, or a refusal naming every bad field.
pub fn read(request: &pb::RecordPaymentRequest) -> Result<Addressed, Refusal> {
    let mut fields = Fields::default();
    let id = fields.command_id(&request.command_id);
    let customer_id = fields.customer_id("customer_id", &request.customer_id);
    let subsidiary_id = fields.subsidiary_id("subsidiary_id", &request.subsidiary_id);
    let amount = fields.money("amount", request.amount.as_ref());
    let received_date = fields.date("received_date", &request.received_date);
    let method = fields.enumeration("method", request.method, payment_method);
    let allocations = read_allocations(&mut fields, &request.allocations);
    let rule = fields.known("allocation_rule", request.allocation_rule, |rule| rule);
    let on_account = match rule {
        Some(pb::AllocationRule::Explicit) if request.allocations.is_empty() => {
            fields.violation("allocations", "allocation rule EXPLICIT needs allocations");
            None
        }
        Some(pb::AllocationRule::OldestDueFirst | pb::AllocationRule::OnAccount)
            if !request.allocations.is_empty() =>
        {
            fields.violation(
                "allocations",
                "allocation rules OLDEST_DUE_FIRST and ON_ACCOUNT take no allocations",
            );
            None
        }
        Some(rule) => Some(rule == pb::AllocationRule::OnAccount),
        None => None,
    };
    let mut rules = Vec::new();
    payment::check_reference(&mut rules, &request.reference);
    check_read_allocations(
        &mut rules,
        "payment",
        amount,
        &allocations,
        request.allocations.len(),
    );
    fields.extend(rules);
    let body = (|| {
        Some(CommandBody::RecordPayment(RecordPayment {
            subsidiary_id: subsidiary_id?,
            amount: amount?,
            received_date: received_date?,
            method: method?,
            reference: request.reference.clone(),
            allocations: allocations.into_iter().collect::<Option<Vec<_>>>()?,
            on_account: on_account?,
        }))
    })();
    finish(fields, customer_id, id, body)
}

/// Reads the allocations of a request, each `None` where a field was bad (named in `fields`);
/// one more than the limit is read, so that the limit's rule can see it is broken.
pub(crate) fn read_allocations(
    fields: &mut Fields,
    allocations: &[pb::Allocation],
) -> Vec<Option<AllocationRequest>> {
    allocations
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
        .collect()
}

/// The rules over allocations against the money they share out (their number, currencies,
/// invoices named once, total), on the allocations that could be read.
pub(crate) fn check_read_allocations(
    rules: &mut Vec<FieldViolation>,
    what: &str,
    amount: Option<receivables_domain::Money>,
    allocations: &[Option<AllocationRequest>],
    requested: usize,
) {
    if requested > ALLOCATIONS_PER_PAYMENT_MAX {
        rules.push(FieldViolation::new(
            "allocations",
            format!(
                "at most {ALLOCATIONS_PER_PAYMENT_MAX} allocations per {what}, got {requested}"
            ),
        ));
    } else if let (Some(amount), Some(read)) = (
        amount,
        allocations.iter().cloned().collect::<Option<Vec<_>>>(),
    ) {
        payment::check_allocations(rules, what, amount, &read);
    }
}

/// The wire's name of an allocation rule.
pub(crate) fn allocation_rule(rule: AllocationRule) -> pb::AllocationRule {
    match rule {
        AllocationRule::Explicit => pb::AllocationRule::Explicit,
        AllocationRule::OldestDueFirst => pb::AllocationRule::OldestDueFirst,
        AllocationRule::OnAccount => pb::AllocationRule::OnAccount,
    }
}

/// The reply to the command, from the event that recorded it (see [`crate::commands`]).
pub fn reply(event: &RecordedEvent, replayed: bool) -> Option<pb::RecordPaymentResponse> {
    let Event::PaymentReceived(payment) = &event.envelope.event else {
        return None;
    };
    Some(pb::RecordPaymentResponse {
        receipt: Some(responses::receipt(event, replayed)),
        allocation_rule: allocation_rule(payment.allocation_rule).into(),
        allocations: payment
            .allocations
            .iter()
            .map(responses::allocation)
            .collect(),
        unapplied: Some(responses::money(payment.unapplied)),
    })
}
