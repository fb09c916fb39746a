//! Audit: verify the log's hash chain, with progress while it runs (the page is sent as the
//! verification goes, so it shows progress without a script), and a report (the aging, credit
//! exposure, the work queue) as it was known at a past moment.

use std::convert::Infallible;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Redirect, Response};
use futures::StreamExt as _;
use maud::{Markup, PreEscaped, html};
use receivables_api::pb;
use receivables_api::pb::audit_service_server::AuditService;
use receivables_eventlog::EventLog;

use super::{Page, Params, Request, bucket_cells, bucket_labels};
use crate::web::failure::{Failure, FieldProblem};
use crate::web::layout::{self, Frame};
use crate::web::session::{NoViewer, viewer};
use crate::web::state::WebState;
use crate::web::state::as_caller;
use crate::web::table::{Cell, Table};

/// Events between two progress lines of a verification.
const PROGRESS_EVERY_EVENTS: u32 = 20_000;
/// Rows a report as known shows (its first page).
const AS_KNOWN_ROWS: u32 = 100;
/// Where the streamed page's progress goes in the frame.
const PROGRESS_MARK: &str = "<!--progress-->";

pub async fn page<L: EventLog>(request: Request<L>) -> Result<Page, Failure> {
    let known_at = request.param("known_at").to_owned();
    let mut tables = Vec::new();
    let mut note = None;
    if !known_at.is_empty() {
        // A browser's datetime-local is a moment without a zone (2026-03-31T18:00): read as UTC.
        let moment = if known_at.len() == 16 {
            format!("{known_at}:00Z")
        } else {
            known_at.clone()
        };
        let timestamp = chrono::DateTime::parse_from_rfc3339(&moment).map_err(|_| {
            Failure::bad_parameters(vec![FieldProblem {
                field: "known_at".to_owned(),
                parameter: "known_at".to_owned(),
                description: format!("known_at is a moment (2026-03-31T18:00), not {known_at:?}"),
            }])
        })?;
        let known_at = Some(prost_types::Timestamp {
            seconds: timestamp.timestamp(),
            nanos: 0,
        });
        let caller = request.viewer.caller.clone();
        let as_of = request.param("as_of").to_owned();
        let (table, position) = match request.param("report") {
            "exposures" => {
                let answer = request
                    .state
                    .audit
                    .list_exposures_as_known(as_caller(
                        caller,
                        pb::ListExposuresAsKnownRequest {
                            known_at,
                            report: Some(pb::ListExposuresRequest {
                                as_of,
                                page_size: AS_KNOWN_ROWS,
                                ..Default::default()
                            }),
                        },
                    ))
                    .await?
                    .into_inner();
                let mut table = Table::new(
                    "exposures-as-known",
                    format!("Credit exposure as known at {moment}"),
                    vec![
                        "Customer",
                        "Currency",
                        "Limit",
                        "Exposure",
                        "Available",
                        "Utilisation",
                        "Over limit",
                    ],
                );
                for line in &answer.lines {
                    table.push(vec![
                        Cell::text(&line.customer_id),
                        Cell::text(&line.currency),
                        Cell::money(line.limit.as_ref()),
                        Cell::money(line.exposure.as_ref()),
                        Cell::money(line.available.as_ref()),
                        Cell::text(&line.utilisation),
                        Cell::text(if line.over_limit { "OVER LIMIT" } else { "" }),
                    ]);
                }
                (table, answer.position)
            }
            "work_queue" => {
                let answer = request
                    .state
                    .audit
                    .get_work_queue_as_known(as_caller(
                        caller,
                        pb::GetWorkQueueAsKnownRequest {
                            known_at,
                            report: Some(pb::GetWorkQueueRequest {
                                as_of,
                                page_size: AS_KNOWN_ROWS,
                                ..Default::default()
                            }),
                        },
                    ))
                    .await?
                    .into_inner();
                let mut table = Table::new(
                    "work-queue-as-known",
                    format!("Work queue as known at {moment}"),
                    vec![
                        "Score",
                        "Customer",
                        "Currency",
                        "Overdue",
                        "Days past due",
                        "Collector",
                        "Rule",
                    ],
                );
                for item in &answer.items {
                    table.push(vec![
                        Cell::Amount(item.score.clone()),
                        Cell::text(&item.customer_id),
                        Cell::text(&item.currency),
                        Cell::money(item.overdue.as_ref()),
                        Cell::Count(i64::from(item.days_past_due)),
                        Cell::text(&item.collector),
                        Cell::text(&item.rule),
                    ]);
                }
                (table, answer.position)
            }
            _ => {
                let report = request
                    .state
                    .audit
                    .get_aging_report_as_known(as_caller(
                        caller,
                        pb::GetAgingReportAsKnownRequest {
                            known_at,
                            report: Some(pb::GetAgingReportRequest {
                                scope: Some(pb::AgingScope {
                                    as_of,
                                    subsidiary_id: request.subsidiary_filter(),
                                    ..Default::default()
                                }),
                                group_by: pb::AgingGroupBy::Subsidiary as i32,
                                min_position: 0,
                            }),
                        },
                    ))
                    .await?
                    .into_inner();
                let labels = bucket_labels(&report.lines);
                let mut columns: Vec<String> = vec!["Subsidiary".to_owned(), "Currency".to_owned()];
                columns.extend(labels.iter().cloned());
                columns.push("Open".to_owned());
                let mut table = Table::new(
                    "aging-as-known",
                    format!("Aging as of {} as known at {moment}", report.as_of),
                    columns,
                );
                for line in &report.lines {
                    let mut row = vec![Cell::text(&line.group), Cell::text(&line.currency)];
                    row.extend(bucket_cells(line, labels.len()));
                    table.push(row);
                }
                (table, report.position)
            }
        };
        note = Some(format!("Replayed the log up to position {position}."));
        tables.push(table);
    }
    let body = html! {
        h2 { "Verify the log" }
        p { "Reads every event, checks each one's hash and its link to the one before it, and reports the first broken link. " }
        p { a href="/audit/verify" { "Verify the whole log" } }
        h2 { "A report as it was known" }
        p.note { "The read model as it stood at the moment: only what the log had recorded by then, the report exactly as it could have been read then." }
        form.options method="get" action="/audit" {
            label { "Known at (UTC)" input type="datetime-local" name="known_at" value=(known_at) required; }
            label { "As of" input type="date" name="as_of" value=(request.param("as_of")); }
            label { "Report" select name="report" {
                @for (value, name) in [("aging", "Aging by subsidiary"), ("exposures", "Credit exposure"), ("work_queue", "Work queue")] {
                    option value=(value) selected[request.param("report") == value] { (name) }
                }
            } }
            button type="submit" { "Show" }
        }
        @if let Some(note) = note { p.note { (note) } }
        @for table in &tables { (table.html(&request.here)) }
    };
    Ok(Page {
        title: "Audit".to_owned(),
        body,
        tables,
    })
}

