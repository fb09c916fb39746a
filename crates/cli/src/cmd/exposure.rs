//! `exposure`: one customer's credit exposure (`--customer`), or every customer's, sorted by
//! utilisation (or exposure) and filtered, following the pages up to `--limit` lines.

use receivables_api::pb;

use crate::cmd::{self, Output, ReadArgs};
use crate::connection::Connection;
use crate::error::CliError;
use crate::{tables, values};

#[derive(Debug, Clone, clap::Args)]
pub struct ExposureArgs {
    /// Only this customer (a line per currency); without it, the list of every customer.
    #[arg(long)]
    pub customer: Option<String>,
    /// The business date, YYYY-MM-DD; default: today (the service's date, UTC).
    #[arg(long, value_parser = values::date)]
    pub as_of: Option<String>,
    /// Only customers above their credit limit.
    #[arg(long, conflicts_with = "customer")]
    pub over_limit: bool,
    /// Order of the list: highest utilisation (exposure / limit) or highest exposure first.
    #[arg(long, value_enum, ignore_case = true, default_value_t = Sort::Utilisation)]
    pub sort: Sort,
    /// Only lines with at least this utilisation, such as 0.8.
    #[arg(long, value_parser = values::decimal, conflicts_with = "customer")]
    pub min_utilisation: Option<String>,
    /// Only lines in this currency.
    #[arg(long, conflicts_with = "customer")]
    pub currency: Option<String>,
    /// At most this many lines (the first ones in the list's order); default: all.
    #[arg(long, value_name = "N", conflicts_with = "customer",
          value_parser = clap::value_parser!(u32).range(1..))]
    pub limit: Option<u32>,
    #[command(flatten)]
    pub read: ReadArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Sort {
    Utilisation,
    Exposure,
}

impl ExposureArgs {
    /// The list request for one page.
    pub fn list_request(&self, page_size: u32, page_token: String) -> pb::ListExposuresRequest {
        pb::ListExposuresRequest {
            as_of: self.as_of.clone().unwrap_or_default(),
            sort: match self.sort {
                Sort::Utilisation => pb::ExposureSort::Utilisation,
                Sort::Exposure => pb::ExposureSort::Exposure,
            }
            .into(),
            only_over_limit: self.over_limit,
            min_utilisation: self.min_utilisation.clone().unwrap_or_default(),
            currency: self.currency.clone().unwrap_or_default(),
            page_size,
            page_token,
            min_position: self.read.min_position,
        }
    }

    pub async fn run(&self, connection: &Connection, out: &mut Output<'_>) -> Result<(), CliError> {
        let queries = connection.queries().await?;
        let lines = match &self.customer {
            Some(customer) => {
                let request = pb::GetExposureRequest {
                    customer_id: customer.clone(),
                    as_of: self.as_of.clone().unwrap_or_default(),
                    min_position: self.read.min_position,
                };
                queries
                    .call(request, |mut client, request| async move {
                        client.get_exposure(request).await
                    })
                    .await?
                    .lines
            }
            None => {
                let limit = self.limit.and_then(|n| usize::try_from(n).ok());
                queries
                    .pages(
                        limit,
                        |size, token| self.list_request(size, token),
                        |mut client, request| async move { client.list_exposures(request).await },
                        |page| (page.lines, page.next_page_token),
                    )
                    .await?
            }
        };
        cmd::emit(out, &tables::exposures(&lines, connection.format)?)
    }
}
