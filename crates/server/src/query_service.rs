//! The gRPC `QueryService`: reads each request into a query, waits for `min_position`, and
//! answers from the read models.

use std::sync::Arc;
use std::time::Duration;

use chrono::{NaiveDate, Utc};
use receivables_api::{pb, responses, status};
use receivables_domain::access::Action;
use receivables_domain::calendar::parse_business_date;
use receivables_domain::ids::PersonName;
use receivables_domain::refusal::FieldViolation;
use receivables_domain::{Currency, CustomerId, Position, Refusal, SubsidiaryId};
use receivables_eventlog::EventLog;
use receivables_projections::aging::{self, AgingRequest, Basis, GroupBy, OpenItemsError};
use receivables_projections::exposure::{self, ExposureQuery, ExposureSort};
use receivables_projections::promises::{self, PROMISE_GRACE_DAYS_DEFAULT, PromiseStatus};
use receivables_projections::work_queue::{
    self, EscalationLevel, WorkQueueQuery, WorkQueueWeights,
};
use receivables_projections::{ProjectionError, ReadPool};
use rust_decimal::Decimal;
use tokio::sync::watch;

use crate::authorization::{authorize, authorize_read};
use crate::limits::{QUERY_DEADLINE, within};
use crate::read_models::ReadSide;
use tonic::metadata::MetadataMap;
use tonic::{Code, Request, Response, Status};
use tracing::error;

/// Longest wait for `min_position` when the call has no deadline of its own.
pub const MIN_POSITION_WAIT_MAX: Duration = Duration::from_secs(10);

/// Time kept back from the call's deadline to answer "not yet" before the caller gives up.
const DEADLINE_MARGIN: Duration = Duration::from_millis(50);

pub struct QueryGrpc<L> {
    /// The live generation of the read model; a rebuild replaces it.
    sides: watch::Receiver<Arc<ReadSide<L>>>,
}

impl<L: EventLog> QueryGrpc<L> {
    pub fn new(sides: watch::Receiver<Arc<ReadSide<L>>>) -> Self {
        QueryGrpc { sides }
    }

    /// Waits until the live read model has applied `min_position`, within the call's deadline.
    /// Returns that generation (the whole query runs on it) and the position it has applied.
    async fn ready(
        &self,
        metadata: &MetadataMap,
        min_position: u64,
    ) -> Result<(Arc<ReadSide<L>>, Position), Status> {
        let side = Arc::clone(&self.sides.borrow());
        let wanted = Position::new(min_position);
        let wait = deadline(metadata)
            .map_or(MIN_POSITION_WAIT_MAX, |d| d.saturating_sub(DEADLINE_MARGIN))
            .min(MIN_POSITION_WAIT_MAX);
        if !side.projector.wait_for(wanted, wait).await {
            let applied = *side.projector.applied().borrow();
            let mut details = tonic_types::ErrorDetails::new();
            details.set_error_info(
                "PROJECTION_BEHIND",
                receivables_api::ERROR_DOMAIN,
                [
                    ("applied_position".to_owned(), applied.to_string()),
                    ("min_position".to_owned(), wanted.to_string()),
                ]
                .into_iter()
                .collect::<std::collections::HashMap<_, _>>(),
            );
            return Err(<Status as tonic_types::StatusExt>::with_error_details(
                Code::DeadlineExceeded,
                format!("the read model has applied position {applied}, not yet {wanted}"),
                details,
            ));
        }
        let applied = *side.projector.applied().borrow();
        Ok((side, applied))
    }
}

/// The call's deadline from its `grpc-timeout` header ("100m", "5S": value and unit).
fn deadline(metadata: &MetadataMap) -> Option<Duration> {
    let text = metadata.get("grpc-timeout")?.to_str().ok()?;
    let (value, unit) = text.split_at(text.len().checked_sub(1)?);
    let value: u64 = value.parse().ok()?;
    Some(match unit {
        "H" => Duration::from_secs(value.saturating_mul(3600)),
        "M" => Duration::from_secs(value.saturating_mul(60)),
        "S" => Duration::from_secs(value),
        "m" => Duration::from_millis(value),
        "u" => Duration::from_micros(value),
        "n" => Duration::from_nanos(value),
        _ => return None,
    })
}

pub(crate) fn internal(error: ProjectionError) -> Status {
    error!(%error, "query failed");
    status::with_reason(Code::Internal, "READ_MODEL_ERROR", error.to_string())
}

