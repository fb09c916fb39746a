//! The gRPC `ReceiptService`: cash application. A statement file is read
//! (`receivables-statements`) and its credit lines imported into the bank account's stream
//! (`import.rs`); the waiting lines are matched and the payments posted (`matcher.rs`); a
//! person resolves what the engine could not, from the review queue.
//!
//! It needs both sides: the command path, to append to the bank account's stream and post the
//! payments, and the read model, whose evidence the engine ranks on. It is served where both
//! are: the all-in-one service (`serve`, embedded or on NATS and PostgreSQL), and in the split
//! deployment a query service started with `--serve-receipts`, which gets an executor of its
//! own on the stream.

mod derived;
mod error;
mod import;
mod matcher;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use receivables_api::commands::Addressed;
use receivables_api::receipts::{self as wire, Decision};
use receivables_api::{pb, status};
use receivables_domain::access::Action;
use receivables_domain::account::receipt::{ExcludeStatementLine, MatchMethod, MatchStatementLine};
use receivables_domain::account::state::BankAccountRecord;
use receivables_domain::ids::BankAccountId;
use receivables_domain::matching::AutoPolicy;
use receivables_domain::{Command, CommandBody, CustomerId, Position};
use receivables_eventlog::EventLog;
use receivables_projections::receipt_queue::list_unmatched;
use tokio::sync::watch;
use tonic::{Code, Request, Response, Status};

use crate::authorization::{authorize, authorize_read, authorize_settle, role_of};
use crate::command_service::execution_status;
use crate::execution::Executor;
use crate::limits::{
    COMMAND_DEADLINE, QUERY_DEADLINE, RECEIPTS_DEADLINE, RECEIPTS_PROJECTION_WAIT_MAX, within,
};
use crate::read_models::ReadSide;

pub use error::ReceiptError;
pub use matcher::MATCH_LINES_PER_CALL_MAX;

/// `work` within `deadline`, its errors as statuses.
async fn bounded<T>(
    deadline: Duration,
    what: &str,
    work: impl Future<Output = Result<T, ReceiptError>>,
) -> Result<T, Status> {
    within(deadline, what, async { work.await.map_err(Status::from) }).await
}

pub struct ReceiptGrpc<L> {
    executor: Arc<Executor<L>>,
    /// The live generation of the read model.
    sides: watch::Receiver<Arc<ReadSide<L>>>,
    policy: AutoPolicy,
}

impl<L: EventLog> ReceiptGrpc<L> {
    pub fn new(
        executor: Arc<Executor<L>>,
        sides: watch::Receiver<Arc<ReadSide<L>>>,
        policy: AutoPolicy,
    ) -> Self {
        ReceiptGrpc {
            executor,
            sides,
            policy,
        }
    }

    fn side(&self) -> Arc<ReadSide<L>> {
        Arc::clone(&self.sides.borrow())
    }

    /// The registered bank account, or FAILED_PRECONDITION.
    async fn registered(&self, account: &BankAccountId) -> Result<BankAccountRecord, Status> {
        let stream = CustomerId::bank_account(account);
        let record = self
            .executor
            .read_account(&stream, |a| a.state().bank().account().cloned())
            .await
            .map_err(|e| execution_status(&e))?;
        record.ok_or_else(|| {
            status::refusal(&receivables_domain::Refusal::precondition(
                receivables_domain::refusal::Reason::BankAccountNotRegistered,
                vec![receivables_domain::refusal::PreconditionViolation {
                    kind: receivables_domain::refusal::Reason::BankAccountNotRegistered,
                    subject: stream.to_string(),
                    description: format!("bank account {account} is not registered"),
                }],
            ))
        })
    }

    /// Waits until the live read model has applied `position`.
    async fn caught_up(&self, position: Position) -> Result<Arc<ReadSide<L>>, ReceiptError> {
        let side = self.side();
        if side
            .projector
            .wait_for(position, RECEIPTS_PROJECTION_WAIT_MAX)
            .await
        {
            Ok(side)
        } else {
            Err(ReceiptError::Behind(position))
        }
    }
}

#[tonic::async_trait]
impl<L: EventLog> pb::receipt_service_server::ReceiptService for ReceiptGrpc<L> {
    async fn register_bank_account(
        &self,
        request: Request<pb::RegisterBankAccountRequest>,
    ) -> Result<Response<pb::RegisterBankAccountResponse>, Status> {
        let principal = authorize(&request, Action::ManageBankAccounts)?;
        let addressed =
            wire::read_registration(request.get_ref()).map_err(|r| status::refusal(&r))?;
        let role = role_of(&request);
        let executed = within(COMMAND_DEADLINE, "RegisterBankAccount", async {
            self.executor
                .execute(&addressed, &principal, role.as_ref())
                .await
                .map_err(|e| execution_status(&e))
        })
        .await?;
        wire::registration_reply(&executed.event, executed.replayed)
            .map(Response::new)
            .ok_or_else(|| {
                status::with_reason(
                    Code::Internal,
                    "UNEXPECTED_EVENT_TYPE",
                    "the command id belongs to an event of another type",
                )
            })
    }

