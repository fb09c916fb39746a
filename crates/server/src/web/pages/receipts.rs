//! The review queue of bank receipts: the statement lines the matching engine could not settle
//! for sure, each with its candidates ranked, their confidence and reasons, and the three things
//! a person does with a line: accept a candidate, split the line across customers (each part
//! allocated oldest due first, or on account), or mark it not a receivable.
//!
//! Every figure is `ReceiptService`'s answer to the viewer, and every decision is its
//! `ResolveReceipt` as the viewer, so the page has the service's access rules (a subsidiary's
//! token sees and settles its own accounts' lines only) and its validation (every offending
//! field named at once). The queue is served where `ReceiptService` is, with the command path
//! the decisions need: the all-in-one service, or a query service with `--serve-receipts`;
//! another query service answers that it is not here.
//!
//! A decision is a form: it carries the session's CSRF token, is refused from another origin,
//! and carries a command id made when the page was drawn, so a form sent twice (a double click,
//! the browser's back and resend) is one decision. Accepting re-reads the line and takes the
//! candidate as the engine ranks it now, by customer: what is posted is what a fresh page would
//! show, never allocations the browser sent.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;

use axum::extract::{Form, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use receivables_api::pb;
use receivables_api::pb::receipt_service_server::ReceiptService;
use receivables_eventlog::EventLog;
use serde::Deserialize;
use tonic::Code;

use super::{Page, Request, frame, link, own_subsidiary};
use crate::authorization::Caller;
use crate::receipts::ReceiptGrpc;
use crate::web::failure::Failure;
use crate::web::layout;
use crate::web::session::{NoViewer, constant_time_eq, same_origin, viewer};
use crate::web::state::{WebState, as_caller};
use crate::web::table::{Cell, Table};

/// Lines a page lists (each with its candidates).
const LINES_PAGE: u32 = 20;
/// Parts the split form offers; a line split more ways is resolved over gRPC or the CLI.
const SPLIT_PARTS_MAX: usize = 4;

/// The exclusion reasons as the form names them.
const EXCLUSIONS: [(&str, &str, pb::ExclusionReason); 4] = [
    (
        "supplier-refund",
        "Refund from a supplier",
        pb::ExclusionReason::SupplierRefund,
    ),
    ("interest", "Interest", pb::ExclusionReason::Interest),
    (
        "internal-transfer",
        "Transfer between the group's accounts",
        pb::ExclusionReason::InternalTransfer,
    ),
    (
        "other",
        "Other (say what in the note)",
        pb::ExclusionReason::Other,
    ),
];

/// The service, or why this process has none.
fn served<L>(state: &WebState<L>) -> Result<&ReceiptGrpc<L>, Failure> {
    state.receipts.as_ref().ok_or_else(|| {
        Failure::from(tonic::Status::new(
            Code::Unimplemented,
            "the review queue of bank receipts is served where its decisions can post the \
             payments: the all-in-one service (serve), or a query service started with \
             --serve-receipts; this one was not",
        ))
    })
}

fn money_text(money: Option<&pb::Money>) -> String {
    money.map_or_else(String::new, |m| format!("{} {}", m.amount, m.currency))
}

fn allocations_text(allocations: &[pb::Allocation]) -> String {
    allocations
        .iter()
        .map(|a| {
            let invoice = a.invoice.clone().unwrap_or_default();
            format!(
                "{}/{} {}",
                invoice.subsidiary_id,
                invoice.invoice_number,
                a.amount.as_ref().map_or("", |m| m.amount.as_str())
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

pub async fn page<L: EventLog>(request: Request<L>) -> Result<Page, Failure> {
    let service = served(&request.state)?;
    // After a decision: the position it was written at, so that the queue shows it done.
    let min_position = match request.param("after") {
        "" => 0,
        text => text.parse::<u64>().map_err(|_| {
            Failure::bad_parameters(vec![crate::web::failure::FieldProblem {
                field: "min_position".to_owned(),
                parameter: "after".to_owned(),
                description: format!("after is a log position, not {text:?}"),
            }])
        })?,
    };
    let answer = service
        .list_unmatched_receipts(as_caller(
            request.viewer.caller.clone(),
            pb::ListUnmatchedReceiptsRequest {
                bank_account_id: request.param("bank_account").to_owned(),
                subsidiary_id: request.subsidiary_filter(),
                page_size: LINES_PAGE,
                page_token: request.param("page").to_owned(),
                min_position,
                ..Default::default()
            },
        ))
        .await?
        .into_inner();
    let mut table = Table::new(
        "receipts",
        "Statement lines waiting for a person",
        vec![
            "Bank account",
            "Line",
            "Statement",
            "Subsidiary",
            "Value date",
            "Amount",
            "Payer",
            "Payer's account",
            "Reference",
            "Best candidate",
            "Confidence",
            "Why",
        ],
    );
    for receipt in &answer.receipts {
        let best = receipt.candidates.first();
        table.push(vec![
            Cell::text(&receipt.bank_account_id),
            Cell::text(&receipt.line_id),
            Cell::text(&receipt.statement_id),
            Cell::text(&receipt.subsidiary_id),
            Cell::text(&receipt.value_date),
            Cell::money(receipt.amount.as_ref()),
            Cell::text(&receipt.payer_name),
            Cell::text(&receipt.payer_account),
            Cell::text(&receipt.reference),
            best.map_or_else(
                || Cell::text(""),
                |c| {
                    Cell::link(
                        &c.customer_id,
                        link("/customer", &[("customer", &c.customer_id)]),
                    )
                },
            ),
            best.map_or_else(|| Cell::text(""), |c| Cell::Count(i64::from(c.confidence))),
            Cell::text(best.map_or_else(String::new, |c| c.reasons.join("; "))),
        ]);
    }
    let next = (!answer.next_page_token.is_empty()).then(|| {
        link(
            "/receipts",
            &[
                ("bank_account", request.param("bank_account")),
                ("subsidiary", request.param("subsidiary")),
                ("page", &answer.next_page_token),
            ],
        )
    });
    let csrf = request.viewer.csrf.as_str();
    let body = html! {
        form.options method="get" action="/receipts" {
            label { "Bank account" input type="text" name="bank_account" value=(request.param("bank_account")); }
            @if request.reads_group() {
                label { "Subsidiary" input type="text" name="subsidiary" value=(request.param("subsidiary")); }
            }
            button type="submit" { "Show" }
        }
        @if !request.param("done").is_empty() {
            p.done role="status" { (request.param("done")) }
        }
        p.note {
            "The read model at log position " (answer.position) ". Lines the engine matched "
            "for sure are posted already; these wait for a person. Accepting a candidate posts "
            "its payment as the engine would; a split part without invoices pays its "
            "customer's oldest due first."
        }
        @if answer.receipts.is_empty() {
            p.empty { "Nothing waits for a person." }
        }
        (table.html(&request.here))
        @for receipt in &answer.receipts {
            (line_section(receipt, csrf))
        }
        @if let Some(next) = next { p { a href=(next) rel="next" { "Next page" } } }
    };
    Ok(Page {
        title: "Bank receipts to review".to_owned(),
        body,
        tables: vec![table],
    })
}

/// The hidden fields every decision on `receipt` carries, with a fresh command id.
fn decision_fields(receipt: &pb::UnmatchedReceipt, csrf: &str) -> Markup {
    html! {
        input type="hidden" name="csrf" value=(csrf);
        input type="hidden" name="command_id" value=(uuid::Uuid::new_v4());
        input type="hidden" name="bank_account" value=(receipt.bank_account_id);
        input type="hidden" name="line_id" value=(receipt.line_id);
    }
}

/// One waiting line: its candidates with an accept button each, the split form and the
/// exclusion form.
fn line_section(receipt: &pb::UnmatchedReceipt, csrf: &str) -> Markup {
    let currency = receipt.amount.as_ref().map_or("", |m| m.currency.as_str());
    html! {
        section.receipt data-line=(receipt.line_id) data-bank-account=(receipt.bank_account_id) {
            h2 {
                (receipt.bank_account_id) " · line " (receipt.line_id) " · "
                (money_text(receipt.amount.as_ref())) " on " (receipt.value_date)
            }
            p.note {
                "Payer " (receipt.payer_name)
                @if !receipt.payer_account.is_empty() { " (" (receipt.payer_account) ")" }
                " · reference “" (receipt.reference) "”"
            }
            @if receipt.candidates.is_empty() {
                p.note { "No candidate: split it by hand, or mark it not a receivable." }
            } @else {
                table.data data-table="candidates" {
                    thead { tr {
                        th { "Customer" } th { "Name" } th { "Confidence" } th { "Invoices" }
                        th { "On account" } th { "Why" } th { }
                    } }
                    tbody {
                        @for candidate in &receipt.candidates {
                            tr data-customer=(candidate.customer_id) {
                                td { a href=(link("/customer", &[("customer", &candidate.customer_id)])) { (candidate.customer_id) } }
                                td { (candidate.customer_name) }
                                td.num { (candidate.confidence) }
                                td {
                                    (allocations_text(&candidate.allocations))
                                    @if !candidate.credit_applications.is_empty() {
                                        " · credit applied: " (allocations_text(&candidate.credit_applications))
                                    }
                                }
                                td.num { (candidate.on_account.as_ref().map_or("", |m| m.amount.as_str())) }
                                td { (candidate.reasons.join("; ")) }
                                td {
                                    form.accept method="post" action="/receipts/accept" {
                                        (decision_fields(receipt, csrf))
                                        input type="hidden" name="customer" value=(candidate.customer_id);
                                        button type="submit" { "Accept" }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            form.split.options method="post" action="/receipts/split" {
                (decision_fields(receipt, csrf))
                input type="hidden" name="currency" value=(currency);
                @for n in 1..=SPLIT_PARTS_MAX {
                    fieldset {
                        legend { "Part " (n) }
                        label { "Customer" input type="text" name=(format!("customer_{n}")); }
                        label { "Amount (" (currency) ")" input type="text" inputmode="decimal" name=(format!("amount_{n}")); }
                        label { "On account" input type="checkbox" name=(format!("on_account_{n}")) value="1"; }
                    }
                }
                button type="submit" { "Split" }
            }
            form.exclude.options method="post" action="/receipts/exclude" {
                (decision_fields(receipt, csrf))
                label { "Not a receivable"
                    select name="reason" {
                        @for (value, text, _) in EXCLUSIONS { option value=(value) { (text) } }
                    }
                }
                label { "Note" input type="text" name="note"; }
                button type="submit" { "Exclude" }
            }
        }
    }
}

/// What every decision's form carries.
#[derive(Deserialize)]
pub struct Decision {
    csrf: String,
    command_id: String,
    bank_account: String,
    line_id: String,
}

#[derive(Deserialize)]
pub struct AcceptForm {
    #[serde(flatten)]
    decision: Decision,
    customer: String,
}

#[derive(Deserialize)]
pub struct ExcludeForm {
    #[serde(flatten)]
    decision: Decision,
    reason: String,
    #[serde(default)]
    note: String,
}

/// Accepts one candidate of a line as the engine ranks it now.
pub async fn accept<L: EventLog>(
    State(state): State<Arc<WebState<L>>>,
    uri: Uri,
    headers: HeaderMap,
    Form(form): Form<AcceptForm>,
) -> Response {
    let csrf = form.decision.csrf.clone();
    decide(state, uri, headers, csrf, |state, caller| async move {
        let service = served(&state)?;
        let receipt = waiting_line(service, &caller, &form.decision).await?;
        let Some(candidate) = receipt
            .candidates
            .iter()
            .find(|c| c.customer_id == form.customer)
        else {
            return Err(Failure::from(tonic::Status::failed_precondition(format!(
                "{} is no longer a candidate for line {}: look at the line again",
                form.customer, form.decision.line_id
            ))));
        };
        let part = pb::ReceiptPart {
            customer_id: candidate.customer_id.clone(),
            amount: receipt.amount.clone(),
            on_account: candidate.allocations.is_empty(),
            allocations: candidate.allocations.clone(),
            credit_applications: candidate.credit_applications.clone(),
        };
        resolve(service, caller, &form.decision, vec![part], None).await
    })
    .await
}

/// Splits a line across the customers the form names, each part oldest due first or on
/// account. The service checks the parts (they add up to the line, customers known, no
/// customer twice) and names every offending one.
pub async fn split<L: EventLog>(
    State(state): State<Arc<WebState<L>>>,
    uri: Uri,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let field = |name: &str| form.get(name).map_or("", |v| v.trim()).to_owned();
    let decision = Decision {
        csrf: field("csrf"),
        command_id: field("command_id"),
        bank_account: field("bank_account"),
        line_id: field("line_id"),
    };
    let currency = field("currency");
    // The rows filled in, in order: the form's row of each part sent.
    let (rows, parts): (Vec<usize>, Vec<pb::ReceiptPart>) = (1..=SPLIT_PARTS_MAX)
        .filter_map(|n| {
            let customer = field(&format!("customer_{n}"));
            let amount = field(&format!("amount_{n}"));
            (!customer.is_empty() || !amount.is_empty()).then(|| {
                let part = pb::ReceiptPart {
                    customer_id: customer,
                    amount: Some(pb::Money {
                        amount,
                        currency: currency.clone(),
                    }),
                    allocations: Vec::new(),
                    on_account: !field(&format!("on_account_{n}")).is_empty(),
                    credit_applications: Vec::new(),
                };
                (n, part)
            })
        })
        .unzip();
    let csrf = decision.csrf.clone();
    decide(state, uri, headers, csrf, |state, caller| async move {
        let service = served(&state)?;
        resolve(service, caller, &decision, parts, None)
            .await
            .map_err(|failure| in_form_names(failure, &rows))
    })
    .await
}

/// The service names a part's field by its place among the parts sent (`parts[1].amount`); the
/// person reads the form's (`amount_3` when the second part sent is the form's third row:
/// `rows` holds the row of each part).
fn in_form_names(mut failure: Failure, rows: &[usize]) -> Failure {
    for problem in &mut failure.fields {
        let named = problem
            .field
            .strip_prefix("parts[")
            .and_then(|rest| rest.split_once("]."))
            .and_then(|(index, name)| Some((*rows.get(index.parse::<usize>().ok()?)?, name)));
        if let Some((row, name)) = named {
            let name = name.split(['.', '[']).next().unwrap_or(name);
            let name = if name == "customer_id" {
                "customer"
            } else {
                name
            };
            problem.parameter = format!("{name}_{row}");
        }
    }
    failure
}

/// Marks a line not a receivable.
pub async fn exclude<L: EventLog>(
    State(state): State<Arc<WebState<L>>>,
    uri: Uri,
    headers: HeaderMap,
    Form(form): Form<ExcludeForm>,
) -> Response {
    let csrf = form.decision.csrf.clone();
    decide(state, uri, headers, csrf, |state, caller| async move {
        let service = served(&state)?;
        let Some((_, _, reason)) = EXCLUSIONS
            .iter()
            .find(|(value, _, _)| *value == form.reason)
        else {
            return Err(Failure::bad_parameters(vec![
                crate::web::failure::FieldProblem {
                    field: "exclusion_reason".to_owned(),
                    parameter: "reason".to_owned(),
                    description: format!("{:?} is not a reason this form offers", form.reason),
                },
            ]));
        };
        resolve(
            service,
            caller,
            &form.decision,
            Vec::new(),
            Some((*reason, form.note.trim().to_owned())),
        )
        .await
    })
    .await
}

/// The line a decision is about, as the queue shows it now (to the caller: a subsidiary's
/// token reads its own subsidiary's lines only).
async fn waiting_line<L: EventLog>(
    service: &ReceiptGrpc<L>,
    caller: &Caller,
    decision: &Decision,
) -> Result<pb::UnmatchedReceipt, Failure> {
    let answer = service
        .list_unmatched_receipts(as_caller(
            caller.clone(),
            pb::ListUnmatchedReceiptsRequest {
                bank_account_id: decision.bank_account.clone(),
                subsidiary_id: own_subsidiary(caller).unwrap_or_default(),
                line_id: decision.line_id.clone(),
                page_size: 1,
                ..Default::default()
            },
        ))
        .await?
        .into_inner();
    answer.receipts.into_iter().next().ok_or_else(|| {
        Failure::not_found(format!(
            "line {} of bank account {} is not waiting: settled or excluded meanwhile",
            decision.line_id, decision.bank_account
        ))
    })
}

/// Sends the decision to the service and says what came of it.
async fn resolve<L: EventLog>(
    service: &ReceiptGrpc<L>,
    caller: Caller,
    decision: &Decision,
    parts: Vec<pb::ReceiptPart>,
    exclusion: Option<(pb::ExclusionReason, String)>,
) -> Result<Done, Failure> {
    let (exclusion_reason, note) =
        exclusion.map_or((pb::ExclusionReason::Unspecified, String::new()), |e| e);
    let reply = service
        .resolve_receipt(as_caller(
            caller,
            pb::ResolveReceiptRequest {
                command_id: decision.command_id.clone(),
                bank_account_id: decision.bank_account.clone(),
                line_id: decision.line_id.clone(),
                parts,
                exclusion_reason: exclusion_reason.into(),
                note,
            },
        ))
        .await?
        .into_inner();
    let line = format!("Line {} of {}", decision.line_id, decision.bank_account);
    let position = reply
        .payments
        .iter()
        .map(|p| p.position)
        .chain(reply.receipt.as_ref().map(|r| r.position))
        .max()
        .unwrap_or_default();
    if reply.payments.is_empty() {
        return Ok(Done {
            message: format!("{line}: marked not a receivable."),
            position,
        });
    }
    let payments: Vec<String> = reply
        .payments
        .iter()
        .map(|p| {
            let amount = money_text(p.amount.as_ref());
            if p.posted_on_account {
                format!("{} {amount} on account ({})", p.customer_id, p.problem)
            } else {
                format!("{} {amount}", p.customer_id)
            }
        })
        .collect();
    Ok(Done {
        message: format!("{line}: matched, posted {}.", payments.join("; ")),
        position,
    })
}

/// What a decision did, and the last log position it wrote.
struct Done {
    message: String,
    position: u64,
}

/// Runs a decision for the viewer of `headers`: a session's form must carry its CSRF token
/// and come from this origin. Done, the browser goes back to the queue with what was done
/// (post, redirect, get: a reload does not send the form again), read once the read model has
/// applied it; refused, the page says why.
async fn decide<L, F, Fut>(
    state: Arc<WebState<L>>,
    uri: Uri,
    headers: HeaderMap,
    csrf: String,
    work: F,
) -> Response
where
    L: EventLog,
    F: FnOnce(Arc<WebState<L>>, Caller) -> Fut,
    Fut: Future<Output = Result<Done, Failure>>,
{
    let viewer = match viewer(&state, &headers).await {
        Ok(viewer) => viewer,
        Err(NoViewer::Anonymous) => return Redirect::to("/login").into_response(),
        Err(NoViewer::Refused(failure)) => return failure.into_response(),
    };
    let frame = frame(&viewer, None);
    if !same_origin(&headers, &uri) || !constant_time_eq(viewer.csrf.as_bytes(), csrf.as_bytes()) {
        return (
            StatusCode::FORBIDDEN,
            layout::failure(
                &frame,
                &Failure {
                    status: StatusCode::FORBIDDEN,
                    code: "PERMISSION_DENIED",
                    reason: Some("FORM_NOT_FROM_THIS_SESSION".to_owned()),
                    message: "the form was not sent from this session's page: open the review \
                              queue again and decide there"
                        .to_owned(),
                    fields: Vec::new(),
                },
            ),
        )
            .into_response();
    }
    match work(state, viewer.caller).await {
        Ok(done) => Redirect::to(&link(
            "/receipts",
            &[
                ("done", &done.message),
                ("after", &done.position.to_string()),
            ],
        ))
        .into_response(),
        Err(failure) => (failure.status, layout::failure(&frame, &failure)).into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problem(field: &str) -> crate::web::failure::FieldProblem {
        crate::web::failure::FieldProblem {
            field: field.to_owned(),
            parameter: crate::web::failure::json_path(field),
            description: String::new(),
        }
    }

    #[test]
    fn a_refused_parts_field_is_named_by_the_forms_row() {
        // Given the form's rows 2 and 4 filled in (sent as parts 0 and 1)
        let rows = [2, 4];
        let failure = Failure {
            fields: vec![
                problem("parts[0].customer_id"),
                problem("parts[1].amount.amount"),
                problem("parts[1].on_account"),
                problem("parts"),
            ],
            ..Failure::internal("")
        };
        // When the service's names are read in the form's
        let named: Vec<String> = in_form_names(failure, &rows)
            .fields
            .into_iter()
            .map(|f| f.parameter)
            .collect();
        // Then each names the input the person filled in
        assert_eq!(
            named,
            ["customer_2", "amount_4", "on_account_4", "parts"].map(String::from)
        );
    }
}
