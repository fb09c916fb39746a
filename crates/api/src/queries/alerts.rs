//! `WatchAlerts`: which alerts a client follows, and an alert on the wire.

use receivables_domain::alerts::AlertKind;
use receivables_domain::ids::GROUP_ACCOUNT_ID;
use receivables_domain::refusal::FieldViolation;
use receivables_domain::{CustomerId, SubsidiaryId};
use receivables_projections::alerts::{Alert, AlertFilter};

use crate::fields::Fields;
use crate::{pb, responses};

/// Reads and validates a `WatchAlerts` request's filter; every bad field at once.
pub fn read(message: &pb::WatchAlertsRequest) -> Result<AlertFilter, Vec<FieldViolation>> {
    let mut fields = Fields::default();
    let mut filter = AlertFilter::default();
    for (index, name) in message.kinds.iter().enumerate() {
        match AlertKind::parse(name.trim()) {
            Some(kind) => {
                filter.kinds.insert(kind);
            }
            None => fields.violation(
                format!("kinds[{index}]"),
                format!(
                    "unknown alert kind {name:?}; one of {}",
                    AlertKind::ALL.map(AlertKind::name).join(", ")
                ),
            ),
        }
    }
    // The group's own metrics are filed under its account's id, which is not a customer's.
    let customer = if message.customer_id == GROUP_ACCOUNT_ID {
        Some(Some(GROUP_ACCOUNT_ID.to_owned()))
    } else {
        fields
            .optional("customer_id", &message.customer_id, CustomerId::parse)
            .map(|c| c.map(|c| c.to_string()))
    };
    let subsidiary = fields
        .optional("subsidiary_id", &message.subsidiary_id, SubsidiaryId::parse)
        .map(|s| s.map(|s| s.to_string()));
    match (customer, subsidiary) {
        (Some(customer), Some(subsidiary)) if fields.is_clean() => {
            filter.customer = customer;
            filter.subsidiary = subsidiary;
            Ok(filter)
        }
        _ => Err(fields.violations),
    }
}

/// An alert as a message.
pub fn alert(alert: Alert) -> pb::Alert {
    pb::Alert {
        seq: alert.seq,
        id: alert.id,
        kind: alert.kind.name().to_owned(),
        customer_id: alert.customer,
        subsidiary_id: alert.subsidiary.unwrap_or_default(),
        subject: alert.subject,
        raised_on: responses::date(alert.raised_on),
        position: alert.position.get(),
        detail: alert.detail,
        value: alert.value,
        threshold: alert.threshold,
    }
}
