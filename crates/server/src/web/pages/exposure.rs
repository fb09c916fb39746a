//! Credit exposure: every customer's credit lines, most utilised first, breaches highlighted,
//! with what is still available; filters for breaches only and one currency; a page at a time.

use maud::html;
use receivables_api::pb;
use receivables_api::pb::query_service_server::QueryService;
use receivables_eventlog::EventLog;

use super::{Page, Request, link};
use crate::web::failure::Failure;
use crate::web::state::as_caller;
use crate::web::table::{Cell, Table};

/// Credit lines a page lists.
const LINES_PAGE: u32 = 100;

pub async fn page<L: EventLog>(request: Request<L>) -> Result<Page, Failure> {
    let over_limit = request.param("over_limit") == "1";
    let answer = request
        .state
        .queries
        .list_exposures(as_caller(
            request.viewer.caller.clone(),
            pb::ListExposuresRequest {
                as_of: request.param("as_of").to_owned(),
                sort: pb::ExposureSort::Utilisation as i32,
                only_over_limit: over_limit,
                currency: request.param("currency").to_owned(),
                page_size: LINES_PAGE,
                page_token: request.param("page").to_owned(),
                ..Default::default()
            },
        ))
        .await?
        .into_inner();
    let mut table = Table::new(
        "exposure",
        "Credit exposure, most utilised first",
        vec![
            "Customer",
            "Name",
            "Currency",
            "Limit",
            "Open",
            "Reserved",
            "Unapplied",
            "Exposure",
            "Available",
            "Utilisation",
            "Overdue",
            "Oldest days past due",
            "Over limit",
        ],
    );
    let mut breaches = Vec::new();
    for (index, line) in answer.lines.iter().enumerate() {
        if line.over_limit {
            breaches.push(index);
        }
        table.push(vec![
            Cell::link(
                &line.customer_id,
                link("/customer", &[("customer", &line.customer_id)]),
            ),
            Cell::text(&line.customer_name),
            Cell::text(&line.currency),
            Cell::money(line.limit.as_ref()),
            Cell::money(line.open.as_ref()),
            Cell::money(line.reserved.as_ref()),
            Cell::money(line.unapplied.as_ref()),
            Cell::money(line.exposure.as_ref()),
            Cell::money(line.available.as_ref()),
            Cell::text(&line.utilisation),
            Cell::money(line.overdue.as_ref()),
            line.oldest_days_past_due
                .map_or_else(|| Cell::text(""), |d| Cell::Count(i64::from(d))),
            Cell::text(if line.over_limit { "OVER LIMIT" } else { "" }),
        ]);
    }
    let next = (!answer.next_page_token.is_empty()).then(|| {
        link(
            "/exposure",
            &[
                ("as_of", request.param("as_of")),
                ("currency", request.param("currency")),
                ("over_limit", request.param("over_limit")),
                ("page", &answer.next_page_token),
            ],
        )
    });
    let body = html! {
        form.options method="get" action="/exposure" {
            label { "As of" input type="date" name="as_of" value=(request.param("as_of")); }
            label { "Currency" input type="text" name="currency" size="4" value=(request.param("currency")); }
            label { "Over limit only" input type="checkbox" name="over_limit" value="1" checked[over_limit]; }
            button type="submit" { "Show" }
        }
        p.note { (breaches.len()) " of the " (answer.lines.len()) " lines shown are over their limit. The read model at log position " (answer.position) "." }
        (table.html_marking(&request.here, &breaches, "breach"))
        @if let Some(next) = next { p { a href=(next) rel="next" { "Next page" } } }
    };
    Ok(Page {
        title: "Credit exposure".to_owned(),
        body,
        tables: vec![table],
    })
}
