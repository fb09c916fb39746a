//! The gRPC `AdminService`, for the admin role: rebuilding the read model, and managing tokens
//! (see [`crate::token_admin`]).

use std::sync::Arc;
use std::time::Duration;

use receivables_access::TokenStore;
use receivables_api::{pb, status};
use receivables_domain::access::Action;
use receivables_eventlog::EventLog;
use tonic::{Code, Request, Response, Status};

use crate::authorization::authorize;
use crate::read_models::{ReadModels, RebuildError};
use crate::token_admin;

/// How long a rebuild may take when the caller says nothing.
pub const REBUILD_TIMEOUT_DEFAULT: Duration = Duration::from_secs(3_600);

pub struct AdminGrpc<L> {
    read_models: Arc<ReadModels<L>>,
    /// The listener's token store; `None` on a listener without tokens (`--insecure`).
    tokens: Option<Arc<dyn TokenStore>>,
}

impl<L: EventLog> AdminGrpc<L> {
    pub fn new(read_models: Arc<ReadModels<L>>, tokens: Option<Arc<dyn TokenStore>>) -> Self {
        AdminGrpc {
            read_models,
            tokens,
        }
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

    async fn create_token(
        &self,
        request: Request<pb::CreateTokenRequest>,
    ) -> Result<Response<pb::CreateTokenResponse>, Status> {
        let admin = authorize(&request, Action::ManageTokens)?;
        let store = token_admin::store_of(&self.tokens)?;
        token_admin::create(store, request.get_ref(), admin)
            .await
            .map(Response::new)
    }

    async fn list_tokens(
        &self,
        request: Request<pb::ListTokensRequest>,
    ) -> Result<Response<pb::ListTokensResponse>, Status> {
        authorize(&request, Action::ManageTokens)?;
        let store = token_admin::store_of(&self.tokens)?;
        token_admin::list(store).await.map(Response::new)
    }

    async fn revoke_token(
        &self,
        request: Request<pb::RevokeTokenRequest>,
    ) -> Result<Response<pb::RevokeTokenResponse>, Status> {
        let admin = authorize(&request, Action::ManageTokens)?;
        let store = token_admin::store_of(&self.tokens)?;
        token_admin::revoke(store, request.get_ref(), &admin)
            .await
            .map(Response::new)
    }
}