pub(crate) fn refused(violations: Vec<FieldViolation>) -> Status {
    status::refusal(&Refusal::invalid(violations))
}

/// Reads an aging scope; every bad field is reported at once.
fn aging_request(
    scope: Option<&pb::AgingScope>,
    path: &str,
    violations: &mut Vec<FieldViolation>,
) -> Option<AgingRequest> {
    let default = pb::AgingScope::default();
    let scope = scope.unwrap_or(&default);
    let field = |name: &str| format!("{path}.{name}");
    let as_of = if scope.as_of.is_empty() {
        Some(Utc::now().date_naive())
    } else {
        parse_business_date(&scope.as_of)
            .map_err(|e| violations.push(FieldViolation::new(field("as_of"), e)))
            .ok()
    };
    let basis = match pb::AgingBasis::try_from(scope.basis) {
        Ok(pb::AgingBasis::Unspecified | pb::AgingBasis::DueDate) => Some(Basis::DueDate),
        Ok(pb::AgingBasis::InvoiceDate) => Some(Basis::InvoiceDate),
        Err(_) => {
            violations.push(FieldViolation::new(
                field("basis"),
                format!("{} is not a known value", scope.basis),
            ));
            None
        }
    };
    let subsidiary = optional(&scope.subsidiary_id)
        .and_then(|id| checked(violations, &field("subsidiary_id"), SubsidiaryId::parse(id)));
    let customer = optional(&scope.customer_id)
        .and_then(|id| checked(violations, &field("customer_id"), CustomerId::parse(id)));
    let currency = optional(&scope.currency)
        .and_then(|code| checked(violations, &field("currency"), Currency::parse(code)));
    let mut request = AgingRequest::new(as_of?);
    if !scope.bucket_edges_days.is_empty() {
        request = request
            .with_edges(scope.bucket_edges_days.clone())
            .map_err(|e| violations.push(FieldViolation::new(field("bucket_edges_days"), e)))
            .ok()?;
    }
    request.basis = basis?;
    request.subsidiary = subsidiary;
    request.customer = customer;
    request.currency = currency;
    Some(request)
}

/// The value of a field, or `None` with the field's violation recorded.
fn checked<T, E: std::fmt::Display>(
    violations: &mut Vec<FieldViolation>,
    field: &str,
    result: Result<T, E>,
) -> Option<T> {
    result
        .map_err(|e| violations.push(FieldViolation::new(field, e)))
        .ok()
}

/// A business date field: empty means the service's own date (UTC).
fn as_of(text: &str, field: &str, violations: &mut Vec<FieldViolation>) -> Option<NaiveDate> {
    if text.is_empty() {
        return Some(Utc::now().date_naive());
    }
    parse_business_date(text)
        .map_err(|e| violations.push(FieldViolation::new(field, e)))
        .ok()
}

/// Page size 0 means the default.
fn page_size(requested: u32) -> u32 {
    if requested == 0 {
        receivables_projections::paging::PAGE_SIZE_DEFAULT
    } else {
        requested
    }
}

fn page_refused(
    field: &str,
    error: receivables_projections::paging::PageRequestError,
) -> Vec<FieldViolation> {
    vec![FieldViolation::new(field, error)]
}

/// A non-negative decimal string, or `default` when empty.
fn decimal(
    text: &str,
    default: Decimal,
    field: &str,
    violations: &mut Vec<FieldViolation>,
) -> Option<Decimal> {
    if text.is_empty() {
        return Some(default);
    }
    match Decimal::from_str_exact(text) {
        Ok(value) if value >= Decimal::ZERO => Some(value),
        _ => {
            violations.push(FieldViolation::new(
                field,
                format!("{text:?} is not a non-negative decimal number"),
            ));
            None
        }
    }
}

fn exposure_line(line: exposure::ExposureLine) -> pb::Exposure {
    pb::Exposure {
        customer_id: line.customer.to_string(),
        currency: line.currency.code().to_owned(),
        limit: line.limit.map(responses::money),
        policy: line
            .policy
            .map_or(pb::CreditPolicy::Unspecified, responses::credit_policy)
            .into(),
        grade: line
            .grade
            .map_or(pb::CreditGrade::Unspecified, responses::credit_grade)
            .into(),
        open: Some(responses::money(line.open)),
        unapplied: Some(responses::money(line.unapplied)),
        exposure: Some(responses::money(line.exposure)),
        overdue: Some(responses::money(line.overdue)),
        available: line.available.map(responses::money),
        utilisation: line.utilisation.map(|u| u.to_string()).unwrap_or_default(),
        over_limit: line.over_limit,
        oldest_days_past_due: line.oldest_days_past_due,
        last_payment_date: line.last_payment_date.map(date_text).unwrap_or_default(),
    }
}

