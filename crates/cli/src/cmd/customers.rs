//! `customers`: registered customers by id prefix or name, with their records and collectors.

use receivables_api::pb;

use crate::cmd::{self, Output, ReadArgs};
use crate::connection::Connection;
use crate::error::CliError;
use crate::tables;

#[derive(Debug, Clone, clap::Args)]
pub struct CustomersArgs {
    /// Customers whose id starts with it, or whose name or legal name contains it in any case;
    /// default: every registered customer.
    #[arg(default_value = "")]
    pub text: String,
    /// At most this many (by customer id); default: all.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub limit: Option<u32>,
    #[command(flatten)]
    pub read: ReadArgs,
}

impl CustomersArgs {
    pub fn request(&self, page_size: u32, page_token: String) -> pb::SearchCustomersRequest {
        pb::SearchCustomersRequest {
            text: self.text.clone(),
            page_size,
            page_token,
            min_position: self.read.min_position,
        }
    }

    pub async fn run(&self, connection: &Connection, out: &mut Output<'_>) -> Result<(), CliError> {
        let queries = connection.queries().await?;
        let limit = self.limit.and_then(|n| usize::try_from(n).ok());
        let found = queries
            .pages(
                limit,
                |size, token| self.request(size, token),
                |mut client, request| async move { client.search_customers(request).await },
                |page| (page.customers, page.next_page_token),
            )
            .await?;
        cmd::emit(out, &tables::customers(&found, connection.format)?)
    }
}
