//! `audit`: the auditor's commands. `events` prints the log (or a filtered part) as a table,
//! `export` writes it to JSON Lines, `verify` checks the hash chain of a running service or of
//! an exported file (offline), and `report` prints a report as it was known at a past moment.

pub mod events;
pub mod export;
pub mod filter;
pub mod report;
pub mod verify;

use crate::cmd::Output;
use crate::connection::Connection;
use crate::error::CliError;

#[derive(Debug, clap::Subcommand)]
pub enum AuditCommand {
    /// Print the log (or a filtered part) as a table: what happened, when, to whom, by whom.
    Events(events::EventsArgs),
    /// Write the log (or a filtered part) to a JSON Lines file, ending with a line that holds
    /// the count and the last hash.
    Export(export::ExportArgs),
    /// Check the hash chain of the service's log, or of an exported file without any service.
    Verify(verify::VerifyArgs),
    /// Print the aging, exposure list or work queue as it was known at a past moment.
    Report(report::ReportArgs),
}

pub async fn run(
    connection: &Connection,
    command: AuditCommand,
    out: &mut Output<'_>,
) -> Result<(), CliError> {
    match command {
        AuditCommand::Events(args) => args.run(connection, out).await,
        AuditCommand::Export(args) => args.run(connection, out).await,
        AuditCommand::Verify(args) => args.run(connection, out).await,
        AuditCommand::Report(args) => args.run(connection, out).await,
    }
}