fn promise_status(status: PromiseStatus) -> pb::PromiseStatus {
    match status {
        PromiseStatus::Open => pb::PromiseStatus::Open,
        PromiseStatus::PartiallyKept => pb::PromiseStatus::PartiallyKept,
        PromiseStatus::Kept => pb::PromiseStatus::Kept,
        PromiseStatus::Broken => pb::PromiseStatus::Broken,
    }
}

fn escalation(level: EscalationLevel) -> pb::EscalationLevel {
    match level {
        EscalationLevel::Reminder => pb::EscalationLevel::Reminder,
        EscalationLevel::Call => pb::EscalationLevel::Call,
        EscalationLevel::DemandLetter => pb::EscalationLevel::DemandLetter,
        EscalationLevel::StopSupply => pb::EscalationLevel::StopSupply,
        EscalationLevel::LegalOrAgency => pb::EscalationLevel::LegalOrAgency,
    }
}

/// An optional text field: empty means absent.
fn optional(text: &str) -> Option<&str> {
    (!text.is_empty()).then_some(text)
}

/// "current", "1-30", ..., "over 120".
fn bucket_labels(edges: &[u32]) -> Vec<String> {
    let mut labels = vec!["current".to_owned()];
    let mut from = 1;
    for edge in edges {
        labels.push(format!("{from}-{edge}"));
        from = edge + 1;
    }
    if let Some(last) = edges.last() {
        labels.push(format!("over {last}"));
    }
    labels
}

fn date_text(value: NaiveDate) -> String {
    responses::date(value)
}

/// Reads and validates an aging report request into its projections query; every bad field is
/// reported at once. Shared by the live query and the report as known at a past moment.
pub(crate) fn aging_query(
    message: &pb::GetAgingReportRequest,
) -> Result<AgingRequest, Vec<FieldViolation>> {
    let mut violations = Vec::new();
    let aging = aging_request(message.scope.as_ref(), "scope", &mut violations);
    let group_by = match pb::AgingGroupBy::try_from(message.group_by) {
        Ok(pb::AgingGroupBy::Unspecified | pb::AgingGroupBy::Customer) => Some(GroupBy::Customer),
        Ok(pb::AgingGroupBy::Subsidiary) => Some(GroupBy::Subsidiary),
        Ok(pb::AgingGroupBy::Group) => Some(GroupBy::Group),
        Err(_) => {
            violations.push(FieldViolation::new(
                "group_by",
                format!("{} is not a known value", message.group_by),
            ));
            None
        }
    };
    let (Some(mut aging), Some(group_by), true) = (aging, group_by, violations.is_empty()) else {
        return Err(violations);
    };
    aging.group_by = group_by;
    Ok(aging)
}

/// Runs an aging query on `pool` and answers it, stamped with the `position` the read model
/// has applied.
pub(crate) async fn aging_answer(
    pool: &ReadPool,
    query: &AgingRequest,
    position: Position,
) -> Result<pb::GetAgingReportResponse, Status> {
    let report = aging::report(pool, query).await.map_err(internal)?;
    let labels = bucket_labels(query.edges_days());
    let lines = report
        .into_iter()
        .map(|line| pb::AgingLine {
            group: line.group,
            currency: line.currency.code().to_owned(),
            buckets: line
                .buckets
                .into_iter()
                .zip(&labels)
                .map(|(amount, label)| pb::AgingBucket {
                    label: label.clone(),
                    amount: Some(responses::money(amount)),
                })
                .collect(),
            open_total: Some(responses::money(line.open_total)),
            unapplied: Some(responses::money(line.unapplied)),
        })
        .collect();
    Ok(pb::GetAgingReportResponse {
        as_of: date_text(query.as_of),
        lines,
        position: position.get(),
    })
}

