//! `account`: one customer as a collector sees it: the exposure line per currency, every open
//! invoice with its days past due, and the promises with their status, all as of one date.

use receivables_api::pb;

use crate::cmd::{self, Output, ReadArgs};
use crate::connection::Connection;
use crate::error::CliError;
use crate::tables::{self, AccountView};
use crate::values;

#[derive(Debug, Clone, clap::Args)]
pub struct AccountArgs {
    /// The customer.
    #[arg(long)]
    pub customer: String,
    /// The business date, YYYY-MM-DD; default: today (the service's date, UTC).
    #[arg(long, value_parser = values::date)]
    pub as_of: Option<String>,
    #[command(flatten)]
    pub read: ReadArgs,
}

impl AccountArgs {
    pub async fn run(&self, connection: &Connection, out: &mut Output<'_>) -> Result<(), CliError> {
        let queries = connection.queries().await?;
        let as_of = self.as_of.clone().unwrap_or_default();
        let exposure = queries
            .call(
                pb::GetExposureRequest {
                    customer_id: self.customer.clone(),
                    as_of: as_of.clone(),
                    min_position: self.read.min_position,
                },
                |mut client, request| async move { client.get_exposure(request).await },
            )
            .await?;
        let mut position = exposure.position;
        let scope = pb::AgingScope {
            as_of: as_of.clone(),
            customer_id: self.customer.clone(),
            ..pb::AgingScope::default()
        };
        let mut item_positions = Vec::new();
        let open_items = queries
            .pages(
                None,
                |size, token| pb::ListOpenItemsRequest {
                    scope: Some(scope.clone()),
                    bucket: None,
                    page_size: size,
                    page_token: token,
                    min_position: self.read.min_position,
                },
                |mut client, request| async move { client.list_open_items(request).await },
                |page| (vec![(page.items, page.position)], page.next_page_token),
            )
            .await?
            .into_iter()
            .flat_map(|(items, page_position)| {
                item_positions.push(page_position);
                items
            })
            .collect();
        let promises = queries
            .call(
                pb::ListPromisesRequest {
                    customer_id: self.customer.clone(),
                    as_of: as_of.clone(),
                    min_position: self.read.min_position,
                    ..pb::ListPromisesRequest::default()
                },
                |mut client, request| async move { client.list_promises(request).await },
            )
            .await?;
        // The three answers may come from slightly different moments; the lowest position is the
        // one all of them include.
        position = item_positions
            .into_iter()
            .chain([promises.position])
            .fold(position, u64::min);
        let view = AccountView {
            customer_id: self.customer.clone(),
            as_of,
            position,
            exposure: exposure.lines,
            open_items,
            promises: promises.promises,
        };
        cmd::emit(out, &tables::account(&view, connection.format)?)
    }
}
