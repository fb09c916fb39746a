//! One customer: its record, its aging today (with what is disputed), its credit lines, its
//! open items, its promises, its statement for a period and its collection activity. Without a customer id, a search of the customers.

use chrono::{Datelike as _, Months};
use maud::html;
use receivables_api::pb;
use receivables_api::pb::query_service_server::QueryService;
use receivables_eventlog::EventLog;

use super::{Page, Request, bucket_cells, bucket_labels, date_param, link, today};
use crate::web::failure::Failure;
use crate::web::state::as_caller;
use crate::web::table::{Cell, Table};

/// Open items, promises and activities the page lists (each list links to the rest).
const LIST_PAGE: u32 = 100;
/// Customers a search lists.
const SEARCH_PAGE: u32 = 50;

/// `MOVEMENT_KIND_CREDIT_NOTE` → `credit note`.
fn movement(kind: i32) -> String {
    pb::MovementKind::try_from(kind)
        .map(|k| {
            k.as_str_name()
                .trim_start_matches("MOVEMENT_KIND_")
                .replace('_', " ")
                .to_lowercase()
        })
        .unwrap_or_default()
}

pub async fn page<L: EventLog>(request: Request<L>) -> Result<Page, Failure> {
    let customer = request.param("customer").trim().to_owned();
    if customer.is_empty() || !request.param("search").is_empty() {
        return search(request).await;
    }
    let caller = request.viewer.caller.clone();
    let queries = &request.state.queries;
    let to = date_param(&request.params, "to")?.unwrap_or_else(today);
    let from = date_param(&request.params, "from")?.unwrap_or_else(|| {
        to.with_day(1)
            .and_then(|d| d.checked_sub_months(Months::new(2)))
            .unwrap_or(to)
    });
    let subsidiary = request.subsidiary_filter();

    let statement = queries
        .get_statement(as_caller(
            caller.clone(),
            pb::GetStatementRequest {
                customer_id: customer.clone(),
                from_date: from.to_string(),
                to_date: to.to_string(),
                subsidiary_id: subsidiary.clone(),
                ..Default::default()
            },
        ))
        .await?
        .into_inner();
    let items = queries
        .list_open_items(as_caller(
            caller.clone(),
            pb::ListOpenItemsRequest {
                scope: Some(pb::AgingScope {
                    customer_id: customer.clone(),
                    subsidiary_id: subsidiary.clone(),
                    ..Default::default()
                }),
                page_size: LIST_PAGE,
                ..Default::default()
            },
        ))
        .await?
        .into_inner();

    let aging = queries
        .get_aging_report(as_caller(
            caller.clone(),
            pb::GetAgingReportRequest {
                scope: Some(pb::AgingScope {
                    customer_id: customer.clone(),
                    subsidiary_id: subsidiary.clone(),
                    ..Default::default()
                }),
                group_by: pb::AgingGroupBy::Customer as i32,
                min_position: 0,
            },
        ))
        .await?
        .into_inner();
    let mut tables = Vec::new();
    let labels = bucket_labels(&aging.lines);
    let mut columns = vec!["Currency".to_owned()];
    columns.extend(labels.iter().cloned());
    columns.extend(["Open", "Unapplied", "Disputed"].map(String::from));
    let mut balances = Table::new("aging", format!("Aging as of {}", aging.as_of), columns);
    for line in &aging.lines {
        let mut row = vec![Cell::text(&line.currency)];
        row.extend(bucket_cells(line, labels.len()));
        row.push(Cell::money(line.unapplied.as_ref()));
        row.push(Cell::money(line.disputed.as_ref()));
        balances.push(row);
    }
    tables.push(balances);
    let open = super::aging::open_items_table("Open items today", &items.items);
    tables.push(open);

    for currency in &statement.currencies {
        let mut movements = Table::new(
            "statement",
            format!(
                "Statement in {} from {} to {}: opening {}, closing {}",
                currency.currency,
                statement.from_date,
                statement.to_date,
                currency
                    .opening_balance
                    .as_ref()
                    .map_or("", |m| m.amount.as_str()),
                currency
                    .closing_balance
                    .as_ref()
                    .map_or("", |m| m.amount.as_str()),
            ),
            vec![
                "Date",
                "Kind",
                "Subsidiary",
                "Document",
                "Debit",
                "Credit",
                "Balance",
                "Note",
            ],
        );
        for line in &currency.movements {
            movements.push(vec![
                Cell::text(&line.date),
                Cell::text(movement(line.kind)),
                Cell::text(&line.subsidiary_id),
                Cell::text(&line.document),
                Cell::money(line.debit.as_ref()),
                Cell::money(line.credit.as_ref()),
                Cell::money(line.balance.as_ref()),
                Cell::text(&line.note),
            ]);
        }
        tables.push(movements);
    }

    if request.reads_group() {
        let exposure = queries
            .get_exposure(as_caller(
                caller.clone(),
                pb::GetExposureRequest {
                    customer_id: customer.clone(),
                    ..Default::default()
                },
            ))
            .await;
        let mut credit = Table::new(
            "credit",
            "Credit lines",
            vec![
                "Currency",
                "Limit",
                "Exposure",
                "Available",
                "Utilisation",
                "Overdue",
                "Over limit",
            ],
        );
        match exposure {
            Ok(exposure) => {
                for line in &exposure.into_inner().lines {
                    credit.push(vec![
                        Cell::text(&line.currency),
                        Cell::money(line.limit.as_ref()),
                        Cell::money(line.exposure.as_ref()),
                        Cell::money(line.available.as_ref()),
                        Cell::text(&line.utilisation),
                        Cell::money(line.overdue.as_ref()),
                        Cell::text(if line.over_limit { "OVER LIMIT" } else { "" }),
                    ]);
                }
            }
            // A customer without a credit line yet has no exposure to show.
            Err(status) if status.code() == tonic::Code::NotFound => {}
            Err(status) => return Err(status.into()),
        }
        tables.push(credit);

        let promises = queries
            .list_promises(as_caller(
                caller.clone(),
                pb::ListPromisesRequest {
                    customer_id: customer.clone(),
                    page_size: LIST_PAGE,
                    ..Default::default()
                },
            ))
            .await?
            .into_inner();
        let mut promise_table = Table::new(
            "promises",
            "Promises to pay",
            vec![
                "Promised date",
                "Amount",
                "Paid",
                "Status",
                "Collector",
                "Made on",
            ],
        );
        for promise in &promises.promises {
            promise_table.push(vec![
                Cell::text(&promise.promised_date),
                Cell::money(promise.amount.as_ref()),
                Cell::money(promise.paid.as_ref()),
                Cell::text(
                    pb::PromiseStatus::try_from(promise.status)
                        .map(|s| {
                            s.as_str_name()
                                .trim_start_matches("PROMISE_STATUS_")
                                .replace('_', " ")
                                .to_lowercase()
                        })
                        .unwrap_or_default(),
                ),
                Cell::text(&promise.collector),
                Cell::text(&promise.made_on),
            ]);
        }
        tables.push(promise_table);

        let activities = queries
            .list_collection_activities(as_caller(
                caller.clone(),
                pb::ListCollectionActivitiesRequest {
                    from: from.to_string(),
                    to: to.to_string(),
                    customer_id: customer.clone(),
                    page_size: LIST_PAGE,
                    ..Default::default()
                },
            ))
            .await?
            .into_inner();
        let mut activity = Table::new(
            "activity",
            format!("Collection activity from {from} to {to}, newest first"),
            vec!["Date", "Collector", "Contact", "Note", "Next action on"],
        );
        for entry in &activities.activities {
            activity.push(vec![
                Cell::text(&entry.occurred_on),
                Cell::text(&entry.collector),
                Cell::text(&entry.contact),
                Cell::text(&entry.note),
                Cell::text(&entry.next_action_on),
            ]);
        }
        tables.push(activity);
    }

    let profile = statement.customer.clone().unwrap_or_default();
    let here = request.here.clone();
    let body = html! {
        @if !profile.name.is_empty() {
            p { strong { (profile.name) } @if !profile.legal_name.is_empty() { " · " (profile.legal_name) }
                @if !profile.country.is_empty() { " · " (profile.country) }
                @if !profile.tax_id.is_empty() { " · tax id " (profile.tax_id) } }
        }
        form.options method="get" action="/customer" {
            input type="hidden" name="customer" value=(customer);
            label { "Statement from" input type="date" name="from" value=(from.to_string()); }
            label { "to" input type="date" name="to" value=(to.to_string()); }
            button type="submit" { "Show" }
        }
        p.note { "The read model at log position " (statement.position) ". "
            a href=(link("/aging/items", &[("customer", &customer)])) { "Every open item" } }
        @for table in &tables { (table.html(&here)) }
    };
    Ok(Page {
        title: format!("Customer {customer}"),
        body,
        tables,
    })
}

