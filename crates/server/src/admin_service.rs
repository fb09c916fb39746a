//! The gRPC `AdminService`: rebuilding the read model.

use std::sync::Arc;
use std::time::Duration;

use receivables_api::{pb, status};
use receivables_domain::access::Action;
use receivables_eventlog::EventLog;
use tonic::{Code, Request, Response, Status};

use crate::authorization::authorize;
use crate::read_models::{ReadModels, RebuildError};

/// How long a rebuild may take when the caller says nothing.
pub const REBUILD_TIMEOUT_DEFAULT: Duration = Duration::from_secs(3_600);

pub struct AdminGrpc<L> {
    read_models: Arc<ReadModels<L>>,
}

impl<L: EventLog> AdminGrpc<L> {
    pub fn new(read_models: Arc<ReadModels<L>>) -> Self {
        AdminGrpc { read_models }
    }
}

#[tonic::async_trait]
impl<L: EventLog> pb::admin_service_server::AdminService for AdminGrpc<L> {
    async fn rebuild_read_model(
        &self,
        request: Request<pb::RebuildReadModelRequest>,
    ) -> Result<Response<pb::RebuildReadModelResponse>, Status> {
        authorize(&request, Action::Rebuild)?;
        let timeout = match request.get_ref().timeout_seconds {
            0 => REBUILD_TIMEOUT_DEFAULT,
            seconds => Duration::from_secs(u64::from(seconds)),
        };
        match self.read_models.rebuild(timeout).await {
            Ok(rebuilt) => Ok(Response::new(pb::RebuildReadModelResponse {
                retired_generation: rebuilt.retired_generation,
                live_generation: rebuilt.live_generation,
                position: rebuilt.position.get(),
            })),
            Err(RebuildError::AlreadyRunning) => Err(status::with_reason(
                Code::FailedPrecondition,
                "REBUILD_RUNNING",
                "a rebuild is already running",
            )),
            Err(error @ RebuildError::TooSlow(_)) => Err(status::with_reason(
                Code::DeadlineExceeded,
                "REBUILD_TOO_SLOW",
                error.to_string(),
            )),
            Err(RebuildError::Projection(error)) => Err(status::with_reason(
                Code::Internal,
                "READ_MODEL_ERROR",
                error.to_string(),
            )),
        }
    }
}
