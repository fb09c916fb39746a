//! The gRPC `QueryService`: one module per query, holding how the read model answers it. Each
//! RPC checks access, reads its request through the wire mapping of `receivables_api::queries`,
//! waits until the live read model has applied `min_position` and has its module answer, within
//! the service's deadline.

mod activities;
mod aging_report;
mod confirmations;
mod customer_search;
mod exposure;
mod exposures;
mod metrics;
mod open_items;
mod promises;
mod statement;
mod upcoming;
mod work_queue;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use receivables_api::{pb, status};
use receivables_domain::Position;
use receivables_domain::access::Action;
use receivables_domain::refusal::FieldViolation;
use receivables_eventlog::EventLog;
use receivables_projections::{ProjectionError, ReadPool};
use tokio::sync::watch;
use tonic::metadata::MetadataMap;
use tonic::{Code, Request, Response, Status};
use tracing::error;

use crate::alerts::AlertFeed;
use crate::authorization::{authorize, authorize_read};
use crate::limits::{MIN_POSITION_WAIT_MAX, QUERY_DEADLINE, within};
use crate::read_models::ReadSide;

pub(crate) use aging_report::answer as aging_answer;
pub(crate) use exposures::answer as exposures_answer;
pub(crate) use metrics::answer as metrics_answer;
pub(crate) use work_queue::answer as work_queue_answer;

/// Time kept back from the call's deadline to answer "not yet" before the caller gives up.
const DEADLINE_MARGIN: Duration = Duration::from_millis(50);

pub struct QueryGrpc<L> {
    /// The live generation of the read model; a rebuild replaces it.
    sides: watch::Receiver<Arc<ReadSide<L>>>,
    /// The alerts `WatchAlerts` follows (the metrics service's).
    alerts: Option<AlertFeed>,
}

impl<L: EventLog> QueryGrpc<L> {
    pub fn new(sides: watch::Receiver<Arc<ReadSide<L>>>) -> Self {
        QueryGrpc {
            sides,
            alerts: None,
        }
    }

