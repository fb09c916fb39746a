//! The client's subcommands, one module each, and [`run`], which dispatches to them.

pub mod account;
pub mod activities;
pub mod aging;
pub mod alerts;
pub mod allowance;
pub mod audit;
pub mod confirmations;
pub mod credit_check;
pub mod customers;
pub mod exposure;
pub mod forecast;
pub mod metrics;
pub mod post;
pub mod promises;
pub mod queue;
pub mod receipts;
pub mod reminders;
pub mod statement;

use crate::connection::Connection;
use crate::error::CliError;
use crate::import::{self, ImportCommand};
pub use crate::sheet::{Output, emit};

/// Every subcommand of the client.
#[derive(Debug, clap::Subcommand)]
pub enum ClientCommand {
    /// Post a command: an invoice, a payment, a credit limit or a promise to pay.
    #[command(subcommand)]
    Post(post::PostCommand),
    /// Print the aging report (open receivables in buckets of days past due).
    Aging(aging::AgingArgs),
    /// Print one customer's credit exposure, or every customer's, most utilised first.
    Exposure(exposure::ExposureArgs),
    /// Print the collector work queue, highest priority first.
    Queue(queue::QueueArgs),
    /// Print what falls due in the next days, in due order: the list reminders are sent from.
    Reminders(reminders::RemindersArgs),
    /// Print collectors' contacts with customers in a period, newest first.
    Activities(activities::ActivitiesArgs),
    /// Print one customer's exposure, open invoices and promises.
    Account(account::AccountArgs),
    /// Ask whether an amount would fit under a customer's group-wide limit now (the credit
    /// check of an order; nothing is recorded).
    CreditCheck(credit_check::CreditCheckArgs),
    /// Print a customer's promises to pay and their status.
    Promises(promises::PromisesArgs),
    /// Print a customer's statement of account for a period: opening balance, movements with
    /// a running balance, closing balance, aging at the end.
    Statement(statement::StatementArgs),
    /// Print the early-warning metrics of a period (overdue rate, DSO, CEI, bad-debt rate...),
    /// each with its formula and inputs; or, with --collectors, each collector's work.
    Metrics(metrics::MetricsArgs),
    /// Print the allowance for doubtful accounts by aging as of a date, with its arithmetic and
    /// the entry against the allowance account's balance.
    Allowance(allowance::AllowanceArgs),
    /// Print the early-warning alerts raised so far, or with --follow each one as it is raised.
    Alerts(alerts::AlertsArgs),
    /// Print the cash expected in each of the next weeks per subsidiary and currency (or each
    /// customer's method with --explain, or a backtest of a past date with --backtest).
    Forecast(forecast::ForecastArgs),
    /// Print customers' confirmations of their balances (--differences: those to investigate).
    Confirmations(confirmations::ConfirmationsArgs),
    /// Find registered customers by id prefix or name, with their records and collectors.
    Customers(customers::CustomersArgs),
    /// Post every row of a CSV export (invoices, payments, credit notes or reversals); safe to
    /// run again.
    #[command(subcommand)]
    Import(ImportCommand),
    /// Bank receipts: the review queue and the matcher.
    #[command(subcommand)]
    Receipts(receipts::ReceiptsCommand),
    /// The auditor's commands: export and verify the log, reports as known at a past moment.
    #[command(subcommand)]
    Audit(audit::AuditCommand),
}

/// Runs one client subcommand against the service `connection` names, writing what it prints
/// to `out` (progress bars go to stderr). Errors are for the caller to print, one line, and to
/// exit with [`CliError::exit_code`].
pub async fn run(
    connection: &Connection,
    command: ClientCommand,
    out: &mut Output<'_>,
) -> Result<(), CliError> {
    match command {
        ClientCommand::Post(command) => post::run(connection, command, out).await,
        ClientCommand::Aging(args) => args.run(connection, out).await,
        ClientCommand::Exposure(args) => args.run(connection, out).await,
        ClientCommand::Queue(args) => args.run(connection, out).await,
        ClientCommand::Reminders(args) => args.run(connection, out).await,
        ClientCommand::Activities(args) => args.run(connection, out).await,
        ClientCommand::Account(args) => args.run(connection, out).await,
        ClientCommand::CreditCheck(args) => args.run(connection, out).await,
        ClientCommand::Promises(args) => args.run(connection, out).await,
        ClientCommand::Statement(args) => args.run(connection, out).await,
        ClientCommand::Metrics(args) => args.run(connection, out).await,
        ClientCommand::Allowance(args) => args.run(connection, out).await,
        ClientCommand::Forecast(args) => args.run(connection, out).await,
        ClientCommand::Alerts(args) => args.run(connection, out).await,
        ClientCommand::Confirmations(args) => args.run(connection, out).await,
        ClientCommand::Customers(args) => args.run(connection, out).await,
        ClientCommand::Import(command) => import::run(connection, command, out).await,
        ClientCommand::Receipts(command) => receipts::run(connection, command, out).await,
        ClientCommand::Audit(command) => audit::run(connection, command, out).await,
    }
}

/// Read-your-writes for every query.
#[derive(Debug, Clone, clap::Args)]
pub struct ReadArgs {
    /// Answer only once the read side has applied this log position (the `position` of a
    /// command's reply), waiting up to --timeout.
    #[arg(long, value_name = "POSITION", default_value_t = 0)]
    pub min_position: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The binary may spawn [`run`] on a multi-threaded runtime: its future must be `Send`.
    #[test]
    fn run_is_send() {
        fn send<T: Send>(_: &T) {}
        #[allow(dead_code)]
        fn check(connection: &Connection, command: ClientCommand, out: &mut Output<'_>) {
            send(&run(connection, command, out));
        }
    }
}
