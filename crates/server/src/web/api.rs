//! The read-only HTTP/JSON API: `GET /api/v1/...`, one route per query RPC, answered by the
//! RPC's own implementation with the caller's token (see `json.rs` for how parameters and
//! replies are written). Lists are paged as the RPCs are (`pageSize`, `pageToken`, and
//! `nextPageToken` in the reply). The OpenAPI document is made from this table and the
//! contract's descriptors, so that it cannot drift from what is served; a copy is kept in
//! `docs/openapi.json` and a test holds the two equal.

use std::sync::Arc;

use axum::extract::{Query, RawPathParams, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use prost_reflect::{FieldDescriptor, Kind, MessageDescriptor};
use receivables_api::pb::audit_service_server::AuditService;
use receivables_api::pb::metrics_service_server::MetricsService;
use receivables_api::pb::query_service_server::QueryService;
use receivables_api::pb::receipt_service_server::ReceiptService;
use receivables_eventlog::EventLog;
use serde_json::{Map, Value, json};

use super::failure::Failure;
use super::json::{Contract, TIMESTAMP, parameters};
use super::session::{NoViewer, viewer};
use super::session_store::SESSION_COOKIE;
use super::state::{WebState, as_caller};
use crate::authorization::Caller;

/// One route of the API: its path (a `{name}` segment is the request field of that JSON
/// name) and the RPC that answers it.
#[derive(Debug, Clone, Copy)]
pub struct Route {
    pub path: &'static str,
    pub service: &'static str,
    pub method: &'static str,
    pub summary: &'static str,
}

const fn route(
    path: &'static str,
    service: &'static str,
    method: &'static str,
    summary: &'static str,
) -> Route {
    Route {
        path,
        service,
        method,
        summary,
    }
}

/// Every route of the API.
pub const ROUTES: &[Route] = &[
    route(
        "/api/v1/aging",
        "QueryService",
        "GetAgingReport",
        "The aging report as of a date",
    ),
    route(
        "/api/v1/open-items",
        "QueryService",
        "ListOpenItems",
        "The open items behind a cell of the aging",
    ),
    route(
        "/api/v1/exposures",
        "QueryService",
        "ListExposures",
        "Every customer's credit exposure",
    ),
    route(
        "/api/v1/exposures/{customerId}",
        "QueryService",
        "GetExposure",
        "One customer's credit exposure",
    ),
    route(
        "/api/v1/work-queue",
        "QueryService",
        "GetWorkQueue",
        "The collector work queue",
    ),
    route(
        "/api/v1/promises",
        "QueryService",
        "ListPromises",
        "Promises to pay with their status",
    ),
    route(
        "/api/v1/customers",
        "QueryService",
        "SearchCustomers",
        "Registered customers by id prefix or name",
    ),
    route(
        "/api/v1/customers/{customerId}/statement",
        "QueryService",
        "GetStatement",
        "A customer's statement of account",
    ),
    route(
        "/api/v1/balance-confirmations",
        "QueryService",
        "ListBalanceConfirmations",
        "Customers' confirmations of their balances",
    ),
    route(
        "/api/v1/upcoming-due",
        "QueryService",
        "ListUpcomingDue",
        "What falls due soon",
    ),
    route(
        "/api/v1/collection-activities",
        "QueryService",
        "ListCollectionActivities",
        "Collectors' contacts with customers",
    ),
    route(
        "/api/v1/metrics",
        "MetricsService",
        "GetMetrics",
        "Early-warning metrics with their formulas",
    ),
    route(
        "/api/v1/allowance",
        "MetricsService",
        "GetAllowance",
        "The allowance for doubtful accounts",
    ),
    route(
        "/api/v1/forecast",
        "MetricsService",
        "GetCollectionsForecast",
        "Cash expected week by week",
    ),
    route(
        "/api/v1/forecast/backtest",
        "MetricsService",
        "BacktestCollectionsForecast",
        "The forecast's backtest",
    ),
    route(
        "/api/v1/receipts/unmatched",
        "ReceiptService",
        "ListUnmatchedReceipts",
        "Bank receipts waiting for a person, with their ranked candidates",
    ),
    route(
        "/api/v1/as-known/aging",
        "AuditService",
        "GetAgingReportAsKnown",
        "The aging report as it was known at a moment",
    ),
    route(
        "/api/v1/as-known/exposures",
        "AuditService",
        "ListExposuresAsKnown",
        "Exposures as known at a moment",
    ),
    route(
        "/api/v1/as-known/work-queue",
        "AuditService",
        "GetWorkQueueAsKnown",
        "The work queue as known at a moment",
    ),
    route(
        "/api/v1/as-known/metrics",
        "AuditService",
        "GetMetricsAsKnown",
        "Metrics as known at a moment",
    ),
];

/// Where the OpenAPI document is served.
pub const OPENAPI_PATH: &str = "/api/v1/openapi.json";

pub fn routes<L: EventLog>() -> Router<Arc<WebState<L>>> {
    let mut router = Router::new().route(OPENAPI_PATH, get(openapi_document::<L>));
    for route in ROUTES {
        router = router.route(
            route.path,
            get(
                move |state: State<Arc<WebState<L>>>,
                      headers: HeaderMap,
                      path: RawPathParams,
                      query: Query<Vec<(String, String)>>| {
                    answer(state, headers, path, query, route)
                },
            ),
        );
    }
    router
}

async fn openapi_document<L: EventLog>(State(state): State<Arc<WebState<L>>>) -> Json<Value> {
    Json(openapi(&state.contract))
}

async fn answer<L: EventLog>(
    State(state): State<Arc<WebState<L>>>,
    headers: HeaderMap,
    path: RawPathParams,
    Query(query): Query<Vec<(String, String)>>,
    route: &'static Route,
) -> Response {
    let viewer = match viewer(&state, &headers).await {
        Ok(viewer) => viewer,
        Err(NoViewer::Anonymous) => {
            return Failure::unauthenticated(
                "TOKEN_MISSING",
                "send a token (Authorization: Bearer <token>) or log in",
            )
            .into_response();
        }
        Err(NoViewer::Refused(failure)) => return failure.into_response(),
    };
    let mut parameters: Vec<(String, String)> = path
        .iter()
        .map(|(name, value)| (name.to_owned(), value.to_owned()))
        .collect();
    parameters.extend(query);
    match call(&state, viewer.caller, route, &parameters).await {
        Ok(body) => Json(body).into_response(),
        Err(failure) => failure.into_response(),
    }
}

/// Calls the RPC of `route` with `parameters` as `caller`, and answers its reply as JSON.
pub async fn call<L: EventLog>(
    state: &WebState<L>,
    caller: Caller,
    route: &Route,
    parameters: &[(String, String)],
) -> Result<Value, Failure> {
    let method = state.contract.method(route.service, route.method)?;
    let contract = &state.contract;
    macro_rules! unary {
        ($service:path, $target:expr, $rpc:ident) => {{
            let request = contract.request(&method.input(), parameters)?;
            let reply = <_ as $service>::$rpc($target, as_caller(caller, request)).await?;
            contract.to_json(&method.output(), &reply.into_inner())
        }};
    }
    let queries = &state.queries;
    let audit = &state.audit;
    match route.method {
        "GetAgingReport" => unary!(QueryService, queries, get_aging_report),
        "ListOpenItems" => unary!(QueryService, queries, list_open_items),
        "ListExposures" => unary!(QueryService, queries, list_exposures),
        "GetExposure" => unary!(QueryService, queries, get_exposure),
        "GetWorkQueue" => unary!(QueryService, queries, get_work_queue),
        "ListPromises" => unary!(QueryService, queries, list_promises),
        "SearchCustomers" => unary!(QueryService, queries, search_customers),
        "GetStatement" => unary!(QueryService, queries, get_statement),
        "ListBalanceConfirmations" => unary!(QueryService, queries, list_balance_confirmations),
        "ListUpcomingDue" => unary!(QueryService, queries, list_upcoming_due),
        "ListCollectionActivities" => unary!(QueryService, queries, list_collection_activities),
        "GetMetrics" => unary!(MetricsService, queries, get_metrics),
        "GetAllowance" => unary!(MetricsService, queries, get_allowance),
        "GetCollectionsForecast" => unary!(MetricsService, queries, get_collections_forecast),
        "BacktestCollectionsForecast" => {
            unary!(MetricsService, queries, backtest_collections_forecast)
        }
        "ListUnmatchedReceipts" => match &state.receipts {
            Some(receipts) => unary!(ReceiptService, receipts, list_unmatched_receipts),
            None => Err(Failure::from(tonic::Status::unimplemented(
                "bank receipts are served by the all-in-one service (serve) and by a query \
                 service started with --serve-receipts, not by this one",
            ))),
        },
        "GetAgingReportAsKnown" => unary!(AuditService, audit, get_aging_report_as_known),
        "ListExposuresAsKnown" => unary!(AuditService, audit, list_exposures_as_known),
        "GetWorkQueueAsKnown" => unary!(AuditService, audit, get_work_queue_as_known),
        "GetMetricsAsKnown" => unary!(AuditService, audit, get_metrics_as_known),
        other => Err(Failure::not_found(format!(
            "no RPC {other} behind this route"
        ))),
    }
}

/// The OpenAPI 3.0 document of the API: every route with its parameters (the RPC's request
/// fields, flattened) and its reply's schema, every message and enum the replies use.
pub fn openapi(contract: &Contract) -> Value {
    let mut paths = Map::new();
    let mut schemas = Map::new();
    for route in ROUTES {
        let Ok(method) = contract.method(route.service, route.method) else {
            continue;
        };
        let path_names: Vec<&str> = route
            .path
            .split('/')
            .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
            .collect();
        let mut listed = Vec::new();
        for (name, field) in parameters(&method.input()) {
            let in_path = path_names.contains(&name.as_str());
            let mut parameter = json!({
                "name": name,
                "in": if in_path { "path" } else { "query" },
                "required": in_path,
                "schema": field_schema(&field, &mut schemas),
            });
            if field.is_list()
                && let Some(object) = parameter.as_object_mut()
            {
                object.insert("explode".to_owned(), Value::Bool(true));
            }
            listed.push(parameter);
        }
        let output = method.output();
        add_message(&output, &mut schemas);
        let failure = json!({"$ref": "#/components/responses/Failure"});
        paths.insert(
            route.path.to_owned(),
            json!({"get": {
                "operationId": route.method,
                "summary": route.summary,
                "description": format!("Answered by the gRPC method receivables.v1.{}/{}, with the same access rules and figures.", route.service, route.method),
                "tags": [route.service],
                "parameters": listed,
                "responses": {
                    "200": {"description": "The RPC's reply by the protobuf JSON mapping, every field present.",
                            "content": {"application/json": {"schema": {"$ref": format!("#/components/schemas/{}", output.name())}}}},
                    "400": failure, "401": failure, "403": failure, "404": failure, "503": failure, "504": failure,
                }
            }}),
        );
    }
    schemas.insert(
        "Failure".to_owned(),
        json!({"type": "object", "properties": {
            "code": {"type": "string", "description": "The gRPC code's name."},
            "reason": {"type": "string", "nullable": true, "description": "The ErrorInfo reason."},
            "message": {"type": "string"},
            "fieldViolations": {"type": "array", "items": {"type": "object", "properties": {
                "field": {"type": "string"}, "parameter": {"type": "string"}, "description": {"type": "string"}}}}
        }}),
    );
    json!({
        "openapi": "3.0.3",
        "info": {
            "title": "Receivables read-only HTTP API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Every route answers one query RPC of the gRPC contract (proto/receivables/v1) with the caller's token: parameters are the request's fields by their JSON names (scope.asOf for a nested field; repeat a parameter for a list; an enum by its value's name, with or without the enum's prefix, in any case, or its number), replies are the protobuf JSON mapping of the reply.",
        },
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}, {"session": []}],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "responses": {"Failure": {"description": "Not answered: the status, its reason and every offending field.",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Failure"}}}}},
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "description": "A token of `receivables tokens create`."},
                "session": {"type": "apiKey", "in": "cookie", "name": SESSION_COOKIE, "description": "The dashboard's session, opened by POST /login."}
            }
        }
    })
}

