//! `reminders`: what falls due in the next days, in due order: the list a collector sends
//! reminders from before the due date (还款提醒).

use receivables_api::pb;

use crate::cmd::{self, Output, ReadArgs};
use crate::connection::Connection;
use crate::error::CliError;
use crate::{tables, values};

#[derive(Debug, Clone, clap::Args)]
pub struct RemindersArgs {
    /// Days ahead, 0 (that day only) to 92.
    #[arg(long, value_name = "DAYS", default_value_t = 7)]
    pub within: u32,
    /// The first day, YYYY-MM-DD; default: today (the service's date, UTC).
    #[arg(long, value_parser = values::date)]
    pub as_of: Option<String>,
    /// Only this customer's.
    #[arg(long)]
    pub customer: Option<String>,
    /// Only this subsidiary's.
    #[arg(long)]
    pub subsidiary: Option<String>,
    /// Only this collector's.
    #[arg(long)]
    pub collector: Option<String>,
    /// At most this many (the first due); default: all.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub limit: Option<u32>,
    #[command(flatten)]
    pub read: ReadArgs,
}

impl RemindersArgs {
    pub fn request(&self, page_size: u32, page_token: String) -> pb::ListUpcomingDueRequest {
        pb::ListUpcomingDueRequest {
            as_of: self.as_of.clone().unwrap_or_default(),
            within_days: self.within,
            customer_id: self.customer.clone().unwrap_or_default(),
            subsidiary_id: self.subsidiary.clone().unwrap_or_default(),
            collector: self.collector.clone().unwrap_or_default(),
            page_size,
            page_token,
            min_position: self.read.min_position,
        }
    }

    pub async fn run(&self, connection: &Connection, out: &mut Output<'_>) -> Result<(), CliError> {
        let queries = connection.queries().await?;
        let limit = self.limit.and_then(|n| usize::try_from(n).ok());
        let items = queries
            .pages(
                limit,
                |size, token| self.request(size, token),
                |mut client, request| async move { client.list_upcoming_due(request).await },
                |page| (page.items, page.next_page_token),
            )
            .await?;
        cmd::emit(out, &tables::upcoming(&items, connection.format)?)
    }
}
