//! The gRPC `AuditService`: replaying the log, verifying its hash chain, and reports as they
//! were known at a past moment; for the auditor role only.
//!
//! This file only routes the calls: replaying and verifying are in [`crate::replay`], the
//! point-in-time reports in [`crate::point_in_time`].

use std::sync::Arc;

use receivables_api::pb;
use receivables_domain::access::Action;
use receivables_eventlog::EventLog;
use tonic::{Request, Response, Status};

use crate::authorization::authorize;
use crate::limits::{REPORT_AS_KNOWN_DEADLINE, within};
use crate::read_models::ReadModels;
use crate::{point_in_time, replay};

pub struct AuditGrpc<L> {
    log: Arc<L>,
    /// The reports as known at a past moment read the live read model (`point_in_time`).
    read_models: Arc<ReadModels<L>>,
}

impl<L: EventLog> AuditGrpc<L> {
    pub fn new(log: Arc<L>, read_models: Arc<ReadModels<L>>) -> Self {
        AuditGrpc { log, read_models }
    }
}

#[tonic::async_trait]
impl<L: EventLog> pb::audit_service_server::AuditService for AuditGrpc<L> {
    type ReplayEventsStream = replay::ReplayStream;
    type VerifyLogStream = replay::VerifyStream;

    async fn replay_events(
        &self,
        request: Request<pb::ReplayEventsRequest>,
    ) -> Result<Response<Self::ReplayEventsStream>, Status> {
        authorize(&request, Action::Audit)?;
        replay::replay_events(Arc::clone(&self.log), request.into_inner())
            .await
            .map(Response::new)
    }

    async fn verify_log(
        &self,
        request: Request<pb::VerifyLogRequest>,
    ) -> Result<Response<Self::VerifyLogStream>, Status> {
        authorize(&request, Action::Audit)?;
        replay::verify_log(Arc::clone(&self.log), request.into_inner())
            .await
            .map(Response::new)
    }

    async fn get_aging_report_as_known(
        &self,
        request: Request<pb::GetAgingReportAsKnownRequest>,
    ) -> Result<Response<pb::GetAgingReportResponse>, Status> {
        within(
            REPORT_AS_KNOWN_DEADLINE,
            "get_aging_report_as_known",
            async move {
                authorize(&request, Action::Audit)?;
                point_in_time::aging(self.log.as_ref(), &self.read_models, request.into_inner())
                    .await
                    .map(Response::new)
            },
        )
        .await
    }

    async fn list_exposures_as_known(
        &self,
        request: Request<pb::ListExposuresAsKnownRequest>,
    ) -> Result<Response<pb::ListExposuresResponse>, Status> {
        within(
            REPORT_AS_KNOWN_DEADLINE,
            "list_exposures_as_known",
            async move {
                authorize(&request, Action::Audit)?;
                point_in_time::exposures(self.log.as_ref(), &self.read_models, request.into_inner())
                    .await
                    .map(Response::new)
            },
        )
        .await
    }

    async fn get_work_queue_as_known(
        &self,
        request: Request<pb::GetWorkQueueAsKnownRequest>,
    ) -> Result<Response<pb::GetWorkQueueResponse>, Status> {
        within(
            REPORT_AS_KNOWN_DEADLINE,
            "get_work_queue_as_known",
            async move {
                authorize(&request, Action::Audit)?;
                point_in_time::work_queue(
                    self.log.as_ref(),
                    &self.read_models,
                    request.into_inner(),
                )
                .await
                .map(Response::new)
            },
        )
        .await
    }

    async fn get_metrics_as_known(
        &self,
        request: Request<pb::GetMetricsAsKnownRequest>,
    ) -> Result<Response<pb::GetMetricsResponse>, Status> {
        within(
            REPORT_AS_KNOWN_DEADLINE,
            "get_metrics_as_known",
            async move {
                authorize(&request, Action::Audit)?;
                point_in_time::metrics(self.log.as_ref(), &self.read_models, request.into_inner())
                    .await
                    .map(Response::new)
            },
        )
        .await
    }
}
