//! `promises`: a customer's promises to pay with their status as of a date.

use receivables_api::pb;

use crate::cmd::{self, ReadArgs};
use crate::connection::Connection;
use crate::error::CliError;
use crate::{tables, values};

#[derive(Debug, Clone, clap::Args)]
pub struct PromisesArgs {
    /// The customer.
    #[arg(long)]
    pub customer: String,
    /// Only promises with this status; default: every status.
    #[arg(long, value_enum, ignore_case = true)]
    pub status: Option<Status>,
    /// The business date, YYYY-MM-DD; default: today (the service's date, UTC).
    #[arg(long, value_parser = values::date)]
    pub as_of: Option<String>,
    /// Days after the promised date before a promise counts as broken (service default 3).
    #[arg(long, value_name = "DAYS")]
    pub grace_days: Option<u32>,
    #[command(flatten)]
    pub read: ReadArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Status {
    Open,
    PartiallyKept,
    Kept,
    Broken,
}

impl PromisesArgs {
    pub fn request(&self) -> pb::ListPromisesRequest {
        pb::ListPromisesRequest {
            customer_id: self.customer.clone(),
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
        }
    }
}

pub async fn run(
    connection: &Connection,
    args: &PromisesArgs,
    out: &mut (dyn std::io::Write + Send),
) -> Result<(), CliError> {
    let queries = connection.queries().await?;
    let promises = queries
        .client
        .clone()
        .list_promises(queries.request(args.request()))
        .await
        .map_err(|s| queries.error(&s))?
        .into_inner()
        .promises;
    cmd::emit(out, &tables::promises(&promises, connection.format)?)
}
