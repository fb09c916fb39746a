//! The aging report with its options (as of, by due date, invoice date or payment terms, group
//! by, filters) and its drill-down: the group to its subsidiaries, a subsidiary to its
//! customers, a customer to its open items.

use maud::html;
use receivables_api::pb;
use receivables_api::pb::query_service_server::QueryService;
use receivables_eventlog::EventLog;

use super::{Page, Request, bucket_cells, bucket_labels, link};
use crate::web::failure::Failure;
use crate::web::state::as_caller;
use crate::web::table::{Cell, Table};

/// Open items a page of the drill-down lists.
const ITEMS_PAGE: u32 = 100;

fn basis(text: &str) -> pb::AgingBasis {
    match text {
        "invoice_date" => pb::AgingBasis::InvoiceDate,
        "payment_terms" => pb::AgingBasis::PaymentTerms,
        _ => pb::AgingBasis::DueDate,
    }
}

fn group_by(text: &str) -> pb::AgingGroupBy {
    match text {
        "group" => pb::AgingGroupBy::Group,
        "subsidiary" => pb::AgingGroupBy::Subsidiary,
        _ => pb::AgingGroupBy::Customer,
    }
}

/// The scope the page's parameters name (a subsidiary's token: its own subsidiary).
fn scope<L>(request: &Request<L>) -> pb::AgingScope {
    pb::AgingScope {
        as_of: request.param("as_of").to_owned(),
        basis: basis(request.param("basis")) as i32,
        bucket_edges_days: Vec::new(),
        subsidiary_id: request.subsidiary_filter(),
        customer_id: request.param("customer").to_owned(),
        currency: request.param("currency").to_owned(),
    }
}

pub async fn page<L: EventLog>(request: Request<L>) -> Result<Page, Failure> {
    let grouping = match request.param("group_by") {
        "" => "group",
        other => other,
    };
    let report = request
        .state
        .queries
        .get_aging_report(as_caller(
            request.viewer.caller.clone(),
            pb::GetAgingReportRequest {
                scope: Some(scope(&request)),
                group_by: group_by(grouping) as i32,
                min_position: 0,
            },
        ))
        .await?
        .into_inner();
    let labels = bucket_labels(&report.lines);
    let mut columns: Vec<String> = ["Group", "Name", "Currency"].map(String::from).to_vec();
    columns.extend(labels.iter().cloned());
    columns.extend(["Open", "Unapplied", "Disputed"].map(String::from));
    let mut table = Table::new(
        "aging",
        format!("Aging as of {}, by {grouping}", report.as_of),
        columns,
    );
    let basis_param = request.param("basis").to_owned();
    let as_of_param = request.param("as_of").to_owned();
    for line in &report.lines {
        // Where a line leads: the group to subsidiaries, a subsidiary to its customers, a
        // customer to its open items.
        let next = match grouping {
            "group" => link(
                "/aging",
                &[
                    ("as_of", &as_of_param),
                    ("basis", &basis_param),
                    ("group_by", "subsidiary"),
                    ("currency", &line.currency),
                ],
            ),
            "subsidiary" => link(
                "/aging",
                &[
                    ("as_of", &as_of_param),
                    ("basis", &basis_param),
                    ("group_by", "customer"),
                    ("subsidiary", &line.group),
                    ("currency", &line.currency),
                ],
            ),
            _ => link(
                "/aging/items",
                &[
                    ("as_of", &as_of_param),
                    ("basis", &basis_param),
                    ("subsidiary", request.subsidiary_filter().as_str()),
                    ("customer", &line.group),
                    ("currency", &line.currency),
                ],
            ),
        };
        let mut row = vec![
            Cell::link(&line.group, next),
            Cell::text(&line.name),
            Cell::text(&line.currency),
        ];
        row.extend(bucket_cells(line, labels.len()));
        row.push(Cell::money(line.unapplied.as_ref()));
        row.push(Cell::money(line.disputed.as_ref()));
        table.push(row);
    }
    let body = html! {
        form.options method="get" action="/aging" {
            label { "As of" input type="date" name="as_of" value=(request.param("as_of")); }
            label { "Basis" select name="basis" {
                @for (value, name) in [("due_date", "Due date"), ("invoice_date", "Invoice date"), ("payment_terms", "Payment terms")] {
                    option value=(value) selected[request.param("basis") == value] { (name) }
                }
            } }
            label { "Group by" select name="group_by" {
                @for (value, name) in [("group", "Group"), ("subsidiary", "Subsidiary"), ("customer", "Customer")] {
                    option value=(value) selected[grouping == value] { (name) }
                }
            } }
            @if request.reads_group() {
                label { "Subsidiary" input type="text" name="subsidiary" value=(request.param("subsidiary")); }
            }
            label { "Customer" input type="text" name="customer" value=(request.param("customer")); }
            label { "Currency" input type="text" name="currency" size="4" value=(request.param("currency")); }
            button type="submit" { "Show" }
        }
        p.note { "As of " (report.as_of) ", the read model at log position " (report.position) ". Click a line to go down a level." }
        (table.html(&request.here))
    };
    Ok(Page {
        title: "Aging".to_owned(),
        body,
        tables: vec![table],
    })
}

