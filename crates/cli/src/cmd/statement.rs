//! `statement`: a customer's statement of account for a period (对账单), per currency: the
//! opening balance, every movement with a running balance, the closing balance, and the aging
//! at the period's end.

use receivables_api::pb;

use crate::cmd::{self, Output, ReadArgs};
use crate::connection::Connection;
use crate::error::CliError;
use crate::{tables, values};

#[derive(Debug, Clone, clap::Args)]
pub struct StatementArgs {
    /// The customer.
    #[arg(long)]
    pub customer: String,
    /// The period's first day, YYYY-MM-DD.
    #[arg(long, value_parser = values::date)]
    pub from: String,
    /// The period's last day, YYYY-MM-DD.
    #[arg(long, value_parser = values::date)]
    pub to: String,
    /// Only this subsidiary's rows (its invoices and what moved them, the money on account it
    /// holds).
    #[arg(long)]
    pub subsidiary: Option<String>,
    /// Only this currency.
    #[arg(long)]
    pub currency: Option<String>,
    #[command(flatten)]
    pub read: ReadArgs,
}

impl StatementArgs {
    pub fn request(&self) -> pb::GetStatementRequest {
        pb::GetStatementRequest {
            customer_id: self.customer.clone(),
            from_date: self.from.clone(),
            to_date: self.to.clone(),
            subsidiary_id: self.subsidiary.clone().unwrap_or_default(),
            currency: self.currency.clone().unwrap_or_default(),
            min_position: self.read.min_position,
        }
    }

    pub async fn run(&self, connection: &Connection, out: &mut Output<'_>) -> Result<(), CliError> {
        let queries = connection.queries().await?;
        let statement = queries
            .call(self.request(), |mut client, request| async move {
                client.get_statement(request).await
            })
            .await?;
        cmd::emit(out, &tables::statement(&statement, connection.format)?)
    }
}
