//! The `receivables` binary.

use clap::Parser;
use receivables::app::Application;
use receivables::config::{Cli, CliCommand};
use receivables::read_app::ReadApplication;
use receivables::{shutdown, telemetry};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    telemetry::init(cli.log_format);
    match cli.command {
        CliCommand::ServeCommands(args) => {
            let app = Application::build(&args).await?;
            app.run_until(shutdown::signal()).await
        }
        CliCommand::ServeQueries(args) => {
            let app = ReadApplication::build(&args).await?;
            app.run_until(shutdown::signal()).await
        }
    }
}
