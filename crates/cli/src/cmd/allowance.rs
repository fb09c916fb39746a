//! `allowance`: the allowance for doubtful accounts by aging as of a date (坏账准备), with the
//! arithmetic: each bucket's balance, loss rate and provision, then the required allowance, the
//! entry against the allowance account's balance and the net receivables.

use receivables_api::pb;

use crate::cmd::{self, Output, ReadArgs};
use crate::connection::Connection;
use crate::error::CliError;
use crate::{tables, values};

#[derive(Debug, Clone, clap::Args)]
pub struct AllowanceArgs {
    /// The business date, YYYY-MM-DD; default: today (the service's date, UTC).
    #[arg(long, value_parser = values::date)]
    pub as_of: Option<String>,
    /// Six loss rates in percent, comma-separated, for current, 1-30, 31-60, 61-90, 91-120 and
    /// over 120 days past due, such as 1,5,10,20,50,100.
    #[arg(long, value_delimiter = ',', required = true)]
    pub rates: Vec<String>,
    /// The allowance account's balance before the entry, AMOUNT:CURRENCY (credit positive);
    /// repeat for several currencies.
    #[arg(
        long = "balance",
        value_name = "AMOUNT:CURRENCY",
        allow_hyphen_values = true
    )]
    pub balances: Vec<String>,
    /// Only this subsidiary's.
    #[arg(long)]
    pub subsidiary: Option<String>,
    /// Only this customer's.
    #[arg(long)]
    pub customer: Option<String>,
    #[command(flatten)]
    pub read: ReadArgs,
}

impl AllowanceArgs {
    pub fn request(&self) -> pb::GetAllowanceRequest {
        pb::GetAllowanceRequest {
            as_of: self.as_of.clone().unwrap_or_default(),
            subsidiary_id: self.subsidiary.clone().unwrap_or_default(),
            customer_id: self.customer.clone().unwrap_or_default(),
            loss_rates: self.rates.iter().map(|r| r.trim().to_owned()).collect(),
            allowance_balances: self
                .balances
                .iter()
                .map(|balance| {
                    let (amount, currency) = balance.split_once(':').unwrap_or((balance, ""));
                    pb::Money {
                        amount: amount.to_owned(),
                        currency: currency.to_owned(),
                    }
                })
                .collect(),
            min_position: self.read.min_position,
        }
    }

    pub async fn run(&self, connection: &Connection, out: &mut Output<'_>) -> Result<(), CliError> {
        let metrics = connection.metrics().await?;
        let reply = metrics
            .call(self.request(), |mut client, request| async move {
                client.get_allowance(request).await
            })
            .await?;
        cmd::emit(out, &tables::allowance(&reply, connection.format)?)
    }
}
