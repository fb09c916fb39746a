//! `promises`: promises to pay with their status as of a date: one customer's, or across
//! customers filtered by status, collector, subsidiary and promised-date window, following the
//! pages up to `--limit` promises.

use receivables_api::pb;

use crate::cmd::{self, Output, ReadArgs};
use crate::connection::Connection;
use crate::error::CliError;
use crate::{tables, values};

#[derive(Debug, Clone, clap::Args)]
pub struct PromisesArgs {
    /// Only this customer's promises; default: every customer's.
    #[arg(long)]
    pub customer: Option<String>,
    /// Only promises with this status; default: every status.
    #[arg(long, value_enum, ignore_case = true)]
    pub status: Option<Status>,
    /// Only the promises this collector recorded.
    #[arg(long)]
    pub collector: Option<String>,
    /// Only the promises recorded for this subsidiary.
    #[arg(long)]
    pub subsidiary: Option<String>,
    /// Only promises due to be paid on or after this date, YYYY-MM-DD.
    #[arg(long, value_parser = values::date)]
    pub promised_from: Option<String>,
    /// Only promises due to be paid on or before this date, YYYY-MM-DD.
    #[arg(long, value_parser = values::date)]
    pub promised_to: Option<String>,
    /// The business date, YYYY-MM-DD; default: today (the service's date, UTC).
    #[arg(long, value_parser = values::date)]
    pub as_of: Option<String>,
    /// Days after the promised date during which payments still count for a promise (service
    /// default 3).
    #[arg(long, value_name = "DAYS")]
    pub grace_days: Option<u32>,
    /// At most this many promises; default: all.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub limit: Option<u32>,
    #[command(flatten)]
    pub read: ReadArgs,
}

/// A promise's window runs from the day it was made to the promised date plus the grace days.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Status {
    /// The window is still open and the amount not paid (nothing yet, or a part).
    Open,
    /// The window closed with part of the amount paid.
    PartiallyKept,
    /// The amount was paid within the window.
    Kept,
    /// The window closed with nothing paid.
    Broken,
}

impl PromisesArgs {
    pub fn request(&self, page_size: u32, page_token: String) -> pb::ListPromisesRequest {
        pb::ListPromisesRequest {
            customer_id: self.customer.clone().unwrap_or_default(),
            status: match self.status {
                None => pb::PromiseStatus::Unspecified,
                Some(Status::Open) => pb::PromiseStatus::Open,
                Some(Status::PartiallyKept) => pb::PromiseStatus::PartiallyKept,
                Some(Status::Kept) => pb::PromiseStatus::Kept,
                Some(Status::Broken) => pb::PromiseStatus::Broken,
            }
            .into(),
            as_of: self.as_of.clone().unwrap_or_default(),
            grace_days: self.grace_days,
            min_position: self.read.min_position,
            collector: self.collector.clone().unwrap_or_default(),
            subsidiary_id: self.subsidiary.clone().unwrap_or_default(),
            promised_from: self.promised_from.clone().unwrap_or_default(),
            promised_to: self.promised_to.clone().unwrap_or_default(),
            page_size,
            page_token,
        }
    }

    pub async fn run(&self, connection: &Connection, out: &mut Output<'_>) -> Result<(), CliError> {
        let queries = connection.queries().await?;
        let limit = self.limit.and_then(|n| usize::try_from(n).ok());
        let promises = queries
            .pages(
                limit,
                |size, token| self.request(size, token),
                |mut client, request| async move { client.list_promises(request).await },
                |page| (page.promises, page.next_page_token),
            )
            .await?;
        cmd::emit(out, &tables::promises(&promises, connection.format)?)
    }
}