    async fn import_statement(
        &self,
        request: Request<pb::ImportStatementRequest>,
    ) -> Result<Response<pb::ImportStatementResponse>, Status> {
        let asked = wire::read_import(request.get_ref()).map_err(|r| status::refusal(&r))?;
        let record = self.registered(&asked.bank_account).await?;
        let principal = authorize_settle(&request, record.subsidiary_id.as_str())?;
        let role = role_of(&request);
        bounded(RECEIPTS_DEADLINE, "ImportStatement", async {
            let acting = matcher::Acting {
                principal: &principal,
                role: role.as_ref(),
            };
            let (mut reply, imported_up_to) = import::import(
                &self.executor,
                &asked,
                &record,
                &request.get_ref().content,
                &acting,
            )
            .await?;
            if !asked.skip_matching {
                let side = self.caught_up(imported_up_to).await?;
                let account = asked.bank_account.as_str();
                let matched = matcher::match_waiting(
                    &self.executor,
                    &side.pool,
                    Some(account),
                    &self.policy,
                    &acting,
                    |_| true,
                )
                .await?;
                let side = self.caught_up(matched.position).await?;
                let posted =
                    matcher::post_pending(&self.executor, &side.pool, Some(account), &acting)
                        .await?;
                let last = posted.iter().map(matcher::Posted::last_position).max();
                reply.matched_automatically = matched.automatic;
                reply.waiting = matched.waiting;
                reply.position = reply
                    .position
                    .max(matched.position.get())
                    .max(last.map_or(0, Position::get));
                import::mark_matches(&mut reply, &side.pool, account).await?;
            }
            Ok(Response::new(reply))
        })
        .await
    }

    async fn match_receipts(
        &self,
        request: Request<pb::MatchReceiptsRequest>,
    ) -> Result<Response<pb::MatchReceiptsResponse>, Status> {
        let message = request.get_ref();
        let (principal, account) = if message.bank_account_id.is_empty() {
            // Every account: a group role's (credit, treasury), which may settle for any.
            (authorize_settle(&request, "")?, None)
        } else {
            let account = BankAccountId::parse(&message.bank_account_id).map_err(|e| {
                crate::queries::refused(vec![receivables_domain::refusal::FieldViolation::new(
                    "bank_account_id",
                    e,
                )])
            })?;
            let record = self.registered(&account).await?;
            (
                authorize_settle(&request, record.subsidiary_id.as_str())?,
                Some(account),
            )
        };
        let role = role_of(&request);
        let may_settle = |subsidiary: &str| {
            role.as_ref().is_none_or(|role| {
                receivables_domain::SubsidiaryId::parse(subsidiary).is_ok_and(|subsidiary| {
                    role.permits(&Action::Settle {
                        subsidiary: &subsidiary,
                        touches: &[],
                        on_behalf_of: &[],
                    })
                    .is_ok()
                })
            })
        };
        bounded(RECEIPTS_DEADLINE, "MatchReceipts", async {
            let acting = matcher::Acting {
                principal: &principal,
                role: role.as_ref(),
            };
            // Ranked on everything the log holds when asked: payments and credit applications
            // an earlier call posted (a credit spent, an invoice paid) count.
            let head = self.executor.last_position().await?;
            let side = self.caught_up(head).await?;
            let account = account.as_ref().map(BankAccountId::as_str);
            let matched = matcher::match_waiting(
                &self.executor,
                &side.pool,
                account,
                &self.policy,
                &acting,
                may_settle,
            )
            .await?;
            let side = self.caught_up(matched.position).await?;
            let posted = matcher::post_pending(&self.executor, &side.pool, account, &acting)
                .await?
                .into_iter()
                .filter(|p| may_settle(p.pending.subsidiary_id.as_str()))
                .collect::<Vec<_>>();
            let last = posted.iter().map(matcher::Posted::last_position).max();
            Ok(Response::new(pb::MatchReceiptsResponse {
                looked_at: matched.looked_at,
                matched_automatically: matched.automatic,
                waiting: matched.waiting,
                payments_posted: u32::try_from(posted.len()).unwrap_or(u32::MAX),
                position: matched.position.max(last.unwrap_or_default()).get(),
            }))
        })
        .await
    }

