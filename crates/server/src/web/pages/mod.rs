//! The dashboard's pages, one module per page. Each turns the page's parameters into gRPC
//! requests, calls the services in process as the viewer ([`super::state::as_caller`]) and makes
//! [`Table`]s of the answers; [`render`] lays the page out, or answers one of its tables as
//! CSV or XLSX when the URL asks for it (`format=csv|xlsx&table=<name>`), so a download holds
//! exactly what the page shows.
//!
//! Pages read without JavaScript; none is served.

mod aging;
mod audit;
mod customer;
mod exposure;
mod overview;
mod promises;
mod receipts;
mod work_queue;

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;

use axum::Router;
use axum::extract::{OriginalUri, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use chrono::NaiveDate;
use maud::Markup;
use receivables_api::pb;
use receivables_domain::access::Role;
use receivables_eventlog::EventLog;

use super::failure::Failure;
use super::layout;
use super::session::{NoViewer, Viewer, viewer};
use super::state::WebState;
use super::table::{Cell, Download, Table};

/// What a page shows: its title, its body (tables included) and its tables for download.
pub struct Page {
    pub title: String,
    pub body: Markup,
    pub tables: Vec<Table>,
}

/// A page's query parameters, by name.
pub type Params = HashMap<String, String>;

/// What a page handler is given.
pub struct Request<L> {
    pub state: Arc<WebState<L>>,
    pub viewer: Viewer,
    pub params: Params,
    /// The page's own URL with its parameters, less `format` and `table`: where its
    /// downloads and its forms point.
    pub here: String,
}

impl<L> Request<L> {
    /// A parameter, empty when absent.
    pub fn param(&self, name: &str) -> &str {
        self.params.get(name).map_or("", String::as_str)
    }

    /// The subsidiary a subsidiary's token is confined to; `None` for group roles.
    pub fn own_subsidiary(&self) -> Option<String> {
        own_subsidiary(&self.viewer.caller)
    }

    /// The subsidiary filter a page asks for: a subsidiary's token always its own, others
    /// what the `subsidiary` parameter says.
    pub fn subsidiary_filter(&self) -> String {
        self.own_subsidiary()
            .unwrap_or_else(|| self.param("subsidiary").to_owned())
    }

    /// Whether the viewer reads group-wide queries (exposure, work queue, promises).
    pub fn reads_group(&self) -> bool {
        self.own_subsidiary().is_none()
    }
}

pub fn routes<L: EventLog>() -> Router<Arc<WebState<L>>> {
    Router::new()
        .route(
            "/",
            get(|s, h, u, q| render::<L, _, _>(s, h, u, q, overview::page)),
        )
        .route(
            "/aging",
            get(|s, h, u, q| render::<L, _, _>(s, h, u, q, aging::page)),
        )
        .route(
            "/aging/items",
            get(|s, h, u, q| render::<L, _, _>(s, h, u, q, aging::items)),
        )
        .route(
            "/exposure",
            get(|s, h, u, q| render::<L, _, _>(s, h, u, q, exposure::page)),
        )
        .route(
            "/work-queue",
            get(|s, h, u, q| render::<L, _, _>(s, h, u, q, work_queue::page)),
        )
        .route(
            "/customer",
            get(|s, h, u, q| render::<L, _, _>(s, h, u, q, customer::page)),
        )
        .route(
            "/promises",
            get(|s, h, u, q| render::<L, _, _>(s, h, u, q, promises::page)),
        )
        .route(
            "/audit",
            get(|s, h, u, q| render::<L, _, _>(s, h, u, q, audit::page)),
        )
        .route("/audit/verify", get(audit::verify::<L>))
        .route(
            "/receipts",
            get(|s, h, u, q| render::<L, _, _>(s, h, u, q, receipts::page)),
        )
        .route("/receipts/accept", post(receipts::accept::<L>))
        .route("/receipts/split", post(receipts::split::<L>))
        .route("/receipts/exclude", post(receipts::exclude::<L>))
}

/// Serves one page: the viewer (or the login form), the page's answers, then the page or one
/// of its tables as a download.
async fn render<L, F, Fut>(
    State(state): State<Arc<WebState<L>>>,
    headers: HeaderMap,
    OriginalUri(uri): OriginalUri,
    Query(params): Query<Params>,
    make: F,
) -> Response
where
    L: EventLog,
    F: FnOnce(Request<L>) -> Fut,
    Fut: Future<Output = Result<Page, Failure>>,
{
    let viewer = match viewer(&state, &headers).await {
        Ok(viewer) => viewer,
        Err(NoViewer::Anonymous) => return Redirect::to("/login").into_response(),
        Err(NoViewer::Refused(failure)) => {
            return (
                failure.status,
                layout::login(
                    false,
                    Some(&format!("Please log in again: {}", failure.message)),
                ),
            )
                .into_response();
        }
    };
    let download = Download::parse(params.get("format").map(String::as_str));
    let wanted_table = params.get("table").cloned();
    let here = page_url(uri.path(), &params);
    let refresh = params
        .get("refresh")
        .and_then(|text| text.parse::<u32>().ok())
        .filter(|seconds| (layout::REFRESH_SECS_MIN..=layout::REFRESH_SECS_MAX).contains(seconds));
    let frame = frame(&viewer, refresh);
    let request = Request {
        state,
        viewer,
        params,
        here,
    };
    match make(request).await {
        Ok(page) => match download {
            Some(format) => {
                let table = match wanted_table {
                    Some(name) => page.tables.iter().find(|t| t.name == name),
                    None => page.tables.first(),
                };
                match table {
                    Some(table) => table.download(format),
                    None => Failure::not_found("this page has no such table").into_response(),
                }
            }
            None => layout::page(&frame, &page.title, page.body).into_response(),
        },
        Err(failure) => (failure.status, layout::failure(&frame, &failure)).into_response(),
    }
}

/// The frame of a page for `viewer`.
fn frame(viewer: &Viewer, refresh: Option<u32>) -> layout::Frame {
    layout::Frame {
        principal: viewer.caller.principal.as_str().to_owned(),
        subsidiary: own_subsidiary(&viewer.caller),
        csrf: viewer.csrf.clone(),
        in_session: viewer.in_session,
        refresh,
    }
}

/// The subsidiary a subsidiary's token is confined to; `None` for group roles.
fn own_subsidiary(caller: &crate::authorization::Caller) -> Option<String> {
    match &caller.role {
        Some(Role::Subsidiary(own)) => Some(own.to_string()),
        _ => None,
    }
}

/// `path?name=value&...` of the parameters other than `format` and `table`, in name order.
fn page_url(path: &str, params: &Params) -> String {
    let mut pairs: Vec<(&String, &String)> = params
        .iter()
        .filter(|(name, value)| {
            name.as_str() != "format" && name.as_str() != "table" && !value.is_empty()
        })
        .collect();
    pairs.sort();
    if pairs.is_empty() {
        return path.to_owned();
    }
    let query = pairs
        .iter()
        .map(|(name, value)| format!("{}={}", encode(name), encode(value)))
        .collect::<Vec<_>>()
        .join("&");
    format!("{path}?{query}")
}

/// The columns of an aging's buckets: its lines' bucket labels (every line of one answer has
/// the same).
pub fn bucket_labels(lines: &[pb::AgingLine]) -> Vec<String> {
    lines
        .first()
        .map(|line| line.buckets.iter().map(|b| b.label.clone()).collect())
        .unwrap_or_default()
}

/// An aging line's buckets (`labels` cells of them, whatever the line holds) and its open
/// total, as cells.
pub fn bucket_cells(line: &pb::AgingLine, labels: usize) -> Vec<Cell> {
    let mut cells: Vec<Cell> = line
        .buckets
        .iter()
        .map(|b| Cell::money(b.amount.as_ref()))
        .collect();
    cells.resize(labels, Cell::text(""));
    cells.push(Cell::money(line.open_total.as_ref()));
    cells
}

/// Percent-encodes a query component.
pub fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(byte as char);
            }
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