/// Verifies the log, sending a line of progress as each arrives and the result at the end.
pub async fn verify<L: EventLog>(
    State(state): State<Arc<WebState<L>>>,
    headers: HeaderMap,
    Query(params): Query<Params>,
) -> Response {
    let viewer = match viewer(&state, &headers).await {
        Ok(viewer) => viewer,
        Err(NoViewer::Anonymous) => return Redirect::to("/login").into_response(),
        Err(NoViewer::Refused(failure)) => return failure.into_response(),
    };
    let frame = Frame {
        principal: viewer.caller.principal.as_str().to_owned(),
        subsidiary: None,
        csrf: viewer.csrf.clone(),
        in_session: viewer.in_session,
        refresh: None,
    };
    let request = pb::VerifyLogRequest {
        customer_id: params.get("customer").cloned().unwrap_or_default(),
        progress_every: PROGRESS_EVERY_EVENTS,
    };
    let stream = match state
        .audit
        .verify_log(as_caller(viewer.caller.clone(), request))
        .await
    {
        Ok(stream) => stream.into_inner(),
        Err(status) => {
            let failure = Failure::from(status);
            return (failure.status, layout::failure(&frame, &failure)).into_response();
        }
    };
    let page = layout::page(
        &frame,
        "Verifying the log",
        html! { ol.progress { (PreEscaped(PROGRESS_MARK)) } },
    )
    .into_string();
    let (head, tail) = page
        .split_once(PROGRESS_MARK)
        .unwrap_or((page.as_str(), ""));
    let (head, tail) = (head.to_owned(), tail.to_owned());
    let lines = stream.map(|item| -> Result<String, Infallible> {
        Ok(match item {
            Ok(reply) => progress_line(&reply).into_string(),
            Err(status) => html! { li.failure { "Stopped: " (status.message()) } }.into_string(),
        })
    });
    let body = futures::stream::once(async move { Ok::<_, Infallible>(head) })
        .chain(lines)
        .chain(futures::stream::once(async move { Ok(tail) }));
    let mut response = Body::from_stream(body).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    response
}

fn progress_line(reply: &pb::VerifyLogResponse) -> Markup {
    match &reply.item {
        Some(pb::verify_log_response::Item::Progress(progress)) => html! {
            li { "Checked " (progress.events_read) " events, up to position " (progress.position) " of " (progress.last_position) }
        },
        Some(pb::verify_log_response::Item::Result(result)) => html! {
            li.result {
                @match &result.first_broken {
                    None => strong { "Intact: " (result.events_checked) " events checked, the last at position " (result.last_position) ", hash " code { (result.last_hash) } },
                    Some(broken) => strong.failure { "BROKEN at position " (broken.position) " (customer " (broken.customer_id) "): expected " code { (broken.expected) } ", found " code { (broken.found) } },
                }
            }
        },
        None => html! {},
    }
}