    async fn resolve_receipt(
        &self,
        request: Request<pb::ResolveReceiptRequest>,
    ) -> Result<Response<pb::ResolveReceiptResponse>, Status> {
        let resolution =
            wire::read_resolution(request.get_ref()).map_err(|r| status::refusal(&r))?;
        let record = self.registered(&resolution.bank_account).await?;
        let principal = authorize_settle(&request, record.subsidiary_id.as_str())?;
        let role = role_of(&request);
        let stream = CustomerId::bank_account(&resolution.bank_account);
        let body = match resolution.decision {
            Decision::Parts(parts) => CommandBody::MatchStatementLine(MatchStatementLine {
                subsidiary_id: record.subsidiary_id.clone(),
                line_id: resolution.line_id.clone(),
                parts,
                method: MatchMethod::Reviewed,
            }),
            Decision::Exclude { reason, note } => {
                CommandBody::ExcludeStatementLine(ExcludeStatementLine {
                    subsidiary_id: record.subsidiary_id.clone(),
                    line_id: resolution.line_id.clone(),
                    reason,
                    note,
                })
            }
        };
        let addressed = Addressed {
            customer_id: stream,
            command: Command {
                id: resolution.id,
                body,
            },
        };
        bounded(
            COMMAND_DEADLINE.max(QUERY_DEADLINE),
            "ResolveReceipt",
            async {
                let executed = self
                    .executor
                    .execute(&addressed, &principal, role.as_ref())
                    .await?;
                let acting = matcher::Acting {
                    principal: &principal,
                    role: role.as_ref(),
                };
                let mut payments = Vec::new();
                if let receivables_domain::Event::StatementLineMatched(matched) =
                    &executed.event.envelope.event
                {
                    let side = self.caught_up(executed.event.position).await?;
                    let posted = matcher::post_pending(
                        &self.executor,
                        &side.pool,
                        Some(resolution.bank_account.as_str()),
                        &acting,
                    )
                    .await?;
                    for part in &matched.parts {
                        let found = posted
                            .iter()
                            .find(|p| p.pending.payment_id == part.payment_id);
                        payments.push(pb::PostedPayment {
                            customer_id: part.part.customer_id.to_string(),
                            payment_id: part.payment_id.to_string(),
                            amount: Some(wire::money(part.part.amount)),
                            position: found.map_or(0, |p| p.position.get()),
                            posted_on_account: found
                                .is_some_and(|p| p.on_account_instead.is_some()),
                            problem: found
                                .and_then(|p| p.on_account_instead.clone())
                                .unwrap_or_default(),
                            credit_applied: match found.and_then(|p| p.credit.as_ref()) {
                                Some(matcher::CreditPosted::Applied { amount, .. }) => {
                                    Some(wire::money(*amount))
                                }
                                _ => None,
                            },
                            credit_problem: match found.and_then(|p| p.credit.as_ref()) {
                                Some(matcher::CreditPosted::NotApplied { why }) => why.clone(),
                                _ => String::new(),
                            },
                            credit_position: match found.and_then(|p| p.credit.as_ref()) {
                                Some(matcher::CreditPosted::Applied { position, .. }) => {
                                    position.get()
                                }
                                _ => 0,
                            },
                        });
                    }
                }
                Ok(Response::new(pb::ResolveReceiptResponse {
                    receipt: Some(receivables_api::responses::receipt(
                        &executed.event,
                        executed.replayed,
                    )),
                    payments,
                }))
            },
        )
        .await
    }

    async fn list_unmatched_receipts(
        &self,
        request: Request<pb::ListUnmatchedReceiptsRequest>,
    ) -> Result<Response<pb::ListUnmatchedReceiptsResponse>, Status> {
        authorize_read(&request, &request.get_ref().subsidiary_id)?;
        let query = wire::read_unmatched(request.get_ref()).map_err(crate::queries::refused)?;
        let wanted = Position::new(request.get_ref().min_position);
        bounded(QUERY_DEADLINE, "ListUnmatchedReceipts", async {
            let side = self.side();
            if !side
                .projector
                .wait_for(wanted, crate::limits::MIN_POSITION_WAIT_MAX)
                .await
            {
                return Err(ReceiptError::Behind(wanted));
            }
            let position = *side.projector.applied().borrow();
            let page = list_unmatched(&side.pool, &query).await?;
            let mut receipts = Vec::with_capacity(page.lines.len());
            for waiting in page.lines {
                let ranked = matcher::candidates(&side.pool, &waiting.line).await?;
                let line = waiting.line;
                let names = receivables_projections::customers::names(
                    &side.pool,
                    &ranked.iter().map(|c| &c.customer).collect::<Vec<_>>(),
                )
                .await?;
                receipts.push(pb::UnmatchedReceipt {
                    bank_account_id: line.bank_account_id,
                    line_id: line.line_id,
                    statement_id: waiting.statement_id,
                    subsidiary_id: line.subsidiary_id,
                    value_date: receivables_api::responses::date(line.value_date),
                    amount: Some(wire::money(line.amount)),
                    payer_name: line.payer_name.unwrap_or_default(),
                    payer_account: line.payer_account.unwrap_or_default(),
                    reference: line.reference,
                    position: waiting.position,
                    candidates: ranked
                        .iter()
                        .map(|c| {
                            wire::candidate(c, names.get(c.customer.as_str()).map(String::as_str))
                        })
                        .collect(),
                });
            }
            Ok(Response::new(pb::ListUnmatchedReceiptsResponse {
                receipts,
                next_page_token: page.next_page_token.unwrap_or_default(),
                position: position.get(),
            }))
        })
        .await
    }
}