/// The schema of one field, adding the messages and enums it names to `schemas`.
fn field_schema(field: &FieldDescriptor, schemas: &mut Map<String, Value>) -> Value {
    if field.is_map()
        && let Kind::Message(entry) = field.kind()
    {
        let value = entry.map_entry_value_field();
        return json!({"type": "object", "additionalProperties": field_schema(&value, schemas)});
    }
    let single = match field.kind() {
        Kind::Message(message) if message.full_name() == TIMESTAMP => {
            json!({"type": "string", "format": "date-time"})
        }
        Kind::Message(message) => {
            add_message(&message, schemas);
            json!({"$ref": format!("#/components/schemas/{}", message.name())})
        }
        Kind::Enum(enumeration) => {
            let names: Vec<String> = enumeration.values().map(|v| v.name().to_owned()).collect();
            schemas.insert(
                enumeration.name().to_owned(),
                json!({"type": "string", "enum": names}),
            );
            json!({"$ref": format!("#/components/schemas/{}", enumeration.name())})
        }
        Kind::String => json!({"type": "string"}),
        Kind::Bool => json!({"type": "boolean"}),
        Kind::Int32 | Kind::Sint32 | Kind::Sfixed32 => {
            json!({"type": "integer", "format": "int32"})
        }
        Kind::Uint32 | Kind::Fixed32 => json!({"type": "integer", "format": "int64", "minimum": 0}),
        // 64-bit integers are strings in the JSON mapping.
        Kind::Int64 | Kind::Sint64 | Kind::Sfixed64 => json!({"type": "string", "format": "int64"}),
        Kind::Uint64 | Kind::Fixed64 => json!({"type": "string", "format": "uint64"}),
        Kind::Float | Kind::Double => json!({"type": "number"}),
        Kind::Bytes => json!({"type": "string", "format": "byte"}),
    };
    if field.is_list() {
        json!({"type": "array", "items": single})
    } else {
        single
    }
}

/// Adds `message`'s schema (and, first, those of what it names) to `schemas`, once.
fn add_message(message: &MessageDescriptor, schemas: &mut Map<String, Value>) {
    if schemas.contains_key(message.name()) {
        return;
    }
    // Placed before its fields are walked, so that a message that names itself ends.
    schemas.insert(message.name().to_owned(), Value::Null);
    let mut properties = Map::new();
    for field in message.fields() {
        let schema = field_schema(&field, schemas);
        properties.insert(field.json_name().to_owned(), schema);
    }
    schemas.insert(
        message.name().to_owned(),
        json!({"type": "object", "properties": properties}),
    );
}
