//! The gRPC `CommandService`: reads each request into a command, executes it, and answers with
//! the receipt and decisions, or with a precise status.

use std::sync::Arc;

use receivables_api::commands::{self, Addressed};
use receivables_api::pb::command_service_server::CommandService;
use receivables_api::{pb, status};
use receivables_domain::access::Action;
use receivables_domain::{Principal, RecordedEvent, Refusal};
use receivables_eventlog::EventLog;
use tonic::{Code, Request, Response, Status};
use tracing::{Instrument, field, info_span, warn};

use crate::authorization::{authorize, authorize_post};
use crate::execution::{ExecutionError, Executor};
use crate::limits::COMMAND_DEADLINE;

pub struct CommandGrpc<L> {
    executor: Arc<Executor<L>>,
}

impl<L: EventLog> CommandGrpc<L> {
    pub fn new(executor: Arc<Executor<L>>) -> Self {
        CommandGrpc { executor }
    }

    /// Reads, executes and answers one command; `reply` builds the response from the event.
    async fn handle<Req, Resp>(
        &self,
        kind: &'static str,
        request: Request<Req>,
        principal: Principal,
        read: impl FnOnce(&Req) -> Result<Addressed, Refusal>,
        reply: impl FnOnce(&RecordedEvent, bool) -> Option<Resp>,
    ) -> Result<Response<Resp>, Status> {
        let addressed = read(request.get_ref()).map_err(|refusal| {
            warn!(command = kind, %refusal, "request refused");
            status::refusal(&refusal)
        })?;
        let span = info_span!(
            "command",
            command = kind,
            command_id = %addressed.command.id,
            principal = principal.as_str(),
            customer_id = %addressed.customer_id,
            position = field::Empty,
        );
        let executor = Arc::clone(&self.executor);
        let result = tokio::time::timeout(
            COMMAND_DEADLINE,
            async move { executor.execute(&addressed, &principal).await }.instrument(span.clone()),
        )
        .await;
        let _entered = span.enter();
        let Ok(result) = result else {
            warn!(
                deadline_secs = COMMAND_DEADLINE.as_secs(),
                "command stopped at the deadline"
            );
            return Err(status::with_reason(
                Code::DeadlineExceeded,
                "SERVER_DEADLINE_EXCEEDED",
                format!(
                    "the command took longer than the service's limit of {} s; retry with the same command id",
                    COMMAND_DEADLINE.as_secs()
                ),
            ));
        };
        match result {
            Ok(executed) => reply(&executed.event, executed.replayed)
                .map(Response::new)
                .ok_or_else(|| {
                    status::with_reason(
                        Code::Internal,
                        "UNEXPECTED_EVENT_TYPE",
                        "the command id belongs to an event of another type",
                    )
                }),
            Err(error) => Err(execution_status(&error)),
        }
    }
}

/// The status of a command that was not executed; logged once, here.
pub fn execution_status(error: &ExecutionError) -> Status {
    match error {
        ExecutionError::Refused(refusal) => {
            tracing::info!(%refusal, "command refused");
            status::refusal(refusal)
        }
        ExecutionError::Unavailable(outage) => {
            warn!(error = %outage, cause = ?std::error::Error::source(outage), "event log unavailable");
            status::with_reason(
                Code::Unavailable,
                "EVENT_LOG_UNAVAILABLE",
                format!("{outage}; retry with the same command id"),
            )
        }
        ExecutionError::Contended(attempts) => {
            warn!(attempts, "command gave up after repeated conflicts");
            status::with_reason(
                Code::Aborted,
                "CONCURRENT_MODIFICATION",
                format!(
                    "the account kept changing under the command ({attempts} attempts); retry with the same command id"
                ),
            )
        }
        ExecutionError::Inconsistent(inconsistency) => {
            tracing::error!(error = %inconsistency, "account cannot be trusted");
            status::with_reason(
                Code::Internal,
                "ACCOUNT_INCONSISTENT",
                inconsistency.to_string(),
            )
        }
    }
}

#[tonic::async_trait]
impl<L: EventLog> CommandService for CommandGrpc<L> {
    async fn issue_invoice(
        &self,
        request: Request<pb::IssueInvoiceRequest>,
    ) -> Result<Response<pb::IssueInvoiceResponse>, Status> {
        let principal = authorize_post(&request, &request.get_ref().subsidiary_id)?;
        self.handle(
            "IssueInvoice",
            request,
            principal,
            commands::invoice::read,
            commands::invoice::reply,
        )
        .await
    }

    async fn record_payment(
        &self,
        request: Request<pb::RecordPaymentRequest>,
    ) -> Result<Response<pb::RecordPaymentResponse>, Status> {
        let principal = authorize_post(&request, &request.get_ref().subsidiary_id)?;
        self.handle(
            "RecordPayment",
            request,
            principal,
            commands::payment::read,
            commands::payment::reply,
        )
        .await
    }

    async fn change_credit_limit(
        &self,
        request: Request<pb::ChangeCreditLimitRequest>,
    ) -> Result<Response<pb::ChangeCreditLimitResponse>, Status> {
        let principal = authorize(&request, Action::ChangeCreditLimit)?;
        self.handle(
            "ChangeCreditLimit",
            request,
            principal,
            commands::credit_limit::read,
            commands::credit_limit::reply,
        )
        .await
    }

    async fn record_promise_to_pay(
        &self,
        request: Request<pb::RecordPromiseToPayRequest>,
    ) -> Result<Response<pb::RecordPromiseToPayResponse>, Status> {
        let principal = authorize_post(&request, &request.get_ref().subsidiary_id)?;
        self.handle(
            "RecordPromiseToPay",
            request,
            principal,
            commands::promise::read,
            commands::promise::reply,
        )
        .await
    }

    async fn get_account(
        &self,
        request: Request<pb::GetAccountRequest>,
    ) -> Result<Response<pb::GetAccountResponse>, Status> {
        authorize(&request, Action::ReadGroup)?;
        let customer = commands::customer_id(&request.get_ref().customer_id)
            .map_err(|refusal| status::refusal(&refusal))?;
        let account = self
            .executor
            .account(&customer)
            .instrument(info_span!("get_account", customer_id = %customer))
            .await
            .map_err(|error| execution_status(&error))?;
        if account.event_count() == 0 {
            return Err(status::with_reason(
                Code::NotFound,
                "CUSTOMER_NOT_FOUND",
                format!("customer {customer} has no events"),
            ));
        }
        Ok(Response::new(commands::account::view(&account)))
    }
}
