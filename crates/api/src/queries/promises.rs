//! `ListPromises`: promises to pay with their status as of a date, of one customer or across
//! customers, filtered and paged.

use receivables_domain::ids::PersonName;
use receivables_domain::refusal::FieldViolation;
use receivables_domain::{CustomerId, Position, SubsidiaryId};
use receivables_projections::promises::{
    PROMISE_GRACE_DAYS_DEFAULT, PromiseLine, PromisePage, PromiseQuery, PromiseStatus,
};

use crate::fields::Fields;
use crate::queries::{page_size, paged};
use crate::{pb, responses};

/// A status of the wire; UNSPECIFIED (every status) is `None`.
fn status(status: pb::PromiseStatus) -> Option<PromiseStatus> {
    match status {
        pb::PromiseStatus::Unspecified => None,
        pb::PromiseStatus::Open => Some(PromiseStatus::Open),
        pb::PromiseStatus::PartiallyKept => Some(PromiseStatus::PartiallyKept),
        pb::PromiseStatus::Kept => Some(PromiseStatus::Kept),
        pb::PromiseStatus::Broken => Some(PromiseStatus::Broken),
    }
}

/// A status on the wire: the same four, as the read model's rule decides them (open until the
/// window closes, unless kept first; then partially kept or broken).
pub fn promise_status(status: PromiseStatus) -> pb::PromiseStatus {
    match status {
        PromiseStatus::Open => pb::PromiseStatus::Open,
        PromiseStatus::PartiallyKept => pb::PromiseStatus::PartiallyKept,
        PromiseStatus::Kept => pb::PromiseStatus::Kept,
        PromiseStatus::Broken => pb::PromiseStatus::Broken,
    }
}

/// Reads and validates a `ListPromises` request; every bad field at once.
pub fn read(message: &pb::ListPromisesRequest) -> Result<PromiseQuery, Vec<FieldViolation>> {
    let mut fields = Fields::default();
    let customer = fields.optional("customer_id", &message.customer_id, CustomerId::parse);
    let as_of = fields.as_of("as_of", &message.as_of);
    let wanted = fields.known("status", message.status, status);
    let collector = fields.optional("collector", &message.collector, PersonName::parse);
    let subsidiary = fields.optional("subsidiary_id", &message.subsidiary_id, SubsidiaryId::parse);
    let from = fields.optional_date("promised_from", &message.promised_from);
    let to = fields.optional_date("promised_to", &message.promised_to);
    if let (Some(Some(from)), Some(Some(to))) = (from, to)
        && to < from
    {
        fields.violation(
            "promised_to",
            format!("{to} is before promised_from {from}"),
        );
    }
    // Page size 0 lists one customer's promises whole, as before the listing had pages.
    let unpaged = message.page_size == 0 && !message.customer_id.is_empty();
    let size = page_size(&mut fields, message.page_size);
    let (Some(customer), Some(as_of), Some(wanted), Some(collector), Some(subsidiary)) =
        (customer, as_of, wanted, collector, subsidiary)
    else {
        return Err(fields.violations);
    };
    let (Some(from), Some(to), Some(size)) = (from, to, size) else {
        return Err(fields.violations);
    };
    let (query, size) = match PromiseQuery::new(as_of) {
        query if unpaged => (query.unpaged(), None),
        query => (query, Some(size)),
    };
    let Some(mut query) = paged(&mut fields, query, size, &message.page_token) else {
        return Err(fields.violations);
    };
    if !fields.is_clean() {
        return Err(fields.violations);
    }
    query.customer = customer;
    query.status = wanted;
    query.collector = collector;
    query.subsidiary = subsidiary;
    query.promised_from = from;
    query.promised_to = to;
    query.grace_days = message.grace_days.unwrap_or(PROMISE_GRACE_DAYS_DEFAULT);
    Ok(query)
}

/// One promise as a message.
pub fn view(line: PromiseLine) -> pb::PromiseView {
    pb::PromiseView {
        promise_id: line.promise_id.to_string(),
        customer_id: line.customer.to_string(),
        subsidiary_id: line.subsidiary.to_string(),
        amount: Some(responses::money(line.amount)),
        paid: Some(responses::money(line.paid)),
        made_on: responses::date(line.made_on),
        promised_date: responses::date(line.promised_date),
        window_end: responses::date(line.window_end),
        collector: line.collector.to_string(),
        status: promise_status(line.status).into(),
    }
}

/// A page of promises as a reply.
pub fn answer(page: PromisePage, position: Position) -> pb::ListPromisesResponse {
    pb::ListPromisesResponse {
        promises: page.promises.into_iter().map(view).collect(),
        position: position.get(),
        next_page_token: page.next_page_token.unwrap_or_default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_bad_field_is_named_at_once() {
        let violations = read(&pb::ListPromisesRequest {
            customer_id: "a b".to_owned(),
            status: 42,
            as_of: "2026-13-01".to_owned(),
            collector: "\u{7}".to_owned(),
            subsidiary_id: "x.y".to_owned(),
            promised_from: "2026-02-30".to_owned(),
            promised_to: "tomorrow".to_owned(),
            page_size: 5_000,
            ..pb::ListPromisesRequest::default()
        })
        .expect_err("every field is bad");
        let named: Vec<&str> = violations.iter().map(|v| v.field.as_str()).collect();
        assert_eq!(
            named,
            [
                "customer_id",
                "as_of",
                "status",
                "collector",
                "subsidiary_id",
                "promised_from",
                "promised_to",
                "page_size"
            ]
        );
    }

    #[test]
    fn a_window_that_ends_before_it_starts_is_refused() {
        let violations = read(&pb::ListPromisesRequest {
            promised_from: "2026-05-10".to_owned(),
            promised_to: "2026-05-01".to_owned(),
            ..pb::ListPromisesRequest::default()
        })
        .expect_err("backwards window");
        assert_eq!(violations[0].field, "promised_to");
    }

    #[test]
    fn one_customer_unpaged_by_default_and_everyone_paged() {
        let one = read(&pb::ListPromisesRequest {
            customer_id: "C-1".to_owned(),
            ..pb::ListPromisesRequest::default()
        })
        .expect("valid");
        assert_eq!(one, one.clone().unpaged());
        let everyone = read(&pb::ListPromisesRequest::default()).expect("valid");
        assert_ne!(everyone, everyone.clone().unpaged());
    }
}
