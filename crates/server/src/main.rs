//! The `receivables` binary.

use std::process::ExitCode;

use clap::Parser;
use receivables::all_in_one::Serving;
use receivables::app::Application;
use receivables::config::{Cli, CliCommand};
use receivables::demo;
use receivables::read_app::ReadApplication;
use receivables::{observability, shutdown, telemetry, transfer};

#[tokio::main]
async fn main() -> anyhow::Result<ExitCode> {
    let cli = Cli::parse();
    if let CliCommand::Client(command) = cli.command {
        // A client prints what it was asked for and one line when it fails, no logs.
        let mut out = std::io::stdout();
        return Ok(
            match receivables_cli::run(&cli.connection, command, &mut out).await {
                Ok(()) => ExitCode::SUCCESS,
                Err(error) => {
                    eprintln!("error: {error}");
                    ExitCode::from(error.exit_code())
                }
            },
        );
    }
    if let CliCommand::Tokens(args) = &cli.command {
        // Like a client: what was asked for, or one line when it fails.
        telemetry::init(cli.log_format, "warn");
        let mut out = std::io::stdout();
        return Ok(
            match receivables::tokens::run(args, &cli.connection, &mut out).await {
                Ok(()) => ExitCode::SUCCESS,
                Err(error) => {
                    eprintln!("error: {error:#}");
                    ExitCode::FAILURE
                }
            },
        );
    }
    if let CliCommand::Migrate(_) | CliCommand::Backup(_) | CliCommand::Restore(_) = &cli.command {
        // Like tokens: what was done, or one line when it fails; a progress bar on a terminal.
        telemetry::init(cli.log_format, "warn");
        let mut out = std::io::stdout();
        let done = match &cli.command {
            CliCommand::Migrate(args) => transfer::migrate(args, &mut out).await,
            CliCommand::Backup(args) => transfer::backup(args, &mut out).await,
            CliCommand::Restore(args) => transfer::restore(args, &mut out).await,
            _ => Ok(()),
        };
        return Ok(match done {
            Ok(()) => ExitCode::SUCCESS,
            Err(error) => {
                eprintln!("error: {error:#}");
                ExitCode::FAILURE
            }
        });
    }
    let default_filter = match cli.command {
        CliCommand::Demo(_) => "warn",
        _ => "info",
    };
    telemetry::init(cli.log_format, default_filter);
    // Listen for SIGTERM and Ctrl-C from the start, so that a stop during start-up is a clean
    // exit too.
    let stop = tokio::spawn(shutdown::signal());
    let shutdown = async move {
        let _ = stop.await;
    };
    let metrics_listen = match &cli.command {
        CliCommand::Serve(args) => args.metrics_listen,
        CliCommand::ServeCommands(args) => args.metrics_listen,
        CliCommand::ServeQueries(args) => args.metrics_listen,
        _ => None,
    };
    if let Some(listen) = metrics_listen {
        observability::install(listen)?;
    }
    match cli.command {
        CliCommand::Serve(args) => {
            let app = Serving::build(&args).await?;
            app.run_until(shutdown).await?;
        }
        CliCommand::Demo(args) => demo::run(&args, shutdown).await?,
        CliCommand::ServeCommands(args) => {
            let app = Application::build(&args).await?;
            app.run_until(shutdown).await?;
        }
        CliCommand::ServeQueries(args) => {
            let app = ReadApplication::build(&args).await?;
            app.run_until(shutdown).await?;
        }
        // Answered before.
        CliCommand::Client(_)
        | CliCommand::Tokens(_)
        | CliCommand::Migrate(_)
        | CliCommand::Backup(_)
        | CliCommand::Restore(_) => {}
    }
    Ok(ExitCode::SUCCESS)
}
