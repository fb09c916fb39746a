//! `audit verify` (not built yet).

use std::io::Write;

use crate::connection::Connection;
use crate::error::CliError;

#[derive(Debug, Clone, clap::Args)]
pub struct VerifyArgs {}

pub async fn run(
    _connection: &Connection,
    _args: &VerifyArgs,
    _out: &mut (dyn Write + Send),
) -> Result<(), CliError> {
    Err(CliError::Usage("audit verify is not built yet".into()))
}
