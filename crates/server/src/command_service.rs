//! The gRPC `CommandService`: reads each request into a command, executes it, and answers with
//! the receipt and decisions, or with a precise status.

use std::sync::Arc;

use chrono::Utc;
use receivables_api::commands::{self, Addressed};
use receivables_api::pb::command_service_server::CommandService;
use receivables_api::{pb, status};
use receivables_domain::access::Action;
use receivables_domain::{Principal, RecordedEvent, Refusal};
use receivables_eventlog::EventLog;
use tonic::{Code, Request, Response, Status};
use tracing::{Instrument, field, info_span, warn};

use crate::authorization::{authorize, authorize_post, authorize_settle, role_of};
use crate::execution::{Executed, ExecutionError, Executor};
use crate::limits::COMMAND_DEADLINE;
use crate::observability;

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
            observability::command_refused(kind, "invalid", refusal.reason.as_str());
            status::refusal(&refusal)
        })?;
        let role = role_of(&request);
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
            async move {
                executor
                    .execute(&addressed, &principal, role.as_ref())
                    .await
            }
            .instrument(span.clone()),
        )
        .await;
        let _entered = span.enter();
        let Ok(result) = result else {
            observability::command_outcome(kind, "deadline");
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
        record(kind, &result);
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

/// The outcome of a command executed, for operators.
fn record(kind: &'static str, result: &Result<Executed, ExecutionError>) {
    match result {
        Ok(executed) if executed.replayed => observability::command_outcome(kind, "replayed"),
        Ok(_) => observability::command_outcome(kind, "accepted"),
        Err(ExecutionError::Refused(refusal)) => {
            observability::command_refused(kind, "refused", refusal.reason.as_str());
        }
        Err(ExecutionError::Denied(_)) => observability::command_outcome(kind, "denied"),
        Err(ExecutionError::Unavailable(_)) => observability::command_outcome(kind, "unavailable"),
        Err(ExecutionError::Contended(_)) => observability::command_outcome(kind, "contended"),
        Err(ExecutionError::Inconsistent(_)) => {
            observability::command_outcome(kind, "inconsistent");
        }
    }
}

/// The subsidiary of the invoice a request names (the one that posts for it); empty when the
/// request names none, which the reading of the request refuses.
fn invoice_subsidiary(invoice: Option<&pb::InvoiceRef>) -> String {
    invoice.map(|i| i.subsidiary_id.clone()).unwrap_or_default()
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
        ExecutionError::Denied(denial) => {
            warn!(reason = %denial.reason, "permission denied");
            status::with_reason(Code::PermissionDenied, "PERMISSION_DENIED", &denial.reason)
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
        let principal = authorize_settle(&request, &request.get_ref().subsidiary_id)?;
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

    async fn record_collection_activity(
        &self,
        request: Request<pb::RecordCollectionActivityRequest>,
    ) -> Result<Response<pb::RecordCollectionActivityResponse>, Status> {
        let principal = authorize_post(&request, &request.get_ref().subsidiary_id)?;
        self.handle(
            "RecordCollectionActivity",
            request,
            principal,
            commands::collection_activity::read,
            commands::collection_activity::reply,
        )
        .await
    }

    async fn issue_credit_note(
        &self,
        request: Request<pb::IssueCreditNoteRequest>,
    ) -> Result<Response<pb::IssueCreditNoteResponse>, Status> {
        let principal = authorize_settle(&request, &request.get_ref().subsidiary_id)?;
        self.handle(
            "IssueCreditNote",
            request,
            principal,
            commands::credit_note::read,
            commands::credit_note::reply,
        )
        .await
    }

    async fn write_off_invoice(
        &self,
        request: Request<pb::WriteOffInvoiceRequest>,
    ) -> Result<Response<pb::WriteOffInvoiceResponse>, Status> {
        let principal = authorize(&request, Action::WriteOff)?;
        self.handle(
            "WriteOffInvoice",
            request,
            principal,
            commands::write_off::read,
            commands::write_off::reply,
        )
        .await
    }

    async fn reverse_payment(
        &self,
        request: Request<pb::ReversePaymentRequest>,
    ) -> Result<Response<pb::ReversePaymentResponse>, Status> {
        let principal = authorize_settle(&request, &request.get_ref().subsidiary_id)?;
        self.handle(
            "ReversePayment",
            request,
            principal,
            commands::reversal::read,
            commands::reversal::reply,
        )
        .await
    }

    async fn apply_unapplied_cash(
        &self,
        request: Request<pb::ApplyUnappliedCashRequest>,
    ) -> Result<Response<pb::ApplyUnappliedCashResponse>, Status> {
        let principal = authorize_settle(&request, &request.get_ref().subsidiary_id)?;
        self.handle(
            "ApplyUnappliedCash",
            request,
            principal,
            commands::application::read,
            commands::application::reply,
        )
        .await
    }

    async fn issue_refund(
        &self,
        request: Request<pb::IssueRefundRequest>,
    ) -> Result<Response<pb::IssueRefundResponse>, Status> {
        let principal = authorize_settle(&request, &request.get_ref().subsidiary_id)?;
        self.handle(
            "IssueRefund",
            request,
            principal,
            commands::refund::read,
            commands::refund::reply,
        )
        .await
    }

    async fn open_dispute(
        &self,
        request: Request<pb::OpenDisputeRequest>,
    ) -> Result<Response<pb::OpenDisputeResponse>, Status> {
        let subsidiary = invoice_subsidiary(request.get_ref().invoice.as_ref());
        let principal = authorize_post(&request, &subsidiary)?;
        self.handle(
            "OpenDispute",
            request,
            principal,
            commands::dispute::read_open,
            commands::dispute::reply_open,
        )
        .await
    }

    async fn resolve_dispute(
        &self,
        request: Request<pb::ResolveDisputeRequest>,
    ) -> Result<Response<pb::ResolveDisputeResponse>, Status> {
        let subsidiary = invoice_subsidiary(request.get_ref().invoice.as_ref());
        let principal = authorize_post(&request, &subsidiary)?;
        self.handle(
            "ResolveDispute",
            request,
            principal,
            commands::dispute::read_resolve,
            commands::dispute::reply_resolve,
        )
        .await
    }

    async fn set_collection_on_behalf(
        &self,
        request: Request<pb::SetCollectionOnBehalfRequest>,
    ) -> Result<Response<pb::SetCollectionOnBehalfResponse>, Status> {
        let principal = authorize(&request, Action::ConfigureGroup)?;
        self.handle(
            "SetCollectionOnBehalf",
            request,
            principal,
            commands::collection_on_behalf::read,
            commands::collection_on_behalf::reply,
        )
        .await
    }

    async fn set_alert_thresholds(
        &self,
        request: Request<pb::SetAlertThresholdsRequest>,
    ) -> Result<Response<pb::SetAlertThresholdsResponse>, Status> {
        // The thresholds are credit policy: the credit role's, like the limits they watch.
        let principal = authorize(&request, Action::ChangeCreditLimit)?;
        self.handle(
            "SetAlertThresholds",
            request,
            principal,
            commands::alert_thresholds::read,
            commands::alert_thresholds::reply,
        )
        .await
    }

    async fn confirm_balance(
        &self,
        request: Request<pb::ConfirmBalanceRequest>,
    ) -> Result<Response<pb::ConfirmBalanceResponse>, Status> {
        let principal = authorize(&request, Action::ConfirmBalance)?;
        self.handle(
            "ConfirmBalance",
            request,
            principal,
            commands::balance_confirmation::read,
            commands::balance_confirmation::reply,
        )
        .await
    }

    async fn register_customer(
        &self,
        request: Request<pb::RegisterCustomerRequest>,
    ) -> Result<Response<pb::RegisterCustomerResponse>, Status> {
        let principal = authorize(&request, Action::MaintainCustomers)?;
        self.handle(
            "RegisterCustomer",
            request,
            principal,
            commands::customer::read_registration,
            commands::customer::registration_reply,
        )
        .await
    }

    async fn update_customer(
        &self,
        request: Request<pb::UpdateCustomerRequest>,
    ) -> Result<Response<pb::UpdateCustomerResponse>, Status> {
        let principal = authorize(&request, Action::MaintainCustomers)?;
        self.handle(
            "UpdateCustomer",
            request,
            principal,
            commands::customer::read_update,
            commands::customer::update_reply,
        )
        .await
    }

    async fn assign_collector(
        &self,
        request: Request<pb::AssignCollectorRequest>,
    ) -> Result<Response<pb::AssignCollectorResponse>, Status> {
        let principal = authorize(&request, Action::MaintainCustomers)?;
        self.handle(
            "AssignCollector",
            request,
            principal,
            commands::collector::read,
            commands::collector::reply,
        )
        .await
    }

    async fn publish_exchange_rates(
        &self,
        request: Request<pb::PublishExchangeRatesRequest>,
    ) -> Result<Response<pb::PublishExchangeRatesResponse>, Status> {
        let principal = authorize(&request, Action::PublishRates)?;
        self.handle(
            "PublishExchangeRates",
            request,
            principal,
            commands::exchange_rates::read,
            commands::exchange_rates::reply,
        )
        .await
    }

    async fn define_payment_terms(
        &self,
        request: Request<pb::DefinePaymentTermsRequest>,
    ) -> Result<Response<pb::DefinePaymentTermsResponse>, Status> {
        let principal = authorize(&request, Action::MaintainCustomers)?;
        self.handle(
            "DefinePaymentTerms",
            request,
            principal,
            commands::payment_terms::read,
            commands::payment_terms::reply,
        )
        .await
    }

    async fn agree_instalment_plan(
        &self,
        request: Request<pb::AgreeInstalmentPlanRequest>,
    ) -> Result<Response<pb::AgreeInstalmentPlanResponse>, Status> {
        let subsidiary = invoice_subsidiary(request.get_ref().invoice.as_ref());
        let principal = authorize_post(&request, &subsidiary)?;
        self.handle(
            "AgreeInstalmentPlan",
            request,
            principal,
            commands::instalment_plan::read_agree,
            commands::instalment_plan::reply_agree,
        )
        .await
    }

    async fn cancel_instalment_plan(
        &self,
        request: Request<pb::CancelInstalmentPlanRequest>,
    ) -> Result<Response<pb::CancelInstalmentPlanResponse>, Status> {
        let subsidiary = invoice_subsidiary(request.get_ref().invoice.as_ref());
        let principal = authorize_post(&request, &subsidiary)?;
        self.handle(
            "CancelInstalmentPlan",
            request,
            principal,
            commands::instalment_plan::read_cancel,
            commands::instalment_plan::reply_cancel,
        )
        .await
    }

    async fn allow_discount(
        &self,
        request: Request<pb::AllowDiscountRequest>,
    ) -> Result<Response<pb::AllowDiscountResponse>, Status> {
        let subsidiary = invoice_subsidiary(request.get_ref().invoice.as_ref());
        let principal = authorize_settle(&request, &subsidiary)?;
        self.handle(
            "AllowDiscount",
            request,
            principal,
            commands::discount::read,
            commands::discount::reply,
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
        let today = Utc::now().date_naive();
        let view = self
            .executor
            .read_account(&customer, |account| {
                (account.event_count() > 0).then(|| commands::account::view(account, today))
            })
            .instrument(info_span!("get_account", customer_id = %customer))
            .await
            .map_err(|error| execution_status(&error))?;
        let Some(view) = view else {
            return Err(status::with_reason(
                Code::NotFound,
                "CUSTOMER_NOT_FOUND",
                format!("customer {customer} has no events"),
            ));
        };
        Ok(Response::new(view))
    }

    async fn reserve_credit(
        &self,
        request: Request<pb::ReserveCreditRequest>,
    ) -> Result<Response<pb::ReserveCreditResponse>, Status> {
        let principal = authorize_post(&request, &request.get_ref().subsidiary_id)?;
        self.handle(
            "ReserveCredit",
            request,
            principal,
            commands::credit_reservation::read_reserve,
            commands::credit_reservation::reply_reserve,
        )
        .await
    }

    async fn release_credit(
        &self,
        request: Request<pb::ReleaseCreditRequest>,
    ) -> Result<Response<pb::ReleaseCreditResponse>, Status> {
        let principal = authorize_post(&request, &request.get_ref().subsidiary_id)?;
        self.handle(
            "ReleaseCredit",
            request,
            principal,
            commands::credit_reservation::read_release,
            commands::credit_reservation::reply_release,
        )
        .await
    }

    async fn check_credit(
        &self,
        request: Request<pb::CheckCreditRequest>,
    ) -> Result<Response<pb::CheckCreditResponse>, Status> {
        authorize(&request, Action::CheckCredit)?;
        let question = commands::check_credit::read(request.get_ref())
            .map_err(|refusal| status::refusal(&refusal))?;
        let span = info_span!(
            "check_credit",
            customer_id = %question.customer_id,
            position = field::Empty,
        );
        let executor = Arc::clone(&self.executor);
        let asked = question.clone();
        let result = tokio::time::timeout(
            COMMAND_DEADLINE,
            async move {
                executor
                    .check_credit(&asked.customer_id, asked.amount, asked.date)
                    .await
            }
            .instrument(span.clone()),
        )
        .await;
        let Ok(result) = result else {
            warn!(
                customer_id = %question.customer_id,
                deadline_secs = COMMAND_DEADLINE.as_secs(),
                "credit check stopped at the deadline"
            );
            return Err(status::with_reason(
                Code::DeadlineExceeded,
                "SERVER_DEADLINE_EXCEEDED",
                format!(
                    "the credit check took longer than the service's limit of {} s",
                    COMMAND_DEADLINE.as_secs()
                ),
            ));
        };
        let (assessment, position) = result.map_err(|error| execution_status(&error))?;
        span.record("position", position.get());
        Ok(Response::new(commands::check_credit::answer(
            &question,
            &assessment,
            position.get(),
        )))
    }
}