/// A URL of the dashboard with parameters (empty values left out).
pub fn link(path: &str, params: &[(&str, &str)]) -> String {
    let query: Vec<String> = params
        .iter()
        .filter(|(_, value)| !value.is_empty())
        .map(|(name, value)| format!("{}={}", encode(name), encode(value)))
        .collect();
    if query.is_empty() {
        path.to_owned()
    } else {
        format!("{path}?{}", query.join("&"))
    }
}

/// A date parameter, or `None` when absent; a bad one is named.
pub fn date_param(params: &Params, name: &str) -> Result<Option<NaiveDate>, Failure> {
    match params.get(name).map(String::as_str) {
        None | Some("") => Ok(None),
        Some(text) => NaiveDate::parse_from_str(text, "%Y-%m-%d")
            .map(Some)
            .map_err(|_| {
                Failure::bad_parameters(vec![super::failure::FieldProblem {
                    field: name.to_owned(),
                    parameter: name.to_owned(),
                    description: format!("{name} is a date (YYYY-MM-DD), not {text:?}"),
                }])
            }),
    }
}

/// The services' business date as the pages default to it: today in UTC, as the services'.
pub fn today() -> NaiveDate {
    chrono::Utc::now().date_naive()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_url_keeps_its_parameters_but_the_download_ones() {
        let params: Params = [
            ("format", "csv"),
            ("table", "aging"),
            ("as_of", "2026-03-31"),
            ("customer", "ACME & CO"),
            ("currency", ""),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        assert_eq!(
            page_url("/aging", &params),
            "/aging?as_of=2026-03-31&customer=ACME%20%26%20CO"
        );
    }
}
