//! The collector work queue: per collector (or everyone's), highest score first, with broken
//! promises, the last contact, what is snoozed and each item's score and the rule behind it.

use maud::html;
use receivables_api::pb;
use receivables_api::pb::query_service_server::QueryService;
use receivables_eventlog::EventLog;

use super::{Page, Request, link};
use crate::web::failure::Failure;
use crate::web::state::as_caller;
use crate::web::table::{Cell, Table};

/// Items a page lists.
const ITEMS_PAGE: u32 = 50;

fn escalation(level: i32) -> &'static str {
    match pb::EscalationLevel::try_from(level) {
        Ok(pb::EscalationLevel::Reminder) => "reminder",
        Ok(pb::EscalationLevel::Call) => "call",
        Ok(pb::EscalationLevel::DemandLetter) => "demand letter",
        Ok(pb::EscalationLevel::StopSupply) => "stop supply",
        Ok(pb::EscalationLevel::LegalOrAgency) => "legal or agency",
        _ => "",
    }
}

pub async fn page<L: EventLog>(request: Request<L>) -> Result<Page, Failure> {
    let snoozed = request.param("snoozed") == "1";
    let answer = request
        .state
        .queries
        .get_work_queue(as_caller(
            request.viewer.caller.clone(),
            pb::GetWorkQueueRequest {
                as_of: request.param("as_of").to_owned(),
                collector: request.param("collector").to_owned(),
                include_snoozed: snoozed,
                page_size: ITEMS_PAGE,
                page_token: request.param("page").to_owned(),
                ..Default::default()
            },
        ))
        .await?
        .into_inner();
    let mut table = Table::new(
        "work-queue",
        "Work queue, highest score first",
        vec![
            "Score",
            "Customer",
            "Name",
            "Currency",
            "Overdue",
            "Oldest due",
            "Days past due",
            "Broken promises",
            "Escalation",
            "Next action",
            "Collector",
            "Last contact",
            "Days since contact",
            "Snoozed until",
            "Rule",
        ],
    );
    for item in &answer.items {
        let last_contact = item
            .last_contact
            .as_ref()
            .map_or_else(String::new, |c| format!("{} {}", c.occurred_on, c.note));
        table.push(vec![
            Cell::Amount(item.score.clone()),
            Cell::link(
                &item.customer_id,
                link("/customer", &[("customer", &item.customer_id)]),
            ),
            Cell::text(&item.customer_name),
            Cell::text(&item.currency),
            Cell::money(item.overdue.as_ref()),
            Cell::text(&item.oldest_due_date),
            Cell::Count(i64::from(item.days_past_due)),
            Cell::Count(i64::from(item.broken_promises)),
            Cell::text(escalation(item.escalation)),
            Cell::text(&item.next_action),
            Cell::text(&item.collector),
            Cell::text(last_contact.trim()),
            Cell::Count(i64::from(item.days_since_contact)),
            Cell::text(&item.snoozed_until),
            Cell::text(&item.rule),
        ]);
    }
    let next = (!answer.next_page_token.is_empty()).then(|| {
        link(
            "/work-queue",
            &[
                ("as_of", request.param("as_of")),
                ("collector", request.param("collector")),
                ("snoozed", request.param("snoozed")),
                ("page", &answer.next_page_token),
            ],
        )
    });
    let body = html! {
        form.options method="get" action="/work-queue" {
            label { "As of" input type="date" name="as_of" value=(request.param("as_of")); }
            label { "Collector" input type="text" name="collector" value=(request.param("collector")); }
            label { "Include snoozed" input type="checkbox" name="snoozed" value="1" checked[snoozed]; }
            button type="submit" { "Show" }
        }
        p.note { "The read model at log position " (answer.position) ". The score's rule says how each item was weighed." }
        (table.html(&request.here))
        @if let Some(next) = next { p { a href=(next) rel="next" { "Next page" } } }
    };
    Ok(Page {
        title: "Work queue".to_owned(),
        body,
        tables: vec![table],
    })
}
