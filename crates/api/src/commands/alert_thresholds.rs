//! `SetAlertThresholds`: the thresholds the group, or one subsidiary, is warned at. The request
//! names no customer: the command goes to the group's own account.

use receivables_domain::account::credit_limit;
use receivables_domain::alerts::{AlertThresholds, UnappliedCashThreshold};
use receivables_domain::command::SetAlertThresholds;
use receivables_domain::{CommandBody, CustomerId, Event, RecordedEvent, Refusal};
use rust_decimal::Decimal;

use super::{Addressed, finish};
use crate::fields::Fields;
use crate::{pb, responses};

/// An optional percentage: `Some(None)` when empty, `None` when not a number.
fn percent(fields: &mut Fields, path: &str, text: &str) -> Option<Option<Decimal>> {
    fields.optional(path, text.trim(), str::parse::<Decimal>)
}

/// The thresholds of the request, checked, or `None` with their bad fields named under
/// `thresholds`.
pub(crate) fn thresholds(
    fields: &mut Fields,
    wire: Option<&pb::AlertThresholds>,
) -> Option<AlertThresholds> {
    let Some(wire) = wire else {
        return Some(AlertThresholds::default());
    };
    let overdue_rate = percent(
        fields,
        "thresholds.overdue_rate_percent",
        &wire.overdue_rate_percent,
    );
    let utilisation = percent(
        fields,
        "thresholds.utilisation_percent",
        &wire.utilisation_percent,
    );
    let unapplied = match (&wire.unapplied_cash, wire.unapplied_cash_days) {
        (None, None) => Some(None),
        (Some(amount), days) => {
            let amount = fields.money("thresholds.unapplied_cash", Some(amount));
            if days.is_none() {
                fields.violation(
                    "thresholds.unapplied_cash_days",
                    "is required with unapplied_cash",
                );
            }
            amount
                .zip(days)
                .map(|(amount, days)| Some(UnappliedCashThreshold { amount, days }))
        }
        (None, Some(_)) => {
            fields.violation(
                "thresholds.unapplied_cash",
                "is required with unapplied_cash_days",
            );
            None
        }
    };
    // Every rule of the thresholds that did parse is checked too, so that one bad field does
    // not hide another.
    let checked = AlertThresholds {
        overdue_rate_percent: overdue_rate.flatten(),
        dso_days: wire.dso_days,
        utilisation_percent: utilisation.flatten(),
        days_past_due: wire.days_past_due,
        unapplied_cash: unapplied.flatten(),
        dispute_expiry_days: wire.dispute_expiry_days,
    };
    let violations = checked.check("thresholds");
    let clean = violations.is_empty();
    fields.extend(violations);
    (overdue_rate.is_some() && utilisation.is_some() && unapplied.is_some() && clean)
        .then_some(checked)
}

/// The request as a command to the group's account, or a refusal naming every bad field.
pub fn read(request: &pb::SetAlertThresholdsRequest) -> Result<Addressed, Refusal> {
    let mut fields = Fields::default();
    let id = fields.command_id(&request.command_id);
    let subsidiary = fields.optional(
        "subsidiary_id",
        &request.subsidiary_id,
        receivables_domain::SubsidiaryId::parse,
    );
    let thresholds = thresholds(&mut fields, request.thresholds.as_ref());
    let approved_by = fields.person("approved_by", &request.approved_by);
    let mut rules = Vec::new();
    credit_limit::check_reason(&mut rules, &request.reason);
    fields.extend(rules);
    let body = (|| {
        Some(CommandBody::SetAlertThresholds(SetAlertThresholds {
            subsidiary_id: subsidiary?,
            thresholds: thresholds?,
            reason: request.reason.clone(),
            approved_by: approved_by?,
        }))
    })();
    finish(fields, Some(CustomerId::group()), id, body)
}

/// The reply to the command, from the event that recorded it (see [`crate::commands`]).
pub fn reply(event: &RecordedEvent, replayed: bool) -> Option<pb::SetAlertThresholdsResponse> {
    let Event::AlertThresholdsSet(_) = &event.envelope.event else {
        return None;
    };
    Some(pb::SetAlertThresholdsResponse {
        receipt: Some(responses::receipt(event, replayed)),
    })
}
