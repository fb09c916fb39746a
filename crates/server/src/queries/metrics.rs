//! The gRPC `MetricsService`: the early-warning metrics, answered from the live read model like
//! every query (`QueryGrpc::answer`), under the same access rules as the reports they summarise.

use receivables_api::pb;
use receivables_api::queries::alerts as alerts_wire;
use receivables_api::queries::allowance as allowance_wire;
use receivables_api::queries::forecast as forecast_wire;
use receivables_api::queries::metrics as wire;
use receivables_api::status;
use receivables_domain::Position;
use receivables_eventlog::EventLog;
use receivables_projections::ReadPool;
use receivables_projections::allowance::{AllowanceFailure, AllowanceQuery, allowances};
use receivables_projections::forecast::{ForecastQuery, backtest, forecast};
use receivables_projections::metrics::{MetricsQuery, metrics};
use tonic::{Code, Request, Response, Status};

use super::{QueryGrpc, internal, refused};
use crate::alerts::AlertStream;
use crate::authorization::authorize_read;
use crate::limits::{QUERY_DEADLINE, within};

/// The metrics the query asks for (a report as known at a past moment reuses it).
pub(crate) async fn answer(
    pool: ReadPool,
    query: MetricsQuery,
    position: Position,
) -> Result<pb::GetMetricsResponse, Status> {
    let report = metrics(&pool, &query).await.map_err(internal)?;
    Ok(wire::answer(report, position))
}

/// The allowance the query asks for.
async fn allowance_answer(
    pool: ReadPool,
    query: AllowanceQuery,
    position: Position,
) -> Result<pb::GetAllowanceResponse, Status> {
    match allowances(&pool, &query).await {
        Ok(found) => Ok(allowance_wire::answer(query.as_of, found, position)),
        Err(AllowanceFailure::ReadModel(error)) => Err(internal(error)),
        // The request's rates were checked when it was read; what the arithmetic still refuses
        // (a sum beyond the decimal range) is the request's.
        Err(refused @ AllowanceFailure::Refused { .. }) => Err(status::with_reason(
            Code::InvalidArgument,
            "INVALID_QUERY",
            refused.to_string(),
        )),
    }
}

/// The forecast the query asks for.
async fn forecast_answer(
    pool: ReadPool,
    query: ForecastQuery,
    position: Position,
) -> Result<pb::GetCollectionsForecastResponse, Status> {
    let found = forecast(&pool, &query).await.map_err(internal)?;
    Ok(forecast_wire::answer(found, position))
}

/// The backtest the query asks for.
async fn backtest_answer(
    pool: ReadPool,
    query: ForecastQuery,
    position: Position,
) -> Result<pb::BacktestCollectionsForecastResponse, Status> {
    let found = backtest(&pool, &query).await.map_err(internal)?;
    Ok(forecast_wire::answer_backtest(query.as_of, found, position))
}

#[tonic::async_trait]
impl<L: EventLog> pb::metrics_service_server::MetricsService for QueryGrpc<L> {
    type WatchAlertsStream = AlertStream;

    /// Follows the alerts from the control database (`alerts.rs`). Like the metrics: a
    /// subsidiary's token watches its own subsidiary's alerts, the group's readers any. The
    /// stream has no deadline: it lasts until the client cancels or the service stops.
    async fn watch_alerts(
        &self,
        request: Request<pb::WatchAlertsRequest>,
    ) -> Result<Response<AlertStream>, Status> {
        authorize_read(&request, &request.get_ref().subsidiary_id)?;
        let message = request.get_ref();
        let filter = alerts_wire::read(message).map_err(refused)?;
        let Some(feed) = &self.alerts else {
            return Err(Status::unimplemented("this service raises no alerts"));
        };
        Ok(Response::new(feed.watch(
            message.after_seq,
            filter,
            message.no_follow,
        )))
    }

    async fn get_metrics(
        &self,
        request: Request<pb::GetMetricsRequest>,
    ) -> Result<Response<pb::GetMetricsResponse>, Status> {
        // A subsidiary's token sees its own subsidiary's metrics; the group's readers any.
        authorize_read(&request, &request.get_ref().subsidiary_id)?;
        let answer = self.answer(request, |m| m.min_position, wire::read, answer);
        within(QUERY_DEADLINE, "get_metrics", answer).await
    }

    async fn get_allowance(
        &self,
        request: Request<pb::GetAllowanceRequest>,
    ) -> Result<Response<pb::GetAllowanceResponse>, Status> {
        // Like the aging it is computed from.
        authorize_read(&request, &request.get_ref().subsidiary_id)?;
        let answer = self.answer(
            request,
            |m| m.min_position,
            allowance_wire::read,
            allowance_answer,
        );
        within(QUERY_DEADLINE, "get_allowance", answer).await
    }

    async fn get_collections_forecast(
        &self,
        request: Request<pb::GetCollectionsForecastRequest>,
    ) -> Result<Response<pb::GetCollectionsForecastResponse>, Status> {
        // A subsidiary's token forecasts its own subsidiary's cash.
        authorize_read(&request, &request.get_ref().subsidiary_id)?;
        let answer = self.answer(
            request,
            |m| m.min_position,
            forecast_wire::read,
            forecast_answer,
        );
        within(QUERY_DEADLINE, "get_collections_forecast", answer).await
    }

    async fn backtest_collections_forecast(
        &self,
        request: Request<pb::BacktestCollectionsForecastRequest>,
    ) -> Result<Response<pb::BacktestCollectionsForecastResponse>, Status> {
        authorize_read(&request, &request.get_ref().subsidiary_id)?;
        let answer = self.answer(
            request,
            |m| m.min_position,
            forecast_wire::read_backtest,
            backtest_answer,
        );
        within(QUERY_DEADLINE, "backtest_collections_forecast", answer).await
    }
}
