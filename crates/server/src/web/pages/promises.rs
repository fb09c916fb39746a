//! Promises to pay: those falling due this week, those broken last month, and how many of last
//! month's promises were kept.

use chrono::{Datelike as _, Duration, NaiveDate};
use maud::html;
use receivables_api::pb;
use receivables_api::pb::query_service_server::QueryService;
use receivables_eventlog::EventLog;

use super::{Page, Request, date_param, link, today};
use crate::web::failure::Failure;
use crate::web::state::as_caller;
use crate::web::table::{Cell, Table};

/// Promises read per call.
const PROMISES_PAGE: u32 = 1000;
/// Most promises one list reads (a longer list shows a note).
const PROMISES_READ_MAX: usize = 20_000;

fn status_name(status: i32) -> &'static str {
    match pb::PromiseStatus::try_from(status) {
        Ok(pb::PromiseStatus::Open) => "open",
        Ok(pb::PromiseStatus::PartiallyKept) => "partially kept",
        Ok(pb::PromiseStatus::Kept) => "kept",
        Ok(pb::PromiseStatus::Broken) => "broken",
        _ => "",
    }
}

/// Every promise of `status` promised from `from` through `to`, as of `as_of`, and whether
/// the read stopped at its bound.
async fn promises<L: EventLog>(
    request: &Request<L>,
    status: pb::PromiseStatus,
    from: NaiveDate,
    to: NaiveDate,
    as_of: NaiveDate,
) -> Result<(Vec<pb::PromiseView>, bool), Failure> {
    let mut all = Vec::new();
    let mut token = String::new();
    loop {
        let answer = request
            .state
            .queries
            .list_promises(as_caller(
                request.viewer.caller.clone(),
                pb::ListPromisesRequest {
                    status: status as i32,
                    as_of: as_of.to_string(),
                    collector: request.param("collector").to_owned(),
                    subsidiary_id: request.subsidiary_filter(),
                    promised_from: from.to_string(),
                    promised_to: to.to_string(),
                    page_size: PROMISES_PAGE,
                    page_token: token,
                    ..Default::default()
                },
            ))
            .await?
            .into_inner();
        all.extend(answer.promises);
        if answer.next_page_token.is_empty() {
            return Ok((all, false));
        }
        if all.len() >= PROMISES_READ_MAX {
            return Ok((all, true));
        }
        token = answer.next_page_token;
    }
}

fn table(name: &'static str, caption: String, promises: &[pb::PromiseView]) -> Table {
    let mut table = Table::new(
        name,
        caption,
        vec![
            "Customer",
            "Subsidiary",
            "Promised date",
            "Window ends",
            "Amount",
            "Paid",
            "Status",
            "Collector",
            "Made on",
        ],
    );
    for promise in promises {
        table.push(vec![
            Cell::link(
                &promise.customer_id,
                link("/customer", &[("customer", &promise.customer_id)]),
            ),
            Cell::text(&promise.subsidiary_id),
            Cell::text(&promise.promised_date),
            Cell::text(&promise.window_end),
            Cell::money(promise.amount.as_ref()),
            Cell::money(promise.paid.as_ref()),
            Cell::text(status_name(promise.status)),
            Cell::text(&promise.collector),
            Cell::text(&promise.made_on),
        ]);
    }
    table
}

pub async fn page<L: EventLog>(request: Request<L>) -> Result<Page, Failure> {
    let as_of = date_param(&request.params, "as_of")?.unwrap_or_else(today);
    let week_end = as_of + Duration::days(6);
    let this_month = as_of.with_day(1).unwrap_or(as_of);
    let last_month_end = this_month.pred_opt().unwrap_or(as_of);
    let last_month = last_month_end.with_day(1).unwrap_or(last_month_end);

    let (due, due_capped) =
        promises(&request, pb::PromiseStatus::Open, as_of, week_end, as_of).await?;
    let (last, last_capped) = promises(
        &request,
        pb::PromiseStatus::Unspecified,
        last_month,
        last_month_end,
        as_of,
    )
    .await?;
    let broken: Vec<pb::PromiseView> = last
        .iter()
        .filter(|p| p.status == pb::PromiseStatus::Broken as i32)
        .cloned()
        .collect();
    let count =
        |status: pb::PromiseStatus| last.iter().filter(|p| p.status == status as i32).count();
    let kept = count(pb::PromiseStatus::Kept);
    let partly = count(pb::PromiseStatus::PartiallyKept);
    let closed = kept + partly + broken.len();
    let mut rate = Table::new(
        "kept-rate",
        format!("Promises made for {} to {}", last_month, last_month_end),
        vec![
            "Promises",
            "Kept",
            "Partially kept",
            "Broken",
            "Still open",
            "Kept rate",
        ],
    );
    let count_cell = |n: usize| Cell::Count(i64::try_from(n).unwrap_or(i64::MAX));
    rate.push(vec![
        count_cell(last.len()),
        count_cell(kept),
        count_cell(partly),
        count_cell(broken.len()),
        count_cell(count(pb::PromiseStatus::Open)),
        Cell::text(if closed == 0 {
            "-".to_owned()
        } else {
            super::overview::percent(
                rust_decimal::Decimal::from(kept),
                rust_decimal::Decimal::from(closed),
            )
        }),
    ]);
    let due_table = table(
        "due-this-week",
        format!("Open promises due {as_of} to {week_end}"),
        &due,
    );
    let broken_table = table(
        "broken-last-month",
        format!("Broken, promised {last_month} to {last_month_end}"),
        &broken,
    );
    let body = html! {
        form.options method="get" action="/promises" {
            label { "As of" input type="date" name="as_of" value=(request.param("as_of")); }
            label { "Collector" input type="text" name="collector" value=(request.param("collector")); }
            button type="submit" { "Show" }
        }
        (rate.html(&request.here))
        p.note { "The kept rate counts the promises whose window has closed: kept over kept, partially kept and broken." }
        (due_table.html(&request.here))
        (broken_table.html(&request.here))
        @if due_capped || last_capped { p.note { "Only the first " (PROMISES_READ_MAX) " promises of a list were read." } }
    };
    Ok(Page {
        title: "Promises to pay".to_owned(),
        body,
        tables: vec![rate, due_table, broken_table],
    })
}