/// The open items of a scope (a customer's, from the aging's drill-down), a page at a time.
pub async fn items<L: EventLog>(request: Request<L>) -> Result<Page, Failure> {
    let bucket = match request.param("bucket") {
        "" => None,
        text => Some(text.parse::<u32>().map_err(|_| {
            Failure::bad_parameters(vec![crate::web::failure::FieldProblem {
                field: "bucket".to_owned(),
                parameter: "bucket".to_owned(),
                description: format!("bucket is a whole number, not {text:?}"),
            }])
        })?),
    };
    let answer = request
        .state
        .queries
        .list_open_items(as_caller(
            request.viewer.caller.clone(),
            pb::ListOpenItemsRequest {
                scope: Some(scope(&request)),
                bucket,
                page_size: ITEMS_PAGE,
                page_token: request.param("page").to_owned(),
                min_position: 0,
            },
        ))
        .await?
        .into_inner();
    let table = open_items_table("Open items", &answer.items);
    let next = (!answer.next_page_token.is_empty()).then(|| {
        let mut params: Vec<(&str, &str)> = request
            .params
            .iter()
            .filter(|(k, _)| !matches!(k.as_str(), "page" | "format" | "table"))
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        params.sort();
        params.push(("page", &answer.next_page_token));
        link("/aging/items", &params)
    });
    let body = html! {
        p.note { "The read model at log position " (answer.position) "." }
        (table.html(&request.here))
        @if let Some(next) = next { p { a href=(next) rel="next" { "Next page" } } }
    };
    Ok(Page {
        title: format!(
            "Open items{}",
            match request.param("customer") {
                "" => String::new(),
                c => format!(" of {c}"),
            }
        ),
        body,
        tables: vec![table],
    })
}

/// Open items as a table: what the aging's drill-down and the customer page list.
pub(super) fn open_items_table(caption: &str, items: &[pb::OpenItem]) -> Table {
    let mut table = Table::new(
        "open-items",
        caption,
        vec![
            "Customer",
            "Subsidiary",
            "Invoice",
            "Issued",
            "Due",
            "Days past due",
            "Amount",
            "Open",
            "Over limit",
        ],
    );
    for item in items {
        let invoice = item.invoice.clone().unwrap_or_default();
        table.push(vec![
            Cell::link(
                &item.customer_id,
                link("/customer", &[("customer", &item.customer_id)]),
            ),
            Cell::text(invoice.subsidiary_id),
            Cell::text(invoice.invoice_number),
            Cell::text(&item.issue_date),
            Cell::text(&item.due_date),
            Cell::Count(item.days),
            Cell::money(item.amount.as_ref()),
            Cell::money(item.open_amount.as_ref()),
            Cell::text(if item.over_limit { "yes" } else { "" }),
        ]);
    }
    table
}
