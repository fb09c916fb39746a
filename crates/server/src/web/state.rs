//! What every handler of the dashboard and the API reads, and how it calls a service: in
//! process, as the viewer.

use crate::audit_service::AuditGrpc;
use crate::authentication::Gate;
use crate::authorization::Caller;
use crate::queries::QueryGrpc;
use crate::receipts::ReceiptGrpc;

use super::json::Contract;
use super::past::KeptPast;
use super::session_store::Sessions;

/// What every handler reads: the services it calls in process, the sessions, the gate.
pub struct WebState<L> {
    pub(super) queries: QueryGrpc<L>,
    pub(super) audit: AuditGrpc<L>,
    /// Cash application, where the process serves it (the all-in-one service, or a query
    /// service with `--serve-receipts`: each has the command path the review queue's decisions
    /// need); `None` elsewhere.
    pub(super) receipts: Option<ReceiptGrpc<L>>,
    pub(super) sessions: Sessions,
    pub(super) gate: Gate,
    pub(super) contract: Contract,
    /// What the overview worked out about the past, kept a short while.
    pub(super) past: KeptPast,
}

/// A request of type `T` carrying `caller`, as the token gate would have made it.
pub fn as_caller<T>(caller: Caller, message: T) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    request.extensions_mut().insert(caller);
    request
}