/// Registered customers by id prefix or name.
async fn search<L: EventLog>(request: Request<L>) -> Result<Page, Failure> {
    let text = match request.param("search") {
        "" => request.param("customer"),
        text => text,
    }
    .to_owned();
    let answer = request
        .state
        .queries
        .search_customers(as_caller(
            request.viewer.caller.clone(),
            pb::SearchCustomersRequest {
                text: text.clone(),
                page_size: SEARCH_PAGE,
                page_token: request.param("page").to_owned(),
                min_position: 0,
            },
        ))
        .await?
        .into_inner();
    let mut table = Table::new(
        "customers",
        "Customers",
        vec!["Customer", "Name", "Country", "Collector"],
    );
    for view in &answer.customers {
        let profile = view.profile.clone().unwrap_or_default();
        table.push(vec![
            Cell::link(
                &view.customer_id,
                link("/customer", &[("customer", &view.customer_id)]),
            ),
            Cell::text(profile.name),
            Cell::text(profile.country),
            Cell::text(&view.collector),
        ]);
    }
    let body = html! {
        form.options method="get" action="/customer" {
            label { "Id prefix or name" input type="search" name="search" value=(text); }
            button type="submit" { "Search" }
        }
        (table.html(&request.here))
    };
    Ok(Page {
        title: "Customers".to_owned(),
        body,
        tables: vec![table],
    })
}