/// Reads and validates an exposure list request into its projections query.
pub(crate) fn exposures_query(
    message: &pb::ListExposuresRequest,
) -> Result<ExposureQuery, Vec<FieldViolation>> {
    let mut violations = Vec::new();
    let date = as_of(&message.as_of, "as_of", &mut violations);
    let sort = match pb::ExposureSort::try_from(message.sort) {
        Ok(pb::ExposureSort::Unspecified | pb::ExposureSort::Utilisation) => {
            Some(ExposureSort::Utilisation)
        }
        Ok(pb::ExposureSort::Exposure) => Some(ExposureSort::Exposure),
        Err(_) => {
            violations.push(FieldViolation::new(
                "sort",
                format!("{} is not a known value", message.sort),
            ));
            None
        }
    };
    let min_utilisation = if message.min_utilisation.is_empty() {
        Some(None)
    } else {
        decimal(
            &message.min_utilisation,
            Decimal::ZERO,
            "min_utilisation",
            &mut violations,
        )
        .map(Some)
    };
    let currency = optional(&message.currency)
        .and_then(|code| checked(&mut violations, "currency", Currency::parse(code)));
    let (Some(date), Some(sort), Some(min_utilisation), true) =
        (date, sort, min_utilisation, violations.is_empty())
    else {
        return Err(violations);
    };
    let mut query = ExposureQuery::new(date, sort)
        .with_page_size(page_size(message.page_size))
        .map_err(|e| page_refused("page_size", e))?;
    if !message.page_token.is_empty() {
        query = query
            .with_page_token(&message.page_token)
            .map_err(|e| page_refused("page_token", e))?;
    }
    query.only_over_limit = message.only_over_limit;
    query.min_utilisation = min_utilisation;
    query.currency = currency;
    Ok(query)
}

/// Runs an exposure list query on `pool` and answers it.
pub(crate) async fn exposures_answer(
    pool: &ReadPool,
    query: &ExposureQuery,
    position: Position,
) -> Result<pb::ListExposuresResponse, Status> {
    let page = exposure::list_exposures(pool, query)
        .await
        .map_err(internal)?;
    Ok(pb::ListExposuresResponse {
        lines: page.lines.into_iter().map(exposure_line).collect(),
        next_page_token: page.next_page_token.unwrap_or_default(),
        position: position.get(),
    })
}

/// Reads and validates a work queue request into its projections query.
pub(crate) fn work_queue_query(
    message: &pb::GetWorkQueueRequest,
) -> Result<WorkQueueQuery, Vec<FieldViolation>> {
    let mut violations = Vec::new();
    let date = as_of(&message.as_of, "as_of", &mut violations);
    let collector = optional(&message.collector)
        .and_then(|name| checked(&mut violations, "collector", PersonName::parse(name)));
    let defaults = WorkQueueWeights::default();
    let given = message.weights.clone().unwrap_or_default();
    let amount = decimal(
        &given.amount,
        defaults.amount,
        "weights.amount",
        &mut violations,
    );
    let days = decimal(&given.days, defaults.days, "weights.days", &mut violations);
    let broken = decimal(
        &given.broken_promise,
        defaults.broken_promise,
        "weights.broken_promise",
        &mut violations,
    );
    let (Some(date), Some(amount), Some(days), Some(broken), true) =
        (date, amount, days, broken, violations.is_empty())
    else {
        return Err(violations);
    };
    let weights = WorkQueueWeights {
        amount,
        days,
        broken_promise: broken,
    };
    let mut query = WorkQueueQuery::new(date)
        .with_weights(weights)
        .map_err(|e| vec![FieldViolation::new(format!("weights.{}", e.name), e)])?
        .with_page_size(page_size(message.page_size))
        .map_err(|e| page_refused("page_size", e))?;
    if !message.page_token.is_empty() {
        query = query
            .with_page_token(&message.page_token)
            .map_err(|e| page_refused("page_token", e))?;
    }
    query.collector = collector;
    query.include_snoozed = message.include_snoozed;
    query.grace_days = message.grace_days.unwrap_or(PROMISE_GRACE_DAYS_DEFAULT);
    Ok(query)
}

