//! `ListBalanceConfirmations`: customers' confirmations of their balances, newest first.

use receivables_api::pb;
use receivables_api::queries::confirmations as wire;
use receivables_domain::Position;
use receivables_projections::ReadPool;
use receivables_projections::confirmations::{ConfirmationQuery, list_confirmations};
use tonic::Status;

use super::internal;

/// The page of confirmations the query selects.
pub(super) async fn answer(
    pool: ReadPool,
    query: ConfirmationQuery,
    position: Position,
) -> Result<pb::ListBalanceConfirmationsResponse, Status> {
    let page = list_confirmations(&pool, &query).await.map_err(internal)?;
    Ok(wire::answer(page, position))
}
