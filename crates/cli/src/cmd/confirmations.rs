//! `confirmations`: customers' confirmations of their balances, newest first; with
//! `--differences`, only those that differ from the balance the account held.

use receivables_api::pb;

use crate::cmd::{self, Output, ReadArgs};
use crate::connection::Connection;
use crate::error::CliError;
use crate::tables;

#[derive(Debug, Clone, clap::Args)]
pub struct ConfirmationsArgs {
    /// Only this customer's.
    #[arg(long)]
    pub customer: Option<String>,
    /// Only the differences to investigate.
    #[arg(long)]
    pub differences: bool,
    /// At most this many (the newest); default: all.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub limit: Option<u32>,
    #[command(flatten)]
    pub read: ReadArgs,
}

impl ConfirmationsArgs {
    pub fn request(
        &self,
        page_size: u32,
        page_token: String,
    ) -> pb::ListBalanceConfirmationsRequest {
        pb::ListBalanceConfirmationsRequest {
            customer_id: self.customer.clone().unwrap_or_default(),
            only_differences: self.differences,
            page_size,
            page_token,
            min_position: self.read.min_position,
        }
    }

    pub async fn run(&self, connection: &Connection, out: &mut Output<'_>) -> Result<(), CliError> {
        let queries = connection.queries().await?;
        let limit = self.limit.and_then(|n| usize::try_from(n).ok());
        let lines =
            queries
                .pages(
                    limit,
                    |size, token| self.request(size, token),
                    |mut client, request| async move {
                        client.list_balance_confirmations(request).await
                    },
                    |page| (page.confirmations, page.next_page_token),
                )
                .await?;
        cmd::emit(out, &tables::confirmations(&lines, connection.format)?)
    }
}