/// Runs a work queue query on `pool` and answers it.
pub(crate) async fn work_queue_answer(
    pool: &ReadPool,
    query: &WorkQueueQuery,
    position: Position,
) -> Result<pb::GetWorkQueueResponse, Status> {
    let page = work_queue::work_queue(pool, query)
        .await
        .map_err(internal)?;
    let items = page
        .items
        .into_iter()
        .map(|item| pb::WorkItem {
            customer_id: item.customer.to_string(),
            currency: item.currency.code().to_owned(),
            overdue: Some(responses::money(item.overdue)),
            oldest_due_date: date_text(item.oldest_due_date),
            days_past_due: item.days_past_due,
            broken_promises: item.broken_promises,
            escalation: escalation(item.escalation).into(),
            next_action: item.escalation.next_action().to_owned(),
            collector: item.collector.map(|c| c.to_string()).unwrap_or_default(),
            score: item.score.to_string(),
            rule: item.rule,
            snoozed_until: item.snoozed_until.map(date_text).unwrap_or_default(),
        })
        .collect();
    Ok(pb::GetWorkQueueResponse {
        items,
        next_page_token: page.next_page_token.unwrap_or_default(),
        position: position.get(),
    })
}

#[tonic::async_trait]
impl<L: EventLog> pb::query_service_server::QueryService for QueryGrpc<L> {
    async fn get_aging_report(
        &self,
        request: Request<pb::GetAgingReportRequest>,
    ) -> Result<Response<pb::GetAgingReportResponse>, Status> {
        within(QUERY_DEADLINE, "get_aging_report", async move {
            authorize_read(
                &request,
                request
                    .get_ref()
                    .scope
                    .as_ref()
                    .map_or("", |scope| scope.subsidiary_id.as_str()),
            )?;
            let (metadata, _, message) = request.into_parts();
            let query = aging_query(&message).map_err(refused)?;
            let (side, position) = self.ready(&metadata, message.min_position).await?;
            aging_answer(&side.pool, &query, position)
                .await
                .map(Response::new)
        })
        .await
    }

