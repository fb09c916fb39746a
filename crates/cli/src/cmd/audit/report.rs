//! `audit report` (not built yet).

use std::io::Write;

use crate::connection::Connection;
use crate::error::CliError;

#[derive(Debug, Clone, clap::Args)]
pub struct ReportArgs {}

pub async fn run(
    _connection: &Connection,
    _args: &ReportArgs,
    _out: &mut (dyn Write + Send),
) -> Result<(), CliError> {
    Err(CliError::Usage("audit report is not built yet".into()))
}
