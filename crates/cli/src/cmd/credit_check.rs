//! `credit-check`: would an amount fit under a customer's group-wide limit now? The command
//! service's answer, as an order system gets it; nothing is recorded.

use receivables_api::pb;

use crate::cmd::{self, Output};
use crate::connection::Connection;
use crate::error::CliError;
use crate::{tables, values};

#[derive(Debug, Clone, clap::Args)]
pub struct CreditCheckArgs {
    /// The customer.
    #[arg(long)]
    pub customer: String,
    /// The order's amount, a decimal such as 1200.00.
    #[arg(long, value_parser = values::decimal)]
    pub amount: String,
    /// ISO 4217 currency code, such as CNY.
    #[arg(long)]
    pub currency: String,
    /// The date to check for, YYYY-MM-DD; default: the service's date.
    #[arg(long, value_parser = values::date)]
    pub date: Option<String>,
}

impl CreditCheckArgs {
    pub async fn run(&self, connection: &Connection, out: &mut Output<'_>) -> Result<(), CliError> {
        let commands = connection.commands().await?;
        let reply = commands
            .call(
                pb::CheckCreditRequest {
                    customer_id: self.customer.clone(),
                    amount: Some(pb::Money {
                        amount: self.amount.clone(),
                        currency: self.currency.clone(),
                    }),
                    date: self.date.clone().unwrap_or_default(),
                },
                |mut client, request| async move { client.check_credit(request).await },
            )
            .await?;
        cmd::emit(
            out,
            &tables::credit_check_answer(&reply, connection.format)?,
        )
    }
}
