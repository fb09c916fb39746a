//! `activities`: collectors' contacts with customers in a period, newest first (催收记录).

use receivables_api::pb;

use crate::cmd::{self, Output, ReadArgs};
use crate::connection::Connection;
use crate::error::CliError;
use crate::{tables, values};

#[derive(Debug, Clone, clap::Args)]
pub struct ActivitiesArgs {
    /// The period's first day of contact, YYYY-MM-DD.
    #[arg(long, value_parser = values::date)]
    pub from: String,
    /// The period's last day of contact, YYYY-MM-DD.
    #[arg(long, value_parser = values::date)]
    pub to: String,
    /// Only this customer's.
    #[arg(long)]
    pub customer: Option<String>,
    /// Only this collector's.
    #[arg(long)]
    pub collector: Option<String>,
    /// At most this many (the newest); default: all.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub limit: Option<u32>,
    #[command(flatten)]
    pub read: ReadArgs,
}

impl ActivitiesArgs {
    pub fn request(
        &self,
        page_size: u32,
        page_token: String,
    ) -> pb::ListCollectionActivitiesRequest {
        pb::ListCollectionActivitiesRequest {
            from: self.from.clone(),
            to: self.to.clone(),
            customer_id: self.customer.clone().unwrap_or_default(),
            collector: self.collector.clone().unwrap_or_default(),
            page_size,
            page_token,
            min_position: self.read.min_position,
        }
    }

    pub async fn run(&self, connection: &Connection, out: &mut Output<'_>) -> Result<(), CliError> {
        let queries = connection.queries().await?;
        let limit = self.limit.and_then(|n| usize::try_from(n).ok());
        let activities =
            queries
                .pages(
                    limit,
                    |size, token| self.request(size, token),
                    |mut client, request| async move {
                        client.list_collection_activities(request).await
                    },
                    |page| (page.activities, page.next_page_token),
                )
                .await?;
        cmd::emit(out, &tables::activities(&activities, connection.format)?)
    }
}