    async fn list_open_items(
        &self,
        request: Request<pb::ListOpenItemsRequest>,
    ) -> Result<Response<pb::ListOpenItemsResponse>, Status> {
        within(QUERY_DEADLINE, "list_open_items", async move {
            authorize_read(
                &request,
                request
                    .get_ref()
                    .scope
                    .as_ref()
                    .map_or("", |scope| scope.subsidiary_id.as_str()),
            )?;
            let (metadata, _, message) = request.into_parts();
            let mut violations = Vec::new();
            let Some(aging) = aging_request(message.scope.as_ref(), "scope", &mut violations)
            else {
                return Err(refused(violations));
            };
            if !violations.is_empty() {
                return Err(refused(violations));
            }
            let (side, position) = self.ready(&metadata, message.min_position).await?;
            let token = (!message.page_token.is_empty()).then_some(message.page_token.as_str());
            let bucket = message
                .bucket
                .map(|b| usize::try_from(b).unwrap_or(usize::MAX));
            let page = aging::open_items(
                &side.pool,
                &aging,
                bucket,
                page_size(message.page_size),
                token,
            )
            .await
            .map_err(|error| match error {
                OpenItemsError::Page(page) => {
                    refused(vec![FieldViolation::new(page.field(), page)])
                }
                OpenItemsError::Projection(error) => internal(error),
            })?;
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
                    issue_date: date_text(item.issue_date),
                    due_date: date_text(item.due_date),
                    days: item.days,
                    over_limit: item.over_limit,
                })
                .collect();
            Ok(Response::new(pb::ListOpenItemsResponse {
                items,
                next_page_token: page.next_page_token.unwrap_or_default(),
                position: position.get(),
            }))
        })
        .await
    }

    async fn get_exposure(
        &self,
        request: Request<pb::GetExposureRequest>,
    ) -> Result<Response<pb::GetExposureResponse>, Status> {
        within(QUERY_DEADLINE, "get_exposure", async move {
            authorize(&request, Action::ReadGroup)?;
            let (metadata, _, message) = request.into_parts();
            let mut violations = Vec::new();
            let customer = checked(
                &mut violations,
                "customer_id",
                CustomerId::parse(&message.customer_id),
            );
            let date = as_of(&message.as_of, "as_of", &mut violations);
            let (Some(customer), Some(date), true) = (customer, date, violations.is_empty()) else {
                return Err(refused(violations));
            };
            let (side, position) = self.ready(&metadata, message.min_position).await?;
            let lines = exposure::exposure(&side.pool, &customer, date)
                .await
                .map_err(internal)?;
            if lines.is_empty() {
                return Err(status::with_reason(
                    Code::NotFound,
                    "CUSTOMER_NOT_FOUND",
                    format!("customer {customer} has no limit and no items as of {date}"),
                ));
            }
            Ok(Response::new(pb::GetExposureResponse {
                lines: lines.into_iter().map(exposure_line).collect(),
                position: position.get(),
            }))
        })
        .await
    }

    async fn list_exposures(
        &self,
        request: Request<pb::ListExposuresRequest>,
    ) -> Result<Response<pb::ListExposuresResponse>, Status> {
        within(QUERY_DEADLINE, "list_exposures", async move {
            authorize(&request, Action::ReadGroup)?;
            let (metadata, _, message) = request.into_parts();
            let query = exposures_query(&message).map_err(refused)?;
            let (side, position) = self.ready(&metadata, message.min_position).await?;
            exposures_answer(&side.pool, &query, position)
                .await
                .map(Response::new)
        })
        .await
    }

    async fn get_work_queue(
        &self,
        request: Request<pb::GetWorkQueueRequest>,
    ) -> Result<Response<pb::GetWorkQueueResponse>, Status> {
        within(QUERY_DEADLINE, "get_work_queue", async move {
            authorize(&request, Action::ReadGroup)?;
            let (metadata, _, message) = request.into_parts();
            let query = work_queue_query(&message).map_err(refused)?;
            let (side, position) = self.ready(&metadata, message.min_position).await?;
            work_queue_answer(&side.pool, &query, position)
                .await
                .map(Response::new)
        })
        .await
    }

    async fn list_promises(
        &self,
        request: Request<pb::ListPromisesRequest>,
    ) -> Result<Response<pb::ListPromisesResponse>, Status> {
        within(QUERY_DEADLINE, "list_promises", async move {
            authorize(&request, Action::ReadGroup)?;
            let (metadata, _, message) = request.into_parts();
            let mut violations = Vec::new();
            let customer = checked(
                &mut violations,
                "customer_id",
                CustomerId::parse(&message.customer_id),
            );
            let date = as_of(&message.as_of, "as_of", &mut violations);
            let status = match pb::PromiseStatus::try_from(message.status) {
                Ok(pb::PromiseStatus::Unspecified) => Some(None),
                Ok(pb::PromiseStatus::Open) => Some(Some(PromiseStatus::Open)),
                Ok(pb::PromiseStatus::PartiallyKept) => Some(Some(PromiseStatus::PartiallyKept)),
                Ok(pb::PromiseStatus::Kept) => Some(Some(PromiseStatus::Kept)),
                Ok(pb::PromiseStatus::Broken) => Some(Some(PromiseStatus::Broken)),
                Err(_) => {
                    violations.push(FieldViolation::new(
                        "status",
                        format!("{} is not a known value", message.status),
                    ));
                    None
                }
            };
            let (Some(customer), Some(date), Some(status), true) =
                (customer, date, status, violations.is_empty())
            else {
                return Err(refused(violations));
            };
            let (side, position) = self.ready(&metadata, message.min_position).await?;
            let grace = message.grace_days.unwrap_or(PROMISE_GRACE_DAYS_DEFAULT);
            let lines = promises::list_promises(&side.pool, Some(&customer), status, date, grace)
                .await
                .map_err(internal)?;
            let promises = lines
                .into_iter()
                .map(|line| pb::PromiseView {
                    promise_id: line.promise_id.to_string(),
                    customer_id: line.customer.to_string(),
                    subsidiary_id: line.subsidiary.to_string(),
                    amount: Some(responses::money(line.amount)),
                    paid: Some(responses::money(line.paid)),
                    made_on: date_text(line.made_on),
                    promised_date: date_text(line.promised_date),
                    window_end: date_text(line.window_end),
                    collector: line.collector.to_string(),
                    status: promise_status(line.status).into(),
                })
                .collect();
            Ok(Response::new(pb::ListPromisesResponse {
                promises,
                position: position.get(),
            }))
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_follow_the_edges() {
        assert_eq!(
            bucket_labels(&[30, 60, 90, 120]),
            vec!["current", "1-30", "31-60", "61-90", "91-120", "over 120"]
        );
    }

    #[test]
    fn grpc_timeouts_are_read() {
        let mut metadata = MetadataMap::new();
        assert_eq!(deadline(&metadata), None);
        metadata.insert("grpc-timeout", "250m".parse().unwrap());
        assert_eq!(deadline(&metadata), Some(Duration::from_millis(250)));
        metadata.insert("grpc-timeout", "3S".parse().unwrap());
        assert_eq!(deadline(&metadata), Some(Duration::from_secs(3)));
        metadata.insert("grpc-timeout", "x".parse().unwrap());
        assert_eq!(deadline(&metadata), None);
    }
}
