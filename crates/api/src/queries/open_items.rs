//! `ListOpenItems`: the open invoices behind a cell of the aging report, a page at a time.

use receivables_domain::Position;
use receivables_domain::refusal::FieldViolation;
use receivables_projections::aging::{AgingRequest, OpenItemsPage, PageError};

use crate::fields::Fields;
use crate::queries::{aging, page_size};
use crate::{pb, responses};

/// A validated `ListOpenItems` request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenItemsQuery {
    pub scope: AgingRequest,
    /// The bucket of the report to list; `None` lists every open item of the scope.
    pub bucket: Option<usize>,
    pub page_size: u32,
    pub page_token: Option<String>,
}

/// Reads a `ListOpenItems` request; every bad field at once. The token and the bucket are
/// checked against the report when the page is cut ([`refusal`]).
pub fn read(message: &pb::ListOpenItemsRequest) -> Result<OpenItemsQuery, Vec<FieldViolation>> {
    let mut fields = Fields::default();
    let scope = aging::scope(&mut fields, message.scope.as_ref(), "scope");
    let size = page_size(&mut fields, message.page_size);
    match (scope, size) {
        (Some(scope), Some(page_size)) if fields.is_clean() => Ok(OpenItemsQuery {
            scope,
            bucket: message
                .bucket
                .map(|b| usize::try_from(b).unwrap_or(usize::MAX)),
            page_size,
            page_token: (!message.page_token.is_empty()).then(|| message.page_token.clone()),
        }),
        _ => Err(fields.violations),
    }
}

/// The field violation of a page that cannot be cut.
pub fn refusal(error: &PageError) -> Vec<FieldViolation> {
    vec![FieldViolation::new(error.field(), error)]
}

/// A page of open items as a reply.
pub fn answer(page: OpenItemsPage, position: Position) -> pb::ListOpenItemsResponse {
    let items = page
        .items
        .into_iter()
        .map(|item| pb::OpenItem {
            invoice: Some(pb::InvoiceRef {
                subsidiary_id: item.subsidiary_id,
                invoice_number: item.invoice_number,
            }),
            customer_id: item.customer_id,
            amount: Some(responses::money(item.amount)),
            open_amount: Some(responses::money(item.open)),
            issue_date: responses::date(item.issue_date),
            due_date: responses::date(item.due_date),
            days: item.days,
            over_limit: item.over_limit,
        })
        .collect();
    pb::ListOpenItemsResponse {
        items,
        next_page_token: page.next_page_token.unwrap_or_default(),
        position: position.get(),
    }
}
