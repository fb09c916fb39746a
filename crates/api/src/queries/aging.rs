//! `GetAgingReport`: the aging scope and grouping of a request, and the report as a reply.

use receivables_domain::refusal::FieldViolation;
use receivables_domain::{Currency, CustomerId, Position, SubsidiaryId};
use receivables_projections::aging::{AgingLine, AgingRequest, Basis, GroupBy};

use crate::fields::Fields;
use crate::{pb, responses};

/// Reads an aging scope (also the scope of `ListOpenItems`); every bad field under `path`.
pub(crate) fn scope(
    fields: &mut Fields,
    scope: Option<&pb::AgingScope>,
    path: &str,
) -> Option<AgingRequest> {
    let default = pb::AgingScope::default();
    let scope = scope.unwrap_or(&default);
    let field = |name: &str| format!("{path}.{name}");
    let as_of = fields.as_of(&field("as_of"), &scope.as_of);
    let basis = fields.known(&field("basis"), scope.basis, |basis| match basis {
        pb::AgingBasis::Unspecified | pb::AgingBasis::DueDate => Basis::DueDate,
        pb::AgingBasis::InvoiceDate => Basis::InvoiceDate,
        pb::AgingBasis::PaymentTerms => Basis::PaymentTerms,
    });
    let subsidiary = fields.optional(
        &field("subsidiary_id"),
        &scope.subsidiary_id,
        SubsidiaryId::parse,
    );
    let customer = fields.optional(&field("customer_id"), &scope.customer_id, CustomerId::parse);
    let currency = fields.optional(&field("currency"), &scope.currency, Currency::parse);
    let edges = if scope.bucket_edges_days.is_empty() {
        Some(())
    } else {
        fields.check(
            &field("bucket_edges_days"),
            AgingRequest::check_edges(&scope.bucket_edges_days),
        )
    };
    let mut request = AgingRequest::new(as_of?);
    edges?;
    if !scope.bucket_edges_days.is_empty() {
        request = fields.check(
            &field("bucket_edges_days"),
            request.with_edges(scope.bucket_edges_days.clone()),
        )?;
    }
    request.basis = basis?;
    request.subsidiary = subsidiary?;
    request.customer = customer?;
    request.currency = currency?;
    Some(request)
}

/// Reads and validates an aging report request; every bad field at once.
pub fn read(message: &pb::GetAgingReportRequest) -> Result<AgingRequest, Vec<FieldViolation>> {
    let mut fields = Fields::default();
    let aging = scope(&mut fields, message.scope.as_ref(), "scope");
    let group_by = fields.known("group_by", message.group_by, |group| match group {
        pb::AgingGroupBy::Unspecified | pb::AgingGroupBy::Customer => GroupBy::Customer,
        pb::AgingGroupBy::Subsidiary => GroupBy::Subsidiary,
        pb::AgingGroupBy::Group => GroupBy::Group,
    });
    match (aging, group_by) {
        (Some(mut aging), Some(group_by)) if fields.is_clean() => {
            aging.group_by = group_by;
            Ok(aging)
        }
        _ => Err(fields.violations),
    }
}

/// "current", "1-30", ..., "over 120".
pub fn bucket_labels(edges: &[u32]) -> Vec<String> {
    let mut labels = vec!["current".to_owned()];
    let mut from = 1;
    for edge in edges {
        labels.push(format!("{from}-{edge}"));
        from = edge + 1;
    }
    if let Some(last) = edges.last() {
        labels.push(format!("over {last}"));
    }
    labels
}

/// One line of aging as a message, its buckets labelled by `labels`.
pub fn aging_line(line: AgingLine, labels: &[String]) -> pb::AgingLine {
    let buckets = |amounts: Vec<receivables_domain::Money>| -> Vec<pb::AgingBucket> {
        amounts
            .into_iter()
            .zip(labels)
            .map(|(amount, label)| pb::AgingBucket {
                label: label.clone(),
                amount: Some(responses::money(amount)),
            })
            .collect()
    };
    let in_group_currency = line
        .in_group_currency
        .map(|group| pb::AgingInGroupCurrency {
            rate: group.rate.to_string(),
            buckets: buckets(group.buckets),
            open_total: Some(responses::money(group.open_total)),
            unapplied: Some(responses::money(group.unapplied)),
            disputed: Some(responses::money(group.disputed)),
        });
    pb::AgingLine {
        group: line.group,
        currency: line.currency.code().to_owned(),
        buckets: buckets(line.buckets),
        open_total: Some(responses::money(line.open_total)),
        unapplied: Some(responses::money(line.unapplied)),
        disputed: Some(responses::money(line.disputed)),
        name: line.name.unwrap_or_default(),
        in_group_currency,
    }
}

/// The report as a reply, stamped with the position the read model had applied.
pub fn answer(
    query: &AgingRequest,
    report: Vec<AgingLine>,
    position: Position,
) -> pb::GetAgingReportResponse {
    let labels = bucket_labels(query.edges_days());
    let lines = report
        .into_iter()
        .map(|line| aging_line(line, &labels))
        .collect();
    pb::GetAgingReportResponse {
        as_of: responses::date(query.as_of),
        lines,
        position: position.get(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_follow_the_edges() {
        assert_eq!(
            bucket_labels(&[30, 60, 90, 120]),
            vec!["current", "1-30", "31-60", "61-90", "91-120", "over 120"]
        );
        assert_eq!(bucket_labels(&[15]), vec!["current", "1-15", "over 15"]);
    }

    #[test]
    fn every_bad_field_is_named_at_once() {
        let violations = read(&pb::GetAgingReportRequest {
            scope: Some(pb::AgingScope {
                as_of: "2026-02-30".to_owned(),
                basis: 9,
                bucket_edges_days: vec![60, 30],
                subsidiary_id: "a.b".to_owned(),
                customer_id: "c d".to_owned(),
                currency: "XXY".to_owned(),
            }),
            group_by: 7,
            min_position: 0,
        })
        .expect_err("every field is bad");
        let named: Vec<&str> = violations.iter().map(|v| v.field.as_str()).collect();
        assert_eq!(
            named,
            [
                "scope.as_of",
                "scope.basis",
                "scope.subsidiary_id",
                "scope.customer_id",
                "scope.currency",
                "scope.bucket_edges_days",
                "group_by"
            ]
        );
    }
}