    /// The same, answering `WatchAlerts` from `alerts`.
    pub fn with_alerts(mut self, alerts: AlertFeed) -> Self {
        self.alerts = Some(alerts);
        self
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
            return Err(projection_behind(applied, wanted, "min_position"));
        }
        let applied = *side.projector.applied().borrow();
        Ok((side, applied))
    }

    /// Answers one query: `read` turns the request into the read model's query (or names every
    /// bad field), the call waits until the live read model has applied `min_position`, and
    /// `run` answers from that generation, stamped with the position it has applied. The caller
    /// has checked access first and bounds the whole by the service's deadline.
    async fn answer<Req, Q, Resp, Fut>(
        &self,
        request: Request<Req>,
        min_position: fn(&Req) -> u64,
        read: impl FnOnce(&Req) -> Result<Q, Vec<FieldViolation>>,
        run: impl FnOnce(ReadPool, Q, Position) -> Fut,
    ) -> Result<Response<Resp>, Status>
    where
        Fut: Future<Output = Result<Resp, Status>>,
    {
        let (metadata, _, message) = request.into_parts();
        let query = read(&message).map_err(refused)?;
        let (side, position) = self.ready(&metadata, min_position(&message)).await?;
        run(side.pool.clone(), query, position)
            .await
            .map(Response::new)
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

/// A query the read model could not answer; logged once, here.
/// `DEADLINE_EXCEEDED` with reason `PROJECTION_BEHIND`: the live read model has applied
/// `applied`, not yet `wanted` (named `wanted_name` in the details) within the call's time.
pub(crate) fn projection_behind(applied: Position, wanted: Position, wanted_name: &str) -> Status {
    let mut details = tonic_types::ErrorDetails::new();
    details.set_error_info(
        "PROJECTION_BEHIND",
        receivables_api::ERROR_DOMAIN,
        [
            ("applied_position".to_owned(), applied.to_string()),
            (wanted_name.to_owned(), wanted.to_string()),
        ]
        .into_iter()
        .collect::<std::collections::HashMap<_, _>>(),
    );
    <Status as tonic_types::StatusExt>::with_error_details(
        Code::DeadlineExceeded,
        format!("the read model has applied position {applied}, not yet {wanted}"),
        details,
    )
}

pub(crate) fn internal(error: ProjectionError) -> Status {
    error!(%error, "query failed");
    status::with_reason(Code::Internal, "READ_MODEL_ERROR", error.to_string())
}

/// A query refused for its fields: `INVALID_ARGUMENT`, reason `INVALID_QUERY`.
pub(crate) fn refused(violations: Vec<FieldViolation>) -> Status {
    status::refusal(&receivables_api::queries::refused(violations))
}

#[tonic::async_trait]
impl<L: EventLog> pb::query_service_server::QueryService for QueryGrpc<L> {
    async fn get_aging_report(
        &self,
        request: Request<pb::GetAgingReportRequest>,
    ) -> Result<Response<pb::GetAgingReportResponse>, Status> {
        let scope = request.get_ref().scope.as_ref();
        authorize_read(&request, scope.map_or("", |s| s.subsidiary_id.as_str()))?;
        let read = receivables_api::queries::aging::read;
        let answer = self.answer(request, |m| m.min_position, read, aging_report::answer);
        within(QUERY_DEADLINE, "get_aging_report", answer).await
    }

    async fn list_open_items(
        &self,
        request: Request<pb::ListOpenItemsRequest>,
    ) -> Result<Response<pb::ListOpenItemsResponse>, Status> {
        let scope = request.get_ref().scope.as_ref();
        authorize_read(&request, scope.map_or("", |s| s.subsidiary_id.as_str()))?;
        let read = receivables_api::queries::open_items::read;
        let answer = self.answer(request, |m| m.min_position, read, open_items::answer);
        within(QUERY_DEADLINE, "list_open_items", answer).await
    }

    async fn get_exposure(
        &self,
        request: Request<pb::GetExposureRequest>,
    ) -> Result<Response<pb::GetExposureResponse>, Status> {
        authorize(&request, Action::ReadGroup)?;
        let read = receivables_api::queries::exposure::read_one;
        let answer = self.answer(request, |m| m.min_position, read, exposure::answer);
        within(QUERY_DEADLINE, "get_exposure", answer).await
    }

    async fn list_exposures(
        &self,
        request: Request<pb::ListExposuresRequest>,
    ) -> Result<Response<pb::ListExposuresResponse>, Status> {
        authorize(&request, Action::ReadGroup)?;
        let read = receivables_api::queries::exposure::read;
        let answer = self.answer(request, |m| m.min_position, read, exposures::answer);
        within(QUERY_DEADLINE, "list_exposures", answer).await
    }

    async fn get_work_queue(
        &self,
        request: Request<pb::GetWorkQueueRequest>,
    ) -> Result<Response<pb::GetWorkQueueResponse>, Status> {
        authorize(&request, Action::ReadGroup)?;
        let read = receivables_api::queries::work_queue::read;
        let answer = self.answer(request, |m| m.min_position, read, work_queue::answer);
        within(QUERY_DEADLINE, "get_work_queue", answer).await
    }

    async fn list_promises(
        &self,
        request: Request<pb::ListPromisesRequest>,
    ) -> Result<Response<pb::ListPromisesResponse>, Status> {
        // The payments that keep a promise are the customer's at every subsidiary: the group's.
        authorize(&request, Action::ReadGroup)?;
        let read = receivables_api::queries::promises::read;
        let answer = self.answer(request, |m| m.min_position, read, promises::answer);
        within(QUERY_DEADLINE, "list_promises", answer).await
    }

    async fn get_statement(
        &self,
        request: Request<pb::GetStatementRequest>,
    ) -> Result<Response<pb::GetStatementResponse>, Status> {
        authorize_read(&request, &request.get_ref().subsidiary_id)?;
        let read = receivables_api::queries::statement::read;
        let answer = self.answer(request, |m| m.min_position, read, statement::answer);
        within(QUERY_DEADLINE, "get_statement", answer).await
    }

    async fn list_balance_confirmations(
        &self,
        request: Request<pb::ListBalanceConfirmationsRequest>,
    ) -> Result<Response<pb::ListBalanceConfirmationsResponse>, Status> {
        // A confirmation is of the customer's balance with the whole group.
        authorize(&request, Action::ReadGroup)?;
        let read = receivables_api::queries::confirmations::read;
        let answer = self.answer(request, |m| m.min_position, read, confirmations::answer);
        within(QUERY_DEADLINE, "list_balance_confirmations", answer).await
    }

    async fn search_customers(
        &self,
        request: Request<pb::SearchCustomersRequest>,
    ) -> Result<Response<pb::SearchCustomersResponse>, Status> {
        // Customers are the whole group's.
        authorize(&request, Action::ReadGroup)?;
        let read = receivables_api::queries::customer_search::read;
        let answer = self.answer(request, |m| m.min_position, read, customer_search::answer);
        within(QUERY_DEADLINE, "search_customers", answer).await
    }

    async fn list_upcoming_due(
        &self,
        request: Request<pb::ListUpcomingDueRequest>,
    ) -> Result<Response<pb::ListUpcomingDueResponse>, Status> {
        // A subsidiary's token lists its own subsidiary's rows.
        authorize_read(&request, &request.get_ref().subsidiary_id)?;
        let read = receivables_api::queries::upcoming::read;
        let answer = self.answer(request, |m| m.min_position, read, upcoming::answer);
        within(QUERY_DEADLINE, "list_upcoming_due", answer).await
    }

    async fn list_collection_activities(
        &self,
        request: Request<pb::ListCollectionActivitiesRequest>,
    ) -> Result<Response<pb::ListCollectionActivitiesResponse>, Status> {
        // A contact is about the customer's whole account, at every subsidiary: the group's.
        authorize(&request, Action::ReadGroup)?;
        let read = receivables_api::queries::activities::read;
        let answer = self.answer(request, |m| m.min_position, read, activities::answer);
        within(QUERY_DEADLINE, "list_collection_activities", answer).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
