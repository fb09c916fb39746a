//! `AgreeInstalmentPlan` and `CancelInstalmentPlan`: a collector reschedules an overdue
//! invoice in instalments, and the plan ends.

use receivables_domain::command::{AgreeInstalmentPlan, CancelInstalmentPlan};
use receivables_domain::{CommandBody, Event, RecordedEvent, Refusal};

use super::{Addressed, finish};
use crate::fields::Fields;
use crate::{pb, responses};

/// The `AgreeInstalmentPlan` request as a command, or a refusal naming every bad field.
pub fn read_agree(request: &pb::AgreeInstalmentPlanRequest) -> Result<Addressed, Refusal> {
    let mut fields = Fields::default();
    let id = fields.command_id(&request.command_id);
    let customer_id = fields.customer_id("customer_id", &request.customer_id);
    let invoice = fields.invoice("invoice", request.invoice.as_ref());
    let agreed_on = fields.date("agreed_on", &request.agreed_on);
    let rows = fields.schedule("rows", &request.rows);
    if request.rows.is_empty() {
        fields.violation("rows", "at least one instalment is required");
    }
    let collector = fields.person("collector", &request.collector);
    let body = (|| {
        Some(CommandBody::AgreeInstalmentPlan(AgreeInstalmentPlan {
            invoice: invoice?,
            agreed_on: agreed_on?,
            rows: rows?,
            collector: collector?,
            note: request.note.clone(),
        }))
    })();
    finish(fields, customer_id, id, body)
}

/// The reply to `AgreeInstalmentPlan`, from the event that recorded it.
pub fn reply_agree(
    event: &RecordedEvent,
    replayed: bool,
) -> Option<pb::AgreeInstalmentPlanResponse> {
    let Event::InstalmentPlanAgreed(agreed) = &event.envelope.event else {
        return None;
    };
    Some(pb::AgreeInstalmentPlanResponse {
        receipt: Some(responses::receipt(event, replayed)),
        plan_id: agreed.plan_id.to_string(),
        open_amount: Some(responses::money(agreed.open_amount)),
        overdue_amount: Some(responses::money(agreed.overdue_amount)),
    })
}

/// The `CancelInstalmentPlan` request as a command, or a refusal naming every bad field.
pub fn read_cancel(request: &pb::CancelInstalmentPlanRequest) -> Result<Addressed, Refusal> {
    let mut fields = Fields::default();
    let id = fields.command_id(&request.command_id);
    let customer_id = fields.customer_id("customer_id", &request.customer_id);
    let invoice = fields.invoice("invoice", request.invoice.as_ref());
    let cancelled_on = fields.date("cancelled_on", &request.cancelled_on);
    let body = (|| {
        Some(CommandBody::CancelInstalmentPlan(CancelInstalmentPlan {
            invoice: invoice?,
            cancelled_on: cancelled_on?,
            reason: request.reason.clone(),
        }))
    })();
    finish(fields, customer_id, id, body)
}

/// The reply to `CancelInstalmentPlan`, from the event that recorded it.
pub fn reply_cancel(
    event: &RecordedEvent,
    replayed: bool,
) -> Option<pb::CancelInstalmentPlanResponse> {
    let Event::InstalmentPlanCancelled(cancelled) = &event.envelope.event else {
        return None;
    };
    Some(pb::CancelInstalmentPlanResponse {
        receipt: Some(responses::receipt(event, replayed)),
        plan_id: cancelled.plan_id.to_string(),
    })
}
