//! `queue`: the collector work queue as of a date, highest priority first.

use receivables_api::pb;

use crate::cmd::{self, Output, ReadArgs};
use crate::connection::Connection;
use crate::error::CliError;
use crate::{tables, values};

#[derive(Debug, Clone, clap::Args)]
pub struct QueueArgs {
    /// The business date, YYYY-MM-DD; default: today (the service's date, UTC).
    #[arg(long, value_parser = values::date)]
    pub as_of: Option<String>,
    /// Only this collector's customers.
    #[arg(long)]
    pub collector: Option<String>,
    /// Also the customers snoozed by an open promise or a planned next action.
    #[arg(long)]
    pub include_snoozed: bool,
    /// Days after the promised date during which payments still count for a promise (service
    /// default 3).
    #[arg(long, value_name = "DAYS")]
    pub grace_days: Option<u32>,
    /// Weight of the overdue amount (per major unit) in the score (service default 0.001).
    #[arg(long, value_parser = values::decimal)]
    pub weight_amount: Option<String>,
    /// Weight of each day past due in the score (service default 1).
    #[arg(long, value_parser = values::decimal)]
    pub weight_days: Option<String>,
    /// Weight of each promise broken or partially kept in the score (service default 25).
    #[arg(long, value_parser = values::decimal)]
    pub weight_broken_promise: Option<String>,
    /// Weight of each day since the customer's last contact in the score (service default 0).
    #[arg(long, value_parser = values::decimal)]
    pub weight_since_contact: Option<String>,
    /// At most this many customers (the top of the queue); default: all.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub limit: Option<u32>,
    #[command(flatten)]
    pub read: ReadArgs,
}

impl QueueArgs {
    pub fn request(&self, page_size: u32, page_token: String) -> pb::GetWorkQueueRequest {
        pb::GetWorkQueueRequest {
            as_of: self.as_of.clone().unwrap_or_default(),
            collector: self.collector.clone().unwrap_or_default(),
            include_snoozed: self.include_snoozed,
            grace_days: self.grace_days,
            weights: Some(pb::WorkQueueWeights {
                amount: self.weight_amount.clone().unwrap_or_default(),
                days: self.weight_days.clone().unwrap_or_default(),
                broken_promise: self.weight_broken_promise.clone().unwrap_or_default(),
                since_contact: self.weight_since_contact.clone().unwrap_or_default(),
            }),
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
                |mut client, request| async move { client.get_work_queue(request).await },
                |page| (page.items, page.next_page_token),
            )
            .await?;
        cmd::emit(out, &tables::work_queue(&items, connection.format)?)
    }
}
