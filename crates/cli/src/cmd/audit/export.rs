//! `audit export` (not built yet).

use std::io::Write;

use crate::connection::Connection;
use crate::error::CliError;

#[derive(Debug, Clone, clap::Args)]
pub struct ExportArgs {}

pub async fn run(
    _connection: &Connection,
    _args: &ExportArgs,
    _out: &mut (dyn Write + Send),
) -> Result<(), CliError> {
    Err(CliError::Usage("audit export is not built yet".into()))
}
