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
    // Listen for SIGTERM and Ctrl-C from the start, so that a stop during start-up is a clean
    // exit too.
    let stop = tokio::spawn(shutdown::signal());
    let shutdown = async move {
        let _ = stop.await;
    };
    match cli.command {
        CliCommand::ServeCommands(args) => {
            let app = Application::build(&args).await?;
            app.run_until(shutdown).await
        }
        CliCommand::ServeQueries(args) => {
            let app = ReadApplication::build(&args).await?;
            app.run_until(shutdown).await
        }
    }
}
